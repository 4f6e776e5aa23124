"""Sizes of the sample data sets and the fixed calendar they cover.

The calendar does not depend on the seed or the wall clock, so the same seed always gives the
same files, today or next year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# ~2.5 years of history. The end is fixed so runs are reproducible.
START_DATE = date(2023, 7, 1)
END_DATE = date(2025, 12, 31)
# The day a "day after" increment adds (``generate(..., day_after=True)``). The history is always
# simulated through this day and its rows are written only into that increment, so the full
# data set and the next day's files are one consistent history.
NEXT_DAY = date(2026, 1, 1)

# A full export as of the first date, then monthly increments (docs/landing-contract.md: a file is never
# changed; new data and new versions of old rows come as new files).
EXPORT_DATES = (date(2025, 9, 30), date(2025, 10, 31), date(2025, 11, 30), date(2025, 12, 31))
# Every file date: the exports of the full data set, then the day-after increment.
FILE_DATES = (*EXPORT_DATES, NEXT_DAY)
NEXT_DAY_EXPORT = len(EXPORT_DATES)  # index of the day-after increment in FILE_DATES

# People are generated and written in chunks of this many, so memory stays bounded at scale l.
CHUNK_PEOPLE = 50_000


@dataclass(frozen=True)
class Scale:
    """One size of sample data set."""

    name: str
    people: int
    description: str

    @property
    def chunks(self) -> int:
        """How many chunks of people the data set is generated and written in."""
        return max(1, -(-self.people // CHUNK_PEOPLE))

    @property
    def large(self) -> bool:
        """Large scales write the biggest tables as parquet."""
        return self.people >= 100_000


SCALES: dict[str, Scale] = {
    "xs": Scale("xs", 1_000, "~1k people: tests, about a second"),
    "s": Scale("s", 10_000, "~10k people: the default"),
    "m": Scale("m", 100_000, "~100k people"),
    "l": Scale("l", 1_000_000, "~1M people, ~10M orders, ~50M email events: a few minutes"),
}
