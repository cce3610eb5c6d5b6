"""Importing cloud bills: a CSV with FOCUS billing columns becomes cost entries.

Amount: ``EffectiveCost`` (after discounts and amortization), else ``BilledCost``.
Day: the date of ``ChargePeriodStart`` (UTC). Team, project and category: keys of the
``Tags`` JSON object (their names are configurable). A row without a project tag is
booked as *unallocated* (shown as such in reports, never dropped). Amounts are read as
exact decimals from the text, never through floats. One file is one transaction and its
identity is the SHA-256 of its bytes: importing it twice adds nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from halfcost.errors import BadInputError
from halfcost.governance._audit import bulk_insert
from halfcost.governance._db import connect, describe_url, ensure_schema, write_session
from halfcost.governance._models import COST_CATEGORIES, CostEntry, IngestedFile, Project, Team

ALLOCATED_CATEGORIES = tuple(c for c in COST_CATEGORIES if c != "unallocated")


@dataclass(frozen=True)
class TagKeys:
    """Which keys of the FOCUS ``Tags`` object name the team, the project and the category."""

    team: str = "team"
    project: str = "project"
    category: str = "category"


def _decimal(text: str, where: str, column: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise BadInputError(f"{where}: {column} {text!r} is not a number; fix that row") from exc
    if not value.is_finite():
        raise BadInputError(f"{where}: {column} {text!r} is not a finite number; fix that row")
    return value


def _day(text: str, where: str) -> date:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadInputError(
            f"{where}: ChargePeriodStart {text!r} is not an ISO-8601 time; fix that row"
        ) from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def _tags(text: str | None, where: str) -> dict[str, Any]:
    if not text or not text.strip():
        return {}
    try:
        tags = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInputError(
            f"{where}: Tags is not a JSON object ({exc.msg}); fix that row"
        ) from exc
    if not isinstance(tags, dict):
        raise BadInputError(f"{where}: Tags must be a JSON object of key/value labels")
    return tags


@dataclass
class _Row:
    day: date
    amount: Decimal
    currency: str
    team: str | None
    project: str | None
    category: str
    service: str


def _parse_row(row: dict[str, str | None], where: str, keys: TagKeys, currency: str) -> _Row:
    text = (row.get("EffectiveCost") or "").strip() or (row.get("BilledCost") or "").strip()
    if not text:
        raise BadInputError(f"{where}: neither EffectiveCost nor BilledCost has a value; fix it")
    if not (row.get("ChargePeriodStart") or "").strip():
        raise BadInputError(f"{where}: ChargePeriodStart is empty; fix that row")
    row_currency = (row.get("BillingCurrency") or currency).strip() or currency
    if row_currency != currency:
        raise BadInputError(
            f"{where}: BillingCurrency {row_currency} differs from the registry's {currency}; "
            f"import it with --currency {row_currency} into a registry kept in that currency"
        )
    tags = _tags(row.get("Tags"), where)
    project = str(tags[keys.project]).strip() if tags.get(keys.project) else None
    team = str(tags[keys.team]).strip() if tags.get(keys.team) else None
    category = str(tags.get(keys.category) or "").strip().lower()
    if project is None:
        category = "unallocated"
    elif category not in ALLOCATED_CATEGORIES:
        raise BadInputError(
            f"{where}: tag {keys.category!r} is {category or 'missing'}; "
            f"choose one of {', '.join(ALLOCATED_CATEGORIES)}"
        )
    return _Row(
        day=_day(row["ChargePeriodStart"] or "", where),
        amount=_decimal(text, where, "cost"),
        currency=row_currency,
        team=team,
        project=project,
        category=category,
        service=(row.get("ServiceName") or "").strip(),
    )


def read_focus_csv(
    raw: bytes, name: str, keys: TagKeys = TagKeys(), currency: str = "USD"
) -> list[_Row]:
    """Parse a FOCUS CSV's bytes into rows; any bad row is a one-line error naming it."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{name}: not UTF-8 text; export the bill as UTF-8 CSV") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        columns = reader.fieldnames or []
        missing = [c for c in ("ChargePeriodStart",) if c not in columns]
        if not {"EffectiveCost", "BilledCost"} & set(columns):
            missing.append("EffectiveCost or BilledCost")
        if missing:
            raise BadInputError(
                f"{name}: missing FOCUS column(s) {', '.join(missing)}; export the bill in "
                "FOCUS format"
            )
        rows = []
        for row in reader:
            where = f"{name}: row {reader.line_num - 1}"
            if None in row or any(value is None for value in row.values()):
                raise BadInputError(
                    f"{where}: has {len(columns)} columns expected but a different count found; "
                    "fix that row"
                )
            rows.append(_parse_row(row, where, keys, currency))
    except csv.Error as exc:
        raise BadInputError(
            f"{name}: row {reader.line_num - 1}: unreadable CSV ({exc}); fix that row"
        ) from exc
    if not rows:
        raise BadInputError(f"{name}: no cost rows; export a bill with at least one charge")
    return rows


def _resolve(session: Any, rows: list[_Row], name: str) -> dict[str, tuple[int, int]]:
    """Project name → (project id, team id), creating teams and projects the tags name."""
    resolved: dict[str, tuple[int, int]] = {}
    for index, row in enumerate(rows, start=1):
        if row.project is None or row.project in resolved:
            continue
        project = session.scalar(select(Project).where(Project.name == row.project))
        if project is None:
            if row.team is None:
                raise BadInputError(
                    f"{name}: row {index}: project {row.project!r} is not in the registry and "
                    f"the row has no team tag; add it with `halfcost registry add project "
                    f"{row.project} --team TEAM`"
                )
            team = session.scalar(select(Team).where(Team.name == row.team))
            if team is None:
                team = Team(name=row.team)
                session.add(team)
                session.flush()
            project = Project(name=row.project, team_id=team.id)
            session.add(project)
            session.flush()
        resolved[row.project] = (project.id, project.team_id)
    return resolved


def _team_ids(session: Any, rows: list[_Row]) -> dict[str, int]:
    """Team name → id for unallocated rows that still name a team (created when new)."""
    ids: dict[str, int] = {}
    for row in rows:
        if row.project is None and row.team and row.team not in ids:
            team = session.scalar(select(Team).where(Team.name == row.team))
            if team is None:
                team = Team(name=row.team)
                session.add(team)
                session.flush()
            ids[row.team] = team.id
    return ids


def import_costs_into(
    engine: Engine,
    csv_path: str | os.PathLike[str],
    *,
    tags: TagKeys = TagKeys(),
    currency: str = "USD",
) -> dict[str, Any]:
    """Import a FOCUS CSV into the registry behind ``engine``; see :func:`import_costs`."""
    path = Path(csv_path)
    if not path.is_file():
        raise BadInputError(f"{path}: no such file; pass the FOCUS billing export (CSV)")
    raw = path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    rows = read_focus_csv(raw, path.name, tags, currency)
    ensure_schema(engine)
    result = {"path": str(path), "sha256": sha, "db": describe_url(engine.url), "rows": len(rows)}
    with write_session(engine, actor=f"import-costs {path.name}") as session:
        if session.scalar(select(IngestedFile.id).where(IngestedFile.sha256 == sha)):
            return {**result, "status": "already imported", "added": 0, "unallocated_rows": 0}
        projects = _resolve(session, rows, path.name)
        teams = _team_ids(session, rows)
        entries = []
        for index, row in enumerate(rows, start=1):
            project_id, team_id = projects.get(row.project or "", (None, teams.get(row.team or "")))
            entries.append(
                {
                    "incurred_on": row.day,
                    "project_id": project_id,
                    "team_id": team_id,
                    "category": row.category,
                    "amount": row.amount,
                    "currency": row.currency,
                    "source": f"focus:{path.name}" + (f" {row.service}" if row.service else ""),
                    "identity": hashlib.sha256(f"{sha}:{index}".encode()).hexdigest(),
                }
            )
        bulk_insert(session, CostEntry, entries)
        session.add(IngestedFile(sha256=sha, kind="focus", path=str(path), records=len(entries)))
    unallocated = [r for r in rows if r.project is None]
    return {
        **result,
        "status": "added",
        "added": len(entries),
        "unallocated_rows": len(unallocated),
        "unallocated_amount": sum((r.amount for r in unallocated), Decimal(0)),
        "total_amount": sum((r.amount for r in rows), Decimal(0)),
    }


def import_costs(
    csv_path: str | os.PathLike[str],
    *,
    db: str | None = None,
    tag_team: str = "team",
    tag_project: str = "project",
    tag_category: str = "category",
    currency: str = "USD",
) -> dict[str, Any]:
    """Import a FOCUS billing CSV as cost entries (idempotent, all-or-nothing).

    Args:
        csv_path: the billing export with FOCUS columns (``EffectiveCost``/``BilledCost``,
            ``ChargePeriodStart``, ``BillingCurrency``, ``Tags``, ``ServiceName``...).
        db: registry URL (default ``$HALFCOST_DB``, else the local SQLite file).
        tag_team, tag_project, tag_category: the ``Tags`` keys naming team, project, category.
        currency: the registry's currency; rows billed in another one are refused.

    Returns:
        ``{"path", "sha256", "db", "rows", "status", "added", "unallocated_rows",
        "unallocated_amount", "total_amount"}``.

    Raises:
        BadInputError: a malformed file or row (the message names the row and the fix).
    """
    engine = connect(db)
    try:
        return import_costs_into(
            engine,
            csv_path,
            tags=TagKeys(team=tag_team, project=tag_project, category=tag_category),
            currency=currency,
        )
    finally:
        engine.dispose()
