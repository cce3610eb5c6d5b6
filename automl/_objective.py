"""What one trial does: cross-validate the model it draws, fold by fold, and price it.

:class:`SearchObjective` is the Optuna objective: it draws a family, its knobs and a
column count, and asks the study's pruner after each fold whether to go on.
:class:`FoldPruner` is that pruner (an Optuna ``BasePruner``): it stops a trial whose
folds show it cannot reach the target, that is already costlier than a model meeting
it, or that runs past the time budget. Only trials that meet the target get their
serving cost measured; the study minimizes it under the constraint
``min_score - cv_score <= 0``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from halfcost.automl._cost import OBJECTIVES, CostObjective, measure_cost
from halfcost.automl._families import ModelFamily
from halfcost.automl._search_space import SearchProblem, predict_for, quiet_fit
from halfcost.automl._trial_figures import (
    CV_SCORE,
    CV_SCORE_PARTIAL,
    FOLD_SCORES,
    LATENCY,
    OVERRIDES,
    PRUNED,
    ROUGH_LATENCY,
    SINGLE_ROW_LATENCY,
    SIZE_BYTES,
    set_score_constraint,
    trial_figures,
    write_figures,
)

BATCH = OBJECTIVES["batch"]
BUDGET = "budget"
CANNOT_REACH = "cannot reach the target"
COSTLIER = "costlier than a model that meets the target"
# completed trials needed before the pruner trusts its fold offsets and miss spread
MIN_FOR_FOLD_EFFECTS = 5


class FoldPruner(optuna.pruners.BasePruner):
    """Prune a cross-validated trial as soon as its folds show it cannot win.

    After each fold the objective asks this pruner through :meth:`judge`, handing it
    the fold scores and rough latency it holds in memory, and writes nothing to the
    study. Optuna's way (``trial.report`` of the running mean, the inputs stored as
    user attributes, then ``trial.should_prune()``, which reads the trial back) costs
    three writes and a read per fold; on PostgreSQL, dropping them cut a trial's time in
    storage calls by about a quarter (every call timed, as ``bench/scale.py`` does). A
    pruned trial reports its last running mean, which TPE ranks pruned trials by; a
    finished one stores its fold scores once. As an Optuna pruner, :meth:`prune` reads
    the same inputs from a trial's last step and its figures ``fold_scores`` and
    ``rough_ms_per_1k`` (:func:`trial_figures`). A trial is pruned when:

    - **budget**: the search time is up (once one trial of this run completed, so a
      run always ends with at least one finished trial);
    - **cannot reach the target**: with folds left, an optimistic bound on the trial's
      full cross-validated mean is still below the target. The folds are the same for
      every trial, and some are harder than others (on a fraud set the first fold
      scored 0.01-0.05 below a trial's full mean, whatever the model), so the folds are
      treated as blocks, as F-race does: once ``MIN_FOR_FOLD_EFFECTS`` trials completed,
      each fold's offset is their median deviation from their own mean, a partial
      trial's mean is projected from its offset-corrected folds, and the slack is how far
      the completed trials' full means came above that projection from the same first
      folds: their mean miss plus 2.5 standard deviations (at least half a point;
      relative to the target for error metrics). Replayed on 141 unpruned fraud trials
      and 63 regression trials, this pruned 1 trial that met the target in full (at
      +0.0003) where the plain mean with a fixed slack pruned 31. Before then, the plain
      mean so far plus 3 points after one fold, then twice the fold spread;
    - **costlier than a model that meets the target**: its rough latency is over twice
      that of the cheapest trial that met the target (of its own family, with
      ``per_family``). Staged trials report their latency only at the end (the stage
      kept, and so the cost, is known only then).

    Trials of other runs on the same storage count for the cost bound (a resumed
    study keeps its bound). The pruner learns about finished trials through
    :meth:`observe`, which the search passes to ``study.optimize`` as a callback.

    Args:
        min_score: the target.
        n_folds: folds of each trial.
        scale: 1 for unitless metrics; the target's magnitude for error metrics.
        prune_folds: False: only the budget stops a trial (every trial runs all folds).
        cost_bound: False: no cost bound (it is a batch figure; other objectives skip it).
        per_family: bound a trial by the cheapest feasible trial of its own family only
            (for a runtime other than Python, whose figures rank the trials of one
            family right, not families against each other).
    """

    def __init__(
        self,
        min_score: float,
        n_folds: int,
        *,
        scale: float = 1.0,
        prune_folds: bool = True,
        cost_bound: bool = True,
        per_family: bool = False,
    ) -> None:
        self.prune_folds = prune_folds
        self.min_score = float(min_score)
        # the rough latency is a batch figure: it bounds only the batch objective's cost
        self.cost_bound = bool(cost_bound)
        self.per_family = bool(per_family)
        self.n_folds = int(n_folds)
        self.scale = float(scale)
        self._deadline: float | None = None
        self._completed_any = False
        self._best_rough: dict[str | None, float] = {}  # family (None: all) -> latency
        self._complete_folds: list[list[float]] = []  # completed trials' fold scores
        self._reasons: dict[int, str] = {}

    def start(self, study: optuna.Study, budget_s: float | None) -> None:
        """Begin a run: the time budget starts now; stored trials set the cost bound."""
        self._deadline = None if budget_s is None else time.monotonic() + float(budget_s)
        self._completed_any = False
        self._reasons.clear()
        self._best_rough = {}
        self._complete_folds = []
        for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            self._learn(trial)

    def observe(self, study: optuna.Study, trial: FrozenTrial) -> None:
        """Study callback: learn from a finished trial (cost bound, budget rule)."""
        if trial.state == TrialState.COMPLETE:
            self._completed_any = True
            self._learn(trial)

    def _learn(self, trial: FrozenTrial) -> None:
        """Note a completed trial: its fold scores (fold offsets) and its cost (bound)."""
        figures = trial_figures(trial)
        folds = figures.get(FOLD_SCORES)
        if (
            isinstance(folds, list)
            and len(folds) == self.n_folds
            and all(isinstance(v, (int, float)) and math.isfinite(v) for v in folds)
        ):
            self._complete_folds.append([float(v) for v in folds])
        if figures.get(CV_SCORE, -math.inf) >= self.min_score and ROUGH_LATENCY in figures:
            rough = float(figures[ROUGH_LATENCY])
            key = self._bound_key(trial.params.get("family"))
            if rough < self._best_rough.get(key, math.inf):
                self._best_rough[key] = rough

    def _bound_key(self, family: str | None) -> str | None:
        return family if self.per_family else None

    def reason(self, trial: FrozenTrial) -> str | None:
        """Why to stop ``trial`` after its last reported fold, or None to go on."""
        return self._why(*self._inputs(trial))

    @staticmethod
    def _inputs(trial: FrozenTrial) -> tuple[int | None, Any, Any, str | None]:
        """A stored trial's last fold, fold scores, rough latency and family."""
        figures = trial_figures(trial)
        fold_scores, rough = figures.get(FOLD_SCORES), figures.get(ROUGH_LATENCY)
        return trial.last_step, fold_scores, rough, trial.params.get("family")

    def judge(
        self,
        number: int,
        fold: int | None,
        scores: list[float] | None,
        rough: float | None,
        family: str | None = None,
    ) -> str | None:
        """Why to stop trial ``number`` after fold ``fold`` (0-based), or None to go on.

        The reason is kept for :meth:`reason_for`.

        Args:
            number: the trial's number.
            fold: the last fold done (None: none yet).
            scores: the deciding fold scores so far.
            rough: its rough latency so far (None for staged trials: known at the end).
            family: its model family (the cost bound's, with ``per_family``).
        """
        why = self._why(fold, scores, rough, family)
        if why is not None:
            self._reasons[number] = why
        return why

    def _why(
        self,
        fold: int | None,
        scores: list[float] | None,
        rough: float | None,
        family: str | None = None,
    ) -> str | None:
        """The rules of the class docstring, in order; None: go on."""
        out_of_time = self._deadline is not None and time.monotonic() > self._deadline
        if out_of_time and self._completed_any:
            return BUDGET
        if not self.prune_folds or fold is None or not scores or self.n_folds - fold - 1 <= 0:
            return None
        if self.optimistic_mean(scores) < self.min_score:
            return CANNOT_REACH
        bound = self._best_rough.get(self._bound_key(family)) if self.cost_bound else None
        if rough is not None and bound is not None and rough > 2.0 * bound:
            return COSTLIER
        return None

    def optimistic_mean(self, scores: list[float]) -> float:
        """An optimistic bound on the full CV mean of a trial with these first folds.

        The rule "cannot reach the target" of the class docstring: offset-corrected
        projection plus the completed trials' miss spread once there are
        ``MIN_FOR_FOLD_EFFECTS`` of them, else the plain mean plus a fixed slack.
        """
        floor = 0.005 * self.scale
        k = len(scores)
        if len(self._complete_folds) < MIN_FOR_FOLD_EFFECTS:
            slack = 0.03 * self.scale if k == 1 else max(floor, 2.0 * float(np.std(scores)))
            return float(np.mean(scores)) + slack
        table = np.asarray(self._complete_folds)
        full = table.mean(axis=1)
        offsets = np.median(table - full[:, None], axis=0)  # a fold's own difficulty
        projected = float(np.mean(np.asarray(scores, dtype=float) - offsets[:k]))
        misses = full - (table[:, :k] - offsets[:k]).mean(axis=1)
        slack = max(floor, float(misses.mean() + 2.5 * misses.std(ddof=1)))
        return projected + slack

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        """Optuna's hook: True to prune (the reason is kept for :meth:`reason_for`)."""
        return self.judge(trial.number, *self._inputs(trial)) is not None

    def reason_for(self, number: int) -> str:
        """The reason trial ``number`` was pruned for."""
        return self._reasons.get(number, "pruned")


def cross_validate(
    problem: SearchProblem,
    make_model: Callable[[], Any],
    *,
    on_fold: Callable[[int, list[float], float], None] | None = None,
    family: ModelFamily | None = None,
    stage_scores: dict[int, list[float]] | None = None,
) -> tuple[list[float], Any, float]:
    """Cross-validate a fresh ``make_model()`` per fold; ``on_fold`` may raise to stop.

    For a staged ``family``, each fold's model is also scored at every stage, into
    ``stage_scores`` (stage -> fold scores).

    Returns:
        The fold scores, the last fold's fitted model and a rough latency (ms per 1k
        rows, from timing the validation predictions).
    """
    split, metric = problem.split, problem.metric
    scores: list[float] = []
    predict_s, predicted_rows = 0.0, 0
    model = None
    for i, (train, valid) in enumerate(split.folds):
        model = make_model()
        quiet_fit(model, split.x_dev.iloc[train], split.y_dev[train])
        started = time.perf_counter()
        prediction = predict_for(model, split.x_dev.iloc[valid], metric)
        predict_s += time.perf_counter() - started
        predicted_rows += len(valid)
        value = metric(split.y_dev[valid], prediction, problem.n_classes)
        scores.append(value if math.isfinite(value) else float("-inf"))
        if stage_scores is not None and family is not None:
            _score_stages(problem, model, family, valid, stage_scores)
        if on_fold is not None:
            on_fold(i, scores, predict_s * 1e6 / max(predicted_rows, 1))
    return scores, model, predict_s * 1e6 / max(predicted_rows, 1)


def _score_stages(problem, model, family, valid, stage_scores) -> None:
    split, metric = problem.split, problem.metric
    encoded = model[:-1].transform(split.x_dev.iloc[valid])
    estimator = model[-1]
    for stage in family.stages(estimator):
        prediction = family.predict_stage(estimator, encoded, stage, metric.needs_proba)
        value = metric(split.y_dev[valid], prediction, problem.n_classes)
        stage_scores.setdefault(stage, []).append(value if math.isfinite(value) else float("-inf"))


def pick_stage(stage_scores: dict[int, list[float]], min_score: float) -> tuple[int, list[float]]:
    """The smallest stage whose mean meets ``min_score``, else the best-scoring one."""
    means = {stage: float(np.mean(v)) for stage, v in stage_scores.items()}
    meeting = [stage for stage in sorted(means) if means[stage] >= min_score]
    stage = meeting[0] if meeting else max(means, key=means.get)
    return stage, stage_scores[stage]


class SearchObjective:
    """The Optuna objective of the search: a trial's measured latency (lower is better).

    The score is a constraint (``set_score_constraint(trial, min_score - cv_score)``),
    so the sampler learns where the target is met as well as where it is cheap. A
    trial that misses the target returns its rough latency and is infeasible.

    Args:
        problem: the search's fixed parts (data, families, target).
        objective: the cost figure a trial returns (batch latency by default; single-row
            latency or size); every figure is stored in the trial, in one user attribute
            written when it ends (:func:`trial_figures` reads them).
    """

    def __init__(self, problem: SearchProblem, objective: CostObjective = BATCH) -> None:
        self.problem = problem
        self.objective = objective

    def __call__(self, trial: optuna.Trial) -> float:
        figures: dict[str, Any] = {}
        try:
            return self._run(trial, figures)
        finally:  # a pruned or failed trial keeps the figures it reached, as one write
            # (with the storage gone this write fails too; the first error is its context)
            if figures:
                write_figures(trial, figures)

    def _run(self, trial: optuna.Trial, figures: dict[str, Any]) -> float:
        """The trial's work; its figures go into ``figures`` (written by the caller)."""
        from sklearn.base import clone

        problem = self.problem
        names = [f.name for f in problem.supported()]
        family = problem.family(trial.suggest_categorical("family", names))
        n_features = trial.suggest_int("n_features", 1, len(problem.ranking))
        estimator = family.suggest(trial, problem.context)

        def make_model():
            return problem.pipeline(family, clone(estimator), n_features)

        staged = family.stage_param is not None
        stage_scores: dict[int, list[float]] | None = {} if staged else None
        on_fold = self._on_fold(trial, stage_scores, staged, figures)
        scores, last_model, rough = cross_validate(
            problem, make_model, on_fold=on_fold, family=family, stage_scores=stage_scores
        )
        if stage_scores:
            stage, scores = pick_stage(stage_scores, problem.min_score)
            if stage != max(stage_scores):
                figures[OVERRIDES] = {family.param_name(family.stage_param): stage}
                last_model = self._fit_stage(make_model, family, stage)
        figures[FOLD_SCORES] = list(scores)
        cv_score = float(np.mean(scores))
        figures[CV_SCORE] = cv_score
        figures[ROUGH_LATENCY] = rough
        set_score_constraint(trial, problem.min_score - cv_score)
        if cv_score < problem.min_score:
            return rough
        cost = measure_cost(
            last_model, problem.split.batch, repeats=3, max_total_s=0.5, exact_size=False
        )
        figures[LATENCY] = cost.latency_ms_per_1k
        figures[SINGLE_ROW_LATENCY] = cost.single_row_latency_ms
        figures[SIZE_BYTES] = cost.size_bytes
        return self.objective.of(cost)

    def _on_fold(self, trial: optuna.Trial, stage_scores, staged: bool, figures: dict[str, Any]):
        min_score = self.problem.min_score

        def on_fold(i: int, scores: list[float], rough: float) -> None:
            if stage_scores:  # the best stage so far decides (a cut model may score higher)
                scores = max(stage_scores.values(), key=lambda v: float(np.mean(v)))
            mean = float(np.mean(scores))
            reason = self._prune_reason(trial, i, scores, None if staged else rough)
            if reason is not None:
                trial.report(mean, i)  # TPE ranks a pruned trial by its last step and value
                figures[FOLD_SCORES] = list(scores)
                if not staged:
                    figures[ROUGH_LATENCY] = rough
                figures[PRUNED] = reason or "pruned"
                figures[CV_SCORE_PARTIAL] = mean
                set_score_constraint(trial, min_score - mean)
                raise optuna.TrialPruned(reason)

        return on_fold

    @staticmethod
    def _prune_reason(
        trial: optuna.Trial, fold: int, scores: list[float], rough: float | None
    ) -> str | None:
        """Why the study's pruner stops ``trial`` after ``fold`` (None: go on).

        The search's own :class:`FoldPruner` is asked directly with what this process
        holds; any other pruner through Optuna (``should_prune`` reads the trial back), so
        for it the inputs are written after every fold, each as a user attribute of its
        own, the names a user's pruner may read.
        """
        pruner = trial.study.pruner
        if isinstance(pruner, FoldPruner):
            return pruner.judge(trial.number, fold, scores, rough, trial.params.get("family"))
        trial.report(float(np.mean(scores)), fold)
        trial.set_user_attr(FOLD_SCORES, list(scores))
        if rough is not None:
            trial.set_user_attr(ROUGH_LATENCY, rough)
        return "" if trial.should_prune() else None

    def _fit_stage(self, make_model, family: ModelFamily, stage: int):
        """The trial's model with ``stage`` as its size, fit on the last fold (to time it)."""
        split = self.problem.split
        model = make_model()
        model[-1].set_params(**{family.stage_param: stage})
        train, _ = split.folds[-1]
        quiet_fit(model, split.x_dev.iloc[train], split.y_dev[train])
        return model


class PatienceStop:
    """Study callback: stop when ``patience`` trials in a row found nothing 2% cheaper.

    Only trials meeting the target (those with a measured latency) count as found;
    the clock starts at the first one. ``stopped_early`` says why it stopped, or None.
    """

    def __init__(self, patience: int | None, key: str = LATENCY) -> None:
        self.patience = patience
        self.key = key  # the trial figure holding the objective's cost
        self.stopped_early: str | None = None
        self._best = math.inf
        self._since = 0

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        latency = trial_figures(trial).get(self.key)
        if latency is not None and latency < 0.98 * self._best:
            self._best, self._since = latency, 0
        else:
            self._since += 1
        if self.patience and math.isfinite(self._best) and self._since >= self.patience:
            self.stopped_early = f"no cheaper model meeting the target in {self.patience} trials"
            study.stop()


class Progress:
    """Study callback drawing a tqdm bar on stderr: time used, trials, best feasible cost."""

    def __init__(
        self,
        budget_s: float | None,
        n_trials: int | None,
        enabled: bool,
        *,
        trials_before: int = 0,
        unit: str = "ms/1k",
    ) -> None:
        self._bar = None
        self._unit = unit  # of the trials' values (the trial objective's figure)
        self._started = time.monotonic()
        self._by_time = budget_s is not None and n_trials is None
        self._trials_before = trials_before  # finished before this run: not on the bar
        if enabled:
            from tqdm import tqdm

            total = round(float(budget_s)) if self._by_time else (n_trials or 0)
            unit = "s" if self._by_time else "trials"
            self._bar = tqdm(
                total=total,
                unit=unit,
                desc="search",
                leave=False,
                bar_format="{desc}: {bar} {n:.0f}/{total:.0f}" + unit[0] + " {postfix}",
            )
            self._budget_s = budget_s

    def __call__(self, study: optuna.Study, trial: FrozenTrial | None = None) -> None:
        """Study callback, or a poll (``trial`` None) by a process whose workers run trials.

        A trial given as it ends (:class:`AfterTrial`) is not yet told: it counts as
        finished here, with its own state and figures.
        """
        if self._bar is None:
            return
        trials = study.get_trials(deepcopy=False)
        if trial is not None:
            trials = [t for t in trials if t.number != trial.number] + [trial]
        feasible = [
            t.value
            for t in trials
            if t.state == TrialState.COMPLETE
            and t.value is not None
            and all(v <= 0 for v in t.constraints.values())
            and LATENCY in trial_figures(t)  # measured only where the target was met
        ]
        best = f"{min(feasible):.3g} {self._unit}" if feasible else "none yet"
        done = sum(t.state.is_finished() for t in trials)
        elapsed = time.monotonic() - self._started
        if self._by_time:
            self._bar.n = min(elapsed, self._bar.total)
            left = f" left={max(0.0, self._bar.total - elapsed):.0f}s"
        else:
            self._bar.n = min(max(0, done - self._trials_before), self._bar.total)
            left = ""
        self._bar.set_postfix_str(f"trials={done} best feasible={best}{left}", refresh=True)

    def close(self) -> None:
        """Remove the bar."""
        if self._bar is not None:
            self._bar.close()
