"""The semantic layer's query side: MetricFlow on the warehouse, read-only (docs/semantic-layer.md).

The metrics are defined in dbt (``models/marts/semantic/``); ``dbt parse`` writes them to
``target/semantic_manifest.json``. MetricFlow's own CLI (``mf``) runs them through a dbt adapter
that opens the DuckDB file read-write and checks the package index for a newer release on every
call. ``clm metrics`` and the tests use MetricFlow's Python engine instead, with a small SQL
client that attaches the warehouse READ-ONLY under the database name the manifest's relations
use, so a query never takes the writer's lock and needs no network.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration.settings import REPO_ROOT, get_settings

if TYPE_CHECKING:
    from metricflow.engine.metricflow_engine import MetricFlowEngine
    from metricflow_semantic_interfaces.protocols.semantic_manifest import SemanticManifest


class SemanticLayerError(RuntimeError):
    """The semantic layer cannot answer: no manifest, no warehouse, or a bad query."""


@dataclass(frozen=True)
class MetricTable:
    """A query's answer: column names and rows, in MetricFlow's order."""

    columns: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    sql: str

    def as_dicts(self) -> list[dict[str, object]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def semantic_manifest_path() -> Path:
    """target/semantic_manifest.json, or the one under DBT_TARGET_PATH when that is set."""
    target = Path(os.environ.get("DBT_TARGET_PATH") or "target")
    return (target if target.is_absolute() else REPO_ROOT / target) / "semantic_manifest.json"


def load_semantic_manifest(path: Path | None = None) -> SemanticManifest:
    """Parse the semantic manifest dbt wrote (``dbt parse``)."""
    from metricflow_semantics.model.dbt_manifest_parser import (
        parse_manifest_from_dbt_generated_manifest,
    )

    path = path or semantic_manifest_path()
    if not path.exists():
        raise SemanticLayerError(
            f"no semantic manifest at {path}: run `make manifest` (dbt parse) first"
        )
    return parse_manifest_from_dbt_generated_manifest(path.read_text())


def _database_names(manifest: SemanticManifest) -> set[str]:
    names = {model.node_relation.database for model in manifest.semantic_models}
    names |= {spine.node_relation.database for spine in manifest.project_configuration.time_spines}
    return {name for name in names if name}


class DuckDbReadOnlyClient:
    """MetricFlow's SqlClient protocol on a DuckDB file attached read-only.

    The file is attached under every database name the manifest's relations use (dbt-duckdb
    names the database after the file it built), so the BI file or a copy of the warehouse
    answers too, as long as it holds the same schemas and tables.
    """

    def __init__(self, warehouse: Path, database_names: set[str]) -> None:
        import duckdb
        from metricflow.protocols.sql_client import SqlEngine
        from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer

        if not warehouse.exists():
            raise SemanticLayerError(f"no warehouse at {warehouse}: run `make run` first")
        self._engine = SqlEngine.DUCKDB
        self._renderer = DuckDbSqlPlanRenderer()
        self._con = duckdb.connect(":memory:")
        self._con.execute("set TimeZone = 'UTC'")
        names = sorted(database_names) or ["warehouse"]
        try:
            for name in names:
                self._con.execute(f"attach '{warehouse}' as \"{name}\" (read_only)")
            self._con.execute(f'use "{names[0]}"')
        except duckdb.Error as error:
            self._con.close()
            raise SemanticLayerError(
                f"cannot open {warehouse} read-only ({error}); is a dbt build running?"
            ) from error

    @property
    def sql_engine_type(self):  # noqa: ANN201 - MetricFlow's SqlEngine
        return self._engine

    @property
    def sql_plan_renderer(self):  # noqa: ANN201 - MetricFlow's SqlPlanRenderer
        return self._renderer

    def query(self, stmt: str, sql_bind_parameter_set=None):  # noqa: ANN001, ANN201
        from metricflow.data_table.mf_table import MetricFlowDataTable

        _no_bind_parameters(sql_bind_parameter_set)
        cursor = self._con.execute(stmt)
        columns = [description[0] for description in cursor.description]
        return MetricFlowDataTable.create_from_rows(column_names=columns, rows=cursor.fetchall())

    def execute(self, stmt: str, sql_bind_parameter_set=None) -> None:  # noqa: ANN001
        _no_bind_parameters(sql_bind_parameter_set)
        self._con.execute(stmt)

    def dry_run(self, stmt: str, sql_bind_parameter_set=None) -> None:  # noqa: ANN001
        _no_bind_parameters(sql_bind_parameter_set)
        self._con.execute(f"explain {stmt}")

    def close(self) -> None:
        self._con.close()

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"


def _no_bind_parameters(parameters: object) -> None:
    if parameters is not None and getattr(parameters, "param_dict", None):
        raise SemanticLayerError("bind parameters are not supported")


class SemanticLayer:
    """MetricFlow's engine on one warehouse file; use as a context manager (closes the file)."""

    def __init__(self, warehouse: Path | None = None, manifest_path: Path | None = None) -> None:
        from metricflow.engine.metricflow_engine import MetricFlowEngine
        from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

        manifest = load_semantic_manifest(manifest_path)
        self.warehouse = warehouse or get_settings().duckdb_path
        self.client = DuckDbReadOnlyClient(self.warehouse, _database_names(manifest))
        self.engine: MetricFlowEngine = MetricFlowEngine(
            semantic_manifest_lookup=SemanticManifestLookup(manifest), sql_client=self.client
        )

    def __enter__(self) -> SemanticLayer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def metric_names(self) -> list[str]:
        return sorted(metric.name for metric in self.engine.list_metrics(include_dimensions=False))

    def saved_query_names(self) -> list[str]:
        return sorted(query.name for query in self.engine.list_saved_queries())

    def group_bys(self, metrics: Sequence[str]) -> list[str]:
        """The dimensions and entities every one of ``metrics`` can be grouped by (time
        dimensions by their name; add ``__month``, ``__quarter`` … for a grain)."""
        from metricflow.engine.models import Dimension

        items = self.engine.list_group_bys(list(metrics))
        names = {
            item.name if not isinstance(item, Dimension) else item.dunder_name for item in items
        }
        return sorted(name.removesuffix("__day") for name in names)

    def query(
        self,
        metrics: Sequence[str] = (),
        group_by: Sequence[str] = (),
        where: Sequence[str] = (),
        order_by: Sequence[str] = (),
        limit: int | None = None,
        saved_query: str | None = None,
    ) -> MetricTable:
        """Run a metric query (or a saved query) and return its table and SQL."""
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

        request = MetricFlowQueryRequest.create(
            saved_query_name=saved_query,
            metric_names=list(metrics) or None,
            group_by_names=list(group_by) or None,
            where_constraints=list(where) or None,
            order_by_names=list(order_by) or None,
            limit=limit,
        )
        try:
            sql = self.engine.explain(request).sql_statement.without_descriptions.sql
            table = self.engine.query(request).result_df
        except SemanticLayerError:
            raise
        except Exception as error:  # MetricFlow's own errors say what is wrong with the query
            raise SemanticLayerError(str(error)) from error
        return MetricTable(tuple(table.column_names), tuple(tuple(r) for r in table.rows), sql)


def ensure_semantic_manifest() -> Path:
    """The semantic manifest, written by `dbt parse` when it is missing (a fresh clone)."""
    path = semantic_manifest_path()
    if not path.exists():
        from orchestration.dbt_cli import prepare_manifest

        prepare_manifest()
    return path


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value == value else "NaN"
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if str(value).endswith("00:00:00") else str(value)
    return str(value)


def format_table(table: MetricTable) -> str:
    """A plain text table: the header, then one line per row, columns aligned."""
    cells = [list(table.columns), *[[_cell(value) for value in row] for row in table.rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(table.columns))]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )


def write_csv(table: MetricTable, path: Path) -> None:
    """The answer as CSV (header, then rows; NULL as an empty field)."""
    import csv

    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(table.columns)
        writer.writerows([[_cell(value) for value in row] for row in table.rows])
