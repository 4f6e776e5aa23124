"""Sample data for the landing contract (docs/landing-contract.md), deterministic for a seed.

``generate(out_dir, scale, seed, dirty)`` writes every landing table of the contract into
``<out_dir>/<source>/<table>/``; ``ensure_sample_data`` does so only when a landing folder has no
data yet. See ``scales.SCALES`` for the sizes, ``dirty.py`` for the bad input ``dirty=True`` adds.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from orchestration.contract import FILE_FORMATS

from .build import GenerationReport, run
from .scales import SCALES, Scale

__all__ = ["SCALES", "GenerationReport", "Scale", "ensure_sample_data", "generate"]


def generate(
    out_dir: str | Path,
    scale: str = "xs",
    seed: int = 42,
    dirty: bool = False,
    progress: Callable[[str], None] = print,
) -> GenerationReport:
    """Write a sample landing data set into ``out_dir`` and describe it.

    Same ``scale`` and ``seed`` give byte-identical files. Files of an earlier run with the same
    names are replaced; other files in ``out_dir`` are left alone. With ``dirty``, the bad input
    of docs/landing-contract.md is added and listed in ``GenerationReport.injections``.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = run(out, SCALES[scale], seed, progress)
    if dirty:
        from .dirty import inject

        inject(report, seed, progress)
    progress(
        f"generated {sum(f.rows for f in report.files):,} rows in {len(report.files)} files "
        f"in {report.seconds:.1f} s"
    )
    return report


def has_data_files(landing_dir: str | Path) -> bool:
    """Whether any landing file (csv, jsonl, parquet) exists under ``landing_dir``."""
    root = Path(landing_dir)
    if not root.is_dir():
        return False
    return any(path.is_file() and path.suffix.lower() in FILE_FORMATS for path in root.rglob("*"))


def ensure_sample_data(
    landing_dir: str | Path,
    scale: str = "xs",
    seed: int = 42,
    progress: Callable[[str], None] = print,
) -> bool:
    """Generate sample data into ``landing_dir`` unless it already holds data files.

    Returns whether it generated.
    """
    if has_data_files(landing_dir):
        progress(f"{landing_dir} already has landing files; not generating sample data")
        return False
    generate(landing_dir, scale=scale, seed=seed, dirty=False, progress=progress)
    return True
