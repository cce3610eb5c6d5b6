"""`halfcost drift profile`: save a reference's statistics once, for fast drift checks."""

from __future__ import annotations

import argparse

HELP = "save reference statistics (a profile) for fast drift checks"
DESCRIPTION = """\
Summarise the reference (training) table once — value counts, distribution summaries,
standard deviations, small columns whole, and a seeded row sample for reports — into a
profile folder PROFILE (profile.json + sample.parquet). Give it to `drift check
--reference` instead of the table: the reference is not re-read on every check.

example:
  halfcost drift profile train.csv --out train.profile --target churned
"""


def register(parser: argparse.ArgumentParser) -> None:
    """Add the profile flags."""
    parser.add_argument("reference", metavar="REF", help="the reference table (.csv/.parquet)")
    parser.add_argument("--out", required=True, metavar="PROFILE", help="profile folder to write")
    parser.add_argument(
        "--target", metavar="COL", help="the label column (batches without it still check)"
    )
    parser.add_argument(
        "--sample-rows",
        type=int,
        default=50_000,
        metavar="N",
        help="reference rows kept for the HTML report (default 50000)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the row sample")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")


def run(args: argparse.Namespace) -> int:
    """Build and save the profile."""
    from halfcost.drift import build_profile
    from halfcost.jsonio import to_json
    from halfcost.tables import read_table

    frame = read_table(args.reference)
    profile = build_profile(
        frame,
        target=args.target,
        sample_rows=args.sample_rows,
        seed=args.seed,
        source=str(args.reference),
    )
    path = profile.save(args.out)
    summary = {
        "profile": str(path),
        "rows": profile.rows,
        "columns": len(profile.columns),
        "sample_rows": len(profile.sample),
        "target": profile.target,
    }
    if args.json:
        print(to_json(summary))
    else:
        print(
            f"wrote profile {path}: {profile.rows} rows, {len(profile.columns)} columns, "
            f"{len(profile.sample)} sample rows"
        )
    return 0
