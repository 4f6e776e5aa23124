"""The report page: one self-contained HTML file (plotly.js inline, no network needed).

The page checks itself: a small script records any JavaScript error and, once the charts are
drawn, writes ``{"charts": n, "drawn": n, "errors": [...]}`` into ``<pre id="report-status">``.
The browser test reads that; a person never sees it.
"""

from __future__ import annotations

import json
from html import escape

from orchestration.report.charts import Chart
from orchestration.report.data import ReportData

# Runs first, so that errors raised while plotly.js loads or draws are recorded too.
_ERROR_RECORDER = """
window.clmReport = {errors: []};
window.addEventListener("error", function (event) {
  window.clmReport.errors.push(String(event.message || event.type));
});
window.addEventListener("unhandledrejection", function (event) {
  window.clmReport.errors.push("unhandled rejection: " + String(event.reason));
});
(function () {
  var original = console.error;
  console.error = function () {
    window.clmReport.errors.push(Array.prototype.join.call(arguments, " "));
    return original.apply(console, arguments);
  };
})();
"""

# Runs last: waits until every chart has its SVG, then publishes the status.
_STATUS_WRITER = """
(function () {
  var charts = document.querySelectorAll("div.clm-chart");
  var tries = 0;
  function drawn() {
    var count = 0;
    charts.forEach(function (chart) {
      // Drawn: plotly laid it out and rendered at least one SVG with content.
      var svg = chart.querySelector("svg.main-svg");
      if (chart._fullLayout && svg && svg.childElementCount > 0) { count += 1; }
    });
    return count;
  }
  function report() {
    var count = drawn();
    if (count < charts.length && tries < 100) { tries += 1; setTimeout(report, 100); return; }
    document.getElementById("report-status").textContent = JSON.stringify({
      charts: charts.length, drawn: count, errors: window.clmReport.errors
    });
  }
  window.addEventListener("load", function () { setTimeout(report, 0); });
})();
"""

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
  color: #1f2933; background: #f5f7fa; }
header { background: #102a43; color: #fff; padding: 20px 32px; }
header h1 { margin: 0 0 6px 0; font-size: 24px; }
header p { margin: 0; color: #d9e2ec; }
.facts { display: flex; flex-wrap: wrap; gap: 12px; padding: 16px 32px 0 32px; }
.fact { background: #fff; border-radius: 6px; padding: 10px 14px; min-width: 150px;
  box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.fact .label { font-size: 12px; color: #627d98; text-transform: uppercase; letter-spacing: .04em; }
.fact .value { font-size: 18px; font-weight: 600; margin-top: 2px; }
.fact.bad .value { color: #c62828; }
.fact.good .value { color: #2e7d32; }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px;
  padding: 16px 32px 32px 32px; }
section { background: #fff; border-radius: 6px; padding: 8px; box-shadow: 0 1px 2px rgba(0,0,0,.08);
  min-width: 0; }
section.wide { grid-column: 1 / -1; }
section .note { font-size: 12px; color: #486581; margin: 4px 12px 8px 12px; }
section .missing { padding: 24px; color: #8d2b0b; }
table { border-collapse: collapse; font-size: 12px; margin: 4px 12px; }
th, td { border-bottom: 1px solid #e4e7eb; padding: 3px 8px; text-align: left; }
footer { padding: 0 32px 24px 32px; font-size: 12px; color: #627d98; }
"""

# Charts that read better across the whole width.
_WIDE = {"retention"}


def render_page(data: ReportData, charts: list[Chart], plotly_js: str) -> str:
    """The whole page as one string."""
    sections = [_section(chart) for chart in charts]
    as_of = data.as_of_date.isoformat() if data.as_of_date else "unknown"
    published = data.published_at.strftime("%Y-%m-%d %H:%M UTC") if data.published_at else "unknown"
    facts = [
        ("as of", as_of, ""),
        ("currency", data.reporting_currency, ""),
        *_kpi_facts(data),
        _quality_fact(data),
        ("published", published, ""),
        ("run", (data.run_id or "unknown")[:8], ""),
    ]
    fact_html = "".join(
        f'<div class="fact {css}"><div class="label">{escape(label)}</div>'
        f'<div class="value">{escape(value)}</div></div>'
        for label, value, css in facts
    )
    pseudonymised = (
        " Personal columns are pseudonymised in this publication." if data.pseudonymised else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Customer lifecycle report, as of {escape(as_of)}</title>
<script>{_ERROR_RECORDER}</script>
<style>{_STYLE}</style>
<script type="text/javascript">{plotly_js}</script>
</head>
<body>
<header>
<h1>Customer lifecycle report</h1>
<p>Computed as of {escape(as_of)} (data after that date is ignored). Money in
{escape(data.reporting_currency)}. Built from the published BI file of run
{escape(data.run_id or "unknown")}.{escape(pseudonymised)}</p>
</header>
<div class="facts">{fact_html}</div>
<main>
{"".join(sections)}
</main>
<footer>Definitions of every KPI: docs/kpis.md and the column comments of the BI file.
Publication {escape(data.publication_id or "unknown")}.</footer>
<pre id="report-status" hidden></pre>
<script>{_STATUS_WRITER}</script>
</body>
</html>
"""


def _section(chart: Chart) -> str:
    css = "wide" if chart.key in _WIDE else ""
    if chart.figure is None:
        body = (
            f'<h3 class="missing">{escape(chart.title)}</h3>'
            f'<p class="missing">Not shown: {escape(chart.missing or "no data")}.</p>'
        )
    else:
        body = chart.figure.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"chart-{chart.key}",
            config={"displaylogo": False, "responsive": True},
        ).replace('class="plotly-graph-div"', 'class="plotly-graph-div clm-chart"', 1)
    note = f'<p class="note">{chart.note_html}</p>' if chart.note_html else ""
    return f'<section class="{css}" id="section-{chart.key}">{body}{note}</section>\n'


def _kpi_facts(data: ReportData) -> list[tuple[str, str, str]]:
    """The latest full picture: net revenue, AOV and active customers of the as-of month."""
    frame = data.table("marts.kpi_monthly")
    if frame is None or frame.empty or "month" not in frame.columns:
        return []
    latest = frame.sort_values("month").iloc[-1]
    month = str(latest["month"])[:7]
    facts = []
    if "net_revenue" in frame.columns:
        facts.append((f"net revenue {month}", _number(latest["net_revenue"], 0), ""))
    if "aov" in frame.columns:
        facts.append((f"AOV {month}", _number(latest["aov"], 2), ""))
    if "active_customers" in frame.columns:
        facts.append((f"active customers {month}", _number(latest["active_customers"], 0), ""))
    return facts


def _quality_fact(data: ReportData) -> tuple[str, str, str]:
    frame = data.table("meta.data_quality")
    if frame is None or frame.empty or "success" not in frame.columns:
        return ("data quality", "no results", "")
    failed = int((~frame["success"].fillna(False).astype(bool)).sum())
    if failed == 0:
        return ("data quality", f"{len(frame)} checks passed", "good")
    return ("data quality", f"{failed} of {len(frame)} checks failed", "bad")


def _number(value: object, decimals: int) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "–"
    if number != number:
        return "–"
    return f"{number:,.{decimals}f}"


def status_from_dom(dom: str) -> dict:
    """The status the page wrote into ``#report-status`` (for tests reading a dumped DOM)."""
    start = dom.find('id="report-status"')
    if start < 0:
        raise ValueError("no #report-status element in the page")
    body_start = dom.index(">", start) + 1
    body_end = dom.index("</pre>", body_start)
    text = dom[body_start:body_end].strip()
    if not text:
        raise ValueError("the page did not write its status (scripts did not finish)")
    import html as html_module

    return json.loads(html_module.unescape(text))
