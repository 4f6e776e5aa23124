"""Ad platforms (daily spend by channel and campaign) and social accounts (daily counts)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from . import formats as fmt
from . import reference as ref
from . import timeline
from .common import DAY, export_of, with_export

AD_SPEND_PER_PERSON_CENTS = 4000  # the whole data set's ad budget, per person acquired
AD_CAMPAIGNS = ("Prospecting", "Retargeting")
GOOGLE_RENAMED_FROM = timeline.day_of(date(2025, 1, 1))


def make_ad_spend(people_total: int, rng: np.random.Generator) -> pa.Table:
    """One row per day, ad channel and campaign, following demand (Q4 peak, weekly pattern)."""
    days = np.arange(timeline.START_DAY, timeline.END_DAY)
    weights = timeline.DAILY_WEIGHTS / timeline.DAILY_WEIGHTS.sum()
    rows_day, rows_channel, rows_campaign = [], [], []
    for c in range(len(ref.AD_CHANNELS)):
        for k, _ in enumerate(AD_CAMPAIGNS):
            rows_day.append(days)
            rows_channel.append(np.full(len(days), c))
            rows_campaign.append(np.full(len(days), k))
    day = np.concatenate(rows_day)
    channel = np.concatenate(rows_channel)
    campaign = np.concatenate(rows_campaign)
    order = np.lexsort((campaign, channel, day))
    day, channel, campaign = day[order], channel[order], campaign[order]
    share = np.array([a[2] for a in ref.AD_CHANNELS])[channel]
    campaign_share = np.where(campaign == 0, 0.7, 0.3)
    budget = people_total * AD_SPEND_PER_PERSON_CENTS
    mean = budget * share * campaign_share * weights[day - timeline.START_DAY]
    spend = np.maximum(0, mean * rng.lognormal(0, 0.25, len(day))).astype(np.int64)
    cpm = np.array([900, 700, 650, 800, 500, 600, 1200])[channel]  # cents per 1000
    impressions = (spend / cpm * 1000).astype(np.int64)
    ctr = np.array([0.035, 0.03, 0.012, 0.011, 0.009, 0.008, 0.02])[channel]
    clicks = rng.binomial(impressions, ctr)
    names = np.array([a[0] for a in ref.AD_CHANNELS], dtype=object)[channel]
    renamed = (names == "Google Ads") & (day >= GOOGLE_RENAMED_FROM)
    names[renamed] = ref.GOOGLE_RENAMED
    currency = np.array([a[3] for a in ref.AD_CHANNELS])[channel]
    factor = ref.PRICE_FACTOR[[ref.CURRENCIES.index(c) for c in currency]]
    campaign_name = np.array(AD_CAMPAIGNS, dtype=object)[campaign]
    # Affiliate networks report spend (commission) only.
    no_clicks = channel == [a[0] for a in ref.AD_CHANNELS].index("Awin")
    return with_export(
        pa.table(
            {
                "spend_date": fmt.dates(day),
                "channel": fmt.strings(names),
                "campaign": fmt.strings(campaign_name),
                "spend": fmt.money((spend * factor).astype(np.int64)),
                "currency": fmt.strings(currency),
                "impressions": fmt.integers(impressions, null=no_clicks),
                "clicks": fmt.integers(clicks, null=no_clicks),
            }
        ),
        export_of(day * DAY),
    )


def make_social_stats(people_total: int, rng: np.random.Generator) -> pa.Table:
    """Followers (growing) and daily engagement per platform; parquet with native types."""
    # One file with the full export: the full data set's days only.
    days = np.arange(timeline.START_DAY, timeline.DATA_END_DAY)
    weights = timeline.DAILY_WEIGHTS[: timeline.DATA_DAYS]
    tables = []
    for p, _platform in enumerate(ref.SOCIAL_PLATFORMS):
        start = int(people_total * rng.uniform(0.5, 3.0))
        growth = rng.normal(people_total * 0.002, people_total * 0.004, len(days))
        followers = np.maximum(10, start + np.cumsum(growth)).astype(np.int64)
        rate = rng.uniform(0.002, 0.02)
        likes = rng.poisson(followers * rate * weights)
        tables.append((np.full(len(days), p), days, followers, likes))
    platform = np.concatenate([t[0] for t in tables])
    day = np.concatenate([t[1] for t in tables])
    followers = np.concatenate([t[2] for t in tables])
    likes = np.concatenate([t[3] for t in tables])
    order = np.lexsort((platform, day))
    platform, day, followers, likes = platform[order], day[order], followers[order], likes[order]
    n = len(day)
    reactions = rng.poisson(likes * 0.2)
    facebook = np.array(ref.SOCIAL_PLATFORMS)[platform] == "Facebook"
    return with_export(
        pa.table(
            {
                "stat_date": pa.array(day.astype("datetime64[D]"), type=pa.date32()),
                "platform": pa.array(np.array(ref.SOCIAL_PLATFORMS)[platform], type=pa.string()),
                "followers": pa.array(followers, type=pa.int64()),
                "likes": pa.array(likes, type=pa.int64()),
                # Only Facebook reports reactions separately.
                "reactions": pa.array(reactions, type=pa.int64(), mask=~facebook),
                "comments": pa.array(rng.poisson(likes * 0.05), type=pa.int64()),
                "shares": pa.array(rng.poisson(likes * 0.03), type=pa.int64()),
            }
        ),
        np.zeros(n, dtype=np.int64),
    )
