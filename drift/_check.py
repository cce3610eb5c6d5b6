"""Drift checks: Evidently's default per-column decisions, fast, on batches of any size.

``check_drift`` decides every column with the test Evidently 0.7's ``DataDriftPreset``
would pick for the *full* reference and batch, and with Evidently's formula — but from the
reference's saved statistics (:mod:`._profile`) instead of re-reading the reference table,
and vectorised over the whole batch (:mod:`._stats`). Nothing is sampled for the decisions,
except for free-text columns (Evidently trains a text classifier there; it runs on the row
samples). The HTML report is Evidently's own, rendered from row samples with the same test
per column; ``drift.json`` says what was sampled.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from halfcost import __version__
from halfcost.drift import _stats
from halfcost.drift._profile import (
    RESERVED_PREFIX,
    ColumnProfile,
    ReferenceProfile,
    build_profile,
    sample_frame,
)
from halfcost.errors import BadInputError
from halfcost.jsonio import write_json
from halfcost.tables import column_difference

DEFAULT_SAMPLE_ROWS = 20_000  # rows per side that Evidently renders into drift.html
MIN_SAMPLE_ROWS = 100
JSON_FILE = "drift.json"
HTML_FILE = "drift.html"


@dataclass
class ColumnDrift:
    """The drift decision for one column.

    Attributes:
        column: column name.
        kind: Evidently's type for it (inferred on the current batch).
        method: the test used (Evidently's default for this column and these sizes).
        score: the p-value or distance.
        threshold: the test's threshold.
        drifted: the decision (p-value below / distance at or above the threshold).
        source: where the score came from: ``"profile"`` (reference statistics, full batch),
            ``"evidently"`` (Evidently's own test on the full small reference and full batch)
            or ``"sample"`` (Evidently's test on the row samples: text columns).
        exact: False when the score is an approximation (sampled, or from a binned summary).
    """

    column: str
    kind: str
    method: _stats.Method
    score: float
    threshold: float
    drifted: bool
    source: str
    exact: bool

    def to_dict(self) -> dict[str, Any]:
        """The contract entry: ``{drifted, method, score, threshold}``."""
        return {
            "drifted": self.drifted,
            "method": self.method.display_name,
            "score": float(self.score),
            "threshold": float(self.threshold),
        }

    def detail(self) -> dict[str, Any]:
        """Extra facts about the entry (type, test id, how the score was computed)."""
        return {
            "type": self.kind,
            "method_id": self.method.name,
            "source": self.source,
            "exact": self.exact,
        }


@dataclass
class DriftResult:
    """The outcome of :func:`check_drift`; ``to_dict()`` is ``drift.json``.

    Attributes:
        columns: column -> :class:`ColumnDrift`, for every checked column.
        drift_share: the share of drifted columns at which the dataset counts as drifted.
        skipped: column -> why it was not checked (dates, empty columns, absent target).
        rows: ``{"reference": n, "current": m}``.
        sampled: what was sampled, and for what (see ``docs/drift-check.md``).
        created_at: UTC time of the check.
    """

    columns: dict[str, ColumnDrift]
    drift_share: float
    skipped: dict[str, str]
    rows: dict[str, int]
    sampled: dict[str, Any]
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    reference_sample: pd.DataFrame | None = field(default=None, repr=False)
    current_sample: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def drifted_columns(self) -> list[str]:
        """Names of the drifted columns, in column order."""
        return [name for name, col in self.columns.items() if col.drifted]

    @property
    def share_drifted(self) -> float:
        """Drifted columns / checked columns (0 when nothing was checked)."""
        return len(self.drifted_columns) / len(self.columns) if self.columns else 0.0

    @property
    def drift_detected(self) -> bool:
        """Dataset-level drift, as Evidently defines it: share_drifted >= drift_share."""
        return bool(self.columns) and self.share_drifted >= self.drift_share

    def to_dict(self) -> dict[str, Any]:
        """The ``drift.json`` document (contract keys first, then extras)."""
        return {
            "drift_detected": self.drift_detected,
            "share_drifted": self.share_drifted,
            "columns": {name: col.to_dict() for name, col in self.columns.items()},
            "kind": "drift",
            "created_at": self.created_at,
            "halfcost_version": __version__,
            "drift_share": self.drift_share,
            "n_columns": len(self.columns),
            "n_drifted": len(self.drifted_columns),
            "drifted_columns": self.drifted_columns,
            "rows": dict(self.rows),
            "skipped": dict(self.skipped),
            "sampled": self.sampled,
            "column_details": {name: col.detail() for name, col in self.columns.items()},
        }

    def save(
        self,
        directory: str | os.PathLike[str],
        *,
        html: bool = True,
        assets: str | os.PathLike[str] | None = None,
        max_html_bytes: int | None = None,
    ) -> Path:
        """Write ``drift.html`` (Evidently's report on the row samples) and ``drift.json``.

        Args:
            directory: the folder to write both into.
            html: False skips drift.html (faster).
            assets: share Evidently's script bundle from this folder (beside
                ``directory``) instead of inlining 3.5 MB into each page (see
                :mod:`halfcost.drift._html`).
            max_html_bytes: cap of drift.html: a bigger report shows the drifted columns
                and as many others as fit; drift.json always holds every column.

        Returns:
            the path of ``drift.json``.
        """
        folder = Path(directory)
        if folder.exists() and not folder.is_dir():
            raise BadInputError(f"{folder}: is a file; give a folder for the drift report.")
        folder.mkdir(parents=True, exist_ok=True)
        if html:
            try:
                with summarized_warnings(f"drawing {folder / HTML_FILE}"):
                    self.save_html(folder / HTML_FILE, assets=assets, max_bytes=max_html_bytes)
            except Exception as exc:  # the decisions stand even if Evidently cannot draw them
                self.sampled["report"]["error"] = f"{type(exc).__name__}: {exc}"
                print(
                    f"halfcost: warning: Evidently could not render {folder / HTML_FILE} "
                    f"({type(exc).__name__}: {exc}); drift.json is complete.",
                    file=sys.stderr,
                )
        return write_json(self.to_dict(), folder / JSON_FILE)

    def save_html(
        self,
        path: str | os.PathLike[str],
        *,
        assets: str | os.PathLike[str] | None = None,
        max_bytes: int | None = None,
    ) -> Path:
        """Render Evidently's DataDriftPreset report from the row samples into ``path``.

        Each column is given the test used for its decision, so the report shows the same
        methods; its scores are the samples' (``sampled.report`` in drift.json compares them).
        ``assets`` and ``max_bytes``: see :meth:`save`. A report over the cap even with
        the drifted columns alone is not written (``sampled.report.skipped`` says why).
        """
        from halfcost.drift import _html

        if self.reference_sample is None or self.current_sample is None:
            raise BadInputError("this result holds no row samples; run check_drift again.")
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shown = self.columns
        while True:
            snapshot = run_evidently_report(
                self.reference_sample, self.current_sample, shown, self.drift_share
            )
            page = snapshot.get_html_str(as_iframe=False)  # what Snapshot.save_html writes
            if assets is not None:
                page = _html.share_assets(page, Path(assets))
            size = len(page.encode("utf-8"))
            if max_bytes is None or size <= max_bytes:
                break
            fitting = self._columns_within(shown, size, max_bytes)
            if fitting is None:
                self.sampled["report"]["skipped"] = (
                    f"drift.html would be {size:,} bytes, over the {max_bytes:,}-byte cap "
                    "even with the drifted columns alone; drift.json holds every column"
                )
                target.unlink(missing_ok=True)
                return target
            shown = fitting
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, target)
        if len(shown) < len(self.columns):
            self.sampled["report"]["columns_shown"] = list(shown)
        report_columns = evidently_column_results(snapshot.dict())
        agreeing = sum(
            1
            for name, col in shown.items()
            if name in report_columns and report_columns[name]["drifted"] == col.drifted
        )
        self.sampled["report"]["decisions_agreeing"] = agreeing
        self.sampled["report"]["columns"] = len(shown)
        return target

    def _columns_within(
        self, shown: dict[str, ColumnDrift], size: int, max_bytes: int
    ) -> dict[str, ColumnDrift] | None:
        """The drifted columns, then the others in table order, that fit ``max_bytes`` (the
        page's size taken as proportional to its columns); None when nothing fits."""
        per_column = size / max(1, len(shown))
        room = int(max_bytes * 0.9 / per_column)
        ranked = sorted(shown.items(), key=lambda item: not item[1].drifted)  # stable
        drifted = sum(1 for col in shown.values() if col.drifted)
        if room >= len(shown):  # the estimate says all fit but they did not: one fewer
            room = len(shown) - 1
        if room < max(1, drifted):
            return None
        kept = {name for name, _ in ranked[:room]}
        return {name: col for name, col in shown.items() if name in kept}


_logger = logging.getLogger(__name__)
_summarizing = False  # inside a summarized_warnings block (the CLI runs one thread)


@contextlib.contextmanager
def summarized_warnings(activity: str) -> Iterator[None]:
    """Collect the libraries' warnings in the block and log them once, summarized.

    Evidently's tests on a tiny batch make scikit-learn warn once per bootstrap round
    (thousands of identical lines); one line with the count says the same.
    """
    global _summarizing
    if _summarizing:  # an outer block summarizes these too: one line for the whole run
        yield
        return
    _summarizing = True
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # deprecations are about the libraries' code (imports), not about the data
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            yield
    finally:
        _summarizing = False
    if not caught:
        return
    kinds = Counter(w.category.__name__ for w in caught)
    first = str(caught[0].message).strip().splitlines()[0][:160] if caught else ""
    summary = ", ".join(f"{name} x{count}" for name, count in kinds.most_common())
    _logger.warning(
        "%d warning(s) from the libraries while %s (%s; first: %s); small batches make "
        "unreliable tests",
        len(caught),
        activity,
        summary,
        first,
    )


def check_drift(
    reference: pd.DataFrame | ReferenceProfile,
    current: pd.DataFrame,
    *,
    drift_share: float = 0.5,
    sample_rows: int | None = None,
    seed: int = 0,
    columns: list[str] | None = None,
    target: str | None = None,
) -> DriftResult:
    """Compare a batch with the reference, column by column, as Evidently's defaults would.

    Args:
        reference: the reference table, or its :class:`ReferenceProfile` (faster: built once).
        current: the new batch.
        drift_share: share of drifted columns at which the dataset counts as drifted.
        sample_rows: rows per side given to Evidently for the HTML report (and for text
            columns); default 20,000. Decisions on numeric and categorical columns always
            use the full batch.
        seed: seed of the row samples.
        columns: check only these columns (default: all shared columns; ``halfcost_*``
            columns and a target absent from the batch are skipped).
        target: the label column, which a batch may lack (default: the profile's).

    Raises:
        BadInputError: an empty batch, different columns (named), a column whose type
            changed, or an invalid argument.
    """
    _validate_arguments(drift_share, sample_rows)
    rows_to_sample = DEFAULT_SAMPLE_ROWS if sample_rows is None else int(sample_rows)
    if not isinstance(current, pd.DataFrame) or len(current) == 0:
        raise BadInputError("the current batch has no rows; give a batch with at least one row.")
    if isinstance(reference, pd.DataFrame):
        reference = build_profile(reference, target=target, sample_rows=rows_to_sample, seed=seed)
    names, skipped = _columns_to_check(reference, current, columns, target or reference.target)
    reference_sample = sample_frame(reference.sample, rows_to_sample, seed)
    current_sample = sample_frame(current, rows_to_sample, seed)[names]
    results: dict[str, ColumnDrift] = {}
    with summarized_warnings(f"checking {len(current)} row(s) for drift"):
        for name in names:
            outcome = _check_column(
                reference.columns[name],
                current[name],
                reference_sample.get(name),
                current_sample[name],
            )
            if isinstance(outcome, str):
                skipped[name] = outcome
            else:
                results[name] = outcome
    return DriftResult(
        columns=results,
        drift_share=drift_share,
        skipped=skipped,
        rows={"reference": reference.rows, "current": len(current)},
        sampled=_sampling_note(reference, current, reference_sample, current_sample, results),
        reference_sample=reference_sample[[n for n in names if n in results]],
        current_sample=current_sample[[n for n in names if n in results]],
    )


def _validate_arguments(drift_share: float, sample_rows: int | None) -> None:
    if not 0 < drift_share <= 1:
        raise BadInputError(f"drift_share must be in (0, 1], but got {drift_share}.")
    if sample_rows is not None and int(sample_rows) < MIN_SAMPLE_ROWS:
        raise BadInputError(
            f"sample_rows must be at least {MIN_SAMPLE_ROWS}, but got {sample_rows}."
        )


def _columns_to_check(
    reference: ReferenceProfile,
    current: pd.DataFrame,
    columns: list[str] | None,
    target: str | None,
) -> tuple[list[str], dict[str, str]]:
    """Columns to check, in reference order; a clear error when the batch's columns differ.

    With ``columns`` given, only those must be in both tables; otherwise the batch must
    have exactly the reference's columns (its target may be absent: no labels yet).
    """
    current_names = [str(c) for c in current.columns if not str(c).startswith(RESERVED_PREFIX)]
    reference_names = reference.column_names
    if columns is not None:
        unknown = [c for c in columns if c not in reference_names or c not in current_names]
        if unknown:
            shared = [c for c in reference_names if c in current_names]
            raise BadInputError(
                f"cannot check column(s) {', '.join(map(str, unknown))}: not in both tables; "
                f"choose from {', '.join(shared)}."
            )
        return [c for c in reference_names if c in columns], {}
    skipped: dict[str, str] = {}
    missing = [c for c in reference_names if c not in current_names]
    if target in missing:
        missing.remove(target)
        skipped[target] = "target column not in the batch (no labels yet)"
    extra = [c for c in current_names if c not in reference_names]
    difference = column_difference(missing, extra)
    if difference:
        raise BadInputError(
            f"the batch's columns differ from the reference's ({difference}); "
            "give a batch with the reference's columns, or rebuild the reference profile."
        )
    return [c for c in reference_names if c in current_names], skipped


def _check_column(
    reference: ColumnProfile,
    current: pd.Series,
    reference_sample: pd.Series | None,
    current_sample: pd.Series,
) -> ColumnDrift | str:
    """Decide one column, or return why it cannot be checked."""
    numeric = bool(
        pd.api.types.is_numeric_dtype(current) and not pd.api.types.is_bool_dtype(current)
    )
    current_sorted = None
    if numeric:
        current_sorted = np.sort(_stats.clean_numbers(current))
        distinct, counts = _stats.sorted_distinct(current_sorted)
        current_counts = pd.Series(counts, index=distinct)
    else:
        current_counts = current.value_counts(sort=False)  # missing values are not counted
        current_counts = current_counts[current_counts > 0]
    present = int(current_counts.sum())
    kind = _stats.infer_kind(current, n_unique=len(current_counts), count=present)
    if present == 0:
        return "no values in the current batch"
    if reference.count == 0:
        return "no values in the reference"
    if reference.numeric != numeric:
        sides = (
            ("numbers", "text or categories")
            if reference.numeric
            else ("text or categories", "numbers")
        )
        raise BadInputError(
            f"column {reference.name!r} holds {sides[0]} in the reference but {sides[1]} in the "
            "batch; fix the batch's values (e.g. stray text in a number column) or rebuild "
            "the reference profile."
        )
    if kind not in _stats.CHECKED_KINDS:
        return f"{kind} column: Evidently's DataDriftPreset does not test it"
    n_values = _union_size(reference, current_counts)
    method = _stats.choose_method(kind, reference.count, n_values)
    if kind == _stats.TEXT:
        return _evidently_test(method, reference_sample, current_sample, kind, reference, "sample")
    if reference.raw is not None:
        return _evidently_test(method, reference.raw, current, kind, reference, "evidently")
    if method is _stats.WASSERSTEIN:
        score = _stats.normed_wasserstein(reference.numbers, current_sorted)
        exact = bool(reference.numbers["exact"])
    else:
        reference_counts, exact = _reference_counts(reference, reference_sample)
        score = _stats.jensen_shannon(reference_counts, current_counts)
    return ColumnDrift(
        column=reference.name,
        kind=kind,
        method=method,
        score=score,
        threshold=method.threshold,
        drifted=method.drifted(score),
        source="profile",
        exact=exact,
    )


def _union_size(reference: ColumnProfile, current_counts: pd.Series) -> int:
    """Distinct values of reference and batch together; exact when it matters (at most 5)."""
    if reference.n_unique > _stats.FEW_VALUES or len(current_counts) > _stats.FEW_VALUES:
        return max(reference.n_unique, len(current_counts))
    known = reference.counts.index if reference.counts is not None else reference.raw.unique()
    return len(set(known) | set(current_counts.index))


def _reference_counts(
    reference: ColumnProfile, reference_sample: pd.Series | None
) -> tuple[pd.Series, bool]:
    """The reference's value counts (exact), or the sample's when the profile kept none."""
    if reference.counts is not None:
        return reference.counts, True
    sample = _stats.clean_values(reference_sample) if reference_sample is not None else None
    if sample is None or sample.empty:
        raise BadInputError(
            f"column {reference.name!r}: the profile keeps no value counts for it; "
            "rebuild the profile or check the column as text."
        )
    return sample.value_counts(sort=False), False


def _evidently_test(
    method: _stats.Method,
    reference_values: pd.Series | None,
    current_values: pd.Series,
    kind: str,
    reference: ColumnProfile,
    source: str,
) -> ColumnDrift | str:
    """Run Evidently's own test (p-value tests on small references; text columns)."""
    from evidently.legacy.calculations import stattests
    from evidently.legacy.core import ColumnType

    if reference_values is None:
        return "no reference values kept for it in the profile"
    reference_values = _stats.clean_values(reference_values)
    current_values = _stats.clean_values(current_values)
    if reference_values.empty or current_values.empty:
        return "no values in the row samples"
    test = getattr(stattests, _STATTESTS[method.name])
    column_type = {
        _stats.NUMERICAL: ColumnType.Numerical,
        _stats.CATEGORICAL: ColumnType.Categorical,
        _stats.TEXT: ColumnType.Text,
    }[kind]
    with warnings.catch_warnings():  # scipy warns on categories absent from the reference
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            outcome = test(reference_values, current_values, column_type, None)
        except ValueError as exc:  # e.g. the text test's classifier on a one-row batch
            if kind != _stats.TEXT:
                raise
            return (
                f"Evidently's text test cannot run on {len(current_values)} row(s) "
                f"({str(exc).splitlines()[0]}); give a larger batch"
            )
    return ColumnDrift(
        column=reference.name,
        kind=kind,
        method=method,
        score=float(outcome.drift_score),
        threshold=float(outcome.actual_threshold),
        drifted=bool(outcome.drifted),
        source=source,
        exact=source != "sample" or len(reference_values) >= reference.count,
    )


_STATTESTS = {
    "wasserstein": "wasserstein_stat_test",
    "jensenshannon": "jensenshannon_stat_test",
    "ks": "ks_stat_test",
    "chisquare": "chi_stat_test",
    "z": "z_stat_test",
    "abs_text_content_drift": "abs_text_content_drift_stat_test",
    "perc_text_content_drift": "perc_text_content_drift_stat_test",
}


def _sampling_note(
    reference: ReferenceProfile,
    current: pd.DataFrame,
    reference_sample: pd.DataFrame,
    current_sample: pd.DataFrame,
    results: dict[str, ColumnDrift],
) -> dict[str, Any]:
    """What was sampled, for drift.json."""
    return {
        "decisions": {
            "current_rows": len(current),
            "reference": "profile statistics of all reference rows",
            "sampled_columns": [n for n, c in results.items() if c.source == "sample"],
            "approximate_columns": [n for n, c in results.items() if not c.exact],
        },
        "report": {
            "reference_rows": len(reference_sample),
            "current_rows": len(current_sample),
            "sampled": len(reference_sample) < reference.rows or len(current_sample) < len(current),
        },
    }


def run_evidently_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: dict[str, ColumnDrift],
    drift_share: float,
) -> Any:
    """Evidently's DataDriftPreset on two frames, with each column's type and test fixed."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    def of_kind(kind: str) -> list[str]:
        return [name for name, col in columns.items() if col.kind == kind]

    definition = DataDefinition(
        numerical_columns=of_kind(_stats.NUMERICAL),
        categorical_columns=of_kind(_stats.CATEGORICAL),
        text_columns=of_kind(_stats.TEXT),
    )
    names = list(columns)
    methods = {
        name: col.method.name
        for name, col in columns.items()
        if _method_allowed(col.method, col.kind)
    }
    preset = DataDriftPreset(columns=names, drift_share=drift_share, per_column_method=methods)
    with warnings.catch_warnings():  # scipy warns on categories absent from the reference
        warnings.simplefilter("ignore", RuntimeWarning)
        return Report([preset]).run(
            Dataset.from_pandas(current[names], data_definition=definition),
            Dataset.from_pandas(reference[names], data_definition=definition),
        )


def _method_allowed(method: _stats.Method, kind: str) -> bool:
    """Whether Evidently accepts ``method`` by name for a column of ``kind``."""
    allowed = {
        _stats.NUMERICAL: {"wasserstein", "jensenshannon", "ks"},
        _stats.CATEGORICAL: {"jensenshannon", "chisquare", "z"},
        _stats.TEXT: {"abs_text_content_drift", "perc_text_content_drift"},
    }
    return method.name in allowed.get(kind, set())


def evidently_column_results(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per-column ``{drifted, method, score, threshold}`` from an Evidently snapshot's ``dict()``.

    Used to compare halfcost's decisions with a raw ``Report([DataDriftPreset()])`` run.
    """
    out: dict[str, dict[str, Any]] = {}
    for metric in snapshot.get("metrics", []):
        config = metric.get("config", {})
        if not str(config.get("type", "")).endswith("ValueDrift"):
            continue
        method = _stats.method_named(config["method"])
        score = float(metric["value"])
        threshold = float(config["threshold"])
        out[config["column"]] = {
            "drifted": method.drifted(score, threshold),
            "method": method.display_name,
            "score": score,
            "threshold": threshold,
        }
    return out
