"""The subscription billing system: subscriptions that start, bill and churn."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import formats as fmt
from . import reference as ref
from . import timeline
from .common import DAY, Counters, export_of, group_index, pick, with_export
from .people import People, email_variants

SUBSCRIBER_SHARE = 0.12  # of buyers
PERIOD_DAYS = {"week": 7.0, "month": 30.4375, "year": 365.0}
MEAN_LIFETIME_DAYS = {"week": 120.0, "month": 280.0}
YEAR_CHURN = 0.45  # chance an annual plan is not renewed
CANCEL_REASONS = ("too expensive", "too much coffee", "moving abroad", "quality", "other")


@dataclass
class Billing:
    """Subscription rows (with versions) and the bills that become shop orders."""

    subscriptions: pa.Table
    bill_person: np.ndarray  # row in People of each bill
    bill_seconds: np.ndarray
    bill_subscription_id: np.ndarray
    bill_plan: np.ndarray
    bill_price_cents: np.ndarray


def plan_price_cents(plan: np.ndarray, currency: np.ndarray) -> np.ndarray:
    """Plan price in the local currency, ending in .00 or .50."""
    base = np.array([p[2] for p in ref.PLANS])[plan] * ref.PRICE_FACTOR[currency]
    return (np.round(base / 50) * 50).astype(np.int64)


def make_billing(people: People, counters: Counters, rng: np.random.Generator) -> Billing:
    """Subscriptions of the chunk's buyers and their bills."""
    rows = np.flatnonzero(people.is_buyer & (rng.random(len(people)) < SUBSCRIBER_SHARE))
    # A few people hold two subscriptions (e.g. coffee and tea).
    rows = np.sort(np.concatenate([rows, rows[rng.random(len(rows)) < 0.1]]))
    n = len(rows)
    start = people.arrival_seconds[rows] + (rng.uniform(0, 120, n) * DAY).astype(np.int64)
    keep = start < timeline.END_SECOND - 2 * DAY
    rows, start, n = rows[keep], start[keep], int(keep.sum())
    plan = rng.choice(len(ref.PLANS), size=n, p=ref.PLAN_WEIGHTS / ref.PLAN_WEIGHTS.sum())
    interval = np.array([p[1] for p in ref.PLANS])[plan]
    currency = people.currency[rows]
    price = plan_price_cents(plan, currency)

    lifetime = np.where(
        interval == "week",
        rng.exponential(MEAN_LIFETIME_DAYS["week"], n),
        rng.exponential(MEAN_LIFETIME_DAYS["month"], n),
    )
    years = rng.geometric(YEAR_CHURN, n)
    lifetime = np.where(interval == "year", years * 365.0, lifetime)
    end = start + (lifetime * DAY).astype(np.int64)
    ended = end < timeline.END_SECOND
    paused = ~ended & (rng.random(n) < 0.05)
    pause_at = start + (rng.random(n) * (timeline.END_SECOND - start)).astype(np.int64)
    status = np.where(ended, np.where(interval == "year", "expired", "cancelled"), "active")
    status = np.where(paused, "paused", status)
    reason = np.where(interval == "year", "not renewed", pick(rng, CANCEL_REASONS, n))
    change_at = np.where(ended, end, np.where(paused, pause_at, start))

    numbers = counters.take("subscription", n)
    subscription_id = np.array(fmt.ids("SUB", numbers).to_pylist(), dtype=object)
    use_secondary = people.has_secondary[rows] & (rng.random(n) < 0.25)
    base_email = np.where(
        use_secondary,
        people.secondary_email.take(pa.array(rows)).to_numpy(zero_copy_only=False),
        people.email.take(pa.array(rows)).to_numpy(zero_copy_only=False),
    )
    email = email_variants(pa.array(base_email, type=pa.string()), 0.3, rng)
    offsets = people.offset_minutes(start, rows)

    def version(final: bool) -> pa.Table:
        changed = final & (status != "active")
        updated = np.where(changed, change_at, start) if final else start
        cancelled_at = np.where(ended, end, 0)
        return pa.table(
            {
                "subscription_id": fmt.strings(subscription_id),
                "billing_customer_id": fmt.ids("BC", people.person_id[rows], 8),
                "email": email,
                "plan_name": fmt.strings(np.array([p[0] for p in ref.PLANS])[plan]),
                "billing_interval": fmt.strings(interval),
                "price": fmt.money(price),
                "currency": fmt.strings(np.array(ref.CURRENCIES)[currency]),
                "status": fmt.strings(status if final else np.full(n, "active")),
                "started_at": fmt.timestamps(start, offsets, "z"),
                "cancelled_at": fmt.timestamps(cancelled_at, 0, "z", null=~(ended & final)),
                "cancel_reason": fmt.strings(reason, null=~(ended & final)),
                "updated_at": fmt.timestamps(updated, 0, "z"),
            }
        )

    initial_export = export_of(start)
    final_export = export_of(change_at)
    two_versions = final_export != initial_export
    initial = with_export(version(False), initial_export).filter(pa.array(two_versions))
    final = with_export(version(True), final_export)
    subscriptions = pa.concat_tables([initial, final])

    # One bill per period from the start until the end (or the end of the data).
    until = np.minimum(end, timeline.END_SECOND - 1)
    period = np.array([PERIOD_DAYS[i] for i in interval]) * DAY if n else np.zeros(0)
    bills = np.maximum(1, np.ceil((until - start) / np.maximum(period, 1)).astype(np.int64))
    bill_owner = np.repeat(np.arange(n), bills)
    k = group_index(bills)
    bill_seconds = start[bill_owner] + (k * period[bill_owner]).astype(np.int64)
    return Billing(
        subscriptions=subscriptions,
        bill_person=rows[bill_owner],
        bill_seconds=bill_seconds,
        bill_subscription_id=subscription_id[bill_owner],
        bill_plan=plan[bill_owner],
        bill_price_cents=price[bill_owner],
    )
