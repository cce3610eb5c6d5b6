"""ONNX Runtime: conversion, agreement with Python, the saved runtime file and export."""

from __future__ import annotations

import json
import warnings

import lightgbm
import numpy as np
import onnxruntime
import pandas as pd
import pytest

from halfcost.automl import CheapestModelSearch, export_onnx, load_model, save_model
from halfcost.automl._model_io import HalfcostModel
from halfcost.automl._onnx import (
    OnnxConversionError,
    converted,
    disagreement,
    sha256,
)
from halfcost.automl._prep import plan_columns
from halfcost.automl._search_space import make_pipeline
from halfcost.errors import BadInputError


def _fit(customers, encoding="categorical", estimator=None):
    plan = plan_columns(customers, "churned", drop=("customer_id",))
    estimator = estimator or lightgbm.LGBMClassifier(n_estimators=20, verbose=-1, n_jobs=1)
    pipeline = make_pipeline(
        plan.features, plan.kinds, encoding, estimator, "classification", plan.levels
    )
    codes = (customers["churned"] == "yes").astype(int).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.fit(customers[plan.features], codes)
    return plan, pipeline


@pytest.fixture(scope="module")
def onnx_model(customers):
    plan, pipeline = _fit(customers)
    runner = converted(pipeline, customers[plan.features], is_classifier=True)
    meta = {
        "target": "churned",
        "task": "classification",
        "metric": "accuracy",
        "feature_columns": plan.features,
        "column_kinds": plan.kinds,
        "classes": ["no", "yes"],
        "family": "lightgbm",
    }
    return HalfcostModel(pipeline, meta, {}, runner)


def test_lightgbm_with_raw_strings_dates_and_gaps_agrees_with_python(customers, onnx_model):
    rows = customers.drop(columns=["churned"])
    rows = pd.concat([rows, rows.head(3).assign(plan=["never-seen", None, 7])])  # unseen, mixed
    python = HalfcostModel(onnx_model.pipeline, onnx_model.metadata, {})
    assert onnx_model.runtime == "onnx" and python.runtime == "python"
    assert (onnx_model.predict(rows) == python.predict(rows)).all()
    gap = np.abs(onnx_model.predict_proba(rows) - python.predict_proba(rows)).max()
    assert gap <= 1e-5


def test_saved_onnx_model_is_served_from_its_file_with_a_checked_checksum(
    customers, onnx_model, tmp_path
):
    folder = save_model(onnx_model, tmp_path / "model")
    meta = json.loads((folder / "meta.json").read_text())
    data = (folder / "model.onnx").read_bytes()
    assert meta["runtime"] == "onnx" and meta["onnx"]["sha256"] == sha256(data)
    loaded = load_model(folder)
    assert loaded.runtime == "onnx"
    rows = customers.drop(columns=["churned"])
    assert (loaded.predict(rows) == onnx_model.predict(rows)).all()
    (folder / "model.onnx").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(BadInputError, match=r"sha256 .* differs .* refusing a changed ONNX"):
        load_model(folder)
    (folder / "model.onnx").unlink()
    with pytest.raises(BadInputError, match=r"model\.onnx or its checksum is missing"):
        load_model(folder)


@pytest.mark.parametrize("runtime", ["python", "onnx"])
def test_export_onnx_round_trips_through_onnxruntime(customers, onnx_model, tmp_path, runtime):
    model = (
        onnx_model
        if runtime == "onnx"
        else HalfcostModel(onnx_model.pipeline, onnx_model.metadata, {})
    )
    folder = save_model(model, tmp_path / "model")
    out = export_onnx(folder, tmp_path / "out" / "churn.onnx")
    assert out == tmp_path / "out" / "churn.onnx" and not list(out.parent.glob(".*tmp"))
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    props = session.get_modelmeta().custom_metadata_map
    columns = json.loads(props["halfcost_columns"])
    assert json.loads(props["halfcost_classes"]) == ["no", "yes"]
    rows = customers.drop(columns=["churned"]).head(50)
    raw = model.pipeline.named_steps["encode"].named_steps["raw"]
    arrays = raw.arrays(rows)
    feed = {i.name: arrays[c] for i, c in zip(session.get_inputs(), columns, strict=True)}
    labels, proba = session.run(None, feed)
    assert np.abs(proba - model.pipeline.predict_proba(rows)).max() <= 1e-5
    assert list(np.asarray(["no", "yes"])[labels]) == list(model.predict(rows))


def test_export_refuses_a_folder_that_is_not_a_model(tmp_path):
    with pytest.raises(BadInputError, match="not a halfcost model folder"):
        export_onnx(tmp_path, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_a_part_skl2onnx_cannot_convert_is_named(wine):
    frame = wine.assign(region=[f"r{i % 40}" for i in range(len(wine))])
    plan = plan_columns(frame, "cultivar")
    codes = frame["cultivar"].map({"a": 0, "b": 1, "c": 2}).to_numpy()
    pipeline = make_pipeline(
        plan.features,
        plan.kinds,
        "native",
        lightgbm.LGBMClassifier(n_estimators=5, verbose=-1),
        "classification",
        plan.levels,  # region: 40 levels, target-encoded per class
    ).fit(frame[plan.features], codes)
    with pytest.raises(OnnxConversionError, match="TargetEncoder"):
        converted(pipeline, frame[plan.features], is_classifier=True)


class _Fixed:
    """A stand-in model with fixed outputs, to test the agreement rules alone."""

    def __init__(self, proba=None, labels=None, values=None):
        self.proba, self.labels, self.values = proba, labels, values
        self.is_classifier = values is None

    def predict_proba(self, batch):
        return np.asarray(self.proba)

    def predict(self, batch):
        return np.asarray(self.labels if self.values is None else self.values)


def test_agreement_rules_follow_the_tolerances():
    batch = pd.DataFrame({"x": [0, 1]})
    python = _Fixed([[0.7, 0.3], [0.5, 0.5]], [0, 0])
    # a tie (top two within 1e-5) may break either way; a clear label may not
    assert disagreement(python, _Fixed([[0.7, 0.3], [0.5, 0.5]], [0, 1]), batch) is None
    assert "1 of 2 labels differ" in disagreement(
        python, _Fixed([[0.7, 0.3], [0.5, 0.5]], [1, 0]), batch
    )
    assert "probabilities differ" in disagreement(
        python, _Fixed([[0.7 - 2e-5, 0.3 + 2e-5], [0.5, 0.5]], [0, 0]), batch
    )
    values = _Fixed(values=[1000.0, 2000.0])
    assert disagreement(values, _Fixed(values=[1000.0005, 2000.0]), batch) is None
    assert "relative" in disagreement(values, _Fixed(values=[1000.01, 2000.0]), batch)


def test_search_in_onnx_runtime_chooses_on_its_figures_and_says_what_stayed_in_python(
    customers, tmp_path
):
    search = CheapestModelSearch(
        min_score=0.7,
        n_trials=6,
        budget_s=None,
        n_finalists=3,
        objective="online",
        runtime="onnx",
        drop=["customer_id"],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(customers.drop(columns=["churned"]), customers["churned"])
    report = search.report_
    assert report["objective"] == "online" and report["objective_key"] == "single_row_latency_ms"
    assert report["runtime"] == search.best_model_.runtime
    assert report["chosen"]["runtime"] == search.best_model_.runtime
    for entry in [*report["finalists"], report["baseline"]]:
        assert entry["single_row_p99_ms"] >= entry["single_row_latency_ms"] > 0
        if entry["runtime"] == "onnx":
            assert entry["python"]["single_row_latency_ms"] > 0  # both runtimes' figures
        else:
            assert entry["runtime_note"].startswith("measured in Python: not converted")
    assert report["baseline"]["runtime"] == "onnx"  # LightGBM defaults always convert
    front = [e["single_row_latency_ms"] for e in report["pareto"]]
    assert front == sorted(front)
    folder = save_model(search.best_model_, tmp_path / "model")
    rows = customers.drop(columns=["churned"])
    assert (load_model(folder).predict(rows) == search.best_model_.predict(rows)).all()


def test_linear_model_with_gaps_and_missing_indicators_converts(customers):
    from sklearn.linear_model import LogisticRegression

    plan, pipeline = _fit(customers, "onehot", LogisticRegression(max_iter=500))
    sources = pipeline.named_steps["encode"].named_steps["columns"].output_indices_
    assert sources["missing"].stop > sources["missing"].start  # spend had gaps: indicators
    rows = customers[plan.features]
    runner = converted(pipeline, rows, is_classifier=True)
    assert np.abs(runner.predict_proba(rows) - pipeline.predict_proba(rows)).max() <= 1e-5


@pytest.mark.parametrize("encoding", ["onehot", "categorical"])
def test_categories_unseen_in_training_agree_in_both_runtimes(customers, encoding):
    from sklearn.linear_model import LogisticRegression

    estimator = LogisticRegression(max_iter=500) if encoding == "onehot" else None
    plan, pipeline = _fit(customers.assign(tier=customers["plan"]), encoding, estimator)
    rows = customers.assign(tier=customers["plan"])[plan.features].head(4).copy()
    rows["plan"] = ["never-seen", "basic", None, "x"]
    rows["tier"] = ["y", "never", "plus", None]
    runner = converted(pipeline, rows, is_classifier=True)  # ONNX would fail on unseen
    assert np.abs(runner.predict_proba(rows) - pipeline.predict_proba(rows)).max() <= 1e-5
