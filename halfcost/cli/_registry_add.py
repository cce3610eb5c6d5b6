"""`halfcost registry add`: add teams, projects, datasets, dataset uses, value and costs by hand."""

from __future__ import annotations

import argparse

from halfcost.cli._reg_common import add_db_flag, add_json_flag, day, db_of, money

HELP = "add a team, project, dataset, dataset use, value or cost entry"
DESCRIPTION = """\
Add records the other commands cannot know: who owns what, what a project is worth,
what a dataset cost to collect and label, the value a project returned in a month.
Every change is written to the registry's audit log.

examples:
  halfcost registry add team Marketing
  halfcost registry add project churn --team Marketing --value-per-month 20000
  halfcost registry add project fraud --team Risk --value-per-prediction 0.002 \\
      --predictions-per-month 5000000
  halfcost registry add dataset customers --version 3f2a...c1 --owner Marketing \\
      --rows 120000 --collect-cost 8000 --label-cost 4500
  halfcost registry add use --version 3f2a...c1 --project fraud
  halfcost registry add value --project churn --month 2026-03
  halfcost registry add cost --project churn --date 2026-03-31 --category people --amount 9000
"""


def _team(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("team", help="a team")
    parser.add_argument("name", metavar="NAME")
    _common(parser)


def _project(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("project", help="a project of a team and what it is worth")
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("--team", required=True, metavar="T")
    parser.add_argument("--value-per-month", type=money, metavar="AMOUNT")
    parser.add_argument("--value-per-prediction", type=money, metavar="AMOUNT")
    parser.add_argument("--predictions-per-month", type=int, metavar="N")
    _common(parser)


def _dataset(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("dataset", help="a dataset version and what it cost")
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("--version", required=True, metavar="MD5", help="its DVC content hash")
    parser.add_argument("--owner", required=True, metavar="TEAM")
    parser.add_argument("--rows", type=int, metavar="N")
    parser.add_argument("--collect-cost", type=money, metavar="AMOUNT")
    parser.add_argument("--label-cost", type=money, metavar="AMOUNT")
    parser.add_argument("--path", metavar="PATH")
    _common(parser)


def _use(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("use", help="a project used a dataset version")
    parser.add_argument("--version", required=True, metavar="MD5")
    parser.add_argument("--project", required=True, metavar="P")
    _common(parser)


def _value(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("value", help="the value a project returned in a month")
    parser.add_argument("--project", required=True, metavar="P")
    parser.add_argument("--month", required=True, type=day, metavar="YYYY-MM")
    parser.add_argument(
        "--amount", type=money, metavar="AMOUNT", help="default: from the project's value figures"
    )
    parser.add_argument("--predictions", type=int, metavar="N")
    parser.add_argument("--note", metavar="TEXT")
    _common(parser)


def _cost(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("cost", help="a cost of a project")
    parser.add_argument("--project", required=True, metavar="P")
    parser.add_argument("--date", required=True, type=day, metavar="YYYY-MM-DD")
    parser.add_argument(
        "--category", required=True, choices=("compute", "labeling", "storage", "people")
    )
    parser.add_argument("--amount", required=True, type=money, metavar="AMOUNT")
    _common(parser)


def _common(parser: argparse.ArgumentParser) -> None:
    add_db_flag(parser)
    add_json_flag(parser)


def register(parser: argparse.ArgumentParser) -> None:
    """Add one sub-command per kind of record."""
    sub = parser.add_subparsers(dest="add_what", metavar="WHAT", required=True)
    for add in (_team, _project, _dataset, _use, _value, _cost):
        add(sub)


def _call(args: argparse.Namespace, engine: object) -> dict:
    from halfcost.governance import _add

    what = args.add_what
    if what == "team":
        return _add.add_team(engine, args.name)
    if what == "project":
        return _add.add_project(
            engine,
            args.name,
            team=args.team,
            value_per_month=args.value_per_month,
            value_per_prediction=args.value_per_prediction,
            predictions_per_month=args.predictions_per_month,
        )
    if what == "dataset":
        return _add.add_dataset(
            engine,
            args.name,
            version=args.version,
            owner_team=args.owner,
            rows=args.rows,
            collect_cost=args.collect_cost,
            label_cost=args.label_cost,
            path=args.path,
        )
    if what == "use":
        return _add.add_use(engine, version=args.version, project=args.project)
    if what == "value":
        return _add.add_value(
            engine,
            project=args.project,
            month=args.month,
            amount=args.amount,
            predictions=args.predictions,
            note=args.note,
        )
    return _add.add_cost(
        engine, project=args.project, day=args.date, category=args.category, amount=args.amount
    )


def run(args: argparse.Namespace) -> int:
    """Add the record and print it."""
    from halfcost.governance import connect
    from halfcost.jsonio import to_json

    engine = connect(db_of(args))
    try:
        result = _call(args, engine)
    finally:
        engine.dispose()
    if args.json:
        print(to_json(result))
    elif result.get("created") is False:
        print(f"{args.add_what} {args.name!r} already exists (id={result['id']}); nothing added")
    else:
        result.pop("created", None)
        print(f"added {args.add_what}: " + ", ".join(f"{k}={v}" for k, v in result.items()))
    return 0
