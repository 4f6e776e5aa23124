"""Bad input for ``generate(..., dirty=True)``: every kind listed in docs/landing-contract.md's "Bad input".

Each injection is recorded in ``GenerationReport.injections`` with its kind, table, file
(relative to the landing dir), the line it is on (CSV: the header is line 1; JSONL: line 1 is
the first object; ``None`` for whole-file cases), the key of the row and what is wrong, so tests
and the loader's tests can assert exactly where it went. Bad rows carry ids containing
``DIRTY`` (except where a real key is the point), so they never collide with clean rows.

Rows are appended to the table's full export when it is a CSV or JSONL file; tables written as
parquet get a small ``…_dirty.csv`` file beside them instead.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from itertools import islice
from pathlib import Path

import pyarrow.parquet as pq

from orchestration import contract

from .build import GenerationReport
from .writer import WrittenFile

FUTURE = "2031-03-01T10:00:00Z"
DIRTY_DATE = "2025-12-31"


class _Injector:
    def __init__(self, report: GenerationReport, progress: Callable[[str], None]) -> None:
        self.report = report
        self.out = report.out_dir
        self.progress = progress

    # -- where rows go ------------------------------------------------------------------
    def _full_file(self, source: str, table: str) -> WrittenFile:
        files = [f for f in self.report.files if f.source == source and f.table == table]
        return sorted(files, key=lambda f: f.path)[0]

    def target(self, source: str, table: str) -> tuple[Path, list[str]]:
        """The file bad rows of a table are appended to, and its header."""
        full = self._full_file(source, table)
        if full.file_format == "csv":
            path = self.out / full.path
            with path.open(encoding="utf-8", newline="") as handle:
                header = next(csv.reader(handle))
            return path, header
        path = self.out / source / table / f"{table}_{DIRTY_DATE}_dirty.csv"
        header = list(contract.get_table(source, table).column_names)
        if not path.exists():
            self._write_text(path, _csv_line(header), source, table)
        return path, header

    def template(self, source: str, table: str) -> dict[str, str]:
        """A real clean row of the table (from its full export), as text, to vary."""
        path = self.out / self._full_file(source, table).path
        if path.suffix == ".csv":
            with path.open(encoding="utf-8", newline="") as handle:
                return dict(next(islice(csv.DictReader(handle), 0, 1)))
        if path.suffix == ".jsonl":
            with path.open(encoding="utf-8") as handle:
                row = json.loads(handle.readline())
        else:
            row = pq.ParquetFile(path).read_row_group(0).slice(0, 1).to_pylist()[0]
        return {k: _text(v) for k, v in row.items()}

    # -- writing -----------------------------------------------------------------------
    def _write_text(self, path: Path, text: str, source: str, table: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
        self.report.files.append(
            WrittenFile(path.relative_to(self.out).as_posix(), source, table,
                        path.suffix.lstrip("."), max(0, text.count("\n") - 1))
        )  # fmt: skip

    def append_line(
        self, source: str, table: str, line: str, kind: str, key: str | None, detail: str,
        column: str | None = None, value: str | None = None, path: Path | None = None,
    ) -> None:  # fmt: skip
        """Append one raw line (ending in a newline) and record it."""
        path = path or self.target(source, table)[0]
        number = _line_count(path) + 1
        with path.open("a", encoding="utf-8", newline="") as handle:
            handle.write(line)
        self._bump(path)
        self.record(kind, source, table, path, number, key, detail, column, value)

    def append_row(
        self, source: str, table: str, row: dict[str, str], kind: str, key: str | None,
        detail: str, column: str | None = None, value: str | None = None,
    ) -> None:  # fmt: skip
        """Append a row laid out by the target file's header."""
        path, header = self.target(source, table)
        line = _csv_line([row.get(name, "") for name in header])
        self.append_line(source, table, line, kind, key, detail, column, value, path)

    def _bump(self, path: Path) -> None:
        relative = path.relative_to(self.out).as_posix()
        for i, written in enumerate(self.report.files):
            if written.path == relative:
                self.report.files[i] = WrittenFile(
                    written.path, written.source, written.table, written.file_format,
                    written.rows + 1,
                )  # fmt: skip

    def record(
        self, kind: str, source: str, table: str, path: Path, line: int | None,
        key: str | None, detail: str, column: str | None = None, value: str | None = None,
    ) -> None:  # fmt: skip
        """Remember one injection."""
        self.report.injections.append(
            {
                "kind": kind,
                "source": source,
                "table": table,
                "file": path.relative_to(self.out).as_posix(),
                "line": line,
                "key": key,
                "column": column,
                "value": value,
                "detail": detail,
            }
        )

    def new_file(
        self, source: str, table: str, name: str, columns: list[str], rows: list[dict[str, str]],
        kind: str, detail: str,
    ) -> Path:  # fmt: skip
        """A whole extra CSV file with the given columns and rows."""
        path = self.out / source / table / name
        text = _csv_line(columns) + "".join(
            _csv_line([row.get(c, "") for c in columns]) for row in rows
        )
        self._write_text(path, text, source, table)
        self.record(kind, source, table, path, None, None, detail)
        return path


def _text(value: object) -> str:
    """A native parquet/JSON value as the CSV text of the same value."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S") + ("Z" if value.tzinfo else "")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _csv_line(values: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


def _line_count(path: Path) -> int:
    count = 0
    last = b"\n"
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (0 if last == b"\n" else 1)


def inject(report: GenerationReport, seed: int, progress: Callable[[str], None] = print) -> None:
    """Add every bad input of docs/landing-contract.md to the data set ``report`` describes."""
    del seed  # the injections are fixed: tests assert them by place
    report.dirty = True
    it = _Injector(report, progress)
    _orders(it)
    _customers(it)
    _order_lines(it)
    _refunds(it)
    _events(it)
    _contacts(it)
    _subscriptions(it)
    _ad_spend(it)
    _feedback(it)
    _files(it)
    progress(f"dirty: injected {len(report.injections)} bad inputs")


def _orders(it: _Injector) -> None:
    base = it.template("shop", "orders")
    path, header = it.target("shop", "orders")

    def order(n: int, **changes: str) -> dict[str, str]:
        return {**base, "order_id": f"ORD-DIRTY-{n:04d}", **changes}

    row = order(1)
    it.append_line("shop", "orders", _csv_line([row[c] for c in header] + ["surplus", "x"]),
                   "too_many_fields", row["order_id"], "two fields more than the header")  # fmt: skip
    row = order(2)
    it.append_line("shop", "orders", _csv_line([row[c] for c in header][:-3]),
                   "too_few_fields", row["order_id"], "three fields fewer than the header")  # fmt: skip
    it.append_row("shop", "orders", order(3, subtotal="abc"), "unparseable_value",
                  "ORD-DIRTY-0003", "decimal column holds text", "subtotal", "abc")  # fmt: skip
    it.append_row("shop", "orders", order(4, ordered_at="yesterday"), "unparseable_value",
                  "ORD-DIRTY-0004", "timestamp column holds text", "ordered_at", "yesterday")  # fmt: skip
    it.append_row("shop", "orders", order(5, email=""), "missing_required_value",
                  "ORD-DIRTY-0005", "required email is empty", "email", "")  # fmt: skip
    it.append_row("shop", "orders", order(6, currency="XXX"), "unknown_currency",
                  "ORD-DIRTY-0006", "currency not in ISO 4217 / currency_rates", "currency", "XXX")  # fmt: skip
    it.append_row("shop", "orders", order(7, ordered_at=FUTURE, updated_at=FUTURE),
                  "future_timestamp", "ORD-DIRTY-0007", "ordered in the future", "ordered_at", FUTURE)  # fmt: skip
    it.append_row("shop", "orders", order(8, email="no-at-sign"), "invalid_email",
                  "ORD-DIRTY-0008", "email without @", "email", "no-at-sign")  # fmt: skip
    it.append_row("shop", "orders", order(9, financial_status="chargeback"), "unaccepted_value",
                  "ORD-DIRTY-0009", "financial_status outside the accepted values",
                  "financial_status", "chargeback")  # fmt: skip
    it.append_row("shop", "orders", order(10, total="-12.50"), "negative_amount",
                  "ORD-DIRTY-0010", "negative total", "total", "-12.50")  # fmt: skip


def _customers(it: _Injector) -> None:
    base = it.template("shop", "customers")
    path, header = it.target("shop", "customers")
    row = {**base, "shop_customer_id": "SC-DIRTY-0001"}
    # DuckDB's CSV reader trap: one extra, empty trailing field (a trailing comma).
    it.append_line("shop", "customers", _csv_line([row[c] for c in header]).rstrip("\n") + ",\n",
                   "trailing_empty_field", "SC-DIRTY-0001",
                   "one extra empty field at the end of the line (trailing comma)")  # fmt: skip
    it.append_row("shop", "customers", {**base, "shop_customer_id": "SC-DIRTY-0002",
                                          "email": "user@"},
                  "invalid_email", "SC-DIRTY-0002", "email without domain", "email", "user@")  # fmt: skip


def _order_lines(it: _Injector) -> None:
    base = it.template("shop", "order_lines")

    def line(n: int, **changes: str) -> dict[str, str]:
        return {**base, "order_line_id": f"OL-DIRTY-{n:04d}", **changes}

    duplicate = line(1)
    for _ in range(2):
        it.append_row("shop", "order_lines", duplicate, "exact_duplicate_row", "OL-DIRTY-0001",
                      "the same line twice, byte for byte")  # fmt: skip
    it.append_row("shop", "order_lines", line(2, quantity="-2"), "negative_quantity",
                  "OL-DIRTY-0002", "negative quantity", "quantity", "-2")  # fmt: skip
    it.append_row("shop", "order_lines", line(3, unit_price="-5.00"), "negative_price",
                  "OL-DIRTY-0003", "negative unit price", "unit_price", "-5.00")  # fmt: skip
    it.append_row("shop", "order_lines", line(4, order_id="ORD-DOES-NOT-EXIST"),
                  "unknown_reference", "OL-DIRTY-0004", "line of an order that does not exist",
                  "order_id", "ORD-DOES-NOT-EXIST")  # fmt: skip
    it.append_row("shop", "order_lines", line(5, quantity="two"), "unparseable_value",
                  "OL-DIRTY-0005", "integer column holds text", "quantity", "two")  # fmt: skip


def _refunds(it: _Injector) -> None:
    base = it.template("shop", "refunds")
    it.append_row("shop", "refunds", {**base, "refund_id": "RF-DIRTY-0001",
                                      "order_id": "ORD-DOES-NOT-EXIST"},
                  "unknown_reference", "RF-DIRTY-0001", "refund of an order that does not exist",
                  "order_id", "ORD-DOES-NOT-EXIST")  # fmt: skip
    it.append_row("shop", "refunds", {**base, "refund_id": "RF-DIRTY-0002", "amount": "-10.00"},
                  "negative_amount", "RF-DIRTY-0002", "negative refund amount", "amount", "-10.00")  # fmt: skip


def _events(it: _Injector) -> None:
    base = it.template("email", "events")

    def event(n: int, **changes: str) -> dict[str, str]:
        return {**base, "event_id": f"EV-DIRTY-{n:04d}", **changes}

    it.append_row("email", "events", event(1, campaign_id="CMP-UNKNOWN"), "unknown_reference",
                  "EV-DIRTY-0001", "event of a campaign that does not exist", "campaign_id",
                  "CMP-UNKNOWN")  # fmt: skip
    it.append_row("email", "events", event(2, campaign_id=""), "missing_required_value",
                  "EV-DIRTY-0002", "required campaign_id is empty", "campaign_id", "")  # fmt: skip
    for _ in range(2):
        it.append_row("email", "events", event(3), "exact_duplicate_row", "EV-DIRTY-0003",
                      "the same event twice, byte for byte")  # fmt: skip
    it.append_row("email", "events", event(4, occurred_at=FUTURE), "future_timestamp",
                  "EV-DIRTY-0004", "event in the future", "occurred_at", FUTURE)  # fmt: skip
    it.append_row("email", "events", event(5, event_type="forwarded"), "unaccepted_value",
                  "EV-DIRTY-0005", "event_type outside the accepted values", "event_type",
                  "forwarded")  # fmt: skip
    it.append_row("email", "events", event(6, email="@domain.com"), "invalid_email",
                  "EV-DIRTY-0006", "email without local part", "email", "@domain.com")  # fmt: skip


def _contacts(it: _Injector) -> None:
    base = it.template("crm", "contacts")

    def contact(n: int, **changes: str) -> dict[str, str]:
        return {**base, "contact_id": f"C-DIRTY-{n:04d}", "referred_by_contact_id": "",
                "secondary_email": "", **changes}  # fmt: skip

    for n, bad in ((1, "no-at-sign"), (2, "user@"), (3, "@domain.com")):
        it.append_row("crm", "contacts", contact(n, email=bad), "invalid_email",
                      f"C-DIRTY-{n:04d}", "invalid email", "email", bad)  # fmt: skip
    versions = (
        ("2025-06-01T10:00:00Z", "Old Town", "older version"),
        ("", "Nowhere", "version without updated_at (sorts last)"),
        ("2025-08-01T10:00:00Z", "New Town", "latest version: wins"),
    )
    for updated, city, note in versions:
        it.append_row("crm", "contacts", contact(4, updated_at=updated, city=city),
                      "key_versions", "C-DIRTY-0004", note, "city", city)  # fmt: skip
    for city, note in (
        ("First City", "tie on updated_at, earlier line"),
        ("Second City", "tie on updated_at, later line: wins"),
    ):
        it.append_row("crm", "contacts",
                      contact(5, updated_at="2025-07-01T10:00:00Z", city=city),
                      "key_versions", "C-DIRTY-0005", note, "city", city)  # fmt: skip
    it.append_row("crm", "contacts", contact(6, created_at=""), "missing_required_value",
                  "C-DIRTY-0006", "required created_at is empty", "created_at", "")  # fmt: skip
    it.append_row("crm", "contacts", contact(7, referred_by_contact_id="C99999999"),
                  "unknown_reference", "C-DIRTY-0007", "referred by a contact that does not exist",
                  "referred_by_contact_id", "C99999999")  # fmt: skip
    it.append_row("crm", "contacts", contact(8, updated_at="yesterday"), "unparseable_value",
                  "C-DIRTY-0008", "timestamp column holds text", "updated_at", "yesterday")  # fmt: skip
    it.append_row("crm", "contacts", contact(9, marketing_opt_in="maybe"), "unparseable_value",
                  "C-DIRTY-0009", "boolean column holds text", "marketing_opt_in", "maybe")  # fmt: skip


def _subscriptions(it: _Injector) -> None:
    base = it.template("subscriptions", "subscriptions")

    def subscription(n: int, **changes: str) -> dict[str, str]:
        return {**base, "subscription_id": f"SUB-DIRTY-{n:04d}", **changes}

    it.append_row("subscriptions", "subscriptions",
                  subscription(1, status="active", cancelled_at="", cancel_reason="",
                               updated_at="2025-03-01T00:00:00Z"),
                  "key_versions", "SUB-DIRTY-0001", "older version (active)", "status", "active")  # fmt: skip
    it.append_row("subscriptions", "subscriptions",
                  subscription(1, status="cancelled", cancelled_at="2025-04-01T00:00:00Z",
                               cancel_reason="other", updated_at="2025-04-01T00:00:00Z"),
                  "key_versions", "SUB-DIRTY-0001", "latest version (cancelled): wins", "status",
                  "cancelled")  # fmt: skip
    it.append_row("subscriptions", "subscriptions", subscription(2, price="-9.99"),
                  "negative_price", "SUB-DIRTY-0002", "negative price", "price", "-9.99")  # fmt: skip
    it.append_row("subscriptions", "subscriptions", subscription(3, currency="XXX"),
                  "unknown_currency", "SUB-DIRTY-0003", "unknown currency", "currency", "XXX")  # fmt: skip


def _ad_spend(it: _Injector) -> None:
    base = {"spend_date": DIRTY_DATE, "channel": "Google Ads", "spend": "12.34",
            "currency": "USD", "impressions": "1000", "clicks": "10"}  # fmt: skip
    it.append_row("marketing", "ad_spend", {**base, "campaign": "Dirty XXX", "currency": "XXX"},
                  "unknown_currency", "2025-12-31|Google Ads|Dirty XXX", "unknown currency",
                  "currency", "XXX")  # fmt: skip
    it.append_row("marketing", "ad_spend", {**base, "campaign": "Dirty abc", "spend": "abc"},
                  "unparseable_value", "2025-12-31|Google Ads|Dirty abc",
                  "decimal column holds text", "spend", "abc")  # fmt: skip
    it.append_row("marketing", "ad_spend",
                  {**base, "campaign": "Dirty date", "spend_date": "31/12/2025"},
                  "unparseable_value", "31/12/2025|Google Ads|Dirty date",
                  "date not in YYYY-MM-DD", "spend_date", "31/12/2025")  # fmt: skip


def _feedback(it: _Injector) -> None:
    full = it._full_file("crm", "feedback")
    path = it.out / full.path
    good = ('{"feedback_id":"FB-DIRTY-0002","contact_id":null,"email":"dirty.nps@example.org",'
            '"submitted_at":"2025-12-01T10:00:00Z","feedback_type":"nps","score":11,'
            '"comment":"off the scale"}\n')  # fmt: skip
    it.append_line("crm", "feedback", '{"feedback_id":"FB-DIRTY-0001","score":\n',
                   "malformed_json_line", "FB-DIRTY-0001", "a line that is not a JSON object",
                   path=path)  # fmt: skip
    it.append_line("crm", "feedback", good, "unaccepted_value", "FB-DIRTY-0002",
                   "NPS score 11 is outside 0-10", "score", "11", path=path)  # fmt: skip


def _files(it: _Injector) -> None:
    contacts = contract.get_table("crm", "contacts")
    base = it.template("crm", "contacts")
    rows = [{**base, "contact_id": f"C-DIRTY-{n:04d}", "referred_by_contact_id": "",
             "loyalty_tier": "gold", "internal_note": "VIP, call first"} for n in (10, 11, 12)]  # fmt: skip
    it.new_file("crm", "contacts", f"contacts_{DIRTY_DATE}_incr_extra-columns.csv",
                [*contacts.column_names, "loyalty_tier", "internal_note"], rows,
                "extra_unknown_columns", "two columns the contract does not know")  # fmt: skip

    customers = contract.get_table("shop", "customers")
    base = it.template("shop", "customers")
    rows = [{**base, "shop_customer_id": f"SC-DIRTY-{n:04d}"} for n in (10, 11, 12)]
    it.new_file("shop", "customers", f"customers_{DIRTY_DATE}_incr_no-phone.csv",
                [c for c in customers.column_names if c not in ("phone", "accepts_marketing")],
                rows, "missing_optional_column", "optional phone and accepts_marketing missing")  # fmt: skip

    orders = contract.get_table("shop", "orders")
    base = it.template("shop", "orders")
    rows = [{**base, "order_id": f"ORD-DIRTY-{n:04d}"} for n in (20, 21, 22)]
    it.new_file("shop", "orders", f"orders_{DIRTY_DATE}_incr_no-total.csv",
                [c for c in orders.column_names if c != "total"], rows,
                "missing_required_column", "required column total missing: reject whole file")  # fmt: skip
    rows = [{**base, "order_id": f"ORD-DIRTY-{n:04d}"} for n in (30, 31, 32)]
    it.new_file("shop", "orders", 'orders "Q1" été.csv', list(orders.column_names), rows,
                "awkward_file_name", "quotes, spaces and non-ASCII in the name; rows are clean")  # fmt: skip

    refunds = it.out / "shop" / "refunds" / f"refunds_{DIRTY_DATE}_incr_empty.csv"
    it._write_text(refunds, "", "shop", "refunds")
    it.record("empty_file", "shop", "refunds", refunds, None, None, "0 bytes")
    it.new_file("shop", "checkouts", f"checkouts_{DIRTY_DATE}_incr_header-only.csv",
                list(contract.get_table("shop", "checkouts").column_names), [],
                "header_only_file", "a header and no rows")  # fmt: skip
