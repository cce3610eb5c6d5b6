"""The metric registry: names, ranges, multiclass averaging."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, roc_auc_score

from halfcost.automl import METRICS, score
from halfcost.automl._metrics import get_metric
from halfcost.errors import BadInputError


def test_unknown_metric_lists_the_choices():
    with pytest.raises(BadInputError) as info:
        get_metric("acc")
    assert str(info.value) == (
        "unknown metric 'acc'; choose one of accuracy, balanced_accuracy, f1, roc_auc, r2, "
        "neg_rmse."
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("accuracy", 1.3, "min_score must be in [0, 1] for accuracy, but got 1.3."),
        ("roc_auc", -0.1, "min_score must be in [0, 1] for roc_auc, but got -0.1."),
        ("r2", 1.5, "min_score must be in [-inf, 1] for r2, but got 1.5."),
        ("neg_rmse", 2.0, "min_score must be in [-inf, 0] for neg_rmse, but got 2."),
    ],
)
def test_impossible_targets_are_refused(name, value, message):
    with pytest.raises(BadInputError) as info:
        METRICS[name].validate_target(value)
    assert str(info.value) == message[:-1] + "; give a score on the metric's scale."
    assert info.value.param == "min_score"  # the CLI says --min-score


def test_metric_of_the_other_task_is_refused():
    with pytest.raises(BadInputError, match="is for regression"):
        get_metric("r2", "classification")


def test_multiclass_f1_and_auc_are_macro_averages():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    proba = rng.dirichlet([1, 1, 1], 300)
    pred = proba.argmax(axis=1)
    assert score("f1", y, pred, 3) == pytest.approx(f1_score(y, pred, average="macro"))
    expected = roc_auc_score(y, proba, multi_class="ovr", average="macro")
    assert score("roc_auc", y, proba, 3) == pytest.approx(expected)


def test_binary_scores_use_class_one_as_positive():
    y = np.array([0, 0, 1, 1, 1])
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.2, 0.8], [0.6, 0.4]])
    assert score("roc_auc", y, proba, 2) == pytest.approx(roc_auc_score(y, proba[:, 1]))
    assert score("f1", y, proba.argmax(axis=1), 2) == pytest.approx(
        f1_score(y, proba.argmax(axis=1))
    )


def test_regression_scores():
    y = np.array([1.0, 2.0, 3.0])
    assert score("neg_rmse", y, np.array([1.0, 2.0, 5.0])) == pytest.approx(-np.sqrt(4 / 3))
    assert score("r2", y, y) == pytest.approx(1.0)
