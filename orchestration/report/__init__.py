"""The lifecycle report: a self-contained HTML page of charts built from the published BI file.

``write_report(bi_file, path)`` is called by the publication (before anything is swapped) and by
``clm report``; it only reads the BI file, so it can run while BI tools read it too.
"""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.report.charts import Chart, build_charts
from orchestration.report.data import ReportData, load_report_data

__all__ = ["Chart", "ReportData", "build_report", "write_report"]


def build_report(bi_db_path: str | os.PathLike[str]) -> str:
    """The report page for a BI file, as HTML text (plotly.js inline)."""
    from plotly.offline import get_plotlyjs

    from orchestration.report.html import render_page

    data = load_report_data(bi_db_path)
    return render_page(data, build_charts(data), get_plotlyjs())


def write_report(bi_db_path: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """Render the report of ``bi_db_path`` into ``path`` (written, flushed, closed)."""
    html = build_report(bi_db_path)
    target = Path(path)
    with open(target, "w", encoding="utf-8") as handle:
        handle.write(html)
        handle.flush()
        os.fsync(handle.fileno())
    return target
