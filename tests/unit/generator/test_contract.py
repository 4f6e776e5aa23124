"""The clean output follows the landing contract (docs/landing-contract.md, landing_contract.yml)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from orchestration import contract
from tools.generator import GenerationReport
from tools.generator.writer import EXTRA_COLUMNS

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
INTEGER = re.compile(r"^-?\d+$")
BOOLEANS = {"true", "false", "1", "0", "yes", "no"}


def read_rows(path: Path) -> tuple[list[str], Iterator[dict[str, object]]]:
    """Header and rows of a landing file (CSV empty field -> None)."""
    if path.suffix == ".csv":
        handle = path.open(encoding="utf-8", newline="")
        reader = csv.reader(handle)
        header = next(reader)
        rows = (
            {k: (v if v != "" else None) for k, v in zip(header, r, strict=True)} for r in reader
        )
        return header, rows
    if path.suffix == ".jsonl":
        lines = path.read_text(encoding="utf-8").splitlines()
        objects = [json.loads(line) for line in lines]
        return list(objects[0]), iter(objects)
    table = pq.read_table(path)
    return table.column_names, iter(table.to_pylist())


def check_value(column: contract.Column, value: object) -> bool:
    if isinstance(value, dt.datetime):
        return column.type == "timestamp"
    if isinstance(value, dt.date):
        return column.type == "date"
    text = str(value)
    match column.type:
        case "timestamp":
            # fromisoformat rejects impossible dates that the pattern would let through.
            return bool(TIMESTAMP.match(text)) and bool(dt.datetime.fromisoformat(text))
        case "date":
            return bool(DATE.match(text))
        case "decimal":
            return bool(DECIMAL.match(text))
        case "integer":
            return bool(INTEGER.match(text))
        case "boolean":
            return text.lower() in BOOLEANS
    return isinstance(value, str)


def test_every_table_has_files_in_its_folder(clean: GenerationReport) -> None:
    root = clean.out_dir
    assert not [p for p in root.iterdir() if p.is_file()], "no file may sit directly in <out>"
    for table in contract.tables():
        folder = root / table.source / table.name
        files = [p for p in folder.iterdir() if p.suffix in contract.FILE_FORMATS]
        assert files, f"no files for {table.source}.{table.name}"
    for path in root.rglob("*"):
        if path.is_file():
            source, table_name, _ = path.relative_to(root).parts
            contract.get_table(source, table_name)  # raises for a folder outside the contract


def test_several_file_formats_and_versions(clean: GenerationReport) -> None:
    formats = {f.file_format for f in clean.files}
    assert formats == {"csv", "jsonl", "parquet"}
    orders = [f for f in clean.files if f.table == "orders"]
    assert any("_full" in f.path for f in orders)
    assert any("_incr" in f.path for f in orders)


@pytest.mark.parametrize("table", contract.tables(), ids=lambda t: f"{t.source}.{t.name}")
def test_files_conform_to_the_contract(clean: GenerationReport, table: contract.Table) -> None:
    folder = clean.out_dir / table.source / table.name
    rows_seen = 0
    for path in sorted(folder.iterdir()):
        header, row_iter = read_rows(path)
        extras = set(EXTRA_COLUMNS.get((table.source, table.name), ())) - set(table.column_names)
        assert set(header) <= set(table.column_names) | extras, f"{path.name}: unknown columns"
        assert set(table.required_columns) <= set(header), f"{path.name}: required missing"
        rows = list(row_iter)
        for name in extras & set(header):  # optional booleans the contract gains later
            assert {str(row[name]).lower() for row in rows} <= BOOLEANS, f"{path.name}: {name}"
        rows_seen += len(rows)
        for column in table.columns:
            values = [row.get(column.name) for row in rows]
            present = [v for v in values if v is not None]
            if column.required:
                assert len(present) == len(values), f"{path.name}: {column.name} empty"
            bad = [v for v in present if not check_value(column, v)]
            assert not bad, f"{path.name}: {column.name} has {bad[:3]}"
            if column.values:
                outside = {str(v) for v in present} - set(column.values)
                assert not outside, f"{path.name}: {column.name} has {outside}"
            if column.type in ("timestamp", "date"):
                # Local dates may run a day past the UTC end; nothing lies further ahead.
                latest = max((str(v)[:10] for v in present), default="")
                assert latest <= "2026-01-01", f"{path.name}: {column.name} up to {latest}"
    assert rows_seen > 0


def test_timestamps_and_booleans_come_in_mixed_spellings(clean: GenerationReport) -> None:
    text = "".join(
        (clean.out_dir / f.path).read_text(encoding="utf-8")
        for f in clean.files
        if f.file_format == "csv"
    )
    assert re.search(r"T\d\d:\d\d:\d\d\+0[12]:00", text)  # offsets
    assert re.search(r"T\d\d:\d\d:\d\dZ", text)
    assert re.search(r"T\d\d:\d\d:\d\d[,\n]", text)  # no offset: UTC
    spellings = set()
    for table in ("crm/contacts", "shop/customers"):
        for path in (clean.out_dir / table).iterdir():
            header, rows = read_rows(path)
            column = "marketing_opt_in" if "contacts" in table else "accepts_marketing"
            spellings |= {r[column] for r in rows}
    assert {"true", "1", "yes"} & spellings
    assert len({s.lower() for s in spellings} & {"true", "1", "yes"}) >= 2


def test_feedback_scores_fit_their_type(clean: GenerationReport) -> None:
    path = next((clean.out_dir / "crm" / "feedback").iterdir())
    _, rows = read_rows(path)
    for row in rows:
        score = int(str(row["score"]))
        assert (0 <= score <= 10) if row["feedback_type"] == "nps" else (1 <= score <= 5)


def test_contacts_and_customers_carry_sms_opt_in(clean: GenerationReport) -> None:
    for table in ("crm/contacts", "shop/customers"):
        values: set[str] = set()
        for path in (clean.out_dir / table).iterdir():
            header, rows = read_rows(path)
            assert "sms_opt_in" in header, path.name
            values |= {str(row["sms_opt_in"]).lower() for row in rows}
        # Both answers occur, each in a spelling the contract accepts for booleans.
        assert len(values) >= 2 and values <= BOOLEANS, (table, values)
