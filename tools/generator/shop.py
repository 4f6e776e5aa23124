"""The shop: accounts, orders (with guests, refunds, cancellations), lines and checkouts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import formats as fmt
from . import reference as ref
from . import timeline
from .billing import Billing
from .common import DAY, Counters, clip_to_end, export_of, pick, with_export
from .people import People, email_variants

GUEST_SHARE_OF_ACCOUNT_ORDERS = 0.04
ABANDONED_PER_COMPLETED = 7 / 3  # 70 % of checkouts abandoned, a typical e-commerce rate
REFUND_REASONS = ("damaged in transit", "wrong item", "customer request", "late delivery", "taste")
PHONE_PREFIX = {"US": "+1", "CA": "+1", "GB": "+44", "DE": "+49", "FR": "+33", "NL": "+31",
                "ES": "+34", "IT": "+39", "IE": "+353", "AU": "+61"}  # fmt: skip


@dataclass
class Shop:
    """The shop tables of one chunk, each with its export-file column."""

    customers: pa.Table
    orders: pa.Table
    order_lines: pa.Table
    refunds: pa.Table
    checkouts: pa.Table
    order_ids: np.ndarray  # for references from other tables
    order_person: np.ndarray
    order_seconds: np.ndarray


def _purchase_times(people: People, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Rows into People and operational times of every purchase (BG/NBD-like process)."""
    buyers = np.flatnonzero(people.is_buyer)
    start = people.arrival_op[buyers]
    window = timeline.TOTAL - start
    rate = people.purchase_rate[buyers]
    in_window = rng.poisson(rate * window)
    # Transactions until dropout, counting the first: after each one the buyer leaves with p.
    until_dropout = rng.geometric(people.dropout[buyers])
    repeats = np.minimum(in_window, until_dropout - 1)
    # The first `repeats` of `in_window` uniform points, via exponential spacings.
    owner = np.repeat(np.arange(len(buyers)), repeats)
    spacing = rng.exponential(1.0, len(owner))
    cumulative = np.cumsum(spacing)
    group_start = np.cumsum(repeats) - repeats
    before = np.concatenate([[0.0], cumulative])[group_start]
    within = cumulative - np.repeat(before, repeats)
    last = np.zeros(len(buyers))
    has = repeats > 0
    last[has] = within[np.cumsum(repeats)[has] - 1]
    rest = rng.gamma(np.maximum(in_window - repeats + 1, 1).astype(float), 1.0)
    total = last + rest
    repeat_times = start[owner] + window[owner] * within / total[owner]
    person = np.concatenate([buyers, buyers[owner]])
    times = np.concatenate([start, repeat_times])
    return person, times


def _unit_prices(currency: np.ndarray, product: np.ndarray) -> np.ndarray:
    """Local price in cents, ending in .99 / .49 like a real price list."""
    local = ref.PRODUCT_PRICES_USD[product] * ref.PRICE_FACTOR[currency]
    return (np.round(local / 50) * 50 - 1).astype(np.int64)


def make_shop(
    people: People, billing: Billing, counters: Counters, rng: np.random.Generator
) -> Shop:
    """All shop tables for one chunk of people."""
    person, op_times = _purchase_times(people, rng)
    seconds = timeline.seconds_from_operational(op_times, rng)
    first_order = np.zeros(len(person), dtype=bool)
    first_order[: int(people.is_buyer.sum())] = True
    # Subscription bills become orders too.
    n_shop = len(person)
    person = np.concatenate([person, billing.bill_person])
    seconds = clip_to_end(np.concatenate([seconds, billing.bill_seconds]))
    first_order = np.concatenate([first_order, np.zeros(len(billing.bill_person), dtype=bool)])
    is_subscription = np.arange(len(person)) >= n_shop
    order = np.lexsort((seconds, person))  # by person, then time: numbers follow time per person
    person, seconds, first_order, is_subscription = (
        person[order],
        seconds[order],
        first_order[order],
        is_subscription[order],
    )
    sub_index = np.where(is_subscription, order - n_shop, -1)
    n = len(person)
    order_ids = np.array(fmt.ids("ORD", counters.take("order", n), 8).to_pylist(), dtype=object)

    # Who: account holders mostly log in; guests never do.
    account = people.has_account[person] & (
        is_subscription | (rng.random(n) >= GUEST_SHARE_OF_ACCOUNT_ORDERS)
    )
    shop_customer_id = fmt.ids("SC", people.person_id[person], 8)
    use_secondary = people.has_secondary[person] & (rng.random(n) < 0.2)
    email = pc.if_else(
        pa.array(use_secondary),
        people.secondary_email.take(pa.array(person)),
        people.email.take(pa.array(person)),
    )
    email = email_variants(email, 0.08, rng)
    currency = people.currency[person]
    offsets = people.offset_minutes(seconds, person)

    # Lines: subscription bills have one line, the plan.
    n_lines = np.where(is_subscription, 1, 1 + np.minimum(rng.poisson(0.8, n), 5))
    line_order = np.repeat(np.arange(n), n_lines)
    m = len(line_order)
    product = rng.choice(len(ref.PRODUCTS), size=m, p=ref.PRODUCT_WEIGHTS)
    quantity = np.where(rng.random(m) < 0.82, 1, rng.integers(2, 5, m))
    unit_price = _unit_prices(currency[line_order], product)
    line_is_sub = is_subscription[line_order]
    line_sub = sub_index[line_order]
    plan = (
        np.where(line_is_sub, billing.bill_plan[np.maximum(line_sub, 0)], 0)
        if len(billing.bill_plan)
        else np.zeros(m, dtype=np.int64)
    )
    unit_price = np.where(
        line_is_sub,
        billing.bill_price_cents[np.maximum(line_sub, 0)] if len(billing.bill_plan) else 0,
        unit_price,
    )
    quantity = np.where(line_is_sub, 1, quantity)
    line_discount = np.where(
        ~line_is_sub & (rng.random(m) < 0.08), (quantity * unit_price * 0.1).astype(np.int64), 0
    )
    line_amount = quantity * unit_price - line_discount
    subtotal = np.bincount(line_order, weights=line_amount, minlength=n).astype(np.int64)
    discount = np.where(
        ~is_subscription & (rng.random(n) < 0.15),
        (subtotal * rng.choice([0.1, 0.15, 0.2], n)).astype(np.int64),
        0,
    )
    net = subtotal - discount
    shipping = np.where(
        is_subscription | (net >= 4000 * ref.PRICE_FACTOR[currency]),
        0,
        np.round(495 * ref.PRICE_FACTOR[currency]).astype(np.int64),
    )
    tax = np.round(net * ref.COUNTRY_TAX[people.country[person]]).astype(np.int64)
    total = net + shipping + tax

    # Status: cancellations, failed payments, pending at the end, refunds.
    roll = rng.random(n)
    cancelled = ~is_subscription & (roll < 0.015)
    voided = ~is_subscription & (roll >= 0.015) & (roll < 0.022)
    recent = seconds > timeline.END_SECOND - 4 * DAY
    pending_now = ~cancelled & ~voided & recent & (rng.random(n) < 0.4)
    # Some older orders were pending for a day or two before being paid: two versions.
    was_pending = ~cancelled & ~voided & ~pending_now & (rng.random(n) < 0.01)
    cancel_at = clip_to_end(seconds + rng.integers(600, 2 * DAY, n))
    cancel_refunded = cancelled & (rng.random(n) < 0.4)
    refundable = ~cancelled & ~voided & ~pending_now
    refund_at = seconds + rng.integers(2 * DAY, 40 * DAY, n)
    refunded = refundable & (rng.random(n) < 0.07) & (refund_at < timeline.END_SECOND)
    partial = refunded & (rng.random(n) < 0.6)
    full = (refunded & ~partial) | cancel_refunded
    status = np.full(n, "paid", dtype=object)
    status[partial] = "partially_refunded"
    status[full] = "refunded"
    status[cancelled & ~cancel_refunded] = "voided"
    status[voided] = "voided"
    status[pending_now] = "pending"
    change_at = np.where(cancelled, cancel_at, np.where(refunded, refund_at, seconds))
    paid_at = seconds + rng.integers(DAY // 2, 3 * DAY, n)
    change_at = np.where(was_pending, paid_at, change_at)
    change_at = clip_to_end(change_at)

    # Attribution: first orders carry the acquisition channel; repeats mostly email or direct.
    channel_of = people.channel[person]
    repeat_channel = rng.choice(
        len(ref.CHANNELS), size=n, p=[0.1, 0.1, 0.35, 0.05, 0.08, 0.02, 0.03, 0.27]
    )
    channel = np.where(first_order, channel_of, repeat_channel)
    utm_source = np.full(n, None, dtype=object)
    for index, name in enumerate(ref.CHANNELS):
        rows = channel == index
        utm_source[rows] = pick(rng, ref.UTM_SOURCES[name], int(rows.sum()))
    direct = channel == ref.CHANNELS.index("direct")
    no_utm = is_subscription | (direct & (rng.random(n) < 0.7))
    month = np.asarray(seconds).astype("datetime64[s]").astype("datetime64[M]").astype(str)
    campaign_kind = np.array(["always_on", "seasonal_sale", "retargeting", "newsletter"])[
        rng.integers(0, 4, n)
    ]
    utm_campaign = pc.binary_join_element_wise(pa.array(campaign_kind), pa.array(month), "_")
    source_channel = np.where(
        is_subscription,
        "subscription",
        np.array(["web", "app", "pos"])[rng.choice(3, size=n, p=[0.66, 0.28, 0.06])],
    )
    source_channel = np.asarray(source_channel, dtype=object)
    pos = source_channel == "pos"
    no_utm = no_utm | pos

    initial_status = status.copy()
    initial_status[refunded | cancelled] = "paid"
    initial_status[was_pending | pending_now] = "pending"

    def order_version(final: bool) -> pa.Table:
        st = status if final else initial_status
        updated = change_at if final else seconds
        return pa.table(
            {
                "order_id": fmt.strings(order_ids),
                "shop_customer_id": pc.if_else(
                    pa.array(account), shop_customer_id, pa.scalar(None, pa.string())
                ),
                "email": email,
                "ordered_at": fmt.timestamps(seconds, offsets, "offset"),
                "currency": fmt.strings(np.array(ref.CURRENCIES)[currency]),
                "subtotal": fmt.money(subtotal),
                "discount_total": fmt.money(discount),
                "shipping_total": fmt.money(shipping),
                "tax_total": fmt.money(tax),
                "total": fmt.money(total),
                "financial_status": fmt.strings(st),
                "cancelled_at": fmt.timestamps(
                    cancel_at, offsets, "offset", null=~(cancelled & final)
                ),
                "source_channel": fmt.strings(source_channel),
                "subscription_id": fmt.strings(
                    billing.bill_subscription_id[np.maximum(sub_index, 0)]
                    if len(billing.bill_plan)
                    else np.full(n, None),
                    null=~is_subscription,
                ),
                "utm_source": fmt.strings(utm_source, null=no_utm),
                "utm_campaign": pc.if_else(
                    pa.array(no_utm), pa.scalar(None, pa.string()), utm_campaign
                ),
                "updated_at": fmt.timestamps(updated, offsets, "offset"),
            }
        )

    initial_export = export_of(seconds)
    final_export = export_of(change_at)
    two = final_export != initial_export
    orders = pa.concat_tables(
        [
            with_export(order_version(False), initial_export).filter(pa.array(two)),
            with_export(order_version(True), final_export),
        ]
    )

    line_ids = fmt.ids("OL", counters.take("order_line", m), 9)
    plan_names = np.array([f"Subscription: {p[0]}" for p in ref.PLANS])
    order_lines = with_export(
        pa.table(
            {
                "order_line_id": line_ids,
                "order_id": fmt.strings(order_ids[line_order]),
                "sku": fmt.strings(
                    np.where(
                        line_is_sub,
                        np.char.add("SUB-", plan.astype(str)),
                        ref.PRODUCT_SKUS[product],
                    )
                ),
                "product_name": fmt.strings(
                    np.where(line_is_sub, plan_names[plan], ref.PRODUCT_NAMES[product])
                ),
                "category": fmt.strings(
                    np.where(line_is_sub, "subscription", ref.PRODUCT_CATEGORIES[product])
                ),
                "quantity": fmt.integers(quantity),
                "unit_price": fmt.money(unit_price),
                "line_discount": fmt.money(line_discount, null=line_discount == 0),
            }
        ),
        initial_export[line_order],
    )

    refunds = _refunds(
        order_ids,
        refunded,
        partial,
        full,
        cancelled,
        refund_at,
        cancel_at,
        total,
        currency,
        offsets,
        counters,
        rng,
    )
    checkouts = _checkouts(
        people,
        order_ids,
        person,
        seconds,
        account,
        email,
        source_channel,
        net,
        currency,
        counters,
        rng,
    )
    customers = _customers(people, counters, rng)
    return Shop(
        customers=customers,
        orders=orders,
        order_lines=order_lines,
        refunds=refunds,
        checkouts=checkouts,
        order_ids=order_ids,
        order_person=person,
        order_seconds=seconds,
    )


def _refunds(
    order_ids: np.ndarray,
    refunded: np.ndarray,
    partial: np.ndarray,
    full: np.ndarray,
    cancelled: np.ndarray,
    refund_at: np.ndarray,
    cancel_at: np.ndarray,
    total: np.ndarray,
    currency: np.ndarray,
    offsets: np.ndarray,
    counters: Counters,
    rng: np.random.Generator,
) -> pa.Table:
    """Full refunds of the whole total; partial ones, sometimes two, never above the total."""
    rows = np.flatnonzero(full | partial)
    at = np.where(cancelled[rows], cancel_at[rows], refund_at[rows])
    share = np.where(partial[rows], rng.uniform(0.1, 0.6, len(rows)), 1.0)
    amount = np.maximum(1, (total[rows] * share).astype(np.int64))
    amount = np.where(full[rows], total[rows], amount)
    second = partial[rows] & (rng.random(len(rows)) < 0.15)
    second_at = clip_to_end(at[second] + rng.integers(DAY, 10 * DAY, int(second.sum())))
    second_amount = np.maximum(
        1, ((total[rows][second] - amount[second]) * rng.uniform(0.1, 0.5, int(second.sum())))
    ).astype(np.int64)
    order_row = np.concatenate([rows, rows[second]])
    at = np.concatenate([at, second_at])
    amount = np.concatenate([amount, second_amount])
    k = len(order_row)
    no_currency = rng.random(k) < 0.2  # the order's currency, docs/landing-contract.md
    reason = np.where(cancelled[order_row], "order cancelled", pick(rng, REFUND_REASONS, k))
    return with_export(
        pa.table(
            {
                "refund_id": fmt.ids("RF", counters.take("refund", k), 7),
                "order_id": fmt.strings(order_ids[order_row]),
                "refunded_at": fmt.timestamps(at, offsets[order_row], "offset"),
                "amount": fmt.money(amount),
                "currency": fmt.strings(
                    np.array(ref.CURRENCIES)[currency[order_row]], null=no_currency
                ),
                "reason": fmt.strings(reason),
            }
        ),
        export_of(at),
    )


def _checkouts(
    people: People,
    order_ids: np.ndarray,
    person: np.ndarray,
    seconds: np.ndarray,
    account: np.ndarray,
    email: pa.Array,
    source_channel: np.ndarray,
    net: np.ndarray,
    currency: np.ndarray,
    counters: Counters,
    rng: np.random.Generator,
) -> pa.Table:
    """A completed checkout for every web/app order, and abandoned ones around them."""
    online = np.flatnonzero((source_channel == "web") | (source_channel == "app"))
    done_at = seconds[online] - rng.integers(60, 1800, len(online))
    k = int(round(len(online) * ABANDONED_PER_COMPLETED)) if len(online) else 0
    # Abandoned carts follow the orders in time (so the abandonment rate is ~70 % in every
    # month, not rising towards the end): each lies within ten days of a random online order
    # (mirrored to before it where it would fall after the simulated end), half by the same
    # person, the others by anyone known by then.
    near = online[rng.integers(0, max(len(online), 1), k)]
    gap = rng.integers(-10 * DAY, 10 * DAY, k)
    abandoned_at = seconds[near] + gap
    abandoned_at = np.where(
        abandoned_at < timeline.END_SECOND, abandoned_at, seconds[near] - np.abs(gap)
    )
    by_arrival = np.argsort(people.arrival_seconds, kind="stable")
    known = np.searchsorted(people.arrival_seconds[by_arrival], abandoned_at, side="right")
    anyone = by_arrival[(rng.random(k) * np.maximum(known, 1)).astype(np.int64)]
    who = np.where(rng.random(k) < 0.5, person[near], anyone)
    abandoned_at = np.maximum(abandoned_at, people.arrival_seconds[who])
    abandoned_email = email_variants(people.email.take(pa.array(who)), 0.1, rng)
    anonymous = rng.random(k) < 0.08
    logged_in = people.has_account[who] & (rng.random(k) < 0.6) & ~anonymous
    basket = (rng.lognormal(np.log(3500), 0.6, k) * ref.PRICE_FACTOR[people.currency[who]]).astype(
        np.int64
    )
    at = np.concatenate([done_at, abandoned_at])
    order = np.argsort(at, kind="stable")
    customer_ids = pa.concat_arrays(
        [
            pc.if_else(
                pa.array(account[online]),
                fmt.ids("SC", people.person_id[person[online]], 8),
                pa.scalar(None, pa.string()),
            ),
            pc.if_else(
                pa.array(logged_in),
                fmt.ids("SC", people.person_id[who], 8),
                pa.scalar(None, pa.string()),
            ),
        ]
    )
    emails = pa.concat_arrays(
        [
            email.take(pa.array(online)),
            pc.if_else(pa.array(anonymous), pa.scalar(None, pa.string()), abandoned_email),
        ]
    )
    completed = np.concatenate([order_ids[online], np.full(k, None, dtype=object)])
    totals = np.concatenate([net[online], basket])
    cur = np.concatenate([currency[online], people.currency[who]])
    offsets = np.concatenate(
        [people.offset_minutes(done_at, person[online]), people.offset_minutes(abandoned_at, who)]
    )
    n = len(at)
    table = pa.table(
        {
            "checkout_id": fmt.ids("CO", counters.take("checkout", n), 9),
            "shop_customer_id": customer_ids.take(pa.array(order)),
            "email": emails.take(pa.array(order)),
            "created_at": fmt.timestamps(at[order], 0, "naive"),
            "completed_order_id": fmt.strings(completed[order], null=completed[order] == None),  # noqa: E711
            "cart_total": fmt.money(totals[order]),
            "currency": fmt.strings(np.array(ref.CURRENCIES)[cur[order]]),
        }
    )
    del offsets
    return with_export(table, export_of(at[order]))


def phones(people: People, rows: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """Phone numbers as people type them: with or without the country prefix."""
    prefix = np.array([PHONE_PREFIX[c] for c in ref.COUNTRY_CODES])[people.country[rows]]
    number = pc.cast(pa.array(rng.integers(100_000_000, 999_999_999, len(rows))), pa.string())
    with_prefix = pc.binary_join_element_wise(pa.array(prefix), number, " ")
    return pc.if_else(pa.array(rng.random(len(rows)) < 0.7), with_prefix, number)


def _customers(people: People, counters: Counters, rng: np.random.Generator) -> pa.Table:
    """Shop accounts, created with the first order; some changed later (a second version)."""
    rows = np.flatnonzero(people.has_account)
    n = len(rows)
    created = np.maximum(
        timeline.START_SECOND, people.arrival_seconds[rows] - rng.integers(60, 900, n)
    )
    updated = created + (rng.random(n) * (timeline.END_SECOND - created)).astype(np.int64)
    changes = rng.random(n) < 0.25
    email = email_variants(people.email.take(pa.array(rows)), 0.15, rng)
    has_phone = rng.random(n) < 0.6
    phone = phones(people, rows, rng)
    accepts = people.email_opt_in[rows]
    offsets = people.offset_minutes(created, rows)

    def version(final: bool) -> pa.Table:
        opted = np.where(final & changes, ~accepts, accepts)
        return pa.table(
            {
                "shop_customer_id": fmt.ids("SC", people.person_id[rows], 8),
                "email": email,
                "first_name": fmt.strings(np.array(ref.FIRST_NAMES)[people.first[rows]]),
                "last_name": fmt.strings(np.array(ref.LAST_NAMES)[people.last[rows]]),
                "phone": pc.if_else(pa.array(has_phone), phone, pa.scalar(None, pa.string())),
                "country_code": fmt.strings(ref.COUNTRY_CODES[people.country[rows]]),
                "created_at": fmt.timestamps(created, offsets, "offset"),
                "updated_at": fmt.timestamps(
                    np.where(final & changes, updated, created), offsets, "offset"
                ),
                "accepts_marketing": fmt.booleans(opted, "10" if final else "truefalse"),
                "sms_opt_in": fmt.booleans(people.sms_opt_in[rows], "yesno"),
            }
        )

    initial_export = export_of(created)
    final_export = np.where(changes, export_of(updated), initial_export)
    two = final_export != initial_export
    return pa.concat_tables(
        [
            with_export(version(False), initial_export).filter(pa.array(two)),
            with_export(version(True), final_export),
        ]
    )
