"""Loading landing files into DuckDB's raw schema (docs/landing-contract.md)."""
