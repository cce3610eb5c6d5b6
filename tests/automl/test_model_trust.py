"""Crafted model files: a function-holding transformer, an unknown class, a truncated zip.

Each must be refused with the offending type named (exit 2 from the CLI), before skops
constructs anything from it; the files halfcost itself writes still load.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import skops.io
from numpy.testing._private.utils import runstring
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from halfcost.automl import load_model
from halfcost.automl._model_trust import TRUSTED_CLASSES, trusted_type_names
from halfcost.errors import BadInputError


@pytest.fixture(scope="module")
def good_model(saved_model) -> Path:
    return saved_model


def _tampered(good_model: Path, tmp_path: Path, obj) -> Path:
    """A copy of the good model folder whose pipeline file holds ``obj``."""
    folder = tmp_path / "model"
    shutil.copytree(good_model, folder)
    skops.io.dump(obj, folder / "pipeline.skops")
    return folder


class _Gadget:
    """A class no halfcost model contains."""

    def __init__(self):
        self.payload = "anything"


def test_the_files_halfcost_writes_load(good_model, customers):
    assert len(load_model(good_model).predict(customers)) == len(customers)


def test_a_transformer_wrapping_an_exec_is_refused_naming_it(good_model, customers, tmp_path):
    fitted = load_model(good_model).pipeline
    evil = Pipeline([("run", FunctionTransformer(runstring)), *fitted.steps])
    folder = _tampered(good_model, tmp_path, evil)
    with pytest.raises(BadInputError, match="untrusted type") as error:
        load_model(folder)
    assert "numpy.testing._private.utils.runstring" in str(error.value)
    # skops trusts FunctionTransformer by default; halfcost never writes one
    assert "sklearn.preprocessing._function_transformer.FunctionTransformer" in str(error.value)


def test_a_function_under_a_trusted_looking_prefix_is_refused(good_model, tmp_path):
    # numpy.* and sklearn.* were once trusted by prefix: a function there is not a type
    from sklearn.utils import check_array

    folder = _tampered(good_model, tmp_path, {"steps": [check_array]})
    with pytest.raises(BadInputError, match=r"sklearn\.utils\._?\w*\.?check_array"):
        load_model(folder)


def test_an_unknown_class_is_refused_naming_it(good_model, tmp_path):
    folder = _tampered(good_model, tmp_path, {"model": _Gadget()})
    with pytest.raises(BadInputError, match=r"untrusted type\(s\) .*_Gadget"):
        load_model(folder)


def test_a_truncated_zip_is_refused_as_unreadable(good_model, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(good_model, folder)
    data = (folder / "pipeline.skops").read_bytes()
    (folder / "pipeline.skops").write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInputError, match=r"unreadable .*re-create the model"):
        load_model(folder)


def test_the_cli_exits_2_naming_the_type_and_writes_nothing(good_model, customers, tmp_path, cli):
    fitted = load_model(good_model).pipeline
    folder = _tampered(
        good_model, tmp_path, Pipeline([("run", FunctionTransformer(runstring)), *fitted.steps])
    )
    customers.to_csv(tmp_path / "rows.csv", index=False)
    out = tmp_path / "pred.csv"
    done = cli(["predict", "--model", str(folder), str(tmp_path / "rows.csv"), "--out", str(out)])
    assert done.returncode == 2, done.stderr
    assert "runstring" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_the_allow_list_is_exact_names_computed_from_classes():
    names = trusted_type_names()
    assert len(names) >= len(TRUSTED_CLASSES)
    assert "sklearn.compose._column_transformer.ColumnTransformer" in names
    assert "sklearn.preprocessing._encoders.OneHotEncoder" in names
    assert not any(name.endswith(".") for name in names)  # no prefix entries
    assert "numpy.testing._private.utils.runstring" not in names


def _estimators(classification: bool) -> list[tuple[object, str]]:
    """One estimator per model family, with the encoder mode its family uses."""
    import lightgbm
    from sklearn import ensemble, linear_model, neural_network, tree

    kind = "Classifier" if classification else "Regressor"
    linear = (
        linear_model.LogisticRegression(max_iter=50) if classification else linear_model.Ridge()
    )
    return [
        (linear, "onehot"),
        (getattr(neural_network, f"MLP{kind}")(hidden_layer_sizes=(4,), max_iter=5), "onehot"),
        (getattr(tree, f"DecisionTree{kind}")(max_depth=3), "native"),
        (getattr(ensemble, f"ExtraTrees{kind}")(n_estimators=3, max_depth=3), "native"),
        (getattr(ensemble, f"RandomForest{kind}")(n_estimators=3, max_depth=3), "native"),
        (getattr(ensemble, f"HistGradientBoosting{kind}")(max_iter=3), "native"),
        (getattr(lightgbm, f"LGBM{kind}")(n_estimators=3, verbose=-1), "categorical"),
    ]


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_every_family_halfcost_writes_passes_the_allow_list(task, customers, wine, tmp_path):
    import warnings

    from halfcost.automl import HalfcostModel, save_model
    from halfcost.automl._prep import plan_columns
    from halfcost.automl._search_space import make_pipeline

    frame, target = (wine, "cultivar") if task == "multiclass" else (customers, "churned")
    if task == "regression":
        frame, target = customers.drop(columns=["churned"]), "spend"
        frame = frame[frame["spend"].notna()]
    plan = plan_columns(frame, target)
    y = frame[target] if task == "regression" else frame[target].astype("category").cat.codes
    for i, (estimator, mode) in enumerate(_estimators(task != "regression")):
        task_name = "regression" if task == "regression" else "classification"
        pipeline = make_pipeline(
            plan.features, dict(plan.kinds), mode, estimator, task_name, dict(plan.levels)
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a 5-iteration MLP does not converge
            pipeline.fit(frame[plan.features], y)
        meta = {"task": "x", "feature_columns": plan.features, "target": target}
        folder = save_model(HalfcostModel(pipeline, meta, {}), tmp_path / f"m{i}")
        assert type(load_model(folder).pipeline.steps[-1][1]) is type(estimator)
