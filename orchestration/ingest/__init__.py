"""Loading landing files into DuckDB's raw schema (../shared/LANDING.md)."""
