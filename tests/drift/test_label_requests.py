"""Label requests in the drift loop, on a real `halfcost init --demo` project (git + DVC).

An unlabelled drifting batch gets `.halfcost/label_requests/<batch>.csv` and a
`labels_requested` event; labels for only those rows then retrain on them alone.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from halfcost.demo_data import ID_COLUMN, TARGET, make_customers
from halfcost.drift import EventLog, init_project, watch_batch
from halfcost.drift._label_requests import merge_labels, split_monitor
from halfcost.drift._watch import train_first_champion
from halfcost.errors import BadInputError
from halfcost.governance import connect, ingest_into, migrate
from halfcost.governance._models import CostEntry, DriftEvent, Saving
from halfcost.jsonio import write_json
from halfcost.records import LabelingReport
from halfcost.tables import write_table

BUDGET = 60


@pytest.fixture(scope="module")
def project(tmp_path_factory, edit_params) -> Path:
    root = tmp_path_factory.mktemp("labels") / "project"
    init_project(root, demo=True, budget_s=4, min_score=0.6, commit=True)
    edit_params(
        root,
        data={"demo_rows": 2000},
        monitor={"label_budget": BUDGET, "label_strategy": "margin"},
        promotion={"margin": 0.5},  # any challenger meeting the target is promoted
    )
    assert train_first_champion(root) == "v0001"
    return root


@pytest.mark.slow  # two real `dvc repro` runs
def test_unlabelled_drift_asks_for_labels_then_retrains_on_those_rows_only(project, tmp_path):
    drifted = make_customers(3000, seed=22, drift=1.0, id_start=6_000_000)
    batch = write_table(drifted.drop(columns=[TARGET]), tmp_path / "drifted.csv")

    first = watch_batch(batch, project=project)
    assert first.outcome == "retrain_skipped"
    kinds = [e["kind"] for e in first.events]
    assert kinds == ["check", "alert", "refusal", "labels_requested"]
    request_event = first.events[-1]
    request = project / ".halfcost" / "label_requests" / "drifted.csv"
    assert request_event["details"]["path"] == str(request)
    asked = pd.read_csv(request, dtype=str, keep_default_na=False)
    assert len(asked) == BUDGET and asked["halfcost_row"].astype(int).is_unique
    assert set(asked.columns) >= {ID_COLUMN, "halfcost_row", "halfcost_score", TARGET}
    assert (asked[TARGET] == "").all()  # for the labeller to fill in
    rows = asked["halfcost_row"].astype(int).to_numpy()
    assert (asked[ID_COLUMN].to_numpy() == drifted[ID_COLUMN].to_numpy()[rows]).all()
    logged = EventLog(project / ".halfcost" / "events.jsonl").read(kinds="labels_requested")
    assert [e["event_id"] for e in logged] == [request_event["event_id"]]

    # the project's latest simulation: margin needs 0.4x random's labels, at 0.50 USD each
    plan = LabelingReport(
        created_at=datetime.now(UTC),
        labels_planned=40,
        labels_saved_vs_random=60,
        cost_per_label_usd=Decimal("0.50"),
        extra={"ratio": 0.4, "best_strategy": "margin"},
    )
    write_json(plan.to_dict(), project / "label-sim" / "report.json")
    truth = drifted.set_index(ID_COLUMN)[TARGET]
    asked[TARGET] = asked[ID_COLUMN].map(truth)
    labelled = asked.iloc[: BUDGET - 10]  # ten requested rows come back unlabelled
    labels = write_table(labelled, tmp_path / "labels.csv")
    second = watch_batch(batch, labels=labels, project=project)
    kinds = [e["kind"] for e in second.events]
    assert kinds[:3] == ["check", "alert", "retrain_started"], second.reason
    written = [
        p
        for folder in ("data/batches", ".halfcost/set_aside")
        if (project / folder).is_dir()
        for p in (project / folder).glob("*.csv")
    ]
    (added,) = written
    trained_on = pd.read_csv(added)
    assert len(trained_on) == BUDGET - 10
    assert set(trained_on[ID_COLUMN]) == set(labelled[ID_COLUMN])
    assert (trained_on.set_index(ID_COLUMN)[TARGET] == truth[trained_on[ID_COLUMN]]).all()

    # the labels bought are booked once, with the saving from the simulation's ratio
    (bought,) = (project / ".halfcost" / "label_purchases").glob("*/report.json")
    report = json.loads(bought.read_text())
    assert report["labels_bought"] == BUDGET - 10 == 50
    assert report["labels_saved_vs_random"] == 75  # random: 50 / 0.4 = 125 labels
    engine = connect(f"sqlite:///{tmp_path / 'registry.db'}")
    migrate(engine)
    ingest_into(engine, bought, project="churn", team="Growth")
    ingest_into(engine, project / "label-sim" / "report.json", project="churn")
    ingest_into(engine, project / ".halfcost" / "events.jsonl", project="churn")
    with engine.connect() as connection:
        costs = connection.execute(select(CostEntry.category, CostEntry.amount)).all()
        savings = connection.execute(select(Saving.lever, Saving.amount)).all()
        requested = connection.execute(
            select(DriftEvent.event_id).where(DriftEvent.kind == "labels_requested")
        ).all()
    engine.dispose()
    assert [r.event_id for r in requested] == [request_event["event_id"]]
    assert costs == [("labeling", Decimal("25"))]  # 50 x 0.50; the plan books nothing
    assert savings == [("fewer_labels", Decimal("37.5"))]  # 75 x 0.50


def test_partial_labels_match_by_id_column_then_by_row_number():
    batch = make_customers(30, seed=5).drop(columns=[TARGET])
    truth = make_customers(30, seed=5)[TARGET]
    by_id = pd.DataFrame({ID_COLUMN: batch[ID_COLUMN].iloc[[3, 7]], TARGET: ["yes", "no"]})
    merged = merge_labels(batch, by_id, target=TARGET, id_column=ID_COLUMN)
    assert merged[TARGET].notna().sum() == 2 and merged.loc[7, TARGET] == "no"
    assert len(merged) == 30  # every row is still checked for drift
    no_id = batch.drop(columns=[ID_COLUMN])
    by_row = pd.DataFrame({"halfcost_row": [0, 29], TARGET: [truth[0], truth[29]]})
    merged = merge_labels(no_id, by_row, target=TARGET)
    assert merged[TARGET].iloc[[0, 29]].tolist() == [truth[0], truth[29]]
    assert merged[TARGET].isna().sum() == 28
    with pytest.raises(BadInputError, match="not in the batch"):
        merge_labels(no_id, by_row.assign(halfcost_row=[0, 30]), target=TARGET)
    with pytest.raises(BadInputError, match="repeat"):
        merge_labels(no_id, pd.concat([by_row, by_row]), target=TARGET)
    with pytest.raises(BadInputError, match="hold no"):
        merge_labels(no_id, by_row.assign(**{TARGET: np.nan}), target=TARGET)


def test_label_settings_are_checked():
    policy, settings = split_monitor({"alert_share": 0.3, "label_budget": 10})
    assert policy == {"alert_share": 0.3} and (settings.budget, settings.strategy) == (10, "margin")
    with pytest.raises(BadInputError, match=r"monitor\.label_budget must be an integer >= 0"):
        split_monitor({"label_budget": -1})
    with pytest.raises(BadInputError, match=r"monitor\.label_strategy is 'best'; choose one of"):
        split_monitor({"label_strategy": "best"})
