"""The landing loader against every bad input of docs/landing-contract.md, with small hand-made files."""

from __future__ import annotations

import hashlib
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.contract import get_table, tables
from orchestration.ingest.loader import ensure_raw_schema, load_file, load_landing
from orchestration.ingest.raw_schema import raw_table_ddl

ORDERS_HEADER = "order_id,email,ordered_at,currency,subtotal,total"
EVENTS = "email/events"


def quiet(_message: str) -> None:
    pass


def load(con, landing, **kwargs):
    return load_landing(con, landing, progress=quiet, **kwargs)


def raw_rows(con, table: str, columns: str = "*") -> list[tuple]:
    return con.execute(f"select {columns} from raw.{table} order by _line_number").fetchall()


def rejects(con, file_name: str | None = None) -> list[tuple]:
    where = "" if file_name is None else "where file_name = ?"
    params = [] if file_name is None else [file_name]
    return con.execute(
        f"select line_number, reason from raw.load_rejects {where} order by line_number", params
    ).fetchall()


def assert_balanced(con) -> None:
    """Every file: read = loaded + rejected, and the counts match the rows really there."""
    unbalanced = con.execute(
        "select file_name from raw.load_reconciliation where not is_balanced"
    ).fetchall()
    assert unbalanced == []
    for table in tables():
        mismatched = con.execute(
            f"""
            select manifest.file_name
            from raw.load_manifest as manifest
            where manifest.source = ? and manifest.table_name = ?
              and rows_loaded <> (
                  select count(*) from {table.qualified_raw_name} as raw
                  where raw._load_id = manifest.load_id)
            """,
            [table.source, table.name],
        ).fetchall()
        assert mismatched == []
    mismatched = con.execute(
        """
        select file_name from raw.load_manifest as manifest
        where rows_rejected <> (
            select count(*) from raw.load_rejects as rejects where rejects.load_id = manifest.load_id)
        """
    ).fetchall()
    assert mismatched == []


# --- schema ------------------------------------------------------------------------------------


def test_ensure_raw_schema_creates_every_table_empty(con):
    ensure_raw_schema(con)
    ensure_raw_schema(con)  # idempotent
    for table in tables():
        assert con.execute(f"select count(*) from {table.qualified_raw_name}").fetchone() == (0,)
    for name in ("load_manifest", "load_rejects", "load_reconciliation"):
        con.execute(f"select * from raw.{name}")


def test_empty_landing_folder_still_creates_raw_tables(con, landing):
    report = load(con, landing)
    assert report.files == []
    assert con.execute("select count(*) from raw.shop__orders").fetchone() == (0,)


# --- CSV field counts: the trailing-empty-field trap ---------------------------------------------


def test_wrong_number_of_fields_is_rejected_with_line_never_shifted(con, landing, drop):
    drop(
        "shop/orders/o.csv",
        f"{ORDERS_HEADER}\n"
        "o1,a@x.com,2024-01-01T10:00:00Z,USD,10.00,12.00\n"  # 2 good
        "o2,b@x.com,2024-01-01T10:00:00Z,USD,10.00,12.00,\n"  # 3 trailing empty field
        "o3,c@x.com,2024-01-01T10:00:00Z,USD,10.00\n"  # 4 too few
        "o4,d@x.com,2024-01-01T10:00:00Z,USD,10.00,12.00,7\n"  # 5 too many
        "o5,e@x.com,2024-01-01T10:00:00Z,USD,10.00,12.00,,\n"  # 6 two trailing
        "o6,f@x.com,2024-01-01T10:00:00Z,USD,10.00,12.00\n",  # 7 good
    )
    report = load(con, landing)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (6, 2, 4)
    assert raw_rows(con, "shop__orders", "order_id, total, _line_number") == [
        ("o1", "12.00", 2),
        ("o6", "12.00", 7),
    ]
    reasons = dict(rejects(con))
    assert reasons[3] == (
        "wrong number of fields: expected 6, found 7 "
        "(the line ends with an extra, empty field: a trailing comma)"
    )
    assert reasons[4] == "wrong number of fields: expected 6, found 5"
    assert reasons[5] == "wrong number of fields: expected 6, found 7"
    assert reasons[6] == "wrong number of fields: expected 6, found 8"
    assert_balanced(con)


def test_quoted_fields_with_commas_quotes_and_newlines(con, landing, drop):
    drop(
        "shop/orders/q.csv",
        f"{ORDERS_HEADER},note\n"
        '"o1","a@x.com",2024-01-01,USD,"1.00","2.00","a, b"\n'  # 2
        'o2,b@x.com,2024-01-01,USD,1,2,"he said ""hi"""\n'  # 3
        'o3,c@x.com,2024-01-01,USD,1,2,"first\nsecond\nthird"\n'  # 4-6
        'o4,d@x.com,2024-01-01,USD,1,2,"x",\n'  # 7 trailing field after a quoted one
        'o5,e@x.com,2024-01-01,USD,1,2,"multi\nline",extra\n'  # 8-9 too many
        'o6,f@x.com,2024-01-01,USD,1,2,""\n'  # 10 quoted empty = NULL
        'o7,g@x.com,2024-01-01,USD,1,2,ab"c\n'  # 11 malformed quoting
        'o8,h@x.com,2024-01-01,USD,1,2,ok"\n',  # 12 a stray quote: swallows the rest
    )
    load(con, landing)
    assert raw_rows(con, "shop__orders", "order_id, _extra_columns, _line_number") == [
        ("o1", '{"note":"a, b"}', 2),
        ("o2", '{"note":"he said \\"hi\\""}', 3),
        ("o3", '{"note":"first\\nsecond\\nthird"}', 4),
        ("o6", '{"note":null}', 10),
    ]
    reasons = dict(rejects(con))
    assert set(reasons) == {7, 8, 11}
    assert reasons[7].startswith("wrong number of fields: expected 7, found 8 (the line ends")
    assert reasons[8] == "wrong number of fields: expected 7, found 8"
    assert reasons[11].startswith("malformed quoting")
    assert_balanced(con)


def test_unterminated_quote_rejects_one_record_holding_the_rest(con, landing, drop):
    drop(
        "shop/orders/u.csv",
        f"{ORDERS_HEADER}\no1,a@x.com,2024-01-01,USD,1,2\n"
        'o2,"b@x.com,2024-01-01,USD,1,2\no3,c@x.com,2024-01-01,USD,1,2\n',
    )
    report = load(con, landing)
    assert (report.rows_loaded, report.rows_rejected) == (1, 1)
    ((line, reason, raw_record),) = con.execute(
        "select line_number, reason, raw_record from raw.load_rejects"
    ).fetchall()
    assert line == 3 and reason.startswith("malformed quoting")
    assert "o3" in raw_record  # nothing lost: the swallowed line is in the reject


@pytest.mark.parametrize("line_break", ["\n", "\r\n", "\r"])
def test_line_breaks_blank_lines_and_bom(con, landing, drop, line_break):
    text = (
        "\ufeff" + ORDERS_HEADER + "\n"
        "o1,a@x.com,2024-01-01,USD,1,2\n"  # 2
        "\n"  # 3 blank: not a record
        'o2,b@x.com,2024-01-01,USD,1,"2\n3"\n'  # 4-5 rejected: "2\n3" is no decimal
        "o3,c@x.com,2024-01-01,USD,1,2\n"  # 6
        "o4,d@x.com,2024-01-01,USD,1,2,\n"  # 7 trailing empty field
        "o5,e@x.com,2024-01-01,USD,1,2"  # 8 no final line break
    )
    drop("shop/orders/w.csv", text.replace("\n", line_break).encode())
    load(con, landing)
    assert raw_rows(con, "shop__orders", "order_id, total, _line_number") == [
        ("o1", "2", 2),
        ("o3", "2", 6),
        ("o5", "2", 8),
    ]
    assert [line for line, _ in rejects(con)] == [4, 7]
    assert_balanced(con)


def test_mixed_line_breaks_with_a_lone_carriage_return(con, landing, drop):
    drop(
        "shop/orders/m.csv",
        f"{ORDERS_HEADER}\r\no1,a@x.com,2024-01-01,USD,1,2\ro2,b@x.com,2024-01-01,USD,1,2\n"
        "o3,c@x.com,2024-01-01,USD,1,2\r\n".encode(),
    )
    load(con, landing)
    assert raw_rows(con, "shop__orders", "order_id, _line_number") == [
        ("o1", 2),
        ("o2", 3),
        ("o3", 4),
    ]


# --- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relative", "header", "good", "bad", "column", "described"),
    [
        (
            "crm/feedback/f.csv",
            "feedback_id,submitted_at,feedback_type,score",
            "f1,2024-01-01,nps,10",
            "f2,2024-01-01,nps,1.5",
            "score",
            "an integer",
        ),
        (
            "shop/orders/o.csv",
            ORDERS_HEADER,
            "o1,a@x.com,2024-01-01,USD,-1.5,.5",
            'o2,a@x.com,2024-01-01,USD,1,"1,50"',
            "total",
            "a decimal number",
        ),
        (
            "email/events/e.csv",
            "event_id,campaign_id,email,event_type,occurred_at",
            "e1,c1,a@x.com,sent,2024-01-01T10:00:00+02:00",
            "e2,c1,a@x.com,sent,yesterday",
            "occurred_at",
            "an ISO 8601 timestamp",
        ),
        (
            "marketing/ad_spend/a.csv",
            "spend_date,channel,spend,currency",
            "2024-01-01,google,1.5,USD",
            "2024-01-01T00:00:00,google,1.5,USD",
            "spend_date",
            "a date (YYYY-MM-DD)",
        ),
        (
            "crm/contacts/c.csv",
            "contact_id,email,created_at,marketing_opt_in",
            "c1,a@x.com,2024-01-01,YES",
            "c2,b@x.com,2024-01-01,maybe",
            "marketing_opt_in",
            "a boolean",
        ),
    ],
)
def test_unparseable_value_per_type(
    con, landing, drop, relative, header, good, bad, column, described
):
    drop(relative, f"{header}\n{good}\n{bad}\n")
    report = load(con, landing)
    assert (report.rows_loaded, report.rows_rejected) == (1, 1)
    ((line, reason),) = rejects(con)
    assert line == 3
    assert reason.startswith(f"column {column}: '")
    assert described in reason
    assert_balanced(con)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("12", True),
        ("-3", True),
        (" 7 ", True),
        ("1.5", False),
        ("1e3", False),
        ("99999999999999999999", False),
        ("abc", False),
    ],
)
def test_integer_values(con, landing, drop, value, ok):
    drop(
        "crm/feedback/f.csv",
        f'feedback_id,submitted_at,feedback_type,score\nf1,2024-01-01,nps,"{value}"\n',
    )
    report = load(con, landing)
    assert report.rows_loaded == (1 if ok else 0)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2024-01-01T10:00:00Z", True),
        ("2024-01-01T10:00:00+02:00", True),
        ("2024-01-01 10:00:00", True),
        ("2024-01-01T10:00:00.123456", True),
        ("2024-01-01", True),
        ("2999-01-01T00:00:00Z", True),  # future: staging's problem
        ("2024-02-30T10:00:00", False),
        ("infinity", False),
        ("01/02/2024", False),
        ("2024-01-01T25:00:00", False),
    ],
)
def test_timestamp_values(con, landing, drop, value, ok):
    drop("email/campaigns/c.csv", f"campaign_id,sent_at\nc1,{value}\n")
    report = load(con, landing)
    assert report.rows_loaded == (1 if ok else 0)


@pytest.mark.parametrize("value", ["true", "FALSE", "1", "0", "Yes", "no"])
def test_boolean_spellings_load(con, landing, drop, value):
    drop(
        "shop/customers/c.csv",
        f"shop_customer_id,email,created_at,accepts_marketing\nc1,a@x.com,2024-01-01,{value}\n",
    )
    assert load(con, landing).rows_loaded == 1
    assert raw_rows(con, "shop__customers", "accepts_marketing") == [(value,)]


def test_required_value_null_or_empty_is_rejected(con, landing, drop):
    drop(
        "shop/orders/r.csv",
        f"{ORDERS_HEADER}\n"
        "o1,,2024-01-01,USD,1,2\n"  # empty
        'o2," ",2024-01-01,USD,1,2\n'  # blank
        "o3,c@x.com,2024-01-01,USD,,x\n",  # two problems
    )
    load(con, landing)
    assert rejects(con) == [
        (2, "column email: required value is missing"),
        (3, "column email: required value is missing"),
        (
            4,
            "column subtotal: required value is missing; column total: 'x' is not a decimal "
            "number (with '.' as separator, at most 14 digits before it)",
        ),
    ]
    assert_balanced(con)


def test_dirty_but_parseable_rows_all_load(con, landing, drop):
    """Exact duplicates, versions of a key, invalid emails, unknown currencies, negative values,
    unknown references and future timestamps are staging's business: raw keeps them all."""
    row = "o1,a@x.com,2024-01-01T10:00:00Z,USD,10.00,12.00"
    drop(
        "shop/orders/dirty.csv",
        f"{ORDERS_HEADER},updated_at\n"
        f"{row},2024-01-01\n{row},2024-01-01\n"  # exact duplicate
        f"{row},2024-02-01\n"  # another version of o1
        "o2,not-an-email,2024-01-01,XXX,-5,-5,\n"  # invalid email, unknown currency, negative
        "o3,b@x.com,2999-12-31T00:00:00Z,USD,1,1,\n",  # future
    )
    drop(
        "shop/order_lines/l.csv",
        "order_line_id,order_id,quantity,unit_price\nl1,no-such-order,-2,-1.50\n",
    )
    drop(
        f"{EVENTS}/e.csv",
        "event_id,campaign_id,email,event_type,occurred_at\ne1,no-such-campaign,x@,zapped,2024-01-01\n",
    )
    report = load(con, landing)
    assert report.rows_rejected == 0
    assert report.rows_loaded == 7
    assert [r[0] for r in raw_rows(con, "shop__orders", "order_id")] == [
        "o1",
        "o1",
        "o1",
        "o2",
        "o3",
    ]
    assert raw_rows(con, "shop__order_lines", "order_id, quantity, unit_price") == [
        ("no-such-order", "-2", "-1.50")
    ]
    assert_balanced(con)


# --- columns -----------------------------------------------------------------------------------


def test_column_order_extra_and_missing_optional_columns(con, landing, drop):
    drop(
        "shop/orders/cols.csv",
        "total,loyalty_tier,order_id,email,ordered_at,subtotal,currency\n"
        "12.00,gold,o1,a@x.com,2024-01-01,10.00,USD\n",
    )
    load(con, landing)
    ((order_id, subtotal, total, discount, extras),) = raw_rows(
        con, "shop__orders", "order_id, subtotal, total, discount_total, _extra_columns"
    )
    assert (order_id, subtotal, total, discount) == ("o1", "10.00", "12.00", None)
    assert json.loads(extras) == {"loyalty_tier": "gold"}


def test_no_extra_columns_is_null(con, landing, drop):
    drop("shop/orders/o.csv", f"{ORDERS_HEADER}\no1,a@x.com,2024-01-01,USD,1,2\n")
    load(con, landing)
    assert raw_rows(con, "shop__orders", "_extra_columns") == [(None,)]


def test_missing_required_column_rejects_the_file_whole_others_still_load(con, landing, drop):
    drop(
        "shop/orders/bad.csv",
        "order_id,ordered_at,currency,subtotal,total\no1,2024-01-01,USD,1,2\no2,2024-01-01,USD,1,2\n",
    )
    drop("shop/orders/good.csv", f"{ORDERS_HEADER}\no3,a@x.com,2024-01-01,USD,1,2\n")
    report = load(con, landing)
    by_name = {result.file_name: result for result in report.files}
    bad = by_name["shop/orders/bad.csv"]
    assert (bad.status, bad.rows_read, bad.rows_loaded, bad.rows_rejected) == ("rejected", 2, 0, 2)
    assert bad.reason == "missing required column(s): email"
    assert rejects(con, "shop/orders/bad.csv") == [
        (2, "missing required column(s): email"),
        (3, "missing required column(s): email"),
    ]
    assert by_name["shop/orders/good.csv"].status == "loaded"
    assert raw_rows(con, "shop__orders", "order_id") == [("o3",)]
    assert con.execute(
        "select status, reason from raw.load_manifest where file_name = 'shop/orders/bad.csv'"
    ).fetchall() == [("rejected", "missing required column(s): email")]
    assert report.files_rejected == 1
    assert_balanced(con)


def test_duplicate_header_rejects_the_file(con, landing, drop):
    drop("shop/orders/d.csv", f"{ORDERS_HEADER},email\no1,a@x.com,2024-01-01,USD,1,2,b@x.com\n")
    report = load(con, landing)
    assert report.files[0].status == "rejected"
    assert report.files[0].reason == "duplicate column(s) in header: email"
    assert_balanced(con)


# --- empty, header-only, names -------------------------------------------------------------------


def test_empty_and_header_only_files(con, landing, drop):
    drop("shop/orders/empty.csv", "")
    drop("shop/orders/blank.csv", "\n\n")
    drop("shop/orders/header.csv", f"{ORDERS_HEADER}\n")
    drop("shop/orders/empty2.jsonl", "")
    report = load(con, landing)
    status = {result.file_name: (result.status, result.rows_read) for result in report.files}
    assert status == {
        "shop/orders/empty.csv": ("empty", 0),
        "shop/orders/blank.csv": ("rejected", 0),
        "shop/orders/header.csv": ("loaded", 0),
        "shop/orders/empty2.jsonl": ("empty", 0),
    }
    assert con.execute("select count(*) from raw.load_manifest").fetchone() == (4,)
    assert report.files[1].reason == "the file has no header row (only blank lines)"
    assert_balanced(con)


@pytest.mark.parametrize(
    "name",
    ['orders "Q1" été.csv', "it's here.csv", "orders [1] *?.csv", "ünïcødé 名前.csv"],
)
def test_file_names_are_data(con, landing, drop, name):
    drop(f"shop/orders/{name}", f"{ORDERS_HEADER}\no1,a@x.com,2024-01-01,USD,1,2\no2,,x,USD,1,2\n")
    drop("shop/orders/orders1 .csv", f"{ORDERS_HEADER}\nzz,a@x.com,2024-01-01,USD,1,2\n")
    load(con, landing)
    relative = f"shop/orders/{name}"
    assert con.execute(
        "select order_id, _line_number from raw.shop__orders where _file_name = ?", [relative]
    ).fetchall() == [("o1", 2)]
    assert [line for line, _ in rejects(con, relative)] == [3]
    assert con.execute(
        "select status from raw.load_manifest where file_name = ?", [relative]
    ).fetchall() == [("loaded",)]
    assert_balanced(con)


# --- JSONL and parquet ---------------------------------------------------------------------------


def test_jsonl_bad_lines_are_rejected_with_their_line(con, landing, drop):
    good = {
        "event_id": "e1",
        "campaign_id": "c1",
        "email": "a@x.com",
        "event_type": "sent",
        "occurred_at": "2024-01-01T10:00:00Z",
        "device": {"os": "ios"},
    }
    drop(
        f"{EVENTS}/e.jsonl",
        json.dumps(good) + "\n"  # 1
        "{not json\n"  # 2
        "\n"  # 3 blank: not a record
        '["an", "array"]\n'  # 4
        + json.dumps({**good, "event_id": "e2", "email": None})
        + "\n"  # 5 required null
        + json.dumps({**good, "event_id": "e3", "occurred_at": "soon"})
        + "\n"  # 6
        + json.dumps({k: v for k, v in good.items() if k != "device"} | {"event_id": 4}),  # 7
    )
    report = load(con, landing)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (6, 2, 4)
    assert raw_rows(con, "email__events", "event_id, _extra_columns, _line_number") == [
        ("e1", '{"device":"{\\"os\\":\\"ios\\"}"}', 1),
        ("4", '{"device":null}', 7),
    ]
    reasons = dict(rejects(con))
    assert reasons[2] == "invalid JSON: the line is not a JSON value"
    assert reasons[4] == "invalid JSON line: expected an object, found array"
    assert reasons[5] == "column email: required value is missing"
    assert reasons[6] == "column occurred_at: 'soon' is not an ISO 8601 timestamp"
    assert_balanced(con)


def test_jsonl_missing_required_key_everywhere_rejects_file(con, landing, drop):
    drop(f"{EVENTS}/e.jsonl", '{"event_id": "e1", "campaign_id": "c1", "email": "a@x.com"}\n')
    report = load(con, landing)
    assert report.files[0].status == "rejected"
    assert report.files[0].reason == "missing required column(s): event_type, occurred_at"
    assert rejects(con) == [(1, "missing required column(s): event_type, occurred_at")]


def test_parquet_native_types_become_text(con, landing):
    path = landing / "shop/orders/o.parquet"
    path.parent.mkdir(parents=True)
    table = pa.table(
        {
            "order_id": ["o1", "o2", "o3"],
            "email": ["a@x.com", "b@x.com", None],
            "ordered_at": pa.array(
                [1704103200000000, 1704103200000000, 1704103200000000], pa.timestamp("us", "UTC")
            ),
            "currency": ["USD", "EUR", "USD"],
            "subtotal": pa.array([10.5, 1.0, 2.0]),
            "total": ["12.00", "oops", "1"],
            "gift": [True, False, None],
        }
    )
    pq.write_table(table, path)
    report = load(con, landing)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (3, 1, 2)
    assert raw_rows(
        con, "shop__orders", "order_id, ordered_at, subtotal, _extra_columns, _line_number"
    ) == [("o1", "2024-01-01 10:00:00+00", "10.5", '{"gift":"true"}', 1)]
    reasons = dict(rejects(con))
    assert (
        reasons[2]
        == "column total: 'oops' is not a decimal number (with '.' as separator, at most 14 digits before it)"
    )
    assert reasons[3] == "column email: required value is missing"
    raw_record = con.execute(
        "select raw_record from raw.load_rejects where line_number = 2"
    ).fetchone()[0]
    assert json.loads(raw_record)["total"] == "oops"
    assert_balanced(con)


def test_corrupt_parquet_is_rejected_not_raised(con, landing, drop):
    drop("shop/orders/broken.parquet", b"PAR1 this is not parquet")
    drop("shop/orders/ok.csv", f"{ORDERS_HEADER}\no1,a@x.com,2024-01-01,USD,1,2\n")
    report = load(con, landing)
    by_name = {result.file_name: result for result in report.files}
    assert by_name["shop/orders/broken.parquet"].status == "rejected"
    assert by_name["shop/orders/broken.parquet"].reason.startswith(
        "unreadable, rows unknown: could not read the file as parquet"
    )
    assert by_name["shop/orders/ok.csv"].rows_loaded == 1
    assert_balanced(con)


# --- idempotence, duplicates, order ------------------------------------------------------------------


def test_second_load_loads_nothing_and_same_content_elsewhere_is_duplicate(con, landing, drop):
    content = f"{ORDERS_HEADER}\no1,a@x.com,2024-01-01,USD,1,2\no2,,2024-01-01,USD,1,2\n"
    drop("shop/orders/a.csv", content)
    first = load(con, landing)
    assert first.files_loaded == 1
    second = load(con, landing)
    assert (second.files_loaded, second.files_skipped, second.rows_read) == (0, 1, 0)
    drop("shop/orders/copy of a.csv", content)
    third = load(con, landing)
    (copy,) = [result for result in third.files if result.status != "skipped"]
    assert (copy.status, copy.rows_read, copy.rows_loaded) == ("duplicate", 0, 0)
    assert copy.reason.startswith("same content as shop/orders/a.csv (load_id 1)")
    assert con.execute("select count(*) from raw.shop__orders").fetchone() == (1,)
    assert con.execute("select count(*) from raw.load_rejects").fetchone() == (1,)
    assert con.execute("select status from raw.load_manifest order by load_id").fetchall() == [
        ("loaded",),
        ("duplicate",),
    ]
    assert load(con, landing).files_skipped == 2


def test_load_order_is_modification_time_then_path(con, landing, drop):
    drop("shop/orders/z.csv", f"{ORDERS_HEADER}\no1,a@x.com,2024-01-01,USD,1,2\n")
    drop("shop/orders/a.csv", f"{ORDERS_HEADER}\no1,b@x.com,2024-01-01,USD,1,2\n")
    load(con, landing)
    assert con.execute("select file_name from raw.load_manifest order by load_id").fetchall() == [
        ("shop/orders/z.csv",),
        ("shop/orders/a.csv",),
    ]


def test_sources_filter_and_per_source_totals(con, landing, drop):
    drop("shop/orders/o.csv", f"{ORDERS_HEADER}\no1,a@x.com,2024-01-01,USD,1,2\n")
    drop(
        "crm/feedback/f.csv", "feedback_id,submitted_at,feedback_type,score\nf1,2024-01-01,nps,x\n"
    )
    report = load(con, landing, sources=["shop"])
    assert [result.source for result in report.files] == ["shop"]
    assert con.execute("select count(*) from raw.crm__feedback").fetchone() == (0,)
    report = load(con, landing, sources=["crm"])
    totals = report.by_source()
    assert set(totals) == {"crm"}
    assert (totals["crm"].rows_read, totals["crm"].rows_rejected) == (1, 1)
    with pytest.raises(ValueError, match="unknown source"):
        load(con, landing, sources=["nope"])


def test_unknown_folders_and_extensions_are_warned_not_loaded(con, landing, drop):
    drop("shop/orders/o.csv", f"{ORDERS_HEADER}\no1,a@x.com,2024-01-01,USD,1,2\n")
    drop("shop/orders/readme.txt", "hello")
    drop("shop/orders/.partial.csv", "garbage")
    drop("shop/unknown_table/x.csv", "a\n1\n")
    drop("erp/orders/x.csv", "a\n1\n")
    drop("stray.csv", "a\n1\n")
    messages: list[str] = []
    report = load_landing(con, landing, progress=messages.append)
    assert [result.file_name for result in report.files] == ["shop/orders/o.csv"]
    assert sorted(report.warnings) == [
        "ignored file outside any table folder: stray.csv",
        "ignored file with unknown extension: shop/orders/readme.txt "
        "(expected .csv, .jsonl, .parquet, .csv.gz, .jsonl.gz)",
        "ignored unknown source folder: erp/",
        "ignored unknown table folder: shop/unknown_table/",
    ]
    assert any("shop/orders/o.csv: loaded, 1 loaded, 0 rejected" in m for m in messages)


def test_load_file_directly(con, landing, drop):
    path = drop("shop/orders/one.csv", f"{ORDERS_HEADER}\no1,a@x.com,2024-01-01,USD,1,2\n")
    result = load_file(con, path, landing)
    assert (result.status, result.rows_loaded, result.file_name) == (
        "loaded",
        1,
        "shop/orders/one.csv",
    )


# --- a failure mid-load leaves nothing behind ----------------------------------------------------


def test_failure_mid_file_rolls_back_everything(con, landing, drop):
    ensure_raw_schema(con)
    # A real constraint the insert violates: raw.shop__orders only accepts short order ids.
    con.execute("drop table raw.shop__orders")
    ddl = raw_table_ddl(get_table("shop", "orders")).replace(
        '"order_id" VARCHAR', '"order_id" VARCHAR check (length("order_id") < 3)'
    )
    con.execute(ddl)
    drop(
        "shop/orders/boom.csv",
        f"{ORDERS_HEADER}\no1,a@x.com,2024-01-01,USD,1,2\nbad,,2024-01-01,USD,1,2\n"
        "o_long_id,a@x.com,2024-01-01,USD,1,2\n",
    )
    drop(
        "crm/feedback/f.csv", "feedback_id,submitted_at,feedback_type,score\nf1,2024-01-01,nps,9\n"
    )
    report = load(con, landing)
    by_name = {result.file_name: result for result in report.files}
    failed = by_name["shop/orders/boom.csv"]
    assert failed.status == "failed" and "constraint" in failed.reason.lower()
    assert report.files_failed == 1
    assert con.execute("select count(*) from raw.shop__orders").fetchone() == (0,)
    assert con.execute(
        "select count(*) from raw.load_rejects where file_name = 'shop/orders/boom.csv'"
    ).fetchone() == (0,)
    assert con.execute(
        "select count(*) from raw.load_manifest where file_name = 'shop/orders/boom.csv'"
    ).fetchone() == (0,)
    assert by_name["crm/feedback/f.csv"].rows_loaded == 1  # the other file still loads
    with pytest.raises(RuntimeError, match="boom.csv"):
        report.raise_for_failures()
    # nothing recorded, so once the problem is fixed the file loads
    con.execute("drop table raw.shop__orders")
    ensure_raw_schema(con)
    retry = load(con, landing)
    assert [(r.file_name, r.status) for r in retry.files if r.status != "skipped"] == [
        ("shop/orders/boom.csv", "loaded")
    ]
    assert_balanced(con)


def test_loaded_at_and_timezone(con, landing, drop):
    drop("shop/orders/o.csv", f"{ORDERS_HEADER}\no1,a@x.com,2024-01-01,USD,1,2\n")
    load(con, landing)
    assert con.execute("select current_setting('TimeZone')").fetchone() == ("UTC",)
    ((load_id, loaded_at),) = raw_rows(con, "shop__orders", "_load_id, _loaded_at")
    assert load_id == 1 and loaded_at is not None


def test_file_hash_and_size_in_manifest(con, landing, drop):
    content = f"{ORDERS_HEADER}\no1,a@x.com,2024-01-01,USD,1,2\n".encode()
    drop("shop/orders/o.csv", content)
    load(con, landing)
    assert con.execute(
        "select file_hash, file_size_bytes, file_format from raw.load_manifest"
    ).fetchone() == (hashlib.sha256(content).hexdigest(), len(content), "csv")
