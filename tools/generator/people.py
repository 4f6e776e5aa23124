"""The people behind every source system, one chunk at a time.

Each person has a canonical (lower-case) email, sometimes a second one, a country, an arrival
time, an acquisition channel and a buying process in the spirit of BG/NBD (Fader, Hardie & Lee
2005): a Poisson purchase rate drawn from a gamma distribution and a dropout probability after
each purchase drawn from a beta distribution. The CLV model then has something real to fit.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import reference as ref
from . import timeline

# BG/NBD-like parameters, per average day of demand. With the subscription bills they give
# ~10 orders per person (scale l: ~1M people, ~10M orders): a coffee buyer reorders about
# monthly and stays a long while (mean dropout 5 % per purchase).
PURCHASE_RATE_SHAPE = 0.9  # r
PURCHASE_RATE_SCALE = 1 / 16.0  # 1 / alpha: mean rate 0.056/day, ~20 purchases a year
DROPOUT_A = 1.3
DROPOUT_B = 25.0
BUYER_SHARE = 0.75  # the rest are prospects: newsletter sign-ups, abandoned carts, tickets
ACCOUNT_SHARE = 0.72  # buyers with a shop account; the others always check out as guests
CONTACT_SHARE_BUYERS = 0.6
SECONDARY_EMAIL_SHARE = 0.15


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_name.lower() if ch.isalnum())


_FIRST_SLUGS = np.array([_slug(n) for n in ref.FIRST_NAMES])
_LAST_SLUGS = np.array([_slug(n) for n in ref.LAST_NAMES])


@dataclass
class People:
    """One chunk of people (arrays of equal length)."""

    person_id: np.ndarray  # global number, also the base of every source id
    first: np.ndarray
    last: np.ndarray
    country: np.ndarray  # index into reference.COUNTRIES
    city: np.ndarray  # strings
    email: pa.Array  # canonical, lower-case
    secondary_email: pa.Array  # NULL for most
    has_secondary: np.ndarray
    secondary_in_crm: np.ndarray  # the CRM contact lists the second email
    arrival_op: np.ndarray  # operational time of first contact / first order
    arrival_seconds: np.ndarray
    channel: np.ndarray  # index into reference.CHANNELS (true acquisition channel)
    is_buyer: np.ndarray
    has_account: np.ndarray
    has_contact: np.ndarray
    email_opt_in: np.ndarray
    sms_opt_in: np.ndarray
    purchase_rate: np.ndarray
    dropout: np.ndarray
    engagement: np.ndarray  # 0-1 propensity to open emails
    satisfaction: np.ndarray  # 0-1, drives NPS, reviews, CSAT

    def __len__(self) -> int:
        return len(self.person_id)

    @property
    def currency(self) -> np.ndarray:
        """Index into reference.CURRENCIES of each person's shop currency."""
        return ref.COUNTRY_CURRENCY[self.country]

    def offset_minutes(self, seconds: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """UTC offset of the person's country at each time (summer time April-October)."""
        summer = (timeline.month_index(seconds) >= 4) & (timeline.month_index(seconds) <= 10)
        return ref.COUNTRY_OFFSETS[self.country[rows], summer.astype(int)]


def make_people(first_id: int, n: int, rng: np.random.Generator) -> People:
    """``n`` people numbered from ``first_id``."""
    person_id = np.arange(first_id, first_id + n, dtype=np.int64)
    first = rng.integers(0, len(ref.FIRST_NAMES), n)
    last = rng.integers(0, len(ref.LAST_NAMES), n)
    country = rng.choice(len(ref.COUNTRIES), size=n, p=ref.COUNTRY_WEIGHTS)
    city_pick = rng.integers(0, 1000, n)
    # A small (country, k) -> city table keeps the choice vectorised.
    width = max(len(c[5]) for c in ref.COUNTRIES)
    city_table = np.array(
        [[c[5][k % len(c[5])] for k in range(width)] for c in ref.COUNTRIES], dtype=object
    )
    city = city_table[country, city_pick % width]

    email = _emails(person_id, first, last, rng, ref.EMAIL_DOMAINS)
    has_secondary = rng.random(n) < SECONDARY_EMAIL_SHARE
    secondary = _emails(person_id, first, last, rng, ref.WORK_DOMAINS, style_offset=1)
    secondary = pc.if_else(pa.array(has_secondary), secondary, pa.scalar(None, pa.string()))

    # Arrivals follow demand (growth and seasonality) over the whole window.
    arrival_op = rng.uniform(0, timeline.TOTAL, n)
    arrival_seconds = timeline.seconds_from_operational(arrival_op, rng)
    channel = rng.choice(
        len(ref.CHANNELS), size=n, p=ref.CHANNEL_WEIGHTS / ref.CHANNEL_WEIGHTS.sum()
    )
    is_buyer = rng.random(n) < BUYER_SHARE
    has_account = is_buyer & (rng.random(n) < ACCOUNT_SHARE)
    # Prospects are known because they signed up somewhere; most are CRM contacts.
    has_contact = np.where(is_buyer, rng.random(n) < CONTACT_SHARE_BUYERS, rng.random(n) < 0.85)
    # Only people the brand knows (a contact or an account) are on its lists.
    email_opt_in = (has_contact | has_account) & (rng.random(n) < np.where(is_buyer, 0.65, 0.9))
    sms_opt_in = email_opt_in & (rng.random(n) < 0.25)
    return People(
        person_id=person_id,
        first=first,
        last=last,
        country=country,
        city=city,
        email=email,
        secondary_email=secondary,
        has_secondary=has_secondary,
        secondary_in_crm=has_secondary & has_contact & (rng.random(n) < 0.7),
        arrival_op=arrival_op,
        arrival_seconds=arrival_seconds,
        channel=channel,
        is_buyer=is_buyer,
        has_account=has_account,
        has_contact=has_contact,
        email_opt_in=email_opt_in,
        sms_opt_in=sms_opt_in,
        purchase_rate=rng.gamma(PURCHASE_RATE_SHAPE, PURCHASE_RATE_SCALE, n),
        dropout=rng.beta(DROPOUT_A, DROPOUT_B, n),
        engagement=rng.beta(2.0, 4.0, n),
        satisfaction=rng.beta(5.0, 1.6, n),
    )


def _emails(
    person_id: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    rng: np.random.Generator,
    domains: tuple[str, ...],
    style_offset: int = 0,
) -> pa.Array:
    """Unique lower-case addresses such as ``emma.jones1234@gmail.com``."""
    n = len(person_id)
    style = (rng.integers(0, 3, n) + style_offset) % 3
    f, la = _FIRST_SLUGS[first], _LAST_SLUGS[last]
    f0 = np.array([s[:1] for s in _FIRST_SLUGS])[first]
    l0 = np.array([s[:1] for s in _LAST_SLUGS])[last]
    head = np.where(style == 0, f, np.where(style == 1, f, f0))
    tail = np.where(style == 0, la, np.where(style == 1, l0, la))
    sep = np.where(style == 0, ".", "")
    number = pc.cast(pa.array(person_id), pa.string())
    local = pc.binary_join_element_wise(pa.array(head), pa.array(sep), pa.array(tail), number, "")
    domain = np.array(domains)[rng.integers(0, len(domains), n)]
    return pc.binary_join_element_wise(local, pa.array(domain), "@")


def email_variants(emails: pa.Array, share: float, rng: np.random.Generator) -> pa.Array:
    """The same addresses as another system stores them: some capitalised, padded, upper-cased.

    Normalising (trim + lower-case, docs/landing-contract.md) gives the original back, so identity still links.
    """
    n = len(emails)
    pick = rng.random(n)
    kind = rng.integers(0, 4, n)
    capitalised = pc.utf8_capitalize(emails)
    upper = pc.utf8_upper(emails)
    padded = pc.binary_join_element_wise(pa.scalar(" "), emails, pa.scalar(" "), "")
    trailing = pc.binary_join_element_wise(emails, pa.scalar(" "), "")
    varied = pc.if_else(
        pa.array(kind == 0),
        capitalised,
        pc.if_else(pa.array(kind == 1), upper, pc.if_else(pa.array(kind == 2), padded, trailing)),
    )
    return pc.if_else(pa.array(pick < share), varied, emails)
