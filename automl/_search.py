"""The cheapest-model search: the least costly model whose cross-validated score meets a target.

Protocol: a stratified hold-out part is cut first (:mod:`._search_split`); K-fold
cross-validation runs on the rest. An Optuna study draws a model family, its cost-driving
knobs and how many of the most useful columns to keep (:mod:`._search_space`); a trial
reports its fold scores and is pruned as soon as the folds show it cannot win
(:mod:`._objective`); only trials that meet the target get their serving cost measured,
and the study minimizes that cost under the constraint ``min_score - cv_score <= 0``.
Finalists are then refit and re-measured one after another, alone, next to the
LightGBM-defaults baseline, the cheapest is chosen (:mod:`._finalists`) and refit on all
the data, and the report is built (:mod:`._search_report`).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
import numbers
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState
from sklearn.base import BaseEstimator

from halfcost.automl._cost import (
    DEFAULT_OBJECTIVE,
    OBJECTIVES,
    RUNTIMES,
    CostMeasurement,
    as_money,
    measure_cost,
    model_size_bytes,
    python_ranks_families,
    single_thread,
    trial_objective,
)
from halfcost.automl._encoder import raw_step
from halfcost.automl._families import ModelFamily, SearchContext, default_families
from halfcost.automl._finalists import (
    Finalist,
    TrialRecord,
    choose,
    pick_finalists,
    trial_records,
)
from halfcost.automl._metrics import CLASSIFICATION, DEFAULT_METRIC, TASKS, Metric, get_metric
from halfcost.automl._model_io import HalfcostModel, version_info
from halfcost.automl._objective import FoldPruner, PatienceStop, Progress, SearchObjective
from halfcost.automl._objective import cross_validate as _cross_validate
from halfcost.automl._prep import ColumnPlan, check_task, encode_target, plan_columns
from halfcost.automl._search_report import (
    SearchOutcome,
    build_report,
    data_lineage,
    family_params,
)
from halfcost.automl._search_space import (
    BASELINE_FAMILY,
    SearchProblem,
    quiet_fit,
    rank_columns,
    target_scale,
)
from halfcost.automl._search_split import SearchSplit, check_classes, split_rows
from halfcost.automl._search_study import (
    DATA_ATTR,
    FIELDS_ATTR,
    FINGERPRINT_ATTR,
    RANKING_ATTR,
    SETTINGS_ATTR,
    AfterTrial,
    RunClock,
    StudyBudget,
    TrialLimit,
    begin_run,
    make_storage,
    settle,
    storage_cause,
    storage_errors,
    storage_gone,
    storage_label,
    storage_url,
)
from halfcost.automl._trial_figures import PRUNED, trial_figures
from halfcost.errors import BadInputError, ParamMessage

DEFAULT_STUDY_PREFIX = "halfcost-search"
IMPORTANCE_SAMPLE_ROWS = 2_000
IMPORTANCE_REPEATS = 5
MIN_ROWS = 20


class SearchWarning(ParamMessage, UserWarning):
    """Something the user should know about their data or run (an id column dropped, ...).

    Like :class:`halfcost.errors.HalfcostError`, a warning about one parameter names it
    with ``{param}``: ``str(warning)`` shows the parameter, :meth:`render` a CLI flag.
    """


# ------------------------------------------------------------------ parameter constraints
def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _is_money(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        amount = as_money(value)
    except (InvalidOperation, TypeError, ValueError):
        return False
    return amount.is_finite() and amount >= 0


def _or_none(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or check(value)


@dataclass(frozen=True)
class _Constraint:
    """What one parameter accepts: a check, and the words for it in the error."""

    expected: str
    check: Callable[[Any], bool]


# Declared once: every parameter of CheapestModelSearch, checked at the start of fit with
# one message shape ("{param} must be <expected>, but got <value>."). The metric name and
# min_score are checked further against each other once the task is known.
_PARAMETER_CONSTRAINTS: dict[str, _Constraint] = {
    "metric": _Constraint("a metric name or None", _or_none(lambda v: isinstance(v, str))),
    "min_score": _Constraint("a number (the score to meet)", _is_number),
    "budget_s": _Constraint(
        "a number of seconds > 0, or None", _or_none(lambda v: _is_number(v) and v > 0)
    ),
    "n_trials": _Constraint("an integer ≥ 1, or None", _or_none(lambda v: _is_int(v) and v >= 1)),
    "seed": _Constraint("an integer", _is_int),
    "task": _Constraint(f"one of {', '.join(TASKS)}, or None", _or_none(lambda v: v in TASKS)),
    "holdout": _Constraint("a share in (0, 0.9)", lambda v: _is_number(v) and 0 < v < 0.9),
    "cv": _Constraint("an integer ≥ 2, or None", _or_none(lambda v: _is_int(v) and v >= 2)),
    "sampler": _Constraint(
        "an optuna.samplers.BaseSampler instance, or None",
        _or_none(lambda v: isinstance(v, optuna.samplers.BaseSampler)),
    ),
    "storage": _Constraint(
        "an Optuna storage URL, an optuna.storages.BaseStorage instance, or None",
        _or_none(
            lambda v: (isinstance(v, str) and v) or isinstance(v, optuna.storages.BaseStorage)
        ),
    ),
    "study_name": _Constraint(
        "a non-empty string, or None", _or_none(lambda v: isinstance(v, str) and v)
    ),
    "price_per_hour": _Constraint("an amount ≥ 0 (per core-hour), or None", _or_none(_is_money)),
    "families": _Constraint(
        "a list of ModelFamily instances, or None",
        _or_none(
            lambda v: (
                not isinstance(v, str | bytes)
                and isinstance(v, Sequence)
                and len(v) > 0
                and all(isinstance(f, ModelFamily) for f in v)
            )
        ),
    ),
    "out_dir": _Constraint(
        "a folder path, or None", _or_none(lambda v: isinstance(v, str | os.PathLike))
    ),
    "drop": _Constraint(
        "a list of column names",
        lambda v: not isinstance(v, str | bytes) and isinstance(v, Sequence | set | frozenset),
    ),
    "progress": _Constraint("True or False", lambda v: isinstance(v, bool)),
    "n_finalists": _Constraint("an integer ≥ 1", lambda v: _is_int(v) and v >= 1),
    "objective": _Constraint(
        f"one of {', '.join(OBJECTIVES)}", lambda v: isinstance(v, str) and v in OBJECTIVES
    ),
    "runtime": _Constraint(f"one of {', '.join(RUNTIMES)}", lambda v: v in RUNTIMES),
    "patience": _Constraint(
        "an integer ≥ 1 (trials), or None to use the whole budget",
        _or_none(lambda v: _is_int(v) and v >= 1),
    ),
    "n_workers": _Constraint("an integer ≥ 1 (processes)", lambda v: _is_int(v) and v >= 1),
    "prune": _Constraint("True or False", lambda v: isinstance(v, bool)),
}


@dataclass(frozen=True)
class _Data:
    """One fit's data, checked and encoded, before the column ranking."""

    x: pd.DataFrame
    codes: np.ndarray
    target: str
    classes: list
    metric: Metric
    min_score: float
    plan: ColumnPlan
    families: list[ModelFamily]
    split: SearchSplit
    context: SearchContext
    fingerprint_fields: dict[str, Any]

    @property
    def fingerprint(self) -> str:
        """Identifies the data and settings, so a stored study is resumed only by its own."""
        return _fingerprint(self.fingerprint_fields)

    def problem(self, stored_ranking: dict[str, Any] | None = None) -> SearchProblem:
        """The search problem: this data with its columns ranked (one quick LightGBM fit).

        Args:
            stored_ranking: the ranking a study recorded (every worker of a study uses
                the one its first run computed); None: rank now.
        """
        if stored_ranking is None:
            ranking, gain_shares = rank_columns(self.split, self.plan, self.context)
        else:
            ranking = list(stored_ranking["ranking"])
            gain_shares = dict(stored_ranking["gain_shares"])
        return SearchProblem(
            metric=self.metric,
            min_score=self.min_score,
            n_classes=len(self.classes),
            plan=self.plan,
            context=self.context,
            split=self.split,
            families=self.families,
            ranking=ranking,
            gain_shares=gain_shares,
        )


class CheapestModelSearch(BaseEstimator):
    """Find the cheapest model to serve whose cross-validated score meets ``min_score``.

    A scikit-learn estimator: ``__init__`` stores the settings, :meth:`fit` validates
    them, does the work and sets ``best_model_`` (a :class:`HalfcostModel`),
    ``report_`` (the report dict, schema version 2), ``study_`` (the Optuna study),
    ``met_`` (whether the target was met) and ``warnings_`` (messages about the data,
    e.g. dropped id columns). ``sklearn.base.clone`` gives an unfitted copy with the
    same settings (sampler and storage objects shared, see :meth:`__sklearn_clone__`).

    Args:
        metric: accuracy, balanced_accuracy, f1, roc_auc (classification), r2 or
            neg_rmse (regression); default accuracy or r2.
        min_score: the target, met in cross-validation.
        budget_s: seconds for the search itself (baseline, re-measurement and refit
            come on top and are reported); None: no time limit (give ``n_trials``).
        n_trials: stop after exactly this many trials of this run (None: no limit).
            With a time budget too, whichever comes first ends the search.
        seed: seeds the split, the folds, the default sampler and the estimators.
        task: classification or regression; inferred from the target when None.
        holdout: share of rows held out before the search (stratified).
        cv: cross-validation folds; None: 5, or 3 above 20k rows.
        sampler: the Optuna sampler (an instance; copied at each fit). None: TPE,
            multivariate and grouped, seeded by ``seed``, 8 start-up trials.
        storage: an Optuna storage URL or storage object. None:
            ``sqlite:///<out_dir>/study.db`` when ``out_dir`` is given, else in memory.
        study_name: name of the study; None: derived from the data and settings, so
            a rerun on the same data resumes it.
        price_per_hour: price of one core-hour of the serving machine, for the money
            figures (a Decimal, a number or a decimal string).
        families: the :class:`ModelFamily` plug-ins to search; None: the defaults.
        out_dir: folder for the default storage (results are written by the caller).
        drop: columns never to use as features.
        progress: show a progress bar on stderr.
        n_finalists: how many candidates are refit and re-measured at the end (with a
            runtime other than Python, one per family meeting the target beyond it).
        patience: stop before the budget is spent when this many trials in a row found
            no model meeting the target at least 2% cheaper; None: never stop early.
        n_workers: processes running trials on the study at once. With more than one,
            the study must live in a storage they all reach (``storage`` URL or
            ``out_dir``), ``fit`` needs the ``source`` file, and only the default
            families and sampler are used; this process enqueues the starting points,
            waits for the workers, then re-measures the finalists alone.
        prune: stop trials early whose folds show they cannot win (off: every trial
            runs all its folds, e.g. for a benchmark with a fixed list of trials).
        objective: what "cheapest" means: ``batch`` (latency per 1k rows in a batch),
            ``online`` (p50 latency of one single-row request end to end, raw one-row
            DataFrame to the model's ``predict``) or ``size`` (saved bytes). Every
            figure is measured and reported; the Pareto front and the choice follow this.
        runtime: ``python`` or ``onnx``: where the finalists are re-measured and the
            chosen model is served from. With ``onnx`` each finalist is converted,
            checked against its Python predictions and timed in ONNX Runtime; one that
            can't be converted is measured in Python (the report says why).
    """

    def __init__(
        self,
        *,
        metric: str | None = None,
        min_score: float | None = None,
        budget_s: float | None = 120.0,
        n_trials: int | None = None,
        seed: int = 0,
        task: str | None = None,
        holdout: float = 0.2,
        cv: int | None = None,
        sampler: optuna.samplers.BaseSampler | None = None,
        storage: str | optuna.storages.BaseStorage | None = None,
        study_name: str | None = None,
        price_per_hour: Decimal | float | str | None = None,
        families: Sequence[ModelFamily] | None = None,
        out_dir: str | os.PathLike[str] | None = None,
        drop: Sequence[str] = (),
        progress: bool = False,
        n_finalists: int = 6,
        patience: int | None = 60,
        n_workers: int = 1,
        prune: bool = True,
        objective: str = DEFAULT_OBJECTIVE,
        runtime: str = "python",
    ) -> None:
        self.metric = metric
        self.min_score = min_score
        self.budget_s = budget_s
        self.n_trials = n_trials
        self.seed = seed
        self.task = task
        self.holdout = holdout
        self.cv = cv
        self.sampler = sampler
        self.storage = storage
        self.study_name = study_name
        self.price_per_hour = price_per_hour
        self.families = families
        self.out_dir = out_dir
        self.drop = drop
        self.progress = progress
        self.n_finalists = n_finalists
        self.patience = patience
        self.n_workers = n_workers
        self.prune = prune
        self.objective = objective
        self.runtime = runtime

    def __sklearn_clone__(self) -> CheapestModelSearch:
        """An unfitted copy with the same settings (what ``sklearn.base.clone`` returns).

        Settings are deep-copied, except the sampler and storage objects, which are
        shared: :meth:`fit` draws from a copy of the sampler (so it is never changed), and
        a storage is a connection to the studies, not a setting.
        """
        from sklearn.base import clone

        params = self.get_params(deep=False)
        shared = {name: params.pop(name) for name in ("sampler", "storage")}
        copied = {name: clone(value, safe=False) for name, value in params.items()}
        return type(self)(**copied, **shared)

    # ----------------------------------------------------------------- validation
    def _check_params(self) -> None:
        """Check every parameter against its declared constraint.

        Raises:
            BadInputError: naming the parameter, what it must be and what it got.
        """
        if self.min_score is None:
            raise BadInputError(
                "{param} is required: the score the model must reach.", param="min_score"
            )
        for name, value in self.get_params(deep=False).items():
            constraint = _PARAMETER_CONSTRAINTS[name]
            if not constraint.check(value):
                raise BadInputError(
                    f"{{param}} must be {constraint.expected}, but got {value!r}.", param=name
                )
        if self.budget_s is None and self.n_trials is None:
            raise BadInputError(
                "{param} is None and so is n_trials: give a time budget or a number of "
                "trials, or the search would never end.",
                param="budget_s",
            )
        if self.n_workers > 1:
            self._check_workers()

    def _check_workers(self) -> None:
        """What several worker processes need: a shared storage, default plug-ins."""
        if self.storage is None and self.out_dir is None:
            raise BadInputError(
                f"n_workers={self.n_workers} needs a storage every worker reaches; give "
                "{param} (a database URL) or out_dir.",
                param="storage",
            )
        if self.storage is not None and storage_url(self.storage) is None:
            raise BadInputError(
                f"n_workers={self.n_workers} needs a storage other processes can open; give "
                "{param} as a URL (postgresql+psycopg://..., sqlite:///..., journal:///...).",
                param="storage",
            )
        if self.sampler is not None:
            raise BadInputError(
                f"a custom {{param}} cannot be sent to n_workers={self.n_workers} worker "
                "processes; leave it None (workers draw from TPE) or use n_workers=1.",
                param="sampler",
            )
        if self.families is not None:
            known = {f.name for f in default_families()}
            foreign = [f.name for f in self.families if f.name not in known]
            if foreign:
                raise BadInputError(
                    f"worker processes know only the default families, not "
                    f"{', '.join(foreign)}; drop them from {{param}} or use n_workers=1.",
                    param="families",
                )

    # ----------------------------------------------------------------- fit
    def fit(
        self,
        X: pd.DataFrame,
        y: pd.Series | np.ndarray,
        *,
        source: str | os.PathLike[str] | None = None,
    ) -> CheapestModelSearch:
        """Search, choose, refit on all rows; sets ``best_model_``, ``report_``, ``met_``.

        Everything runs on one thread (``n_jobs=1``, BLAS/OpenMP pools pinned), so the
        measured costs compare models, not how many cores each grabbed.

        Args:
            X: raw feature columns (strings, dates, missing values are fine).
            y: the target, one value per row of ``X``.
            source: the file ``X`` and ``y`` were read from, recorded (path and
                sha256) as the report's dataset lineage; without it the report
                records a fingerprint of the rows themselves.

        Raises:
            BadInputError: unusable data or settings (the message names the fix).
            StorageUnavailableError: the study's database went away (rerun to resume).
        """
        self._check_params()
        if not isinstance(X, pd.DataFrame):
            raise BadInputError(
                "{param} must be a pandas DataFrame of raw feature columns.", param="X"
            )
        if self.n_workers > 1 and source is None:
            raise BadInputError(
                f"n_workers={self.n_workers} needs {{param}}: the file the rows were read "
                "from, which every worker reads and checks by its hash.",
                param="source",
            )
        lineage = data_lineage(X, source)
        storage = self._storage()
        workers = None
        with single_thread():  # workers inherit its OMP_NUM_THREADS=1
            if self.n_workers > 1:  # started now, they import while this process prepares
                from halfcost.automl._search_worker import WorkerProcesses

                workers = WorkerProcesses(storage_url(storage), self.n_workers)
            try:
                self._fit(X, y, lineage, storage, workers)
            except storage_errors() as exc:
                raise storage_gone(storage, exc) from exc
            finally:
                if workers is not None:
                    workers.close()
                if storage is not self.storage and hasattr(storage, "engine"):
                    # closing every connection folds a SQLite study's write-ahead log back
                    # into study.db, so the folder is whole; later reads reconnect
                    storage.engine.dispose()
        return self

    def _storage(self) -> Any:
        """The study's storage (with heartbeats): ``storage``, else ``out_dir/study.db``."""
        storage = self.storage
        if storage is None and self.out_dir is not None:
            Path(self.out_dir).mkdir(parents=True, exist_ok=True)
            storage = f"sqlite:///{Path(self.out_dir).resolve() / 'study.db'}"
        return make_storage(storage)

    def _fit(
        self,
        X: pd.DataFrame,
        y: pd.Series | np.ndarray,
        lineage: dict[str, Any],
        storage: Any,
        workers: Any,
    ) -> None:
        messages: list[str] = []
        data = self._prepare(X, y, messages)
        pruner = make_pruner(
            data.metric,
            data.min_score,
            len(data.split.folds),
            self.prune,
            objective=self.trial_objective,
            runtime=self.runtime,
        )
        study = self._open_study(storage, data, pruner, messages)
        # trials already started belong to earlier runs, even those still RUNNING (a dead
        # worker's, failed by the heartbeat check during this run)
        trials_before = _started(study)

        started = time.monotonic()
        problem = data.problem(study.user_attrs.get(RANKING_ATTR))
        if RANKING_ATTR not in study.user_attrs:
            ranking = {"ranking": problem.ranking, "gain_shares": problem.gain_shares}
            study.set_user_attr(RANKING_ATTR, ranking)
        base_scores, _, _ = _cross_validate(problem, problem.baseline_model)
        baseline_s = time.monotonic() - started

        budget = begin_run(study, self.budget_s, self.n_trials)
        if not study.trials:
            for params in problem.known_good_trials():
                study.enqueue_trial(params)
        if lineage["path"] is not None:  # workers on other hosts may join from now on
            self._record_for_workers(study, data, lineage)
        if self.n_workers == 1:
            search_s, stopped_early = self._run_study(study, problem, pruner, budget)
        else:
            search_s, stopped_early = self._run_workers(study, workers, budget)
        settle(study)

        started = time.monotonic()
        records = self._records(study, problem)
        picked = pick_finalists(
            records,
            problem.min_score,
            self.n_finalists,
            every_family=not python_ranks_families(self.runtime),
        )
        finalists, models, baseline = _measure_finalists(
            problem, picked, float(np.mean(base_scores)), self._timing_cap(), self.runtime
        )
        objective = OBJECTIVES[self.objective]
        chosen = choose(finalists, problem.min_score, problem.scale, objective)
        dev_model = models[next(i for i, f in enumerate(finalists) if f is chosen)]
        importances = _importances(problem, dev_model, self.seed)
        finalize_s = time.monotonic() - started

        self.best_model_, refit_s = _final_model(problem, chosen, data, importances, messages)
        outcome = SearchOutcome(
            problem=problem,
            target=data.target,
            classes=data.classes,
            chosen=chosen,
            baseline=baseline,
            finalists=finalists,
            records=records,
            study_name=study.study_name,
            storage=storage_label(storage),
            trials=_counted(study),
            trials_before=trials_before,
            importances=importances,
            data=lineage,
            seconds={
                "search": search_s,
                "baseline": baseline_s,
                "finalize": finalize_s,
                "refit": refit_s,
            },
            stopped_early=stopped_early,
            warnings=messages,
        )
        price = None if self.price_per_hour is None else as_money(self.price_per_hour)
        self.report_ = build_report(
            outcome,
            objective=objective,
            runtime=self.best_model_.runtime,
            price_per_hour=price,
            budget_s=self.budget_s,
            n_trials=self.n_trials,
            holdout=self.holdout,
            seed=self.seed,
        )
        self.study_ = study
        self.met_ = chosen.met(problem.min_score)
        self.warnings_ = messages

    def _prepare(self, X: pd.DataFrame, y: pd.Series | np.ndarray, messages: list[str]) -> _Data:
        """Check and encode the data, plan the columns, cut the split (warnings to ``messages``)."""
        y = pd.Series(y, index=X.index) if not isinstance(y, pd.Series) else y
        target = str(y.name) if y.name is not None else "target"
        labelled = y.notna().to_numpy()
        if not labelled.all():
            _warn(
                f"{int((~labelled).sum())} row(s) without a {target!r} value were left out.",
                messages,
            )
            X, y = X[labelled], y[labelled]
        if len(y) < MIN_ROWS:
            raise BadInputError(f"only {len(y)} labelled rows; a search needs at least {MIN_ROWS}.")
        task = check_task(self.task, y)
        metric = get_metric(self.metric or DEFAULT_METRIC[task], task)
        min_score = metric.validate_target(self.min_score)
        codes, classes = encode_target(y, task, target)
        if task == CLASSIFICATION:
            check_classes(codes, classes)
        plan = plan_columns(X, target if target in X.columns else None, tuple(self.drop))
        for name, reason in plan.dropped.items():
            if reason.startswith("looks like"):
                _warn(
                    f"column {name!r} {reason}: not used as a feature (name it in {{param}} "
                    "to silence this).",
                    messages,
                    param="drop",
                )
        x = X[plan.features].reset_index(drop=True)
        families = list(self.families) if self.families is not None else default_families()
        probe = SearchContext(task=task, n_rows=len(y), n_features=len(plan.features))
        if not any(f.supports(probe) for f in families):
            raise BadInputError(
                f"none of the given model {{param}} supports {task}.", param="families"
            )
        split = split_rows(x, codes, task=task, holdout=self.holdout, cv=self.cv, seed=self.seed)
        context = SearchContext(
            task=task,
            n_rows=len(split.y_dev),
            n_features=len(plan.features),
            n_classes=len(classes),
            seed=self.seed,
            kinds=dict(plan.kinds),
        )
        fields = self._fingerprint_fields(x, codes, target, task, metric, min_score, families)
        return _Data(
            x=x,
            codes=codes,
            target=target,
            classes=classes,
            metric=metric,
            min_score=min_score,
            plan=plan,
            families=families,
            split=split,
            context=context,
            fingerprint_fields=fields,
        )

    def _fingerprint_fields(
        self,
        x: pd.DataFrame,
        codes: np.ndarray,
        target: str,
        task: str,
        metric: Metric,
        min_score: float,
        families: Sequence[ModelFamily],
    ) -> dict[str, Any]:
        """What a study is made for: a study is resumed only with all of these equal.

        The one place the fingerprint's fields are listed. ``min_score`` is one: a trial's
        constraint value (``min_score - cv_score``) only means something for its target;
        ``objective`` and ``runtime`` are others: a trial's cost is the objective's figure
        (``trial_objective``'s, where it differs).
        """
        digest = hashlib.sha256()
        digest.update(pd.util.hash_pandas_object(x, index=False).to_numpy().tobytes())
        digest.update(np.asarray(codes).tobytes())
        return {
            "rows_sha256": digest.hexdigest(),
            "target": target,
            "task": task,
            "metric": metric.name,
            "min_score": float(min_score),
            "holdout": float(self.holdout),
            "cv": self.cv,
            "seed": self.seed,
            "families": [f.name for f in families],
            "prune": self.prune,
            "objective": self.objective,
            "runtime": self.runtime,
            # a study of an earlier version whose trials returned another figure (online
            # in ONNX Runtime returned single-row ms) is not resumed: other units
            **(
                {"trial_objective": self.trial_objective}
                if self.trial_objective != self.objective
                else {}
            ),
        }

    def _records(self, study: optuna.Study, problem: SearchProblem) -> list[TrialRecord]:
        """The study's finished trials as records; an error when none finished."""
        records = trial_records(
            study.get_trials(deepcopy=False),
            {f.name for f in problem.families},
            OBJECTIVES[self.trial_objective],
        )
        if records:
            return records
        if self.budget_s is None:  # every trial of the n_trials failed
            raise BadInputError(
                f"none of {self.n_trials} trial(s) finished; give a larger {{param}}.",
                param="n_trials",
            )
        raise BadInputError(
            f"no trial finished within budget_s={self.budget_s:g}; give a larger {{param}}.",
            param="budget_s",
        )

    @property
    def trial_objective(self) -> str:
        """What the trials minimize (in Python): :func:`trial_objective` of the settings."""
        return trial_objective(self.objective, self.runtime)

    def _timing_cap(self) -> float:
        """Seconds per measurement of a finalist: a quick search gets quick measurements."""
        if self.budget_s is None:
            return 1.0
        return min(1.0, max(0.2, float(self.budget_s) / 20))

    # ----------------------------------------------------------------- the study
    def _open_study(
        self, storage: Any, data: _Data, pruner: FoldPruner, messages: list[str]
    ) -> optuna.Study:
        """Open (or create) the study for ``data``; refuse one made for other settings."""
        fingerprint = data.fingerprint
        name = self.study_name or f"{DEFAULT_STUDY_PREFIX}-{fingerprint[:12]}"
        if self.sampler is not None:
            sampler = copy.deepcopy(self.sampler)
        else:
            sampler = default_sampler(self.seed)
        try:
            study = optuna.create_study(
                storage=storage,
                study_name=name,
                sampler=sampler,
                pruner=pruner,
                direction="minimize",
                load_if_exists=True,
            )
        except Exception as exc:  # SQLAlchemy/driver errors come in many types
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BadInputError(
                f"cannot open the study storage {storage_label(storage)!r} ({reason[:200]}); "
                "check {param} and that the database is running.",
                param="storage",
            ) from exc
        stored = study.user_attrs.get(FINGERPRINT_ATTR)
        if stored is None:
            self._note_other_studies(storage, study, data.fingerprint_fields, messages)
            study.set_user_attr(FINGERPRINT_ATTR, fingerprint)
            study.set_user_attr(FIELDS_ATTR, data.fingerprint_fields)
        elif stored != fingerprint:
            differ = _differences(study.user_attrs.get(FIELDS_ATTR), data.fingerprint_fields)
            raise BadInputError(
                f"study {name!r} was made for {differ or 'other data or settings'}; give "
                "another {param} to start a new search.",
                param="study_name",
            )
        return study

    def _note_other_studies(
        self, storage: Any, study: optuna.Study, fields: dict[str, Any], messages: list[str]
    ) -> None:
        """Warn when a new study starts beside one made for the same rows, other settings."""
        if storage is None:  # in memory: a new storage, no other study
            return
        for other in optuna.get_all_study_summaries(storage, include_best_trial=False):
            theirs = other.user_attrs.get(FIELDS_ATTR)
            if other.study_name == study.study_name or not theirs:
                continue
            if theirs.get("rows_sha256") == fields["rows_sha256"]:
                differ = _differences(theirs, fields)
                _warn(
                    f"started a new study {study.study_name!r}: study {other.study_name!r} "
                    f"on the same rows was made for {differ}, and its trials were judged "
                    "against that.",
                    messages,
                )
                return

    def _record_for_workers(self, study: optuna.Study, data: _Data, lineage: dict) -> None:
        """Store what a worker needs to rebuild this search: settings and the data file."""
        settings = {
            "metric": self.metric,
            "min_score": self.min_score,
            "task": self.task,
            "holdout": self.holdout,
            "cv": self.cv,
            "seed": self.seed,
            "drop": list(self.drop),
            "families": [f.name for f in data.families],
            "patience": self.patience,
            "prune": self.prune,
            "objective": self.objective,
            "runtime": self.runtime,
            "target": data.target,
        }
        study.set_user_attr(SETTINGS_ATTR, settings)
        study.set_user_attr(DATA_ATTR, {"path": lineage["path"], "sha256": lineage["sha256"]})

    def _run_workers(
        self, study: optuna.Study, workers: Any, budget: StudyBudget
    ) -> tuple[float, str | None]:
        """Run ``n_workers`` worker processes on the study until they are all done.

        A worker killed by a signal is reported and the others go on (its trial is failed
        by the heartbeat check); a worker that stops with an error stops the search.
        Meanwhile this process draws the progress bar from the study, once a second.

        Returns:
            The seconds it took, and None (workers stop by budget, trial limit or patience).
        """
        started = time.monotonic()
        bar = self._progress_bar(study, budget)
        try:
            workers.run(study.study_name, poll=lambda: bar(study))
        finally:
            bar.close()
        return time.monotonic() - started, None

    def _progress_bar(self, study: optuna.Study, budget: StudyBudget) -> Progress:
        """This run's bar: trials finished before it started are not on it."""
        finished = sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))
        return Progress(
            budget.remaining_s(),
            self.n_trials,
            enabled=self.progress,
            trials_before=finished,
            unit=OBJECTIVES[self.trial_objective].short_unit,
        )

    def _run_study(
        self, study: optuna.Study, problem: SearchProblem, pruner: FoldPruner, budget: StudyBudget
    ) -> tuple[float, str | None]:
        """Optimize in this process until the budget, the trial limit or patience ends it.

        Returns:
            The seconds it took and why it stopped early (None: budget or trial limit).
        """
        started = time.monotonic()
        bar = self._progress_bar(study, budget)
        try:
            stopped_early = run_trials(
                study,
                problem,
                pruner,
                budget,
                patience=self.patience,
                objective=self.trial_objective,
                extra_callbacks=[bar],
            )
        finally:
            bar.close()
        return time.monotonic() - started, stopped_early


def default_sampler(seed: int | None, *, parallel: bool = False) -> optuna.samplers.BaseSampler:
    """Multivariate, grouped TPE with 8 start-up trials (constant liar beside other workers)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=seed, multivariate=True, group=True, n_startup_trials=8, constant_liar=parallel
        )


def make_pruner(
    metric: Metric,
    min_score: float,
    n_folds: int,
    prune: bool,
    *,
    objective: str = DEFAULT_OBJECTIVE,
    runtime: str = "python",
) -> FoldPruner:
    """The search's pruner for this target (``prune=False``: only the budget stops trials).

    Its cost bound is a batch-latency figure measured in Python, so it bounds only the
    batch objective (and online in ONNX Runtime, whose trials minimize the batch
    figure). In a runtime other than Python it bounds each family by its own cheapest
    trial: there a family Python ranks 2x behind may be the cheapest.
    """
    return FoldPruner(
        min_score,
        n_folds,
        scale=target_scale(metric, min_score),
        prune_folds=prune,
        cost_bound=objective == DEFAULT_OBJECTIVE,
        per_family=not python_ranks_families(runtime),
    )


def run_trials(
    study: optuna.Study,
    problem: SearchProblem,
    pruner: FoldPruner,
    budget: StudyBudget,
    *,
    patience: int | None,
    objective: str = DEFAULT_OBJECTIVE,
    extra_callbacks: Sequence[Callable] = (),
) -> str | None:
    """Run trials of ``study`` in this process until its budget or trial limit is reached.

    Shared by the in-process search and every worker process: the study's budget
    (``budget``) is wall-clock time shared by all of them, and trials numbered past
    its trial limit are not run.

    Returns:
        Why this process stopped early (patience), else None.
    """

    remaining = budget.remaining_s()
    pruner.start(study, remaining)
    cost = OBJECTIVES[objective]
    stop = PatienceStop(patience, cost.key)
    n_trials = None
    if budget.trial_limit is not None:
        n_trials = max(0, budget.trial_limit - _started(study))
    clock = RunClock(budget)
    errors = _trial_errors()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        try:
            study.optimize(
                AfterTrial(
                    TrialLimit(SearchObjective(problem, cost), budget.trial_limit),
                    [pruner.observe, stop, clock, *extra_callbacks],
                    errors,
                ),  # no callbacks= below: AfterTrial calls them without reading each trial back
                n_trials=n_trials,
                timeout=remaining,
                catch=errors,
                gc_after_trial=False,
            )
            clock.flush(study)  # the time of the trials after its last write
        except KeyboardInterrupt:  # Ctrl-C: the time spent still counts, if it can be written
            with contextlib.suppress(Exception):
                clock.flush(study)
            raise
        except Exception as exc:
            cause = storage_cause(exc)
            if cause is None or cause is exc:
                raise
            raise storage_gone(study._storage, cause) from exc
    return stop.stopped_early


def _trial_errors() -> tuple[type[Exception], ...]:
    """The errors that fail one trial only: an estimator refusing a parameter combination."""
    import lightgbm

    return (ValueError, ArithmeticError, np.linalg.LinAlgError, lightgbm.basic.LightGBMError)


def _warn(message: str, messages: list[str], *, param: str | None = None) -> None:
    warning = SearchWarning(message, param=param)
    messages.append(str(warning))
    warnings.warn(warning, stacklevel=5)  # the caller of fit


def _fingerprint(fields: dict[str, Any]) -> str:
    """The hash of a study's fingerprint fields (``_fingerprint_fields``)."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _differences(stored: dict[str, Any] | None, given: dict[str, Any]) -> str:
    """What differs between a study's fingerprint fields and this search's, in words."""
    if not stored:
        return ""
    parts = []
    for key, value in given.items():
        if stored.get(key) != value:
            what = "other rows" if key == "rows_sha256" else f"{key}={stored.get(key)!r}"
            parts.append(what if key == "rows_sha256" else f"{what} (now {value!r})")
    return ", ".join(parts)


def _started(study: optuna.Study) -> int:
    """Trials that ran or run (not the queued ones): what a run's trial limit adds to."""
    return sum(t.state != TrialState.WAITING for t in _counted(study))


def _counted(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The study's trials, less those a worker drew past the trial limit and never ran."""
    return [
        t
        for t in study.get_trials(deepcopy=False)
        if trial_figures(t).get(PRUNED) != TrialLimit.REASON
    ]


# --------------------------------------------------------------------- finalists
def _measure_finalists(
    problem: SearchProblem,
    picked: Sequence[TrialRecord],
    baseline_cv: float,
    max_total_s: float,
    runtime: str = "python",
) -> tuple[list[Finalist], list[Any], Finalist]:
    """Refit finalists and the baseline on the dev part; measure them one at a time.

    Two measuring rounds, each model alone in turn; the lower of its two medians is
    kept (interference from other work on the machine only ever adds time). Each model
    is timed end to end as ``load_model(...).predict`` serves it (a HalfcostModel around
    the pipeline: column selection, type checks, encoder, model). With ``runtime="onnx"``
    every model is then converted, checked and re-measured in ONNX Runtime
    (:func:`_in_onnx`).

    Returns:
        The finalists, their models fitted on the dev part (same order), the baseline.
    """
    split = problem.split
    fitted = []
    for record in picked:
        model = problem.build(record.params)
        train_s = quiet_fit(model, split.x_dev, split.y_dev)
        holdout = problem.score(model, split.x_hold, split.y_hold)
        fitted.append((record, model, train_s, holdout, _recheck(problem, record.params)))
    base_model = problem.baseline_model()
    base_train_s = quiet_fit(base_model, split.x_dev, split.y_dev)
    base_holdout = problem.score(base_model, split.x_hold, split.y_hold)
    models = [m for _, m, _, _, _ in fitted] + [base_model]
    sizes = [model_size_bytes(m, exact=False) for m in models]  # one method for all
    python = _measure_all(problem, [(m, _served(problem, m)) for m in models], sizes, max_total_s)
    costs: list[CostMeasurement] = list(python)
    runtimes, notes = ["python"] * len(models), [None] * len(models)
    if runtime == "onnx":
        costs, runtimes, notes = _in_onnx(problem, models, python, max_total_s)
    train = [t for _, _, t, _, _ in fitted] + [base_train_s]
    costs = [replace(c, train_seconds=t) for c, t in zip(costs, train, strict=True)]
    python = [replace(c, train_seconds=t) for c, t in zip(python, train, strict=True)]

    def finalist(i: int, params, trial, cv, holdout, recheck=None) -> Finalist:
        return Finalist(
            params,
            trial,
            cv,
            holdout,
            costs[i],
            recheck,
            runtime=runtimes[i],
            runtime_note=notes[i],
            python_cost=python[i] if runtimes[i] != "python" else None,
        )

    finalists = [
        finalist(i, record.params, record.trial, record.cv_score, holdout, recheck)
        for i, (record, _, _, holdout, recheck) in enumerate(fitted)
    ]
    params = {"family": BASELINE_FAMILY, "n_features": len(problem.plan.features)}
    baseline = finalist(len(models) - 1, params, None, baseline_cv, base_holdout)
    return finalists, models[:-1], baseline


def _served(problem: SearchProblem, pipeline: Any, runner: Any = None) -> HalfcostModel:
    """``pipeline`` as ``load_model`` serves it, for end-to-end timing."""
    meta = {
        "task": problem.context.task,
        "feature_columns": list(problem.plan.features),
        "column_kinds": dict(problem.plan.kinds),
        "classes": list(range(problem.n_classes)),
    }
    return HalfcostModel(pipeline, meta, {}, runner)


def _measure_all(
    problem: SearchProblem,
    models: Sequence[tuple[Any, Any]],
    sizes: Sequence[int],
    max_total_s: float,
) -> list[CostMeasurement]:
    """Each model measured alone in turn, twice; the lower of each figure's two medians.

    ``models`` are (what predicts a batch, what serves a single-row request) pairs.
    """
    best: list[CostMeasurement | None] = [None] * len(models)
    batch = problem.split.batch[problem.plan.features]
    for _ in range(2):
        for i, (model, served) in enumerate(models):
            cost = measure_cost(
                model, batch, size_bytes=sizes[i], max_total_s=max_total_s, served=served
            )
            best[i] = cost if best[i] is None else _lower(best[i], cost)
    return [c for c in best if c is not None]


def _lower(a: CostMeasurement, b: CostMeasurement) -> CostMeasurement:
    return replace(
        a,
        latency_ms_per_1k=min(a.latency_ms_per_1k, b.latency_ms_per_1k),
        single_row_latency_ms=min(a.single_row_latency_ms, b.single_row_latency_ms),
        single_row_p99_ms=min(a.single_row_p99_ms or math.inf, b.single_row_p99_ms or math.inf),
    )


def _in_onnx(
    problem: SearchProblem,
    models: Sequence[Any],
    python: Sequence[CostMeasurement],
    max_total_s: float,
) -> tuple[list[CostMeasurement], list[str], list[str | None]]:
    """Each model converted to ONNX, checked against Python and re-measured there.

    A model that can't be converted, or whose ONNX predictions disagree, keeps its
    Python figures and a note saying why.
    """
    from halfcost.automl._onnx import OnnxConversionError, converted

    costs, runtimes, notes = list(python), ["python"] * len(models), [None] * len(models)
    served, at = [], []
    for i, model in enumerate(models):
        try:
            runner = converted(model, problem.split.batch, is_classifier=_is_classifier(problem))
        except OnnxConversionError as exc:
            notes[i] = f"measured in Python: not converted to ONNX ({exc})"
            continue
        served.append(((runner, _served(problem, model, runner)), runner.size_bytes))
        at.append(i)
    measured = _measure_all(problem, [m for m, _ in served], [b for _, b in served], max_total_s)
    for i, cost in zip(at, measured, strict=True):
        costs[i], runtimes[i] = cost, "onnx"
    return costs, runtimes, notes


def _is_classifier(problem: SearchProblem) -> bool:
    return problem.context.is_classification


def _recheck(problem: SearchProblem, params: dict[str, Any]) -> float | None:
    """Mean score on the second CV split (small data only; None when not rechecked)."""
    split = problem.split
    if split.recheck_folds is None:
        return None
    scores = []
    for train, valid in split.recheck_folds:
        model = problem.build(params)
        quiet_fit(model, split.x_dev.iloc[train], split.y_dev[train])
        scores.append(problem.score(model, split.x_dev.iloc[valid], split.y_dev[valid]))
    return float(np.mean(scores))


# --------------------------------------------------------------------- final model
def _importances(problem: SearchProblem, dev_model: Any, seed: int) -> dict[str, float]:
    """Permutation importance of each raw column: fitted on the dev part, scored held out.

    ``sklearn.inspection.permutation_importance`` of the chosen model (fitted on the
    dev part only) on up to 2,000 held-out rows, with a smooth loss (log loss for
    classes, squared error for values) so that small changes count. Raw columns the
    model does not use get 0; negative means (noise) count as 0; the values sum to 1.
    """
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import log_loss

    split = problem.split
    used = list(raw_step(dev_model).columns_)
    labels = np.arange(problem.n_classes)

    def smooth_score(model: Any, x: pd.DataFrame, y: np.ndarray) -> float:
        if problem.context.is_classification:
            return -float(log_loss(y, model.predict_proba(x), labels=labels))
        return -float(np.mean((model.predict(x) - y) ** 2))

    rows = len(split.y_hold)
    result = permutation_importance(
        dev_model,
        split.x_hold[used],
        split.y_hold,
        scoring=smooth_score,
        n_repeats=IMPORTANCE_REPEATS,
        n_jobs=1,
        random_state=seed,
        max_samples=min(rows, IMPORTANCE_SAMPLE_ROWS),
    )
    raw = dict.fromkeys(problem.plan.features, 0.0)
    for column, value in zip(used, result.importances_mean, strict=True):
        raw[column] = max(0.0, float(value))
    total = sum(raw.values())
    if total <= 0:
        return {c: (1.0 / len(used) if c in used else 0.0) for c in raw}
    return {c: v / total for c, v in raw.items()}


def _final_model(
    problem: SearchProblem,
    chosen: Finalist,
    data: _Data,
    importances: dict[str, float],
    messages: list[str] | None = None,
) -> tuple[HalfcostModel, float]:
    """The chosen parameters refit on every row, with their metadata and importances.

    A finalist chosen on its ONNX Runtime figures is converted again after the refit
    (and checked again); should that fail, the model is served in Python, with a warning.
    """
    model = problem.build(chosen.params)
    refit_s = quiet_fit(model, data.x[problem.plan.features], data.codes)
    runner = None
    if chosen.runtime == "onnx":
        from halfcost.automl._onnx import OnnxConversionError, converted

        try:
            runner = converted(model, problem.split.batch, is_classifier=_is_classifier(problem))
        except OnnxConversionError as exc:
            _warn(f"the refit model is served in Python: {exc}", messages or [], param="runtime")
    metadata = {
        "target": data.target,
        "task": problem.context.task,
        "metric": problem.metric.name,
        "min_score": problem.min_score,
        "feature_columns": list(problem.plan.features),
        "used_columns": list(raw_step(model).columns_),
        "column_kinds": dict(problem.plan.kinds),
        "classes": data.classes,
        "family": chosen.params["family"],
        "params": family_params(chosen.params),
        "n_features": int(chosen.params["n_features"]),
        "cv_score": chosen.cv_score,
        "holdout_score": chosen.holdout_score,
        "met": chosen.met(problem.min_score),
        "holdout_met": bool(chosen.holdout_score >= problem.min_score),
        "trained_rows": len(data.codes),
        "refit_seconds": refit_s,
        "created_at": datetime.now(UTC).isoformat(),
        "versions": version_info(),
    }
    return HalfcostModel(model, metadata, importances, runner), refit_s
