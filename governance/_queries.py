"""The registry's read API: the figures the app and ``registry report`` show.

Every function takes an engine and (most) a :class:`Filters`; filtering and summing happen
in SQL, the arithmetic (ROI, payback, savings) in :mod:`halfcost.governance._roi`.
Money columns hold :class:`~decimal.Decimal` values (exact, not rounded); a figure that is
undefined (ROI without spend, payback not reached yet) is ``None``.

Filters mean:
- ``teams``: costs booked to those teams (costs tagged with no team are left out), value
  and savings of their projects, datasets they own or use, uses and reuses by them.
- ``start``/``end`` (inclusive dates): costs by day, value by month (a month counts when
  its first day is in the range's months), events and uses by time.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Engine, String, func, literal, select, type_coerce, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from halfcost.errors import BadInputError
from halfcost.governance import _roi
from halfcost.governance._db import has_schema
from halfcost.governance._models import (
    PROVENANCES,
    SAVING_LEVERS,
    AuditEntry,
    CostEntry,
    Dataset,
    DatasetUse,
    DriftEvent,
    Model,
    Money,
    ParetoPoint,
    Project,
    Saving,
    Team,
    ValueEntry,
)
from halfcost.records import Lever

LEVERS = SAVING_LEVERS
ZERO = Decimal(0)


@dataclass(frozen=True)
class Filters:
    """What the app's sidebar selects: some teams (None = all) and a date range (inclusive)."""

    teams: tuple[str, ...] | None = None
    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise BadInputError(
                f"the date range starts after it ends ({self.start} > {self.end}); swap them"
            )


@dataclass(frozen=True)
class Overview:
    """Totals for the Overview page.

    Attributes:
        spend: all costs in the filters (with a team filter, only costs booked to those teams).
        value: all value entries in the filters.
        roi: ``(value − spend) / spend``; None without spend.
        savings_by_lever: money saved by each lever (``cheaper_models``, ``dataset_reuse``,
            ``fewer_labels``, ``less_cleaning``).
        monthly: one row per month: ``month`` (``YYYY-MM``), ``spend``, ``value``, ``roi``,
            ``savings``, ``partial`` (True for a month the data or the filters do not cover
            whole: the current month, or one the date range cuts).
        roi_note: why ``roi`` is None ("n/a: …"), or None when it is shown.
        estimates: per lever, the ``formula`` of its estimate and its ``inputs`` (predictions
            and project-months counted for cheaper models; reuses and datasets for reuse).
        unallocated_spend: the part of ``spend`` booked to no project (spend minus the sum
            of the projects table's spend).
        currency: the registry's currency (ISO 4217).
        projects, teams: how many projects and teams the filters select.
    """

    spend: Decimal
    value: Decimal
    roi: Decimal | None
    savings_by_lever: dict[str, Decimal]
    monthly: pd.DataFrame
    unallocated_spend: Decimal = ZERO
    currency: str = "USD"
    projects: int = 0
    teams: int = 0
    roi_note: str | None = None
    estimates: dict[str, dict[str, Any]] | None = None

    @property
    def savings(self) -> Decimal:
        """All levers' savings together."""
        return sum(self.savings_by_lever.values(), ZERO)


class _Month(FunctionElement):
    """``YYYY-MM`` of a date or timestamp column, in each dialect's spelling."""

    type = String()
    inherit_cache = True


@compiles(_Month, "sqlite")
def _month_sqlite(element: _Month, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(_Month, "postgresql")
def _month_postgres(element: _Month, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


def _money_sum(column: Any) -> Any:
    return type_coerce(func.coalesce(func.sum(column), 0), Money())


def _day_bounds(filters: Filters) -> tuple[datetime | None, datetime | None]:
    start = datetime.combine(filters.start, time(), UTC) if filters.start else None
    end = datetime.combine(filters.end + timedelta(days=1), time(), UTC) if filters.end else None
    return start, end


def _team_ids(filters: Filters) -> Any:
    return select(Team.id).where(Team.name.in_(filters.teams or ()))


def _filter_dates(stmt: Any, column: Any, filters: Filters) -> Any:
    if filters.start:
        stmt = stmt.where(column >= filters.start)
    if filters.end:
        stmt = stmt.where(column <= filters.end)
    return stmt


def _filter_times(stmt: Any, column: Any, filters: Filters) -> Any:
    start, end = _day_bounds(filters)
    if start:
        stmt = stmt.where(column >= start)
    if end:
        stmt = stmt.where(column < end)
    return stmt


def _filter_months(stmt: Any, column: Any, filters: Filters) -> Any:
    if filters.start:
        stmt = stmt.where(column >= _roi.month_start(filters.start))
    if filters.end:
        stmt = stmt.where(column <= filters.end)
    return stmt


def _filter_project_team(stmt: Any, project_column: Any, filters: Filters) -> Any:
    if filters.teams is None:
        return stmt
    owned = select(Project.id).where(Project.team_id.in_(_team_ids(filters)))
    return stmt.where(project_column.in_(owned))


def _rows(engine: Engine, stmt: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(stmt))


# --- small lookups -------------------------------------------------------------------------


def registry_is_empty(engine: Engine) -> bool:
    """True when the registry has no tables yet or holds no project and no cost."""
    if not has_schema(engine):
        return True
    with engine.connect() as connection:
        projects = connection.scalar(select(func.count()).select_from(Project))
        costs = connection.scalar(select(func.count()).select_from(CostEntry))
    return not projects and not costs


def change_marker(engine: Engine) -> int | None:
    """What changes whenever the registry does: the audit log's last row id (0: no rows).

    Every write to the registry appends audit rows in its own transaction, and the audit
    table refuses updates and deletes, so an unchanged marker means unchanged figures: the
    app keys its figure cache on it and re-reads only this one query (an index lookup).
    None when the registry has no tables yet.
    """
    if not has_schema(engine):
        return None
    with engine.connect() as connection:
        last = connection.scalar(select(func.max(AuditEntry.id)))
    return int(last or 0)


def list_teams(engine: Engine) -> list[str]:
    """Every team's name, sorted."""
    return [row[0] for row in _rows(engine, select(Team.name).order_by(Team.name))]


def list_projects(engine: Engine, filters: Filters | None = None) -> list[str]:
    """Every project's name (of the filtered teams), sorted."""
    stmt = select(Project.name).order_by(Project.name)
    if filters and filters.teams is not None:
        stmt = stmt.where(Project.team_id.in_(_team_ids(filters)))
    return [row[0] for row in _rows(engine, stmt)]


def date_bounds(engine: Engine) -> tuple[date, date] | None:
    """The first and last day the registry has costs, value or events for; None when empty."""
    with engine.connect() as connection:
        cost = connection.execute(
            select(func.min(CostEntry.incurred_on), func.max(CostEntry.incurred_on))
        ).one()
        value = connection.execute(
            select(func.min(ValueEntry.month), func.max(ValueEntry.month))
        ).one()
        events = connection.execute(select(func.min(DriftEvent.time), func.max(DriftEvent.time)))
        event_bounds = events.one()
    days: list[date] = []
    for low, high in (cost, value, event_bounds):
        for item in (low, high):
            if item is not None:
                days.append(_as_date(item))
    if not days:
        return None
    return min(days), max(days)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# --- the Overview ----------------------------------------------------------------------------


def _monthly_spend(engine: Engine, filters: Filters) -> dict[str, Decimal]:
    month = _Month(CostEntry.incurred_on)
    stmt = select(month, _money_sum(CostEntry.amount)).group_by(month)
    stmt = _filter_dates(stmt, CostEntry.incurred_on, filters)
    if filters.teams is not None:
        stmt = stmt.where(CostEntry.team_id.in_(_team_ids(filters)))
    return {key: amount for key, amount in _rows(engine, stmt)}


def _monthly_value(engine: Engine, filters: Filters) -> dict[str, Decimal]:
    month = _Month(ValueEntry.month)
    stmt = select(month, _money_sum(ValueEntry.amount)).group_by(month)
    stmt = _filter_months(stmt, ValueEntry.month, filters)
    stmt = _filter_project_team(stmt, ValueEntry.project_id, filters)
    return {key: amount for key, amount in _rows(engine, stmt)}


def _unallocated_spend(engine: Engine, filters: Filters) -> Decimal:
    """Costs booked to no project (with a team filter: those tagged with a selected team)."""
    stmt = select(_money_sum(CostEntry.amount)).where(CostEntry.project_id.is_(None))
    stmt = _filter_dates(stmt, CostEntry.incurred_on, filters)
    if filters.teams is not None:
        stmt = stmt.where(CostEntry.team_id.in_(_team_ids(filters)))
    return _rows(engine, stmt)[0][0]


def _add(target: dict[str, Decimal], key: str, amount: Decimal) -> None:
    target[key] = target.get(key, ZERO) + amount


def _cheaper_model_savings(
    engine: Engine, filters: Filters, inputs: dict[str, Any] | None = None
) -> dict[str, Decimal]:
    """Monthly savings of each project's champion against its baseline, from served volume.

    ``inputs`` (when given) receives the estimate's inputs: predictions and project-months.
    """
    inputs = {} if inputs is None else inputs
    inputs.update(predictions=0, project_months=0)
    month = _Month(ValueEntry.month)
    usage = select(ValueEntry.project_id, month, func.sum(ValueEntry.predictions)).group_by(
        ValueEntry.project_id, month
    )
    usage = _filter_months(usage, ValueEntry.month, filters)
    usage = _filter_project_team(usage, ValueEntry.project_id, filters)
    champions = select(
        Model.project_id,
        Model.promoted_at,
        Model.retired_at,
        Model.baseline_cost_per_1m,
        Model.cost_per_1m,
    ).where(Model.promoted_at.is_not(None))
    by_project: dict[int, list[Any]] = defaultdict(list)
    for row in _rows(engine, champions):
        by_project[row.project_id].append(row)
    savings: dict[str, Decimal] = {}
    for project_id, key, predictions in _rows(engine, usage):
        model = _champion_in(by_project.get(project_id, []), key)
        if model is not None and predictions:
            saving = _roi.cheaper_model_saving(
                model.baseline_cost_per_1m, model.cost_per_1m, int(predictions)
            )
            _add(savings, key, saving)
            inputs["predictions"] += int(predictions)
            inputs["project_months"] += 1
    return savings


@functools.lru_cache(maxsize=1024)
def _month_span(key: str) -> tuple[date, date]:
    """Month ``key``'s first day and the first day of the month after (parsed once)."""
    first = _roi._parse_month(key)
    return first, date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _champion_in(models: list[Any], key: str) -> Any:
    """The model that served month ``key``: the last promoted by its end and not retired before."""
    first, next_month = _month_span(key)
    live = [
        m
        for m in models
        if m.promoted_at.date() < next_month
        and (m.retired_at is None or m.retired_at.date() >= first)
    ]
    return max(live, key=lambda m: m.promoted_at) if live else None


def _first_reuses(engine: Engine, filters: Filters) -> list[Any]:
    """(dataset, team, first use, collect cost, label cost) of every use by a non-owner team."""
    first_use = (
        select(
            DatasetUse.dataset_id,
            DatasetUse.team_id,
            func.min(DatasetUse.used_at).label("first_used"),
        )
        .join(Dataset, Dataset.id == DatasetUse.dataset_id)
        .where((Dataset.owner_team_id.is_(None)) | (Dataset.owner_team_id != DatasetUse.team_id))
        .group_by(DatasetUse.dataset_id, DatasetUse.team_id)
        .subquery()
    )
    stmt = select(
        first_use.c.dataset_id,
        first_use.c.team_id,
        type_coerce(first_use.c.first_used, DatasetUse.used_at.type),
        Dataset.collect_cost,
        Dataset.label_cost,
    ).join(Dataset, Dataset.id == first_use.c.dataset_id)
    stmt = _filter_times(stmt, first_use.c.first_used, filters)
    if filters.teams is not None:
        stmt = stmt.where(first_use.c.team_id.in_(_team_ids(filters)))
    return _rows(engine, stmt)


def _reuse_savings(
    engine: Engine, filters: Filters, inputs: dict[str, Any] | None = None
) -> dict[str, Decimal]:
    inputs = {} if inputs is None else inputs
    savings: dict[str, Decimal] = {}
    reuses, datasets = 0, set()
    for dataset, _team, first_used, collect, label in _first_reuses(engine, filters):
        _add(savings, _roi.month_key(first_used), _roi.reuse_avoided_cost(collect, label, 1))
        reuses += 1
        datasets.add(dataset)
    inputs.update(reuses=reuses, datasets=len(datasets))
    return savings


def _lever_savings(
    engine: Engine, filters: Filters, lever: str, inputs: dict[str, Any] | None = None
) -> dict[str, Decimal]:
    month = _Month(Saving.saved_on)
    stmt = (
        select(month, _money_sum(Saving.amount), func.count())
        .where(Saving.lever == lever)
        .group_by(month)
    )
    stmt = _filter_dates(stmt, Saving.saved_on, filters)
    stmt = _filter_project_team(stmt, Saving.project_id, filters)
    found = _rows(engine, stmt)
    if inputs is not None:
        inputs["entries"] = sum(int(count) for *_, count in found)
    return {key: amount for key, amount, _count in found}


def savings_by_month(
    engine: Engine, filters: Filters, inputs: dict[str, dict[str, Any]] | None = None
) -> dict[str, dict[str, Decimal]]:
    """Savings per lever per month: ``{lever: {"YYYY-MM": amount}}``.

    ``inputs`` (when given) receives each estimated lever's inputs (see ``Overview.estimates``).
    """
    inputs = {} if inputs is None else inputs
    return {
        Lever.CHEAPER_MODELS: _cheaper_model_savings(
            engine, filters, inputs.setdefault(Lever.CHEAPER_MODELS, {})
        ),
        Lever.DATASET_REUSE: _reuse_savings(
            engine, filters, inputs.setdefault(Lever.DATASET_REUSE, {})
        ),
        Lever.FEWER_LABELS: _lever_savings(
            engine, filters, Lever.FEWER_LABELS, inputs.setdefault(Lever.FEWER_LABELS, {})
        ),
        Lever.LESS_CLEANING: _lever_savings(
            engine, filters, Lever.LESS_CLEANING, inputs.setdefault(Lever.LESS_CLEANING, {})
        ),
    }


def lever_estimate(engine: Engine, lever: str, filters: Filters | None = None) -> dict[str, Any]:
    """One saving lever's total in the filters, with its formula and inputs.

    The same figure as ``overview(...).savings_by_lever[lever]`` and
    ``overview(...).estimates[lever]``, without reading the other levers and the monthly
    spend and value: the pages that show one lever need only this.

    Returns:
        ``{"saved": Decimal, "formula": str, "inputs": {...}}``.
    """
    if lever not in LEVERS:
        raise BadInputError(f"unknown lever {lever!r}; choose one of {', '.join(LEVERS)}")
    filters = filters or Filters()
    inputs: dict[str, Any] = {}
    if lever == Lever.CHEAPER_MODELS:
        by_month = _cheaper_model_savings(engine, filters, inputs)
    elif lever == Lever.DATASET_REUSE:
        by_month = _reuse_savings(engine, filters, inputs)
    else:
        by_month = _lever_savings(engine, filters, lever, inputs)
    return {
        "saved": sum(by_month.values(), ZERO),
        "formula": _roi.FORMULAS[lever],
        "inputs": inputs,
    }


def overview(engine: Engine, filters: Filters | None = None) -> Overview:
    """Spend, value, ROI, savings by lever and the monthly trend, within ``filters``."""
    filters = filters or Filters()
    spend = _monthly_spend(engine, filters)
    value = _monthly_value(engine, filters)
    inputs: dict[str, dict[str, Any]] = {}
    levers = savings_by_month(engine, filters, inputs)
    months = sorted(set(spend) | set(value) | {m for lever in levers.values() for m in lever})
    monthly = pd.DataFrame(
        {
            "month": months,
            "spend": [spend.get(m, ZERO) for m in months],
            "value": [value.get(m, ZERO) for m in months],
            "roi": [
                _roi.Figures(spend=spend.get(m, ZERO), value=value.get(m, ZERO)).roi for m in months
            ],
            "savings": [sum((lv.get(m, ZERO) for lv in levers.values()), ZERO) for m in months],
            "partial": [_partial_month(m, filters) for m in months],
        },
        columns=["month", "spend", "value", "roi", "savings", "partial"],
    )
    monthly["partial"] = monthly["partial"].astype(bool)
    total_spend = sum(spend.values(), ZERO)
    total_value = sum(value.values(), ZERO)
    totals = _roi.Figures(spend=total_spend, value=total_value)
    with engine.connect() as connection:
        project_stmt = select(func.count()).select_from(Project)
        team_count = len(filters.teams) if filters.teams is not None else None
        if filters.teams is not None:
            project_stmt = project_stmt.where(Project.team_id.in_(_team_ids(filters)))
        else:
            team_count = connection.scalar(select(func.count()).select_from(Team))
        projects = connection.scalar(project_stmt)
    return Overview(
        spend=total_spend,
        value=total_value,
        roi=totals.roi,
        roi_note=totals.roi_note,
        estimates={
            lever: {"formula": _roi.FORMULAS[lever], "inputs": inputs.get(lever, {})}
            for lever in LEVERS
        },
        savings_by_lever={lever: sum(levers[lever].values(), ZERO) for lever in LEVERS},
        monthly=monthly,
        unallocated_spend=_unallocated_spend(engine, filters),
        projects=int(projects or 0),
        teams=int(team_count or 0),
    )


def _partial_month(key: str, filters: Filters, today: date | None = None) -> bool:
    """True when month ``key`` is not covered whole: it is still running, or the range cuts it."""
    first = _roi._parse_month(key)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    last = following - timedelta(days=1)
    today = today or datetime.now(UTC).date()
    if today <= last:
        return True
    if filters.start and filters.start > first:
        return True
    return bool(filters.end and filters.end < last)


def provenance_counts(engine: Engine) -> dict[str, int]:
    """How many rows of figures each provenance holds, over every table that carries one.

    The app shows its "seeded demo data" banner while ``seeded`` is above 0.
    """
    counts = dict.fromkeys(PROVENANCES, 0)
    tables = (CostEntry, ValueEntry, Saving, Model, DriftEvent, Dataset, DatasetUse)
    stmt = union_all(  # one round trip, not one a table
        *(select(t.provenance, func.count()).group_by(t.provenance) for t in tables)
    )
    for provenance, count in _rows(engine, stmt):
        counts[provenance] = counts.get(provenance, 0) + int(count)
    return counts


def _project_provenances(engine: Engine, filters: Filters) -> dict[int, str]:
    """Per project, where its cost and value rows in the filters came from (``a, b``)."""
    found: dict[int, set[str]] = defaultdict(set)
    costs = select(CostEntry.project_id, CostEntry.provenance).distinct()
    costs = _filter_dates(
        costs.where(CostEntry.project_id.is_not(None)), CostEntry.incurred_on, filters
    )
    values = select(ValueEntry.project_id, ValueEntry.provenance).distinct()
    values = _filter_months(values, ValueEntry.month, filters)
    for stmt in (costs, values):
        for project_id, provenance in _rows(engine, stmt):
            found[project_id].add(provenance)
    return {pid: ", ".join(p for p in PROVENANCES if p in kinds) for pid, kinds in found.items()}


# --- Projects ------------------------------------------------------------------------------


def _project_figures(engine: Engine, filters: Filters) -> dict[int, _roi.Figures]:
    spend_stmt = (
        select(CostEntry.project_id, _money_sum(CostEntry.amount))
        .where(CostEntry.project_id.is_not(None))
        .group_by(CostEntry.project_id)
    )
    spend_stmt = _filter_dates(spend_stmt, CostEntry.incurred_on, filters)
    value_stmt = select(
        ValueEntry.project_id,
        _money_sum(ValueEntry.amount),
        func.coalesce(func.sum(ValueEntry.predictions), 0),
    ).group_by(ValueEntry.project_id)
    value_stmt = _filter_months(value_stmt, ValueEntry.month, filters)
    figures: dict[int, _roi.Figures] = defaultdict(_roi.Figures)
    for project_id, amount in _rows(engine, spend_stmt):
        figures[project_id] = figures[project_id] + _roi.Figures(spend=amount)
    for project_id, amount, predictions in _rows(engine, value_stmt):
        figures[project_id] = figures[project_id] + _roi.Figures(
            value=amount, predictions=int(predictions)
        )
    return figures


def _project_paybacks(engine: Engine, filters: Filters) -> dict[int, int | None]:
    """Payback of each project over its whole history up to the filter's end."""
    until = Filters(end=filters.end)
    cost_month = _Month(CostEntry.incurred_on)
    costs = (
        select(CostEntry.project_id, cost_month, _money_sum(CostEntry.amount))
        .where(CostEntry.project_id.is_not(None))
        .group_by(CostEntry.project_id, cost_month)
    )
    value_month = _Month(ValueEntry.month)
    values = select(ValueEntry.project_id, value_month, _money_sum(ValueEntry.amount)).group_by(
        ValueEntry.project_id, value_month
    )
    monthly_cost: dict[int, dict[str, Decimal]] = defaultdict(dict)
    monthly_value: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for project_id, key, amount in _rows(
        engine, _filter_dates(costs, CostEntry.incurred_on, until)
    ):
        monthly_cost[project_id][key] = amount
    for project_id, key, amount in _rows(engine, _filter_months(values, ValueEntry.month, until)):
        monthly_value[project_id][key] = amount
    return {
        project_id: (
            None
            if _roi.roi_note(sum(monthly_cost[project_id].values(), ZERO)) is not None
            else _roi.payback_months(monthly_cost[project_id], monthly_value.get(project_id, {}))
        )
        for project_id in monthly_cost
    }


PROJECT_COLUMNS = [
    "project",
    "team",
    "spend",
    "value",
    "roi",
    "payback_months",
    "cost_per_1k_predictions",
    "predictions",
    "roi_note",
    "provenance",
]


def projects_table(engine: Engine, filters: Filters | None = None) -> pd.DataFrame:
    """One row per project: spend, value, ROI, payback months and cost per 1k predictions.

    Spend and value are within the filters' dates; payback looks at the project's whole
    history up to the filters' end (it counts from the first cost). ROI and payback are
    None when the spend is below :data:`~halfcost.governance._roi.MIN_SPEND_FOR_ROI`;
    ``roi_note`` says why. ``provenance`` lists where its cost and value rows came from.
    """
    filters = filters or Filters()
    stmt = select(Project.id, Project.name, Team.name).join(Team, Team.id == Project.team_id)
    if filters.teams is not None:
        stmt = stmt.where(Team.name.in_(filters.teams))
    figures = _project_figures(engine, filters)
    paybacks = _project_paybacks(engine, filters)
    provenances = _project_provenances(engine, filters)
    rows = []
    for project_id, project, team in _rows(engine, stmt.order_by(Project.name)):
        fig = figures.get(project_id, _roi.Figures())
        rows.append(
            [
                project,
                team,
                fig.spend,
                fig.value,
                fig.roi,
                paybacks.get(project_id),
                fig.cost_per_1k_predictions,
                fig.predictions,
                fig.roi_note,
                provenances.get(project_id),
            ]
        )
    frame = pd.DataFrame(rows, columns=PROJECT_COLUMNS)
    frame["payback_months"] = frame["payback_months"].astype("Int64")
    frame["predictions"] = frame["predictions"].astype("int64")
    return frame


def _project_sums(engine: Engine, filters: Filters) -> pd.DataFrame:
    """The projects table's team, spend, value and predictions columns alone."""
    stmt = select(Project.id, Team.name).join(Team, Team.id == Project.team_id)
    if filters.teams is not None:
        stmt = stmt.where(Team.name.in_(filters.teams))
    figures = _project_figures(engine, filters)
    rows = []
    for project_id, team in _rows(engine, stmt):
        fig = figures.get(project_id, _roi.Figures())
        rows.append([team, fig.spend, fig.value, fig.predictions])
    frame = pd.DataFrame(rows, columns=["team", "spend", "value", "predictions"])
    frame["predictions"] = frame["predictions"].astype("int64")
    return frame


def teams_table(
    engine: Engine, filters: Filters | None = None, *, projects: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per team: projects, spend, value, ROI (summed over the team's projects).

    ``projects`` reuses a :func:`projects_table` already computed for the same filters.
    """
    filters = filters or Filters()
    if projects is None:  # only the sums are needed: not the projects' paybacks and sources
        projects = _project_sums(engine, filters)
    rows = []
    for team, group in projects.groupby("team", sort=True):
        fig = _roi.Figures(
            spend=sum(group["spend"], ZERO),
            value=sum(group["value"], ZERO),
            predictions=int(group["predictions"].sum()),
        )
        rows.append([team, len(group), fig.spend, fig.value, fig.roi, fig.roi_note])
    return pd.DataFrame(rows, columns=["team", "projects", "spend", "value", "roi", "roi_note"])


def _project_id(engine: Engine, project: str) -> int:
    found = _rows(engine, select(Project.id).where(Project.name == project))
    if not found:
        raise BadInputError(
            f"no project {project!r} in the registry; add it with "
            f"`halfcost registry add project {project} --team TEAM`"
        )
    return found[0][0]


MODEL_COLUMNS = [
    "project",
    "team",
    "version",
    "family",
    "status",
    "cv_score",
    "holdout_score",
    "latency_ms_per_1k",
    "size_bytes",
    "train_seconds",
    "cost_per_1m",
    "baseline_family",
    "baseline_cost_per_1m",
    "saving_per_1m",
    "created_at",
    "promoted_at",
    "retired_at",
    "min_score",
    "holdout_met",
    "baseline_score",
    "baseline_latency_ms_per_1k",
    "search_seconds",
    "n_trials",
    "provenance",
    "report_html",
    "model_id",
]


def _models_frame(engine: Engine, stmt: Any) -> pd.DataFrame:
    rows = []
    with Session(engine) as session:
        found = list(session.execute(stmt))
    for m, project, team in found:
        saving = None
        if m.baseline_cost_per_1m is not None and m.cost_per_1m is not None:
            saving = _roi.saving_per_1m(m.baseline_cost_per_1m, m.cost_per_1m)
        rows.append(
            [
                project,
                team,
                m.version,
                m.family,
                m.status,
                m.cv_score,
                m.holdout_score,
                m.latency_ms_per_1k,
                m.size_bytes,
                m.train_seconds,
                m.cost_per_1m,
                m.baseline_family,
                m.baseline_cost_per_1m,
                saving,
                m.created_at,
                m.promoted_at,
                m.retired_at,
                m.min_score,
                m.holdout_met,
                m.baseline_score,
                m.baseline_latency_ms_per_1k,
                m.search_seconds,
                m.n_trials,
                m.provenance,
                m.report_html,
                m.id,
            ]
        )
    frame = pd.DataFrame(rows, columns=MODEL_COLUMNS)
    frame["n_trials"] = frame["n_trials"].astype("Int64")
    frame["holdout_met"] = frame["holdout_met"].astype("boolean")
    frame["size_bytes"] = frame["size_bytes"].astype("Int64")
    return frame


def _models_stmt() -> Any:
    return (
        select(Model, Project.name, Team.name)
        .join(Project, Project.id == Model.project_id)
        .join(Team, Team.id == Project.team_id)
    )


def models_inventory(engine: Engine, filters: Filters | None = None) -> pd.DataFrame:
    """Every model live in the date range (created by its end, not retired before its start).

    Columns: project, team, version, family, status (candidate/champion/retired), cv_score,
    holdout_score, latency_ms_per_1k, size_bytes, train_seconds, cost_per_1m,
    baseline_family, baseline_cost_per_1m, saving_per_1m, created_at, promoted_at, retired_at,
    min_score (the target), holdout_met (False: the held-out score missed the target),
    baseline_score, baseline_latency_ms_per_1k, search_seconds, n_trials, provenance,
    report_html (the search's report, served by the app), model_id.
    """
    filters = filters or Filters()
    stmt = _models_stmt()
    start, end = _day_bounds(filters)
    if end:
        stmt = stmt.where(Model.created_at < end)
    if start:
        stmt = stmt.where(Model.retired_at.is_(None) | (Model.retired_at >= start))
    if filters.teams is not None:
        stmt = stmt.where(Team.name.in_(filters.teams))
    return _models_frame(engine, stmt.order_by(Project.name, Model.version))


def project_detail(
    engine: Engine, project: str, filters: Filters | None = None
) -> dict[str, pd.DataFrame]:
    """One project's ``models``, ``costs``, ``values`` and ``alerts`` (drift events) tables."""
    filters = Filters(start=(filters or Filters()).start, end=(filters or Filters()).end)
    project_id = _project_id(engine, project)
    models_stmt = _models_stmt().where(Model.project_id == project_id)
    costs = select(
        CostEntry.incurred_on.label("date"),
        CostEntry.category,
        CostEntry.amount,
        CostEntry.currency,
        CostEntry.source,
        CostEntry.provenance,
        CostEntry.details,
    ).where(CostEntry.project_id == project_id)
    costs = _filter_dates(costs, CostEntry.incurred_on, filters).order_by(CostEntry.incurred_on)
    values = select(
        ValueEntry.month,
        ValueEntry.amount,
        ValueEntry.predictions,
        ValueEntry.currency,
        ValueEntry.source,
        ValueEntry.provenance,
    ).where(ValueEntry.project_id == project_id)
    values = _filter_months(values, ValueEntry.month, filters).order_by(ValueEntry.month)
    timeline = drift_timeline(engine, filters, project=project)
    return {
        "models": _models_frame(engine, models_stmt.order_by(Model.version)),
        "costs": _frame(engine, costs),
        "values": _frame(engine, values),
        "alerts": timeline,
    }


def _frame(engine: Engine, stmt: Any) -> pd.DataFrame:
    with engine.connect() as connection:
        result = connection.execute(stmt)
        return pd.DataFrame(list(result), columns=list(result.keys()))


# --- Datasets & reuse ------------------------------------------------------------------------


def _uses_select(filters: Filters, owner: Any, *columns: Any) -> Any:
    """``columns`` over every dataset use in ``filters``, joined to its dataset, team,
    project and ``owner`` (a ``select(Team.id, Team.name)`` subquery: the owner team)."""
    stmt = (
        select(*columns)
        .join(Dataset, Dataset.id == DatasetUse.dataset_id)
        .join(Team, Team.id == DatasetUse.team_id)
        .join(Project, Project.id == DatasetUse.project_id)
        .outerjoin(owner, owner.c.id == Dataset.owner_team_id)
    )
    stmt = _filter_times(stmt, DatasetUse.used_at, filters)
    if filters.teams is not None:
        stmt = stmt.where(Team.name.in_(filters.teams))
    return stmt


def dataset_usage(engine: Engine, filters: Filters | None = None) -> pd.DataFrame:
    """Every use of a dataset version: dataset, version, team, project, used_at, owner_team."""
    owner = select(Team.id, Team.name).subquery()
    stmt = _uses_select(
        filters or Filters(),
        owner,
        Dataset.name.label("dataset"),
        Dataset.version,
        Team.name.label("team"),
        Project.name.label("project"),
        DatasetUse.used_at,
        owner.c.name.label("owner_team"),
    )
    return _frame(engine, stmt.order_by(DatasetUse.used_at))


def dataset_usage_by_team(engine: Engine, filters: Filters | None = None) -> pd.DataFrame:
    """Which teams use which dataset version, for which project: one row per (dataset
    version, team, project) with its number of uses and the first and last, summed in SQL.

    Columns: dataset, version, owner_team, team, project, uses, first_used, last_used. The
    same uses as :func:`dataset_usage` (one row per use), grouped: a registry's thousands of
    uses make a few hundred rows a reader can scan.
    """
    used_at, owner = DatasetUse.used_at, select(Team.id, Team.name).subquery()
    stmt = _uses_select(
        filters or Filters(),
        owner,
        Dataset.name.label("dataset"),
        Dataset.version,
        owner.c.name.label("owner_team"),
        Team.name.label("team"),
        Project.name.label("project"),
        func.count().label("uses"),
        type_coerce(func.min(used_at), used_at.type).label("first_used"),
        type_coerce(func.max(used_at), used_at.type).label("last_used"),
    )
    stmt = stmt.group_by(Dataset.name, Dataset.version, owner.c.name, Team.name, Project.name)
    frame = _frame(engine, stmt.order_by(Dataset.name, Dataset.version, Team.name, Project.name))
    frame["uses"] = frame["uses"].astype("int64")
    return frame


REUSE_COLUMNS = [
    "dataset",
    "version",
    "owner_team",
    "teams_using",
    "uses",
    "reuse_count",
    "avoided_cost",
    "collect_cost",
    "label_cost",
    "rows",
    "provenance",
]


def datasets_reuse(engine: Engine, filters: Filters | None = None) -> pd.DataFrame:
    """One row per dataset version: who uses it, how often, how often it was reused, cost avoided.

    ``teams_using`` lists the teams (comma-separated) that used it in the filters;
    ``reuse_count`` counts the teams other than its owner that used it for the first time in
    the filters, and ``avoided_cost`` = reuse_count × (collect_cost + label_cost): each
    reusing team did not buy and label the data again. Datasets nobody reuses have 0.
    """
    filters = filters or Filters()
    owner = select(Team.id, Team.name).subquery()
    datasets = select(
        Dataset.id,
        Dataset.name,
        Dataset.version,
        owner.c.name,
        Dataset.collect_cost,
        Dataset.label_cost,
        Dataset.rows,
        Dataset.provenance,
    ).outerjoin(owner, owner.c.id == Dataset.owner_team_id)
    uses = select(DatasetUse.dataset_id, Team.name, func.count()).join(
        Team, Team.id == DatasetUse.team_id
    )
    uses = _filter_times(uses, DatasetUse.used_at, filters)
    if filters.teams is not None:
        uses = uses.where(Team.name.in_(filters.teams))
    uses = uses.group_by(DatasetUse.dataset_id, Team.name)
    teams_using: dict[int, list[str]] = defaultdict(list)
    use_counts: dict[int, int] = defaultdict(int)
    for dataset_id, team, count in _rows(engine, uses):
        teams_using[dataset_id].append(team)
        use_counts[dataset_id] += int(count)
    reuses: dict[int, int] = defaultdict(int)
    for dataset_id, *_ in _first_reuses(engine, filters):
        reuses[dataset_id] += 1
    selected = set(filters.teams) if filters.teams is not None else None
    rows = []
    for dataset_id, name, version, owner_team, collect, label, n_rows, provenance in _rows(
        engine, datasets.order_by(Dataset.name, Dataset.version)
    ):
        if selected is not None and owner_team not in selected and dataset_id not in use_counts:
            continue
        reuse_count = reuses.get(dataset_id, 0)
        rows.append(
            [
                name,
                version,
                owner_team,
                ", ".join(sorted(teams_using.get(dataset_id, []))),
                use_counts.get(dataset_id, 0),
                reuse_count,
                _roi.reuse_avoided_cost(collect, label, reuse_count),
                collect,
                label,
                n_rows,
                provenance,
            ]
        )
    frame = pd.DataFrame(rows, columns=REUSE_COLUMNS)
    frame["rows"] = frame["rows"].astype("Int64")
    return frame


# --- Models ----------------------------------------------------------------------------------


def pareto_points(engine: Engine, project: str) -> pd.DataFrame:
    """The Pareto fronts (score against latency) of a project's searches, one row per point."""
    project_id = _project_id(engine, project)
    stmt = (
        select(
            literal(project).label("project"),
            Model.version,
            ParetoPoint.family,
            ParetoPoint.score,
            ParetoPoint.latency_ms_per_1k,
            ParetoPoint.chosen,
            ParetoPoint.size_bytes,
        )
        .join(Model, Model.id == ParetoPoint.model_id)
        .where(Model.project_id == project_id)
        .order_by(Model.version, ParetoPoint.latency_ms_per_1k)
    )
    frame = _frame(engine, stmt)
    frame["chosen"] = frame["chosen"].astype(bool)
    return frame


# --- Drift & retraining ------------------------------------------------------------------------

TIMELINE_COLUMNS = [
    "time",
    "project",
    "team",
    "kind",
    "decision",
    "reason",
    "batch",
    "champion",
    "challenger",
    "provenance",
    "report_html",
    "event_id",
]


def drift_timeline(
    engine: Engine,
    filters: Filters | None = None,
    *,
    include_checks: bool = False,
    project: str | None = None,
) -> pd.DataFrame:
    """Alerts, retrains, promotions and refusals in time order, with decision and reason.

    Routine ``check`` events are left out unless ``include_checks``.
    """
    filters = filters or Filters()
    stmt = (
        select(
            DriftEvent.time,
            Project.name.label("project"),
            Team.name.label("team"),
            DriftEvent.kind,
            DriftEvent.decision,
            DriftEvent.reason,
            DriftEvent.batch,
            DriftEvent.champion,
            DriftEvent.challenger,
            DriftEvent.provenance,
            DriftEvent.report_html,
            DriftEvent.id.label("event_id"),
        )
        .join(Project, Project.id == DriftEvent.project_id)
        .join(Team, Team.id == Project.team_id)
    )
    if not include_checks:
        stmt = stmt.where(DriftEvent.kind != "check")
    if project is not None:
        stmt = stmt.where(Project.name == project)
    stmt = _filter_times(stmt, DriftEvent.time, filters)
    if filters.teams is not None:
        stmt = stmt.where(Team.name.in_(filters.teams))
    frame = _frame(engine, stmt.order_by(DriftEvent.time))
    return frame.reindex(columns=TIMELINE_COLUMNS)


# --- Evidence ----------------------------------------------------------------------------------

EVIDENCE_KINDS = ("model", "event")


def evidence_file(engine: Engine, kind: str, row_id: int) -> dict[str, Any] | None:
    """The report a model row (its search's ``report.html``) or a drift event (its
    ``drift.html``) points to: ``{"path", "title", "exists"}``; None when it has none.

    The app serves only paths found here, by row id: a visitor never names a file.
    """
    if kind not in EVIDENCE_KINDS:
        raise BadInputError(f"unknown evidence kind {kind!r}; choose one of model, event")
    if kind == "model":
        stmt = (
            select(Model.report_html, Project.name, Model.version)
            .join(Project, Project.id == Model.project_id)
            .where(Model.id == row_id)
        )
    else:
        stmt = (
            select(DriftEvent.report_html, Project.name, DriftEvent.kind)
            .join(Project, Project.id == DriftEvent.project_id)
            .where(DriftEvent.id == row_id)
        )
    found = _rows(engine, stmt)
    if not found or not found[0][0]:
        return None
    path, project, label = found[0]
    from pathlib import Path

    title = (
        f"{project} {label}: search report"
        if kind == "model"
        else f"{project}: {label} drift report"
    )
    return {"path": path, "title": title, "exists": Path(path).is_file()}


def drift_reports(engine: Engine, filters: Filters | None = None) -> pd.DataFrame:
    """The drift events (checks included) that stored a ``drift.html``, newest last."""
    filters = filters or Filters()
    stmt = (
        select(
            DriftEvent.time,
            Project.name.label("project"),
            DriftEvent.kind,
            DriftEvent.batch,
            DriftEvent.report_html,
            DriftEvent.id.label("event_id"),
        )
        .join(Project, Project.id == DriftEvent.project_id)
        .join(Team, Team.id == Project.team_id)
        .where(DriftEvent.report_html.is_not(None))
    )
    stmt = _filter_times(stmt, DriftEvent.time, filters)
    if filters.teams is not None:
        stmt = stmt.where(Team.name.in_(filters.teams))
    return _frame(engine, stmt.order_by(DriftEvent.time))
