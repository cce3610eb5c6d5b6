"""Raw table in, model-ready numbers out: column typing, id detection and the encoder.

Users hand halfcost raw tables (strings, dates, numbers stored as text, missing
values). The column plan types each raw column; the encoder built from those types
(:mod:`._encoder`) lives inside the model itself, so the saved model takes the same raw
columns at prediction time and treats an unseen category or a missing value exactly as
in training.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

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
    #: categorical column -> distinct values (what decides target encoding)
    levels: dict[str, int] = field(default_factory=dict)

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
            if plan.kinds[name] == CATEGORICAL:
                plan.levels[name] = int(candidates[name].nunique())
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
        try:  # fast path: clean ISO dates (None becomes NaT, which must stay missing)
            stamps = values.astype("datetime64[s]")
            days = stamps.astype(np.int64) / 86_400.0
            return np.where(np.isnat(stamps), np.nan, days)
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


def as_numbers(column: pd.Series, kind: str) -> np.ndarray:
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
    unread = np.flatnonzero(np.isnan(as_numbers(column, kind)))  # one parse, as the encoder
    mask = np.zeros(len(column), dtype=bool)
    if unread.size:  # of the cells that did not parse, those that hold a value are bad
        cells = column.iloc[unread]
        text = cells.astype(str).str.strip()
        mask[unread[(cells.notna() & ~text.isin(_MISSING_TEXT)).to_numpy()]] = True
    return mask


def column_dtypes(frame: pd.DataFrame) -> dict:
    """Column name -> dtype, cheaply.

    ``DataFrame.dtypes`` builds a Series, which on a single-row request costs more than
    the model's own work; the block manager's dtype array is the same information
    (pandas 2.x), with the public property as the fallback.
    """
    try:
        return dict(zip(frame.columns.tolist(), frame._mgr.get_dtypes(), strict=True))
    except (AttributeError, ValueError, TypeError):
        return dict(zip(frame.columns.tolist(), frame.dtypes, strict=True))


def frame_blocks(frame: pd.DataFrame) -> list[tuple[list[int], np.ndarray]]:
    """The frame's columns as 2-D blocks of one dtype: (column positions, (k, n) values).

    pandas keeps same-typed columns in blocks; reading a block whole costs microseconds,
    where selecting the columns one by one costs more than a small model's own work on
    a single-row request. Columns pandas keeps as extension arrays (nullable integers,
    ``category``, ``string``) come one per block, as an object (1, n) array.
    """
    try:
        blocks = frame._mgr.blocks  # pandas 2.x internals; the public path below
        out = []
        for block in blocks:
            values = block.values
            positions = block.mgr_locs.as_array.tolist()
            if not isinstance(values, np.ndarray) or values.ndim != 2:
                values = np.asarray(values, dtype=object).reshape(1, -1)
            out.append((positions, values))
        if sum(len(p) for p, _ in out) == frame.shape[1]:
            return out
    except (AttributeError, TypeError, ValueError):
        pass
    return [
        ([i], frame.iloc[:, i].to_numpy(dtype=object).reshape(1, -1)) for i in range(frame.shape[1])
    ]


def _readable_as_is(dtype: object, kind: str) -> bool:
    """Whether every value of a column of ``dtype`` is readable as ``kind`` (no cell check)."""
    if kind not in _WHAT:
        return True
    if not isinstance(dtype, np.dtype):
        return False
    return dtype.kind in ("iuf" if kind == NUMERIC else "M")


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
    dtypes = column_dtypes(frame)
    for name, kind in kinds.items():
        if name in dtypes and not _readable_as_is(dtypes[name], kind):
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
