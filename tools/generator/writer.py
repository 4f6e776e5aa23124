"""Writes generated rows into the landing layout of docs/landing-contract.md.

``<out>/<source>/<table>/<table>_<export date>_<full|incr>[_part-NNN].<ext>``: the first export
is a full export, the later ones (and the day-after increment) increments. Files are written under a temporary name and
renamed, so a sensor watching the landing folder never sees half a file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from orchestration import contract

from .common import EXPORT_COLUMN
from .formats import iso_text
from .scales import EXPORT_DATES, FILE_DATES


@dataclass(frozen=True)
class WrittenFile:
    """One file the generator wrote."""

    path: str  # relative to the landing dir, with "/" separators
    source: str
    table: str
    file_format: str
    rows: int


# Optional columns written beyond the landing contract as this package reads it (the contract
# gains them; until then the loader keeps them as unknown extra columns).
EXTRA_COLUMNS: dict[tuple[str, str], tuple[str, ...]] = {
    ("crm", "contacts"): ("sms_opt_in",),
    ("shop", "customers"): ("sms_opt_in",),
}


@dataclass
class LandingWriter:
    """Writes tables into one landing folder and remembers what it wrote.

    Only rows of the file dates in ``exports`` (indexes into FILE_DATES) are written: the full
    data set's exports by default, the day-after increment for ``generate(day_after=True)``.
    """

    out_dir: Path
    progress: Callable[[str], None] = print
    files: list[WrittenFile] = field(default_factory=list)
    exports: frozenset[int] = frozenset(range(len(EXPORT_DATES)))

    def __post_init__(self) -> None:
        self._con = duckdb.connect()
        # One thread: the byte order of the output must not depend on scheduling.
        self._con.execute("set threads = 1; set preserve_insertion_order = true")

    def folder(self, source: str, table: str) -> Path:
        """The table's landing folder (created)."""
        path = self.out_dir / source / table
        path.mkdir(parents=True, exist_ok=True)
        return path

    def write(
        self,
        source: str,
        table: str,
        rows: pa.Table,
        file_format: str = "csv",
        part: int | None = None,
    ) -> None:
        """Split ``rows`` by export and write one file per export that has rows."""
        spec = contract.get_table(source, table)
        exports = rows.column(EXPORT_COLUMN).to_numpy()
        data = rows.drop_columns([EXPORT_COLUMN])
        extras = [
            name
            for name in EXTRA_COLUMNS.get((source, table), ())
            if name not in spec.column_names and name in data.column_names
        ]
        unknown = set(data.column_names) - set(spec.column_names) - set(extras)
        if unknown:
            raise ValueError(f"{source}.{table}: columns not in the contract: {sorted(unknown)}")
        names = [name for name in spec.column_names if name in data.column_names] + extras
        data = data.select(names)
        for index in np.unique(exports):
            if int(index) not in self.exports:
                continue
            chunk = data.filter(pa.array(exports == index))
            kind = "full" if index == 0 else "incr"
            name = f"{table}_{FILE_DATES[index].isoformat()}_{kind}"
            if part is not None:
                name += f"_part-{part:03d}"
            self.write_file(source, table, f"{name}.{file_format}", chunk)

    def write_file(self, source: str, table: str, file_name: str, data: pa.Table) -> WrittenFile:
        """Write one file atomically; the format follows the file name's extension."""
        path = self.folder(source, table) / file_name
        temporary = path.with_name(f".{file_name}.tmp")
        file_format = path.suffix.lstrip(".")
        if file_format == "parquet":
            pq.write_table(data, temporary, compression="zstd", row_group_size=1_000_000)
        else:
            self._con.register("_generated", _as_text(data) if file_format == "csv" else data)
            options = "format csv, header true" if file_format == "csv" else "format json"
            target = str(temporary).replace("'", "''")
            self._con.execute(f"copy _generated to '{target}' ({options})")
            self._con.unregister("_generated")
        os.replace(temporary, path)
        written = WrittenFile(
            path=path.relative_to(self.out_dir).as_posix(),
            source=source,
            table=table,
            file_format=file_format,
            rows=data.num_rows,
        )
        self.files.append(written)
        self.progress(f"  wrote {written.path} ({written.rows:,} rows)")
        return written

    def close(self) -> None:
        """Release the in-memory DuckDB connection."""
        self._con.close()


def _as_text(data: pa.Table) -> pa.Table:
    """Every column as text, so DuckDB writes exactly the generated spelling."""
    columns = []
    for column in data.columns:
        if pa.types.is_timestamp(column.type):
            column = pa.chunked_array(
                [iso_text(chunk) for chunk in column.chunks], type=pa.string()
            )
        elif not pa.types.is_string(column.type):
            column = pc.cast(column, pa.string())
        columns.append(column)
    return pa.table(columns, names=data.column_names)
