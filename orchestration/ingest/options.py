"""The loader's settings (``LOADER_SETTINGS`` in ``orchestration/settings.py``), read when used."""

from __future__ import annotations

import os

from orchestration.settings import LOADER_SETTINGS

# DuckDB's CSV reader decodes these without an extension (duckdb 2.0).
SUPPORTED_ENCODINGS = ("utf-8", "utf-16", "latin-1")
_ENCODING_ALIASES = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "utf16": "utf-16",
    "utf-16": "utf-16",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
    "iso8859-1": "latin-1",
}


def setting(name: str) -> str:
    """The value of a loader setting: the environment's, else its default."""
    return os.environ.get(name) or LOADER_SETTINGS[name][0]


def csv_encodings() -> tuple[str, ...]:
    """``CLM_CSV_ENCODING`` as DuckDB encoding names, in the order to try them.

    Raises ``ValueError`` naming the setting for an encoding DuckDB cannot decode.
    """
    names = []
    for raw in setting("CLM_CSV_ENCODING").split(","):
        if not raw.strip():
            continue
        name = _ENCODING_ALIASES.get(raw.strip().lower())
        if name is None:
            raise ValueError(
                f"CLM_CSV_ENCODING: unsupported encoding {raw.strip()!r} "
                f"(supported: {', '.join(SUPPORTED_ENCODINGS)})"
            )
        if name not in names:
            names.append(name)
    return tuple(names) or ("utf-8",)
