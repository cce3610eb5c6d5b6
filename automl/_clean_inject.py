"""A seeded error injector: dirty a clean batch and record exactly what was done.

Used by the cleaning benchmark, the tests and the demo. Each dirty row gets exactly one
error kind (see :data:`ERROR_KINDS`), and the returned truth table says which row got
which kind on which column, so a cleaner's catch rate can be measured. The injector
decides what counts as an error from the frame itself (dtypes, nulls, signs), not from
a learned suite, so the measurement is not circular.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

ERROR_KINDS = ("null", "outlier", "typo", "unseen_category", "garbage", "duplicate")
MAX_CATEGORIES = 50
_GARBAGE = ("#REF!", "n/a?", "12abc", "--", "??", "1.2.3", "NaN%", "error")


def _typo(value: str, rng: np.random.Generator) -> str:
    """A misspelling a human might make: case/spacing, or one character dropped/doubled/swapped."""
    how = int(rng.integers(0, 5))
    if how == 0:
        return f" {value.upper()} "
    if how == 1:
        return value.capitalize() + " "
    if len(value) < 4:
        return value.upper()
    i = int(rng.integers(1, len(value) - 1))
    if how == 2:
        return value[:i] + value[i + 1 :]
    if how == 3:
        return value[:i] + value[i] + value[i:]
    return value[: i - 1] + value[i] + value[i - 1] + value[i + 1 :]


def _column_groups(frame: pd.DataFrame, columns: Sequence[str] | None) -> dict:
    """Which columns each kind can use, plus per-column facts, from the clean frame."""
    names = [str(c) for c in (columns if columns is not None else frame.columns)]
    numeric, categorical, not_null = [], [], []
    typical, never_negative, known = {}, {}, {}
    for name in names:
        series = frame[name]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            numeric.append(name)
            typical[name] = float(series.abs().median())
            never_negative[name] = bool((series.dropna() >= 0).all())
        elif pd.api.types.is_object_dtype(series) and series.nunique() <= MAX_CATEGORIES:
            categorical.append(name)
            known[name] = set(series.dropna().unique())
        if series.notna().all():
            not_null.append(name)
    return {
        "numeric": numeric,
        "categorical": categorical,
        "not_null": not_null,
        "typical": typical,
        "never_negative": never_negative,
        "known": known,
    }


def inject_errors(
    frame: pd.DataFrame,
    *,
    share: float = 0.05,
    seed: int = 0,
    columns: Sequence[str] | None = None,
    kinds: Sequence[str] = ERROR_KINDS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(dirty_frame, truth)`` with errors in ``share`` of the rows, one kind per row.

    Kinds: ``null`` (a null in a column that has none), ``outlier`` (a value x1000, or
    negated in a column that is never negative), ``typo`` (a misspelt category),
    ``unseen_category`` (a category that does not exist), ``garbage`` (a string in a
    numeric column), ``duplicate`` (the row becomes an exact copy of an earlier,
    untouched row).

    Args:
        frame: a clean batch; it is not modified.
        share: fraction of rows to dirty (0..1).
        seed: random seed; the same seed gives the same errors.
        columns: columns errors may go into (default: all).
        kinds: the error kinds to use, spread evenly over the dirty rows.

    Returns:
        The dirty frame (same shape, same index) and a truth table with one row per dirty
        row: ``row`` (0-based position), ``kind``, ``column`` (None for duplicates),
        ``before``, ``after`` (for duplicates: the row number it copies).
    """
    if not 0 <= share <= 1:
        raise ValueError(f"share must be in [0, 1], but got {share}.")
    rng = np.random.default_rng(seed)
    dirty = frame.copy().reset_index(drop=True)
    n_rows = len(dirty)
    groups = _column_groups(dirty, columns)
    usable = [k for k in kinds if _applicable(k, groups)]
    n_errors = min(round(share * n_rows), max(n_rows - 1, 0))
    # Row 0 is never dirtied, so a duplicate always has an earlier clean row to copy.
    rows = (
        np.sort(rng.choice(np.arange(1, n_rows), size=n_errors, replace=False)) if n_errors else []
    )
    assigned = (
        rng.permutation(np.resize(np.array(usable, dtype=object), n_errors)) if usable else []
    )
    touched = np.zeros(n_rows, dtype=bool)
    touched[np.asarray(rows, dtype=np.int64)] = True
    records: list[dict] = []
    for kind in usable:
        kind_rows = np.asarray(rows)[np.asarray(assigned) == kind]
        records.extend(_INJECTORS[kind](dirty, kind_rows, groups, rng, touched))
    truth = pd.DataFrame(records, columns=["row", "kind", "column", "before", "after"])
    dirty.index = frame.index
    return dirty, truth.sort_values("row", ignore_index=True)


def _applicable(kind: str, groups: dict[str, list[str]]) -> bool:
    needs = {
        "null": "not_null",
        "outlier": "numeric",
        "typo": "categorical",
        "unseen_category": "categorical",
        "garbage": "numeric",
        "duplicate": None,
    }[kind]
    return needs is None or bool(groups[needs])


def _set(dirty: pd.DataFrame, row: int, column: str, value: object) -> object:
    before = dirty.at[row, column]
    if isinstance(value, str) and not pd.api.types.is_object_dtype(dirty[column]):
        dirty[column] = dirty[column].astype(object)
    dirty.at[row, column] = value
    return before


def _inject_null(dirty, rows, groups, rng, touched):
    out = []
    for row in rows:
        column = str(rng.choice(groups["not_null"]))
        if pd.api.types.is_integer_dtype(dirty[column]):
            dirty[column] = dirty[column].astype(float)
        before = _set(dirty, int(row), column, None)
        out.append(
            {"row": int(row), "kind": "null", "column": column, "before": before, "after": None}
        )
    return out


def _inject_outlier(dirty, rows, groups, rng, touched):
    out = []
    for row in rows:
        candidates = [c for c in groups["numeric"] if _outlier_ok(dirty, int(row), c, groups)]
        column = str(rng.choice(candidates or groups["numeric"]))
        value = dirty.at[int(row), column]
        if isinstance(value, str) or pd.isna(value) or value == 0:
            value = groups["typical"][column] or 1.0
        negate = groups["never_negative"][column] and rng.random() < 0.5
        new = -abs(value) if negate else value * 1000
        if pd.api.types.is_integer_dtype(dirty[column]):
            new = int(new)
        before = _set(dirty, int(row), column, new)
        out.append(
            {"row": int(row), "kind": "outlier", "column": column, "before": before, "after": new}
        )
    return out


def _outlier_ok(dirty: pd.DataFrame, row: int, column: str, groups: dict) -> bool:
    """A value big enough that x1000 leaves the column's range (not 0, not tiny)."""
    value = dirty.at[row, column]
    if isinstance(value, str) or pd.isna(value):
        return False
    return abs(float(value)) >= max(groups["typical"][column], 1e-9)


def _inject_typo(dirty, rows, groups, rng, touched):
    out = []
    for row in rows:
        candidates = [c for c in groups["categorical"] if isinstance(dirty.at[int(row), c], str)]
        if not candidates:
            continue
        column = str(rng.choice(candidates))
        before = dirty.at[int(row), column]
        known = groups["known"][column]
        new = _typo(before, rng)
        for _ in range(5):  # a typo that spells another category is no typo
            if new not in known:
                break
            new = _typo(before, rng)
        _set(dirty, int(row), column, new)
        out.append(
            {"row": int(row), "kind": "typo", "column": column, "before": before, "after": new}
        )
    return out


def _inject_unseen(dirty, rows, groups, rng, touched):
    out = []
    for row in rows:
        column = str(rng.choice(groups["categorical"]))
        new = f"unseen-{int(rng.integers(1000, 9999))}-qx"
        before = _set(dirty, int(row), column, new)
        out.append(
            {
                "row": int(row),
                "kind": "unseen_category",
                "column": column,
                "before": before,
                "after": new,
            }
        )
    return out


def _inject_garbage(dirty, rows, groups, rng, touched):
    out = []
    for row in rows:
        column = str(rng.choice(groups["numeric"]))
        new = str(rng.choice(_GARBAGE))
        before = _set(dirty, int(row), column, new)
        out.append(
            {"row": int(row), "kind": "garbage", "column": column, "before": before, "after": new}
        )
    return out


def _inject_duplicate(dirty, rows, groups, rng, touched):
    """Make each row an exact copy of a random earlier untouched row (column by column)."""
    rows = np.asarray(rows, dtype=np.int64)
    if not len(rows):
        return []
    clean_rows = np.flatnonzero(~touched)
    n_before = np.searchsorted(clean_rows, rows)  # >= 1: row 0 is never touched
    sources = clean_rows[(rng.random(len(rows)) * n_before).astype(np.int64)]
    for j in range(dirty.shape[1]):
        dirty.iloc[rows, j] = dirty.iloc[sources, j].to_numpy()
    return [
        {"row": int(r), "kind": "duplicate", "column": None, "before": None, "after": int(s)}
        for r, s in zip(rows, sources, strict=True)
    ]


_INJECTORS = {
    "null": _inject_null,
    "outlier": _inject_outlier,
    "typo": _inject_typo,
    "unseen_category": _inject_unseen,
    "garbage": _inject_garbage,
    "duplicate": _inject_duplicate,
}
