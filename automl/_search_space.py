"""What a trial can describe: a model family, its knobs and how many top columns to keep.

:class:`SearchProblem` holds everything fixed for one search (the metric and target,
the column plan and ranking, the families, the split) and builds the unfitted pipeline a
set of trial parameters describes. The column ranking and the known-good starting
points the study is seeded with live here too.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from halfcost.automl._encoder import (
    LIGHTGBM_CATEGORICAL,
    native_categoricals,
    output_sources,
    table_encoder,
)
from halfcost.automl._families import ModelFamily, SearchContext, lightgbm_defaults
from halfcost.automl._metrics import Metric
from halfcost.automl._prep import ColumnPlan
from halfcost.automl._search_split import SearchSplit

BASELINE_FAMILY = "lightgbm_defaults"


def quiet_fit(model: Any, x: pd.DataFrame, y: np.ndarray) -> float:
    """Fit ``model`` silencing convergence chatter; return the fit time in seconds."""
    from sklearn.exceptions import ConvergenceWarning

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*does not have valid feature names.*")
        # LightGBM warns it ignores categorical_feature given as a parameter, then uses it
        warnings.filterwarnings("ignore", message=".*categorical_feature keyword has been found.*")
        model.fit(x, y)
    return time.perf_counter() - started


def predict_for(model: Any, x: pd.DataFrame, metric: Metric) -> np.ndarray:
    """What ``metric`` scores: class probabilities or predictions."""
    return model.predict_proba(x) if metric.needs_proba else model.predict(x)


def make_pipeline(
    columns: list[str],
    kinds: dict[str, str],
    encoding: str,
    estimator: Any,
    task: str,
    levels: dict[str, int] | None = None,
):
    """The encoder for ``columns`` followed by ``estimator``.

    With the ``categorical`` encoding the estimator (LightGBM) is told which encoded
    columns are categories, so it splits on them natively.
    """
    from sklearn.pipeline import Pipeline

    encoder = table_encoder(columns, kinds, mode=encoding, task=task, levels=levels)
    if encoding == LIGHTGBM_CATEGORICAL:
        categorical = native_categoricals(columns, kinds)
        if categorical:
            estimator.set_params(categorical_feature=categorical)
    return Pipeline([("encode", encoder), ("model", estimator)])


def rank_columns(
    split: SearchSplit, plan: ColumnPlan, context: SearchContext
) -> tuple[list[str], dict[str, float]]:
    """Raw columns ordered by usefulness, and each one's share of the gain.

    The gain comes from one quick LightGBM fit on the dev part, computed once per search.
    """
    import lightgbm

    cls = lightgbm.LGBMClassifier if context.is_classification else lightgbm.LGBMRegressor
    quick = cls(
        n_estimators=50,
        learning_rate=0.1,
        n_jobs=1,
        verbose=-1,
        random_state=context.seed,
        importance_type="gain",
    )
    model = make_pipeline(plan.features, plan.kinds, "native", quick, context.task, plan.levels)
    quiet_fit(model, split.x_dev[plan.features], split.y_dev)
    gains: dict[str, float] = dict.fromkeys(plan.features, 0.0)
    sources = output_sources(model)
    for source, gain in zip(sources, model.named_steps["model"].feature_importances_, strict=True):
        gains[source] += float(gain)
    total = sum(gains.values()) or 1.0
    ranking = sorted(plan.features, key=lambda c: -gains[c])
    return ranking, {c: g / total for c, g in gains.items()}


def target_scale(metric: Metric, min_score: float) -> float:
    """1 for unitless metrics; the target's magnitude for errors (slacks are relative)."""
    return max(abs(min_score), 1e-9) if metric.in_target_units else 1.0


def useful_count(gain_shares: dict[str, float], share: float = 0.99) -> int:
    """How many top columns carry ``share`` of the quick model's gain."""
    shares = sorted(gain_shares.values(), reverse=True)
    total = 0.0
    for count, value in enumerate(shares, start=1):
        total += value
        if total >= share:
            return count
    return len(shares)


@dataclass(frozen=True)
class SearchProblem:
    """Everything fixed during one search; builds and scores the models trials describe.

    Attributes:
        metric: the score metric.
        min_score: the target, on the metric's scale.
        n_classes: classes (0 for regression).
        plan: feature columns, their kinds, and the dropped columns.
        context: what the families shape their spaces by.
        split: the dev part, folds, hold-out part and timing batch.
        families: the model families of the search.
        ranking: feature columns, most useful first.
        gain_shares: each column's share of the ranking fit's gain.
    """

    metric: Metric
    min_score: float
    n_classes: int
    plan: ColumnPlan
    context: SearchContext
    split: SearchSplit
    families: Sequence[ModelFamily]
    ranking: list[str]
    gain_shares: dict[str, float]

    @property
    def scale(self) -> float:
        """1 for unitless metrics; the target's magnitude for errors (slacks are relative)."""
        return target_scale(self.metric, self.min_score)

    def family(self, name: str) -> ModelFamily:
        """The family called ``name``."""
        for family in self.families:
            if family.name == name:
                return family
        raise KeyError(name)

    def supported(self) -> list[ModelFamily]:
        """The families that apply to this task."""
        return [f for f in self.families if f.supports(self.context)]

    def columns(self, n_features: int) -> list[str]:
        """The top ``n_features`` columns of the ranking, in table order."""
        keep = set(self.ranking[: int(n_features)])
        return [c for c in self.plan.features if c in keep]

    def pipeline(self, family: ModelFamily, estimator: Any, n_features: int):
        """The unfitted pipeline of ``estimator`` on the top ``n_features`` columns."""
        return make_pipeline(
            self.columns(n_features),
            self.plan.kinds,
            family.encoding,
            estimator,
            self.context.task,
            self.plan.levels,
        )

    def build(self, params: dict[str, Any]):
        """The unfitted pipeline a trial's (or a stored trial's) parameters describe."""
        import optuna

        family = self.family(params["family"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator = family.suggest(optuna.trial.FixedTrial(params), self.context)
        return self.pipeline(family, estimator, int(params["n_features"]))

    def baseline_model(self):
        """LightGBM with default settings on every feature column."""
        return make_pipeline(
            self.plan.features,
            self.plan.kinds,
            "native",
            lightgbm_defaults(self.context),
            self.context.task,
            self.plan.levels,
        )

    def score(self, model: Any, x: pd.DataFrame, y: np.ndarray) -> float:
        """``model``'s score on ``x``, ``y``."""
        return self.metric(y, predict_for(model, x, self.metric), self.n_classes)

    def known_good_trials(self) -> list[dict[str, Any]]:
        """Cheap known-good settings of every family, in the order to try them.

        A first round with each family's leading points (its ``first_round_points``),
        so every family is tried early, then the rest round-robin. The first point of
        each tree family keeps only the columns carrying 99% of the ranking fit's gain.
        """
        n_all = len(self.ranking)
        n_useful = min(n_all, max(1, useful_count(self.gain_shares)))
        points = {f.name: f.known_good_points(self.context) for f in self.supported()}
        order: list[tuple[int, int, str]] = []
        for rank, (name, family_points) in enumerate(points.items()):
            lead = self.family(name).first_round_points
            for j in range(len(family_points)):
                order.append((0 if j < lead else j, rank, name))
        counters: dict[str, int] = {}
        trials = []
        for _, _, name in sorted(order):
            family = self.family(name)
            j = counters[name] = counters.get(name, -1) + 1
            params = {family.param_name(k): v for k, v in points[name][j].items()}
            k = n_useful if (j == 0 and family.encoding == "native") else n_all
            trials.append({"family": name, "n_features": k, **params})
        return trials
