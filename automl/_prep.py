"""Raw table in, model-ready numbers out: column typing, id detection and the encoder.

Users hand halfcost raw tables (strings, dates, numbers stored as text, missing
values). :class:`TableEncoder` turns the chosen raw columns into a float matrix inside
the model itself, so the saved model takes the same raw columns at prediction time and
treats an unseen category or a missing value exactly as in training.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from halfcost.automl._metrics import CLASSIFICATION, REGRESSION, TASKS
from halfcost.errors import BadInputError

RESERVED_PREFIX = "halfcost_"
NUMERIC = "numeric"
CATEGORICAL = "categorical"
DATE = "date"

_DATE_PATTERN = re.compile(
    r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?([+-]\d{2}:?\d{2}|Z)?$"
)
_ID_NAME_PATTERN = re.compile(r"(^|_)(id|uuid|guid|key|index|idx|no|number|num)($|_)|id$", re.I)
_NS_PER_DAY = 86_400_000_000_000


@dataclass
class ColumnPlan:
    """Which raw columns are features, of what kind, and which were dropped and why."""

    kinds: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        """The feature columns, in table order."""
        return list(self.kinds)


def infer_task(y: pd.Series) -> str:
    """Guess classification or regression from the target's values.

    Strings, booleans and categories are classes; integers with at most 20 distinct
    values are classes too; other numbers are a regression target.
    """
    values = y.dropna()
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return CLASSIFICATION
    distinct = values.nunique()
    is_integral = bool(np.all(np.mod(values.to_numpy(dtype=float), 1) == 0))
    return CLASSIFICATION if is_integral and distinct <= 20 else REGRESSION


def check_task(task: str | None, y: pd.Series) -> str:
    """Return ``task`` validated, or inferred from ``y`` when None."""
    if task is None:
        return infer_task(y)
    if task not in TASKS:
        raise BadInputError(
            f"unknown {{param}} {task!r}; choose one of {', '.join(TASKS)}.", param="task"
        )
    return task


def encode_target(y: pd.Series, task: str, target: str) -> tuple[np.ndarray, list]:
    """Return the target as model numbers and the class list (empty for regression).

    Classes become indices 0..K-1 in sorted order, so for a binary target the second
    class (``yes`` of no/yes, ``1`` of 0/1, ``True``) is the positive class for f1/AUC.

    Raises:
        BadInputError: a one-class target, or a non-numeric regression target.
    """
    if task == REGRESSION:
        numbers = pd.to_numeric(y, errors="coerce")
        if numbers.isna().any():
            raise BadInputError(
                f"target column {target!r} has values that are not numbers; "
                "set {param} to classification or clean the column.",
                param="task",
            )
        return numbers.to_numpy(dtype=float), []
    values = y.to_numpy()
    if y.dtype == object:
        values = y.map(lambda v: v if isinstance(v, str) else str(v)).to_numpy()
    classes, codes = np.unique(values, return_inverse=True)
    if len(classes) < 2:
        only = classes[0] if len(classes) else "nothing"
        raise BadInputError(
            f"target column {target!r} has one class only ({only!r}); "
            "a classifier needs at least two classes in the data."
        )
    return codes.astype(np.int64), [_plain(c) for c in classes]


def _plain(value):
    """A numpy scalar as the plain Python value (for JSON metadata)."""
    return value.item() if hasattr(value, "item") else value


def find_id_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that look like row identifiers: unique per row, strings or id-like integers.

    An integer column counts only if its name reads like an id (``customer_id``, ``key``)
    or its values are a near-consecutive range: a numeric measurement that happens to be
    unique is kept.
    """
    n = len(frame)
    if n < 20:
        return []
    found = []
    for name in frame.columns:
        column = frame[name]
        if column.isna().any() or column.nunique() < n:
            continue
        if pd.api.types.is_integer_dtype(column):
            span = int(column.max()) - int(column.min()) + 1
            if _ID_NAME_PATTERN.search(str(name)) or span <= 2 * n:
                found.append(name)
        elif (column.dtype == object or isinstance(column.dtype, pd.StringDtype)) and not (
            _looks_numeric(column) or _looks_date(column)
        ):
            found.append(name)
    return found


def _sample(column: pd.Series, n: int = 500) -> pd.Series:
    values = column.dropna()
    return values.iloc[:: max(1, len(values) // n)]


def _looks_numeric(column: pd.Series) -> bool:
    sample = _sample(column)
    if sample.empty:
        return False
    parsed = pd.to_numeric(sample.astype(str), errors="coerce")
    return bool(parsed.notna().mean() >= 0.95)


def _looks_date(column: pd.Series) -> bool:
    sample = _sample(column)
    if sample.empty:
        return False
    matches = sample.astype(str).str.strip().str.match(_DATE_PATTERN)
    return bool(matches.mean() >= 0.95)


def plan_columns(
    frame: pd.DataFrame, target: str | None = None, drop: list[str] | tuple[str, ...] = ()
) -> ColumnPlan:
    """Decide which columns are features and how each is encoded.

    Dropped: the target, columns named in ``drop``, columns prefixed ``halfcost_``,
    id-like columns, and columns with no values at all. Each drop carries its reason.

    Raises:
        BadInputError: a ``drop`` column that does not exist, or no feature left.
    """
    missing = [c for c in drop if c not in frame.columns]
    if missing:
        raise BadInputError(
            f"{{param}} names column(s) not in the data: {', '.join(missing)}; "
            f"the columns are: {', '.join(map(str, frame.columns))}.",
            param="drop",
        )
    plan = ColumnPlan()
    candidates = frame.drop(columns=[*([target] if target is not None else []), *drop])
    for name in drop:
        plan.dropped[name] = "asked (drop)"
    for name in list(candidates.columns):
        if str(name).startswith(RESERVED_PREFIX):
            plan.dropped[name] = "reserved halfcost_ column"
        elif candidates[name].isna().all():
            plan.dropped[name] = "no values"
    ids = find_id_columns(candidates.drop(columns=list(plan.dropped), errors="ignore"))
    for name in ids:
        plan.dropped[name] = "looks like a row id (unique per row)"
    for name in candidates.columns:
        if name not in plan.dropped:
            plan.kinds[name] = column_kind(candidates[name])
    if not plan.kinds:
        raise BadInputError(
            "no feature column is left after dropping the target, ids and {param} columns; "
            "give a table with at least one feature column.",
            param="drop",
        )
    return plan


def column_kind(column: pd.Series) -> str:
    """numeric, date or categorical for one raw column."""
    if pd.api.types.is_bool_dtype(column):
        return CATEGORICAL
    if pd.api.types.is_numeric_dtype(column):
        return NUMERIC
    if pd.api.types.is_datetime64_any_dtype(column):
        return DATE
    if _looks_numeric(column):
        return NUMERIC
    if _looks_date(column):
        return DATE
    return CATEGORICAL


def _dates_as_days(column: pd.Series) -> np.ndarray:
    values = column.to_numpy()
    if values.dtype == object:
        try:  # fast path: clean ISO dates without missing values
            return values.astype("datetime64[s]").astype(np.int64) / 86_400.0
        except (ValueError, TypeError):
            pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            stamps = pd.to_datetime(column, errors="coerce", utc=True, format="ISO8601")
        except (ValueError, TypeError):
            stamps = pd.to_datetime(column, errors="coerce", utc=True)
    days = stamps.to_numpy(dtype="datetime64[ns]").astype(np.int64) / _NS_PER_DAY
    return np.where(stamps.isna().to_numpy(), np.nan, days)


def _as_numbers(column: pd.Series, kind: str) -> np.ndarray:
    """One raw column as float64 numbers (dates as days since 1970), NaN where missing."""
    if kind == DATE:
        if pd.api.types.is_datetime64_any_dtype(column):
            stamps = column.dt.tz_convert(None) if column.dt.tz is not None else column
            days = stamps.to_numpy(dtype="datetime64[ns]").astype(np.int64) / _NS_PER_DAY
            return np.where(stamps.isna().to_numpy(), np.nan, days)
        return _dates_as_days(column)
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


TE_MAX_LEVELS = 10_000  # levels target-encoded per column (most frequent first)
TE_FOLDS = 5  # cross-fitting folds for the training rows' target encodings
TE_SMOOTHING_RANGE = (1.0, 1000.0)  # bounds of the pseudo-rows of prior per level


def _smoothing(sums: np.ndarray, counts: np.ndarray, prior: float, variance: float) -> float:
    """Empirical-Bayes pseudo-count: within-level noise over between-level spread.

    Levels that really differ (risky merchants) get little smoothing; a column whose
    levels differ only by chance (a batch code) is pulled all the way to the prior.
    """
    seen = counts > 0
    total = counts[seen].sum()
    if total == 0 or variance <= 0:
        return TE_SMOOTHING_RANGE[1]
    means = sums[seen] / counts[seen]
    spread = float((counts[seen] * (means - prior) ** 2).sum() / total)
    between = spread - variance * seen.sum() / total  # minus the sampling noise of the means
    if between <= 0:
        return TE_SMOOTHING_RANGE[1]
    return float(np.clip((variance - between) / between, *TE_SMOOTHING_RANGE))


def _mean_table(codes: np.ndarray, targets: np.ndarray, n_levels: int) -> np.ndarray:
    """Smoothed target means per level; row ``n_levels`` (unseen/missing) is the prior."""
    prior = targets.mean(axis=0) if len(targets) else np.zeros(targets.shape[1])
    variance = targets.var(axis=0) if len(targets) else np.zeros(targets.shape[1])
    known = codes < n_levels
    counts = np.bincount(codes[known], minlength=n_levels)[:n_levels].astype(float)
    table = np.empty((n_levels + 1, targets.shape[1]))
    for j in range(targets.shape[1]):
        sums = np.bincount(codes[known], weights=targets[known, j], minlength=n_levels)
        sums = sums[:n_levels]
        m = _smoothing(sums, counts, float(prior[j]), float(variance[j]))
        table[:n_levels, j] = (sums + m * prior[j]) / (counts + m)
    table[n_levels] = prior
    return table


class TableEncoder(TransformerMixin, BaseEstimator):
    """Encode raw table columns as a float matrix, inside the model pipeline.

    Two modes:
        ``native`` (trees): numbers and dates as numbers, missing values left as NaN
        for the model's own handling; categories as integer codes ordered by training
        frequency, the rarest and unseen values sharing one "other" code.
        ``onehot`` (linear models, neural nets): numbers standardized, missing values
        imputed by the training median plus a missing-indicator; categories one-hot
        encoded (the most frequent ``max_categories``, plus "other").

    High-cardinality categories (more than ``target_encode_above`` levels: zip codes,
    product ids, neighbourhoods) lose most of their levels to "other"; when ``task`` is
    given they also get target-encoded columns: the smoothed mean of the target per level
    (per class for classification), cross-fitted on the training rows so a row never
    sees its own label, with unseen and missing levels at the overall mean.

    Args:
        columns: the raw feature columns to use, in order.
        kinds: raw column -> numeric, date or categorical.
        mode: native or onehot.
        max_categories: categories kept per column; the rest become "other".
        task: classification or regression to target-encode high-cardinality columns
            (labels must then be class indices 0..K-1); None: no target encoding.
        target_encode_above: level count above which a column is target-encoded.
    """

    def __init__(
        self,
        columns: list[str] | None = None,
        kinds: dict[str, str] | None = None,
        mode: str = "native",
        max_categories: int = 64,
        task: str | None = None,
        target_encode_above: int = 16,
    ):
        self.columns = columns
        self.kinds = kinds
        self.mode = mode
        self.max_categories = max_categories
        self.task = task
        self.target_encode_above = target_encode_above

    def fit(self, X: pd.DataFrame, y=None) -> TableEncoder:
        """Learn categories (and medians/scales in onehot mode) from the training rows."""
        self.columns_ = [str(c) for c in (self.columns if self.columns is not None else X.columns)]
        kinds = self.kinds or {}
        self.kinds_ = [kinds.get(c) or column_kind(X[c]) for c in self.columns_]
        self.categories_ = {}
        self.center_ = {}
        self.scale_ = {}
        self.with_missing_ = []
        self.te_levels_ = {}
        self.te_table_ = {}
        self.te_offsets_ = {}
        targets = self._target_matrix(y)
        sources = []
        for name, kind in zip(self.columns_, self.kinds_, strict=True):
            if kind == CATEGORICAL:
                counts = X[name].dropna().value_counts()
                self.categories_[name] = self._learn_categories(counts)
                width = len(self.categories_[name]) + 1 if self.mode == "onehot" else 1
                sources += [name] * width
                levels = counts.index[:TE_MAX_LEVELS]
                if targets is not None and len(levels) > self.target_encode_above:
                    # the kept categories are a prefix of these levels (both by frequency)
                    self.te_levels_[name] = [_plain(v) for v in levels]
                    codes = self._codes(X[name], name)[1]
                    self.te_table_[name] = _mean_table(codes, targets, len(levels))
                    self.te_offsets_[name] = len(sources)
                    sources += [name] * targets.shape[1]
                continue
            values = _as_numbers(X[name], kind)
            if self.mode == "onehot":
                finite = values[np.isfinite(values)]
                center = float(np.median(finite)) if finite.size else 0.0
                scale = float(np.std(finite)) if finite.size else 1.0
                self.center_[name] = center
                self.scale_[name] = scale if scale > 0 else 1.0
                if np.isnan(values).any():
                    self.with_missing_.append(name)
                    sources.append(name)
            sources.append(name)
        self.output_sources_ = sources
        self.n_features_in_ = len(self.columns_)
        return self

    def _target_matrix(self, y) -> np.ndarray | None:
        """Targets as columns to average: class indicators, or the standardized value."""
        if y is None or self.task is None:
            return None
        values = np.asarray(y)
        if self.task == CLASSIFICATION:
            codes = values.astype(np.int64)
            k = int(codes.max()) + 1
            onehot = np.eye(max(k, 2))[codes]
            return onehot[:, 1:2] if k <= 2 else onehot
        values = values.astype(float)
        spread = float(np.std(values)) or 1.0
        return ((values - values.mean()) / spread)[:, None]

    def _codes(self, column: pd.Series, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        """Category codes of one column, with one hash lookup.

        Returns the kept-category codes (0..n-1 known, n missing, n+1 other or unseen)
        and, for a target-encoded column, the level codes (unseen or missing: the last
        row of its table), else None.
        """
        values = column.to_numpy(dtype=object)
        n = len(self.categories_[name])
        levels = self.te_levels_.get(name)
        index = pd.Index(levels if levels is not None else self.categories_[name], dtype=object)
        found = index.get_indexer(values)
        unknown = np.flatnonzero(found < 0)
        codes = np.where((found < 0) | (found >= n), n + 1, found)
        if unknown.size:  # None / NaN / pd.NA are missing, not unseen categories
            codes[unknown[pd.isna(values[unknown])]] = n
        if levels is None:
            return codes, None
        return codes, np.where(found < 0, len(levels), found)

    def fit_transform(self, X: pd.DataFrame, y=None, **fit_params) -> np.ndarray:
        """Fit, then encode the training rows with cross-fitted target encodings."""
        out = self.fit(X, y).transform(X)
        if not self.te_levels_:
            return out
        targets = self._target_matrix(y)
        folds = np.random.default_rng(0).permutation(len(X)) % TE_FOLDS
        for name in self.te_levels_:
            start = self.te_offsets_[name]
            width = self.te_table_[name].shape[1]
            codes = self._codes(X[name], name)[1]
            for fold in range(TE_FOLDS):
                held = folds == fold
                table = _mean_table(codes[~held], targets[~held], len(self.te_levels_[name]))
                out[held, start : start + width] = table[codes[held]]
        return out

    def _learn_categories(self, counts: pd.Series) -> list:
        frequent = counts[counts >= 2]
        kept = (frequent if len(frequent) else counts).index[: self.max_categories]
        return [_plain(value) for value in kept]

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Encode ``X`` (a DataFrame holding at least the fitted columns)."""
        dtype = np.float32 if self.mode == "native" else np.float64
        out = np.empty((len(X), len(self.output_sources_)), dtype=dtype)
        at = 0
        for name, kind in zip(self.columns_, self.kinds_, strict=True):
            column = X[name]
            if kind == CATEGORICAL:
                codes, level_codes = self._codes(column, name)
                at = self._encode_category(codes, name, out, at)
                if level_codes is not None:
                    table = self.te_table_[name]
                    out[:, at : at + table.shape[1]] = table[level_codes]
                    at += table.shape[1]
                continue
            values = _as_numbers(column, kind)
            if self.mode == "onehot":
                missing = np.isnan(values)
                if name in self.with_missing_:
                    out[:, at] = missing
                    at += 1
                center = self.center_[name]
                values = (np.where(missing, center, values) - center) / self.scale_[name]
            out[:, at] = values
            at += 1
        return out

    def _encode_category(self, codes: np.ndarray, name: str, out: np.ndarray, at: int) -> int:
        """Write one column's category codes (or one-hot block) into ``out`` at ``at``."""
        n = len(self.categories_[name])
        if self.mode == "onehot":
            block = out[:, at : at + n + 1]
            block[:] = 0.0
            rows = np.flatnonzero(codes != n)  # missing: all zeros
            block[rows, np.minimum(codes[rows], n)] = 1.0
            return at + n + 1
        lookup = np.array([*range(n), np.nan, n], dtype=np.float32)  # missing stays NaN
        out[:, at] = lookup[codes]
        return at + 1


# -- type checks where data enters a trained model ----------------------------------------
ON_BAD_VALUES = ("error", "null", "impute")
_WHAT = {NUMERIC: "numbers", DATE: "dates"}
# text that means "missing" (pandas' default na_values for read_csv, and the empty string)
_MISSING_TEXT = frozenset(
    {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN"}
    | {"<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null", "NaT"}
)


def unparseable(column: pd.Series, kind: str) -> np.ndarray:
    """A mask of the cells of ``column`` that hold a value ``kind`` cannot read.

    A missing cell (NaN, None, empty text, ``NA``/``null``/``nan`` as read_csv reads them) is
    missing, not bad; a categorical column
    takes any value. A numeric column's text that is not a number, or a date column's
    text that is not a date, is bad: the encoder would silently read it as missing.
    """
    if kind not in _WHAT or len(column) == 0:
        return np.zeros(len(column), dtype=bool)
    if kind == NUMERIC and pd.api.types.is_numeric_dtype(column):
        return np.zeros(len(column), dtype=bool)
    if kind == DATE and pd.api.types.is_datetime64_any_dtype(column):
        return np.zeros(len(column), dtype=bool)
    unread = np.flatnonzero(np.isnan(_as_numbers(column, kind)))  # one parse, as the encoder
    mask = np.zeros(len(column), dtype=bool)
    if unread.size:  # of the cells that did not parse, those that hold a value are bad
        cells = column.iloc[unread]
        text = cells.astype(str).str.strip()
        mask[unread[(cells.notna() & ~text.isin(_MISSING_TEXT)).to_numpy()]] = True
    return mask


def check_values(
    frame: pd.DataFrame,
    kinds: dict[str, str],
    *,
    on_bad_values: str = "error",
    impute: dict[str, float] | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Compare each column with the kind the model was trained on; never silently.

    Args:
        frame: the raw table about to enter the model.
        kinds: column -> numeric, date or categorical, as in training.
        on_bad_values: ``error`` (default) refuses values a column's kind cannot read;
            ``null`` makes them missing, which the model handles as in training;
            ``impute`` replaces them with what training imputes for a missing cell
            (``impute``; a column without one, as in tree models, which learned where
            missing values go, is left missing).
        impute: column -> the value training imputes for a missing cell.

    Returns:
        The frame (a copy with the bad cells replaced, when there were any) and
        column -> count of bad cells (empty when every value was readable).

    Raises:
        BadInputError: bad values with ``on_bad_values="error"`` (names each column and
            its count), or an unknown ``on_bad_values``.
    """
    if on_bad_values not in ON_BAD_VALUES:
        raise BadInputError(
            f"{{param}} must be one of {', '.join(ON_BAD_VALUES)}, but got {on_bad_values!r}.",
            param="on_bad_values",
        )
    masks = {}
    for name, kind in kinds.items():
        if name in frame.columns:
            mask = unparseable(frame[name], kind)
            if mask.any():
                masks[name] = mask
    counts = {name: int(mask.sum()) for name, mask in masks.items()}
    if not masks:
        return frame, counts
    if on_bad_values == "error":
        parts = []
        for name, mask in masks.items():
            example = frame[name][mask].iloc[0]
            parts.append(
                f"{name!r} ({counts[name]} of {len(frame)} values are not "
                f"{_WHAT[kinds[name]]}, e.g. {example!r})"
            )
        raise BadInputError(
            f"column(s) {'; '.join(parts)} differ from the types the model was trained on; "
            "fix the data, or pass {param} null (treat them as missing) or impute.",
            param="on_bad_values",
        )
    fixed = frame.copy()
    for name, mask in masks.items():
        fill = (impute or {}).get(name, np.nan) if on_bad_values == "impute" else np.nan
        column = fixed[name].astype(object)
        column[mask] = fill
        fixed[name] = column
    return fixed, counts
