"""The loader's settings (group "loader" of ``orchestration/settings.py``), read when used."""

from __future__ import annotations

from orchestration import settings as registry

# The names CLM_CSV_ENCODING accepts (its declared choices) that DuckDB's CSV reader spells
# differently; it decodes utf-8, utf-16 and latin-1 without an extension (duckdb 2.0).
_DUCKDB_NAMES = {
    "utf8": "utf-8",
    "utf16": "utf-16",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
    "iso8859-1": "latin-1",
}


def csv_encodings() -> tuple[str, ...]:
    """``CLM_CSV_ENCODING`` as DuckDB encoding names, in the order to try them.

    Raises ``SettingError`` (a ``ValueError``) naming the setting for an encoding DuckDB
    cannot decode.
    """
    names = []
    for name in registry.value("CLM_CSV_ENCODING"):
        name = _DUCKDB_NAMES.get(name, name)
        if name not in names:
            names.append(name)
    return tuple(names)
