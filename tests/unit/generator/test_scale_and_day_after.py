"""The size of each scale (estimated, not generated, for l) and the day-after increment."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from tools.generator import GenerationReport, estimate, generate
from tools.generator.scales import NEXT_DAY


def test_scale_l_is_a_million_people_ten_million_orders_fifty_million_events() -> None:
    size = estimate("l", seed=42)
    assert size["people"] == 1_000_000
    assert 8_500_000 <= size["order"] <= 11_500_000
    assert 42_000_000 <= size["event"] <= 58_000_000


def test_estimate_matches_what_generate_writes(clean: GenerationReport) -> None:
    # xs is small enough to estimate from a sample of itself: the same counts exactly.
    assert estimate("xs", seed=42, sample_people=1_000) == {"people": 1_000, **clean.ids_by_kind}
    assert clean.manifest()["ids_by_kind"]["order"] > 5 * 1_000


def utc_day(text: str) -> dt.date:
    """The UTC date of a timestamp written with an offset."""
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC).date()


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def with_next_day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, GenerationReport]:
    """An xs data set, the bytes of its files, then its day-after increment in the same folder."""
    out = tmp_path_factory.mktemp("next_day")
    generate(out, "xs", seed=7, progress=lambda _: None)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    report = generate(out, "xs", seed=7, day_after=True, progress=lambda _: None)
    return out, before, report


def test_day_after_adds_only_increment_files_of_the_next_day(
    with_next_day: tuple[Path, dict, GenerationReport],
) -> None:
    out, before, report = with_next_day
    after = {p for p in out.rglob("*") if p.is_file()}
    new = after - set(before)
    assert new and {out / f.path for f in report.files} == new
    assert all(f"_{NEXT_DAY.isoformat()}_incr" in p.name for p in new)
    assert all(p.read_bytes() == data for p, data in before.items()), "earlier files changed"
    assert {f.table for f in report.files} >= {"orders", "order_lines", "checkouts"}


def test_day_after_continues_the_same_history(
    with_next_day: tuple[Path, dict, GenerationReport],
) -> None:
    out, before, _ = with_next_day
    day = NEXT_DAY.isoformat()
    old = {
        row["order_id"]
        for path in before
        if path.parent.name == "orders" and path.suffix == ".csv"
        for row in rows_of(path)
    }
    new = rows_of(out / "shop" / "orders" / f"orders_{day}_incr.csv")
    assert new
    for row in new:
        # Either a new order of that day or a new version (paid, refunded) of an older one.
        assert row["order_id"] in old or utc_day(row["ordered_at"]) == NEXT_DAY, row
        assert utc_day(row["updated_at"]) == NEXT_DAY, row
    assert any(row["order_id"] not in old for row in new)


def test_day_after_and_dirty_do_not_mix(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="day_after"):
        generate(tmp_path, "xs", dirty=True, day_after=True, progress=lambda _: None)
