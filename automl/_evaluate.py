"""Scoring a saved model on a labelled table (used by `halfcost evaluate` and retraining)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from halfcost.automl._metrics import get_metric
from halfcost.automl._model_io import HalfcostModel
from halfcost.errors import BadInputError


def evaluate_model(
    model: HalfcostModel,
    frame: pd.DataFrame,
    *,
    target: str | None = None,
    metric: str | None = None,
    on_bad_values: str = "error",
) -> dict[str, Any]:
    """Score ``model`` on the labelled rows of ``frame``.

    Args:
        model: a model from :func:`load_model` (or a search's ``best_model_``).
        frame: raw feature columns plus the target column.
        target: the target column (default: the one the model was trained on).
        metric: the metric (default: the one the model was searched for).
        on_bad_values: what to do with values a feature's trained type cannot read
            (see :meth:`HalfcostModel.check_values`): ``error``, ``null`` or ``impute``.

    Returns:
        ``{"metric", "score", "rows"}`` (rows: labelled rows scored), plus
        ``bad_values`` (column -> cells replaced) when some were replaced.

    Raises:
        BadInputError: no such target column, no labelled row, a metric of the other task,
            a label the model has never seen, or (with ``on_bad_values="error"``) values
            of the wrong type in a feature column.
    """
    meta = model.metadata
    target = target or meta["target"]
    metric_obj = get_metric(metric or meta["metric"], meta["task"])
    if target not in frame.columns:
        raise BadInputError(
            f"target column {target!r} is not in the data; give {{param}} with one of: "
            f"{', '.join(map(str, frame.columns))}.",
            param="target",
        )
    labelled = frame[frame[target].notna()]
    if labelled.empty:
        raise BadInputError(f"target column {target!r} has no values; give labelled rows.")
    labelled, bad_values = model.check_values(labelled, on_bad_values=on_bad_values)
    truth = labelled[target]
    if model.is_classifier:
        index = {str(c): i for i, c in enumerate(model.classes_)}
        codes = truth.map(lambda v: index.get(str(v), -1)).to_numpy(dtype=np.int64)
        if (codes < 0).any():
            unknown = sorted({str(v) for v in truth[codes < 0]})[:5]
            raise BadInputError(
                f"target column {target!r} has label(s) the model never saw: "
                f"{', '.join(unknown)}; the model's classes are {model.classes_}."
            )
        if metric_obj.needs_proba:
            prediction = model.predict_proba(labelled)
        else:
            predicted = model.predict(labelled)
            prediction = np.array([index[str(v)] for v in predicted], dtype=np.int64)
        value = metric_obj(codes, prediction, len(model.classes_))
    else:
        numbers = pd.to_numeric(truth, errors="coerce")
        if numbers.isna().any():
            raise BadInputError(f"target column {target!r} has values that are not numbers.")
        value = metric_obj(numbers.to_numpy(dtype=float), model.predict(labelled))
    result = {"metric": metric_obj.name, "score": float(value), "rows": len(labelled)}
    if bad_values:
        result["bad_values"] = bad_values
    return result
