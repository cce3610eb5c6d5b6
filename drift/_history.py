"""`halfcost drift history`: the project's decisions, read back from its event log."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from typing import Any

from halfcost.drift._project import Project
from halfcost.errors import BadInputError

KINDS = (
    "check",
    "alert",
    "retrain_started",
    "retrain",
    "retrain_failed",
    "promotion",
    "refusal",
    "labels_requested",
)
DECISION_KINDS = tuple(k for k in KINDS if k != "check")
_REASON_WIDTH = 70


def history(
    project: str | os.PathLike[str] | Project = ".",
    *,
    kinds: Sequence[str] | None = None,
    include_checks: bool = False,
    last: int | None = None,
) -> list[dict[str, Any]]:
    """Return the project's events, oldest first.

    Args:
        project: the project folder (or an open :class:`Project`).
        kinds: only these event kinds (default: every decision; see ``include_checks``).
        include_checks: with no ``kinds``, also list each batch's ``check`` event.
        last: only the last ``last`` events.

    Raises:
        BadInputError: an unknown kind, or a folder without a pipeline.
    """
    from halfcost.drift import EventLog

    proj = project if isinstance(project, Project) else Project.open(project)
    if kinds:
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown:
            raise BadInputError(
                f"unknown event kind {', '.join(unknown)}; choose from {', '.join(KINDS)}."
            )
        wanted = list(kinds)
    else:
        wanted = list(KINDS if include_checks else DECISION_KINDS)
    if not proj.events_path.is_file():
        return []
    events = EventLog(proj.events_path).read(kinds=wanted)
    if last is not None:
        if last < 1:
            raise BadInputError(f"--last must be at least 1, but got {last}.")
        events = events[-last:]
    return events


def _scores(event: dict[str, Any]) -> str:
    scores = event.get("scores") or {}
    keys = ("challenger_holdout", "champion_holdout", "champion_batch", "share_drifted")
    shown = [f"{k}={scores[k]:.3f}" for k in keys if isinstance(scores.get(k), int | float)]
    return " ".join(shown)


def format_history(events: list[dict[str, Any]]) -> str:
    """Render events as a readable table: time, kind, batch, champion, decision, reason."""
    if not events:
        return "no events yet: run `halfcost drift watch --batch NEW` on the project."
    rows = []
    for event in events:
        batch = os.path.basename(str(event.get("batch") or "")) or "-"
        rows.append(
            (
                str(event.get("time", ""))[:19].replace("T", " "),
                str(event.get("kind", "")),
                batch,
                str(event.get("champion") or "-"),
                str(event.get("decision") or ""),
                " ".join(filter(None, [str(event.get("reason") or ""), _scores(event)])),
            )
        )
    header = ("time (UTC)", "kind", "batch", "champion", "decision", "reason")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    lines = []
    indent = sum(widths) + 2 * 5
    for row in [header, *rows]:
        head = "  ".join(cell.ljust(width) for cell, width in zip(row[:5], widths, strict=True))
        wrapped = textwrap.wrap(row[5], _REASON_WIDTH) or [""]
        lines.append(f"{head}  {wrapped[0]}")
        lines.extend(" " * indent + more for more in wrapped[1:])
    return "\n".join(lines)
