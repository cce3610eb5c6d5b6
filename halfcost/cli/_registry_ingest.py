"""`halfcost registry ingest`: read what the other commands wrote into the registry."""

from __future__ import annotations

import argparse

from halfcost.cli._reg_common import add_db_flag, add_json_flag, db_of, money

HELP = "ingest search/clean/labeling reports, drift event logs and DVC files"
DESCRIPTION = """\
Read PATH (a file, or a folder walked for the files below) into the registry:
  report.json      kind "search" (a model, its Pareto front, its training cost),
                   kind "clean" (rows fixed automatically: the "less cleaning" saving),
                   kind "labeling" (labels bought and labels saved)
  events.jsonl     the drift event log: alerts, retrains, promotions, refusals
  dvc.lock, *.dvc  dataset versions (DVC md5) the project used
Ingesting the same file twice adds nothing (its identity is its SHA-256); an error in
any file leaves the registry unchanged.

examples:
  halfcost registry ingest runs/search1 --project churn --team Marketing
  halfcost registry ingest . --project churn --json
"""


def register(parser: argparse.ArgumentParser) -> None:
    """Add the flags of `halfcost registry ingest`."""
    parser.add_argument("path", metavar="PATH", help="a file or a folder")
    parser.add_argument("--project", required=True, metavar="P", help="the registry project")
    parser.add_argument(
        "--team", metavar="T", help="the project's team (needed when the project is new)"
    )
    parser.add_argument(
        "--review-cost-per-row",
        type=money,
        metavar="USD",
        help="what reviewing one bad row by hand costs (default 0.10)",
    )
    add_db_flag(parser)
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    """Ingest PATH and print what was added."""
    from halfcost.governance import REVIEW_COST_PER_ROW_USD, ingest
    from halfcost.jsonio import to_json

    result = ingest(
        args.path,
        project=args.project,
        team=args.team,
        db=db_of(args),
        review_cost_per_row_usd=args.review_cost_per_row or REVIEW_COST_PER_ROW_USD,
    )
    if args.json:
        print(to_json(result))
        return 0
    if not result["files"]:
        print(
            f"found nothing to ingest in {args.path} (no report.json, events.jsonl, dvc.lock "
            "or *.dvc file); nothing written"
        )
        return 0
    for item in result["files"]:
        label = item["kind"] or "-"
        print(f"{item['status']:>16}  {label:<8} {item['records']:>5} records  {item['path']}")
    print(
        f"{result['added']} records from {result['files_added']} new file(s) into project "
        f"{result['project']!r} ({result['files_skipped']} already ingested) at {result['db']}"
    )
    return 0
