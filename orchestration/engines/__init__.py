"""The engines besides DuckDB (docs/spark.md). Nothing here is imported on the DuckDB path:
the modules import pyspark lazily, inside the functions that need it."""
