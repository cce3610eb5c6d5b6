"""Learn a Great Expectations suite from a reference frame the user trusts.

Great Expectations 1.x has no profiler, so this module is ours: it classifies every
column (identifier, datetime, counter, numeric, categorical, text, boolean), checks each
for what it is, and emits GX's own expectation classes in a GX ``ExpectationSuite``.
The classification and the reference statistics that cleaning needs (date format,
known categories, median for imputation) live in the suite's ``meta["halfcost"]``, so a
saved suite is self-contained: a user can read it, edit it and pass it back.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from halfcost.automl._clean_text import (
    is_text,
    missing_mask,
    named_like_code,
    shape_regex,
    shapes,
    split_measure,
    unit_key,
    with_missing,
)
from halfcost.errors import BadInputError
from halfcost.jsonio import write_json

COLUMN_KINDS = (
    "identifier",
    "code",
    "datetime",
    "counter",
    "numeric",
    "measure",
    "categorical",
    "text",
    "boolean",
    "empty",
)
SUITE_META_KEY = "halfcost"
SUITE_META_VERSION = 1
NOW_PARAMETER = "halfcost_now"

# Kinds whose values are parsed as numbers or dates before validation.
NUMERIC_KINDS = ("numeric", "counter")
# Text columns whose values repeat: their vocabulary is learned (closed or open).
VOCABULARY_KINDS = ("categorical", "text")
# A text column is an open vocabulary when the reference suggests that more than this
# share of new rows (or new entities, for an entity's attribute) bring a value never
# seen: the Good-Turing estimate, singletons / units.
OPEN_NEW_SHARE = 0.02
# Open columns keep at most this many known values in the suite (for "new value" counts).
MAX_KNOWN_VALUES = 20_000
# Codes: at most this many distinct shapes ('99999', '99999-9999') make a stable pattern.
MAX_CODE_SHAPES = 3
# Digit strings of one length at least this long are codes even without a telling name.
CODE_MIN_DIGITS = 7

_ID_NAME = re.compile(r"(^|_)(id|uuid|guid|key)$|^id_|(^|_)(number|no)$", re.IGNORECASE)
_DATE_NAME = re.compile(r"(date|time|timestamp|_at$|_on$|^dt_|_dt$)", re.IGNORECASE)
_COUNTER_NAME = re.compile(r"(^n_|^num_|_count$|^count_|_total$|^total_|_seq$)", re.IGNORECASE)
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "ISO8601",
)
_DATE_SAMPLE_ROWS = 1000
# Fraction of the reference range (or of the IQR, whichever is larger) added on each
# side of a learned numeric range: fresh batches reach a little beyond the sample's tails.
RANGE_MARGIN_OF_RANGE = 0.1
RANGE_MARGIN_OF_IQR = 1.5
MAX_CATEGORIES = 100


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def detect_date_format(values: pd.Series) -> str | None:
    """Return the first strftime format (or 'ISO8601') that parses every value, else None."""
    sample = values.dropna().astype(str).head(_DATE_SAMPLE_ROWS)
    if sample.empty or not sample.str.contains(r"\d", regex=True).all():
        return None
    for fmt in _DATE_FORMATS:
        parsed = pd.to_datetime(sample, format=fmt, errors="coerce")
        if parsed.notna().all():
            full = pd.to_datetime(values.dropna().astype(str), format=fmt, errors="coerce")
            if full.notna().all():
                return fmt
    return None


def _all_numbers(values: pd.Series) -> bool:
    """Whether every value parses as a number (a sample first: failing is slow in pandas)."""
    sample = values.head(_DATE_SAMPLE_ROWS)
    if pd.to_numeric(sample, errors="coerce").isna().any():
        return False
    return bool(pd.to_numeric(values, errors="coerce").notna().all())


def _code_reason(name: str, text: pd.Series) -> str | None:
    """Why digit strings are a code and not a quantity, or None when they are a quantity."""
    if not text.str.fullmatch(r"\d+").all():
        return None
    if text.str.match(r"0\d").any():
        return "digit strings with leading zeros"
    if named_like_code(name):
        return "digit strings named like a code"
    lengths = text.str.len()
    if lengths.nunique() == 1 and int(lengths.iloc[0]) >= CODE_MIN_DIGITS:
        return f"digit strings of one length ({int(lengths.iloc[0])})"
    return None


def _stable_shapes(text: pd.Series) -> list[str] | None:
    """The few shapes every value has (a code's pattern), or None when there is none."""
    counts = shapes(text).value_counts()
    if len(counts) > MAX_CODE_SHAPES or not text.str.contains(r"\d").all():
        return None
    if text.str.contains(r"\s").any():
        return None
    return [str(s) for s in counts.index]


def _measure_unit(text: pd.Series) -> tuple[str, str] | None:
    """``(prefix, unit)`` when every value is a number with one unit ('84%'), else None."""
    if _measure_unit_of(text.head(200)) is None:  # most columns fail on their first values
        return None
    return _measure_unit_of(text)


def _measure_unit_of(text: pd.Series) -> tuple[str, str] | None:
    parts = split_measure(text)
    if parts["number"].isna().any():
        return None
    units = parts["unit"].map(unit_key)
    prefixes = parts["prefix"]
    if units.nunique() != 1 or prefixes.nunique() != 1:
        return None
    unit, prefix = str(parts["unit"].iloc[0]), str(prefixes.iloc[0])
    if not unit and not prefix:
        return None
    return prefix, unit


def classify_column(name: str, series: pd.Series) -> tuple[str, str]:
    """Classify one reference column; returns ``(kind, reason)`` with a human reason.

    Identifiers, codes, dates and counters take new values outside the reference by
    nature, so they must be told apart from plain numeric and categorical columns. Text
    read from a CSV is classified by what it holds: digit strings with leading zeros or
    a telling name are codes, ``84%`` is a measure, an all-empty column is empty.
    Whether a categorical column is closed or open is decided later, with the entities.
    """
    present = ~missing_mask(series)
    values = series[present]
    n_values = len(values)
    has_nulls = n_values < len(series)
    if n_values == 0:
        return "empty", "no values in the reference"
    if pd.api.types.is_bool_dtype(series):
        return "boolean", "true/false values"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime", "stored as timestamps"
    unique = values.is_unique
    monotonic = n_values > 1 and (values.is_monotonic_increasing or values.is_monotonic_decreasing)
    integer_like = _is_numeric(series) and bool(np.all(np.mod(values.to_numpy(float), 1) == 0))
    if unique and not has_nulls and (is_text(series) or integer_like):
        if _ID_NAME.search(name):
            return "identifier", "unique, non-null and named like an id"
        if monotonic and n_values > 2 and not is_text(series):
            return "identifier", "unique, non-null and in increasing order"
    if is_text(series):
        text = values.astype(str)
        # Every test below asks whether all (or any) values have a property, so it runs
        # on the distinct values, first seen first: entity data repeats each value.
        distinct = pd.Series(text.unique(), dtype=object)
        date_format = detect_date_format(distinct)
        if date_format is not None:
            return "datetime", f"every value parses as a date ({date_format})"
        code = _code_reason(name, distinct)
        if code is not None:
            return "code", code
        if _all_numbers(distinct):
            numbers = pd.to_numeric(text, errors="coerce")
            kind, reason = classify_column(name, numbers)
            return kind, reason + " (stored as text)"
        measure = _measure_unit(distinct)
        if measure is not None:
            prefix, unit = measure
            return "measure", f"numbers with the unit {(prefix + ' ' + unit).strip()!r}"
        n_unique = len(distinct)
        if n_unique <= min(MAX_CATEGORIES, max(10, int(0.2 * n_values))):
            return "categorical", f"{n_unique} distinct text values"
        many = n_unique > 0.5 * n_values
        if _stable_shapes(distinct) is not None and (named_like_code(name) or many):
            return "code", "strings of a stable pattern"
        return "text", f"{n_unique} distinct text values (too many for a category set)"
    if _is_numeric(series):
        if integer_like and set(np.unique(values)) <= {0, 1}:
            return "boolean", "only the values 0 and 1"
        if integer_like and named_like_code(name) and (values >= 0).all():
            return "code", "integers named like a code"
        if integer_like and (values >= 0).all():
            if _COUNTER_NAME.search(name):
                return "counter", "non-negative integers named like a count"
            if monotonic and n_values > 2 and values.is_monotonic_increasing:
                return "counter", "non-negative integers that only grow"
        return "numeric", "numbers"
    return "text", f"values of type {series.dtype}"


def numeric_range(values: pd.Series, *, integer: bool) -> tuple[float, float]:
    """The learned range: reference min/max widened by a margin, never crossing zero.

    A column that is never negative in the reference stays >= 0 (and never positive stays
    <= 0), so a sign flip is caught however large the margin.
    """
    lo, hi = float(values.min()), float(values.max())
    q1, q3 = (float(v) for v in values.quantile([0.25, 0.75]))
    margin = max(RANGE_MARGIN_OF_RANGE * (hi - lo), RANGE_MARGIN_OF_IQR * (q3 - q1))
    if margin == 0:
        margin = max(abs(hi), 1.0) * RANGE_MARGIN_OF_RANGE
    low, high = lo - margin, hi + margin
    if lo >= 0:
        low = max(low, 0.0)
    if hi <= 0:
        high = min(high, 0.0)
    if integer:
        return float(math.floor(low)), float(math.ceil(high))
    # Round outward to two significant digits of the margin: readable, never narrower.
    digits = 1 - math.floor(math.log10(margin))
    step = 10.0**-digits
    low = round(math.floor(low / step) * step, max(digits, 0))
    high = round(math.ceil(high / step) * step, max(digits, 0))
    return low, high


def _scalar(value: Any) -> Any:
    """A JSON-friendly Python scalar for a numpy/pandas value."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _column_profile(name: str, series: pd.Series, kind: str, reason: str) -> dict[str, Any]:
    """What cleaning needs to know about one column, stored in the suite's meta.

    ``series`` is the column parsed as its kind (:func:`as_kind`), missing cells as None.
    """
    profile: dict[str, Any] = {
        "kind": kind,
        "reason": reason,
        "nullable": bool(series.isna().any()),
    }
    values = series.dropna()
    if kind in (*NUMERIC_KINDS, "measure") or (kind == "boolean" and _is_numeric(series)):
        numbers = pd.to_numeric(values, errors="coerce").dropna()
        profile["integer"] = bool(np.all(np.mod(numbers.to_numpy(float), 1) == 0))
        if len(numbers):
            profile["median"] = _scalar(numbers.median())
            profile["mean"] = _scalar(numbers.mean())
    if kind == "datetime" and not pd.api.types.is_datetime64_any_dtype(series):
        profile["format"] = detect_date_format(values.astype(str))
    if kind == "code" and len(values):
        code_shapes = shapes(values).value_counts()
        kept = [str(v) for v in code_shapes.index[:MAX_CODE_SHAPES]]
        if len(code_shapes) > MAX_CODE_SHAPES:  # no stable pattern: allowed characters
            lengths = values.astype(str).str.len()
            profile["pattern"] = rf"^[0-9A-Za-z\-./ ]{{{lengths.min()},{lengths.max()}}}$"
        else:
            profile["pattern"] = shape_regex(kept)
        profile["shapes"] = kept
    if kind == "measure" and len(values):
        parts = split_measure(series.attrs.get("raw", values).dropna().astype(str))
        profile["unit"] = str(parts["unit"].iloc[0])
        profile["prefix"] = str(parts["prefix"].iloc[0])
    if kind in ("categorical", "boolean", "text") and len(values):
        counts = values.value_counts()
        if kind != "text" or len(counts) <= MAX_KNOWN_VALUES:
            profile["categories"] = [_scalar(v) for v in counts.index]
            profile["counts"] = [int(c) for c in counts.to_numpy()]
        profile["mode"] = _scalar(counts.index[0])
    return profile


def _meta(check: str) -> dict[str, Any]:
    return {SUITE_META_KEY: {"check": check}}


def _column_expectations(name: str, series: pd.Series, profile: dict[str, Any]) -> list[Any]:
    """GX expectations checking one column for what it is."""
    import great_expectations.expectations as gxe

    kind = profile["kind"]
    out: list[Any] = []
    if kind == "empty":
        return [gxe.ExpectColumnValuesToBeNull(column=name, meta=_meta("still_empty"))]
    if not profile["nullable"] or kind == "identifier":
        out.append(gxe.ExpectColumnValuesToNotBeNull(column=name, meta=_meta("not_null")))
    if kind == "identifier":
        out.append(gxe.ExpectColumnValuesToBeUnique(column=name, meta=_meta("unique")))
    elif kind == "code" and profile.get("pattern"):
        out.append(
            gxe.ExpectColumnValuesToMatchRegex(
                column=name, regex=profile["pattern"], meta=_meta("pattern")
            )
        )
    elif kind == "datetime":
        out.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=name, max_value={"$PARAMETER": NOW_PARAMETER}, meta=_meta("not_future")
            )
        )
    elif kind == "counter":
        out.append(gxe.ExpectColumnValuesToBeBetween(column=name, min_value=0, meta=_meta("range")))
    elif kind in ("numeric", "measure"):
        numbers = pd.to_numeric(series, errors="coerce").dropna()
        if len(numbers):
            low, high = numeric_range(numbers, integer=profile.get("integer", False))
            out.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=name, min_value=low, max_value=high, meta=_meta("range")
                )
            )
    elif kind in ("categorical", "boolean", "text") and profile.get("categories"):
        check = "new_value" if profile.get("vocabulary") == "open" else "category"
        out.append(
            gxe.ExpectColumnValuesToBeInSet(
                column=name, value_set=list(profile["categories"]), meta=_meta(check)
            )
        )
    return out


def _check_overrides(reference: pd.DataFrame, overrides: Mapping[str, str]) -> None:
    for column, kind in overrides.items():
        if column not in reference.columns:
            raise BadInputError(
                f"kind override for unknown column {column!r}; "
                f"choose one of {', '.join(map(str, reference.columns))}."
            )
        if kind not in COLUMN_KINDS:
            raise BadInputError(
                f"unknown column kind {kind!r} for {column!r}; choose one of "
                f"{', '.join(COLUMN_KINDS)}."
            )


def learn_suite(
    reference: pd.DataFrame,
    *,
    kinds: Mapping[str, str] | None = None,
    name: str = "halfcost_clean",
) -> Any:
    """Learn a GX ``ExpectationSuite`` describing clean data from a trusted reference frame.

    Every column is classified (see :data:`COLUMN_KINDS`) and checked for what it is:
    identifiers unique and non-null, codes by their pattern (never a range), dates
    parseable and not in the future, counters non-negative, numbers and measures within
    the reference range plus a margin (a measure's unit checked too), closed categories
    within the reference set, open vocabularies reported when new; not-null wherever the
    reference has no nulls; an empty column stays empty; no exact duplicate rows when
    the reference has none. Approximate functional dependencies between columns
    (``provider -> city``) are learned too (:mod:`._clean_fd`), listed in the suite's
    meta so a user can remove one.

    The reference may be typed (parquet) or text as read from a CSV (``dtype=str``):
    text is parsed on a copy, the reference itself is not changed.

    Args:
        reference: the clean sample.
        kinds: overrides of the classification, column -> kind.
        name: the suite's name.

    Returns:
        A ``great_expectations.ExpectationSuite``; its ``meta["halfcost"]["columns"]``
        holds each column's kind, the reason, and the statistics cleaning uses.

    Raises:
        BadInputError: the reference is empty, or an override names an unknown column or kind.
    """
    import great_expectations as gx
    import great_expectations.expectations as gxe

    from halfcost.automl._clean_fd import decide_vocabularies, learn_dependencies

    if reference.shape[0] == 0 or reference.shape[1] == 0:
        raise BadInputError("the reference has no rows; give a clean sample with rows.")
    overrides = dict(kinds or {})
    _check_overrides(reference, overrides)
    columns: dict[str, dict[str, Any]] = {}
    parsed: dict[str, pd.Series] = {}
    for column in reference.columns:
        series = reference[column]
        kind, reason = classify_column(str(column), series)
        if column in overrides:
            kind, reason = overrides[column], "set by the user"
        parsed[str(column)] = as_kind(series, kind)
        columns[str(column)] = _column_profile(str(column), parsed[str(column)], kind, reason)
    dependencies, lookups = learn_dependencies(parsed, columns)
    decide_vocabularies(parsed, columns, dependencies, fixed=set(overrides))
    expectations: list[Any] = [
        gxe.ExpectTableColumnsToMatchSet(
            column_set=[str(c) for c in reference.columns], exact_match=True, meta=_meta("columns")
        )
    ]
    for column, profile in columns.items():
        expectations.extend(_column_expectations(column, parsed[column], profile))
    duplicates = bool(reference.duplicated().any())
    if not duplicates:
        expectations.append(
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=[str(c) for c in reference.columns], meta=_meta("duplicate_rows")
            )
        )
    meta = {
        SUITE_META_KEY: {
            "version": SUITE_META_VERSION,
            "reference_rows": len(reference),
            "reference_has_duplicate_rows": duplicates,
            "columns": columns,
            "dependencies": dependencies,
            "lookups": lookups,
        }
    }
    return gx.ExpectationSuite(name=name, expectations=expectations, meta=meta)


def as_kind(series: pd.Series, kind: str) -> pd.Series:
    """The column parsed as its kind, on a copy: numbers as numbers, missing as None.

    Codes stay strings (an integer column's codes become their digits); a measure
    (``84%``) becomes its number.
    """
    if kind in NUMERIC_KINDS and not _is_numeric(series):
        return pd.to_numeric(with_missing(series), errors="coerce")
    if kind == "measure":
        text = with_missing(series)
        numbers = split_measure(text.dropna().astype(str))["number"].reindex(series.index)
        numbers.attrs["raw"] = text
        return numbers
    if kind == "code" and not is_text(series):
        if pd.api.types.is_bool_dtype(series) or not _is_numeric(series):
            return series.astype(str)
        ints = series.astype("Int64")
        return ints.astype(str).where(ints.notna(), None).astype(object)
    if kind == "datetime" or pd.api.types.is_bool_dtype(series):
        return with_missing(series) if is_text(series) else series
    return with_missing(series)


def suite_columns(suite: Any) -> dict[str, dict[str, Any]]:
    """The per-column classification stored in a suite (empty for a hand-written suite)."""
    meta = (suite.meta or {}).get(SUITE_META_KEY) or {}
    columns = meta.get("columns") or {}
    return {str(k): dict(v) for k, v in columns.items()}


def suite_to_dict(suite: Any) -> dict[str, Any]:
    """The suite as the JSON-ready dict GX writes (``ExpectationSuite.to_json_dict``)."""
    return suite.to_json_dict()


def save_suite(suite: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``suite`` as GX suite JSON (atomically) that :func:`load_suite` reads back."""
    return write_json(suite_to_dict(suite), path)


def suite_from_dict(data: Mapping[str, Any], *, source: str = "suite") -> Any:
    """Build a GX ``ExpectationSuite`` from its JSON dict, with a clear error when invalid."""
    import great_expectations as gx

    if not isinstance(data, Mapping) or "expectations" not in data:
        raise BadInputError(
            f"{source}: not a Great Expectations suite (no 'expectations' list); "
            "give a suite.json written by `halfcost clean`."
        )
    fields = {k: data[k] for k in ("name", "expectations", "meta", "notes", "id") if k in data}
    fields.setdefault("name", "halfcost_clean")
    try:
        suite = gx.ExpectationSuite(**fields)
    except Exception as exc:  # GX raises pydantic and its own errors for bad configs
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BadInputError(
            f"{source}: invalid expectation suite ({first}); fix the JSON."
        ) from exc
    for column, profile in suite_columns(suite).items():
        if profile.get("kind") not in COLUMN_KINDS:
            raise BadInputError(
                f"{source}: column {column!r} has kind {profile.get('kind')!r}; choose one of "
                f"{', '.join(COLUMN_KINDS)}."
            )
    return suite


def load_suite(path: str | os.PathLike[str]) -> Any:
    """Read a GX suite JSON file (as written by :func:`save_suite`, possibly hand-edited).

    Raises:
        BadInputError: the file is missing, not JSON, or not a valid suite.
    """
    p = Path(path)
    if not p.is_file():
        raise BadInputError(f"{p}: no such suite file; check the path.")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{p}: not valid JSON ({exc}); fix the suite file.") from exc
    return suite_from_dict(data, source=str(p))
