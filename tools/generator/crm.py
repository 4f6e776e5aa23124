"""The CRM: contacts (with referrals and second emails), support tickets, NPS and reviews."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import formats as fmt
from . import reference as ref
from . import timeline
from .common import DAY, EXPORT_ENDS, Counters, clip_to_end, export_of, pick, with_export
from .people import People, email_variants
from .shop import Shop, phones

TOPICS = ("where is my order", "damaged item", "refund request", "subscription change",
          "product question", "login problem")  # fmt: skip
GOOD_COMMENTS = ("Great coffee, fast delivery", 'Love the "Espresso Blend"!', "Will order again",
                 "Excellent service, thank you")  # fmt: skip
BAD_COMMENTS = ("Arrived late", "Beans were stale, disappointed", "Too expensive for what it is",
                "Support never answered")  # fmt: skip


def contact_ids(people: People, rows: np.ndarray) -> pa.Array:
    """CRM ids derive from the person so every table of the chunk agrees."""
    return fmt.ids("C", people.person_id[rows], 8)


def make_contacts(people: People, rng: np.random.Generator) -> pa.Table:
    """Contacts, two versions for those changed after the first export."""
    rows = np.flatnonzero(people.has_contact)
    n = len(rows)
    lag = np.where(
        people.is_buyer[rows], rng.integers(0, 10 * DAY, n), -rng.integers(0, 30 * DAY, n)
    )
    created = clip_to_end(np.maximum(timeline.START_SECOND, people.arrival_seconds[rows] + lag))
    # Referrals point at a contact of the same chunk created earlier.
    order = np.argsort(created, kind="stable")
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    referral = (people.channel[rows] == ref.CHANNELS.index("referral")) & (position > 0)
    referrer_position = (rng.random(n) * np.maximum(position, 1)).astype(np.int64)
    referrer = rows[order[referrer_position]]
    referrer_id = pc.if_else(
        pa.array(referral), contact_ids(people, referrer), pa.scalar(None, pa.string())
    )
    channel_text = np.empty(n, dtype=object)
    for index, name in enumerate(ref.CHANNELS):
        chosen = people.channel[rows] == index
        channel_text[chosen] = pick(rng, ref.ACQUISITION_CHANNELS[name], int(chosen.sum()))
    no_channel = rng.random(n) < 0.12
    secondary = people.secondary_in_crm[rows]
    secondary_email = pc.if_else(
        pa.array(secondary),
        email_variants(people.secondary_email.take(pa.array(rows)), 0.2, rng),
        pa.scalar(None, pa.string()),
    )
    email = email_variants(people.email.take(pa.array(rows)), 0.25, rng)
    changes = rng.random(n) < 0.3
    updated = created + (rng.random(n) * (timeline.END_SECOND - created)).astype(np.int64)
    moved_city = ref.COUNTRIES[0][5][0]
    city = np.asarray(people.city[rows], dtype=object)
    has_phone = rng.random(n) < 0.5
    phone = phones(people, rows, rng)
    first_names = np.array(ref.FIRST_NAMES)[people.first[rows]]
    no_name = rng.random(n) < 0.05

    def version(final: bool) -> pa.Table:
        changed = final & changes
        opt_in = np.where(
            changed & (rng_flip < 0.5), ~people.email_opt_in[rows], people.email_opt_in[rows]
        )
        return pa.table(
            {
                "contact_id": contact_ids(people, rows),
                "email": email,
                "first_name": fmt.strings(first_names, null=no_name),
                "last_name": fmt.strings(np.array(ref.LAST_NAMES)[people.last[rows]], null=no_name),
                "phone": pc.if_else(
                    pa.array(has_phone | changed), phone, pa.scalar(None, pa.string())
                ),
                "country_code": fmt.strings(ref.COUNTRY_CODES[people.country[rows]]),
                "city": fmt.strings(
                    np.where(
                        changed & (rng_flip >= 0.5) & (people.country[rows] == 0), moved_city, city
                    )
                ),
                "created_at": fmt.timestamps(created, 0, "z"),
                "updated_at": fmt.timestamps(np.where(changed, updated, created), 0, "z"),
                "acquisition_channel": fmt.strings(channel_text, null=no_channel),
                "referred_by_contact_id": referrer_id,
                "marketing_opt_in": fmt.booleans(opt_in, "yesno" if final else "YesNo"),
                "secondary_email": secondary_email,
                "sms_opt_in": fmt.booleans(people.sms_opt_in[rows], "truefalse" if final else "10"),
            }
        )

    rng_flip = rng.random(n)
    initial_export = export_of(created)
    final_export = np.where(changes, export_of(updated), initial_export)
    two = final_export != initial_export
    return pa.concat_tables(
        [
            with_export(version(False), initial_export).filter(pa.array(two)),
            with_export(version(True), final_export),
        ]
    )


def _person_email(people: People, rows: np.ndarray, rng: np.random.Generator) -> pa.Array:
    return email_variants(people.email.take(pa.array(rows)), 0.2, rng)


def make_tickets(
    people: People, shop: Shop, counters: Counters, rng: np.random.Generator
) -> pa.Table:
    """Support tickets, mostly a few days after an order; CSAT on most closed ones."""
    k_orders = int(len(shop.order_person) * 0.04)
    from_orders = rng.integers(0, max(len(shop.order_person), 1), k_orders)
    prospects = np.flatnonzero(~people.is_buyer)
    k_prospects = int(len(prospects) * 0.03)
    from_prospects = prospects[rng.integers(0, max(len(prospects), 1), k_prospects)]
    if len(shop.order_person) == 0:
        from_orders = from_orders[:0]
    person = np.concatenate([shop.order_person[from_orders], from_prospects])
    base = np.concatenate(
        [
            shop.order_seconds[from_orders] + rng.integers(DAY // 2, 10 * DAY, len(from_orders)),
            people.arrival_seconds[from_prospects] + rng.integers(0, 20 * DAY, len(from_prospects)),
        ]
    )
    # Tickets that would open after the simulated end have not happened yet (no pile-up there).
    happened = base < timeline.END_SECOND
    person, opened = person[happened], base[happened]
    order = np.argsort(opened, kind="stable")
    person, opened = person[order], opened[order]
    n = len(person)
    resolve = clip_to_end(opened + rng.exponential(1.5 * DAY, n).astype(np.int64) + 600)
    # A ticket row is written once, with the file of its opening: resolved no later than that.
    resolve = np.minimum(resolve, EXPORT_ENDS[export_of(opened)] - 1)
    recent = opened > timeline.END_SECOND - 5 * DAY
    status = np.where(rng.random(n) < 0.5, "resolved", "closed").astype(object)
    status[recent & (rng.random(n) < 0.5)] = "open"
    status[recent & (status != "open") & (rng.random(n) < 0.3)] = "pending"
    unresolved = (status == "open") | (status == "pending")
    sat = people.satisfaction[person]
    csat = np.clip(np.round(1 + 4 * sat + rng.normal(0, 0.7, n)), 1, 5).astype(np.int64)
    no_csat = unresolved | (rng.random(n) < 0.4)
    has_contact = people.has_contact[person]
    no_email = has_contact & (rng.random(n) < 0.1)
    offsets = people.offset_minutes(opened, person)
    return with_export(
        pa.table(
            {
                "ticket_id": fmt.ids("T", counters.take("ticket", n), 7),
                "contact_id": pc.if_else(
                    pa.array(has_contact), contact_ids(people, person), pa.scalar(None, pa.string())
                ),
                "email": pc.if_else(
                    pa.array(no_email),
                    pa.scalar(None, pa.string()),
                    _person_email(people, person, rng),
                ),
                "opened_at": fmt.timestamps(opened, offsets, "offset"),
                "resolved_at": fmt.timestamps(resolve, offsets, "offset", null=unresolved),
                "channel": fmt.strings(
                    np.array(["email", "chat", "phone", "social"])[
                        rng.choice(4, size=n, p=[0.45, 0.35, 0.15, 0.05])
                    ]
                ),
                "topic": fmt.strings(pick(rng, TOPICS, n)),
                "status": fmt.strings(status),
                "csat_score": fmt.integers(csat, null=no_csat),
            }
        ),
        export_of(opened),
    )


def make_feedback(
    people: People, shop: Shop, counters: Counters, rng: np.random.Generator
) -> pa.Table:
    """NPS answers (0-10) from some buyers and reviews (1-5) of some orders."""
    buyers = np.flatnonzero(people.is_buyer)
    nps_people = buyers[rng.random(len(buyers)) < 0.18]
    nps_at = people.arrival_seconds[nps_people] + rng.integers(7 * DAY, 200 * DAY, len(nps_people))
    review_orders = np.flatnonzero(rng.random(len(shop.order_person)) < 0.05)
    review_people = shop.order_person[review_orders]
    review_at = shop.order_seconds[review_orders] + rng.integers(
        3 * DAY, 30 * DAY, len(review_orders)
    )
    person = np.concatenate([nps_people, review_people])
    at = np.concatenate([nps_at, review_at])
    is_nps = np.arange(len(person)) < len(nps_people)
    happened = at < timeline.END_SECOND  # answers after the simulated end have not come yet
    person, at, is_nps = person[happened], at[happened], is_nps[happened]
    order = np.argsort(at, kind="stable")
    person, at, is_nps = person[order], at[order], is_nps[order]
    n = len(person)
    sat = people.satisfaction[person]
    nps = np.clip(np.round(10 * sat + rng.normal(0, 1.3, n)), 0, 10)
    stars = np.clip(np.round(1 + 4 * sat + rng.normal(0, 0.6, n)), 1, 5)
    score = np.where(is_nps, nps, stars).astype(np.int64)
    good = np.where(is_nps, score >= 8, score >= 4)
    comment = np.where(good, pick(rng, GOOD_COMMENTS, n), pick(rng, BAD_COMMENTS, n))
    no_comment = rng.random(n) < 0.55
    has_contact = people.has_contact[person]
    return with_export(
        pa.table(
            {
                "feedback_id": fmt.ids("FB", counters.take("feedback", n), 7),
                "contact_id": pc.if_else(
                    pa.array(has_contact), contact_ids(people, person), pa.scalar(None, pa.string())
                ),
                "email": _person_email(people, person, rng),
                "submitted_at": fmt.timestamps(at, 0, "z"),
                "feedback_type": fmt.strings(np.where(is_nps, "nps", "review")),
                "score": fmt.integers(score),
                "comment": fmt.strings(comment, null=no_comment),
            }
        ),
        export_of(at),
    )
