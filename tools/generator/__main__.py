"""``python -m tools.generator``: the generator without the runtime's CLI (benchmarks, scripts).

``clm generate`` covers the everyday use; this entry point adds the day-after increment and a
JSON manifest of what was written.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import SCALES, generate


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, generate, print a one-line summary (or the manifest as JSON)."""
    parser = argparse.ArgumentParser(prog="python -m tools.generator", description=__doc__)
    parser.add_argument("out_dir", help="landing folder to write into")
    parser.add_argument("--scale", default="xs", choices=list(SCALES))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dirty", action="store_true", help="add every kind of bad input")
    parser.add_argument(
        "--day-after",
        action="store_true",
        help="write only the next day's increment of the data set the same scale and seed give",
    )
    parser.add_argument("--manifest", help="also write the manifest (files, rows, ids) here")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    report = generate(
        args.out_dir,
        scale=args.scale,
        seed=args.seed,
        dirty=args.dirty,
        day_after=args.day_after,
        progress=(lambda _: None) if args.quiet else print,
    )
    if args.manifest:
        manifest = {**report.manifest(), "seconds": round(report.seconds, 3)}
        with open(args.manifest, "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
