"""`halfcost registry report`: the ROI table by project and team, totals, savings by lever."""

from __future__ import annotations

import argparse

from halfcost.cli._reg_common import add_db_flag, add_json_flag, day, db_of, fmt_money, fmt_ratio

HELP = "print ROI by project and team, totals and savings by lever"
DESCRIPTION = """\
Print what each project spent and returned (ROI = (value - spend) / spend), its payback
in months (counting its first month of cost as month 1; "-" when not paid back yet), its
cost per 1,000 predictions, the same by team, the totals, and the savings of each lever
(cheaper models, dataset reuse, fewer labels, less cleaning). --json prints the same
figures for machines (amounts as exact decimal strings).

examples:
  halfcost registry report
  halfcost registry report --team Marketing --start 2026-01-01 --end 2026-06-30 --json
"""


def register(parser: argparse.ArgumentParser) -> None:
    """Add the flags of `halfcost registry report`."""
    parser.add_argument("--team", action="append", metavar="T", help="only this team (repeatable)")
    parser.add_argument("--start", type=day, metavar="YYYY-MM-DD", help="first day (inclusive)")
    parser.add_argument("--end", type=day, metavar="YYYY-MM-DD", help="last day (inclusive)")
    add_db_flag(parser)
    add_json_flag(parser)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = [
        "  ".join(
            h.ljust(w) if i < 2 else h.rjust(w)
            for i, (h, w) in enumerate(zip(headers, widths, strict=True))
        )
    ]
    for row in rows:
        lines.append(
            "  ".join(
                c.ljust(w) if i < 2 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Compute and print the report."""
    from halfcost.governance import build_report, connect, require_schema
    from halfcost.jsonio import to_json

    engine = connect(db_of(args), read_only=True)
    try:
        require_schema(engine)
        report = build_report(
            engine, teams=tuple(args.team) if args.team else None, start=args.start, end=args.end
        )
    finally:
        engine.dispose()
    if args.json:
        print(to_json(report))
        return 0
    print(_render(report))
    return 0


def _render(report: dict) -> str:
    projects = [
        [
            p["project"],
            p["team"],
            fmt_money(p["spend"]),
            fmt_money(p["value"]),
            fmt_ratio(p["roi"]),
            "-" if p["payback_months"] is None else str(p["payback_months"]),
            fmt_money(p["cost_per_1k_predictions"]),
        ]
        for p in report["projects"]
    ]
    teams = [
        [
            t["team"],
            str(t["projects"]),
            fmt_money(t["spend"]),
            fmt_money(t["value"]),
            fmt_ratio(t["roi"]),
        ]
        for t in report["teams"]
    ]
    totals, period = report["totals"], report["period"]
    lines = [
        f"registry {report['db']}   period {period['start'] or '-'} .. {period['end'] or '-'}",
        "",
        "ROI by project",
        _table(["project", "team", "spend", "value", "roi", "payback_m", "per_1k_pred"], projects),
        "",
        "ROI by team",
        _table(
            ["team", "", "projects", "spend", "value", "roi"], [[t[0], "", *t[1:]] for t in teams]
        ),
        "",
        f"total spend {fmt_money(totals['spend'])}  "
        f"(unallocated {fmt_money(totals['unallocated_spend'])})"
        f"   value {fmt_money(totals['value'])}   ROI {fmt_ratio(totals['roi'])}",
        "savings by lever: "
        + ", ".join(
            f"{lever} {fmt_money(amount)}" for lever, amount in report["savings_by_lever"].items()
        )
        + f"   (total {fmt_money(totals['savings'])})",
    ]
    return "\n".join(lines)
