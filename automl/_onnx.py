"""ONNX Runtime as a place to serve a model: convert, check agreement, run.

A halfcost pipeline is ``RawColumns`` (reading raw columns as typed ones) followed by
scikit-learn's ColumnTransformer and the estimator. The part after ``RawColumns`` is
converted with skl2onnx (LightGBM through onnxmltools' converter, registered with
``skl2onnx.update_registered_converter``, and halfcost's own converters where
skl2onnx's fall short: MissingIndicator, one-hot encoding of wide columns, multiclass
target encoding). ``RawColumns`` itself stays in Python and feeds the session two typed
blocks (:meth:`RawColumns.blocks`): float32 numbers (dates as days since 1970) and text
categories, missing as :data:`halfcost.automl._encoder.MISSING`. A converted model is
used only once its predictions agree with the Python model's.
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
#: the ONNX model's two inputs (:meth:`RawColumns.blocks`): numbers and dates, categories
NUMBERS_INPUT, CATEGORIES_INPUT = "halfcost_numbers", "halfcost_categories"
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
    from sklearn.preprocessing import OneHotEncoder, TargetEncoder

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
    update_registered_converter(
        OneHotEncoder, "HalfcostOneHotEncoder", _one_hot_shape, _convert_one_hot
    )
    update_registered_converter(
        TargetEncoder, "HalfcostTargetEncoder", _target_shape, _convert_target_encoder
    )
    _register_hist_gradient_boosting()
    _REGISTERED = True


class _IntegerFlags:
    """A skl2onnx container whose nodes get their missing-value flags as 0/1 integers.

    skl2onnx 1.20's HistGradientBoosting converter writes a leaf's
    ``nodes_missing_value_tracks_true`` as ``False``, which the onnx package refuses in an
    integer list ("Expected an int, got a boolean"); the rest of the container is as is.
    """

    def __init__(self, container: Any) -> None:
        self._container = container

    def __getattr__(self, name: str) -> Any:
        return getattr(self._container, name)

    def add_node(self, *args: Any, **attrs: Any) -> Any:
        flags = attrs.get("nodes_missing_value_tracks_true")
        if flags is not None:
            attrs["nodes_missing_value_tracks_true"] = [int(f) for f in flags]
        return self._container.add_node(*args, **attrs)


def _register_hist_gradient_boosting() -> None:
    """skl2onnx's HistGradientBoosting converters, fed through :class:`_IntegerFlags`."""
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )
    from skl2onnx.operator_converters.random_forest import (
        convert_sklearn_random_forest_classifier,
        convert_sklearn_random_forest_regressor_converter,
    )
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    def classifier(scope: Any, operator: Any, container: Any) -> None:
        convert_sklearn_random_forest_classifier(scope, operator, _IntegerFlags(container))

    def regressor(scope: Any, operator: Any, container: Any) -> None:
        convert_sklearn_random_forest_regressor_converter(scope, operator, _IntegerFlags(container))

    update_registered_converter(
        HistGradientBoostingClassifier,
        "HalfcostHistGradientBoostingClassifier",
        calculate_linear_classifier_output_shapes,
        classifier,
        options={
            "zipmap": [True, False, "columns"],
            "raw_scores": [True, False],
            "output_class_labels": [False, True],
            "nocl": [True, False],
        },
    )
    update_registered_converter(
        HistGradientBoostingRegressor,
        "HalfcostHistGradientBoostingRegressor",
        calculate_linear_regressor_output_shapes,
        regressor,
        options={"raw_scores": [True, False]},
    )


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


def _input_columns(scope: Any, operator: Any, container: Any) -> list[str]:
    """The names of the operator's input columns, one (n, 1) tensor each, in order."""
    from onnx import TensorProto

    names = []
    for variable in operator.inputs:
        width = variable.get_second_dimension()
        if width == 1:
            names.append(variable.full_name)
            continue
        for i in range(int(width)):
            index = scope.get_unique_variable_name("column_index")
            container.add_initializer(index, TensorProto.INT64, [1], [i])
            column = scope.get_unique_variable_name("column")
            container.add_node(
                "Gather",
                [variable.full_name, index],
                [column],
                axis=1,
                name=scope.get_unique_operator_name("Gather"),
            )
            names.append(column)
    return names


def _code_column(
    scope: Any, container: Any, column: str, keys: list[str], codes: list[int], default: int
) -> str:
    """A text column's (n, 1) int64 codes: ``codes[i]`` for ``keys[i]``, else ``default``."""
    coded = scope.get_unique_variable_name("codes")
    container.add_node(
        "LabelEncoder",
        [column],
        [coded],
        op_domain="ai.onnx.ml",
        op_version=2,
        keys_strings=[k.encode("utf-8") for k in keys],
        values_int64s=[int(c) for c in codes],
        default_int64=int(default),
        name=scope.get_unique_operator_name("LabelEncoder"),
    )
    return coded


def _gather_rows(scope: Any, container: Any, table: np.ndarray, codes: str, stem: str) -> str:
    """Row ``codes[i]`` of the float32 ``table`` (a graph constant) for each row i."""
    from onnx import TensorProto

    name = scope.get_unique_variable_name(f"{stem}_table")
    values = table.astype(np.float32)
    container.add_initializer(name, TensorProto.FLOAT, list(values.shape), values.ravel().tolist())
    out = scope.get_unique_variable_name(stem)
    container.add_node(
        "Gather", [name, codes], [out], axis=0, name=scope.get_unique_operator_name("Gather")
    )
    return out


def _concat_2d(scope: Any, container: Any, parts: list[str], output: str) -> None:
    """(n, 1, k_i) parts side by side as the (n, sum k_i) ``output``: one Concat and one
    Reshape for all columns, not a Reshape per column."""
    from onnx import TensorProto

    joined = scope.get_unique_variable_name("joined")
    container.add_node(
        "Concat", parts, [joined], axis=2, name=scope.get_unique_operator_name("Concat")
    )
    shape = scope.get_unique_variable_name("shape")
    container.add_initializer(shape, TensorProto.INT64, [2], [0, -1])
    container.add_node(
        "Reshape", [joined, shape], [output], name=scope.get_unique_operator_name("Reshape")
    )


def _one_hot_layout(encoder: Any, i: int) -> tuple[list[str], list[int], int, int]:
    """Column ``i`` of a fitted OneHotEncoder: categories, their output slot, width and
    the slot of a category unseen in training (``width``: no slot, all zeros).

    scikit-learn's frequent categories keep their order; the infrequent ones share the
    last slot, which is also where ``handle_unknown="infrequent_if_exist"`` sends an
    unseen category.
    """
    categories = [str(c) for c in encoder.categories_[i]]
    infrequent = getattr(encoder, "infrequent_categories_", [None] * (i + 1))[i]
    rare = set() if infrequent is None else {str(c) for c in infrequent}
    frequent = [c for c in categories if c not in rare]
    width = len(frequent) + (1 if rare else 0)
    slot = {c: k for k, c in enumerate(frequent)}
    codes = [slot.get(c, len(frequent)) for c in categories]
    unseen = len(frequent) if rare and encoder.handle_unknown == "infrequent_if_exist" else width
    return categories, codes, width, unseen


def _one_hot_shape(operator: Any) -> None:
    from skl2onnx.common.data_types import FloatTensorType

    encoder = operator.raw_operator
    width = sum(_one_hot_layout(encoder, i)[2] for i in range(len(encoder.categories_)))
    rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([rows, width])


def _convert_one_hot(scope: Any, operator: Any, container: Any) -> None:
    """OneHotEncoder of text columns as ONNX: per column, a code lookup and a row copy.

    skl2onnx's own converter one-hot encodes every training category and then sums the
    infrequent ones' columns away: on a column of 5,000 levels that is 5,000 floats per
    row, most of a batch's time. Here each category is looked up as its output slot
    (infrequent ones share theirs, an unseen one goes where scikit-learn sends it), and
    that slot's one-hot row is copied from a table of the encoder's own width. Encoders
    this does not cover (numeric inputs, ``drop``, columns wider than 256) go to
    skl2onnx's converter.
    """
    from skl2onnx.common.data_types import StringTensorType
    from skl2onnx.operator_converters.one_hot_encoder import convert_sklearn_one_hot_encoder

    encoder = operator.raw_operator
    text = all(isinstance(v.type, StringTensorType) for v in operator.inputs)
    widths = [_one_hot_layout(encoder, i)[2] for i in range(len(encoder.categories_))]
    plain = text and np.dtype(encoder.dtype) == np.float32 and max(widths, default=0) <= 256
    if not plain or getattr(encoder, "drop_idx_", None) is not None:
        convert_sklearn_one_hot_encoder(scope, operator, container)
        return
    parts = []
    for i, column in enumerate(_input_columns(scope, operator, container)):
        categories, codes, width, unseen = _one_hot_layout(encoder, i)
        if width == 0:
            continue
        coded = _code_column(scope, container, column, categories, codes, unseen)
        # row k of the table is slot k's one-hot row; row `width` (no slot) is all zeros.
        # Gathering rows copies width floats per row, several times faster than OneHot
        rows = np.vstack([np.eye(width, dtype=np.float32), np.zeros((1, width), np.float32)])
        parts.append(_gather_rows(scope, container, rows, coded, "one_hot"))
    _concat_2d(scope, container, parts, operator.outputs[0].full_name)


def _target_classes(encoder: Any) -> int:
    return len(encoder.classes_) if encoder.target_type_ == "multiclass" else 1


def _target_shape(operator: Any) -> None:
    from skl2onnx.common.data_types import FloatTensorType

    encoder = operator.raw_operator
    rows = operator.inputs[0].get_first_dimension()
    width = len(encoder.categories_) * _target_classes(encoder)
    operator.outputs[0].type = FloatTensorType([rows, width])


def _convert_target_encoder(scope: Any, operator: Any, container: Any) -> None:
    """TargetEncoder of text columns as ONNX, multiclass targets included.

    skl2onnx's converter knows binary and continuous targets only. Per column, a
    category is looked up as its row of a table of encodings (one column per class for a
    multiclass target, as scikit-learn lays them out: column, then class); a category
    unseen in training takes the last row, the target's mean, as scikit-learn gives it.
    """

    encoder = operator.raw_operator
    n_classes = _target_classes(encoder)
    parts = []
    for i, column in enumerate(_input_columns(scope, operator, container)):
        categories = [str(c) for c in encoder.categories_[i]]
        encodings = encoder.encodings_[i * n_classes : (i + 1) * n_classes]
        table = np.vstack([np.column_stack(encodings), np.atleast_1d(encoder.target_mean_)])
        coded = _code_column(
            scope, container, column, categories, list(range(len(categories))), len(categories)
        )
        parts.append(_gather_rows(scope, container, table, coded, "encoded"))
    _concat_2d(scope, container, parts, operator.outputs[0].full_name)


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
    _pack_inputs(model.graph, raw)
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


def _pack_inputs(graph: Any, raw: RawColumns) -> None:
    """Give ``graph`` two inputs, the blocks of :meth:`RawColumns.blocks`, for its
    one input per column.

    Each input a session is fed costs it a conversion; two blocks cost less than one
    input per column. A ``Split`` gives each former column input its column back, and a
    ``Concat`` of columns of one block (how skl2onnx gathers a transformer's columns)
    becomes a ``Gather`` of the block, or the block itself.
    """
    from onnx import TensorProto, helper

    column_input = dict(zip(raw.columns_, [i.name for i in graph.input], strict=True))
    blocks = [
        (NUMBERS_INPUT, TensorProto.FLOAT, raw.number_columns),
        (CATEGORIES_INPUT, TensorProto.STRING, raw.category_columns),
    ]
    where = {
        column_input[c]: (block, i) for block, _, columns in blocks for i, c in enumerate(columns)
    }
    for k, node in enumerate(graph.node):
        axis = [a.i for a in node.attribute if a.name == "axis"]
        if node.op_type != "Concat" or axis not in ([1], [-1]):
            continue
        sources = [where.get(name) for name in node.input]
        if None in sources or len({block for block, _ in sources}) != 1:
            continue
        block = sources[0][0]
        width = len(next(c for b, _, c in blocks if b == block))
        index = [i for _, i in sources]
        if index == list(range(width)):
            graph.node[k].CopyFrom(helper.make_node("Identity", [block], list(node.output)))
            continue
        at = f"{node.output[0]}_columns"
        graph.initializer.append(helper.make_tensor(at, TensorProto.INT64, [len(index)], index))
        gather = helper.make_node("Gather", [block, at], list(node.output), axis=1)
        graph.node[k].CopyFrom(gather)
    used = {name for node in graph.node for name in node.input}
    head, inputs = [], []
    for block, element, columns in blocks:
        if not columns:
            continue
        inputs.append(helper.make_tensor_value_info(block, element, [None, len(columns)]))
        outputs = [column_input[c] for c in columns]
        if used & set(outputs):
            head.append(helper.make_node("Split", [block], outputs, axis=1))
    nodes = head + list(graph.node)
    del graph.input[:]
    graph.input.extend(inputs)
    del graph.node[:]
    graph.node.extend(nodes)


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

    Raises:
        OnnxConversionError: the model does not take halfcost's two input blocks (a file
            written by an earlier halfcost, with one input per column).
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
        expected = [
            block
            for block, columns in (
                (NUMBERS_INPUT, raw.number_columns),
                (CATEGORIES_INPUT, raw.category_columns),
            )
            if columns
        ]
        found = [i.name for i in self.session.get_inputs()]
        if sorted(found) != sorted(expected):
            raise OnnxConversionError(
                f"the ONNX model takes the inputs {found}, not {expected}; it was written by "
                "an earlier halfcost (one input per column): convert it again"
            )
        self._blocks = [name in expected for name in (NUMBERS_INPUT, CATEGORIES_INPUT)]
        self._outputs = [o.name for o in self.session.get_outputs()]

    def _run(self, frame: pd.DataFrame, output: int) -> np.ndarray:
        numbers, categories = self.raw.blocks(frame)
        feed = {}
        if self._blocks[0]:
            feed[NUMBERS_INPUT] = numbers
        if self._blocks[1]:
            feed[CATEGORIES_INPUT] = categories
        return self.session.run([self._outputs[output]], feed)[0]

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Class indices or values for each row of ``frame`` (raw columns)."""
        first = self._run(frame, 0)
        return first.ravel() if self.is_classifier else first.ravel().astype(float)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Class probabilities for each row of ``frame`` (raw columns)."""
        return np.asarray(self._run(frame, 1), dtype=float)


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
    conversion against Python predictions on data). The file takes two inputs:
    ``halfcost_numbers``, float32 (n, k), the numeric and date columns (days since 1970),
    and ``halfcost_categories``, strings (n, m), the categorical columns, a missing
    category as ``"\\x00missing"``; each holds its columns in ``halfcost_columns`` order
    (an input without columns is left out). Its metadata (``halfcost_columns``,
    ``halfcost_kinds``, ``halfcost_classes``, the ``halfcost_missing_category``) says so.
    The file is written to a temporary name and renamed, so a failed export leaves
    nothing half-written at ``out_path``.

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
