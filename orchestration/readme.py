"""Generated sections of README.md: the KPI glossary (from the marts' YAML `meta`) and the
settings table (from orchestration/settings.py), so neither is retyped by hand.

Sections sit between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`; a test fails when
the committed README differs from what this module renders.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from orchestration.settings import DBT_VARS, PATH_SETTINGS, REPO_ROOT

README = REPO_ROOT / "README.md"


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def documented_settings() -> dict[str, tuple[str, str]]:
    """Every CLM_ variable with its default and meaning, from the modules that read them."""
    from orchestration.alerts.config import ALERT_ENV_VARS
    from orchestration.quality.rules import THRESHOLDS

    found = dict(PATH_SETTINGS)
    found |= {
        f"CLM_{name.upper()}": (default, f"dbt var `{name}`: {text}")
        for name, (default, text) in DBT_VARS.items()
    }
    found |= {t.env: (str(t.default), t.description) for t in THRESHOLDS if t.env not in found}
    found |= ALERT_ENV_VARS
    from orchestration.settings import LOADER_SETTINGS

    found |= LOADER_SETTINGS
    return found


def render_settings() -> str:
    rows = [
        (f"`{name}`", f"`{default}`" if default else "—", text)
        for name, (default, text) in documented_settings().items()
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
