"""ONNX Runtime as a place to serve a model: convert, check agreement, run.

A halfcost pipeline is ``RawColumns`` (reading raw columns as typed ones) followed by
scikit-learn's ColumnTransformer and the estimator. The part after ``RawColumns`` is
converted with skl2onnx (LightGBM through onnxmltools' converter, registered with
``skl2onnx.update_registered_converter``); ``RawColumns`` itself stays in Python and
feeds the session one typed (n, 1) input per raw column: float32 numbers (dates as days
since 1970), text categories with missing as :data:`halfcost.automl._encoder.MISSING`.
A converted model is used only once its predictions agree with the Python model's.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from halfcost.automl._encoder import CATEGORICAL, MISSING, RawColumns, raw_step

ONNX_FILE = "model.onnx"
PROBA_ATOL = 1e-5  # probabilities agree within this
LABEL_TIE = 1e-5  # labels may differ only where the top two probabilities are this close
VALUE_RTOL = 1e-6  # regression values agree within this relative difference
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
_REGISTERED = False


class OnnxConversionError(Exception):
    """A pipeline could not be converted to ONNX, or its ONNX twin disagrees with it."""


def _register_lightgbm() -> None:
    """Teach skl2onnx LightGBM's converter (onnxmltools'), once per process."""
    global _REGISTERED
    if _REGISTERED:
        return
    import lightgbm
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )
    from sklearn.impute import MissingIndicator

    update_registered_converter(
        lightgbm.LGBMClassifier,
        "LightGbmLGBMClassifier",
        calculate_linear_classifier_output_shapes,
        convert_lightgbm,
        options={"nocl": [True, False], "zipmap": [True, False, "columns"]},
    )
    update_registered_converter(
        lightgbm.LGBMRegressor,
        "LightGbmLGBMRegressor",
        calculate_linear_regressor_output_shapes,
        convert_lightgbm,
        options={"split": None},
    )
    update_registered_converter(
        MissingIndicator, "HalfcostMissingIndicator", _indicator_shape, _convert_indicator
    )
    _REGISTERED = True


def _indicator_shape(operator: Any) -> None:
    from skl2onnx.common.data_types import FloatTensorType

    rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([rows, len(operator.raw_operator.features_)])


def _convert_indicator(scope: Any, operator: Any, container: Any) -> None:
    """MissingIndicator as ONNX (skl2onnx has no converter): IsNaN, as float, its columns."""
    from onnx import TensorProto

    features = [int(i) for i in operator.raw_operator.features_]
    isnan = scope.get_unique_variable_name("isnan")
    container.add_node(
        "IsNaN",
        [operator.inputs[0].full_name],
        [isnan],
        name=scope.get_unique_operator_name("IsNaN"),
    )
    flags = scope.get_unique_variable_name("flags")
    container.add_node(
        "Cast", [isnan], [flags], to=TensorProto.FLOAT, name=scope.get_unique_operator_name("Cast")
    )
    index = scope.get_unique_variable_name("features")
    container.add_initializer(index, TensorProto.INT64, [len(features)], features)
    container.add_node(
        "Gather",
        [flags, index],
        [operator.outputs[0].full_name],
        axis=1,
        name=scope.get_unique_operator_name("Gather"),
    )


def _raw(pipeline: Any) -> RawColumns:
    raw = raw_step(pipeline)
    if raw is None:
        raise OnnxConversionError("the pipeline has no halfcost encoder (RawColumns) in front")
    return raw


def to_onnx(pipeline: Any, *, metadata: dict[str, Any] | None = None) -> bytes:
    """The serialized ONNX model of a fitted halfcost pipeline (all but ``RawColumns``).

    Args:
        pipeline: ``Pipeline([("encode", table_encoder(...)), ("model", estimator)])``.
        metadata: extra key/values stored in the ONNX file's metadata (JSON-encoded).

    Raises:
        OnnxConversionError: a part skl2onnx cannot convert (the reason in the message).
    """
    from sklearn.base import is_classifier
    from sklearn.pipeline import Pipeline

    raw = _raw(pipeline)
    try:
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import FloatTensorType, StringTensorType

        _register_lightgbm()
        body = Pipeline(
            [
                ("columns", pipeline.named_steps["encode"].named_steps["columns"]),
                *pipeline.steps[1:],
            ]
        )
        inputs = [
            (
                name,
                StringTensorType([None, 1]) if kind == CATEGORICAL else FloatTensorType([None, 1]),
            )
            for name, kind in zip(raw.columns_, raw.kinds_, strict=True)
        ]
        options = {id(body.steps[-1][1]): {"zipmap": False}} if is_classifier(body) else None
        model = convert_sklearn(
            body, initial_types=inputs, options=options, target_opset=TARGET_OPSET
        )
    except Exception as exc:  # converters raise many types (RuntimeError, NotImplemented...)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise OnnxConversionError(f"{type(exc).__name__}: {reason[:300]}") from exc
    for node in model.graph.node:
        if node.op_type == "OneHotEncoder":  # unknown -> all zeros, as scikit-learn does
            for attribute in node.attribute:
                if attribute.name == "zeros":
                    attribute.i = 1
    props = {
        "halfcost_columns": list(raw.columns_),
        "halfcost_kinds": list(raw.kinds_),
        "halfcost_missing_category": MISSING,
        **(metadata or {}),
    }
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value)
    return model.SerializeToString()


def sha256(data: bytes) -> str:
    """The hex sha256 of ``data`` (an ONNX file's checksum, kept in the model's metadata)."""
    return hashlib.sha256(data).hexdigest()


class OnnxPipeline:
    """A pipeline served by ONNX Runtime, single-threaded, with the Python pipeline's API.

    ``predict`` gives class indices (classification) or values, ``predict_proba`` class
    probabilities, as the scikit-learn pipeline it was converted from.

    Args:
        raw: the fitted :class:`RawColumns` (typed inputs are read in Python).
        onnx_bytes: the serialized ONNX model.
        is_classifier: whether the model is a classifier.
    """

    def __init__(self, raw: RawColumns, onnx_bytes: bytes, *, is_classifier: bool) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.raw = raw
        self.is_classifier = is_classifier
        self.session = onnxruntime.InferenceSession(
            onnx_bytes, options, providers=["CPUExecutionProvider"]
        )
        self.onnx_bytes = onnx_bytes
        self.size_bytes = len(onnx_bytes)
        # skl2onnx renames inputs it can't use as names ("mean radius"); same order
        self._names = [i.name for i in self.session.get_inputs()]

    def _run(self, frame: pd.DataFrame) -> list[np.ndarray]:
        arrays = self.raw.arrays(frame)
        feed = dict(zip(self._names, arrays.values(), strict=True))
        return self.session.run(None, feed)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Class indices or values for each row of ``frame`` (raw columns)."""
        first = self._run(frame)[0]
        return first.ravel() if self.is_classifier else first.ravel().astype(float)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Class probabilities for each row of ``frame`` (raw columns)."""
        return np.asarray(self._run(frame)[1], dtype=float)


def disagreement(python: Any, onnx: OnnxPipeline, batch: pd.DataFrame) -> str | None:
    """Why ``onnx`` may not stand in for ``python`` on ``batch``, or None when they agree.

    Classification: probabilities within 1e-5, and identical labels except where the
    Python model's top two probabilities are within 1e-5 (a tie either side may break).
    Regression: values within 1e-6 relative (to the value, or to the batch's typical
    magnitude for values near zero).
    """
    if onnx.is_classifier:
        expected = np.asarray(python.predict_proba(batch), dtype=float)
        got = onnx.predict_proba(batch)
        if got.shape != expected.shape:
            return f"probabilities have shape {got.shape}, expected {expected.shape}"
        gap = float(np.max(np.abs(got - expected))) if expected.size else 0.0
        if gap > PROBA_ATOL:
            return f"probabilities differ by up to {gap:.2g} (> {PROBA_ATOL:g})"
        labels = np.asarray(python.predict(batch))
        differ = labels != onnx.predict(batch)
        top_two = np.sort(expected, axis=1)[:, -2:] if expected.shape[1] > 1 else expected
        tied = (top_two[:, -1] - top_two[:, 0]) <= LABEL_TIE
        wrong = int((differ & ~tied).sum())
        return f"{wrong} of {len(batch)} labels differ" if wrong else None
    expected = np.asarray(python.predict(batch), dtype=float)
    got = onnx.predict(batch)
    typical = float(np.median(np.abs(expected))) if expected.size else 0.0
    allowed = VALUE_RTOL * np.maximum(np.abs(expected), typical)
    worst = np.abs(got - expected) - allowed
    if expected.size and float(worst.max()) > 0:
        rel = float(
            np.max(np.abs(got - expected) / np.maximum(np.abs(expected), max(typical, 1e-300)))
        )
        return f"values differ by up to {rel:.2g} relative (> {VALUE_RTOL:g})"
    return None


def converted(pipeline: Any, batch: pd.DataFrame, *, is_classifier: bool) -> OnnxPipeline:
    """``pipeline`` converted to ONNX and checked against itself on ``batch``.

    Raises:
        OnnxConversionError: it cannot be converted, or the runtimes disagree.
    """
    data = to_onnx(pipeline)
    try:
        runner = OnnxPipeline(_raw(pipeline), data, is_classifier=is_classifier)
        problem = disagreement(pipeline, runner, batch)
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/... types
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise OnnxConversionError(
            f"ONNX Runtime cannot run the converted model ({type(exc).__name__}: {reason[:300]})"
        ) from exc
    if problem is not None:
        raise OnnxConversionError(f"ONNX Runtime disagrees with Python: {problem}")
    return runner


def export_onnx(model_dir: str | os.PathLike[str], out_path: str | os.PathLike[str]) -> Path:
    """Write the model in ``model_dir`` (a ``DIR/model`` folder) as one ONNX file.

    A model served in ONNX Runtime is exported as saved (its checksum checked at load);
    a Python one is converted now (a search with ``runtime="onnx"`` is what checks a
    conversion against Python predictions on data). The file takes one (n, 1) input per raw
    feature column, in ``feature_columns`` order: float32 for numbers and dates (days
    since 1970), strings for categories, a missing category as ``"\\x00missing"``; its
    metadata (``halfcost_columns``, ``halfcost_kinds``, ``halfcost_classes``, the
    ``halfcost_missing_category``) says so. The file is written to a temporary name and
    renamed, so a failed export leaves nothing half-written at ``out_path``.

    Args:
        model_dir: the model folder ``halfcost search`` wrote.
        out_path: the ONNX file to write (its folder is created).

    Returns:
        The path written.

    Raises:
        BadInputError: not a model folder, a refused file, or a model that cannot be
            converted (the reason named).
    """
    from halfcost.automl._model_io import load_model
    from halfcost.errors import BadInputError

    model = load_model(model_dir)
    meta = {"halfcost_classes": model.classes_, "halfcost_target": model.metadata.get("target")}
    if model.runtime == "onnx":
        data = _with_metadata(model.runner.onnx_bytes, meta)
    else:
        try:
            data = to_onnx(model.pipeline, metadata=meta)
        except OnnxConversionError as exc:
            raise BadInputError(
                f"{model_dir}: the model cannot be exported to ONNX ({exc}); search again "
                "with --runtime onnx to get a model that converts."
            ) from exc
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    return out


def _with_metadata(data: bytes, metadata: dict[str, Any]) -> bytes:
    """``data`` (a serialized ONNX model) with ``metadata`` added to its properties."""
    import onnx

    model = onnx.load_from_string(data)
    known = {p.key for p in model.metadata_props}
    for key, value in metadata.items():
        if key not in known:
            entry = model.metadata_props.add()
            entry.key, entry.value = key, json.dumps(value)
    return model.SerializeToString()
