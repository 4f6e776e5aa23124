"""The calendar of the sample data: seasonality, weekly pattern, growth, hours of the day.

Purchases and arrivals are drawn in "operational time", where one unit is an average day of
demand, and mapped back to calendar time through the cumulative demand curve. A Poisson process
in operational time so becomes a calendar process with a Q4 peak and a weekly pattern.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from .scales import END_DATE, NEXT_DAY, START_DATE

EPOCH = date(1970, 1, 1)
START_DAY = (START_DATE - EPOCH).days
# Exclusive: the simulated history runs through NEXT_DAY (the day-after increment's day).
END_DAY = (NEXT_DAY - EPOCH).days + 1
DAYS = END_DAY - START_DAY
START_SECOND = START_DAY * 86_400
END_SECOND = END_DAY * 86_400
# Exclusive end of the full data set (its last export): END_DATE is a whole day of data.
DATA_END_DAY = (END_DATE - EPOCH).days + 1
DATA_DAYS = DATA_END_DAY - START_DAY

# Share of a day's orders per hour (UTC-ish shop time): quiet nights, an evening peak.
_HOURS = np.array(
    [
        1,
        0.6,
        0.4,
        0.3,
        0.3,
        0.5,
        1,
        2,
        3,
        4,
        4.5,
        5,
        5.5,
        5,
        4.8,
        4.8,
        5,
        5.5,
        6.5,
        7.5,
        8,
        7,
        5,
        2.5,
    ]
)
HOUR_WEIGHTS = _HOURS / _HOURS.sum()


def day_of(value: date) -> int:
    """Days since 1970-01-01."""
    return (value - EPOCH).days


def _daily_weights() -> np.ndarray:
    days = np.arange(START_DAY, END_DAY)
    as_dates = days.astype("datetime64[D]")
    month = (as_dates.astype("datetime64[M]").astype(int) % 12) + 1
    day_in_month = (as_dates - as_dates.astype("datetime64[M]")).astype(int) + 1
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    growth = 1.0 + 0.6 * (days - START_DAY) / DAYS
    season = np.ones(DAYS)
    season[month == 11] = 1.35
    season[(month == 11) & (day_in_month >= 22)] = 2.2  # Black Friday / Cyber Monday
    season[(month == 12) & (day_in_month <= 20)] = 1.6
    season[(month == 12) & (day_in_month >= 24) & (day_in_month <= 26)] = 0.6
    season[(month == 1) & (day_in_month <= 10)] = 1.15  # January sales
    season[(month == 7) | (month == 8)] = 0.9
    week = np.array([1.05, 1.0, 1.0, 0.98, 0.95, 0.85, 1.12])[weekday]
    return growth * season * week


DAILY_WEIGHTS = _daily_weights()
# Cumulative demand at day boundaries, scaled so one unit = an average day.
CUMULATIVE = np.concatenate([[0.0], np.cumsum(DAILY_WEIGHTS)]) * (DAYS / DAILY_WEIGHTS.sum())
TOTAL = float(CUMULATIVE[-1])


def to_calendar_day(operational: np.ndarray) -> np.ndarray:
    """Fractional calendar days since the start for operational times."""
    return np.interp(operational, CUMULATIVE, np.arange(DAYS + 1, dtype=float))


def seconds_from_operational(operational: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Epoch seconds: the calendar day of each operational time, at a typical hour of day."""
    day = np.minimum(np.floor(to_calendar_day(operational)).astype(np.int64), DAYS - 1)
    return (START_DAY + day) * 86_400 + daytime_seconds(len(day), rng)


def daytime_seconds(n: int, rng: np.random.Generator) -> np.ndarray:
    """Seconds into the day, following the hourly profile."""
    hours = rng.choice(24, size=n, p=HOUR_WEIGHTS)
    return hours * 3600 + rng.integers(0, 3600, size=n)


def month_index(seconds: np.ndarray) -> np.ndarray:
    """1-12 month of epoch seconds (UTC)."""
    return (
        np.asarray(seconds).astype("datetime64[s]").astype("datetime64[M]").astype(int) % 12
    ) + 1
