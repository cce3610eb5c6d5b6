"""Consistency between columns: approximate functional dependencies, learned and checked.

Operational tables repeat an entity's attributes on each of its rows: every row of
provider ``010023`` has the same name, city and phone, every postcode lies in one city.
From the reference we learn which such dependencies ``key -> column`` hold (with a
support and a confidence, so one odd row does not hide a real one), and we decide with
them which text columns are *open* vocabularies (attributes of entities that keep
arriving) and which are closed sets.

In a batch, rows of the same key are checked together, also for keys the reference
never saw (a new entity): the minority value is the error and the majority the repair
when the majority is clear (at least 2 rows and 2/3 of the key's rows, the reference's
rows of the key counted as votes); otherwise the rows are held with the candidates
named. A row whose *key* is the odd one out (another entity's phone, say) implicates
its key cell in one dependency but its phone cell in many: each cell is judged by the
dependencies that point at it, and a finding whose key cell is more suspect than its
column cell is dropped. Great Expectations 1.x has no functional-dependency
expectation, so this check is halfcost's own code; its findings are reported in the
same shape as GX's (one entry per dependency in ``expectations``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from halfcost.automl._clean_profile import MAX_CATEGORIES, OPEN_NEW_SHARE
from halfcost.automl._clean_text import readable

#: Kinds whose values can be keys or dependents (text-like values, compared exactly).
DEPENDENCY_KINDS = ("identifier", "code", "categorical", "text", "boolean")
#: A dependency is kept when its key's repeated rows agree this often ...
MIN_CONFIDENCE = 0.97
#: ... and it says much more than the dependent's most common value would.
MIN_LIFT = 0.9
#: Rows in repeated keys needed before a dependency is believed.
MIN_SUPPORT_ROWS = 20
#: The majority that repairs: at least this many rows and this share of the key's rows.
MAJORITY_ROWS = 2
MAJORITY_SHARE = 2 / 3


def _codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 for missing) and the distinct values."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def _agreement(key: np.ndarray, value: np.ndarray, n_values: int) -> tuple[int, int]:
    """Rows in repeated keys (both present) and how many of them hold their key's majority."""
    ok = (key >= 0) & (value >= 0)
    key, value = key[ok], value[ok]
    if not len(key):
        return 0, 0
    sizes = np.bincount(key)
    repeated = sizes[key] >= 2
    key, value = key[repeated], value[repeated]
    if not len(key):
        return 0, 0
    pairs, counts = _count_pairs(key * n_values + value)
    pair_key = pairs // n_values
    starts = np.flatnonzero(np.diff(pair_key, prepend=-1) != 0)
    return len(key), int(np.maximum.reduceat(counts, starts).sum())


def _count_pairs(
    pair: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct pair codes, sorted, with their counts (or summed weights).

    ``np.unique(..., return_counts=True)`` by hashing (pandas' factorize), sorting only
    the distinct values instead of every row.
    """
    inverse, pairs = pd.factorize(pair, sort=True)
    counts = np.bincount(inverse, weights=weights, minlength=len(pairs))
    return pairs, counts.astype(np.int64)


def learn_dependencies(
    parsed: dict[str, pd.Series], profiles: dict[str, dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The approximate dependencies ``key -> column`` that hold in the reference.

    Returns:
        ``(dependencies, lookups)``: one dict per dependency (``key``, ``column``,
        ``support`` rows, ``confidence``), and the reference's distinct rows over the
        dependencies' columns with their counts (see :func:`_lookups`), so that the
        reference's rows of a key vote when the batch holds the key again.
    """
    eligible = [c for c, p in profiles.items() if p["kind"] in DEPENDENCY_KINDS]
    codes = {c: _codes(parsed[c]) for c in eligible}
    distinct = {c: len(codes[c][1]) for c in eligible}
    dependencies: list[dict[str, Any]] = []
    for key in eligible:
        if distinct[key] < 5:
            continue
        key_codes = codes[key][0]
        for column in eligible:
            if column == key or distinct[column] < 2:
                continue
            value_codes = codes[column][0]
            support, agreeing = _agreement(key_codes, value_codes, distinct[column])
            if support < MIN_SUPPORT_ROWS:
                continue
            confidence = agreeing / support
            present = value_codes[value_codes >= 0]
            baseline = np.bincount(present).max() / len(present)
            lift = (confidence - baseline) / (1 - baseline) if baseline < 1 else 0.0
            if confidence >= MIN_CONFIDENCE and lift >= MIN_LIFT:
                dependencies.append(
                    {
                        "key": key,
                        "column": column,
                        "support": int(support),
                        "confidence": round(float(confidence), 4),
                    }
                )
    return dependencies, _lookups(parsed, dependencies)


def _lookups(parsed: dict[str, pd.Series], dependencies: list[dict[str, Any]]) -> dict[str, Any]:
    """The reference's distinct rows over the dependencies' columns, with their counts.

    One table serves every key (``provider`` and ``phone`` share it): the vote of the
    reference for key ``k`` and column ``c`` is the count of its rows holding each value.
    Every key is kept, however many: with only some keys, a batch of a large reference's
    known entities would be judged on its own rows alone (two rows that disagree have no
    majority), which is what made large batches worse than small ones.
    """
    columns = list(dict.fromkeys(c for d in dependencies for c in (d["key"], d["column"])))
    if not columns:
        return {}
    frame = pd.DataFrame({c: parsed[c].astype(object) for c in columns})
    keys = list(dict.fromkeys(d["key"] for d in dependencies))
    frame = frame[frame[keys].notna().any(axis=1)]
    grouped = frame.groupby(columns, dropna=False, sort=True).size()
    table = grouped.reset_index(name="__rows__")
    return {
        "columns": columns,
        "rows": table["__rows__"].astype(int).tolist(),
        "values": {c: [_plain(v) for v in table[c].tolist()] for c in columns},
    }


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def decide_vocabularies(
    parsed: dict[str, pd.Series],
    profiles: dict[str, dict[str, Any]],
    dependencies: list[dict[str, Any]],
    *,
    fixed: set[str] = frozenset(),  # type: ignore[assignment]
) -> None:
    """Mark each categorical/text column ``vocabulary: closed`` or ``open``, with the reason.

    An attribute of an entity (a column some key determines) is counted once per entity:
    a city shared by one facility only is a singleton, however many rows it has. The
    Good-Turing estimate singletons / units is the share of new units expected to bring
    an unseen value; above :data:`OPEN_NEW_SHARE` (or with more than
    :data:`MAX_CATEGORIES` values) the vocabulary is open.
    """
    for column, profile in profiles.items():
        kind = profile["kind"]
        if kind not in ("categorical", "text"):
            continue
        values = parsed[column]
        keys = [
            d["key"]
            for d in dependencies
            if d["column"] == column and parsed[d["key"]].nunique() >= values.nunique()
        ]
        unit = "rows"
        if keys:
            key = max(keys, key=lambda k: parsed[k].nunique())
            pairs = pd.DataFrame({"k": parsed[key], "v": values}).dropna().drop_duplicates("k")
            values, unit = pairs["v"], f"entities ({key})"
        counts = values.dropna().value_counts()
        n_units = int(counts.sum())
        singletons = int((counts == 1).sum())
        new_share = singletons / n_units if n_units else 1.0
        if kind == "text" or len(counts) > MAX_CATEGORIES or new_share > OPEN_NEW_SHARE:
            profile["vocabulary"] = "open"
            why = f"{singletons} of {n_units} {unit} hold a value seen once"
            profile["vocabulary_reason"] = f"{why}: new values are expected"
        else:
            profile["vocabulary"] = "closed"
            profile["vocabulary_reason"] = (
                f"{len(counts)} values, {singletons} seen once in {n_units} {unit}"
            )
        if column in fixed:
            profile["vocabulary"] = "closed" if kind == "categorical" else "open"
            profile["vocabulary_reason"] = "set by the user"


# --- checking a batch -------------------------------------------------------------------


@dataclass
class DependencyFindings:
    """What the dependency check found in a batch.

    Attributes:
        repairs: column -> (rows, values): cells to set to their key's clear majority.
        held: column -> (rows, reasons): cells whose key has no clear majority.
        per_dependency: one dict per dependency: ``key``, ``column``, ``rows`` flagged.
    """

    repairs: dict[str, tuple[np.ndarray, np.ndarray]]
    held: dict[str, tuple[np.ndarray, np.ndarray]]
    per_dependency: list[dict[str, Any]]


#: The name halfcost's own dependency check goes by in reasons and reports.
DEPENDENCY_CHECK = "halfcost_expect_functional_dependency"


def _one_dependency(
    key_codes: np.ndarray,
    key_values: np.ndarray,
    column: tuple[np.ndarray, np.ndarray],
    reference: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    fill_missing: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows that disagree with their key, the majority value (or None), clear or not.

    ``column`` is the dependent column's :func:`_codes`, computed once per column.
    """
    value_codes, value_uniques = column
    n_rows = len(key_codes)
    n_keys = len(key_values)
    value_list = list(value_uniques)
    weights = np.ones(n_rows, dtype=np.int64)
    keys, values = key_codes, value_codes
    if reference is not None:  # the reference's rows of known keys vote too
        ref_keys, ref_values, ref_rows = reference
        extra = pd.Index(value_uniques).get_indexer(ref_values).astype(np.int64)
        unseen = extra < 0
        if unseen.any():  # values only the reference holds get codes after the batch's
            codes, uniques = pd.factorize(ref_values[unseen])
            extra[unseen] = codes + len(value_list)
            value_list.extend(uniques)
        keys = np.concatenate([key_codes, ref_keys])
        values = np.concatenate([value_codes, extra])
        weights = np.concatenate([weights, ref_rows])
    n_values = max(len(value_list), 1)
    ok = (keys >= 0) & (values >= 0) & (weights > 0)
    pairs, votes = _count_pairs(keys[ok] * n_values + values[ok], weights[ok])
    pair_key, pair_value = pairs // n_values, pairs % n_values
    distinct = np.bincount(pair_key, minlength=n_keys)
    total = np.bincount(pair_key, weights=votes, minlength=n_keys).astype(np.int64)
    order = np.lexsort((-votes, pair_key))
    ordered_key = pair_key[order]  # sorted: each key's best pair comes first
    first = np.flatnonzero(np.diff(ordered_key, prepend=-1) != 0)
    top_key = pair_key[order][first]
    best_votes = np.zeros(n_keys, dtype=np.int64)
    best_value = np.full(n_keys, -1, dtype=np.int64)
    best_votes[top_key] = votes[order][first]
    best_value[top_key] = pair_value[order][first]
    clear = (best_votes >= MAJORITY_ROWS) & (best_votes >= MAJORITY_SHARE * total)
    row_key = key_codes
    has_key = row_key >= 0
    safe_key = np.where(has_key, row_key, 0)
    disagree = has_key & (distinct[safe_key] > 1) & (value_codes >= 0)
    disagree &= value_codes != best_value[safe_key]
    unclear_rows = has_key & (distinct[safe_key] > 1) & ~clear[safe_key] & (value_codes >= 0)
    flagged = disagree | unclear_rows
    if fill_missing:
        flagged |= has_key & (value_codes < 0) & clear[safe_key] & (best_votes[safe_key] > 0)
    rows = np.flatnonzero(flagged)
    majority = np.array(
        [value_list[best_value[k]] if best_value[k] >= 0 else None for k in row_key[rows]],
        dtype=object,
    )
    is_clear = clear[row_key[rows]]
    # Where no value is a clear majority, every value of the key is a candidate.
    unclear_keys = set(row_key[rows][~is_clear].tolist())
    if unclear_keys:
        wanted = np.isin(pair_key, list(unclear_keys))
        candidates: dict[int, list[Any]] = {}
        for k, v in zip(pair_key[wanted], pair_value[wanted], strict=True):
            candidates.setdefault(int(k), []).append(value_list[v])
        for i in np.flatnonzero(~is_clear):
            majority[i] = tuple(candidates.get(int(row_key[rows[i]]), ()))
    return rows, majority, is_clear


def check_dependencies(
    prepared: pd.DataFrame,
    dependencies: list[dict[str, Any]],
    lookups: dict[str, Any],
    profiles: dict[str, dict[str, Any]],
) -> DependencyFindings:
    """Check every dependency within the batch (plus the reference's votes for known keys)."""
    n_rows = len(prepared)
    usable = [
        d for d in dependencies if d["key"] in prepared.columns and d["column"] in prepared.columns
    ]
    code_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def codes_of(column: str) -> tuple[np.ndarray, np.ndarray]:
        if column not in code_cache:
            code_cache[column] = _codes(prepared[column])
        return code_cache[column]

    votes = _ReferenceVotes(lookups)
    raw: list[tuple[dict[str, Any], np.ndarray, np.ndarray, np.ndarray]] = []
    for dependency in usable:
        key, column = dependency["key"], dependency["column"]
        key_codes, key_values = codes_of(key)
        reference = votes.for_dependency(key, column, key_values)
        nullable = bool(profiles.get(column, {}).get("nullable", True))
        rows, majority, clear = _one_dependency(
            key_codes, key_values, codes_of(column), reference, fill_missing=not nullable
        )
        raw.append((dependency, rows, majority, clear))
    raw, odd_keys = _odd_keys(raw, n_rows)
    columns = list(prepared.columns)
    position = {c: i for i, c in enumerate(columns)}
    suspicion = np.zeros((n_rows, len(columns)), dtype=np.int32)
    for dependency, rows, _, _ in raw:
        suspicion[rows, position[dependency["column"]]] += 1
    for key, (rows, _) in odd_keys.items():
        suspicion[rows, position[key]] += len(columns)
    proposals: dict[str, dict[int, list[tuple[Any, bool, str]]]] = {}
    per_dependency = []
    for dependency, rows, majority, clear in raw:
        key, column = dependency["key"], dependency["column"]
        own = suspicion[rows, position[column]]
        keep = own >= suspicion[rows, position[key]]
        kept_rows = rows[keep]
        per_dependency.append({**dependency, "rows": kept_rows})
        target = proposals.setdefault(column, {})
        for row, value, is_clear in zip(kept_rows, majority[keep], clear[keep], strict=True):
            target.setdefault(int(row), []).append((value, bool(is_clear), key))
    return _decide(proposals, prepared, per_dependency, odd_keys)


def _odd_keys(
    raw: list[tuple[dict[str, Any], np.ndarray, np.ndarray, np.ndarray]], n_rows: int
) -> tuple[list[tuple[dict[str, Any], np.ndarray, np.ndarray, np.ndarray]], dict[str, Any]]:
    """Rows whose *key* is the odd value: they disagree with the key's rows on most columns.

    A row holding another entity's address disagrees with that address's rows on every
    column the address determines; repairing them all would turn the row into the other
    entity. When a row disagrees with its key on at least 2 and more than half of the
    key's dependents, the key cell is the suspect (repaired through the row's other keys
    when they agree, else held) and the dependents are left alone.

    Returns:
        ``raw`` without those rows, and key column -> (rows, the dependents they disagree on).
    """
    by_key: dict[str, list[int]] = {}
    for i, (dependency, _, _, _) in enumerate(raw):
        by_key.setdefault(dependency["key"], []).append(i)
    odd: dict[str, Any] = {}
    drop: dict[int, np.ndarray] = {}
    for key, members in by_key.items():
        flags = np.zeros(n_rows, dtype=np.int32)
        for i in members:
            flags[raw[i][1]] += 1
        rows = np.flatnonzero((flags >= 2) & (2 * flags > len(members)))
        if not len(rows):
            continue
        dependents = [[] for _ in rows]
        for i in members:
            at = np.flatnonzero(np.isin(rows, raw[i][1]))
            for j in at:
                dependents[j].append(raw[i][0]["column"])
            drop[i] = rows if i not in drop else np.union1d(drop[i], rows)
        odd[key] = (rows, dependents)
    if not drop:
        return raw, odd
    kept = []
    for i, (dependency, rows, majority, clear) in enumerate(raw):
        if i in drop:
            keep = ~np.isin(rows, drop[i])
            rows, majority, clear = rows[keep], majority[keep], clear[keep]
        kept.append((dependency, rows, majority, clear))
    return kept, odd


class _ReferenceVotes:
    """The reference's votes (its ``lookups`` table) for the batch's keys, one dependency at a time.

    Each lookup column is factorized once and each key mapped onto the batch's key codes
    once, so the votes of one dependency are integer arithmetic (a pandas groupby over
    object values per dependency was a tenth of the whole check on 1M rows).
    """

    def __init__(self, lookup: dict[str, Any] | None) -> None:
        self.lookup = lookup or {}
        self.rows = np.asarray(self.lookup.get("rows", []), dtype=np.int64)
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._keys: dict[str, tuple[int, np.ndarray]] = {}

    def _column(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        if column not in self._codes:
            values = pd.Series(self.lookup["values"][column], dtype=object)
            self._codes[column] = _codes(values)
        return self._codes[column]

    def _key_rows(self, key: str, key_values: np.ndarray) -> np.ndarray:
        """Each lookup row's batch key code (-1 when the batch does not hold its key)."""
        cached = self._keys.get(key)
        if cached is None or cached[0] != id(key_values):
            codes, uniques = self._column(key)
            at = pd.Index(key_values).get_indexer(uniques).astype(np.int64)
            rows = np.where(codes >= 0, at[np.maximum(codes, 0)], -1)
            cached = (id(key_values), rows)
            self._keys[key] = cached
        return cached[1]

    def for_dependency(
        self, key: str, column: str, key_values: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The reference's votes on ``column`` for the batch's keys of ``key``.

        Returns ``(batch key codes, values, rows)``: one entry per (known key, value) pair
        in the order the lookup first holds it, ``rows`` the reference's rows holding that
        pair; None without a reference table.
        """
        values = self.lookup.get("values", {})
        if key not in values or column not in values:
            return None
        key_rows = self._key_rows(key, key_values)
        value_codes, value_uniques = self._column(column)
        ok = (key_rows >= 0) & (value_codes >= 0)
        n_values = max(len(value_uniques), 1)
        # factorize without sorting: the pairs in the order the lookup first holds them
        inverse, pairs = pd.factorize(key_rows[ok] * n_values + value_codes[ok])
        counts = np.bincount(inverse, weights=self.rows[ok], minlength=len(pairs))
        return pairs // n_values, value_uniques[pairs % n_values], counts.astype(np.int64)


def _decide(
    proposals: dict[str, dict[int, list[tuple[Any, bool, str]]]],
    prepared: pd.DataFrame,
    per_dependency: list[dict[str, Any]],
    odd_keys: dict[str, Any],
) -> DependencyFindings:
    """One decision per cell: repair when every dependency pointing at it agrees clearly.

    A key cell found odd (:func:`_odd_keys`) with no clear repair from the row's other
    keys is held.
    """
    repairs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    held: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for column in dict.fromkeys([*proposals, *odd_keys]):
        cells = proposals.get(column, {})
        fix_rows, fix_values, hold_rows, hold_reasons = [], [], [], []
        current = prepared[column]
        for row, votes in sorted(cells.items()):
            candidates = set()
            for value, _, _ in votes:
                candidates.update(value if isinstance(value, tuple) else [value])
            candidates.discard(None)
            keys = ", ".join(sorted({k for _, _, k in votes}))
            if all(c for _, c, _ in votes) and len(candidates) == 1:
                fix_rows.append(row)
                fix_values.append(next(iter(candidates)))
                continue
            named = " or ".join(readable(v) for v in sorted(candidates, key=str)) or "none"
            hold_rows.append(row)
            hold_reasons.append(
                f"{column}={readable(current.iloc[row])} disagrees with other rows of the same "
                f"{keys} and no value is a clear majority (candidates {named}) "
                f"({DEPENDENCY_CHECK})"
            )
        if column in odd_keys:
            for row, dependents in zip(*odd_keys[column], strict=True):
                if int(row) in cells:
                    continue
                hold_rows.append(int(row))
                hold_reasons.append(
                    f"{column}={readable(current.iloc[row])} looks like the value of another "
                    f"entity: the row disagrees on {', '.join(dependents)} with the other rows "
                    f"of that {column} ({DEPENDENCY_CHECK})"
                )
        if fix_rows:
            repairs[column] = (np.asarray(fix_rows), np.asarray(fix_values, dtype=object))
        if hold_rows:
            order = np.argsort(hold_rows, kind="stable")
            held[column] = (
                np.asarray(hold_rows)[order],
                np.asarray(hold_reasons, dtype=object)[order],
            )
    return DependencyFindings(repairs=repairs, held=held, per_dependency=per_dependency)
