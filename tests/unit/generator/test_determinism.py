"""Same seed, same bytes; another seed, other data."""

from __future__ import annotations

from pathlib import Path

from tools.generator import GenerationReport


def data_files(root: Path) -> list[Path]:
    """Every file under ``root``, sorted, relative to it."""
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def test_same_seed_gives_identical_files(
    clean: GenerationReport, clean_again: GenerationReport
) -> None:
    names = data_files(clean.out_dir)
    assert names == data_files(clean_again.out_dir)
    assert len(names) >= 13
    for name in names:
        first = (clean.out_dir / name).read_bytes()
        second = (clean_again.out_dir / name).read_bytes()
        assert first == second, f"{name} differs between two runs with the same seed"


def test_other_seed_gives_other_data(clean: GenerationReport, dirty: GenerationReport) -> None:
    # Checkout files are not touched by the dirty injections, so only the seed differs.
    name = "shop/checkouts/checkouts_2025-09-30_full.csv"
    assert (clean.out_dir / name).read_bytes() != (dirty.out_dir / name).read_bytes()


def test_no_temporary_files_are_left(clean: GenerationReport) -> None:
    assert not [p for p in data_files(clean.out_dir) if p.name.startswith(".")]
