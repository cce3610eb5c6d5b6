"""Replaying labelling on a labelled table: how many labels each strategy needs for a score.

:class:`LabelingSimulation` hides the labels of a table, keeps a fixed held-out part to
score on, and for each strategy and seed starts from the same random labelled rows, then
buys ``step`` labels per round as the strategy picks them, refitting the same learner
``select`` uses. A strategy's labels-to-target is the labelled count of the first round
whose held-out score reaches ``min_score`` (median over seeds; a seed that never reaches
it counts as never, so the median may be "never" too).
"""

from __future__ import annotations

import logging
import math
import time
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from halfcost.automl._label import (
    STRATEGIES,
    Learner,
    QueryStrategy,
    check_classification,
    fit_quietly,
    full_proba,
    get_strategy,
    strategy_inputs,
)
from halfcost.automl._metrics import CLASSIFICATION, get_metric
from halfcost.automl._prep import encode_target, plan_columns
from halfcost.errors import BadInputError

logger = logging.getLogger(__name__)

BASELINE = "random"
MIN_START = 20
POOL_SHARE = 0.01  # default start and step: 1% of the pool


def _median_or_none(values: list[int | None]) -> int | None:
    """Median with "never" (None) counted as larger than every count."""
    ranked = sorted(values, key=lambda v: math.inf if v is None else v)
    if not ranked:
        return None
    middle = ranked[(len(ranked) - 1) // 2 : len(ranked) // 2 + 1]
    if any(v is None for v in middle):
        return None
    return math.ceil(sum(middle) / len(middle))


class LabelingSimulation(BaseEstimator):
    """How many labels each strategy needs to reach a held-out score, on the user's data.

    Args:
        min_score: the held-out score to reach (on ``metric``'s scale).
        strategies: names (or :class:`QueryStrategy` instances) to replay; None: all four.
            ``random`` is always replayed, as the baseline of the saving.
        start: labelled rows at the start (random); None: max(20, 1% of the pool).
        step: labels bought per round; None: 1% of the pool.
        seeds: repeats per strategy (each its own random start, shared by strategies).
        metric: a classification metric name (accuracy, balanced_accuracy, f1, roc_auc).
        holdout: share of the rows held out to score on (fixed for every strategy/seed).
        cost_per_label: price of one label, for the money saved (Decimal-safe).
        learner: a search family's name, or None for LightGBM defaults.
        seed: seeds the held-out split, the starts and the learner.
        progress: show a tqdm bar on stderr over strategies, seeds and rounds.

    Attributes:
        labels_to_target_: strategy -> labels needed (median over seeds), None if never.
        best_strategy_: the strategy needing the fewest labels.
        ratio_: best's labels over random's (None when the best never reached the target).
        curves_: strategy -> {labels, seeds: [[score per round]], median}.
        full_pool_score_: held-out score with every pool row labelled.
        pool_rows_, holdout_rows_, start_, step_: the simulation's sizes.
        round_s_: strategy -> median seconds per round (fit, score and pick).
    """

    def __init__(
        self,
        min_score: float,
        strategies: list[str | QueryStrategy] | None = None,
        start: int | None = None,
        step: int | None = None,
        seeds: int = 3,
        metric: str = "accuracy",
        holdout: float = 0.2,
        cost_per_label: Decimal | float | str | None = None,
        learner: str | None = None,
        seed: int = 0,
        progress: bool = False,
    ):
        self.min_score = min_score
        self.strategies = strategies
        self.start = start
        self.step = step
        self.seeds = seeds
        self.metric = metric
        self.holdout = holdout
        self.cost_per_label = cost_per_label
        self.learner = learner
        self.seed = seed
        self.progress = progress

    # --- validation --------------------------------------------------------------------

    def _check_settings(self) -> list[QueryStrategy]:
        self.metric_ = get_metric(self.metric, CLASSIFICATION)
        self.metric_.validate_target(self.min_score)
        if isinstance(self.seeds, bool) or not isinstance(self.seeds, int) or self.seeds < 1:
            raise BadInputError(
                f"{{param}} must be a whole number ≥ 1, but got {self.seeds!r}.", param="seeds"
            )
        if not 0.05 <= float(self.holdout) <= 0.5:
            raise BadInputError(
                f"{{param}} must be in [0.05, 0.5], but got {self.holdout!r}.", param="holdout"
            )
        chosen = [get_strategy(s) for s in (self.strategies or list(STRATEGIES))]
        if not any(s.name == BASELINE for s in chosen):
            chosen.append(get_strategy(BASELINE))
        names = [s.name for s in chosen]
        if len(set(names)) != len(names):
            raise BadInputError(
                f"{{param}} names a strategy twice ({', '.join(names)}); name each once.",
                param="strategy",
            )
        self.price_ = _price(self.cost_per_label)
        Learner(self.learner, int(self.seed)).check()
        return chosen

    def _sizes(self, pool_rows: int) -> tuple[int, int]:
        share = max(1, math.ceil(POOL_SHARE * pool_rows))
        start = max(MIN_START, share) if self.start is None else self.start
        step = share if self.step is None else self.step
        for name, value in (("start", start), ("step", step)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise BadInputError(
                    f"{{param}} must be a whole number ≥ 1, but got {value!r}.", param=name
                )
        if start >= pool_rows:
            raise BadInputError(
                f"{{param}} is {start} but the pool to label has only {pool_rows} rows; "
                f"give {{param}} < {pool_rows}.",
                param="start",
            )
        return start, step

    # --- the replay --------------------------------------------------------------------

    def _prepare(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> list[QueryStrategy]:
        """Validate, encode the target, and cut the fixed held-out part from the pool."""
        from sklearn.model_selection import train_test_split

        strategies = self._check_settings()
        y = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y, dtype=object))
        target = str(y.name) if y.name is not None else "target"
        keep = y.notna().to_numpy()
        X, y = X.loc[keep].reset_index(drop=True), y.loc[keep].reset_index(drop=True)
        check_classification(y, target)
        codes, self.classes_ = encode_target(y, CLASSIFICATION, target)
        self.plan_ = plan_columns(X)
        x = X[self.plan_.features]
        stratify = codes if np.bincount(codes).min() >= 2 else None
        pool_idx, held_idx = train_test_split(
            np.arange(len(x)),
            test_size=float(self.holdout),
            random_state=int(self.seed),
            stratify=stratify,
        )
        self._x_pool, self._y_pool = x.iloc[pool_idx].reset_index(drop=True), codes[pool_idx]
        self._x_held, self._y_held = x.iloc[held_idx].reset_index(drop=True), codes[held_idx]
        self.pool_rows_, self.holdout_rows_ = len(pool_idx), len(held_idx)
        self.start_, self.step_ = self._sizes(self.pool_rows_)
        self._learner = Learner(self.learner, int(self.seed))
        return strategies

    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> LabelingSimulation:
        """Replay labelling of ``X`` (raw feature columns) whose labels are ``y``.

        Raises:
            BadInputError: a regression target, one class only, bad settings, or a
                ``min_score`` that the learner does not reach even with every pool row.
        """
        strategies = self._prepare(X, y)
        self.full_pool_score_ = self._score(np.arange(self.pool_rows_))
        target_score = float(self.min_score)
        if self.full_pool_score_ < target_score:
            raise BadInputError(
                f"{{param}} {target_score:g} is never reached: even with all "
                f"{self.pool_rows_} pool rows labelled the model scores "
                f"{self.metric_.name}={self.full_pool_score_:.4f} on the held-out rows; "
                "give a lower {param}.",
                param="min_score",
            )
        self._replay_all(strategies, target_score)
        self._summarize(strategies)
        return self

    def random_share_score(
        self, X: pd.DataFrame, y: pd.Series | np.ndarray, share: float = 0.5
    ) -> float:
        """Held-out score with a random ``share`` of the pool labelled (median over seeds).

        The split, learner and seeds are this simulation's, so the figure is a fair
        ``min_score`` for :meth:`fit` ("what random labelling reaches with half the pool").
        """
        self._prepare(X, y)
        count = max(1, round(float(share) * self.pool_rows_))
        scores = []
        for repeat in range(self.seeds):
            rng = np.random.default_rng([int(self.seed), repeat, 99])
            scores.append(self._score(rng.choice(self.pool_rows_, count, replace=False)))
        return float(np.median(scores))

    def _fit(self, labelled: np.ndarray):
        y = self._y_pool[labelled]
        if len(np.unique(y)) < 2:
            return None
        model = self._learner.build(self.plan_.kinds, len(labelled), len(self.classes_))
        return fit_quietly(model, self._x_pool.iloc[labelled], y)

    def _score_model(self, model) -> float:
        proba = full_proba(model, self._x_held, len(self.classes_))
        prediction = proba if self.metric_.needs_proba else proba.argmax(axis=1)
        return float(self.metric_(self._y_held, prediction, len(self.classes_)))

    def _score(self, labelled: np.ndarray) -> float:
        return self._score_model(self._fit(labelled))

    def _replay_all(self, strategies: list[QueryStrategy], target_score: float) -> None:
        bar = _bar(self.progress, len(strategies) * self.seeds * self._max_rounds())
        self.runs_: dict[str, list[dict[str, Any]]] = {s.name: [] for s in strategies}
        try:
            for repeat in range(self.seeds):
                start = np.random.default_rng([int(self.seed), repeat]).choice(
                    self.pool_rows_, self.start_, replace=False
                )
                for strategy in strategies:
                    run = self._replay(strategy, start, repeat, target_score, bar)
                    self.runs_[strategy.name].append(run)
        finally:
            if bar is not None:
                bar.close()

    def _max_rounds(self) -> int:
        return 1 + math.ceil((self.pool_rows_ - self.start_) / self.step_)

    def _replay(self, strategy, start, repeat, target_score, bar) -> dict[str, Any]:
        rng = np.random.default_rng([int(self.seed), repeat, 7])
        labelled = np.asarray(start, dtype=np.int64)
        unlabelled = np.setdiff1d(np.arange(self.pool_rows_), labelled)
        labels, scores, seconds = [], [], []
        reached = None
        for round_number in range(self._max_rounds()):
            began = time.perf_counter()
            model = self._fit(labelled)
            score = self._score_model(model)
            labels.append(len(labelled))
            scores.append(score)
            if bar is not None:
                bar.set_description(f"{strategy.name} seed {repeat + 1}/{self.seeds}")
                bar.set_postfix_str(
                    f"round {round_number + 1} labels={len(labelled)} "
                    f"{self.metric_.name}={score:.4f}",
                    refresh=False,
                )
                bar.update(1)
            if score >= target_score:
                reached = len(labelled)
                seconds.append(time.perf_counter() - began)
                break
            if len(unlabelled) == 0:
                break
            n = min(self.step_, len(unlabelled))
            candidates = self._x_pool.iloc[unlabelled]
            proba, features = strategy_inputs(strategy, model, candidates, len(self.classes_))
            chosen, _ = strategy.pick(proba, n, rng, features)
            labelled = np.concatenate([labelled, unlabelled[chosen]])
            unlabelled = np.delete(unlabelled, chosen)
            seconds.append(time.perf_counter() - began)
        if bar is not None:
            bar.update(self._max_rounds() - len(labels))
        return {
            "seed": repeat,
            "labels": labels,
            "scores": scores,
            "reached": reached,
            "round_s": seconds,
        }

    # --- results -----------------------------------------------------------------------

    def _summarize(self, strategies: list[QueryStrategy]) -> None:
        names = [s.name for s in strategies]
        self.labels_to_target_ = {
            name: _median_or_none([run["reached"] for run in self.runs_[name]]) for name in names
        }
        self.curves_ = {name: _curve(self.runs_[name]) for name in names}
        self.round_s_ = {
            name: float(np.median([s for run in self.runs_[name] for s in run["round_s"]]))
            for name in names
        }
        reached = {k: v for k, v in self.labels_to_target_.items() if v is not None}
        contenders = [n for n in names if n != BASELINE] or names
        ranked = sorted(
            contenders,
            key=lambda n: (self.labels_to_target_[n] is None, self.labels_to_target_[n] or 0),
        )
        self.best_strategy_ = ranked[0]
        best, random_n = self.labels_to_target_[self.best_strategy_], reached.get(BASELINE)
        self.ratio_ = None if best is None or random_n is None else best / random_n
        self.never_reached_ = [n for n in names if self.labels_to_target_[n] is None]

    @property
    def labels_saved_vs_random_(self) -> int | None:
        """Random's labels minus the best strategy's (None when either never reached)."""
        best = self.labels_to_target_[self.best_strategy_]
        random_n = self.labels_to_target_.get(BASELINE)
        if best is None or random_n is None:
            return None
        return max(0, random_n - best)

    @property
    def money_saved_usd_(self) -> Decimal | None:
        """The labels saved times ``cost_per_label`` (None without a price or a saving)."""
        saved = self.labels_saved_vs_random_
        if self.price_ is None or saved is None:
            return None
        return Decimal(saved) * self.price_


def _curve(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Labels per round and the scores per seed; the median only over rounds every seed ran.

    A seed stops at the round it reaches the target, so a median over the seeds still
    running would be a median of the slow ones.
    """
    longest = max(runs, key=lambda r: len(r["labels"]))["labels"]
    common = min(len(r["scores"]) for r in runs)
    median = [float(np.median([r["scores"][i] for r in runs])) for i in range(common)]
    return {
        "labels": list(longest),
        "median": median,
        "seeds": [[float(s) for s in r["scores"]] for r in runs],
        "reached": [r["reached"] for r in runs],
    }


def _price(value: Decimal | float | str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        price = Decimal(str(value))
    except ArithmeticError:
        price = None
    if price is None or not price.is_finite() or price < 0:
        raise BadInputError(
            f"{{param}} must be an amount ≥ 0 (e.g. 0.25), but got {value!r}.",
            param="cost_per_label",
        )
    return price


def _bar(enabled: bool, total: int):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="simulate", unit="round", leave=False)
