"""Generated sections of README.md: the KPI glossary (from the marts' YAML `meta`) and the
settings table (from orchestration/settings.py), so neither is retyped by hand.

Sections sit between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`; a test fails when
the committed README differs from what this module renders.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from orchestration.settings import DBT_VARS, REPO_ROOT

README = REPO_ROOT / "README.md"

PATH_SETTINGS: tuple[tuple[str, str, str], ...] = (
    ("CLM_LANDING_DIR", "landing", "Landing folder read by the loader (LANDING.md layout)."),
    ("CLM_DUCKDB_PATH", "warehouse/clm.duckdb", "The working warehouse (DuckDB file)."),
    (
        "CLM_BI_DUCKDB_PATH",
        "warehouse/bi.duckdb",
        "Published marts for BI tools; replaced atomically after a validated run.",
    ),
    (
        "CLM_SAMPLE_SCALE",
        "s",
        "Sample-data scale generated when the landing folder is empty (xs, s, m, l).",
    ),
    ("CLM_SAMPLE_SEED", "42", "Seed of the generated sample data."),
)
ALERT_SETTINGS: tuple[tuple[str, str, str], ...] = (
    ("CLM_ALERT_LOG_PATH", "warehouse/alerts.jsonl", "JSON-lines log every alert is written to."),
    ("CLM_ALERT_WEBHOOK_URL", "", "Slack-compatible incoming webhook for alerts."),
    ("CLM_ALERT_SMTP_HOST", "", "SMTP server for alert emails (unset = no email)."),
    ("CLM_ALERT_SMTP_PORT", "25", "SMTP port."),
    ("CLM_ALERT_SMTP_FROM", "", "Sender address of alert emails."),
    ("CLM_ALERT_SMTP_TO", "", "Recipients, comma-separated."),
    ("CLM_ALERT_SMTP_STARTTLS", "false", "Use STARTTLS."),
    ("CLM_ALERT_SMTP_USER", "", "SMTP login (optional; from the environment only)."),
    ("CLM_ALERT_SMTP_PASSWORD", "", "SMTP password (optional; from the environment only)."),
    ("CLM_ALERT_RETRIES", "3", "Delivery attempts per channel."),
    (
        "CLM_FRESHNESS_MAX_DAYS",
        "3",
        "Newest order may be at most this many days older than as_of_date.",
    ),
    (
        "CLM_DRIFT_MAX_PCT",
        "50",
        "Allowed change of drift metrics against the previous successful run, in %.",
    ),
)


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def render_settings() -> str:
    rows = [
        (f"`{name}`", f"`{default}`" if default else "—", text)
        for name, default, text in PATH_SETTINGS
    ]
    rows += [
        (f"`CLM_{name.upper()}`", f"`{default}`" if default else "—", f"dbt var `{name}`: {text}")
        for name, (default, text) in DBT_VARS.items()
    ]
    rows += [
        (f"`{name}`", f"`{default}`" if default else "—", text)
        for name, default, text in ALERT_SETTINGS
    ]
    return _table(rows, ("variable", "default", "meaning"))


def kpi_columns(models_dir: Path = REPO_ROOT / "models" / "marts") -> list[tuple[str, str, dict]]:
    """(model, column, meta) for every mart column whose YAML carries a KPI `meta.definition`."""
    found = []
    for path in sorted(models_dir.rglob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in document.get("models", []) or []:
            for column in model.get("columns", []) or []:
                meta = column.get("meta") or (column.get("config") or {}).get("meta") or {}
                if meta.get("definition"):
                    found.append((model["name"], column["name"], meta))
    return found


def render_glossary() -> str:
    rows = [
        (f"`{column}`", f"`{model}`", str(meta["definition"]), str(meta.get("unit", "")))
        for model, column, meta in kpi_columns()
    ]
    if not rows:
        return "_No KPI columns documented yet._"
    return _table(rows, ("KPI", "mart", "definition", "unit"))


SECTIONS = {"settings": render_settings, "kpi-glossary": render_glossary}


def render_readme(text: str) -> str:
    """The README text with every generated section re-rendered."""
    for name, render in SECTIONS.items():
        pattern = re.compile(
            rf"(<!-- generated:{name} -->).*?(<!-- /generated:{name} -->)", re.DOTALL
        )
        if not pattern.search(text):
            raise ValueError(f"README.md has no generated:{name} section markers")
        text = pattern.sub(
            lambda match, r=render: f"{match.group(1)}\n{r()}\n{match.group(2)}", text
        )
    return text


def update_readme(path: Path = README) -> list[str]:
    """Rewrite the generated sections in place; returns their names."""
    path.write_text(render_readme(path.read_text(encoding="utf-8")), encoding="utf-8")
    return list(SECTIONS)
