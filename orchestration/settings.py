"""Every setting of the project, read from the environment (``CLM_…``) with its default.

The dbt vars of ../shared/KPIS.md are read by dbt itself from the same variables
(``dbt_project.yml``); ``dbt_vars()`` lists them here only so the CLI can show and document them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# name -> (default, description); the KPI settings of KPIS.md, passed to dbt as vars.
DBT_VARS: dict[str, tuple[str, str]] = {
    "reporting_currency": ("USD", "ISO 4217 currency all money in the marts is converted to."),
    "as_of_date": (
        "",
        "Marts are computed as of this date (YYYY-MM-DD); empty = latest order date.",
    ),
    "attribution_window_days": (
        "7",
        "Days after an email click in which an order counts as its conversion.",
    ),
    "at_risk_after_days": (
        "90",
        "A customer whose last valid order is older than this is at risk.",
    ),
    "inactive_after_days": (
        "180",
        "A customer whose last valid order is older than this is inactive.",
    ),
    "clv_horizon_months": ("12", "Months ahead that predicted CLV covers."),
    "clv_monthly_discount_rate": ("0.01", "Monthly discount rate of predicted CLV."),
}


# Settings of this module (not dbt vars): name -> (default, description).
PATH_SETTINGS: dict[str, tuple[str, str]] = {
    "CLM_LANDING_DIR": ("landing", "Landing folder read by the loader (LANDING.md layout)."),
    "CLM_DUCKDB_PATH": ("warehouse/clm.duckdb", "The working warehouse (DuckDB file)."),
    "CLM_BI_DUCKDB_PATH": (
        "warehouse/bi.duckdb",
        "Published marts for BI tools; replaced atomically after a validated run.",
    ),
    "CLM_SAMPLE_SCALE": (
        "s",
        "Sample-data scale generated when the landing folder is empty (xs, s, m, l).",
    ),
    "CLM_SAMPLE_SEED": ("42", "Seed of the generated sample data."),
    "CLM_GX_PROJECT_DIR": ("expectations", "The Great Expectations project (holds gx/)."),
}


def _path(name: str, default: str) -> Path:
    value = os.environ.get(name) or default
    path = Path(value).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


@dataclass(frozen=True)
class Settings:
    """The project's settings as read from the environment when constructed."""

    landing_dir: Path = field(default_factory=lambda: _path("CLM_LANDING_DIR", "landing"))
    duckdb_path: Path = field(
        default_factory=lambda: _path("CLM_DUCKDB_PATH", "warehouse/clm.duckdb")
    )
    bi_duckdb_path: Path = field(
        default_factory=lambda: _path("CLM_BI_DUCKDB_PATH", "warehouse/bi.duckdb")
    )
    sample_scale: str = field(default_factory=lambda: os.environ.get("CLM_SAMPLE_SCALE", "s"))
    sample_seed: int = field(default_factory=lambda: int(os.environ.get("CLM_SAMPLE_SEED", "42")))

    @property
    def dbt_project_dir(self) -> Path:
        return REPO_ROOT

    def dbt_vars(self) -> dict[str, str]:
        """The KPI settings as they stand in the environment (empty = dbt's default)."""
        return {
            name: os.environ.get(f"CLM_{name.upper()}", default)
            for name, (default, _description) in DBT_VARS.items()
        }


def get_settings() -> Settings:
    """Settings read from the environment now (not cached: tests change the environment)."""
    return Settings()


# settings of models: name -> (default, description)
MODELS_SETTINGS: dict[str, tuple[str, str]] = {
    "CLM_AT_RISK_AFTER_PURCHASE_GAPS": (
        "2",
        "A repeat buyer is at risk once the days since their last order exceed this many times "
        "their own mean days between purchases.",
    ),
    "CLM_INACTIVE_AFTER_PURCHASE_GAPS": (
        "4",
        "A repeat buyer is inactive once the days since their last order exceed this many times "
        "their own mean days between purchases.",
    ),
}

# They are dbt vars (dbt_project.yml): listed with the others for `clm settings`, the README and
# dbt_vars() until the settings registry folds this block in.
DBT_VARS.update(
    {name.removeprefix("CLM_").lower(): value for name, value in MODELS_SETTINGS.items()}
)
