"""A BI reader run as its own process by test_publish.py: opens the BI file read-only in a loop.

Each iteration opens one read-only connection, reads the published version marker
(``meta.publication.run_id``) and both tables' version and row count in that connection, and
prints one JSON line. Errors are printed, not raised, so the test sees every one.
"""

from __future__ import annotations

import json
import sys
import time

import duckdb


def main(path: str, stop_file: str, max_iterations: int, max_seconds: float) -> None:
    deadline = time.monotonic() + max_seconds
    for _ in range(max_iterations):  # bounded, and bounded in time below
        if time.monotonic() > deadline or _exists(stop_file):
            break
        try:
            con = duckdb.connect(path, read_only=True)
            try:
                marker = con.execute("select run_id from meta.publication").fetchone()
                a = con.execute(
                    "select min(version), max(version), count(*) from marts.a"
                ).fetchone()
                b = con.execute(
                    "select min(version), max(version), count(*) from marts.b"
                ).fetchone()
            finally:
                con.close()
            print(json.dumps({"marker": marker[0], "a": list(a), "b": list(b)}), flush=True)
        except Exception as error:  # noqa: BLE001 - the test wants every failure reported
            print(json.dumps({"error": f"{type(error).__name__}: {error}"}), flush=True)
        time.sleep(0.005)
    print(json.dumps({"done": True}), flush=True)


def _exists(path: str) -> bool:
    try:
        with open(path):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
