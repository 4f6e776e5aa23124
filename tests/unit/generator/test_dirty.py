"""``dirty=True`` injects every bad input of docs/landing-contract.md, where the report says."""

from __future__ import annotations

import csv
import json

import pytest

from orchestration import contract
from tools.generator import GenerationReport

# Every kind of bad input docs/landing-contract.md lists, as the report names it.
LANDING_KINDS = {
    "too_many_fields", "too_few_fields", "trailing_empty_field", "unparseable_value",
    "missing_required_value", "exact_duplicate_row", "key_versions", "invalid_email",
    "unknown_currency", "negative_quantity", "negative_price", "unknown_reference",
    "future_timestamp", "extra_unknown_columns", "missing_optional_column",
    "missing_required_column", "empty_file", "header_only_file", "awkward_file_name",
}  # fmt: skip


def line_of(report: GenerationReport, injection: dict) -> str:
    path = report.out_dir / injection["file"]
    return path.read_text(encoding="utf-8").split("\n")[injection["line"] - 1]


def header_of(report: GenerationReport, injection: dict) -> list[str]:
    path = report.out_dir / injection["file"]
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def of_kind(report: GenerationReport, kind: str) -> list[dict]:
    found = [i for i in report.injections if i["kind"] == kind]
    assert found, f"no {kind} injected"
    return found


def test_every_landing_kind_is_injected(dirty: GenerationReport) -> None:
    assert {i["kind"] for i in dirty.injections} >= LANDING_KINDS


def test_clean_data_has_no_injections(clean: GenerationReport) -> None:
    assert clean.injections == []
    assert not clean.dirty


def test_injected_files_stay_inside_the_landing_layout(dirty: GenerationReport) -> None:
    for injection in dirty.injections:
        parts = injection["file"].split("/")
        assert len(parts) == 3
        contract.get_table(parts[0], parts[1])
        assert (dirty.out_dir / injection["file"]).is_file()


@pytest.mark.parametrize(("kind", "difference"), [("too_many_fields", 2), ("too_few_fields", -3)])
def test_wrong_field_counts(dirty: GenerationReport, kind: str, difference: int) -> None:
    for injection in of_kind(dirty, kind):
        fields = next(csv.reader([line_of(dirty, injection)]))
        assert len(fields) - len(header_of(dirty, injection)) == difference
        assert fields[0] == injection["key"]


def test_trailing_comma_line(dirty: GenerationReport) -> None:
    injection = of_kind(dirty, "trailing_empty_field")[0]
    line = line_of(dirty, injection)
    fields = next(csv.reader([line]))
    assert line.endswith(",")
    assert len(fields) == len(header_of(dirty, injection)) + 1
    assert fields[-1] == ""


@pytest.mark.parametrize(
    "kind",
    ["unparseable_value", "missing_required_value", "invalid_email", "unknown_currency",
     "negative_quantity", "negative_price", "unknown_reference", "future_timestamp",
     "unaccepted_value"],
)  # fmt: skip
def test_bad_values_are_where_the_report_says(dirty: GenerationReport, kind: str) -> None:
    for injection in of_kind(dirty, kind):
        text = line_of(dirty, injection)
        if injection["file"].endswith(".jsonl"):
            row = {k: ("" if v is None else str(v)) for k, v in json.loads(text).items()}
        else:
            row = dict(zip(header_of(dirty, injection), next(csv.reader([text])), strict=True))
        assert row[injection["column"]] == injection["value"], injection
        key_column = contract.get_table(injection["source"], injection["table"]).primary_key[0]
        assert row[key_column] == injection["key"].split("|")[0]


def test_specific_bad_values_are_present(dirty: GenerationReport) -> None:
    values = {(i["kind"], i["value"]) for i in dirty.injections}
    for expected in [
        ("unparseable_value", "abc"), ("unparseable_value", "yesterday"),
        ("invalid_email", "no-at-sign"), ("invalid_email", "user@"),
        ("invalid_email", "@domain.com"), ("unknown_currency", "XXX"),
    ]:  # fmt: skip
        assert expected in values
    tables = {i["table"] for i in of_kind(dirty, "unknown_reference")}
    assert {"order_lines", "events", "refunds"} <= tables


def test_exact_duplicates_are_identical_lines(dirty: GenerationReport) -> None:
    by_key: dict[tuple[str, str], list[str]] = {}
    for injection in of_kind(dirty, "exact_duplicate_row"):
        by_key.setdefault((injection["file"], injection["key"]), []).append(
            line_of(dirty, injection)
        )
    assert by_key
    for lines in by_key.values():
        assert len(lines) == 2 and lines[0] == lines[1]


def test_same_key_in_several_versions(dirty: GenerationReport) -> None:
    keys: dict[str, int] = {}
    for injection in of_kind(dirty, "key_versions"):
        keys[injection["key"]] = keys.get(injection["key"], 0) + 1
    assert max(keys.values()) >= 2
    assert {"crm", "subscriptions"} <= {i["source"] for i in of_kind(dirty, "key_versions")}


def test_malformed_json_line(dirty: GenerationReport) -> None:
    injection = of_kind(dirty, "malformed_json_line")[0]
    with pytest.raises(json.JSONDecodeError):
        json.loads(line_of(dirty, injection))


def test_whole_file_cases(dirty: GenerationReport) -> None:
    def path_of(kind: str):
        return dirty.out_dir / of_kind(dirty, kind)[0]["file"]

    assert path_of("empty_file").stat().st_size == 0
    header_only = path_of("header_only_file").read_text(encoding="utf-8")
    assert header_only.count("\n") == 1 and header_only.startswith("checkout_id")
    orders = contract.get_table("shop", "orders")
    missing = next(csv.reader([path_of("missing_required_column").read_text().split("\n")[0]]))
    assert set(orders.required_columns) - set(missing) == {"total"}
    extra = next(csv.reader([path_of("extra_unknown_columns").read_text().split("\n")[0]]))
    assert set(extra) - set(contract.get_table("crm", "contacts").column_names)
    optional = next(csv.reader([path_of("missing_optional_column").read_text().split("\n")[0]]))
    customers = contract.get_table("shop", "customers")
    assert "phone" not in optional and set(customers.required_columns) <= set(optional)
    name = path_of("awkward_file_name").name
    assert '"' in name and " " in name and not name.isascii()


def test_tables_written_as_parquet_get_a_dirty_csv_beside_them(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # Large scales write events and order lines as parquet; a tiny "large" scale checks that path.
    from tools.generator.build import run
    from tools.generator.dirty import inject
    from tools.generator.scales import Scale

    class TinyLarge(Scale):
        @property
        def large(self) -> bool:
            return True

    report = run(tmp_path_factory.mktemp("parquet"), TinyLarge("t", 300, ""), 1, lambda _: None)
    inject(report, 1, lambda _: None)
    events = [i for i in report.injections if i["table"] == "events"]
    assert events and all(i["file"].endswith("_dirty.csv") for i in events)
    assert {f.file_format for f in report.files if f.table == "events"} == {"parquet", "csv"}
    duplicate = [i for i in events if i["kind"] == "exact_duplicate_row"]
    assert line_of(report, duplicate[0]) == line_of(report, duplicate[1])
