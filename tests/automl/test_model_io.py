"""The saved model folder: round trip, input checks, and refusal of untrusted content."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier

from halfcost.automl import HalfcostModel, load_model, save_model
from halfcost.automl._encoder import table_encoder
from halfcost.automl._prep import plan_columns
from halfcost.errors import BadInputError


@pytest.fixture(scope="module")
def model(customers) -> HalfcostModel:
    import lightgbm

    plan = plan_columns(customers, "churned")
    pipeline = Pipeline(
        [
            ("encode", table_encoder(plan.features, plan.kinds)),
            ("model", lightgbm.LGBMClassifier(n_estimators=10, verbose=-1, n_jobs=1)),
        ]
    )
    codes = (customers["churned"] == "yes").astype(int).to_numpy()
    pipeline.fit(customers[plan.features], codes)
    meta = {
        "target": "churned",
        "task": "classification",
        "metric": "accuracy",
        "min_score": 0.7,
        "feature_columns": plan.features,
        "classes": ["no", "yes"],
        "family": "lightgbm",
        "params": {"n_estimators": 10},
    }
    weights = {c: 1 / len(plan.features) for c in plan.features}
    return HalfcostModel(pipeline, meta, weights)


def test_round_trip_gives_identical_predictions(model, customers, tmp_path):
    save_model(model, tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    assert list(loaded.predict(customers)) == list(model.predict(customers))
    assert np.array_equal(loaded.predict_proba(customers), model.predict_proba(customers))
    assert loaded.metadata["feature_columns"] == model.metadata["feature_columns"]
    assert loaded.feature_importances_ == pytest.approx(model.feature_importances_)
    assert not any(p.suffix == ".pkl" for p in (tmp_path / "model").iterdir())


def test_missing_feature_column_is_named(model, customers):
    with pytest.raises(BadInputError, match="'spend'"):
        model.predict(customers.drop(columns=["spend"]))


def test_unseen_categories_and_missing_values_are_handled(model, customers):
    rows = customers.head(3).copy()
    rows["plan"] = ["never-seen", None, np.nan]
    rows["spend"] = [np.nan, "not a number", 10.0]
    rows["signup_date"] = [None, "2024-13-45", "2024-02-02"]
    # text where the model was trained on numbers or dates is never read silently
    with pytest.raises(BadInputError, match=r"'spend' \(1 of 3 values are not numbers") as error:
        model.predict(rows)
    assert "'signup_date' (1 of 3 values are not dates" in str(error.value)
    assert "on_bad_values" in str(error.value)
    for how in ("null", "impute"):
        checked, bad = model.check_values(rows, on_bad_values=how)
        assert bad == {"spend": 1, "signup_date": 1}
        assert rows["spend"].tolist()[1] == "not a number"  # the caller's frame is kept
        assert len(model.predict(checked)) == 3
        assert np.isfinite(model.predict_proba(checked)).all()
    blank = rows.assign(spend=[np.nan, None, 10.0], signup_date=[None, None, "2024-02-02"])
    assert model.check_values(blank)[1] == {}  # missing cells are missing, not bad


def test_extra_columns_and_column_order_do_not_matter(model, customers):
    shuffled = customers[customers.columns[::-1]].assign(extra=1)
    assert list(model.predict(shuffled)) == list(model.predict(customers))


class _Gadget:
    """A type no halfcost model contains."""

    def __init__(self):
        self.payload = "anything"


def test_untrusted_type_is_refused(customers, tmp_path):
    import skops.io

    folder = tmp_path / "evil"
    folder.mkdir()
    skops.io.dump({"model": _Gadget()}, folder / "pipeline.skops")
    (folder / "meta.json").write_text(json.dumps({"task": "classification"}))
    with pytest.raises(BadInputError, match="untrusted type"):
        load_model(folder)


def test_not_a_model_folder(tmp_path):
    with pytest.raises(BadInputError, match="not a halfcost model folder"):
        load_model(tmp_path)


def test_saved_pipeline_is_a_skops_archive(model, tmp_path):
    save_model(model, tmp_path / "m")
    assert zipfile.is_zipfile(tmp_path / "m" / "pipeline.skops")
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["format_version"] == 1 and meta["target"] == "churned"


def test_sklearn_tree_pipeline_round_trips(customers, tmp_path):
    plan = plan_columns(customers, "churned")
    pipeline = Pipeline(
        [
            ("encode", table_encoder(plan.features, plan.kinds, mode="onehot")),
            ("model", DecisionTreeClassifier(max_depth=4, random_state=0)),
        ]
    )
    pipeline.fit(customers[plan.features], (customers["churned"] == "yes").astype(int))
    meta = {
        "target": "churned",
        "task": "classification",
        "feature_columns": plan.features,
        "classes": ["no", "yes"],
        "metric": "accuracy",
    }
    save_model(HalfcostModel(pipeline, meta, {}), tmp_path / "t")
    loaded = load_model(tmp_path / "t")
    frame = pd.DataFrame(customers)
    assert list(loaded.predict(frame)) == list(HalfcostModel(pipeline, meta, {}).predict(frame))
