"""The cheapest-model search: the least costly model whose cross-validated score meets a target.

Protocol: a stratified hold-out part is cut first; K-fold cross-validation runs on the
rest. An Optuna study (TPE, seeded) draws a model family, its cost-driving knobs and how
many of the most useful columns to keep. A trial reports its fold scores and is pruned
as soon as the folds show it cannot reach the target; only trials that meet the target
get their serving cost measured, and the study minimizes that cost under the constraint
``min_score - cv_score <= 0``. Finalists are then refit and re-measured one after
another, alone, next to the LightGBM-defaults baseline, the cheapest is chosen and
refit on all the data.
"""

from __future__ import annotations

import hashlib
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from halfcost import __version__
from halfcost.automl._cost import (
    CostMeasurement,
    cost_per_1m_predictions_usd,
    measure_cost,
    model_size_bytes,
    prediction_batch,
    single_thread,
    train_cost_usd,
)
from halfcost.automl._families import (
    ModelFamily,
    SearchContext,
    default_families,
    lightgbm_defaults,
)
from halfcost.automl._metrics import CLASSIFICATION, DEFAULT_METRIC, Metric, get_metric
from halfcost.automl._model_io import HalfcostModel, version_info
from halfcost.automl._prep import (
    ColumnPlan,
    TableEncoder,
    check_task,
    encode_target,
    plan_columns,
)
from halfcost.errors import BadInputError

DEFAULT_STUDY_PREFIX = "halfcost-search"
LARGE_DATA_ROWS = 20_000
# Up to this many dev rows, finalists are cross-validated again on a second, independently
# shuffled split: on small data the trial that wins on one split is often lucky on it
# (many column subsets and settings tried against few rows), and a fresh split is an
# estimate free of that selection. Above it, folds are large enough that the luck is small
# and the refits would cost real time.
RECHECK_MAX_ROWS = 5_000
IMPORTANCE_SAMPLE_ROWS = 2_000


class SearchWarning(UserWarning):
    """Something the user should know about their data or run (an id column dropped, ...)."""


@dataclass
class _Split:
    """The data of one search: dev part (for CV), hold-out part, folds, timing batch."""

    x_dev: pd.DataFrame
    y_dev: np.ndarray
    x_hold: pd.DataFrame
    y_hold: np.ndarray
    folds: list[tuple[np.ndarray, np.ndarray]]
    batch: pd.DataFrame
    recheck_folds: list[tuple[np.ndarray, np.ndarray]] | None = None


@dataclass
class _Finalist:
    """A candidate model refit on the dev part and measured for the report."""

    params: dict[str, Any]
    trial: int | None
    cv_score: float
    holdout_score: float
    cost: CostMeasurement
    recheck_score: float | None = None

    def met(self, min_score: float) -> bool:
        return self.cv_score >= min_score


def _warn(message: str) -> None:
    warnings.warn(message, SearchWarning, stacklevel=3)


def _quiet_fit(model: Any, x: pd.DataFrame, y: np.ndarray) -> float:
    """Fit ``model`` silencing convergence chatter; return the fit time in seconds."""
    from sklearn.exceptions import ConvergenceWarning

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*does not have valid feature names.*")
        model.fit(x, y)
    return time.perf_counter() - started


def _predict_for(model: Any, x: pd.DataFrame, metric: Metric) -> np.ndarray:
    return model.predict_proba(x) if metric.needs_proba else model.predict(x)


def _pipeline(columns: list[str], kinds: dict[str, str], encoding: str, estimator: Any, task: str):
    from sklearn.pipeline import Pipeline

    encoder = TableEncoder(
        columns=columns, kinds={c: kinds[c] for c in columns}, mode=encoding, task=task
    )
    return Pipeline([("encode", encoder), ("model", estimator)])


def _pareto(points: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries no other entry beats on both latency (lower) and CV score (higher)."""
    front = []
    for p in points:
        dominated = any(
            q["latency_ms_per_1k"] <= p["latency_ms_per_1k"]
            and q["cv_score"] >= p["cv_score"]
            and (q["latency_ms_per_1k"] < p["latency_ms_per_1k"] or q["cv_score"] > p["cv_score"])
            for q in points
        )
        if not dominated:
            front.append(p)
    return sorted(front, key=lambda p: p["latency_ms_per_1k"])


class CheapestModelSearch:
    """Find the cheapest model to serve whose cross-validated score meets ``min_score``.

    Scikit-learn style: ``__init__`` stores the settings, :meth:`fit` does the work and
    sets ``best_model_`` (a :class:`HalfcostModel`), ``report_`` (the report dict),
    ``study_`` (the Optuna study), ``met_`` (whether the target was met) and
    ``warnings_`` (messages about the data, e.g. dropped id columns).

    Args:
        metric: accuracy, balanced_accuracy, f1, roc_auc (classification), r2 or
            neg_rmse (regression); default accuracy or r2.
        min_score: the target, met in cross-validation.
        budget_s: seconds for the search itself (baseline, re-measurement and refit
            come on top and are reported).
        seed: seeds the split, the folds, the sampler and the estimators.
        task: classification or regression; inferred from the target when None.
        holdout: share of rows held out before the search (stratified).
        cv: cross-validation folds; None: 5, or 3 above 20k rows.
        storage: Optuna storage URL; None: ``sqlite:///<out_dir>/study.db`` when
            ``out_dir`` is given, else in memory.
        study_name: name of the study; None: derived from the data and settings, so
            a rerun on the same data resumes it.
        price_per_hour: price of one core-hour of the serving machine, for money figures.
        families: the :class:`ModelFamily` plug-ins to search; None: the defaults.
        out_dir: folder for the default storage (results are written by the caller).
        drop: columns never to use as features.
        progress: show a progress bar on stderr.
        n_finalists: how many candidates are refit and re-measured at the end.
        patience: stop before the budget is spent when this many trials in a row found
            no model meeting the target at least 2% cheaper (None: use the whole budget).
    """

    def __init__(
        self,
        metric: str | None = None,
        min_score: float | None = None,
        budget_s: float = 120.0,
        seed: int = 0,
        task: str | None = None,
        holdout: float = 0.2,
        cv: int | None = None,
        storage: str | None = None,
        study_name: str | None = None,
        price_per_hour: float | None = None,
        families: Sequence[ModelFamily] | None = None,
        out_dir: str | None = None,
        drop: Sequence[str] = (),
        progress: bool = False,
        n_finalists: int = 6,
        patience: int | None = 60,
    ):
        self.metric = metric
        self.min_score = min_score
        self.budget_s = budget_s
        self.seed = seed
        self.task = task
        self.holdout = holdout
        self.cv = cv
        self.storage = storage
        self.study_name = study_name
        self.price_per_hour = price_per_hour
        self.families = families
        self.out_dir = out_dir
        self.drop = drop
        self.progress = progress
        self.n_finalists = n_finalists
        self.patience = patience

    # ----------------------------------------------------------------- validation
    def _check_settings(self) -> None:
        if self.min_score is None:
            raise BadInputError("min_score is required: the score the model must reach.")
        if not isinstance(self.budget_s, int | float) or not self.budget_s > 0:
            raise BadInputError(f"budget_s must be a positive number, but got {self.budget_s!r}.")
        if not 0 < float(self.holdout) < 0.9:
            raise BadInputError(f"holdout must be in (0, 0.9), but got {self.holdout!r}.")
        if self.cv is not None and (not isinstance(self.cv, int) or self.cv < 2):
            raise BadInputError(f"cv must be an integer ≥ 2, but got {self.cv!r}.")
        if self.price_per_hour is not None and not float(self.price_per_hour) >= 0:
            raise BadInputError(f"price_per_hour must be ≥ 0, but got {self.price_per_hour!r}.")

    def _check_classes(self, y: np.ndarray, classes: list) -> None:
        counts = np.bincount(y, minlength=len(classes))
        rare = [str(classes[i]) for i in np.flatnonzero(counts < 2)]
        if rare:
            raise BadInputError(
                f"class(es) {', '.join(rare)} have a single row; a stratified hold-out needs "
                "at least two rows per class: add rows or drop those rows."
            )

    # ----------------------------------------------------------------- data
    def _split(self, x: pd.DataFrame, y: np.ndarray, task: str) -> _Split:
        from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

        stratify = y if task == CLASSIFICATION else None
        idx = np.arange(len(y))
        n_hold = max(round(len(y) * float(self.holdout)), 1)
        if task == CLASSIFICATION:
            n_hold = max(n_hold, int(y.max()) + 1)
        dev_idx, hold_idx = train_test_split(
            idx, test_size=n_hold, stratify=stratify, random_state=self.seed
        )
        n_folds = self.cv or (3 if len(dev_idx) > LARGE_DATA_ROWS else 5)
        y_dev = y[dev_idx]
        if task == CLASSIFICATION:
            smallest = int(np.bincount(y_dev).min())
            if smallest < n_folds:
                n_folds = max(2, smallest)
            splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=self.seed)
        else:
            splitter = KFold(n_splits=n_folds, shuffle=True, random_state=self.seed)
        x_dev = x.iloc[dev_idx].reset_index(drop=True)
        labels = y_dev if stratify is not None else None
        folds = list(splitter.split(np.zeros(len(y_dev)), labels))
        recheck_folds = None
        if len(y_dev) <= RECHECK_MAX_ROWS:
            splitter.random_state = self.seed + 1
            recheck_folds = list(splitter.split(np.zeros(len(y_dev)), labels))
        return _Split(
            x_dev=x_dev,
            y_dev=y_dev,
            x_hold=x.iloc[hold_idx].reset_index(drop=True),
            y_hold=y[hold_idx],
            folds=folds,
            batch=prediction_batch(x_dev, seed=self.seed),
            recheck_folds=recheck_folds,
        )

    def _fingerprint(self, x: pd.DataFrame, y: np.ndarray, target: str, task: str) -> str:
        digest = hashlib.sha256()
        digest.update(pd.util.hash_pandas_object(x, index=False).to_numpy().tobytes())
        digest.update(np.asarray(y).tobytes())
        settings = (target, task, self.metric_.name, self.holdout, self.cv, self.seed)
        digest.update(repr(settings).encode())
        digest.update(",".join(f.name for f in self.families_).encode())
        return digest.hexdigest()

    def _rank_columns(self, split: _Split, plan: ColumnPlan) -> list[str]:
        """Raw columns ordered by usefulness: gain of a quick LightGBM fit, computed once."""
        import lightgbm

        ctx = self.context_
        cls = lightgbm.LGBMClassifier if ctx.is_classification else lightgbm.LGBMRegressor
        quick = cls(
            n_estimators=50,
            learning_rate=0.1,
            n_jobs=1,
            verbose=-1,
            random_state=self.seed,
            importance_type="gain",
        )
        model = _pipeline(plan.features, plan.kinds, "native", quick, ctx.task)
        _quiet_fit(model, split.x_dev[plan.features], split.y_dev)
        gains: dict[str, float] = dict.fromkeys(plan.features, 0.0)
        sources = model.named_steps["encode"].output_sources_
        for source, gain in zip(
            sources, model.named_steps["model"].feature_importances_, strict=True
        ):
            gains[source] += float(gain)
        total = sum(gains.values()) or 1.0
        self.column_gain_ = {c: g / total for c, g in gains.items()}
        return sorted(plan.features, key=lambda c: -gains[c])

    def _useful_count(self) -> int:
        """How many top columns carry 99% of the quick model's gain."""
        shares = sorted(self.column_gain_.values(), reverse=True)
        total = 0.0
        for count, share in enumerate(shares, start=1):
            total += share
            if total >= 0.99:
                return count
        return len(shares)

    # ----------------------------------------------------------------- models
    def _family(self, name: str) -> ModelFamily:
        for family in self.families_:
            if family.name == name:
                return family
        raise KeyError(name)

    def _build(self, params: dict[str, Any]):
        """The unfitted pipeline a trial's (or a stored trial's) parameters describe."""
        import optuna

        family = self._family(params["family"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator = family.suggest(optuna.trial.FixedTrial(params), self.context_)
        keep = set(self.ranking_[: int(params["n_features"])])
        columns = [c for c in self.plan_.features if c in keep]
        return _pipeline(columns, self.plan_.kinds, family.encoding, estimator, self.context_.task)

    def _score(self, model: Any, x: pd.DataFrame, y: np.ndarray) -> float:
        prediction = _predict_for(model, x, self.metric_)
        return self.metric_(y, prediction, self.n_classes_)

    def _cv_scores(
        self, make_model, on_fold=None, family: ModelFamily | None = None, stage_scores=None
    ) -> tuple[list[float], Any, float]:
        """Cross-validate; ``on_fold(i, scores, rough_ms_per_1k)`` may raise to stop early.

        For a staged ``family``, each fold's model is also scored at every stage, into
        ``stage_scores`` (stage -> fold scores).

        Returns the fold scores, the last fold's fitted model and a rough latency (ms per
        1k rows, from timing the validation predictions).
        """
        split = self.split_
        scores: list[float] = []
        predict_s, predicted_rows = 0.0, 0
        model = None
        for i, (train, valid) in enumerate(split.folds):
            model = make_model()
            _quiet_fit(model, split.x_dev.iloc[train], split.y_dev[train])
            started = time.perf_counter()
            prediction = _predict_for(model, split.x_dev.iloc[valid], self.metric_)
            predict_s += time.perf_counter() - started
            predicted_rows += len(valid)
            value = self.metric_(split.y_dev[valid], prediction, self.n_classes_)
            scores.append(value if math.isfinite(value) else float("-inf"))
            if stage_scores is not None and family is not None:
                self._score_stages(model, family, split.x_dev.iloc[valid], valid, stage_scores)
            rough = predict_s * 1e6 / max(predicted_rows, 1)
            if on_fold is not None:
                on_fold(i, scores, rough)
        return scores, model, predict_s * 1e6 / max(predicted_rows, 1)

    def _score_stages(self, model, family, x_valid, valid, stage_scores) -> None:
        encoded = model[:-1].transform(x_valid)
        estimator = model[-1]
        for stage in family.stages(estimator):
            prediction = family.predict_stage(estimator, encoded, stage, self.metric_.needs_proba)
            value = self.metric_(self.split_.y_dev[valid], prediction, self.n_classes_)
            stage_scores.setdefault(stage, []).append(
                value if math.isfinite(value) else float("-inf")
            )

    # ----------------------------------------------------------------- the study
    def _open_study(self, fingerprint: str):
        import optuna

        storage = self.storage
        if storage is None and self.out_dir is not None:
            from pathlib import Path

            Path(self.out_dir).mkdir(parents=True, exist_ok=True)
            storage = f"sqlite:///{Path(self.out_dir).resolve() / 'study.db'}"
        name = self.study_name or f"{DEFAULT_STUDY_PREFIX}-{fingerprint[:12]}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(
                seed=self.seed, multivariate=True, group=True, n_startup_trials=8
            )
        try:
            study = optuna.create_study(
                storage=storage,
                study_name=name,
                sampler=sampler,
                direction="minimize",
                load_if_exists=True,
            )
        except Exception as exc:  # SQLAlchemy/driver errors come in many types
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BadInputError(
                f"cannot open the study storage {storage!r} ({reason[:200]}); check the "
                "--storage URL and that the database is running."
            ) from exc
        stored = study.user_attrs.get("fingerprint")
        if stored is None:
            study.set_user_attr("fingerprint", fingerprint)
        elif stored != fingerprint:
            raise BadInputError(
                f"study {name!r} was made for other data or settings; give another --study "
                "name (or another --out) to start a new search."
            )
        self.storage_url_ = storage
        return study

    def _enqueue_known_good(self, study) -> None:
        if study.trials:
            return
        n_all = len(self.ranking_)
        n_useful = min(n_all, max(1, self._useful_count()))
        points = {
            family.name: family.known_good_points(self.context_)
            for family in self.families_
            if family.supports(self.context_)
        }
        # round-robin after a first round of each family's leading points (its
        # ``first_round_points``), so every family is tried early
        order: list[tuple[int, int, str]] = []
        for rank, (name, family_points) in enumerate(points.items()):
            lead = self._family(name).first_round_points
            for j in range(len(family_points)):
                order.append((0 if j < lead else j, rank, name))
        counters: dict[str, int] = {}
        for _, _, name in sorted(order):
            family = self._family(name)
            j = counters[name] = counters.get(name, -1) + 1
            params = {family.param_name(k): v for k, v in points[name][j].items()}
            k = n_useful if (j == 0 and family.encoding == "native") else n_all
            study.enqueue_trial({"family": name, "n_features": k, **params})

    def _objective(self, trial) -> float:
        import optuna
        from sklearn.base import clone

        names = [f.name for f in self.families_ if f.supports(self.context_)]
        family = self._family(trial.suggest_categorical("family", names))
        n_all = len(self.ranking_)
        k = trial.suggest_int("n_features", 1, n_all)
        estimator = family.suggest(trial, self.context_)
        keep = set(self.ranking_[:k])
        columns = [c for c in self.plan_.features if c in keep]

        def make_model():
            return _pipeline(
                columns, self.plan_.kinds, family.encoding, clone(estimator), self.context_.task
            )

        staged = family.stage_param is not None
        stage_scores: dict[int, list[float]] | None = {} if staged else None

        def on_fold(i: int, scores: list[float], rough: float) -> None:
            if stage_scores:  # the best stage so far decides (a cut model may score higher)
                scores = max(stage_scores.values(), key=lambda v: float(np.mean(v)))
            mean = float(np.mean(scores))
            trial.report(mean, i)
            reason = self._prune_reason(i, scores, rough, cost_bound=not staged)
            if reason:
                trial.set_user_attr("pruned", reason)
                trial.set_user_attr("cv_score_partial", mean)
                trial.set_constraint("score", self.min_score_ - mean)
                raise optuna.TrialPruned(reason)

        scores, last_model, rough = self._cv_scores(make_model, on_fold, family, stage_scores)
        if stage_scores:
            stage, scores = self._pick_stage(stage_scores)
            if stage != max(stage_scores):
                trial.set_user_attr("overrides", {family.param_name(family.stage_param): stage})
                last_model = self._fit_stage(make_model, family, stage)
        cv_score = float(np.mean(scores))
        trial.set_user_attr("cv_score", cv_score)
        trial.set_user_attr("fold_scores", scores)
        trial.set_user_attr("rough_ms_per_1k", rough)
        trial.set_constraint("score", self.min_score_ - cv_score)
        self.completed_any_ = True
        if cv_score < self.min_score_:
            return rough
        cost = measure_cost(
            last_model, self.split_.batch, repeats=3, max_total_s=0.5, exact_size=False
        )
        trial.set_user_attr("latency_ms_per_1k", cost.latency_ms_per_1k)
        trial.set_user_attr("size_bytes", cost.size_bytes)
        if self.best_rough_ is None or rough < self.best_rough_:
            self.best_rough_ = rough
        return cost.latency_ms_per_1k

    def _pick_stage(self, stage_scores: dict[int, list[float]]) -> tuple[int, list[float]]:
        """The smallest stage meeting the target, else the best-scoring one."""
        means = {stage: float(np.mean(v)) for stage, v in stage_scores.items()}
        meeting = [stage for stage in sorted(means) if means[stage] >= self.min_score_]
        stage = meeting[0] if meeting else max(means, key=means.get)
        return stage, stage_scores[stage]

    def _fit_stage(self, make_model, family: ModelFamily, stage: int):
        """The trial's model with ``stage`` as its size, fit on the last fold (to time it)."""
        model = make_model()
        model[-1].set_params(**{family.stage_param: stage})
        train, _ = self.split_.folds[-1]
        _quiet_fit(model, self.split_.x_dev.iloc[train], self.split_.y_dev[train])
        return model

    def _prune_reason(
        self, fold: int, scores: list[float], rough: float, cost_bound: bool = True
    ) -> str | None:
        """Why to stop a trial after ``fold``, or None to go on.

        Score bound: the mean so far plus an optimistic slack (wide after one fold,
        then twice the fold spread) still falls short of the target. Cost bound: its
        rough latency is already over twice the cheapest feasible trial's. Budget: the
        search time is up.
        """
        if time.monotonic() > self.deadline_ and self.completed_any_:
            return "budget"
        remaining = len(self.split_.folds) - fold - 1
        if remaining <= 0:
            return None
        mean = float(np.mean(scores))
        scale = self._scale()
        if len(scores) == 1:
            slack = 0.03 * scale
        else:
            slack = max(0.005 * scale, 2.0 * float(np.std(scores)))
        if mean + slack < self.min_score_:
            return "cannot reach the target"
        if cost_bound and self.best_rough_ is not None and rough > 2.0 * self.best_rough_:
            return "costlier than a model that meets the target"
        return None

    def _run_study(self, study) -> None:
        import lightgbm
        import optuna

        started = time.monotonic()
        self.deadline_ = started + float(self.budget_s)
        bar = _Progress(self.budget_s, enabled=self.progress)

        best = {"latency": math.inf, "since": 0}
        self.stopped_early_ = None

        def callback(study, trial) -> None:
            bar.update(study, time.monotonic() - started)
            latency = trial.user_attrs.get("latency_ms_per_1k")
            if latency is not None and latency < 0.98 * best["latency"]:
                best["latency"], best["since"] = latency, 0
            else:
                best["since"] += 1
            if self.patience and math.isfinite(best["latency"]) and best["since"] >= self.patience:
                self.stopped_early_ = (
                    f"no cheaper model meeting the target in {self.patience} trials"
                )
                study.stop()

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            try:
                study.optimize(
                    self._objective,
                    timeout=float(self.budget_s),
                    callbacks=[callback],
                    # an estimator refusing a parameter combination fails its trial only
                    catch=(
                        ValueError,
                        ArithmeticError,
                        np.linalg.LinAlgError,
                        lightgbm.basic.LightGBMError,
                    ),
                    gc_after_trial=False,
                )
            finally:
                bar.close()
        self.search_seconds_ = time.monotonic() - started

    # ----------------------------------------------------------------- finalists
    def _trial_records(self, study) -> list[dict[str, Any]]:
        import optuna

        known = {f.name for f in self.families_}
        trials = [t for t in study.get_trials(deepcopy=False) if t.params.get("family") in known]
        records = [
            {
                "trial": t.number,
                "params": {**t.params, **t.user_attrs.get("overrides", {})},
                "cv_score": float(t.user_attrs["cv_score"]),
                "latency": float(
                    t.user_attrs.get("latency_ms_per_1k", t.user_attrs["rough_ms_per_1k"])
                ),
                "measured": "latency_ms_per_1k" in t.user_attrs,
            }
            for t in trials
            if t.state == optuna.trial.TrialState.COMPLETE and "cv_score" in t.user_attrs
        ]
        if records:
            return records
        # Every trial was stopped early: fall back on their partial scores, so the
        # report still names the best score reached and the model that reached it.
        return [
            {
                "trial": t.number,
                "params": dict(t.params),
                "cv_score": float(t.user_attrs["cv_score_partial"]),
                "latency": 0.0,
                "measured": False,
            }
            for t in trials
            if t.state == optuna.trial.TrialState.PRUNED and "cv_score_partial" in t.user_attrs
        ]

    def _pick_finalists(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The cheapest trials meeting the target, then the Pareto front, ``n_finalists`` in all
        (or the best-scoring trials when none met the target)."""
        feasible = [r for r in records if r["cv_score"] >= self.min_score_ and r["measured"]]
        picked: dict[int, dict[str, Any]] = {}
        cheapest_first = sorted(feasible, key=lambda r: r["latency"])
        for r in cheapest_first[: max(1, self.n_finalists - 2)]:
            picked[r["trial"]] = r
        front = _pareto([{**r, "latency_ms_per_1k": r["latency"]} for r in records])
        for r in front + cheapest_first:
            if len(picked) >= self.n_finalists:
                break
            picked.setdefault(r["trial"], r)
        if not feasible:
            for r in sorted(records, key=lambda r: -r["cv_score"])[:3]:
                picked.setdefault(r["trial"], r)
        return list(picked.values())

    def _refit_and_measure(
        self, finalists: list[dict[str, Any]]
    ) -> tuple[list[_Finalist], _Finalist]:
        """Refit finalists and the baseline on the dev part; measure them one at a time.

        Two measuring rounds, each model alone in turn; the lower of its two medians is
        kept (interference from other work on the machine only ever adds time).
        """
        split = self.split_
        fitted = []
        for record in finalists:
            model = self._build(record["params"])
            train_s = _quiet_fit(model, split.x_dev, split.y_dev)
            holdout = self._score(model, split.x_hold, split.y_hold)
            fitted.append((record, model, train_s, holdout, self._recheck(record["params"])))
        base_model = self._baseline_model()
        base_train_s = _quiet_fit(base_model, split.x_dev, split.y_dev)
        base_holdout = self._score(base_model, split.x_hold, split.y_hold)
        models = [m for _, m, _, _, _ in fitted] + [base_model]
        sizes = [model_size_bytes(m, exact=False) for m in models]  # one method for all
        best = [math.inf] * len(models)
        single = [math.inf] * len(models)
        # timing effort scales with the budget: a quick search gets quick measurements
        max_total_s = min(1.0, max(0.2, float(self.budget_s) / 20))
        for _ in range(2):
            for i, model in enumerate(models):
                cost = measure_cost(
                    model, split.batch, size_bytes=sizes[i], max_total_s=max_total_s
                )
                best[i] = min(best[i], cost.latency_ms_per_1k)
                single[i] = min(single[i], cost.single_row_latency_ms)
        results = []
        for i, (record, _, train_s, holdout, recheck) in enumerate(fitted):
            cost = CostMeasurement(best[i], single[i], sizes[i], train_s)
            results.append(
                _Finalist(
                    record["params"], record["trial"], record["cv_score"], holdout, cost, recheck
                )
            )
        base_cost = CostMeasurement(best[-1], single[-1], sizes[-1], base_train_s)
        baseline = _Finalist(
            {"family": "lightgbm_defaults", "n_features": len(self.plan_.features)},
            None,
            self.baseline_cv_,
            base_holdout,
            base_cost,
        )
        return results, baseline

    def _recheck(self, params: dict[str, Any]) -> float | None:
        """Mean score on the second CV split (small data only; None when not rechecked)."""
        split = self.split_
        if split.recheck_folds is None:
            return None
        scores = []
        for train, valid in split.recheck_folds:
            model = self._build(params)
            _quiet_fit(model, split.x_dev.iloc[train], split.y_dev[train])
            scores.append(self._score(model, split.x_dev.iloc[valid], split.y_dev[valid]))
        return float(np.mean(scores))

    def _baseline_model(self):
        return _pipeline(
            self.plan_.features,
            self.plan_.kinds,
            "native",
            lightgbm_defaults(self.context_),
            self.context_.task,
        )

    def _choose(self, finalists: list[_Finalist]) -> _Finalist:
        """The cheapest finalist meeting the target (size breaks near-ties), else the best
        score reached and the cheapest model reaching it.

        Finalists whose hold-out score falls more than one point (1% of the target's
        scale) below the target, or (small data) whose score on a second CV split falls
        below the target, are passed over when another one meets the target: both are
        independent checks on a cross-validation the finalist may have won by luck.
        """
        met = [f for f in finalists if f.met(self.min_score_)]
        if met:
            tolerance = 0.01 * self._scale()
            confirmed = [
                f
                for f in met
                if f.holdout_score >= self.min_score_ - tolerance
                and (f.recheck_score is None or f.recheck_score >= self.min_score_)
            ]
            pool = confirmed or met
            cheapest = min(f.cost.latency_ms_per_1k for f in pool)
            close = [f for f in pool if f.cost.latency_ms_per_1k <= cheapest * 1.05]
            return min(close, key=lambda f: (f.cost.size_bytes, f.cost.latency_ms_per_1k))
        top = max(f.cv_score for f in finalists)
        return min(
            (f for f in finalists if f.cv_score >= top),
            key=lambda f: f.cost.latency_ms_per_1k,
        )

    def _scale(self) -> float:
        """1 for unitless metrics; the target's magnitude for errors (slacks are relative)."""
        return max(abs(self.min_score_), 1e-9) if self.metric_.in_target_units else 1.0

    # ----------------------------------------------------------------- final model
    def _importances(self, model: Any, x: pd.DataFrame, y: np.ndarray) -> dict[str, float]:
        """Permutation importance of each raw column on a sample, with a smooth loss.

        Raw columns the model does not use get 0; the values sum to 1.
        """
        rng = np.random.default_rng(self.seed)
        rows = rng.permutation(len(x))[:IMPORTANCE_SAMPLE_ROWS]
        sample, truth = x.iloc[rows].reset_index(drop=True), y[rows]
        used = model.named_steps["encode"].columns_

        def loss(frame: pd.DataFrame) -> float:
            if self.context_.is_classification:
                proba = model.predict_proba(frame)
                picked = proba[np.arange(len(truth)), truth]
                return float(-np.mean(np.log(np.clip(picked, 1e-12, None))))
            return float(np.mean((model.predict(frame) - truth) ** 2))

        base = loss(sample)
        raw = dict.fromkeys(self.plan_.features, 0.0)
        for column in used:
            shuffled = sample.copy()
            shuffled[column] = sample[column].to_numpy()[rng.permutation(len(sample))]
            raw[column] = max(0.0, loss(shuffled) - base)
        total = sum(raw.values())
        if total <= 0:
            return {c: (1.0 / len(used) if c in used else 0.0) for c in raw}
        return {c: v / total for c, v in raw.items()}

    def _final_model(self, chosen: _Finalist, x: pd.DataFrame, y: np.ndarray, target: str):
        model = self._build(chosen.params)
        refit_s = _quiet_fit(model, x[self.plan_.features], y)
        importances = self._importances(model, x[self.plan_.features], y)
        family_params = _family_params(chosen.params)
        metadata = {
            "target": target,
            "task": self.context_.task,
            "metric": self.metric_.name,
            "min_score": self.min_score_,
            "feature_columns": list(self.plan_.features),
            "used_columns": list(model.named_steps["encode"].columns_),
            "column_kinds": dict(self.plan_.kinds),
            "classes": self.classes_,
            "family": chosen.params["family"],
            "params": family_params,
            "n_features": int(chosen.params["n_features"]),
            "cv_score": chosen.cv_score,
            "holdout_score": chosen.holdout_score,
            "met": chosen.met(self.min_score_),
            "trained_rows": len(y),
            "refit_seconds": refit_s,
            "created_at": datetime.now(UTC).isoformat(),
            "versions": version_info(),
        }
        return HalfcostModel(model, metadata, importances), refit_s

    # ----------------------------------------------------------------- report
    def _entry(self, f: _Finalist) -> dict[str, Any]:
        entry = {
            "family": f.params["family"],
            "params": _family_params(f.params),
            "n_features": int(f.params["n_features"]),
            "trial": f.trial,
            "met": f.met(self.min_score_),
            "cv_score": f.cv_score,
            "holdout_score": f.holdout_score,
            **f.cost.to_dict(),
        }
        if f.recheck_score is not None:
            entry["recheck_cv_score"] = f.recheck_score
        if self.price_per_hour is not None:
            price = float(self.price_per_hour)
            entry["cost_per_1m_predictions_usd"] = float(
                cost_per_1m_predictions_usd(f.cost.latency_ms_per_1k, price)
            )
            entry["train_cost_usd"] = float(train_cost_usd(f.cost.train_seconds, price))
        return entry

    def _report(self, chosen, baseline, finalists, refit_s, target, records) -> dict[str, Any]:
        chosen_entry, base_entry = self._entry(chosen), self._entry(baseline)
        entries = [self._entry(f) for f in finalists]
        savings = {
            "latency_ratio": chosen.cost.latency_ms_per_1k / baseline.cost.latency_ms_per_1k,
            "size_ratio": chosen.cost.size_bytes / max(baseline.cost.size_bytes, 1),
        }
        if self.price_per_hour is not None:
            savings["cost_per_1m_saved_usd"] = (
                base_entry["cost_per_1m_predictions_usd"]
                - chosen_entry["cost_per_1m_predictions_usd"]
            )
        return {
            "kind": "search",
            "created_at": datetime.now(UTC).isoformat(),
            "halfcost_version": __version__,
            "metric": self.metric_.name,
            "min_score": self.min_score_,
            "met": self.met_,
            "task": self.context_.task,
            "target": target,
            "n_trials": _finished(self.study_),
            "n_trials_this_run": _finished(self.study_) - self.trials_before_,
            "best_cv_score": max([r["cv_score"] for r in records] or [chosen.cv_score]),
            "chosen": chosen_entry,
            "baseline": base_entry,
            "pareto": _pareto(entries),
            "finalists": entries,
            "savings": savings,
            "price_per_hour": self.price_per_hour,
            "budget_s": float(self.budget_s),
            "search_seconds": self.search_seconds_,
            "stopped_early": self.stopped_early_,
            "baseline_seconds": self.baseline_seconds_,
            "finalize_seconds": self.finalize_seconds_,
            "refit_seconds": refit_s,
            "cv_folds": len(self.split_.folds),
            "holdout_share": float(self.holdout),
            "rows": {"dev": len(self.split_.y_dev), "holdout": len(self.split_.y_hold)},
            "classes": self.classes_,
            "features": list(self.plan_.features),
            "dropped_columns": dict(self.plan_.dropped),
            "feature_importances": self.best_model_.feature_importances_,
            "study": {"name": self.study_.study_name, "storage": self.storage_url_},
            "seed": self.seed,
            "trials": _trial_summaries(self.study_),
            "warnings": list(self.warnings_),
        }

    # ----------------------------------------------------------------- fit
    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> CheapestModelSearch:
        """Search, choose, refit on all rows; sets ``best_model_``, ``report_``, ``met_``.

        Everything runs on one thread (``n_jobs=1``, BLAS/OpenMP pools pinned), so the
        measured costs compare models, not how many cores each grabbed.

        Args:
            X: raw feature columns (strings, dates, missing values are fine).
            y: the target, one value per row of ``X``.

        Raises:
            BadInputError: unusable data or settings (the message names the fix).
        """
        with single_thread():
            return self._fit(X, y)

    def _fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> CheapestModelSearch:
        self._check_settings()
        if not isinstance(X, pd.DataFrame):
            raise BadInputError("X must be a pandas DataFrame of raw feature columns.")
        y = pd.Series(y, index=X.index) if not isinstance(y, pd.Series) else y
        target = str(y.name) if y.name is not None else "target"
        self.warnings_: list[str] = []
        labelled = y.notna().to_numpy()
        if not labelled.all():
            message = f"{int((~labelled).sum())} row(s) without a {target!r} value were left out."
            self.warnings_.append(message)
            _warn(message)
            X, y = X[labelled], y[labelled]
        if len(y) < 20:
            raise BadInputError(f"only {len(y)} labelled rows; a search needs at least 20.")
        task = check_task(self.task, y)
        self.metric_ = get_metric(self.metric or DEFAULT_METRIC[task], task)
        self.min_score_ = self.metric_.validate_target(self.min_score)
        codes, self.classes_ = encode_target(y, task, target)
        self.n_classes_ = len(self.classes_)
        if task == CLASSIFICATION:
            self._check_classes(codes, self.classes_)
        self.plan_ = plan_columns(X, target if target in X.columns else None, tuple(self.drop))
        for name, reason in self.plan_.dropped.items():
            if reason.startswith("looks like"):
                message = f"column {name!r} {reason}: not used as a feature (--drop to silence)."
                self.warnings_.append(message)
                _warn(message)
        x = X[self.plan_.features].reset_index(drop=True)
        self.families_ = list(self.families) if self.families is not None else default_families()
        probe = SearchContext(task=task, n_rows=len(y), n_features=len(self.plan_.features))
        if not any(f.supports(probe) for f in self.families_):
            raise BadInputError(f"none of the given model families supports {task}.")
        self.split_ = self._split(x, codes, task)
        self.context_ = SearchContext(
            task=task,
            n_rows=len(self.split_.y_dev),
            n_features=len(self.plan_.features),
            n_classes=self.n_classes_,
            seed=self.seed,
            kinds=dict(self.plan_.kinds),
        )
        study = self._open_study(self._fingerprint(x, codes, target, task))
        self.study_ = study
        self.trials_before_ = _finished(study)

        started = time.monotonic()
        self.ranking_ = self._rank_columns(self.split_, self.plan_)
        base_scores, _, _ = self._cv_scores(self._baseline_model)
        self.baseline_cv_ = float(np.mean(base_scores))
        self.baseline_seconds_ = time.monotonic() - started

        self.best_rough_ = _best_feasible_rough(study, self.min_score_)
        self.completed_any_ = False
        self._enqueue_known_good(study)
        self._run_study(study)

        started = time.monotonic()
        records = self._trial_records(study)
        if not records:
            raise BadInputError(
                f"no trial finished within budget_s={self.budget_s:g}; give a larger --budget-s."
            )
        finalists, baseline = self._refit_and_measure(self._pick_finalists(records))
        chosen = self._choose(finalists)
        self.met_ = chosen.met(self.min_score_)
        self.finalize_seconds_ = time.monotonic() - started
        self.best_model_, refit_s = self._final_model(chosen, x, codes, target)
        self.report_ = self._report(chosen, baseline, finalists, refit_s, target, records)
        return self


def _family_params(params: dict[str, Any]) -> dict[str, Any]:
    """A trial's parameters without the family prefix (``tree.max_depth`` -> ``max_depth``)."""
    family = params["family"]
    prefix = f"{family}."
    return {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}


def _best_feasible_rough(study, min_score: float) -> float | None:
    """The lowest rough latency among stored trials that met the target (for resuming)."""
    values = [
        t.user_attrs["rough_ms_per_1k"]
        for t in study.get_trials(deepcopy=False)
        if t.user_attrs.get("cv_score", -math.inf) >= min_score
        and "rough_ms_per_1k" in t.user_attrs
    ]
    return min(values) if values else None


def _finished(study) -> int:
    """Trials that ran to an end (complete, pruned or failed), not the queued ones."""
    return sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))


def _trial_summaries(study) -> list[dict[str, Any]]:
    """One compact line per trial, for the report's scatter plot."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        if not t.state.is_finished():
            continue
        attrs = t.user_attrs
        rows.append(
            {
                "trial": t.number,
                "state": t.state.name.lower(),
                "family": t.params.get("family"),
                "n_features": t.params.get("n_features"),
                "cv_score": attrs.get("cv_score", attrs.get("cv_score_partial")),
                "latency_ms_per_1k": attrs.get("latency_ms_per_1k"),
                "rough_ms_per_1k": attrs.get("rough_ms_per_1k"),
                "pruned": attrs.get("pruned"),
                "seconds": t.duration.total_seconds() if t.duration else None,
            }
        )
    return rows


class _Progress:
    """A tqdm bar on stderr: time used of the budget, trials, best feasible cost so far."""

    def __init__(self, budget_s: float, enabled: bool):
        self._bar = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(
                total=round(float(budget_s)),
                unit="s",
                desc="search",
                leave=False,
                bar_format="{desc}: {bar} {n:.0f}/{total:.0f}s {postfix}",
            )

    def update(self, study, elapsed_s: float) -> None:
        if self._bar is None:
            return
        import optuna

        feasible = [
            t.value
            for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
            if t.value is not None
            and all(v <= 0 for v in t.constraints.values())
            and "latency_ms_per_1k" in t.user_attrs
        ]
        best = f"{min(feasible):.3g} ms/1k" if feasible else "none yet"
        done = sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))
        left = max(0.0, self._bar.total - elapsed_s)
        self._bar.n = min(elapsed_s, self._bar.total)
        self._bar.set_postfix_str(
            f"trials={done} best feasible={best} left={left:.0f}s", refresh=True
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
