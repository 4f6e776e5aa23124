"""What the lifecycle report reads from the BI file, by the contract's column names.

Every read is defensive: a missing table or column makes that chart say what is missing instead
of failing the report (the marts evolve; the KPI marts and their KPI columns are stable).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.warehouse import apply_limits


@dataclass
class ReportData:
    """The BI file's tables the report uses, as data frames (empty when missing)."""

    as_of_date: date | None = None
    reporting_currency: str = "reporting currency"
    run_id: str | None = None
    published_at: datetime | None = None
    publication_id: str | None = None
    pseudonymised: bool = False
    # "schema.table" -> frame; a table that is not in the file is absent from the dict.
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)


# Tables the report reads: name -> the columns it may use (None = all columns).
REPORT_TABLES: dict[str, tuple[str, ...] | None] = {
    "marts.kpi_monthly": ("month", "new_customers", "active_customers", "net_revenue", "aov"),
    "marts.kpi_by_channel": ("month", "channel", "spend", "new_customers", "clicks"),
    "marts.cohort_retention": (
        "cohort_month",
        "months_since_acquisition",
        "cohort_size",
        "active_customers",
        "retention_rate",
    ),
    "marts.purchase_ladder": (
        "n",
        "customers_with_at_least_n",
        "customers_with_at_least_n_plus_1",
        "next_purchase_probability",
    ),
    "marts.subscription_metrics_monthly": (
        "month",
        "subscription_churn_rate",
        "subscriber_churn_rate",
        "mrr",
    ),
    "marts.customer_segments": None,
    "marts.customer_clv": ("customer_key", "historical_clv", "predicted_clv"),
    "meta.data_quality": None,
}


def load_report_data(bi_db_path: str | os.PathLike[str]) -> ReportData:
    """Read the report's tables from a published BI file (opened read-only)."""
    con = duckdb.connect(str(Path(bi_db_path)), read_only=True)
    try:
        apply_limits(con)  # the warehouse's memory limit, as every DuckDB step of a run
        con.execute("set TimeZone = 'UTC'")
        present = {
            f"{schema}.{name}": {
                str(column)
                for (column,) in con.execute(
                    "select column_name from duckdb_columns() "
                    "where schema_name = ? and table_name = ?",
                    [schema, name],
                ).fetchall()
            }
            for schema, name in con.execute(
                "select schema_name, table_name from duckdb_tables()"
            ).fetchall()
        }
        data = ReportData()
        if "meta.publication" in present:
            _read_publication(con, present["meta.publication"], data)
        for table, wanted in REPORT_TABLES.items():
            if table not in present:
                continue
            columns = (
                sorted(present[table])
                if wanted is None
                else [column for column in wanted if column in present[table]]
            )
            if not columns:
                continue
            select = ", ".join(f'"{column}"' for column in columns)
            schema, name = table.split(".", 1)
            data.tables[table] = con.execute(f'select {select} from "{schema}"."{name}"').df()
        if data.reporting_currency == "reporting currency" and "reporting_currency" in present.get(
            "marts.fct_orders", set()
        ):
            row = con.execute(
                "select any_value(reporting_currency) from marts.fct_orders"
            ).fetchone()
            if row and row[0]:
                data.reporting_currency = str(row[0])
    finally:
        con.close()
    return data


def _read_publication(con: duckdb.DuckDBPyConnection, columns: set[str], data: ReportData) -> None:
    wanted = [
        "as_of_date",
        "reporting_currency",
        "run_id",
        "published_at",
        "publication_id",
        "pseudonymised",
    ]
    available = [column for column in wanted if column in columns]
    if not available:
        return
    row = con.execute(f"select {', '.join(available)} from meta.publication limit 1").fetchone()
    if row is None:
        return
    values = dict(zip(available, row, strict=True))
    data.as_of_date = values.get("as_of_date")
    data.reporting_currency = values.get("reporting_currency") or data.reporting_currency
    data.run_id = values.get("run_id")
    data.published_at = values.get("published_at")
    data.publication_id = values.get("publication_id")
    data.pseudonymised = bool(values.get("pseudonymised"))
