"""The lifecycle report on BI files that lack tables or columns: it still renders, says what is
missing, and the page draws without a JavaScript error in headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from support.browser import chromium, dump_dom

from orchestration.publish import PublishOptions, publish_marts
from orchestration.report import build_charts, write_report
from orchestration.report.data import load_report_data
from orchestration.report.html import status_from_dom


def _publish(tmp_path: Path, statements: list[str]) -> Path:
    work, bi = tmp_path / "clm.duckdb", tmp_path / "bi.duckdb"
    con = duckdb.connect(str(work))
    try:
        con.execute("create schema marts")
        con.execute("create schema intermediate")
        con.execute(
            "create table intermediate.int_as_of_date as select date '2025-06-30' as as_of_date"
        )
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()
    options = PublishOptions(reporting_currency="EUR")
    assert publish_marts(work, bi, validation_passed=True, run_id="r", options=options).published
    return bi


KPI_MONTHLY = (
    "create table marts.kpi_monthly as select "
    "(date '2025-01-01' + to_months(range::int))::date as month, 5 + range as new_customers, "
    "20 + range as active_customers, 100.0 * range as net_revenue, "
    "case when range > 0 then 10.0 + range end as aov from range(6)"
)
# The segments mart as the models engineer may reshape it: no lifecycle_stage, no primary_segment.
RESHAPED_SEGMENTS = (
    "create table marts.customer_segments as select range as customer_key, "
    "case when range % 3 = 0 then 'high' else 'low' end as value_tier, "
    "case when range % 2 = 0 then 'active' else 'inactive' end as activity_status, "
    "range % 4 as valid_order_count from range(40)"
)


def test_missing_tables_and_reshaped_columns_are_reported_not_fatal(tmp_path: Path) -> None:
    bi = _publish(tmp_path, [KPI_MONTHLY, RESHAPED_SEGMENTS])
    data = load_report_data(bi)
    assert data.reporting_currency == "EUR"
    assert str(data.as_of_date) == "2025-06-30"
    charts = {chart.key: chart for chart in build_charts(data)}
    drawn = {key for key, chart in charts.items() if chart.figure is not None}
    assert drawn == {"customers", "revenue", "aov", "segments", "funnel"}
    assert charts["cac"].missing == "table marts.kpi_by_channel is not in the BI file"
    # The segment chart falls back to value_tier, the funnel to order counts and activity.
    assert "value_tier" in charts["segments"].figure.layout.title.text
    funnel = charts["funnel"].figure.data[0]
    assert list(funnel.y) == ["known", "ordered once", "ordered twice or more", "repeat and active"]
    # 40 customers, order counts 0,1,2,3 repeating; repeat (>= 2) and even key (active).
    assert list(funnel.x) == [40, 30, 20, 10]
    assert "EUR" in charts["revenue"].figure.layout.yaxis.title.text


@pytest.mark.skipif(chromium() is None, reason="Chromium is missing: run `make browser`")
def test_a_partial_report_draws_its_charts_without_errors(tmp_path: Path) -> None:
    bi = _publish(tmp_path, [KPI_MONTHLY, RESHAPED_SEGMENTS])
    page = write_report(bi, tmp_path / "report.html")
    html = page.read_text(encoding="utf-8")
    assert "Not shown: table marts.kpi_by_channel is not in the BI file." in html
    status = status_from_dom(dump_dom(page))
    assert status == {"charts": 5, "drawn": 5, "errors": []}


@pytest.mark.skipif(chromium() is None, reason="Chromium is missing: run `make browser`")
def test_the_page_reports_a_chart_that_fails_to_draw(tmp_path: Path) -> None:
    """The self-check can fail: a broken chart is counted as not drawn and its error recorded."""
    bi = _publish(tmp_path, [KPI_MONTHLY])
    page = write_report(bi, tmp_path / "report.html")
    html = page.read_text(encoding="utf-8")
    # plotly.js is handed an element id that does not exist: it throws, nothing is drawn.
    broken = re.sub(r'Plotly\.newPlot\(\s*"chart-aov"', 'Plotly.newPlot("chart-nowhere"', html)
    assert broken != html
    page.write_text(broken, encoding="utf-8")
    status = status_from_dom(dump_dom(page))
    assert status["charts"] == 3
    assert status["drawn"] == 2
    assert status["errors"], status
