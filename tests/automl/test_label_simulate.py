"""`LabelingSimulation`: reproducible, first-round-at-target counts, the report, the ingest."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from halfcost.automl import LabelingSimulation, labeling_report, write_labeling_outputs
from halfcost.automl._label_simulate import _median_or_none
from halfcost.errors import BadInputError
from halfcost.records import LabelingReport, read_report


def _table(n: int = 800, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    z = rng.normal(size=n)
    shop = rng.choice(["north", "south", "east", "west"], size=n).astype(object)
    logit = 3 * x - 2 * z * (shop == "north") + 0.5
    label = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "churn", "stay").astype(object)
    frame = pd.DataFrame({"x": x, "z": z, "shop": shop, "label": label})
    frame.loc[::31, "shop"] = None
    return frame


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return _table()


@pytest.fixture(scope="module")
def simulated(table):
    sim = LabelingSimulation(min_score=0.8, seeds=2, cost_per_label="0.40", seed=4)
    return sim.fit(table.drop(columns="label"), table["label"])


def test_labels_to_target_is_the_first_round_at_the_score(simulated):
    assert set(simulated.labels_to_target_) == {"margin", "entropy", "diverse", "random"}
    assert simulated.pool_rows_ == 640 and simulated.holdout_rows_ == 160
    assert (simulated.start_, simulated.step_) == (20, 7)  # max(20, 1%), 1% of 640
    for name, runs in simulated.runs_.items():
        for run in runs:
            assert run["labels"][0] == 20
            assert all(b - a == 7 for a, b in zip(run["labels"], run["labels"][1:], strict=False))
            first = next(
                (n for n, s in zip(run["labels"], run["scores"], strict=True) if s >= 0.8), None
            )
            assert run["reached"] == first
        reached = [run["reached"] for run in runs]
        assert simulated.labels_to_target_[name] == _median_or_none(reached)


def test_the_same_seed_replays_the_same_simulation(table, simulated):
    again = LabelingSimulation(min_score=0.8, seeds=2, cost_per_label="0.40", seed=4)
    again.fit(table.drop(columns="label"), table["label"])
    assert again.labels_to_target_ == simulated.labels_to_target_
    assert again.curves_ == simulated.curves_


def test_median_counts_never_as_the_largest():
    assert _median_or_none([30, None, 10]) == 30
    assert _median_or_none([None, None, 10]) is None
    assert _median_or_none([10, 20]) == 15


def test_report_holds_the_contract_and_round_trips(simulated, tmp_path):
    record = labeling_report(simulated)
    folder = write_labeling_outputs(record, tmp_path / "sim")
    data = json.loads((folder / "report.json").read_text())
    assert data["kind"] == "labeling" and data["labels_bought"] == 0
    assert data["labels_to_target"] == simulated.labels_to_target_
    best = data["best_strategy"]
    assert best != "random" and data["labels_planned"] == data["labels_to_target"][best]
    if data["labels_planned"] is not None:
        assert data["ratio"] == pytest.approx(
            data["labels_planned"] / data["labels_to_target"]["random"], abs=1e-4
        )
    assert set(data["curves"]) == set(data["labels_to_target"])
    assert data["cost_per_label_usd"] == "0.40"
    saved = data["labels_saved_vs_random"]
    assert Decimal(data["money_saved_usd"]) == Decimal(saved) * Decimal("0.40")
    back = read_report(data)
    assert isinstance(back, LabelingReport) and back.labels_planned == data["labels_planned"]
    assert back.to_dict() == data
    assert (folder / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (folder / "report.html").read_text()
    assert "data:image/png;base64," in page and f"{best} needs" in page


def test_a_simulation_books_no_cost_in_the_registry(simulated, tmp_path):
    from halfcost.governance import connect, ingest_into, migrate
    from halfcost.governance._models import CostEntry, Saving

    folder = write_labeling_outputs(labeling_report(simulated), tmp_path / "sim")
    engine = connect(f"sqlite:///{tmp_path / 'registry.db'}")
    migrate(engine)
    result = ingest_into(engine, folder, project="churn", team="Growth").to_dict()
    assert [f["kind"] for f in result["files"]] == ["labeling"]
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(CostEntry)) == 0
        assert connection.scalar(select(func.count()).select_from(Saving)) == 0
    engine.dispose()


def test_a_target_random_never_reaches_is_refused(table):
    sim = LabelingSimulation(min_score=0.999, seeds=1)
    with pytest.raises(BadInputError, match=r"min_score 0\.999 is never reached") as caught:
        sim.fit(table.drop(columns="label"), table["label"])
    assert caught.value.render("--min-score").endswith("give a lower --min-score.")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"strategies": ["margin", "greedy"]}, "unknown strategy 'greedy'"),
        ({"seeds": 0}, "seeds must be a whole number"),
        ({"start": 5000}, "start is 5000 but the pool to label has only 640 rows"),
        ({"step": 0}, "step must be a whole number"),
        ({"cost_per_label": "cheap"}, "cost_per_label must be an amount"),
        ({"metric": "r2"}, "metric 'r2' is for regression"),
    ],
)
def test_bad_settings_are_one_line_errors(table, settings, message):
    sim = LabelingSimulation(min_score=0.7, **settings)
    with pytest.raises(BadInputError, match=message):
        sim.fit(table.drop(columns="label"), table["label"])


def test_a_regression_target_is_refused(table):
    with pytest.raises(BadInputError, match="classification only"):
        LabelingSimulation(min_score=0.5).fit(table.drop(columns="label"), table["x"] * 1.37)
