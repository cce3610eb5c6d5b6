"""`halfcost drift history`: every alert, retrain, promotion and refusal, with its reason."""

from __future__ import annotations

import argparse

HELP = "list alerts, retrains, promotions and refusals with their reasons"
DESCRIPTION = """\
Read the project's event log (.halfcost/events.jsonl) and list what `halfcost drift
watch` decided and why: alerts, retrains (started, done, failed), promotions and
refusals. `--all` adds the drift check of every batch; `--json` prints the events.

examples:
  halfcost drift history --project .
  halfcost drift history --kind promotion --kind refusal --json
"""


def register(parser: argparse.ArgumentParser) -> None:
    """Add the flags of `halfcost drift history`."""
    parser.add_argument(
        "--project", default=".", metavar="DIR", help="the project folder (default: .)"
    )
    parser.add_argument(
        "--kind",
        action="append",
        metavar="KIND",
        help="only these kinds (repeatable): check, alert, retrain_started, retrain, "
        "retrain_failed, promotion, refusal",
    )
    parser.add_argument("--all", action="store_true", help="include every batch's drift check")
    parser.add_argument("--last", type=int, metavar="N", help="only the last N events")
    parser.add_argument("--json", action="store_true", help="print the events as a JSON list")


def run(args: argparse.Namespace) -> int:
    """Print the history; exit 2 on a bad project or kind."""
    from halfcost.drift import format_history, history
    from halfcost.jsonio import to_json

    events = history(args.project, kinds=args.kind, include_checks=args.all, last=args.last)
    if args.json:
        print(to_json(events))
    else:
        print(format_history(events))
    return 0
