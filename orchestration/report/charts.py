"""The report's charts: one function per question, each returning a ``Chart``.

Every chart has a title, axis titles with units and the as-of date. A chart whose data is missing
or empty returns a ``Chart`` without figure and with the reason, shown in its place.
Aggregations across months pool numerators and denominators (never an average of ratios).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from orchestration.report.data import ReportData

# One palette for the whole report (colour-blind safe: Okabe-Ito).
COLOURS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
LIFECYCLE_STAGES = ["awareness", "engagement", "conversion", "retention", "advocacy"]
SEGMENT_COLUMNS = ("primary_segment", "value_tier", "segment")


@dataclass(frozen=True)
class Chart:
    """A titled chart, or the reason it cannot be drawn."""

    key: str
    title: str
    figure: go.Figure | None = None
    missing: str | None = None
    # Optional HTML shown under the chart (already escaped).
    note_html: str = ""


def build_charts(data: ReportData) -> list[Chart]:
    """Every chart of the report, in page order."""
    builders: list[Callable[[ReportData], Chart]] = [
        customers_per_month,
        revenue_per_month,
        aov_per_month,
        cac_by_channel,
        conversion_by_channel,
        purchase_ladder,
        cohort_retention,
        subscription_churn,
        mrr_per_month,
        segment_sizes,
        lifecycle_funnel,
        clv_distribution,
        data_quality,
    ]
    return [builder(data) for builder in builders]


def _as_of(data: ReportData) -> str:
    return f"as of {data.as_of_date.isoformat()}" if data.as_of_date else "as-of date unknown"


def _layout(
    figure: go.Figure, data: ReportData, title: str, x_title: str, y_title: str
) -> go.Figure:
    figure.update_layout(
        title={"text": f"{title}<br><sup>{_as_of(data)}</sup>", "x": 0.02, "xanchor": "left"},
        template="plotly_white",
        colorway=COLOURS,
        height=400,
        margin={"l": 70, "r": 30, "t": 80, "b": 60},
        legend={"orientation": "h", "y": -0.22, "x": 0},
        font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12},
    )
    figure.update_xaxes(title_text=x_title)
    figure.update_yaxes(title_text=y_title)
    return figure


def _frame(data: ReportData, table: str, columns: tuple[str, ...]) -> tuple[pd.DataFrame, str]:
    """The table with ``columns`` and no rows missing; or an empty frame and what is missing."""
    frame = data.table(table)
    if frame is None:
        return pd.DataFrame(), f"table {table} is not in the BI file"
    absent = [column for column in columns if column not in frame.columns]
    if absent:
        return pd.DataFrame(), f"{table} has no column {', '.join(absent)}"
    if frame.empty:
        return pd.DataFrame(), f"{table} has no rows"
    return frame, ""


def _money(data: ReportData) -> str:
    return data.reporting_currency


def customers_per_month(data: ReportData) -> Chart:
    title = "New and active customers per month"
    frame, missing = _frame(
        data, "marts.kpi_monthly", ("month", "new_customers", "active_customers")
    )
    if missing:
        return Chart("customers", title, missing=missing)
    frame = frame.sort_values("month")
    figure = go.Figure()
    figure.add_scatter(
        x=frame["month"], y=frame["active_customers"], name="active customers", mode="lines+markers"
    )
    figure.add_scatter(
        x=frame["month"], y=frame["new_customers"], name="new customers", mode="lines+markers"
    )
    return Chart("customers", title, _layout(figure, data, title, "Month", "Customers"))


def revenue_per_month(data: ReportData) -> Chart:
    title = "Net revenue per month"
    frame, missing = _frame(data, "marts.kpi_monthly", ("month", "net_revenue"))
    if missing:
        return Chart("revenue", title, missing=missing)
    frame = frame.sort_values("month")
    figure = go.Figure(
        go.Bar(
            x=frame["month"], y=frame["net_revenue"], name="net revenue", marker_color=COLOURS[0]
        )
    )
    return Chart(
        "revenue", title, _layout(figure, data, title, "Month", f"Net revenue ({_money(data)})")
    )


def aov_per_month(data: ReportData) -> Chart:
    title = "Average order value (AOV) per month"
    frame, missing = _frame(data, "marts.kpi_monthly", ("month", "aov"))
    if missing:
        return Chart("aov", title, missing=missing)
    frame = frame.sort_values("month")
    figure = go.Figure(
        go.Scatter(
            x=frame["month"],
            y=frame["aov"],
            name="AOV",
            mode="lines+markers",
            line_color=COLOURS[2],
        )
    )
    return Chart(
        "aov", title, _layout(figure, data, title, "Month", f"AOV ({_money(data)} per order)")
    )


def _channel_totals(data: ReportData) -> tuple[pd.DataFrame, str]:
    frame, missing = _frame(data, "marts.kpi_by_channel", ("channel", "spend", "new_customers"))
    if missing:
        return frame, missing
    columns = ["spend", "new_customers"] + (["clicks"] if "clicks" in frame.columns else [])
    totals = frame.groupby("channel", dropna=False)[columns].sum().reset_index()
    return totals, ""


def cac_by_channel(data: ReportData) -> Chart:
    title = "Customer acquisition cost (CAC) by channel, all months"
    totals, missing = _channel_totals(data)
    if missing:
        return Chart("cac", title, missing=missing)
    # Pooled: total spend / total new customers of the channel (not a mean of monthly CACs).
    totals = totals[(totals["new_customers"] > 0) & (totals["spend"] > 0)].copy()
    if totals.empty:
        return Chart("cac", title, missing="no channel has both spend and new customers")
    totals["cac"] = totals["spend"] / totals["new_customers"]
    totals = totals.sort_values("cac", ascending=False)
    figure = go.Figure(
        go.Bar(
            x=totals["channel"],
            y=totals["cac"],
            marker_color=COLOURS[3],
            name="CAC",
            text=[f"{value:,.2f}" for value in totals["cac"]],
            textposition="outside",
            customdata=np.stack([totals["spend"], totals["new_customers"]], axis=-1),
            hovertemplate="%{x}<br>CAC %{y:,.2f}<br>spend %{customdata[0]:,.0f}"
            "<br>new customers %{customdata[1]:,}<extra></extra>",
        )
    )
    figure.update_yaxes(rangemode="tozero")
    return Chart(
        "cac",
        title,
        _layout(
            figure, data, title, "Acquisition channel", f"CAC ({_money(data)} per new customer)"
        ),
    )


def conversion_by_channel(data: ReportData) -> Chart:
    title = "Conversion of ad clicks by channel, all months"
    totals, missing = _channel_totals(data)
    if missing:
        return Chart("conversion", title, missing=missing)
    if "clicks" not in totals.columns:
        return Chart("conversion", title, missing="marts.kpi_by_channel has no column clicks")
    totals = totals[totals["clicks"] > 0].copy()
    if totals.empty:
        return Chart("conversion", title, missing="no channel has ad clicks")
    totals["conversion"] = 100 * totals["new_customers"] / totals["clicks"]
    totals = totals.sort_values("conversion", ascending=False)
    figure = go.Figure(
        go.Bar(
            x=totals["channel"],
            y=totals["conversion"],
            marker_color=COLOURS[4],
            name="conversion",
            text=[f"{value:.2f} %" for value in totals["conversion"]],
            textposition="outside",
        )
    )
    figure.update_yaxes(rangemode="tozero")
    return Chart(
        "conversion",
        title,
        _layout(figure, data, title, "Acquisition channel", "Conversion (% of ad clicks)"),
    )


def cohort_retention(data: ReportData) -> Chart:
    title = "Cohort retention: share of each acquisition cohort active in later months"
    frame, missing = _frame(
        data,
        "marts.cohort_retention",
        ("cohort_month", "months_since_acquisition", "retention_rate"),
    )
    if missing:
        return Chart("retention", title, missing=missing)
    grid = frame.pivot_table(
        index="cohort_month",
        columns="months_since_acquisition",
        values="retention_rate",
        aggfunc="first",
    ).sort_index()
    labels = [pd.Timestamp(value).strftime("%Y-%m") for value in grid.index]
    values = grid.to_numpy(dtype=float) * 100
    figure = go.Figure(
        go.Heatmap(
            z=values,
            x=[int(column) for column in grid.columns],
            y=labels,
            colorscale="Blues",
            zmin=0,
            zmax=float(np.nanmax(values[:, 1:]))
            if values.shape[1] > 1 and np.isfinite(values[:, 1:]).any()
            else 100,
            colorbar={"title": {"text": "Active (%)"}},
            hovertemplate="cohort %{y}<br>month %{x}<br>%{z:.1f} % active<extra></extra>",
        )
    )
    figure = _layout(figure, data, title, "Months since acquisition", "Acquisition month (cohort)")
    figure.update_layout(height=max(400, 18 * len(labels) + 140))
    figure.update_yaxes(autorange="reversed", type="category")
    return Chart(
        "retention",
        title,
        figure,
        note_html="Colour: % of the cohort active in that month. Month 0 is 100 % by "
        "definition, so the colour scale is set by months 1 and later.",
    )


def purchase_ladder(data: ReportData) -> Chart:
    title = "Purchase ladder: customers by orders placed"
    frame, missing = _frame(
        data,
        "marts.purchase_ladder",
        ("n", "customers_with_at_least_n", "next_purchase_probability"),
    )
    if missing:
        return Chart("ladder", title, missing=missing)
    frame = frame.sort_values("n")
    figure = go.Figure()
    figure.add_bar(
        x=frame["n"],
        y=frame["customers_with_at_least_n"],
        name="customers with ≥ n orders",
        marker_color=COLOURS[0],
    )
    figure.add_scatter(
        x=frame["n"],
        y=100 * frame["next_purchase_probability"].astype(float),
        name="chance of order n + 1 (%)",
        mode="lines+markers",
        yaxis="y2",
        line_color=COLOURS[1],
    )
    figure = _layout(figure, data, title, "Orders placed (n)", "Customers with ≥ n orders")
    figure.update_layout(
        yaxis2={
            "title": {"text": "Chance of order n + 1 (%)"},
            "overlaying": "y",
            "side": "right",
            "range": [0, 100],
            "tickmode": "linear",
            "dtick": 20,
            "showgrid": False,
        }
    )
    figure.update_xaxes(dtick=1)
    return Chart("ladder", title, figure)


def subscription_churn(data: ReportData) -> Chart:
    title = "Subscription and subscriber churn per month"
    frame, missing = _frame(
        data,
        "marts.subscription_metrics_monthly",
        ("month", "subscription_churn_rate", "subscriber_churn_rate"),
    )
    if missing:
        return Chart("churn", title, missing=missing)
    frame = frame.sort_values("month")
    figure = go.Figure()
    figure.add_scatter(
        x=frame["month"],
        y=100 * frame["subscription_churn_rate"].astype(float),
        name="subscription churn",
        mode="lines+markers",
    )
    figure.add_scatter(
        x=frame["month"],
        y=100 * frame["subscriber_churn_rate"].astype(float),
        name="subscriber churn",
        mode="lines+markers",
        # Dashed and hollow: where every subscriber has one subscription the lines coincide.
        line={"dash": "dash"},
        marker={"symbol": "circle-open", "size": 9},
    )
    figure.update_yaxes(rangemode="tozero")
    note = (
        "Subscription churn: cancelled subscriptions / active at the month start. Subscriber "
        "churn: subscribers who left / active subscribers at the month start."
    )
    return Chart(
        "churn",
        title,
        _layout(figure, data, title, "Month", "Monthly churn (%)"),
        note_html=note,
    )


def mrr_per_month(data: ReportData) -> Chart:
    title = "Monthly recurring revenue (MRR)"
    frame, missing = _frame(data, "marts.subscription_metrics_monthly", ("month", "mrr"))
    if missing:
        return Chart("mrr", title, missing=missing)
    frame = frame.sort_values("month")
    figure = go.Figure(
        go.Scatter(
            x=frame["month"],
            y=frame["mrr"],
            name="MRR",
            fill="tozeroy",
            mode="lines",
            line_color=COLOURS[2],
        )
    )
    return Chart(
        "mrr", title, _layout(figure, data, title, "Month", f"MRR ({_money(data)} per month)")
    )


def segment_sizes(data: ReportData) -> Chart:
    title = "Customer segments"
    frame = data.table("marts.customer_segments")
    if frame is None:
        return Chart(
            "segments", title, missing="table marts.customer_segments is not in the BI file"
        )
    column = next((name for name in SEGMENT_COLUMNS if name in frame.columns), None)
    if column is None:
        return Chart(
            "segments",
            title,
            missing=f"marts.customer_segments has none of {', '.join(SEGMENT_COLUMNS)}",
        )
    if frame.empty:
        return Chart("segments", title, missing="marts.customer_segments has no rows")
    counts = frame[column].fillna("(none)").value_counts().sort_values()
    figure = go.Figure(
        go.Bar(
            x=counts.to_numpy(),
            y=counts.index.astype(str),
            orientation="h",
            marker_color=COLOURS[5],
            text=[f"{value:,}" for value in counts.to_numpy()],
            textposition="outside",
            name="customers",
        )
    )
    figure = _layout(figure, data, f"{title} ({column})", "Customers", "Segment")
    # Room for the count printed after the longest bar.
    figure.update_xaxes(range=[0, float(counts.max()) * 1.15])
    return Chart("segments", title, figure)


def lifecycle_funnel(data: ReportData) -> Chart:
    title = "Lifecycle funnel: customers reaching each stage"
    frame = data.table("marts.customer_segments")
    if frame is None or frame.empty:
        return Chart("funnel", title, missing="marts.customer_segments is missing or empty")
    if "lifecycle_stage" in frame.columns:
        rank = {stage: index for index, stage in enumerate(LIFECYCLE_STAGES)}
        ranks = frame["lifecycle_stage"].map(rank)
        stages = LIFECYCLE_STAGES
        counts = [int((ranks >= index).sum()) for index in range(len(stages))]
    elif "valid_order_count" in frame.columns:
        # Without the stage column, the same idea from the contract's stable columns.
        orders = frame["valid_order_count"].fillna(0)
        stages = ["known", "ordered once", "ordered twice or more"]
        counts = [len(frame), int((orders >= 1).sum()), int((orders >= 2).sum())]
        if "activity_status" in frame.columns:
            stages.append("repeat and active")
            counts.append(int(((orders >= 2) & (frame["activity_status"] == "active")).sum()))
    else:
        return Chart(
            "funnel",
            title,
            missing="marts.customer_segments has neither lifecycle_stage nor valid_order_count",
        )
    figure = go.Figure(
        go.Funnel(
            y=stages,
            x=counts,
            textinfo="value+percent initial",
            marker={"color": COLOURS[: len(stages)]},
        )
    )
    return Chart("funnel", title, _layout(figure, data, title, "Customers", "Lifecycle stage"))


def clv_distribution(data: ReportData) -> Chart:
    title = "Customer lifetime value: predicted vs historical"
    frame, missing = _frame(data, "marts.customer_clv", ("historical_clv", "predicted_clv"))
    if missing:
        return Chart("clv", title, missing=missing)
    historical = frame["historical_clv"].dropna().astype(float).to_numpy()
    predicted = frame["predicted_clv"].dropna().astype(float).to_numpy()
    both = np.concatenate([historical, predicted])
    if both.size == 0:
        return Chart("clv", title, missing="no customer has a CLV")
    # Common bins up to the 99th percentile, so a few very large values do not flatten the rest;
    # counted here, so the page carries 40 bars instead of every customer's value.
    upper = float(np.percentile(both, 99)) or float(both.max()) or 1.0
    edges = np.linspace(0, upper, 41)
    centres = (edges[:-1] + edges[1:]) / 2
    figure = go.Figure()
    for values, name, colour in (
        (historical, "historical CLV (to date)", COLOURS[0]),
        (predicted, "predicted CLV (next horizon)", COLOURS[1]),
    ):
        counts, _ = np.histogram(np.clip(values, 0, upper), bins=edges)
        figure.add_bar(
            x=centres,
            y=counts,
            name=name,
            marker_color=colour,
            opacity=0.65,
            width=(edges[1] - edges[0]),
        )
    figure.update_layout(barmode="overlay")
    note = (
        f"{len(historical):,} customers with a historical CLV, {len(predicted):,} with a "
        f"prediction; values above the 99th percentile ({upper:,.0f}) are in the last bar."
    )
    return Chart(
        "clv",
        title,
        _layout(figure, data, title, f"CLV ({_money(data)} per customer)", "Customers"),
        note_html=note,
    )


def data_quality(data: ReportData) -> Chart:
    title = "Data quality of this run: expectations by severity"
    frame = data.table("meta.data_quality")
    if frame is None:
        return Chart("quality", title, missing="meta.data_quality is not in the BI file")
    if frame.empty or "success" not in frame.columns:
        return Chart("quality", title, missing="no check result was recorded for this run")
    severity = frame["severity"].fillna("unknown") if "severity" in frame.columns else "unknown"
    outcome = np.where(frame["success"].fillna(False).astype(bool), "passed", "failed")
    counts = (
        pd.DataFrame({"severity": severity, "outcome": outcome})
        .value_counts()
        .rename("expectations")
        .reset_index()
    )
    figure = go.Figure()
    for name, colour in (("passed", COLOURS[2]), ("failed", COLOURS[3])):
        part = counts[counts["outcome"] == name]
        figure.add_bar(
            x=part["severity"],
            y=part["expectations"],
            name=name,
            marker_color=colour,
            text=part["expectations"],
            textposition="outside",
        )
    figure.update_layout(barmode="group")
    failed = frame[~frame["success"].fillna(False).astype(bool)]
    note = "Every expectation passed." if failed.empty else _failed_checks_html(failed)
    return Chart(
        "quality", title, _layout(figure, data, title, "Severity", "Expectations"), note_html=note
    )


def _failed_checks_html(failed: pd.DataFrame) -> str:
    from html import escape

    rows = []
    for record in failed.head(20).to_dict("records"):
        cells = [
            record.get(name)
            for name in ("severity", "suite", "expectation_type", "column_name", "unexpected_count")
        ]
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{escape('' if cell is None or cell != cell else str(cell))}</td>"
                for cell in cells
            )
            + "</tr>"
        )
    more = f"<p>… and {len(failed) - 20} more.</p>" if len(failed) > 20 else ""
    return (
        "<table><thead><tr><th>severity</th><th>suite</th><th>expectation</th><th>column</th>"
        "<th>unexpected rows</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>" + more
    )
