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
from halfcost.automl._trial_figures import trial_figures
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
    columns, kinds = json.loads(props["halfcost_columns"]), json.loads(props["halfcost_kinds"])
    assert json.loads(props["halfcost_classes"]) == ["no", "yes"]
    rows = customers.drop(columns=["churned"]).head(50)
    # what the docs tell a user to feed: numbers and dates, then categories, as blocks
    numbers = [c for c, k in zip(columns, kinds, strict=True) if k != "categorical"]
    categories = [c for c, k in zip(columns, kinds, strict=True) if k == "categorical"]
    raw = model.pipeline.named_steps["encode"].named_steps["raw"]
    arrays = raw.arrays(rows)
    feed = {
        "halfcost_numbers": np.hstack([arrays[c] for c in numbers]),
        "halfcost_categories": np.hstack([arrays[c] for c in categories]),
    }
    assert sorted(i.name for i in session.get_inputs()) == sorted(feed)
    labels, proba = session.run(None, feed)
    assert np.abs(proba - model.pipeline.predict_proba(rows)).max() <= 1e-5
    assert list(np.asarray(["no", "yes"])[labels]) == list(model.predict(rows))


def test_export_refuses_a_folder_that_is_not_a_model(tmp_path):
    with pytest.raises(BadInputError, match="not a halfcost model folder"):
        export_onnx(tmp_path, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_a_part_skl2onnx_cannot_convert_is_named(wine):
    from sklearn.linear_model import LogisticRegression
    from sklearn.semi_supervised import SelfTrainingClassifier

    plan = plan_columns(wine, "cultivar")
    codes = wine["cultivar"].map({"a": 0, "b": 1, "c": 2}).to_numpy()
    estimator = SelfTrainingClassifier(LogisticRegression(max_iter=300))
    pipeline = make_pipeline(
        plan.features, plan.kinds, "onehot", estimator, "classification", plan.levels
    ).fit(wine[plan.features], codes)
    with pytest.raises(OnnxConversionError, match="SelfTrainingClassifier"):
        converted(pipeline, wine[plan.features], is_classifier=True)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_hist_gradient_boosting_with_missing_values_converts_and_agrees(wine, diabetes, task):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    if task == "classification":
        frame, target = wine.copy(), "cultivar"
        frame.loc[::5, "alcohol"] = np.nan  # missing values: learned left or right
        y = frame[target].map({"a": 0, "b": 1, "c": 2}).to_numpy()
        estimator = HistGradientBoostingClassifier(max_iter=20, random_state=0)
    else:
        frame, target = diabetes, "target"  # its "site" column has gaps
        y = frame[target].to_numpy()
        estimator = HistGradientBoostingRegressor(max_iter=20, random_state=0)
    plan = plan_columns(frame, target)
    pipeline = make_pipeline(plan.features, plan.kinds, "native", estimator, task, plan.levels)
    pipeline.fit(frame[plan.features], y)
    rows = frame[plan.features]
    runner = converted(pipeline, rows, is_classifier=task == "classification")
    assert disagreement(pipeline, runner, rows) is None
    assert runner.predict(rows).shape == (len(rows),)


def _with_unseen(rows, columns):
    """``rows`` with categories never seen in training and missing ones in ``columns``."""
    rows = rows.copy()
    for column in columns:
        rows[column] = rows[column].astype(object)
        rows.iloc[:5, rows.columns.get_loc(column)] = "never-seen"
        rows.iloc[5:8, rows.columns.get_loc(column)] = None
    return rows


@pytest.mark.parametrize("encoding", ["native", "categorical"])
def test_multiclass_target_encoding_converts_and_agrees(wine, encoding):
    rng = np.random.default_rng(0)
    codes = wine["cultivar"].map({"a": 0, "b": 1, "c": 2}).to_numpy()
    # 40 regions, each mostly one cultivar: target-encoded per class (3 columns each)
    region = np.where(rng.random(len(wine)) < 0.8, codes * 13 + rng.integers(0, 13, len(wine)), 39)
    frame = wine.assign(region=[f"r{i}" for i in region], shop=[f"s{i % 30}" for i in region])
    plan = plan_columns(frame, "cultivar")
    pipeline = make_pipeline(
        plan.features,
        plan.kinds,
        encoding,
        lightgbm.LGBMClassifier(n_estimators=10, verbose=-1, n_jobs=1),
        "classification",
        plan.levels,  # region and shop: > 16 levels, target-encoded
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.fit(frame[plan.features], codes)
    target = pipeline.named_steps["encode"].named_steps["columns"].named_transformers_["target"]
    assert target.target_type_ == "multiclass" and len(target.encodings_) == 2 * 3
    rows = _with_unseen(frame[plan.features], ["region", "shop"])
    runner = converted(pipeline, rows, is_classifier=True)  # checks agreement itself
    assert np.abs(runner.predict_proba(rows) - pipeline.predict_proba(rows)).max() <= 1e-5
    assert (runner.predict(rows) == pipeline.predict(rows)).mean() > 0.99


def test_regression_with_target_encoding_agrees_within_the_relative_tolerance(diabetes):
    rng = np.random.default_rng(1)
    frame = diabetes.assign(zone=[f"z{i}" for i in rng.integers(0, 60, len(diabetes))])
    plan = plan_columns(frame, "target")
    pipeline = make_pipeline(
        plan.features,
        plan.kinds,
        "categorical",
        lightgbm.LGBMRegressor(n_estimators=30, verbose=-1, n_jobs=1),
        "regression",
        plan.levels,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.fit(frame[plan.features], frame["target"])
    rows = _with_unseen(frame[plan.features], ["zone", "site"])
    runner = converted(pipeline, rows, is_classifier=False)
    assert disagreement(pipeline, runner, rows) is None
    assert runner.predict(rows).shape == (len(rows),)


def test_one_hot_of_a_wide_column_with_infrequent_and_unseen_categories_agrees():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(2)
    n = 3000
    shop = rng.zipf(1.3, n) % 500  # a long tail: many shops seen once (infrequent)
    y = ((shop % 7 == 0) ^ (rng.random(n) < 0.1)).astype(int)
    frame = pd.DataFrame({"shop": [f"s{i}" for i in shop]})  # a single categorical column
    plan = plan_columns(frame.assign(y=y), "y")
    pipeline = make_pipeline(
        plan.features, plan.kinds, "onehot", LogisticRegression(max_iter=300), "classification"
    ).fit(frame, y)
    encoder = (
        pipeline.named_steps["encode"].named_steps["columns"].named_transformers_["categories"]
    )
    assert encoder.infrequent_categories_[0] is not None  # the case that needs the converter
    rows = _with_unseen(frame, ["shop"])
    runner = converted(pipeline, rows, is_classifier=True)
    assert np.abs(runner.predict_proba(rows) - pipeline.predict_proba(rows)).max() <= 1e-5
    import onnx

    ops = {node.op_type for node in onnx.load_from_string(runner.onnx_bytes).graph.node}
    assert "OneHotEncoder" not in ops  # every training category is not one-hot encoded


def test_a_model_file_with_one_input_per_column_is_refused(customers, onnx_model, tmp_path):
    from onnx import TensorProto, helper

    folder = save_model(onnx_model, tmp_path / "model")
    graph = helper.make_graph(
        [helper.make_node("Identity", ["spend"], ["label"])],
        "old",
        [helper.make_tensor_value_info("spend", TensorProto.FLOAT, [None, 1])],
        [helper.make_tensor_value_info("label", TensorProto.FLOAT, [None, 1])],
    )
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    data = data.SerializeToString()
    (folder / "model.onnx").write_bytes(data)
    meta = json.loads((folder / "meta.json").read_text())
    meta["onnx"]["sha256"] = sha256(data)
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(BadInputError, match=r"earlier halfcost \(one input per column\)"):
        load_model(folder)


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
    # trials minimize the batch figure (the model's work per row, what differs in ONNX
    # Runtime), and every family with a trial meeting the target gets a finalist place
    figures = {t.number: trial_figures(t) for t in search.study_.trials}
    measured = [t for t in search.study_.trials if "latency_ms_per_1k" in figures[t.number]]
    assert measured
    assert all(t.value == figures[t.number]["latency_ms_per_1k"] for t in measured)
    feasible = {t.params["family"] for t in measured if figures[t.number]["cv_score"] >= 0.7}
    assert feasible <= {e["family"] for e in report["finalists"]}
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


def test_onnx_serving_keeps_the_bad_input_errors_and_any_column_order(customers, onnx_model):
    python = HalfcostModel(onnx_model.pipeline, onnx_model.metadata, {})
    rows = customers.drop(columns=["churned"]).head(30)
    shuffled = rows[list(reversed(rows.columns))].assign(extra="x")  # other order, more
    assert (onnx_model.predict(shuffled) == python.predict(rows)).all()
    for model in (onnx_model, python):
        with pytest.raises(BadInputError, match=r"missing feature column\(s\) 'spend'"):
            model.predict(rows.drop(columns=["spend"]))
        with pytest.raises(BadInputError, match=r"'spend' \(1 of 30 values are not numbers"):
            model.predict(rows.assign(spend=["abc"] + [1.0] * 29))
    one = rows.head(1).astype(object)  # a request's frame: every cell a Python object
    assert onnx_model.predict(one)[0] == python.predict(rows.head(1))[0]
