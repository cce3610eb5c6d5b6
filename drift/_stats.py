"""Column statistics that reproduce Evidently 0.7's default drift decisions without its data.

Evidently's ``DataDriftPreset`` picks a test per column from the column's type (inferred on
the *current* batch) and the size of the reference column (after dropping missing values):

* reference of at most 1,000 values: Kolmogorov–Smirnov (numbers with more than 5 distinct
  values), chi-square (more than 2 distinct values) or a Z-test of proportions (2 values);
  p-values, drift when below 0.05;
* a larger reference: the Wasserstein distance divided by the reference's standard
  deviation (numbers with more than 5 distinct values) or the Jensen–Shannon distance of
  the value frequencies (categories, and numbers with at most 5 distinct values); drift
  when the distance is at least 0.1.

The distances only need compact reference statistics — value counts, or a sorted summary
of the distribution and its standard deviation — so a profile saved at training time
replaces the reference table. A small reference is kept whole and handed to Evidently's own
p-value tests. This module holds the arithmetic; :mod:`._profile` stores it and
:mod:`._check` applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

NUMERICAL = "numerical"
CATEGORICAL = "categorical"
TEXT = "text"
DATETIME = "datetime"
UNKNOWN = "unknown"
CHECKED_KINDS = (NUMERICAL, CATEGORICAL, TEXT)  # the column types DataDriftPreset checks

SMALL_REFERENCE_VALUES = 1000  # Evidently switches from p-value tests to distances above this
INTEGER_CARDINALITY_LIMIT = 10  # Evidently: integer columns with few values are categories
FEW_VALUES = 5  # Evidently: numbers with at most this many distinct values are compared as counts
EXACT_VALUES_LIMIT = 8192  # up to this many distinct values a profile keeps exact counts
QUANTILE_ATOMS = 8192  # otherwise: this many equal-mass bins, each summarised by its mean
TAIL_VALUES = 1024  # ... plus this many extreme values at each end, kept exactly


@dataclass(frozen=True)
class Method:
    """One of Evidently's default drift tests: registry name, display name, threshold, rule.

    ``rule`` says how Evidently compares the score with the threshold: ``"p<="`` and
    ``"p<"`` for p-values (drift when small), ``">="`` and ``">"`` for distances.
    """

    name: str
    display_name: str
    threshold: float
    rule: str

    @property
    def is_p_value(self) -> bool:
        """True when a small score means drift."""
        return self.rule.startswith("p")

    def drifted(self, score: float, threshold: float | None = None) -> bool:
        """Evidently's decision for ``score`` against ``threshold`` (default: its own)."""
        limit = self.threshold if threshold is None else threshold
        if self.rule == "p<=":
            return bool(score <= limit)
        if self.rule == "p<":
            return bool(score < limit)
        if self.rule == ">=":
            return bool(score >= limit)
        return bool(score > limit)


WASSERSTEIN = Method("wasserstein", "Wasserstein distance (normed)", 0.1, ">=")
JENSEN_SHANNON = Method("jensenshannon", "Jensen-Shannon distance", 0.1, ">=")
KS = Method("ks", "K-S p_value", 0.05, "p<=")
CHI_SQUARE = Method("chisquare", "chi-square p_value", 0.05, "p<")
Z_TEST = Method("z", "Z-test p_value", 0.05, "p<")
TEXT_ABS = Method("abs_text_content_drift", "Absolute text content drift", 0.55, ">")
TEXT_PERC = Method("perc_text_content_drift", "Percentile text content drift", 0.95, ">")
METHODS = (WASSERSTEIN, JENSEN_SHANNON, KS, CHI_SQUARE, Z_TEST, TEXT_ABS, TEXT_PERC)


def method_named(name: str) -> Method:
    """The default test with registry name or display name ``name``."""
    for method in METHODS:
        if name in (method.name, method.display_name):
            return method
    known = ", ".join(m.name for m in METHODS)
    raise ValueError(f"unknown drift method {name!r}; choose one of {known}")


def infer_kind(series: pd.Series, *, n_unique: int | None = None, count: int | None = None) -> str:
    """Return the column type Evidently 0.7 infers for ``series``.

    Mirrors ``evidently.core.datasets.infer_column_type`` (floats are numerical; integers
    with at most 10 distinct values are categories; strings whose distinct values exceed
    half of the non-missing values are text), so the same test is chosen.

    Args:
        series: the column.
        n_unique: its number of distinct non-missing values, when already known.
        count: its number of non-missing values, when already known.
    """
    dtype = series.dtype.name
    if dtype.startswith("float"):
        return NUMERICAL
    if dtype.startswith("int") or dtype.startswith("uint"):
        unique = series.nunique() if n_unique is None else n_unique
        return CATEGORICAL if unique <= INTEGER_CARDINALITY_LIMIT else NUMERICAL
    if dtype in ("bool", "boolean", "category"):
        return CATEGORICAL
    if dtype.startswith("datetime"):
        return DATETIME
    if dtype not in ("string", "str", "object"):
        return UNKNOWN
    ends = _first_and_last_present(series)
    if ends is None:
        return UNKNOWN
    if dtype == "object" and not all(isinstance(value, str) for value in ends):
        return UNKNOWN
    unique = series.nunique() if n_unique is None else n_unique
    present = series.count() if count is None else count
    return TEXT if unique > present * 0.5 else CATEGORICAL


def _first_and_last_present(series: pd.Series) -> tuple[Any, Any] | None:
    """The first and last non-missing values (without scanning the whole column)."""
    values = series.to_numpy(dtype=object)
    first = next((v for v in values if not pd.isna(v)), None)
    if first is None:
        return None
    last = next(v for v in values[::-1] if not pd.isna(v))
    return first, last


def clean_numbers(series: pd.Series) -> np.ndarray:
    """A numeric column's finite values, as floats (missing and infinite values dropped)."""
    values = series.to_numpy(dtype=float, na_value=np.nan)
    return values[np.isfinite(values)]


def clean_values(series: pd.Series) -> pd.Series:
    """Drop missing and infinite values, as Evidently does before testing a column."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return pd.Series(clean_numbers(series))
    return series.dropna().reset_index(drop=True)


def choose_method(kind: str, reference_values: int, n_values: int) -> Method:
    """Evidently's default test for a column (``_get_default_stattest`` in its registry).

    Args:
        kind: the column type inferred on the current batch.
        reference_values: non-missing values in the reference column.
        n_values: distinct values in reference and current together.
    """
    if kind == TEXT:
        return TEXT_ABS if reference_values > SMALL_REFERENCE_VALUES else TEXT_PERC
    if reference_values <= SMALL_REFERENCE_VALUES:
        if kind == NUMERICAL and n_values > FEW_VALUES:
            return KS
        return CHI_SQUARE if n_values > 2 else Z_TEST
    if kind == NUMERICAL and n_values > FEW_VALUES:
        return WASSERSTEIN
    return JENSEN_SHANNON


def sorted_distinct(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and their counts of a sorted array (``np.unique`` minus the sort)."""
    if ordered.size == 0:
        return ordered, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    return ordered[starts], np.diff(np.append(starts, ordered.size))


def summarize_numbers(values: np.ndarray) -> dict[str, Any]:
    """Compact, exact-enough summary of a numeric reference column for the Wasserstein distance.

    Up to :data:`EXACT_VALUES_LIMIT` distinct values are kept with their counts (exact).
    Beyond that the :data:`TAIL_VALUES` smallest and largest values are kept exactly and the
    rest is cut into :data:`QUANTILE_ATOMS` equal-mass bins, each replaced by its mean: the
    Wasserstein distance moves by at most the mean absolute deviation inside a bin (about
    1e-5 standard deviations for normal or log-normal columns), far below Evidently's 0.1
    threshold.
    """
    ordered = np.sort(np.asarray(values, dtype=float))
    distinct, counts = sorted_distinct(ordered)
    summary: dict[str, Any] = {"std": float(np.std(ordered)), "n_unique": int(distinct.size)}
    if distinct.size <= EXACT_VALUES_LIMIT:
        summary.update(values=distinct, weights=counts.astype(float), exact=True)
        return summary
    # The extreme values, where a bin would span a long tail, are kept one by one.
    tail = min(TAIL_VALUES, ordered.size // 8)
    middle = ordered[tail : ordered.size - tail]
    starts = np.unique(np.linspace(0, middle.size, QUANTILE_ATOMS + 1).astype(np.int64)[:-1])
    sums = np.concatenate(
        [ordered[:tail], np.add.reduceat(middle, starts), ordered[ordered.size - tail :]]
    )
    sizes = np.concatenate(
        [np.ones(tail), np.diff(np.append(starts, middle.size)).astype(float), np.ones(tail)]
    )
    summary.update(values=sums / sizes, weights=sizes, exact=False)
    return summary


def wasserstein_distance(
    reference_values: np.ndarray, reference_weights: np.ndarray, current_sorted: np.ndarray
) -> float:
    """First Wasserstein distance between a weighted reference and a sample (scipy's value).

    The integral of |F_reference - F_current| over the merged support, as
    ``scipy.stats.wasserstein_distance`` computes it, but in one pass: the (few) reference
    points are inserted into the already sorted batch instead of re-sorting everything.

    Args:
        reference_values: sorted distinct reference values (or bin means).
        reference_weights: their counts (or bin sizes).
        current_sorted: every value of the batch, sorted.
    """
    n = current_sorted.size
    positions = np.searchsorted(current_sorted, reference_values, side="left")
    merged = np.insert(current_sorted, positions, reference_values)
    steps = np.insert(
        np.full(n, -1.0 / n), positions, reference_weights / np.sum(reference_weights)
    )
    cdf_gap = np.cumsum(steps)[:-1]
    return float(np.sum(np.abs(cdf_gap) * np.diff(merged)))


def normed_wasserstein(summary: dict[str, Any], current_sorted: np.ndarray) -> float:
    """Evidently's score: Wasserstein distance divided by max(reference std, 0.001).

    Args:
        summary: the reference column's summary (:func:`summarize_numbers`).
        current_sorted: the batch's values, sorted.
    """
    distance = wasserstein_distance(
        np.asarray(summary["values"], dtype=float),
        np.asarray(summary["weights"], dtype=float),
        current_sorted,
    )
    return distance / max(float(summary["std"]), 0.001)


def jensen_shannon(reference_counts: pd.Series, current_counts: pd.Series) -> float:
    """Jensen–Shannon distance (natural log) of two value-count tables, as Evidently computes it.

    Both tables are aligned on the union of their values; each is divided by its total.
    """
    joined = pd.concat(
        [reference_counts.rename("reference"), current_counts.rename("current")], axis=1, sort=False
    ).fillna(0.0)
    reference = joined["reference"].to_numpy(dtype=float)
    current = joined["current"].to_numpy(dtype=float)
    return _jensenshannon(reference / reference.sum(), current / current.sum())


def _jensenshannon(p: np.ndarray, q: np.ndarray) -> float:
    """``scipy.spatial.distance.jensenshannon(p, q)`` (natural log), without importing scipy."""
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2.0
    divergence = _relative_entropy(p, m) + _relative_entropy(q, m)
    return float(np.sqrt(divergence / 2.0))


def _relative_entropy(x: np.ndarray, y: np.ndarray) -> float:
    """Sum of ``scipy.special.rel_entr(x, y)`` for x >= 0, y > 0 where x > 0."""
    present = x > 0
    return float(np.sum(x[present] * np.log(x[present] / y[present])))
