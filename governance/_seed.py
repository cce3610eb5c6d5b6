"""A realistic, seeded multi-team history for the demo, the app's tests and its benchmark.

Teams own projects (some valued per month, some per prediction) and datasets (which cost
money to collect and label, and which other teams reuse). Projects spend on compute,
storage, people and labeling (more while they are built), earn value once live, ship
models cheaper than their baseline, and see drift alerts, retrains, promotions and
refusals. The same seed and end month give the same registry.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from sqlalchemy import Engine, func, select

from halfcost.errors import BadInputError
from halfcost.governance._audit import bulk_insert
from halfcost.governance._db import ensure_schema, write_session
from halfcost.governance._models import (
    SEEDED,
    CostEntry,
    Dataset,
    DatasetUse,
    DriftEvent,
    Model,
    ModelDataset,
    ParetoPoint,
    Project,
    Saving,
    Team,
    ValueEntry,
)
from halfcost.records import Lever

TEAM_NAMES = (
    "Pricing",
    "Risk",
    "Marketing",
    "Supply Chain",
    "Customer Care",
    "Fraud",
    "Logistics",
    "Finance",
    "HR Analytics",
    "Search",
    "Recommendations",
    "Retail Ops",
)
USE_CASES = (
    "churn-forecast",
    "fraud-scoring",
    "demand-forecast",
    "price-optimizer",
    "lead-scoring",
    "ticket-routing",
    "credit-risk",
    "delivery-eta",
    "stock-replenishment",
    "next-best-offer",
    "returns-prediction",
    "invoice-matching",
)
DATASET_NAMES = (
    "customers",
    "transactions",
    "support-tickets",
    "web-sessions",
    "orders",
    "invoices",
    "shipments",
    "product-catalog",
    "call-transcripts",
    "store-sales",
    "payments",
    "marketing-touches",
)
FAMILIES = ("lightgbm", "logistic_regression", "random_forest", "extra_trees", "hist_gbm")
CATEGORY_WEIGHTS = (("compute", 50), ("storage", 15), ("people", 20), ("labeling", 15))
HISTORY_MONTHS = 18
CENT = Decimal("0.01")


@dataclass
class _Project:
    id: int
    name: str
    team_id: int
    start: date
    monthly_value: float
    monthly_cost: float
    per_prediction: float | None
    predictions_per_month: int


def _months(end: date, count: int) -> list[date]:
    months = []
    year, month = end.year, end.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def _money(amount: float) -> Decimal:
    return Decimal(str(round(amount, 2))).quantize(CENT)


def _hex(rng: random.Random, bits: int = 128) -> str:
    return f"{rng.getrandbits(bits):0{bits // 4}x}"


def _moment(rng: random.Random, month: date) -> datetime:
    """A random time in ``month``."""
    day = month + timedelta(days=rng.randrange(28))
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        seconds=rng.randrange(86_400)
    )


def _names(base: Sequence[str], count: int, label: str) -> list[str]:
    names = list(base[:count])
    for index in range(len(names), count):
        names.append(f"{label} {index + 1:02d}")
    return names


def _seed_teams(session: Any, teams: int) -> list[int]:
    return bulk_insert(session, Team, [{"name": n} for n in _names(TEAM_NAMES, teams, "Team")])


def _seed_projects(
    session: Any, rng: random.Random, team_ids: list[int], count: int, months: list[date]
) -> list[_Project]:
    rows, plans = [], []
    for index in range(count):
        use_case = USE_CASES[index % len(USE_CASES)]
        name = use_case if index < len(USE_CASES) else f"{use_case}-{index // len(USE_CASES) + 1}"
        team_id = team_ids[index % len(team_ids)] if index < len(team_ids) else rng.choice(team_ids)
        start = months[rng.randrange(0, max(1, len(months) - 4))]
        predictions = rng.choice((200_000, 1_000_000, 5_000_000, 20_000_000, 80_000_000))
        monthly_value = rng.uniform(6_000, 60_000)
        per_prediction = None
        if index % 2:
            per_prediction = monthly_value / predictions
        rows.append(
            {
                "name": name,
                "team_id": team_id,
                "value_per_month": None if per_prediction else _money(monthly_value),
                "value_per_prediction": (
                    Decimal(str(round(per_prediction, 6))) if per_prediction else None
                ),
                "predictions_per_month": predictions,
                "created_at": datetime(start.year, start.month, 1, tzinfo=UTC),
            }
        )
        # most projects cost a third to two thirds of what they return; one in four never pays
        money_pit = index % 4 == 3
        cost_ratio = rng.uniform(0.9, 1.5) if money_pit else rng.uniform(0.2, 0.7)
        plans.append((name, team_id, start, monthly_value, per_prediction, predictions, cost_ratio))
    ids = bulk_insert(session, Project, rows)
    return [
        _Project(pid, name, team_id, start, value, value * cost_ratio, per_pred, volume)
        for pid, (name, team_id, start, value, per_pred, volume, cost_ratio) in zip(
            ids, plans, strict=True
        )
    ]


def _seed_values(session: Any, rng: random.Random, projects: list[_Project], months: list[date]):
    rows = []
    for p in projects:
        live = [m for m in months if m >= p.start]
        for age, month in enumerate(live):
            ramp = min(1.0, age / 3)  # nothing while it is built, full value from month 4
            if ramp == 0:
                continue
            predictions = int(p.predictions_per_month * ramp * rng.uniform(0.85, 1.15))
            if p.per_prediction:
                amount = Decimal(str(round(p.per_prediction, 6))) * predictions
            else:
                amount = _money(p.monthly_value * ramp * rng.uniform(0.85, 1.15))
            rows.append(
                {
                    "month": month,
                    "project_id": p.id,
                    "amount": amount,
                    "predictions": predictions,
                    "currency": "USD",
                    "source": "seed",
                    "provenance": SEEDED,
                }
            )
    return bulk_insert(session, ValueEntry, rows)


def _weighted(rng: random.Random, weights: Sequence[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in weights], weights=[w for _, w in weights])[0]


def _seed_costs(
    session: Any, rng: random.Random, projects: list[_Project], months: list[date], count: int
) -> list[int]:
    slots = [(p, m) for p in projects for m in months if m >= p.start]
    per_slot = max(1.0, count / max(1, len(slots)))
    rows = []
    for index in range(count):
        if index % 33 == 32:  # a few bills nobody tagged: shown as unallocated
            month = rng.choice(months)
            rows.append(_cost_row(rng, None, month, "compute", rng.uniform(50, 900)))
            continue
        project, month = slots[index % len(slots)] if index < len(slots) else rng.choice(slots)
        build = 1.5 if (month.year, month.month) < _shift(project.start, 3) else 1.0
        amount = project.monthly_cost * build / per_slot * rng.uniform(0.5, 1.5)
        rows.append(_cost_row(rng, project, month, _weighted(rng, CATEGORY_WEIGHTS), amount))
    return bulk_insert(session, CostEntry, rows)


def _shift(month: date, by: int) -> tuple[int, int]:
    index = month.year * 12 + month.month - 1 + by
    return index // 12, index % 12 + 1


def _cost_row(
    rng: random.Random,
    project: _Project | None,
    month: date,
    category: str,
    amount: float,
) -> dict:
    day = _moment(rng, month).date()
    return {
        "incurred_on": day,
        "project_id": project.id if project else None,
        "team_id": project.team_id if project else None,
        "category": category if project else "unallocated",
        "amount": _money(amount),
        "currency": "USD",
        "source": "seed" if project else "seed:untagged-bill",
        "provenance": SEEDED,
    }


def _seed_datasets(
    session: Any, rng: random.Random, team_ids: list[int], count: int, months: list[date]
) -> list[dict]:
    rows = []
    for index in range(count):
        base = DATASET_NAMES[index % len(DATASET_NAMES)]
        name = base if index < len(DATASET_NAMES) else f"{base}-{index // len(DATASET_NAMES) + 1}"
        created = _moment(rng, rng.choice(months[: max(1, len(months) - 2)]))
        labeled = rng.random() < 0.5
        rows.append(
            {
                "name": name,
                "version": _hex(rng),
                "rows": rng.choice((20_000, 150_000, 800_000, 3_000_000)),
                "owner_team_id": rng.choice(team_ids),
                "collect_cost": _money(rng.uniform(1_000, 20_000)),
                "label_cost": _money(rng.uniform(1_000, 15_000)) if labeled else Decimal(0),
                "path": f"data/{name}.parquet",
                "created_at": created,
                "provenance": SEEDED,
            }
        )
    ids = bulk_insert(session, Dataset, rows)
    return [{**row, "id": dataset_id} for dataset_id, row in zip(ids, rows, strict=True)]


def _seed_uses(
    session: Any,
    rng: random.Random,
    datasets: list[dict],
    projects: list[_Project],
    months: list[date],
    count: int,
) -> list[int]:
    by_team: dict[int, list[dict]] = {}
    for dataset in datasets:
        by_team.setdefault(dataset["owner_team_id"], []).append(dataset)
    popular = datasets[: max(1, len(datasets) // 4)]  # a quarter of the data is widely shared
    portfolios = {}
    for p in projects:  # each project trains on a few datasets: its team's and shared ones
        own = by_team.get(p.team_id, [])
        picks = rng.sample(own, k=min(len(own), rng.randint(1, 2)))
        picks += rng.sample(popular, k=min(len(popular), rng.randint(0, 2)))
        portfolios[p.id] = picks or [rng.choice(datasets)]
    rows = []
    for _ in range(count):  # a use per retrain or experiment, again and again
        project = rng.choice(projects)
        dataset = rng.choice(portfolios[project.id])
        earliest = max(dataset["created_at"].date(), project.start)
        candidates = [m for m in months if m >= date(earliest.year, earliest.month, 1)]
        used_at = _moment(rng, rng.choice(candidates or months[-1:]))
        rows.append(
            {
                "dataset_id": dataset["id"],
                "project_id": project.id,
                "team_id": project.team_id,
                "used_at": max(used_at, dataset["created_at"]),
                "provenance": SEEDED,
            }
        )
    return bulk_insert(session, DatasetUse, rows)


@dataclass
class _Version:
    """A seeded model version and when it was trained and (maybe) promoted."""

    project: _Project
    version: str
    created: datetime
    promoted: datetime | None
    cv_score: float
    previous: str | None


def _seed_models(
    session: Any,
    rng: random.Random,
    projects: list[_Project],
    datasets: list[dict],
    months: list[date],
) -> list[_Version]:
    """Each project's model versions: v0001 is its first champion, each later promoted
    version replaced the one before; the newest may still be a candidate (a search not yet
    promoted). Every promotion in the drift history is one of these versions."""
    rows, links, story = [], [], []
    for p in projects:
        live = [m for m in months if m >= p.start]
        n_models = rng.randint(1, min(4, len(live)))
        baseline_cost = rng.uniform(5.0, 60.0)  # serving, per 1M predictions
        baseline_score = rng.uniform(0.78, 0.93)
        target = round(baseline_score - 0.015, 3)
        champion, previous_created = None, None
        for number in range(1, n_models + 1):
            created = _moment(rng, live[min(len(live) - 1, (number - 1) * 3 + 1)])
            if previous_created is not None:  # versions come one after the other
                created = max(created, previous_created + timedelta(days=4))
            previous_created = created
            last = number == n_models
            promoted = created + timedelta(days=2) if not last or rng.random() < 0.8 else None
            if number == 1:
                promoted = created + timedelta(days=2)  # every project has a champion
            ratio = rng.uniform(0.12, 0.8)
            cv_score = baseline_score - rng.uniform(-0.01, 0.006)
            holdout = cv_score - rng.uniform(-0.006, 0.014)  # held-out runs a little lower
            version = f"v{number:04d}"
            rows.append(
                {
                    "project_id": p.id,
                    "version": version,
                    "family": rng.choice(FAMILIES),
                    "metric": "roc_auc",
                    "cv_score": cv_score,
                    "holdout_score": holdout,
                    "min_score": target,
                    "holdout_met": holdout >= target,
                    "latency_ms_per_1k": 2.4 * ratio * rng.uniform(0.8, 1.2),
                    "size_bytes": int(2_000_000 * ratio * rng.uniform(0.5, 1.5)),
                    "train_seconds": rng.uniform(5, 600),
                    "cost_per_1m": _money(baseline_cost * ratio * 100) / 100,
                    "train_cost": _money(rng.uniform(1, 40)),
                    "baseline_family": "lightgbm (defaults)",
                    "baseline_score": baseline_score,
                    "baseline_latency_ms_per_1k": 2.4,
                    "baseline_cost_per_1m": _money(baseline_cost * 100) / 100,
                    "status": "candidate",
                    "created_at": created,
                    "promoted_at": promoted,
                    "retired_at": None,
                    "provenance": SEEDED,
                }
            )
            story.append(_Version(p, version, created, promoted, cv_score, champion))
            if promoted is not None:
                champion = version
        _set_statuses(rows[-n_models:])
        for offset in range(n_models):
            links.append(
                (len(rows) - n_models + offset, rng.sample(datasets, k=min(2, len(datasets))))
            )
    ids = bulk_insert(session, Model, rows)
    _link_model_datasets(session, ids, links)
    _seed_pareto(session, rng, ids, rows)
    return story


def _set_statuses(rows: list[dict]) -> None:
    """The last promoted model is the champion; earlier promoted ones were retired by the next."""
    promoted = [row for row in rows if row["promoted_at"] is not None]
    for current, following in pairwise(promoted):
        current["status"] = "retired"
        current["retired_at"] = following["promoted_at"]
    if promoted:
        promoted[-1]["status"] = "champion"


def _link_model_datasets(session: Any, model_ids: list[int], links: list[tuple[int, list]]) -> None:
    """Record which dataset versions each seeded model was trained on."""
    rows = [
        {"model_id": model_ids[index], "dataset_id": dataset["id"]}
        for index, used in links
        for dataset in used
    ]
    bulk_insert(session, ModelDataset, rows)


def _seed_pareto(session: Any, rng: random.Random, ids: list[int], rows: list[dict]) -> None:
    points = []
    for model_id, row in zip(ids, rows, strict=True):
        n_points = rng.randint(3, 6)
        for index in range(n_points):
            chosen = index == 0
            latency = row["latency_ms_per_1k"] * (1 + index * rng.uniform(0.3, 0.9))
            score = row["cv_score"] + index * rng.uniform(0.001, 0.006)
            points.append(
                {
                    "model_id": model_id,
                    "family": row["family"] if chosen else rng.choice(FAMILIES),
                    "score": score,
                    "latency_ms_per_1k": latency,
                    "size_bytes": int(row["size_bytes"] * (1 + index)),
                    "chosen": chosen,
                }
            )
    bulk_insert(session, ParetoPoint, points)


class _Events:
    """Builds one project's drift log: every event a row with the common seeded fields."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.rows: list[dict] = []

    def add(self, p: _Project, moment: datetime, kind: str, decision: str, reason: str, **extra):
        rng = self.rng
        self.rows.append(
            {
                "event_id": _hex(rng),
                "time": moment,
                "project_id": p.id,
                "kind": kind,
                "decision": decision,
                "reason": reason,
                "batch": f"batch-{rng.randrange(1, 500):04d}.parquet",
                "batch_rows": rng.choice((500, 2_000, 10_000)),
                "data_version": _hex(rng),
                "champion": extra.get("champion"),
                "challenger": extra.get("challenger"),
                "scores": extra.get("scores") or {"roc_auc": round(rng.uniform(0.8, 0.93), 4)},
                "details": {"seeded": True},
                "provenance": SEEDED,
            }
        )

    def alert(self, p: _Project, moment: datetime, champion: str | None, retrain: bool) -> None:
        share = self.rng.uniform(0.3, 0.8)
        columns = self.rng.randint(2, 9)
        self.add(
            p,
            moment,
            "alert",
            "retrain" if retrain else "alert_only",
            f"{columns} columns drifted, weighted share {share:.2f} ≥ 0.30",
            champion=champion,
        )


def _promotion_cycle(log: _Events, v: _Version) -> None:
    """Alert (after the first champion), retrain started, retrain, promotion of ``v``."""
    p, rng = v.project, log.rng
    start = v.created - timedelta(hours=rng.uniform(1, 6))
    if v.previous is not None:
        log.alert(p, start - timedelta(minutes=5), v.previous, retrain=True)
        why = "drift alert on the last batch: `dvc repro` started"
    else:
        why = "no champion yet: train the first one."
    log.add(p, start, "retrain_started", "retrain", why, champion=v.previous)
    log.add(
        p,
        v.created,
        "retrain",
        "challenger_ready",
        f"`dvc repro` finished in {rng.uniform(60, 900):.1f} s.",
        champion=v.previous,
    )
    if v.promoted is None:
        return
    old = v.cv_score - rng.uniform(0.0, 0.01)
    reason = (
        f"challenger {v.version} scored {v.cv_score:.3f} ≥ champion {v.previous} {old:.3f} − "
        "margin 0.01"
        if v.previous
        else f"first champion {v.version} meets the target ({v.cv_score:.3f})"
    )
    log.add(
        p,
        v.promoted,
        "promotion",
        "promoted",
        reason,
        champion=v.version,
        challenger=v.version,
        scores={"challenger": round(v.cv_score, 4)},
    )


def _refused_cycle(log: _Events, p: _Project, moment: datetime, champion: str) -> None:
    rng = log.rng
    log.alert(p, moment, champion, retrain=True)
    started = moment + timedelta(minutes=5)
    log.add(p, started, "retrain_started", "retrain", "drift alert: `dvc repro` started")
    if rng.random() < 0.3:
        log.add(
            p,
            started + timedelta(minutes=20),
            "retrain_failed",
            "champion_kept",
            "`dvc repro` exited with status 1: stage train failed; the champion is unchanged",
            champion=champion,
        )
        return
    log.add(p, started + timedelta(minutes=15), "retrain", "challenger_ready", "`dvc repro` done")
    score = rng.uniform(0.78, 0.85)
    log.add(
        p,
        started + timedelta(minutes=16),
        "refusal",
        "champion_kept",
        f"the challenger scored {score:.3f} < champion {champion} {score + 0.02:.3f} − margin "
        f"0.01. The champion {champion} is kept.",
        champion=champion,
    )


def _champion_at(versions: list[_Version], moment: datetime) -> str | None:
    promoted = [v for v in versions if v.promoted is not None and v.promoted <= moment]
    return promoted[-1].version if promoted else None


def _seed_events(
    session: Any,
    rng: random.Random,
    story: list[_Version],
    months: list[date],
    count: int,
) -> list[int]:
    """A drift log that tells the models' story: every promotion is a version in the
    inventory; every retrain ends in a promotion or a refusal; the rest are refused or
    failed retrains, alerts that did not retrain, and routine checks (about ``count``)."""
    log = _Events(rng)
    by_project: dict[int, list[_Version]] = {}
    for v in story:
        by_project.setdefault(v.project.id, []).append(v)
        _promotion_cycle(log, v)
    projects = [versions[0].project for versions in by_project.values()]
    end = datetime.combine(months[-1] + timedelta(days=27), datetime.min.time(), UTC)
    while len(log.rows) < count:
        p = rng.choice(projects)
        versions = by_project[p.id]
        first = versions[0].promoted or versions[0].created
        moment = first + (end - first) * rng.random()
        champion = _champion_at(versions, moment)
        if champion is None:
            continue
        roll = rng.random()
        if roll < 0.03:
            _refused_cycle(log, p, moment, champion)
        elif roll < 0.2:
            log.alert(p, moment, champion, retrain=False)
        else:
            share = rng.uniform(0.05, 0.25)
            log.add(
                p,
                moment,
                "check",
                "ok",
                f"weighted drift share {share:.2f} below 0.30",
                champion=champion,
            )
    return bulk_insert(session, DriftEvent, log.rows)


def _seed_savings(
    session: Any, rng: random.Random, projects: list[_Project], months: list[date]
) -> list[int]:
    rows = []
    for p in projects:
        live = [m for m in months if m >= p.start]
        for month in live[::3]:
            if rng.random() < 0.5:
                saved = rng.randint(500, 8_000)
                per_label = Decimal(rng.choice(("0.08", "0.25", "1.20")))
                rows.append(
                    {
                        "saved_on": month + timedelta(days=rng.randrange(27)),
                        "project_id": p.id,
                        "lever": Lever.FEWER_LABELS,
                        "amount": saved * per_label,
                        "source": "seed",
                        "provenance": SEEDED,
                        "details": {
                            "labels_saved_vs_random": saved,
                            "cost_per_label": str(per_label),
                        },
                    }
                )
            if rng.random() < 0.5:
                handled = rng.randint(200, 20_000)
                rows.append(
                    {
                        "saved_on": month + timedelta(days=rng.randrange(27)),
                        "project_id": p.id,
                        "lever": Lever.LESS_CLEANING,
                        "amount": handled * Decimal("0.10"),
                        "source": "seed",
                        "provenance": SEEDED,
                        "details": {"rows_handled": handled, "review_cost_per_row": "0.10"},
                    }
                )
    return bulk_insert(session, Saving, rows)


def seed_history(
    engine: Engine,
    *,
    teams: int = 5,
    projects: int = 12,
    datasets: int = 30,
    events: int = 3000,
    seed: int = 0,
    end: date | None = None,
) -> dict[str, Any]:
    """Fill an empty registry with a realistic multi-team history (migrating it first).

    Args:
        engine: the registry (see :func:`halfcost.governance.connect`).
        teams, projects, datasets: how many of each.
        events: how many cost entries, drift events and dataset uses together (half,
            three tenths and one fifth of them).
        seed: the random seed: the same seed and ``end`` give the same registry.
        end: a day in the last month of history (default: the previous, complete month);
            18 months are made.

    Returns:
        How many rows of each kind were written, and the first and last month.

    Raises:
        BadInputError: the registry already holds teams, or a count is not positive.
    """
    for label, number in (("teams", teams), ("projects", projects), ("datasets", datasets)):
        if number < 1:
            raise BadInputError(f"{label} must be at least 1, but got {number}")
    if events < 0:
        raise BadInputError(f"events must be ≥ 0, but got {events}")
    ensure_schema(engine)
    rng = random.Random(seed)
    last = end or (datetime.now(UTC).date().replace(day=1) - timedelta(days=1))
    months = _months(date(last.year, last.month, 1), HISTORY_MONTHS)
    with write_session(engine, actor="seed") as session:
        if session.scalar(select(func.count()).select_from(Team)):
            raise BadInputError(
                "the registry already holds teams; seed an empty registry (a new --db)"
            )
        team_ids = _seed_teams(session, teams)
        plans = _seed_projects(session, rng, team_ids, projects, months)
        data = _seed_datasets(session, rng, team_ids, datasets, months)
        values = _seed_values(session, rng, plans, months)
        n_costs = events // 2
        n_events = events * 3 // 10
        costs = _seed_costs(session, rng, plans, months, n_costs)
        uses = _seed_uses(session, rng, data, plans, months, events - n_costs - n_events)
        story = _seed_models(session, rng, plans, data, months)
        drift = _seed_events(session, rng, story, months, n_events)
        savings = _seed_savings(session, rng, plans, months)
    return {
        "teams": len(team_ids),
        "projects": len(plans),
        "datasets": len(data),
        "value_entries": len(values),
        "cost_entries": len(costs),
        "dataset_uses": len(uses),
        "models": len(story),
        "drift_events": len(drift),
        "savings": len(savings),
        "first_month": months[0].isoformat(),
        "last_month": months[-1].isoformat(),
    }
