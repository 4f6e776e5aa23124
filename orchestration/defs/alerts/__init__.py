"""Dagster definitions: alerts."""
