"""The score metrics a search can target, in one named registry.

Every metric is "greater is better" (errors are negated, as in scikit-learn's
``neg_rmse``), so a target ``min_score`` always means "at least this much".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from halfcost.errors import BadInputError

CLASSIFICATION = "classification"
REGRESSION = "regression"
TASKS = (CLASSIFICATION, REGRESSION)


@dataclass(frozen=True)
class Metric:
    """One score metric.

    Attributes:
        name: the name users give (the search's ``metric`` parameter).
        task: the task it applies to.
        needs_proba: scored from class probabilities rather than predicted labels.
        lower: the lowest valid score (None: unbounded).
        upper: the highest valid score.
        in_target_units: scores are in the target's units (an error such as RMSE), so
            tolerances are taken relative to the target rather than absolute.
    """

    name: str
    task: str
    needs_proba: bool
    lower: float | None
    upper: float
    in_target_units: bool = False

    def validate_target(self, min_score: float) -> float:
        """Return ``min_score`` as a float, or raise BadInputError if no model could reach it."""
        try:
            value = float(min_score)
        except (TypeError, ValueError):
            raise BadInputError(
                f"{{param}} must be a number, but got {min_score!r}.", param="min_score"
            ) from None
        if not np.isfinite(value):
            raise BadInputError(
                f"{{param}} must be a finite number, but got {min_score!r}.", param="min_score"
            )
        if (self.lower is not None and value < self.lower) or value > self.upper:
            low = "-inf" if self.lower is None else f"{self.lower:g}"
            raise BadInputError(
                f"{{param}} must be in [{low}, {self.upper:g}] for {self.name}, but got "
                f"{value:g}; give a score on the metric's scale.",
                param="min_score",
            )
        return value

    def __call__(self, y_true: np.ndarray, prediction: np.ndarray, n_classes: int = 0) -> float:
        """Score ``prediction`` against ``y_true``.

        Args:
            y_true: true labels (class indices 0..K-1 for classification) or values.
            prediction: predicted class indices, or an (n, K) probability matrix when
                ``needs_proba``; predicted values for regression.
            n_classes: K for classification (labels are 0..K-1; class 1 is the positive
                class of a binary task).
        """
        return float(_SCORERS[self.name](np.asarray(y_true), np.asarray(prediction), n_classes))


def _accuracy(y, pred, k):
    return float(np.mean(y == pred))


def _balanced_accuracy(y, pred, k):
    from sklearn.metrics import balanced_accuracy_score

    return balanced_accuracy_score(y, pred)


def _f1(y, pred, k):
    from sklearn.metrics import f1_score

    if k <= 2:
        return f1_score(y, pred, pos_label=1, average="binary", zero_division=0)
    return f1_score(y, pred, labels=np.arange(k), average="macro", zero_division=0)


def _roc_auc(y, proba, k):
    from sklearn.metrics import roc_auc_score

    if len(np.unique(y)) < 2:
        return float("nan")
    if k <= 2:
        return roc_auc_score(y, proba[:, 1] if proba.ndim == 2 else proba)
    present = np.unique(y)
    if len(present) < k:  # a fold lacking a class: score the classes it has
        sub = proba[:, present]
        sub = sub / np.clip(sub.sum(axis=1, keepdims=True), 1e-12, None)
        remap = np.searchsorted(present, y)
        if len(present) == 2:
            return roc_auc_score(remap, sub[:, 1])
        return roc_auc_score(remap, sub, multi_class="ovr", average="macro")
    return roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=np.arange(k))


def _r2(y, pred, k):
    from sklearn.metrics import r2_score

    return r2_score(y, pred)


def _neg_rmse(y, pred, k):
    return -float(np.sqrt(np.mean((y.astype(float) - pred.astype(float)) ** 2)))


_SCORERS = {
    "accuracy": _accuracy,
    "balanced_accuracy": _balanced_accuracy,
    "f1": _f1,
    "roc_auc": _roc_auc,
    "r2": _r2,
    "neg_rmse": _neg_rmse,
}

METRICS: Mapping[str, Metric] = {
    "accuracy": Metric("accuracy", CLASSIFICATION, False, 0.0, 1.0),
    "balanced_accuracy": Metric("balanced_accuracy", CLASSIFICATION, False, 0.0, 1.0),
    "f1": Metric("f1", CLASSIFICATION, False, 0.0, 1.0),
    "roc_auc": Metric("roc_auc", CLASSIFICATION, True, 0.0, 1.0),
    "r2": Metric("r2", REGRESSION, False, None, 1.0),
    "neg_rmse": Metric("neg_rmse", REGRESSION, False, None, 0.0, in_target_units=True),
}

DEFAULT_METRIC = {CLASSIFICATION: "accuracy", REGRESSION: "r2"}


def get_metric(name: str, task: str | None = None) -> Metric:
    """Return the metric called ``name``, checking it fits ``task``.

    Raises:
        BadInputError: unknown name, or a metric of the other task.
    """
    metric = METRICS.get(str(name))
    if metric is None:
        raise BadInputError(
            f"unknown {{param}} {name!r}; choose one of {', '.join(METRICS)}.", param="metric"
        )
    if task is not None and metric.task != task:
        choices = ", ".join(m.name for m in METRICS.values() if m.task == task)
        raise BadInputError(
            f"{{param}} {name!r} is for {metric.task}, but the task is {task}; "
            f"choose one of {choices} (or set the task).",
            param="metric",
        )
    return metric


def score(metric: str, y_true: np.ndarray, prediction: np.ndarray, n_classes: int = 0) -> float:
    """Score predictions with the metric called ``metric`` (see :class:`Metric`)."""
    return get_metric(metric)(y_true, prediction, n_classes)
