"""Adding records by hand: teams, projects, datasets (and their costs), uses, value, costs.

Each function is one audited transaction on an engine from :func:`~halfcost.governance.connect`
(the registry is migrated first). Existing teams, projects and datasets are updated only
where a new figure is given, and every change lands in the audit log.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from halfcost.errors import BadInputError
from halfcost.governance._costs import ALLOCATED_CATEGORIES
from halfcost.governance._db import ensure_schema, write_session
from halfcost.governance._ingest import ensure_project, ensure_team
from halfcost.governance._models import (
    ESTIMATED,
    IMPORTED,
    CostEntry,
    Dataset,
    DatasetUse,
    Team,
    ValueEntry,
)
from halfcost.governance._roi import month_start


def _positive(value: Decimal | int | None, label: str) -> None:
    if value is not None and value < 0:
        raise BadInputError(f"{label} must be ≥ 0, but got {value}")


def add_team(engine: Engine, name: str) -> dict[str, Any]:
    """Add team ``name`` (nothing happens when it exists: ``created`` is then False)."""
    ensure_schema(engine)
    with write_session(engine, actor="registry add team") as session:
        existed = session.scalar(select(Team.id).where(Team.name == name)) is not None
        team = ensure_team(session, name)
        return {"team": team.name, "id": team.id, "created": not existed}


def add_project(
    engine: Engine,
    name: str,
    *,
    team: str,
    value_per_month: Decimal | None = None,
    value_per_prediction: Decimal | None = None,
    predictions_per_month: int | None = None,
) -> dict[str, Any]:
    """Add project ``name`` of ``team`` (created when new), or update its value figures.

    A project earns either a fixed value per month or a value per prediction served.
    """
    if value_per_month is not None and value_per_prediction is not None:
        raise BadInputError("give either --value-per-month or --value-per-prediction, not both")
    for label, number in (
        ("value per month", value_per_month),
        ("value per prediction", value_per_prediction),
        ("predictions per month", predictions_per_month),
    ):
        _positive(number, label)
    ensure_schema(engine)
    with write_session(engine, actor="registry add project") as session:
        ensure_team(session, team)
        project = ensure_project(session, name, team)
        if value_per_month is not None:
            project.value_per_month, project.value_per_prediction = value_per_month, None
        if value_per_prediction is not None:
            project.value_per_prediction, project.value_per_month = value_per_prediction, None
        if predictions_per_month is not None:
            project.predictions_per_month = predictions_per_month
        session.flush()
        return {
            "project": project.name,
            "team": team,
            "value_per_month": project.value_per_month,
            "value_per_prediction": project.value_per_prediction,
            "predictions_per_month": project.predictions_per_month,
        }


def add_dataset(
    engine: Engine,
    name: str,
    *,
    version: str,
    owner_team: str,
    rows: int | None = None,
    collect_cost: Decimal | None = None,
    label_cost: Decimal | None = None,
    path: str | None = None,
) -> dict[str, Any]:
    """Add a dataset version (version = its DVC md5) with what it cost to collect and label.

    When the version is already registered (e.g. ingested from a dvc.lock), its costs,
    rows and owner are updated instead.
    """
    _positive(collect_cost, "collect cost")
    _positive(label_cost, "label cost")
    _positive(rows, "rows")
    if not version or not version.strip():
        raise BadInputError("a dataset needs --version (its DVC md5 content hash)")
    ensure_schema(engine)
    with write_session(engine, actor="registry add dataset") as session:
        owner = ensure_team(session, owner_team)
        dataset = session.scalar(select(Dataset).where(Dataset.version == version).limit(1))
        if dataset is None:
            dataset = Dataset(
                name=name, version=version, owner_team_id=owner.id, path=path, provenance=IMPORTED
            )
            session.add(dataset)
        dataset.owner_team_id = owner.id
        if rows is not None:
            dataset.rows = rows
        if collect_cost is not None:
            dataset.collect_cost = collect_cost
        if label_cost is not None:
            dataset.label_cost = label_cost
        session.flush()
        return {
            "dataset": dataset.name,
            "version": dataset.version,
            "owner_team": owner.name,
            "collect_cost": dataset.collect_cost,
            "label_cost": dataset.label_cost,
        }


def add_use(
    engine: Engine, *, version: str, project: str, used_at: datetime | None = None
) -> dict[str, Any]:
    """Record that ``project`` used the dataset version ``version``."""
    ensure_schema(engine)
    with write_session(engine, actor="registry add use") as session:
        dataset = session.scalar(select(Dataset).where(Dataset.version == version).limit(1))
        if dataset is None:
            raise BadInputError(
                f"no dataset version {version} in the registry; add it with "
                "`halfcost registry add dataset NAME --version MD5 --owner TEAM`"
            )
        target = ensure_project(session, project, None)
        use = DatasetUse(
            dataset_id=dataset.id,
            project_id=target.id,
            team_id=target.team_id,
            used_at=used_at or datetime.now(UTC),
            provenance=IMPORTED,
        )
        session.add(use)
        session.flush()
        reuse = dataset.owner_team_id != target.team_id
        return {"dataset": dataset.name, "version": version, "project": project, "reuse": reuse}


def add_value(
    engine: Engine,
    *,
    project: str,
    month: date,
    amount: Decimal | None = None,
    predictions: int | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Book the value ``project`` returned in ``month`` (and the predictions it served).

    Without ``amount`` the project's own figures give it: its value per month, or its value
    per prediction × ``predictions`` (default: its predictions per month).
    """
    _positive(predictions, "predictions")
    ensure_schema(engine)
    with write_session(engine, actor="registry add value") as session:
        target = ensure_project(session, project, None)
        served = predictions if predictions is not None else target.predictions_per_month
        provenance = IMPORTED if amount is not None else ESTIMATED
        if amount is None:
            if target.value_per_month is not None:
                amount = target.value_per_month
            elif target.value_per_prediction is not None:
                amount = target.value_per_prediction * served
            else:
                raise BadInputError(
                    f"project {project!r} has no value per month or per prediction; pass "
                    "--amount, or set one with `halfcost registry add project`"
                )
        first_day = month_start(month)
        identity = hashlib.sha256(f"{target.id}:{first_day}:{note or ''}".encode()).hexdigest()
        booked = session.scalar(select(ValueEntry).where(ValueEntry.identity == identity))
        if booked is not None:
            raise BadInputError(
                f"project {project!r} already has a value of {booked.amount} for "
                f"{first_day:%Y-%m}; give --note to book a second value for that month"
            )
        entry = ValueEntry(
            month=first_day,
            project_id=target.id,
            amount=amount,
            predictions=served,
            currency=target.currency,
            source="manual",
            note=note,
            identity=identity,
            provenance=provenance,
        )
        session.add(entry)
        session.flush()
        return {"project": project, "month": entry.month, "amount": amount, "predictions": served}


def add_cost(
    engine: Engine,
    *,
    project: str,
    day: date,
    category: str,
    amount: Decimal,
    source: str = "manual",
) -> dict[str, Any]:
    """Book a cost of ``project`` on ``day`` in a category: compute, labeling, storage, people."""
    if category not in ALLOCATED_CATEGORIES:
        raise BadInputError(
            f"unknown cost category {category!r}; choose one of {', '.join(ALLOCATED_CATEGORIES)}"
        )
    ensure_schema(engine)
    with write_session(engine, actor="registry add cost") as session:
        target = ensure_project(session, project, None)
        session.add(
            CostEntry(
                incurred_on=day,
                project_id=target.id,
                team_id=target.team_id,
                category=category,
                amount=amount,
                currency=target.currency,
                source=source,
            )
        )
        return {"project": project, "date": day, "category": category, "amount": amount}
