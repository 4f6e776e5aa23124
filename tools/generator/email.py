"""The email and SMS platform: campaigns and the recipient events they cause."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import formats as fmt
from . import timeline
from .common import DAY, Counters, export_of, with_export
from .people import People, email_variants

EMAIL_COST_PER_SEND_CENTS = 0.09
SMS_COST_PER_SEND_CENTS = 1.2
BAD_ADDRESS_SHARE = 0.02  # always bounce
SOFT_BOUNCE = 0.025
CLICK_GIVEN_OPEN = 0.12
UNSUBSCRIBE = 0.003
COMPLAINT = 0.0006
EMAIL_THEMES = ("Weekly brew notes", "New arrivals", "Brewing guide", "Members only",
                "Last chance", "Back in stock")  # fmt: skip


class Campaigns:
    """Every campaign of the data set (the same for all chunks)."""

    def __init__(self, people_total: int, rng: np.random.Generator) -> None:
        # Campaigns of the full data set only: its one file is exported with the full export.
        days = np.arange(timeline.START_DAY, timeline.DATA_END_DAY)
        weekday = (days + 3) % 7
        as_dates = days.astype("datetime64[D]")
        month = (as_dates.astype("datetime64[M]").astype(int) % 12) + 1
        email_days = days[(weekday == 1) | ((weekday == 4) & np.isin(month, [11, 12]))]
        sms_days = days[(weekday == 5) & (((days - timeline.START_DAY) // 7) % 2 == 0)]
        channel = np.concatenate([np.full(len(email_days), "email"), np.full(len(sms_days), "sms")])
        day = np.concatenate([email_days, sms_days])
        order = np.lexsort((channel, day))
        self.channel = channel[order].astype(object)
        self.day = day[order]
        n = len(self.day)
        hour = np.where(self.channel == "email", 9, 17)
        self.sent_seconds = self.day * DAY + hour * 3600 + rng.integers(0, 1800, n)
        # ~50 email events per person over the history (scale l: ~50M).
        self.target_share = np.where(self.channel == "email", rng.uniform(0.25, 0.7, n), 1.0)
        self.campaign_id = np.array(
            fmt.ids("CMP", np.arange(1, n + 1), 5).to_pylist(), dtype=object
        )
        theme = np.array(EMAIL_THEMES, dtype=object)[rng.integers(0, len(EMAIL_THEMES), n)]
        date_text = self.day.astype("datetime64[D]").astype(str).astype(object)
        prefix = np.where(self.channel == "email", "Email: ", "SMS: ").astype(object)
        self.name = prefix + theme + " " + date_text
        # Cost follows the expected audience at that point of the data set's growth.
        reach = (
            people_total
            * 0.75
            * (self.sent_seconds - timeline.START_SECOND)
            / (timeline.END_SECOND - timeline.START_SECOND)
        )
        per_send = np.where(
            self.channel == "email", EMAIL_COST_PER_SEND_CENTS, SMS_COST_PER_SEND_CENTS
        )
        self.cost_cents = np.maximum(100, (reach * self.target_share * per_send).astype(np.int64))

    def __len__(self) -> int:
        return len(self.day)

    def table(self) -> pa.Table:
        """The campaigns table (one file: the platform exports all campaigns each time)."""
        return with_export(
            pa.table(
                {
                    "campaign_id": fmt.strings(self.campaign_id),
                    "campaign_name": fmt.strings(self.name),
                    "channel": fmt.strings(self.channel),
                    "sent_at": fmt.timestamps(self.sent_seconds, 0, "naive"),
                    "cost": fmt.money(self.cost_cents),
                    "currency": fmt.strings(np.where(self.channel == "email", "USD", "EUR")),
                }
            ),
            np.zeros(len(self), dtype=np.int64),
        )


def make_events(
    people: People,
    campaigns: Campaigns,
    counters: Counters,
    rng: np.random.Generator,
    native_timestamps: bool,
) -> pa.Table:
    """Recipient events of the chunk's people, campaign by campaign in time order.

    Unsubscribes and hard bounces stop later sends, so the loop over campaigns (a few hundred,
    each vectorised over the chunk) is sequential.
    """
    n = len(people)
    use_secondary = people.secondary_in_crm & (rng.random(n) < 0.3)
    base = np.where(
        use_secondary,
        people.secondary_email.to_numpy(zero_copy_only=False),
        people.email.to_numpy(zero_copy_only=False),
    )
    recipient = email_variants(pa.array(base, type=pa.string()), 0.05, rng)
    bad_address = rng.random(n) < BAD_ADDRESS_SHARE
    stopped = np.zeros(n, dtype=bool)
    parts_campaign: list[np.ndarray] = []
    parts_person: list[np.ndarray] = []
    parts_type: list[np.ndarray] = []
    parts_time: list[np.ndarray] = []

    def add(c: int, rows: np.ndarray, kind: str, at: np.ndarray) -> None:
        parts_campaign.append(np.full(len(rows), c, dtype=np.int32))
        parts_person.append(rows)
        parts_type.append(np.full(len(rows), EVENT_TYPES.index(kind), dtype=np.int8))
        parts_time.append(at)

    for c in range(len(campaigns)):
        sent = campaigns.sent_seconds[c]
        is_email = campaigns.channel[c] == "email"
        opted = people.email_opt_in if is_email else people.sms_opt_in
        eligible = opted & ~stopped & (people.arrival_seconds < sent)
        rows = np.flatnonzero(eligible & (rng.random(n) < campaigns.target_share[c]))
        k = len(rows)
        if k == 0:
            continue
        send_at = sent + rng.integers(0, 900, k)
        add(c, rows, "sent", send_at)
        bounced = bad_address[rows] | (rng.random(k) < SOFT_BOUNCE)
        stopped[rows[bad_address[rows]]] = True  # hard bounces are suppressed afterwards
        add(c, rows[bounced], "bounced", send_at[bounced] + 5)
        ok = ~bounced
        add(c, rows[ok], "delivered", send_at[ok] + 2)
        if is_email:
            opened = ok & (rng.random(k) < people.engagement[rows] * 0.85)
            open_at = send_at + rng.exponential(6 * 3600, k).astype(np.int64)
            add(c, rows[opened], "opened", open_at[opened])
            again = opened & (rng.random(k) < 0.2)
            add(c, rows[again], "opened", open_at[again] + rng.integers(600, DAY, int(again.sum())))
            clicked = opened & (rng.random(k) < CLICK_GIVEN_OPEN)
        else:
            open_at = send_at + rng.integers(5, 1800, k)
            clicked = ok & (rng.random(k) < 0.035)
        click_at = open_at + rng.integers(5, 1200, k)
        add(c, rows[clicked], "clicked", click_at[clicked])
        unsubscribed = ok & (rng.random(k) < UNSUBSCRIBE * (1.5 - people.engagement[rows]))
        add(c, rows[unsubscribed], "unsubscribed", open_at[unsubscribed] + 30)
        complained = ok & ~unsubscribed & (rng.random(k) < COMPLAINT)
        add(c, rows[complained], "complained", open_at[complained] + 40)
        stopped[rows[unsubscribed | complained]] = True

    campaign = np.concatenate(parts_campaign) if parts_campaign else np.zeros(0, np.int32)
    person = np.concatenate(parts_person) if parts_person else np.zeros(0, np.int64)
    kind = np.concatenate(parts_type) if parts_type else np.zeros(0, np.int8)
    at = np.concatenate(parts_time) if parts_time else np.zeros(0, np.int64)
    # Opens and clicks after the simulated end have not happened yet (no pile-up on its last second).
    happened = at < timeline.END_SECOND
    campaign, person, kind, at = campaign[happened], person[happened], kind[happened], at[happened]
    order = np.lexsort((kind, at))
    campaign, person, kind, at = campaign[order], person[order], kind[order], at[order]
    m = len(at)
    if native_timestamps:
        occurred = pa.array(at.astype("datetime64[s]"), type=pa.timestamp("s", tz="UTC"))
    else:
        occurred = fmt.timestamps(at, 0, "naive")
    table = pa.table(
        {
            "event_id": fmt.ids("EV", counters.take("event", m), 10),
            "campaign_id": pa.array(campaigns.campaign_id, type=pa.string()).take(
                pa.array(campaign)
            ),
            "email": recipient.take(pa.array(person)),
            "event_type": pa.array(np.array(EVENT_TYPES, dtype=object)[kind], type=pa.string()),
            "occurred_at": occurred,
        }
    )
    return with_export(table, export_of(at))


EVENT_TYPES = ("sent", "delivered", "bounced", "opened", "clicked", "unsubscribed", "complained")
