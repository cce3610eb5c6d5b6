"""`halfcost registry import-costs`: a FOCUS billing CSV becomes cost entries."""

from __future__ import annotations

import argparse

from halfcost.cli._reg_common import add_db_flag, add_json_flag, db_of, fmt_money

HELP = "import a cloud bill (CSV with FOCUS columns) as cost entries"
DESCRIPTION = """\
Import a billing export with FOCUS columns: the amount is EffectiveCost (else
BilledCost), the day is ChargePeriodStart, and team, project and category come from
keys of the Tags JSON object (compute, labeling, storage or people). Rows without a
project tag are booked as unallocated and reported as such. A malformed row stops the
import with its row number and nothing is written; importing the same file twice adds
nothing.

example:
  halfcost registry import-costs bill-2026-03.csv --tag-team team --tag-project app
"""


def register(parser: argparse.ArgumentParser) -> None:
    """Add the flags of `halfcost registry import-costs`."""
    parser.add_argument("csv", metavar="CSV", help="the FOCUS billing export")
    parser.add_argument("--tag-team", default="team", metavar="KEY", help="default: team")
    parser.add_argument("--tag-project", default="project", metavar="KEY", help="default: project")
    parser.add_argument(
        "--tag-category", default="category", metavar="KEY", help="default: category"
    )
    parser.add_argument(
        "--currency", default="USD", metavar="ISO", help="the registry's currency (default USD)"
    )
    add_db_flag(parser)
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    """Import the CSV and print how much was booked, and how much is unallocated."""
    from halfcost.governance import import_costs
    from halfcost.jsonio import to_json

    result = import_costs(
        args.csv,
        db=db_of(args),
        tag_team=args.tag_team,
        tag_project=args.tag_project,
        tag_category=args.tag_category,
        currency=args.currency,
    )
    if args.json:
        print(to_json(result))
    elif result["status"] != "added":
        print(f"{args.csv}: already imported; nothing added")
    else:
        print(
            f"{result['added']} cost rows ({fmt_money(result['total_amount'])} {args.currency}) "
            f"imported into {result['db']}; {result['unallocated_rows']} unallocated "
            f"({fmt_money(result['unallocated_amount'])} {args.currency})"
        )
    return 0
