"""A publisher run as its own process by the fault tests: one publication, real report.

Usage: publisher_process.py WORK_DB BI_FILE RUN_ID [--fsize BYTES] [--loop N]

With ``--fsize`` the process may write no file larger than BYTES (``RLIMIT_FSIZE``, with
SIGXFSZ ignored so writes fail with EFBIG as on a full disk). Prints one JSON line per
publication; on failure prints ``error: <message>`` on stderr and exits 1, as ``clm run``'s
publish step reports it.
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import sys
from pathlib import Path

from orchestration.publish import PublishError, PublishOptions, publish_marts
from orchestration.report import write_report


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("work")
    parser.add_argument("bi")
    parser.add_argument("run_id")
    parser.add_argument("--fsize", type=int, default=None)
    parser.add_argument("--loop", type=int, default=1)
    args = parser.parse_args()
    bi = Path(args.bi)
    options = PublishOptions(
        parquet_dir=bi.parent / "parquet",
        report_path=bi.parent / "lifecycle-report.html",
        report_writer=write_report,
        reporting_currency="USD",
    )
    if args.fsize is not None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (args.fsize, args.fsize))
    for iteration in range(args.loop):
        try:
            result = publish_marts(
                args.work,
                bi,
                validation_passed=True,
                run_id=f"{args.run_id}-{iteration}",
                options=options,
            )
        except PublishError as error:
            print(f"error: {error}", file=sys.stderr, flush=True)
            return 1
        print(json.dumps({"published": result.published, "id": result.publication_id}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
