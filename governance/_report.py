"""The figures of `halfcost registry report`, as one JSON-ready dict."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine

from halfcost.governance._db import describe_url
from halfcost.governance._queries import Filters, overview, projects_table, teams_table


def _records(frame: Any) -> list[dict[str, Any]]:
    rows = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return [{k: v for k, v in row.items()} for row in rows]


def build_report(
    engine: Engine,
    *,
    teams: tuple[str, ...] | None = None,
    start: date | None = None,
    end: date | None = None,
) -> dict[str, Any]:
    """ROI by project and team, totals and savings by lever, within the filters.

    Returns:
        ``{"db", "period": {"start", "end"}, "teams_filter", "projects": [...],
        "teams": [...], "totals": {"spend", "value", "roi", "savings", "unallocated_spend"},
        "savings_by_lever": {...}, "monthly": [...]}``; amounts are Decimals.
    """
    filters = Filters(teams=teams, start=start, end=end)
    summary = overview(engine, filters)
    projects = projects_table(engine, filters)
    return {
        "db": describe_url(engine.url),
        "period": {"start": start, "end": end},
        "teams_filter": list(teams) if teams else None,
        "projects": _records(projects),
        "teams": _records(teams_table(engine, filters, projects=projects)),
        "totals": {
            "spend": summary.spend,
            "value": summary.value,
            "roi": summary.roi,
            "savings": summary.savings,
            "unallocated_spend": summary.unallocated_spend,
        },
        "savings_by_lever": summary.savings_by_lever,
        "monthly": _records(summary.monthly),
    }
