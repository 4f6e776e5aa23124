"""Vectorised formatting of values the way the source systems write them (docs/landing-contract.md)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Spellings the contract allows for booleans (any case).
BOOLEAN_SPELLINGS: dict[str, tuple[str, str]] = {
    "truefalse": ("true", "false"),
    "TRUEFALSE": ("TRUE", "FALSE"),
    "10": ("1", "0"),
    "yesno": ("yes", "no"),
    "YesNo": ("Yes", "No"),
}


def _null_mask(values: np.ndarray, null: np.ndarray | None) -> np.ndarray | None:
    return None if null is None else np.asarray(null, dtype=bool)


def strings(values: np.ndarray | list, null: np.ndarray | None = None) -> pa.Array:
    """A string array, NULL where ``null`` is true."""
    return pa.array(values, type=pa.string(), mask=_null_mask(values, null))


def integers(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Integers as text."""
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64), mask=null), pa.string())


def money(cents: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Integer cents as a decimal with ``.`` and two places: ``1234`` -> ``12.34``."""
    cents = np.asarray(cents, dtype=np.int64)
    magnitude = np.abs(cents)
    whole = pc.cast(pa.array(magnitude // 100), pa.string())
    fraction = pc.utf8_lpad(pc.cast(pa.array(magnitude % 100), pa.string()), 2, "0")
    sign = pa.array(np.where(cents < 0, "-", ""), type=pa.string())
    text = pc.binary_join_element_wise(pc.binary_join_element_wise(sign, whole, ""), fraction, ".")
    if null is not None:
        text = pc.if_else(
            pa.array(np.asarray(null, dtype=bool)), pa.scalar(None, pa.string()), text
        )
    return text


def timestamps(
    seconds: np.ndarray,
    offset_minutes: np.ndarray | int = 0,
    suffix: str = "offset",
    null: np.ndarray | None = None,
) -> pa.Array:
    """ISO 8601 text for UTC epoch ``seconds``.

    ``suffix``: ``offset`` writes local time with its offset (``+02:00``; ``Z`` when the offset
    is 0 and the source writes it so), ``z`` writes UTC with ``Z``, ``naive`` writes UTC with no
    offset (docs/landing-contract.md: taken as UTC).
    """
    seconds = np.asarray(seconds, dtype=np.int64)
    offsets = np.broadcast_to(np.asarray(offset_minutes, dtype=np.int64), seconds.shape)
    if suffix != "offset":
        offsets = np.zeros_like(seconds)
    local = (seconds + offsets * 60).astype("datetime64[s]")
    text = iso_text(pa.array(local))
    if suffix == "z":
        text = pc.binary_join_element_wise(text, "Z", "")
    elif suffix == "offset":
        text = pc.binary_join_element_wise(text, offset_text(offsets), "")
    if null is not None:
        text = pc.if_else(
            pa.array(np.asarray(null, dtype=bool)), pa.scalar(None, pa.string()), text
        )
    return text


def offset_text(offset_minutes: np.ndarray) -> pa.Array:
    """``+02:00`` / ``-05:00`` / ``+00:00`` for minutes east of UTC."""
    offsets = np.asarray(offset_minutes, dtype=np.int64)
    sign = np.where(offsets < 0, "-", "+")
    hours = np.abs(offsets) // 60
    minutes = np.abs(offsets) % 60
    hh = pc.utf8_lpad(pc.cast(pa.array(hours), pa.string()), 2, "0")
    mm = pc.utf8_lpad(pc.cast(pa.array(minutes), pa.string()), 2, "0")
    return pc.binary_join_element_wise(
        pc.binary_join_element_wise(pa.array(sign, type=pa.string()), hh, ""), mm, ":"
    )


def dates(days: np.ndarray) -> pa.Array:
    """``YYYY-MM-DD`` for days since 1970-01-01."""
    # Casting is ~40x faster than pc.strftime and gives the same text.
    return pc.cast(pa.array(np.asarray(days).astype("datetime64[D]")), pa.string())


def iso_text(values: pa.Array) -> pa.Array:
    """``YYYY-MM-DDTHH:MM:SS`` for a second-resolution timestamp array, no offset.

    Casting to text (``YYYY-MM-DD HH:MM:SS``) and swapping the space is ~40x faster than
    ``pc.strftime``.
    """
    if values.type.tz is not None:
        values = values.cast(pa.timestamp(values.type.unit))
    return pc.replace_substring(pc.cast(values, pa.string()), " ", "T", max_replacements=1)


def booleans(values: np.ndarray, spelling: str, null: np.ndarray | None = None) -> pa.Array:
    """Booleans written in one of the contract's spellings."""
    yes, no = BOOLEAN_SPELLINGS[spelling]
    return strings(np.where(np.asarray(values, dtype=bool), yes, no), null)


def ids(prefix: str, numbers: np.ndarray, width: int = 7) -> pa.Array:
    """Ids such as ``ORD-0000042``."""
    digits = pc.utf8_lpad(
        pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width, "0"
    )
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")
