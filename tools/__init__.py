"""Developer tools: not needed to run the warehouse (README rendering, sample data)."""
