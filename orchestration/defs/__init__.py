"""Dagster definitions, one subpackage per area (ingest, dbt, clv, quality, publish, alerts).

`orchestration/definitions.py` loads everything defined at module level in here.
"""
