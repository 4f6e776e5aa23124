"""Dagster definitions: publish."""
