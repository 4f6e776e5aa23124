"""Sample data for the landing contract (docs/landing-contract.md), deterministic for a seed.

``generate(out_dir, scale, seed, dirty)`` writes every landing table of the contract into
``<out_dir>/<source>/<table>/``; ``ensure_sample_data`` does so only when a landing folder has no
data yet; ``generate(..., day_after=True)`` writes the next day's increment of the same data set;
``estimate`` says how big a scale is without writing it. See ``scales.SCALES`` for the sizes,
``dirty.py`` for the bad input ``dirty=True`` adds. A developer tool: the runtime never imports it
except for ``clm generate`` and the demo landing folder.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from orchestration.contract import FILE_FORMATS

from .build import GenerationReport, run
from .scales import SCALES, Scale

__all__ = ["SCALES", "GenerationReport", "Scale", "ensure_sample_data", "estimate", "generate"]


def generate(
    out_dir: str | Path,
    scale: str = "xs",
    seed: int = 42,
    dirty: bool = False,
    progress: Callable[[str], None] = print,
    day_after: bool = False,
) -> GenerationReport:
    """Write a sample landing data set into ``out_dir`` and describe it.

    Same ``scale`` and ``seed`` give byte-identical files. Files of an earlier run with the same
    names are replaced; other files in ``out_dir`` are left alone. With ``dirty``, the bad input
    of docs/landing-contract.md is added and listed in ``GenerationReport.injections``. With
    ``day_after``, only the increment of the day after the data set's last export is written
    (new orders, events, sign-ups, refunds and changed rows of that day, in ``*_incr`` files),
    continuing the history that the same ``scale`` and ``seed`` wrote before.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    if dirty and day_after:
        raise ValueError("dirty and day_after do not go together: inject bad input into a full set")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = run(out, SCALES[scale], seed, progress, day_after=day_after)
    if dirty:
        from .dirty import inject

        inject(report, seed, progress)
    progress(
        f"generated {sum(f.rows for f in report.files):,} rows in {len(report.files)} files "
        f"in {report.seconds:.1f} s"
    )
    return report


def estimate(scale: str, seed: int = 42, sample_people: int = 5_000) -> dict[str, int]:
    """Ids per kind ("order", "event", ...) a scale would hold, and its "people".

    Generates ``sample_people`` people of the same model into a temporary folder and scales the
    counts up, so the size of scale l can be checked in a second instead of minutes.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    target = SCALES[scale]
    sample = replace(target, name=f"{target.name}-sample", people=min(sample_people, target.people))
    with tempfile.TemporaryDirectory(prefix="clm-estimate-") as folder:
        report = run(Path(folder), sample, seed, lambda _: None)
    factor = target.people / sample.people
    counts = {kind: round(n * factor) for kind, n in report.ids_by_kind.items()}
    return {"people": target.people, **counts}


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
