"""The encoder in front of every model, built from scikit-learn's own parts.

``Pipeline([("raw", RawColumns), ("columns", ColumnTransformer)])``: scikit-learn's
``ColumnTransformer`` with ``OrdinalEncoder`` / ``OneHotEncoder(handle_unknown=
"infrequent_if_exist")``, ``StandardScaler`` + ``SimpleImputer(add_indicator=True)`` and
``TargetEncoder`` does the encoding, and LightGBM gets its categories as its own native
categoricals. Being scikit-learn's parts, skl2onnx converts all of it to ONNX.

The one halfcost step, :class:`RawColumns`, does only what those parts cannot: read
the raw columns users hand in (numbers stored as text with the odd garbage cell, dates
as ISO text or datetimes, mixed-type categories, every spelling of "missing") as typed
columns: float32 numbers (dates as days since 1970, NaN where missing or unreadable) and
categories as text, missing as :data:`MISSING`. ONNX Runtime takes the same typed columns
(:meth:`RawColumns.blocks`), so Python and ONNX see identical inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from halfcost.automl._metrics import REGRESSION

CATEGORICAL = "categorical"
#: what a missing category becomes: a category of its own, as text ONNX can take
MISSING = "\x00missing"
MAX_CATEGORIES = 64  # categories kept per column; the rest share one "infrequent" code
MIN_FREQUENCY = 2  # a category seen once in training is infrequent
TARGET_ENCODE_ABOVE = 16  # distinct levels above which a column is also target-encoded
#: encodings a family can ask for (ModelFamily.encoding)
NATIVE, ONEHOT, LIGHTGBM_CATEGORICAL = "native", "onehot", "categorical"

#: Every class the encoder pipeline holds, in one place: the model file's trust list
#: (halfcost.automl._model_io) must include these.
ENCODER_TYPES = (
    "sklearn.pipeline.Pipeline",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.preprocessing._encoders.OrdinalEncoder",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._target_encoder.TargetEncoder",
    "sklearn.model_selection._split.KFold",  # TargetEncoder's folds (scikit-learn 1.9+)
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.compose._column_transformer._RemainderColsList",  # scikit-learn 1.5-1.6
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.impute._base.MissingIndicator",
    "halfcost.automl._encoder.RawColumns",
)


class RawColumns(TransformerMixin, BaseEstimator):
    """Raw table columns as typed columns, the part scikit-learn's encoders cannot do.

    ``OrdinalEncoder`` and ``SimpleImputer`` take numbers or categories, not a column of
    text where ``"12.5"`` is a number and ``"n/a"`` missing, nor ISO date strings, nor a
    column mixing ``1`` and ``"1"`` and ``None``: this step reads them the way the
    column plan typed them. Numbers and dates become float32 (what ONNX tree ensembles
    compute in, so Python and ONNX Runtime agree), categories text.

    Args:
        columns: the raw feature columns to use, in order.
        kinds: raw column -> numeric, date or categorical.
    """

    def __init__(
        self,
        columns: list[str] | None = None,
        kinds: dict[str, str] | None = None,
    ):
        self.columns = columns
        self.kinds = kinds

    def fit(self, X: pd.DataFrame, y: Any = None) -> RawColumns:
        """Record the columns and their kinds (typed from ``X`` when not given)."""
        from halfcost.automl._prep import column_kind

        self.columns_ = [str(c) for c in (self.columns if self.columns is not None else X.columns)]
        kinds = self.kinds or {}
        self.kinds_ = [kinds.get(c) or column_kind(X[c]) for c in self.columns_]
        self.n_features_in_ = len(self.columns_)
        return self

    @property
    def number_columns(self) -> list[str]:
        """The numeric and date columns in ``columns_`` order: the number block's columns."""
        return [c for c, k in zip(self.columns_, self.kinds_, strict=True) if k != CATEGORICAL]

    @property
    def category_columns(self) -> list[str]:
        """The categorical columns in ``columns_`` order: the category block's columns."""
        return [c for c, k in zip(self.columns_, self.kinds_, strict=True) if k == CATEGORICAL]

    def blocks(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """The typed columns as two blocks, the two inputs of the ONNX model.

        Returns:
            float32 numbers and dates, shape (n, len(number_columns)), and text
            categories (object), shape (n, len(category_columns)), each in ``columns_``
            order.

        Raises:
            KeyError: ``X`` lacks one of the columns.
        """
        from halfcost.automl._prep import NUMERIC, as_numbers, frame_blocks

        at = _positions(X, self.columns_)
        slots: dict[int, tuple[str, int]] = {}  # position in X -> kind, slot in its block
        counts = [0, 0]
        for position, kind in zip(at, self.kinds_, strict=True):
            is_text = kind == CATEGORICAL
            slots[position] = (kind, counts[is_text])
            counts[is_text] += 1
        numbers = np.empty((len(X), counts[0]), dtype=np.float32)
        categories = np.empty((len(X), counts[1]), dtype=object)
        slow = []
        # pandas' blocks of same-typed columns, one column at a time: selecting columns
        # through pandas costs more than the model's own work on a single-row request
        for positions, values in frame_blocks(X):
            numeric, text = values.dtype.kind in "iuf", values.dtype == object
            for row, position in enumerate(positions):
                kind, slot = slots.get(position, (None, 0))
                if kind is None:  # a column the model does not use
                    continue
                if kind == CATEGORICAL and text:
                    categories[:, slot] = values[row]
                elif kind == NUMERIC and numeric:
                    numbers[:, slot] = values[row]
                else:
                    slow.append(position)
        for position in slow:  # numbers stored as text, dates, bool or integer categories
            kind, slot = slots[position]
            column = X.iloc[:, position]
            if kind == CATEGORICAL:
                categories[:, slot] = column.to_numpy(dtype=object)
            else:
                numbers[:, slot] = as_numbers(column, kind)
        if categories.size:
            categories = category_text(categories)
        return numbers, categories

    def arrays(self, X: pd.DataFrame) -> dict[str, np.ndarray]:
        """Each column as an (n, 1) array: float32 numbers, or text categories (in order)."""
        numbers, categories = self.blocks(X)
        out = {name: numbers[:, i : i + 1] for i, name in enumerate(self.number_columns)}
        out.update({c: categories[:, i : i + 1] for i, c in enumerate(self.category_columns)})
        return {name: out[name] for name in self.columns_}

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """The typed columns, as a frame the ColumnTransformer selects from by name."""
        return pd.DataFrame({name: values[:, 0] for name, values in self.arrays(X).items()})

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The column names, unchanged."""
        return np.asarray(self.columns_, dtype=object)


def _positions(X: pd.DataFrame, columns: list[str]) -> list[int]:
    """Where each of ``columns`` is in ``X`` (a KeyError names those it lacks)."""
    present = X.columns.tolist()
    if present == columns:
        return list(range(len(columns)))
    index = {name: i for i, name in enumerate(present)}
    missing = [c for c in columns if c not in index]
    if missing:
        raise KeyError(f"columns {missing} are not in the frame")
    return [index[c] for c in columns]


def category_text(values: np.ndarray) -> np.ndarray:
    """Categories as text (``1`` and ``"1"`` are one category), missing as :data:`MISSING`.

    ``values`` is an object array of any shape; the text has the same shape.
    """
    from pandas.api.types import infer_dtype

    flat = values.ravel()
    if infer_dtype(flat, skipna=False) == "string":
        return values.copy()  # all text, nothing missing: the usual single-row request
    missing = pd.isna(values)
    if infer_dtype(flat, skipna=True) in ("string", "empty"):
        text = values.copy()  # text and gaps: no Python call per cell
    else:
        text = np.empty(values.size, dtype=object)
        text[:] = [v if isinstance(v, str) else str(v) for v in flat]
        text = text.reshape(values.shape)
    text[missing] = MISSING
    return text


def table_encoder(
    columns: list[str],
    kinds: dict[str, str],
    mode: str = NATIVE,
    task: str | None = None,
    levels: dict[str, int] | None = None,
):
    """The encoder pipeline for ``columns`` (fitted with the model, inside its pipeline).

    Args:
        columns: the raw feature columns, in order.
        kinds: raw column -> numeric, date or categorical.
        mode: ``native`` (trees: numbers as they are, missing left NaN for the model;
            categories as integer codes), ``categorical`` (the same codes, for a model
            that takes them as its own categoricals: LightGBM) or ``onehot`` (linear
            models, nets: numbers standardized, missing imputed by the median plus a
            missing indicator per column that had gaps in training; categories one-hot).
        task: classification or regression: high-cardinality columns (more than
            :data:`TARGET_ENCODE_ABOVE` levels in ``levels``: zip codes, shops) are also
            target-encoded, cross-fitted so a training row never sees its own label.
            None: no target encoding.
        levels: categorical column -> distinct values in the data.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import MissingIndicator, SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    kinds = {c: kinds[c] for c in columns}
    categories = [c for c in columns if kinds[c] == CATEGORICAL]
    numbers = [c for c in columns if kinds[c] != CATEGORICAL]
    wide = [c for c in categories if (levels or {}).get(c, 0) > TARGET_ENCODE_ABOVE]
    parts = []
    if categories and mode == ONEHOT:
        encoder = OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            min_frequency=MIN_FREQUENCY,
            max_categories=MAX_CATEGORIES + 1,  # + the infrequent column
            sparse_output=False,
            dtype=np.float32,
        )
        parts.append(("categories", encoder, categories))
    elif categories:
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=-1,  # LightGBM reads negative categories as missing
            min_frequency=MIN_FREQUENCY,
            max_categories=MAX_CATEGORIES + 1,
            dtype=np.float32,
        )
        parts.append(("categories", encoder, categories))
    if numbers and mode == ONEHOT:
        # scaled first (StandardScaler passes NaN through), then imputed with the scaled
        # median. The missing indicators are the MissingIndicator that
        # SimpleImputer(add_indicator=True) holds, as a part of its own: skl2onnx converts
        # SimpleImputer without its indicator, and halfcost.automl._onnx registers a
        # converter for MissingIndicator
        scaled = Pipeline(
            [
                ("scale", StandardScaler()),
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ]
        )
        parts.append(("numbers", scaled, numbers))
        indicator = MissingIndicator(features="missing-only", error_on_new=False)
        parts.append(("missing", indicator, numbers))
    elif numbers:
        parts.append(("numbers", "passthrough", numbers))
    if wide and task is not None:
        parts.append(("target", _target_encoder(task), wide))
    transformer = ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)
    raw = RawColumns(columns, kinds)
    return Pipeline([("raw", raw), ("columns", transformer)])


def _target_encoder(task: str) -> Any:
    """TargetEncoder cross-fitting on 5 shuffled folds (stratified for classes), seeded.

    scikit-learn 1.9 takes the folds as a splitter and deprecates ``shuffle`` and
    ``random_state`` (a FutureWarning on every fit); 1.5, the floor, takes no splitter.
    Both get the same folds: TargetEncoder builds this very splitter from the int.
    """
    from sklearn.model_selection import KFold, StratifiedKFold
    from sklearn.preprocessing import TargetEncoder

    regression = task == REGRESSION
    target_type = "continuous" if regression else "auto"
    if "cv_object" in TargetEncoder._parameter_constraints.get("cv", ()):
        splitter = (KFold if regression else StratifiedKFold)(5, shuffle=True, random_state=0)
        return TargetEncoder(target_type=target_type, cv=splitter)
    return TargetEncoder(target_type=target_type, cv=5, shuffle=True, random_state=0)


def native_categoricals(columns: list[str], kinds: dict[str, str]) -> list[int]:
    """Output positions of the category codes (they come first), for LightGBM."""
    return list(range(sum(kinds[c] == CATEGORICAL for c in columns)))


def raw_step(pipeline: Any) -> RawColumns | None:
    """The fitted :class:`RawColumns` of a model pipeline (None when there is none)."""
    for _, step in getattr(pipeline, "steps", None) or []:
        if isinstance(step, RawColumns):
            return step
        found = raw_step(step)
        if found is not None:
            return found
    return None


def _columns_step(pipeline: Any) -> Any:
    encoder = pipeline.named_steps.get("encode", pipeline)
    return encoder.named_steps["columns"]


def output_sources(pipeline: Any) -> list[str]:
    """The raw column each encoded feature comes from, in output order."""
    transformer = _columns_step(pipeline)
    sources: list[str] = []
    for name, step, cols in transformer.transformers_:
        if name == "remainder":
            continue
        width = transformer.output_indices_[name].stop - transformer.output_indices_[name].start
        if name == "categories" and type(step).__name__ == "OneHotEncoder":
            per = list(step._n_features_outs)  # one-hot block widths per column
        elif name == "missing":
            sources += [cols[i] for i in step.features_]
            continue
        else:
            per = [width // max(len(cols), 1)] * len(cols)
        for column, count in zip(cols, per, strict=True):
            sources += [column] * int(count)
    return sources


def imputed_values(pipeline: Any) -> dict[str, float]:
    """Raw column -> the value the encoder imputes for a missing number (onehot mode)."""
    try:
        transformer = _columns_step(pipeline)
    except (AttributeError, KeyError):
        return {}
    for name, step, cols in transformer.transformers_:
        if name == "numbers" and hasattr(step, "named_steps"):
            scaler, imputer = step.named_steps["scale"], step.named_steps["impute"]
            raw = imputer.statistics_ * scaler.scale_ + scaler.mean_
            return {c: float(v) for c, v in zip(cols, raw, strict=True)}
    return {}
