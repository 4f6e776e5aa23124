"""The landing contract (docs/landing-contract.md) loaded from ``landing_contract.yml``.

Everything that needs to know the 13 landing tables — the loader, the sample-data generator,
the dbt source YAML and the docs — reads them from here, so the contract is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

CONTRACT_PATH = Path(__file__).with_name("landing_contract.yml")
COLUMN_TYPES = ("string", "integer", "decimal", "timestamp", "date", "boolean")
FILE_FORMATS = (".csv", ".jsonl", ".parquet")
# Text formats may also arrive gzip-compressed: ``orders.csv.gz``, ``events.jsonl.gz``.
COMPRESSED_FORMATS = {".gz": "gzip"}
COMPRESSIBLE_FORMATS = (".csv", ".jsonl")


@dataclass(frozen=True)
class Column:
    """One column of a landing table."""

    name: str
    type: str
    required: bool = False
    description: str = ""
    values: tuple[str, ...] | None = None
    staging_name: str | None = None

    @property
    def staged_as(self) -> str:
        """The column's name from the staging layer on."""
        return self.staging_name or self.name


@dataclass(frozen=True)
class Table:
    """One landing table: ``<landing>/<source>/<name>/*.csv|jsonl|parquet``."""

    source: str
    name: str
    description: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    version_by: str | None = None

    @property
    def raw_name(self) -> str:
        """Name of the table in DuckDB's ``raw`` schema."""
        return f"{self.source}__{self.name}"

    @property
    def qualified_raw_name(self) -> str:
        return f"raw.{self.raw_name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns if column.required)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.source}.{self.name} has no column {name!r}")


@dataclass(frozen=True)
class Source:
    name: str
    description: str
    tables: tuple[Table, ...]


@cache
def load_contract(path: Path = CONTRACT_PATH) -> tuple[Source, ...]:
    """Parse and check the contract file; raises ``ValueError`` naming what is wrong."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    sources = []
    for source_name, source_doc in document["sources"].items():
        tables = []
        for table_name, table_doc in source_doc["tables"].items():
            columns = tuple(
                Column(
                    name=column_doc["name"],
                    type=column_doc["type"],
                    required=bool(column_doc.get("required", False)),
                    description=column_doc.get("description", ""),
                    values=tuple(column_doc["values"]) if "values" in column_doc else None,
                    staging_name=column_doc.get("staging_name"),
                )
                for column_doc in table_doc["columns"]
            )
            table = Table(
                source=source_name,
                name=table_name,
                description=table_doc.get("description", ""),
                primary_key=tuple(table_doc["primary_key"]),
                columns=columns,
                version_by=table_doc.get("version_by"),
            )
            _check_table(table)
            tables.append(table)
        sources.append(Source(source_name, source_doc.get("description", ""), tuple(tables)))
    return tuple(sources)


def _check_table(table: Table) -> None:
    where = f"contract table {table.source}.{table.name}"
    names = table.column_names
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: duplicate column names")
    for column in table.columns:
        if column.type not in COLUMN_TYPES:
            raise ValueError(f"{where}: column {column.name} has unknown type {column.type!r}")
        if column.name.startswith("_"):
            raise ValueError(f"{where}: column names starting with '_' are kept for load metadata")
    for key in (*table.primary_key, *([table.version_by] if table.version_by else [])):
        if key not in names:
            raise ValueError(f"{where}: key column {key!r} is not a column")


def tables() -> tuple[Table, ...]:
    """All landing tables, in contract order."""
    return tuple(table for source in load_contract() for table in source.tables)


def sources() -> tuple[Source, ...]:
    return load_contract()


def get_table(source: str, name: str) -> Table:
    for table in tables():
        if table.source == source and table.name == name:
            return table
    raise KeyError(f"the landing contract has no table {source}.{name}")
