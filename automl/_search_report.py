"""The search report (``report.json``, ``"kind": "search"``), built in one function.

:func:`build_report` is the only place the report's keys are written. Schema version 2
(see docs/search.md, "report schema v2"): money as decimal strings, the dataset lineage
(``data``) recorded by the library, and ``holdout_met``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from halfcost import __version__
from halfcost.automl._cost import (
    OBJECTIVES,
    CostObjective,
    cost_per_1m_predictions_usd,
    train_cost_usd,
)
from halfcost.automl._finalists import Finalist, TrialRecord, pareto_front
from halfcost.automl._search_space import SearchProblem
from halfcost.automl._trial_figures import (
    CV_SCORE,
    CV_SCORE_PARTIAL,
    LATENCY,
    PRUNED,
    ROUGH_LATENCY,
    trial_figures,
)
from halfcost.records import REPORT_SCHEMA_VERSION, ReportKind, SearchReport, money_to_json

REPORT_KIND = ReportKind.SEARCH
SCHEMA_VERSION = REPORT_SCHEMA_VERSION
decimal_string = money_to_json  # money as it crosses JSON: a plain decimal string


def data_lineage(
    frame: pd.DataFrame, source: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """The report's ``data`` block: where the rows came from.

    With ``source`` (the file the rows were read from): its resolved path and the
    sha256 of its bytes. Without: no path, and the sha256 of the frame's content
    (pandas' row hashes), so the same rows always give the same fingerprint.

    Args:
        frame: the feature rows given to the search (every row, labelled or not).
        source: the file they were read from, if any.
    """
    digest = hashlib.sha256()
    if source is not None:
        with open(source, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        path: str | None = str(Path(source).resolve())
    else:
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        path = None
    return {
        "path": path,
        "rows": len(frame),
        "sha256": digest.hexdigest(),
        "sha256_of": "file" if source is not None else "frame",
    }


@dataclass(frozen=True)
class SearchOutcome:
    """What one fit of the search produced: everything its report is made of.

    Attributes:
        problem: the fixed parts of the search (metric, target, columns, split).
        target: the target column's name.
        classes: the class labels (empty for regression).
        chosen: the chosen finalist.
        baseline: LightGBM defaults, measured the same way.
        finalists: every re-measured finalist.
        records: the finished trials finalists were picked from.
        study_name: the Optuna study.
        storage: where the study is stored (None: in memory), without credentials.
        trials: the study's finished trials, at the end of the run.
        trials_before: trials the study had started before this run.
        importances: the chosen model's permutation importance per raw column.
        data: the dataset lineage (:func:`data_lineage`).
        seconds: search, baseline, finalize and refit wall times.
        stopped_early: why the search ended before its budget, or None.
        warnings: messages about the data.
    """

    problem: SearchProblem
    target: str
    classes: list
    chosen: Finalist
    baseline: Finalist
    finalists: Sequence[Finalist]
    records: Sequence[TrialRecord]
    study_name: str
    storage: str | None
    trials: Sequence[Any]
    trials_before: int
    importances: dict[str, float]
    data: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)
    stopped_early: str | None = None
    warnings: Sequence[str] = ()


def build_report(
    outcome: SearchOutcome,
    *,
    objective: CostObjective = OBJECTIVES["batch"],
    runtime: str = "python",
    price_per_hour: Decimal | None,
    budget_s: float | None,
    n_trials: int | None,
    holdout: float,
    seed: int,
) -> dict[str, Any]:
    """The search report (schema version 2) of ``outcome``.

    Args:
        outcome: what the fit produced.
        objective: what the search minimized (the Pareto front and choice follow it).
        runtime: where the chosen model is served from (``python`` or ``onnx``).
        price_per_hour: the price of a core-hour, for the money figures (None: none).
        budget_s: the search's time budget (None: no time limit).
        n_trials: the trial limit of the run (None: no limit).
        holdout: the share of rows held out.
        seed: the search's seed.
    """
    problem, chosen, baseline = outcome.problem, outcome.chosen, outcome.baseline
    min_score = problem.min_score

    def entry(f: Finalist) -> dict[str, Any]:
        result = {
            "family": f.params["family"],
            "params": family_params(f.params),
            "n_features": int(f.params["n_features"]),
            "trial": f.trial,
            "met": f.met(min_score),
            "cv_score": f.cv_score,
            "holdout_score": f.holdout_score,
            **f.cost.to_dict(),
            "runtime": f.runtime,
        }
        if f.runtime_note is not None:
            result["runtime_note"] = f.runtime_note
        if f.python_cost is not None:  # every figure kept: the Python ones beside ONNX's
            result["python"] = f.python_cost.to_dict()
        if f.recheck_score is not None:
            result["recheck_cv_score"] = f.recheck_score
        if price_per_hour is not None:
            result["cost_per_1m_predictions_usd"] = decimal_string(
                cost_per_1m_predictions_usd(f.cost.latency_ms_per_1k, price_per_hour)
            )
            result["train_cost_usd"] = decimal_string(
                train_cost_usd(f.cost.train_seconds, price_per_hour)
            )
        return result

    entries = [entry(f) for f in outcome.finalists]
    savings: dict[str, Any] = {
        "latency_ratio": chosen.cost.latency_ms_per_1k / baseline.cost.latency_ms_per_1k,
        "size_ratio": chosen.cost.size_bytes / max(baseline.cost.size_bytes, 1),
        "single_row_latency_ratio": chosen.cost.single_row_latency_ms
        / max(baseline.cost.single_row_latency_ms, 1e-9),
    }
    if price_per_hour is not None:
        saved = cost_per_1m_predictions_usd(
            baseline.cost.latency_ms_per_1k, price_per_hour
        ) - cost_per_1m_predictions_usd(chosen.cost.latency_ms_per_1k, price_per_hour)
        savings["cost_per_1m_saved_usd"] = decimal_string(saved)
    finished = [t for t in outcome.trials if t.state.is_finished()]
    seconds = outcome.seconds
    report = {
        "kind": REPORT_KIND,
        "schema_version": SCHEMA_VERSION,
        "created_at": datetime.now(UTC).isoformat(),
        "halfcost_version": __version__,
        "metric": problem.metric.name,
        "min_score": min_score,
        "met": chosen.met(min_score),
        "holdout_met": bool(chosen.holdout_score >= min_score),
        "task": problem.context.task,
        "target": outcome.target,
        "n_trials": len(finished),
        "n_trials_this_run": len(finished) - outcome.trials_before,
        "n_trials_limit": n_trials,
        "best_cv_score": max([r.cv_score for r in outcome.records] or [chosen.cv_score]),
        "chosen": entry(chosen),
        "baseline": entry(baseline),
        "objective": objective.name,
        "objective_key": objective.key,
        "runtime": runtime,
        "pareto": pareto_front(entries, lambda e: e[objective.key], lambda e: e["cv_score"]),
        "finalists": entries,
        "savings": savings,
        "price_per_hour": None if price_per_hour is None else decimal_string(price_per_hour),
        "budget_s": None if budget_s is None else float(budget_s),
        "search_seconds": seconds.get("search"),
        "stopped_early": outcome.stopped_early,
        "baseline_seconds": seconds.get("baseline"),
        "finalize_seconds": seconds.get("finalize"),
        "refit_seconds": seconds.get("refit"),
        "cv_folds": len(problem.split.folds),
        "holdout_share": float(holdout),
        "rows": {"dev": len(problem.split.y_dev), "holdout": len(problem.split.y_hold)},
        "classes": list(outcome.classes),
        "features": list(problem.plan.features),
        "dropped_columns": dict(problem.plan.dropped),
        "feature_importances": dict(outcome.importances),
        "study": {"name": outcome.study_name, "storage": outcome.storage},
        "seed": seed,
        "trials": [_trial_summary(t) for t in finished],
        "warnings": list(outcome.warnings),
        "data": dict(outcome.data),
        # the saved model folder's size, known once it is written (see write_report)
        "model_folder_bytes": None,
    }
    # written through the shared record, so the registry reads exactly what was written
    return SearchReport.from_dict(report).to_dict()


def family_params(params: dict[str, Any]) -> dict[str, Any]:
    """A trial's parameters without the family prefix (``tree.max_depth`` -> ``max_depth``)."""
    prefix = f"{params['family']}."
    return {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}


def _trial_summary(t: Any) -> dict[str, Any]:
    """One compact line per trial, for the report's scatter plot."""
    figures = trial_figures(t)
    return {
        "trial": t.number,
        "state": t.state.name.lower(),
        "family": t.params.get("family"),
        "n_features": t.params.get("n_features"),
        "cv_score": figures.get(CV_SCORE, figures.get(CV_SCORE_PARTIAL)),
        "latency_ms_per_1k": figures.get(LATENCY),
        "rough_ms_per_1k": figures.get(ROUGH_LATENCY),
        "pruned": figures.get(PRUNED),
        "seconds": t.duration.total_seconds() if t.duration else None,
    }
