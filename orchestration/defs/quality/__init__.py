"""Dagster definitions: quality."""
