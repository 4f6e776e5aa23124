"""Customer Lifecycle Warehouse: ingestion, orchestration, quality, CLV and alerts."""
