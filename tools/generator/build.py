"""Runs the table builders chunk by chunk and writes the landing files."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import crm, email, marketing, reference
from .billing import make_billing
from .common import Counters
from .people import make_people
from .scales import CHUNK_PEOPLE, END_DATE, NEXT_DAY_EXPORT, SCALES, START_DATE, Scale
from .shop import make_shop
from .writer import LandingWriter, WrittenFile

# A stable number per purpose, so each builder has its own random stream per chunk.
_STREAMS = {name: i for i, name in enumerate(
    ("people", "billing", "shop", "events", "contacts", "tickets", "feedback", "campaigns",
     "ad_spend", "social", "dirty")
)}  # fmt: skip


def stream(seed: int, purpose: str, chunk: int = 0) -> np.random.Generator:
    """The random generator of one purpose and chunk (independent of every other)."""
    return np.random.default_rng(np.random.SeedSequence([seed, _STREAMS[purpose], chunk]))


@dataclass
class GenerationReport:
    """What ``generate`` wrote, and (with ``dirty``) what bad input it injected where."""

    out_dir: Path
    scale: str
    seed: int
    dirty: bool
    day_after: bool = False
    files: list[WrittenFile] = field(default_factory=list)
    rows_by_table: dict[str, int] = field(default_factory=dict)
    # Ids issued per kind ("order", "event", ...) over the whole simulated history, day after
    # included: the size of the data set in business terms (orders, not order versions).
    ids_by_kind: dict[str, int] = field(default_factory=dict)
    injections: list[dict[str, Any]] = field(default_factory=list)
    currencies: tuple[str, ...] = reference.CURRENCIES
    first_month: str = START_DATE.strftime("%Y-%m")
    last_month: str = END_DATE.strftime("%Y-%m")
    channel_spellings: dict[str, list[str]] = field(
        default_factory=reference.free_text_channel_spellings
    )
    seconds: float = 0.0

    def manifest(self) -> dict[str, Any]:
        """A JSON-ready description (files, row counts, injections); never written in landing."""
        return {
            "scale": self.scale,
            "seed": self.seed,
            "dirty": self.dirty,
            "day_after": self.day_after,
            "ids_by_kind": self.ids_by_kind,
            "currencies": list(self.currencies),
            "months": [self.first_month, self.last_month],
            "channel_spellings": self.channel_spellings,
            "rows_by_table": self.rows_by_table,
            "files": [f.__dict__ for f in self.files],
            "injections": self.injections,
        }


def file_formats(scale: Scale) -> dict[str, str]:
    """The file format of each table (mostly CSV; big tables as parquet at large scales)."""
    big = "parquet" if scale.large else "csv"
    return {"email/events": big, "shop/order_lines": big, "crm/feedback": "jsonl",
            "marketing/social_stats": "parquet"}  # fmt: skip


def run(
    out_dir: Path,
    scale: Scale,
    seed: int,
    progress: Callable[[str], None],
    day_after: bool = False,
) -> GenerationReport:
    """Generate every table of the contract into ``out_dir`` (clean data).

    With ``day_after``, only the rows of the day after the data set's end are written (one
    increment file per table that has such rows): the same history, one day further.
    """
    started = time.perf_counter()
    writer = LandingWriter(out_dir, progress)
    if day_after:
        writer.exports = frozenset({NEXT_DAY_EXPORT})
    formats = file_formats(scale)
    report = GenerationReport(
        out_dir=out_dir, scale=scale.name, seed=seed, dirty=False, day_after=day_after
    )

    def fmt_of(source: str, table: str) -> str:
        return formats.get(f"{source}/{table}", "csv")

    progress(f"generating scale {scale.name} ({scale.people:,} people, seed {seed}) into {out_dir}")
    campaigns = email.Campaigns(scale.people, stream(seed, "campaigns"))
    writer.write("email", "campaigns", campaigns.table(), fmt_of("email", "campaigns"))
    writer.write(
        "marketing",
        "ad_spend",
        marketing.make_ad_spend(scale.people, stream(seed, "ad_spend")),
        "csv",
    )
    writer.write(
        "marketing", "social_stats",
        marketing.make_social_stats(scale.people, stream(seed, "social")),
        fmt_of("marketing", "social_stats"),
    )  # fmt: skip
    counters = Counters()
    chunks = scale.chunks
    for chunk in range(chunks):
        first = chunk * CHUNK_PEOPLE
        n = min(CHUNK_PEOPLE, scale.people - first)
        part = chunk if chunks > 1 else None
        progress(f"chunk {chunk + 1}/{chunks}: people {first + 1:,}-{first + n:,}")
        people = make_people(first + 1, n, stream(seed, "people", chunk))
        billing = make_billing(people, counters, stream(seed, "billing", chunk))
        shop = make_shop(people, billing, counters, stream(seed, "shop", chunk))
        tables = {
            ("crm", "contacts"): crm.make_contacts(people, stream(seed, "contacts", chunk)),
            ("crm", "support_tickets"): crm.make_tickets(
                people, shop, counters, stream(seed, "tickets", chunk)
            ),
            ("crm", "feedback"): crm.make_feedback(
                people, shop, counters, stream(seed, "feedback", chunk)
            ),
            ("subscriptions", "subscriptions"): billing.subscriptions,
            ("shop", "customers"): shop.customers,
            ("shop", "orders"): shop.orders,
            ("shop", "order_lines"): shop.order_lines,
            ("shop", "refunds"): shop.refunds,
            ("shop", "checkouts"): shop.checkouts,
        }
        for (source, table), rows in tables.items():
            writer.write(source, table, rows, fmt_of(source, table), part)
        del tables, shop, billing
        events = email.make_events(
            people, campaigns, counters, stream(seed, "events", chunk),
            native_timestamps=fmt_of("email", "events") == "parquet",
        )  # fmt: skip
        writer.write("email", "events", events, fmt_of("email", "events"), part)
        del events, people
    writer.close()
    report.files = list(writer.files)
    report.ids_by_kind = dict(counters.values)
    for written in report.files:
        key = f"{written.source}.{written.table}"
        report.rows_by_table[key] = report.rows_by_table.get(key, 0) + written.rows
    report.seconds = time.perf_counter() - started
    return report


__all__ = ["SCALES", "GenerationReport", "run", "stream"]
