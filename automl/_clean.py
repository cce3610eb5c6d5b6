"""Clean a batch against a suite: repair what needs no guessing, validate with Great
Expectations, and quarantine every row that still fails, with the reason.

The flow for one frame:

1. prepare: parse numbers and dates, fix category spelling (:mod:`._clean_repair`);
2. validate the prepared frame with GX itself, one suite run, ``result_format`` COMPLETE;
   GX's ``unexpected_index_list`` says which rows failed which expectation;
3. apply the policy per column (quarantine, impute, ignore); for uniqueness checks the
   first occurrence stays and later copies are quarantined ("duplicate of row N");
4. split: clean rows (repaired values, input order) and quarantined rows (raw values),
   each with ``halfcost_row``; every input row lands in exactly one of the two.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from halfcost import __version__
from halfcost.automl._clean_policy import CleaningPolicy, ColumnPolicy
from halfcost.automl._clean_profile import (
    NOW_PARAMETER,
    NUMERIC_KINDS,
    SUITE_META_KEY,
    VOCABULARY_KINDS,
    suite_columns,
)
from halfcost.automl._clean_repair import ColumnRepair, RepairOutcome, default_repairs
from halfcost.automl._clean_text import is_text, readable, with_missing
from halfcost.errors import BadInputError
from halfcost.records import CleanReport, DataLineage
from halfcost.tables import column_difference

ROW_COLUMN = "halfcost_row"
REASON_COLUMN = "halfcost_reason"
# Timestamps without a zone may be local time: allow one day before calling a date future.
FUTURE_SLACK = timedelta(days=1)
RESULT_FORMAT = {
    "result_format": "COMPLETE",
    # The row numbers are all we need; GX would otherwise also build value lists and a
    # pandas query string per expectation, which costs seconds on a million rows.
    "return_unexpected_index_query": False,
    "exclude_unexpected_values": True,
}
EXAMPLES_PER_CHECK = 5

_CHECK_OF_TYPE = {
    "expect_column_values_to_not_be_null": "not_null",
    "expect_column_values_to_be_unique": "unique",
    "expect_compound_columns_to_be_unique": "duplicate_rows",
    "expect_column_values_to_be_between": "range",
    "expect_column_values_to_be_in_set": "category",
    "expect_table_columns_to_match_set": "columns",
    "expect_column_values_to_match_regex": "pattern",
    "expect_column_values_to_be_null": "still_empty",
}
_IMPUTABLE_CHECKS = ("not_null", "range", "category", "not_future", "unparseable", "pattern")
# An open column's close spelling of a frequent value is a new value that looks like a
# known one (Smyth beside Smith): reported, and held only when new values are.
_NEW_VALUE_CHECKS = ("category", "new_value", "suspected_typo")
#: The type halfcost's own dependency check reports under, beside GX's expectation types.
DEPENDENCY_TYPE = "halfcost_expect_functional_dependency"


@dataclass
class CleanResult:
    """The outcome of :func:`clean_frame`.

    Attributes:
        clean: rows that passed or were repaired, input order, with ``halfcost_row``.
        quarantine: rows held back, raw values, with ``halfcost_row`` and ``halfcost_reason``.
        report: the report.json content (counts per expectation and per column, repairs).
    """

    clean: pd.DataFrame
    quarantine: pd.DataFrame
    report: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Finding:
    """Rows failing one check on one column (or on whole rows)."""

    check: str
    column: str | None
    rows: np.ndarray
    reasons: np.ndarray
    expectation: int | None = None


# --- Great Expectations -------------------------------------------------------------------

_GX_STATE: dict[str, Any] = {}


def _batch_definition() -> Any:
    """One ephemeral GX context and whole-dataframe batch definition per process."""
    if "batch_definition" not in _GX_STATE:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        asset = context.data_sources.add_pandas("halfcost").add_dataframe_asset("batch")
        _GX_STATE["batch_definition"] = asset.add_batch_definition_whole_dataframe("whole")
    return _GX_STATE["batch_definition"]


def run_gx(
    frame: pd.DataFrame, suite: Any, *, now: datetime, result_format: dict | None = None
) -> list[Any]:
    """Validate ``frame`` with GX against ``suite``; returns results in the suite's order."""
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    validation = batch.validate(
        suite,
        result_format=result_format or RESULT_FORMAT,
        expectation_parameters={NOW_PARAMETER: now},
    )
    return _in_suite_order(suite, validation.results)


def _domain(config: Any) -> tuple[str, Any]:
    kwargs = config.kwargs
    columns = kwargs.get("column_list")
    return config.type, kwargs.get("column", tuple(columns) if columns else None)


def _in_suite_order(suite: Any, results: Sequence[Any]) -> list[Any]:
    """GX reorders results; match each back to its expectation by type and column(s)."""
    slots: dict[tuple[str, Any], list[int]] = {}
    for i, expectation in enumerate(suite.expectations):
        slots.setdefault(_domain(expectation.configuration), []).append(i)
    ordered: list[Any] = [None] * len(suite.expectations)
    for result in results:
        queue = slots.get(_domain(result.expectation_config))
        if queue:
            ordered[queue.pop(0)] = result
    return ordered


def _check_name(expectation: Any) -> str:
    meta = (expectation.meta or {}).get(SUITE_META_KEY) or {}
    return str(meta.get("check") or _CHECK_OF_TYPE.get(expectation.expectation_type, "other"))


# --- preparing the frame ------------------------------------------------------------------


def expected_columns(suite: Any) -> list[str] | None:
    """The column set the suite expects (from its table expectation or its meta)."""
    for expectation in suite.expectations:
        if expectation.expectation_type == "expect_table_columns_to_match_set":
            return [str(c) for c in expectation.configuration.kwargs["column_set"]]
    columns = suite_columns(suite)
    return list(columns) if columns else None


def check_columns(frame: pd.DataFrame, expected: Sequence[str] | None, *, what: str) -> None:
    """Raise BadInputError naming the columns missing from or extra in ``frame``."""
    if expected is None:
        return
    have = [str(c) for c in frame.columns]
    missing = [c for c in expected if c not in have]
    extra = [c for c in have if c not in expected]
    difference = column_difference(missing, extra)
    if difference:
        raise BadInputError(
            f"the data's columns differ from {what}: {difference}; "
            "give data with the same columns (or learn a new suite)."
        )


def _known_values(suite: Any) -> dict[str, list[Any]]:
    """Column -> allowed values, from the suite's in-set expectations (user edits win)."""
    known: dict[str, list[Any]] = {}
    for expectation in suite.expectations:
        if expectation.expectation_type == "expect_column_values_to_be_in_set":
            kwargs = expectation.configuration.kwargs
            value_set = kwargs.get("value_set")
            if isinstance(value_set, list):
                known.setdefault(str(kwargs["column"]), []).extend(value_set)
    return known


def _prepare(
    frame: pd.DataFrame,
    profiles: dict[str, dict[str, Any]],
    policy: CleaningPolicy,
    known: dict[str, list[Any]],
    repairs: Sequence[ColumnRepair],
) -> tuple[pd.DataFrame, dict[str, RepairOutcome]]:
    prepared = frame.copy(deep=False)
    outcomes: dict[str, RepairOutcome] = {}
    for column in map(str, frame.columns):
        prepared[column] = with_missing(frame[column])  # a copy only where cells are empty
    for column, profile in profiles.items():
        if column not in frame.columns:
            continue
        for repair in repairs:
            if repair.applies(profile):
                outcome = repair.repair(
                    frame[column], profile, policy.for_column(column), known.get(column, [])
                )
                prepared[column] = outcome.values
                outcomes[column] = outcome
                break
    return prepared, outcomes


# --- findings -----------------------------------------------------------------------------


def _show(values: pd.Series) -> np.ndarray:
    """Readable forms of values for reasons (:func:`readable`: no reprs, no quotes)."""
    return np.array([readable(v) for v in values], dtype=object)


def _plain(value: Any) -> Any:
    """A value as JSON holds it: numbers and strings as they are, NaN/NaT as null."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    return value


def _plain_values(values: pd.Series | np.ndarray) -> np.ndarray:
    """The values themselves for the report (never reprs, never cut)."""
    return np.array([_plain(v) for v in np.asarray(values, dtype=object)], dtype=object)


def _later_copies(
    frame: pd.DataFrame, rows: np.ndarray, columns: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Among flagged duplicate rows, the later copies and the row each one repeats."""
    rows = np.sort(rows)
    if len(rows) == 0:
        return rows, rows
    subset = frame.iloc[rows][columns]
    group = subset.groupby(columns, dropna=False, sort=False).ngroup().to_numpy()
    first = pd.Series(rows).groupby(group).transform("min").to_numpy()
    later = rows != first
    return rows[later], first[later]


def _problem(check: str, kwargs: dict[str, Any], now: datetime) -> str:
    if check == "not_null":
        return "is missing"
    if check == "range":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        return f"is outside [{'-inf' if low is None else low}, {'inf' if high is None else high}]"
    if check == "category":
        return "is not a known category"
    if check == "not_future":
        return f"is in the future (after {now:%Y-%m-%d %H:%M} UTC)"
    if check == "pattern":
        return f"does not match the code pattern {kwargs.get('regex')}"
    if check == "still_empty":
        return "is filled in a column that is empty in the reference"
    if check == "new_value":
        return "is a value never seen in the reference"
    return "fails the check"


def _expectation_findings(
    index: int,
    expectation: Any,
    result: Any,
    frame: pd.DataFrame,
    prepared: pd.DataFrame,
    outcomes: dict[str, RepairOutcome],
    now: datetime,
) -> list[_Finding]:
    """Turn one GX result's unexpected_index_list into findings with per-row reasons."""
    rows = np.asarray(result.result.get("unexpected_index_list") or [], dtype=np.int64)
    if len(rows) == 0:
        return []
    check = _check_name(expectation)
    config = expectation.configuration
    kind = config.type
    column = config.kwargs.get("column")
    if check == "duplicate_rows":
        columns = [str(c) for c in config.kwargs["column_list"]]
        later, first = _later_copies(prepared, rows, columns)
        reasons = np.array([f"duplicate of row {n}" for n in first], dtype=object)
        return [_Finding(check, None, later, reasons, index)]
    if column is None:
        columns = config.kwargs.get("column_list") or []
        reason = f"row fails {kind}({', '.join(map(str, columns))})"
        return [_Finding(check, None, rows, np.full(len(rows), reason, dtype=object), index)]
    column = str(column)
    if check == "not_null" and column in outcomes:
        rows = rows[~outcomes[column].unparseable[rows]]
    if check == "unique":
        later, first = _later_copies(prepared, rows, [column])
        shown = _show(frame[column].iloc[later])
        reasons = np.array(
            [
                f"{column}={v} duplicates row {n} ({kind})"
                for v, n in zip(shown, first, strict=True)
            ],
            dtype=object,
        )
        return [_Finding(check, column, later, reasons, index)]
    problem = _problem(check, dict(config.kwargs), now)
    # A range is about the parsed number; elsewhere the value as it came is clearer.
    source = prepared if check == "range" and column in outcomes else frame
    shown = _show(source[column].iloc[rows])
    reasons = np.array([f"{column}={v} {problem} ({kind})" for v in shown], dtype=object)
    return [_Finding(check, column, rows, reasons, index)]


def _unparseable_findings(
    frame: pd.DataFrame, outcomes: dict[str, RepairOutcome]
) -> list[_Finding]:
    findings = []
    for column, outcome in outcomes.items():
        rows = np.flatnonzero(outcome.unparseable)
        if len(rows):
            shown = _show(frame[column].iloc[rows])
            reasons = np.array(
                [f"{column}={v} {outcome.problem} (unparseable)" for v in shown], dtype=object
            )
            findings.append(_Finding("unparseable", column, rows, reasons))
    return findings


def _impute_value(column: str, profile: dict[str, Any], policy: ColumnPolicy) -> Any:
    """The value an ``impute`` policy writes into a bad cell of ``column``."""
    statistic = policy.impute
    numeric = profile.get("kind") in NUMERIC_KINDS
    if statistic is None:
        statistic = "median" if numeric else "mode"
    if statistic in ("median", "mean", "mode"):
        value = profile.get(statistic)
        if value is None:
            raise BadInputError(
                f"cannot impute the {statistic} of column {column!r} (kind "
                f"{profile.get('kind')!r}); use impute: mode or a constant in the policy."
            )
        return value
    return statistic


# --- consistency: dependencies between columns and typos inside the batch ----------------


@dataclass
class _Consistency:
    """Findings and report entries of the checks halfcost runs besides GX."""

    findings: list[_Finding] = field(default_factory=list)
    dependency_entries: list[dict[str, Any]] = field(default_factory=list)
    typos: list[dict[str, Any]] = field(default_factory=list)

    def entries(self, start: int) -> list[dict[str, Any]]:
        """The dependency checks as expectation entries (indices after GX's)."""
        for i, entry in enumerate(self.dependency_entries):
            entry["index"] = start + i
        return self.dependency_entries


def _merge_repair(
    prepared: pd.DataFrame,
    outcomes: dict[str, RepairOutcome],
    column: str,
    rows: np.ndarray,
    values: np.ndarray,
    how: str,
) -> None:
    """Add repairs of ``column`` found after parsing (validated by GX like any other)."""
    n_rows = len(prepared)
    current = outcomes.get(column)
    new_values = prepared[column].astype(object).copy()
    new_values.iloc[rows] = values
    repaired = current.repaired.copy() if current else np.zeros(n_rows, dtype=bool)
    unparseable = current.unparseable.copy() if current else np.zeros(n_rows, dtype=bool)
    repaired[rows] = True
    unparseable[rows] = False
    if current is not None and current.how is not None:
        hows = current.how.reindex(prepared.index).astype(object)
    else:
        hows = pd.Series(None, index=prepared.index, dtype=object)
    hows.iloc[rows] = how
    problem = current.problem if current else "cannot be parsed"
    outcomes[column] = RepairOutcome(new_values, repaired, unparseable, hows, problem)
    prepared[column] = new_values


def _consistency(
    prepared: pd.DataFrame,
    suite: Any,
    profiles: dict[str, dict[str, Any]],
    outcomes: dict[str, RepairOutcome],
) -> _Consistency:
    """Check the learned dependencies and look for typos inside the batch.

    Clear repairs go into ``prepared`` (so GX validates them); the rest are findings.
    """
    from halfcost.automl._clean_fd import check_dependencies
    from halfcost.automl._clean_typos import find_batch_typos

    out = _Consistency()
    meta = (suite.meta or {}).get(SUITE_META_KEY) or {}
    dependencies = meta.get("dependencies") or []
    if dependencies and len(prepared):
        found = check_dependencies(prepared, dependencies, meta.get("lookups") or {}, profiles)
        for column, (rows, values) in found.repairs.items():
            _merge_repair(prepared, outcomes, column, rows, values, "majority of the same key")
        for column, (rows, reasons) in found.held.items():
            out.findings.append(_Finding("dependency", column, rows, reasons))
        fixed = {c: r for c, (r, _) in found.repairs.items()}
        held = {c: r for c, (r, _) in found.held.items()}
        for dependency in found.per_dependency:
            out.dependency_entries.append(
                _dependency_entry(dependency, prepared, fixed, held, outcomes)
            )
    for column, profile in profiles.items():
        if profile.get("kind") not in VOCABULARY_KINDS or column not in prepared.columns:
            continue
        pairs = find_batch_typos(prepared[column], profile.get("categories") or [])
        if pairs:
            _typo_findings(out, prepared, outcomes, column, profile, pairs)
    return out


def _dependency_entry(
    dependency: dict[str, Any],
    prepared: pd.DataFrame,
    fixed: dict[str, np.ndarray],
    held: dict[str, np.ndarray],
    outcomes: dict[str, RepairOutcome],
) -> dict[str, Any]:
    """One dependency's result, in the shape of a GX expectation entry."""
    key, column, rows = dependency["key"], dependency["column"], dependency["rows"]
    before = outcomes[column].values if column in outcomes else prepared[column]
    shown = rows[:EXAMPLES_PER_CHECK]
    return {
        "index": None,
        "type": DEPENDENCY_TYPE,
        "check": "dependency",
        "column": column,
        "kwargs": {
            "key": key,
            "column": column,
            "support": dependency["support"],
            "confidence": dependency["confidence"],
        },
        "success": not len(rows),
        "unexpected_count": len(rows),
        "repaired_rows": int(np.isin(rows, fixed.get(column, [])).sum()),
        "quarantined_rows": int(np.isin(rows, held.get(column, [])).sum()),
        "ignored_rows": 0,
        "imputed_rows": 0,
        "examples": [
            {
                "row": int(r),
                "key": _plain(prepared[key].iloc[r]),
                "value": _plain(before.iloc[r]),
            }
            for r in shown
        ],
    }


def _typo_findings(
    out: _Consistency,
    prepared: pd.DataFrame,
    outcomes: dict[str, RepairOutcome],
    column: str,
    profile: dict[str, Any],
    pairs: dict[str, tuple[str, int]],
) -> None:
    """Closed vocabulary: repair to the frequent value. Open: report the pair and hold."""
    values = prepared[column]
    rows = np.flatnonzero(values.isin(list(pairs)).to_numpy())
    closed = profile.get("vocabulary") != "open"
    for value, (target, seen) in pairs.items():
        out.typos.append(
            {
                "column": column,
                "value": value,
                "close_to": target,
                "close_to_rows": seen,
                "action": "repaired" if closed else "held",
            }
        )
    found = values.iloc[rows]
    if closed:
        targets = found.map(lambda v: pairs[v][0]).to_numpy(dtype=object)
        _merge_repair(prepared, outcomes, column, rows, targets, "typo of a frequent value")
        return
    reasons = np.array(
        [
            f"{column}={readable(v)} looks like a typo of {readable(pairs[v][0])} "
            f"({pairs[v][1]} rows) "
            "and no key ties them (suspected_typo; new_values: quarantine)"
            for v in found
        ],
        dtype=object,
    )
    out.findings.append(_Finding("suspected_typo", column, rows, reasons))


# --- the cleaner --------------------------------------------------------------------------


def _empty_counts() -> dict[str, int]:
    return {"failures": 0, "quarantined_rows": 0, "repaired_rows": 0, "imputed_rows": 0}


@dataclass
class _Ledger:
    """Row-level bookkeeping while findings are applied."""

    n_rows: int
    quarantine: np.ndarray = field(init=False)
    repaired: np.ndarray = field(init=False)
    reason_rows: list[np.ndarray] = field(default_factory=list)
    reason_texts: list[np.ndarray] = field(default_factory=list)
    reason_columns: list[str | None] = field(default_factory=list)
    repairs: list[pd.DataFrame] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.quarantine = np.zeros(self.n_rows, dtype=bool)
        self.repaired = np.zeros(self.n_rows, dtype=bool)

    def hold(self, rows: np.ndarray, reasons: np.ndarray, column: str | None) -> None:
        self.quarantine[rows] = True
        self.reason_rows.append(rows)
        self.reason_texts.append(reasons)
        self.reason_columns.append(column)

    def rows_by_column(self) -> dict[str, int]:
        """Column -> number of distinct rows held back for a failure on it."""
        rows: dict[str, np.ndarray] = {}
        for column, held in zip(self.reason_columns, self.reason_rows, strict=True):
            if column is not None:
                rows[column] = np.union1d(rows.get(column, np.array([], dtype=np.int64)), held)
        return {column: len(r) for column, r in rows.items()}

    def record_repairs(
        self, column: str, rows: np.ndarray, before: pd.Series, after: pd.Series, how: Any
    ) -> None:
        self.repaired[rows] = True
        self.repairs.append(
            pd.DataFrame(
                {
                    "row": rows,
                    "column": column,
                    "from": _plain_values(before),
                    "to": _plain_values(after),
                    "how": np.asarray(how, dtype=object)
                    if not isinstance(how, str)
                    else np.full(len(rows), how, dtype=object),
                }
            )
        )

    def reasons(self) -> pd.Series:
        """Row -> its reasons joined with '; ' (vectorised: most rows have one reason)."""
        if not self.reason_rows:
            return pd.Series(dtype=object)
        rows = np.concatenate(self.reason_rows)
        texts = np.concatenate(self.reason_texts)
        order = np.argsort(rows, kind="stable")
        rows, texts = rows[order], texts[order]
        unique_rows, starts, counts = np.unique(rows, return_index=True, return_counts=True)
        joined = texts[starts].copy()
        for i in np.flatnonzero(counts > 1):
            joined[i] = "; ".join(dict.fromkeys(texts[starts[i] : starts[i] + counts[i]]))
        return pd.Series(joined, index=unique_rows, dtype=object)


def clean_frame(
    frame: pd.DataFrame,
    suite: Any,
    policy: CleaningPolicy | None = None,
    *,
    repairs: Sequence[ColumnRepair] | None = None,
    now: datetime | None = None,
) -> CleanResult:
    """Validate ``frame`` against ``suite`` with Great Expectations; repair or quarantine.

    Args:
        frame: the batch to clean (any index; rows are numbered 0..n-1 in input order).
        suite: a GX ``ExpectationSuite`` (see :func:`learn_suite`, :func:`load_suite`).
        policy: per-column actions; the default repairs what needs no guessing and
            quarantines the rest.
        repairs: the column repairs to apply (default :func:`default_repairs`).
        now: the time 'not in the future' is measured against (default: now, UTC).

    Returns:
        A :class:`CleanResult`; ``len(clean) + len(quarantine) == len(frame)`` and every
        row number appears exactly once across the two.

    Raises:
        BadInputError: the frame's columns differ from the suite's, an expectation cannot
            run on the data, or the policy cannot apply to a column.
    """
    started = time.perf_counter()
    policy = policy or CleaningPolicy()
    now = now or datetime.now(UTC).replace(tzinfo=None)
    check_columns(frame, expected_columns(suite), what="the suite")
    policy.check_columns([str(c) for c in frame.columns])
    if not frame.index.equals(pd.RangeIndex(len(frame))):
        frame = frame.reset_index(drop=True)
    profiles = suite_columns(suite)
    for column in map(str, frame.columns):  # fail before the slow part, not after
        if policy.for_column(column).action == "impute":
            _impute_value(column, profiles.get(column, {}), policy.for_column(column))
    prepared, outcomes = _prepare(
        frame, profiles, policy, _known_values(suite), repairs or default_repairs()
    )
    consistency = _consistency(prepared, suite, profiles, outcomes)
    validated_at = time.perf_counter()
    results = run_gx(prepared, suite, now=now + FUTURE_SLACK) if len(frame) else []
    validation_s = time.perf_counter() - validated_at

    ledger = _Ledger(len(frame))
    columns_report = {
        str(c): {"kind": profiles.get(str(c), {}).get("kind"), **_empty_counts()}
        for c in frame.columns
    }
    # Every cell is written as it was read; only repaired and imputed cells change.
    output = frame.copy()

    findings = _unparseable_findings(frame, outcomes)
    expectation_reports = []
    for index, expectation in enumerate(suite.expectations):
        result = results[index] if results else None
        expectation_reports.append(_expectation_entry(index, expectation, result, frame))
        if result is None:
            continue
        _raise_if_errored(expectation, result)
        findings.extend(
            _expectation_findings(
                index, expectation, result, frame, prepared, outcomes, now + FUTURE_SLACK
            )
        )

    findings.extend(consistency.findings)
    expectation_reports.extend(consistency.entries(len(expectation_reports)))
    findings.extend(_record_repairs(outcomes, policy, frame, ledger, output, profiles))
    duplicate_rows = _apply_findings(
        findings, ledger, output, policy, profiles, frame, columns_report, expectation_reports
    )
    reasons = ledger.reasons()
    if len(duplicate_rows):
        reasons.loc[duplicate_rows.index] = duplicate_rows
    return _assemble(
        frame,
        output,
        ledger,
        reasons,
        columns_report,
        expectation_reports,
        policy,
        profiles,
        consistency,
        n_duplicates=len(duplicate_rows),
        validation_s=validation_s,
        seconds=time.perf_counter() - started,
    )


def _record_repairs(
    outcomes: dict[str, RepairOutcome],
    policy: CleaningPolicy,
    frame: pd.DataFrame,
    ledger: _Ledger,
    output: pd.DataFrame,
    profiles: dict[str, dict[str, Any]],
) -> list[_Finding]:
    """Log and write each repaired cell; where the policy forbids repairs, return findings."""
    refused = []
    for column, outcome in outcomes.items():
        action = policy.for_column(column).action
        rows = np.flatnonzero(outcome.repaired)
        if not len(rows) or action == "ignore":
            continue
        if action == "quarantine":
            shown = _show(frame[column].iloc[rows])
            reasons = np.array(
                [f"{column}={v} needs a repair and the policy says quarantine" for v in shown],
                dtype=object,
            )
            refused.append(_Finding("repair_refused", column, rows, reasons))
            continue
        how = outcome.how.reindex(rows).to_numpy() if outcome.how is not None else "repaired"
        written = _write_cells(output, column, rows, outcome.values.iloc[rows], profiles)
        ledger.record_repairs(column, rows, frame[column].iloc[rows], written, how)
    return refused


def _represent(values: pd.Series, raw: pd.Series, profile: dict[str, Any]) -> pd.Series:
    """Repaired values in the column's own representation (text stays text, ints ints)."""
    values = pd.Series(values.to_numpy(dtype=object), index=values.index, dtype=object)
    if is_text(raw) and _mostly_text(raw):

        def as_text(value: Any) -> Any:
            if value is None or (isinstance(value, float) and np.isnan(value)):
                return ""
            if isinstance(value, bool | np.bool_ | str):
                return str(value)
            if isinstance(value, int | np.integer):
                return str(int(value))
            if isinstance(value, float | np.floating):
                number = float(value)
                if profile.get("kind") == "measure":
                    shown = str(int(number)) if number.is_integer() else repr(number)
                    unit = str(profile.get("unit", ""))
                    spaced = " " if unit[:1].isalpha() else ""
                    return f"{profile.get('prefix', '')}{shown}{spaced}{unit}"
                return str(int(number)) if number.is_integer() else repr(number)
            if isinstance(value, pd.Timestamp):
                fmt = profile.get("format")
                return value.strftime(fmt) if fmt and fmt != "ISO8601" else value.isoformat()
            return str(value)

        return values.map(as_text).astype(object)
    if pd.api.types.is_integer_dtype(raw):
        numbers = pd.to_numeric(values, errors="coerce")
        if numbers.notna().all() and bool(np.all(np.mod(numbers.to_numpy(float), 1) == 0)):
            return numbers.astype(raw.dtype)
        return numbers
    if pd.api.types.is_float_dtype(raw) or (is_text(raw) and profile.get("kind") in NUMERIC_KINDS):
        return pd.to_numeric(values, errors="coerce")
    return values


def _mostly_text(raw: pd.Series) -> bool:
    """Whether an object column holds text (a CSV read as text) rather than numbers."""
    sample = raw.dropna().head(1000)
    return not len(sample) or bool(sample.map(lambda v: isinstance(v, str)).mean() >= 0.5)


def _write_cells(
    output: pd.DataFrame,
    column: str,
    rows: np.ndarray,
    values: pd.Series,
    profiles: dict[str, dict[str, Any]],
) -> pd.Series:
    """Write repaired ``values`` into ``output`` at ``rows``; returns what was written."""
    written = _represent(values, output[column], profiles.get(column, {}))
    target = output[column]
    if pd.api.types.is_integer_dtype(target) and not pd.api.types.is_integer_dtype(written):
        output[column] = target = target.astype(float)
    if pd.api.types.is_numeric_dtype(target) and not pd.api.types.is_numeric_dtype(written):
        output[column] = target = target.astype(object)
    column_at = output.columns.get_loc(column)
    output.iloc[rows, column_at] = written.to_numpy()
    return written


def _raise_if_errored(expectation: Any, result: Any) -> None:
    info = result.exception_info or {}
    if info.get("raised_exception"):
        message = str(info.get("exception_message") or "unknown error").splitlines()[0]
        column = expectation.configuration.kwargs.get("column")
        where = f" on column {column!r}" if column else ""
        raise BadInputError(
            f"Great Expectations could not run {expectation.expectation_type}{where} "
            f"({message}); fix the suite or the data."
        )


def _expectation_entry(index: int, expectation: Any, result: Any, frame: pd.DataFrame) -> dict:
    config = expectation.configuration
    kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id",)}
    entry: dict[str, Any] = {
        "index": index,
        "type": config.type,
        "check": _check_name(expectation),
        "column": kwargs.get("column"),
        "kwargs": kwargs,
        "success": None if result is None else bool(result.success),
        "unexpected_count": 0,
        "quarantined_rows": 0,
        "ignored_rows": 0,
        "imputed_rows": 0,
        "examples": [],
    }
    if result is not None:
        details = result.result or {}
        entry["unexpected_count"] = int(details.get("unexpected_count") or 0)
        if "observed_value" in details:
            entry["observed_value"] = details["observed_value"]
        rows = (details.get("unexpected_index_list") or [])[:EXAMPLES_PER_CHECK]
        column = kwargs.get("column")
        if rows and column is not None:
            shown = _plain_values(frame[column].iloc[rows])
            entry["examples"] = [
                {"row": int(r), "value": v} for r, v in zip(rows, shown, strict=True)
            ]
    return entry


def _count_new_values(counts: dict[str, Any], values: pd.Series) -> None:
    """Record accepted values never seen in the reference: rows, distinct values, examples."""
    distinct = pd.unique(values)
    seen = counts.setdefault("new_values", {"rows": 0, "distinct": 0, "examples": []})
    seen["rows"] += len(values)
    seen["distinct"] += len(distinct)
    room = EXAMPLES_PER_CHECK - len(seen["examples"])
    seen["examples"].extend(_plain(v) for v in distinct[: max(room, 0)])


def _apply_findings(
    findings: list[_Finding],
    ledger: _Ledger,
    output: pd.DataFrame,
    policy: CleaningPolicy,
    profiles: dict[str, dict[str, Any]],
    frame: pd.DataFrame,
    columns_report: dict[str, dict[str, Any]],
    expectation_reports: list[dict[str, Any]],
) -> pd.Series:
    """Apply the policy to each finding; returns the exact-duplicate reasons by row."""
    imputed: dict[str, np.ndarray] = {}
    duplicates = pd.Series(dtype=object)
    for finding in findings:
        entry = (
            expectation_reports[finding.expectation] if finding.expectation is not None else None
        )
        if finding.column is None:
            if finding.check == "duplicate_rows" and policy.duplicates == "ignore":
                if entry is not None:
                    entry["ignored_rows"] += len(finding.rows)
                continue
            ledger.hold(finding.rows, finding.reasons, None)
            if finding.check == "duplicate_rows":
                duplicates = pd.Series(finding.reasons, index=finding.rows)
            if entry is not None:
                entry["quarantined_rows"] += len(finding.rows)
            continue
        column = finding.column
        column_policy = policy.for_column(column)
        counts = columns_report.setdefault(column, {"kind": None, **_empty_counts()})
        counts["failures"] += len(finding.rows)
        if finding.check == "unparseable":
            counts["unparseable"] = counts.get("unparseable", 0) + len(finding.rows)
        vocabulary = profiles.get(column, {}).get("vocabulary")
        if finding.check in _NEW_VALUE_CHECKS and column_policy.accepts_new_values(vocabulary):
            _count_new_values(counts, frame[column].iloc[finding.rows])
            counts["failures"] -= len(finding.rows)
            if entry is not None:
                entry["accepted_rows"] = entry.get("accepted_rows", 0) + len(finding.rows)
            continue
        if column_policy.action == "ignore":
            if entry is not None:
                entry["ignored_rows"] += len(finding.rows)
            continue
        if finding.check == "range" and column_policy.out_of_range == "report":
            counts["out_of_range_reported"] = counts.get("out_of_range_reported", 0) + len(
                finding.rows
            )
            if entry is not None:
                entry["ignored_rows"] += len(finding.rows)
            continue
        if column_policy.action == "impute" and finding.check in _IMPUTABLE_CHECKS:
            value = _impute_value(column, profiles.get(column, {}), column_policy)
            imputed[column] = np.union1d(
                imputed.get(column, np.array([], dtype=np.int64)), finding.rows
            )
            _write_cells(
                output,
                column,
                finding.rows,
                pd.Series([value] * len(finding.rows), dtype=object),
                profiles,
            )
            if entry is not None:
                entry["imputed_rows"] += len(finding.rows)
            continue
        ledger.hold(finding.rows, finding.reasons, column)
        if entry is not None:
            entry["quarantined_rows"] += len(finding.rows)
    for column, rows in imputed.items():
        value = output[column].iloc[rows]
        ledger.record_repairs(column, rows, frame[column].iloc[rows], value, "imputed")
    return duplicates


def _assemble(
    frame: pd.DataFrame,
    output: pd.DataFrame,
    ledger: _Ledger,
    reasons: pd.Series,
    columns_report: dict[str, dict[str, Any]],
    expectation_reports: list[dict[str, Any]],
    policy: CleaningPolicy,
    profiles: dict[str, dict[str, Any]],
    consistency: _Consistency,
    *,
    n_duplicates: int,
    validation_s: float,
    seconds: float,
) -> CleanResult:
    n_rows = len(frame)
    held = ledger.quarantine
    row_numbers = np.arange(n_rows, dtype=np.int64)
    for column, action in ((c, policy.for_column(c).action) for c in frame.columns):
        if action == "ignore":
            output[column] = frame[column]
    clean = output.loc[~held, list(frame.columns)].copy()
    clean[ROW_COLUMN] = row_numbers[~held]
    quarantine = frame.loc[held].copy()
    quarantine[ROW_COLUMN] = row_numbers[held]
    quarantine[REASON_COLUMN] = reasons.reindex(quarantine[ROW_COLUMN]).to_numpy()

    repairs = pd.concat(ledger.repairs, ignore_index=True) if ledger.repairs else None
    kept_repairs: list[dict[str, Any]] = []
    if repairs is not None:
        repairs = repairs[~held[repairs["row"].to_numpy()]].sort_values(["row", "column"])
        kept_repairs = repairs.to_dict(orient="records")
    for column, counts in columns_report.items():
        if repairs is not None:  # repairs of rows that ended up clean
            kept = repairs[repairs["column"] == column]
            counts["repaired_rows"] = int((kept["how"] != "imputed").sum())
            counts["imputed_rows"] = int((kept["how"] == "imputed").sum())
        profile = profiles.get(column, {})
        counts["classification_reason"] = profile.get("reason")
        counts["action"] = policy.for_column(column).action
        if profile.get("vocabulary"):
            counts["vocabulary"] = profile["vocabulary"]
            counts["vocabulary_reason"] = profile.get("vocabulary_reason")
    for column, rows in ledger.rows_by_column().items():
        if column in columns_report:
            columns_report[column]["quarantined_rows"] = rows
    report = build_report(
        rows_in=n_rows,
        rows_clean=len(clean),
        rows_repaired=int((ledger.repaired & ~held).sum()),
        rows_quarantined=int(held.sum()),
        rows_duplicate=n_duplicates,
        expectations=expectation_reports,
        columns=columns_report,
        repairs=kept_repairs,
        suspected_typos=consistency.typos,
        policy=policy,
        validation_s=validation_s,
        seconds=seconds,
    )
    return CleanResult(clean=clean, quarantine=quarantine, report=report)


def build_report(
    *,
    rows_in: int,
    rows_clean: int,
    rows_repaired: int,
    rows_quarantined: int,
    rows_duplicate: int,
    expectations: list[dict[str, Any]],
    columns: dict[str, dict[str, Any]],
    repairs: list[dict[str, Any]],
    suspected_typos: list[dict[str, Any]],
    policy: CleaningPolicy,
    validation_s: float,
    seconds: float,
) -> dict[str, Any]:
    """The report.json content of one cleaning run (one place, so it can become a record).

    Keeps every key the registry ingest reads (``rows_in``, ``rows_clean``,
    ``rows_repaired``, ``rows_quarantined``, ``created_at``, ``data``, ``kind``).
    """
    new_values = {c: v["new_values"] for c, v in columns.items() if "new_values" in v}
    dependencies = [e for e in expectations if e["type"] == DEPENDENCY_TYPE]
    # written through the shared record: the registry reads exactly these fields
    return CleanReport(
        created_at=datetime.now(UTC).replace(microsecond=0),
        halfcost_version=__version__,
        data=DataLineage(rows=rows_in),
        rows_in=rows_in,
        rows_clean=rows_clean,
        rows_repaired=rows_repaired,
        rows_quarantined=rows_quarantined,
        extra={
            "rows_duplicate": rows_duplicate,
            "success": rows_quarantined == 0,
            "expectations": expectations,
            "columns": columns,
            "repairs": repairs,
            "new_values": new_values,
            "suspected_typos": suspected_typos,
            "dependencies": [
                {
                    **e["kwargs"],
                    "violations": e["unexpected_count"],
                    "repaired_rows": e["repaired_rows"],
                    "quarantined_rows": e["quarantined_rows"],
                }
                for e in dependencies
            ],
            "policy": policy.to_dict(),
            "validation_seconds": round(validation_s, 3),
            "seconds": round(seconds, 3),
        },
    ).to_dict()
