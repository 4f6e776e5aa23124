"""Dagster definitions: clv."""
