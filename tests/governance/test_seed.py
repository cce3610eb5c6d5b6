"""The seeded demo history tells one consistent story (what a manager would cross-check)."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from halfcost.governance import seed_history
from halfcost.governance._models import (
    PROVENANCES,
    CostEntry,
    Dataset,
    DatasetUse,
    DriftEvent,
    Model,
    Project,
    Saving,
    ValueEntry,
)

SIZES = {"teams": 4, "projects": 10, "datasets": 20, "events": 1200, "seed": 3}


@pytest.fixture
def seeded(engine):
    counts = seed_history(engine, **SIZES)
    return engine, counts


def _events(engine):
    with Session(engine) as session:
        return list(session.scalars(select(DriftEvent).order_by(DriftEvent.time)))


def test_every_promotion_is_a_model_in_the_inventory_and_every_project_has_a_champion(seeded):
    engine, _ = seeded
    with Session(engine) as session:
        models = list(session.scalars(select(Model)))
        projects = list(session.scalars(select(Project.id)))
    versions = {(m.project_id, m.version): m for m in models}
    promotions = [e for e in _events(engine) if e.kind == "promotion"]
    assert promotions
    promoted_per_project = defaultdict(list)
    for event in promotions:
        model = versions.get((event.project_id, event.challenger))
        assert model is not None, f"promotion of {event.challenger}: no such model"
        assert model.promoted_at == event.time
        promoted_per_project[event.project_id].append(event.challenger)
    for project_id in projects:
        own = [m for m in models if m.project_id == project_id]
        champions = [m for m in own if m.status == "champion"]
        promoted = promoted_per_project.get(project_id, [])
        if promoted:
            assert len(champions) == 1, (project_id, [m.status for m in own])
            assert champions[0].version == promoted[-1]  # the last promotion holds
        # each promoted version is promoted once, and there are no promotions of unknown ones
        assert len(promoted) == len(set(promoted)) == sum(m.promoted_at is not None for m in own)


def test_retrains_promotions_and_refusals_add_up(seeded):
    engine, counts = seeded
    events = _events(engine)
    kinds = Counter(e.kind for e in events)
    assert kinds["promotion"] + kinds["refusal"] <= kinds["retrain"]
    with Session(engine) as session:
        candidates = session.scalar(
            select(func.count()).select_from(Model).where(Model.promoted_at.is_(None))
        )
    # a retrain ends in a promotion or a refusal, or (the newest) a candidate not yet promoted
    assert kinds["retrain"] == kinds["promotion"] + kinds["refusal"] + candidates
    assert kinds["retrain_started"] == kinds["retrain"] + kinds["retrain_failed"]
    retraining_alerts = sum(e.kind == "alert" and e.decision == "retrain" for e in events)
    first_champions = counts["projects"]  # the first champion needs no alert
    assert retraining_alerts == kinds["retrain_started"] - first_champions
    assert abs(len(events) - counts["drift_events"]) == 0


def test_every_seeded_row_says_it_is_seeded(seeded):
    engine, _ = seeded
    with Session(engine) as session:
        for model in (CostEntry, ValueEntry, Saving, Model, DriftEvent, Dataset, DatasetUse):
            found = set(session.scalars(select(model.provenance).distinct()))
            assert found == {"seeded"}, (model.__tablename__, found)
    assert "seeded" in PROVENANCES


def test_events_happen_while_a_champion_exists(seeded):
    engine, _ = seeded
    with Session(engine) as session:
        first_promotion = dict(
            session.execute(
                select(Model.project_id, func.min(Model.promoted_at)).group_by(Model.project_id)
            ).all()
        )
    for event in _events(engine):
        if event.kind in ("check", "alert", "refusal"):
            assert event.time >= first_promotion[event.project_id], event.kind
