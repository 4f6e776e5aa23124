"""Generated sections of the docs: the settings table of README.md (from the registry in
orchestration/settings.py) and the KPI glossary of docs/kpis.md (from the marts' YAML `meta`),
so neither is retyped by hand.

Sections sit between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`; a test fails when
the committed README differs from what this module renders.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import yaml

from orchestration.settings import REPO_ROOT, registry


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def documented_settings() -> dict[str, tuple[str, str]]:
    """Every CLM_ variable with its default and meaning, from the settings registry."""
    return {
        name: (
            setting.default,
            f"dbt var `{setting.dbt_var}`: {setting.description}"
            if setting.dbt_var
            else setting.description,
        )
        for name, setting in registry().items()
    }


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


README = REPO_ROOT / "README.md"
KPI_DOC = REPO_ROOT / "docs" / "kpis.md"
# file -> its generated sections (name -> renderer)
GENERATED: dict[Path, dict[str, Callable[[], str]]] = {
    README: {"settings": render_settings},
    KPI_DOC: {"kpi-glossary": render_glossary},
}


def render(text: str, sections: dict[str, Callable[[], str]]) -> str:
    """``text`` with every generated section in ``sections`` re-rendered."""
    for name, renderer in sections.items():
        pattern = re.compile(
            rf"(<!-- generated:{name} -->).*?(<!-- /generated:{name} -->)", re.DOTALL
        )
        if not pattern.search(text):
            raise ValueError(f"no generated:{name} section markers")
        text = pattern.sub(
            lambda match, r=renderer: f"{match.group(1)}\n{r()}\n{match.group(2)}", text
        )
    return text


def render_readme(text: str) -> str:
    """The README text with its generated sections re-rendered."""
    return render(text, GENERATED[README])


def stale_files() -> list[Path]:
    """Files whose generated sections differ from what this module renders."""
    return [
        path
        for path, sections in GENERATED.items()
        if render(path.read_text(encoding="utf-8"), sections) != path.read_text(encoding="utf-8")
    ]


def update_readme() -> list[str]:
    """Rewrite every generated section in place; returns their names."""
    names = []
    for path, sections in GENERATED.items():
        path.write_text(render(path.read_text(encoding="utf-8"), sections), encoding="utf-8")
        names += list(sections)
    return names
