"""Small helpers shared by the table builders."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from . import timeline
from .scales import FILE_DATES

DAY = 86_400
# Exclusive end second of each file date (the full export, the increments, the day after).
EXPORT_ENDS = np.array([(timeline.day_of(d) + 1) * DAY for d in FILE_DATES], dtype=np.int64)
EXPORT_COLUMN = "_export"  # which export file a row goes to; dropped before writing


def export_of(seconds: np.ndarray) -> np.ndarray:
    """Index into FILE_DATES (0 = full export) of the file that first holds what was done then."""
    index = np.searchsorted(EXPORT_ENDS, np.asarray(seconds, dtype=np.int64), side="right")
    return np.minimum(index, len(EXPORT_ENDS) - 1)


@dataclass
class Counters:
    """Running id counters, so ids stay unique across chunks (chunks run in a fixed order)."""

    values: dict[str, int] = field(default_factory=dict)

    def take(self, name: str, n: int) -> np.ndarray:
        """``n`` new consecutive numbers for ``name``, starting at 1."""
        start = self.values.get(name, 0)
        self.values[name] = start + n
        return np.arange(start + 1, start + n + 1, dtype=np.int64)


def group_index(counts: np.ndarray) -> np.ndarray:
    """0, 1, … within each group, for groups of the given sizes laid end to end."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - starts


def pick(rng: np.random.Generator, options: tuple[str, ...] | list[str], n: int) -> np.ndarray:
    """``n`` uniform choices among text options."""
    return np.array(options, dtype=object)[rng.integers(0, len(options), n)]


def with_export(table: pa.Table, export: np.ndarray) -> pa.Table:
    """Attach the export file index to a table of one table's rows."""
    return table.append_column(EXPORT_COLUMN, pa.array(np.asarray(export, dtype=np.int64)))


def clip_to_end(seconds: np.ndarray) -> np.ndarray:
    """Times never later than the last second of the data."""
    return np.minimum(seconds, timeline.END_SECOND - 1)
