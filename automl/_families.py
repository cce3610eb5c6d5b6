"""Model families the search draws from, as plug-ins: one :class:`ModelFamily` each.

A family knows its cost-driving knobs (how many trees, how deep, how many bins) and a
few cheap known-good settings the search tries first. Families are instances passed to
the search, so a user can add one without touching the search loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from sklearn.base import BaseEstimator

from halfcost.automl._metrics import CLASSIFICATION, REGRESSION


@dataclass(frozen=True)
class SearchContext:
    """What a family may look at to shape its search space.

    Attributes:
        task: classification or regression.
        n_rows: rows the model is trained on in cross-validation.
        n_features: raw feature columns available.
        n_classes: classes (0 for regression).
        seed: random seed for the estimators.
        kinds: raw feature column -> numeric, date or categorical.
    """

    task: str
    n_rows: int
    n_features: int
    n_classes: int = 0
    seed: int = 0
    kinds: dict[str, str] = field(default_factory=dict)

    @property
    def is_classification(self) -> bool:
        """True for a classification task."""
        return self.task == CLASSIFICATION


class ModelFamily(ABC):
    """A family of estimators and its search space.

    Subclasses set ``name`` (unique, used as the ``family`` trial parameter and as the
    prefix of the family's own parameters), ``encoding`` (``native`` for models that take
    category codes and missing values as they are, ``categorical`` for a model that takes
    those codes as its own categoricals (LightGBM's ``categorical_feature``), ``onehot``
    for models that need standardized dense inputs) and implement :meth:`suggest`.
    """

    name: str = ""
    encoding: str = "native"
    tasks: tuple[str, ...] = (CLASSIFICATION, REGRESSION)
    #: the parameter a "stage" sets (e.g. ``n_estimators``), for families whose fitted
    #: models can be cut down without refitting; None when they cannot.
    stage_param: str | None = None
    #: how many of its known-good points go into the search's first round
    first_round_points: int = 1

    @abstractmethod
    def suggest(self, trial: optuna.Trial, ctx: SearchContext) -> BaseEstimator:
        """Draw this family's parameters from ``trial`` and return an unfitted estimator.

        Draw every parameter through :meth:`param_name` (e.g. with :meth:`int`,
        :meth:`float`, :meth:`choice`), so that names never collide between families and
        an ``optuna.trial.FixedTrial`` rebuilds the same estimator from stored params.
        """

    def known_good_points(self, ctx: SearchContext) -> list[dict[str, Any]]:
        """Cheap settings worth trying first, as {parameter: value} without the prefix."""
        return []

    def stages(self, estimator: BaseEstimator) -> list[int]:
        """Sizes a fitted ``estimator`` can be cut to without refitting, smallest first.

        The search scores every stage on each fold from one fit and keeps the smallest
        that meets the target: the cost knob is tuned for free. Empty by default.
        """
        return []

    def predict_stage(
        self, estimator: BaseEstimator, x: Any, stage: int, proba: bool
    ) -> np.ndarray:
        """Predictions (class probabilities when ``proba``) of ``estimator`` cut to ``stage``.

        The default ignores the stage and uses the whole model.
        """
        return estimator.predict_proba(x) if proba else estimator.predict(x)

    def supports(self, ctx: SearchContext) -> bool:
        """Whether this family applies to the task at hand."""
        return ctx.task in self.tasks

    def param_name(self, short: str) -> str:
        """The trial parameter name of this family's parameter ``short``."""
        return f"{self.name}.{short}"

    def int(self, trial: optuna.Trial, short: str, low: int, high: int, log: bool = False) -> int:
        """Draw an integer parameter."""
        return trial.suggest_int(self.param_name(short), low, high, log=log)

    def float(
        self, trial: optuna.Trial, short: str, low: float, high: float, log: bool = False
    ) -> float:
        """Draw a float parameter."""
        return trial.suggest_float(self.param_name(short), low, high, log=log)

    def choice(self, trial: optuna.Trial, short: str, choices: list[Any]) -> Any:
        """Draw a categorical parameter."""
        return trial.suggest_categorical(self.param_name(short), choices)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        # A family is its class and settings: copies (``sklearn.base.clone`` of a search)
        # compare equal, so ``get_params()`` of a clone equals the original's.
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return hash(type(self))


class LinearFamily(ModelFamily):
    """Logistic regression (classification) or ridge regression: the cheapest to serve."""

    name = "linear"
    encoding = "onehot"

    def suggest(self, trial, ctx):
        from sklearn.linear_model import LogisticRegression, Ridge

        if ctx.is_classification:
            c = self.float(trial, "C", 1e-3, 1e2, log=True)
            return LogisticRegression(C=c, max_iter=300, random_state=ctx.seed)
        alpha = self.float(trial, "alpha", 1e-3, 1e3, log=True)
        return Ridge(alpha=alpha)

    def known_good_points(self, ctx):
        return [{"C": 1.0}] if ctx.is_classification else [{"alpha": 1.0}]


class DecisionTreeFamily(ModelFamily):
    """One decision tree: microseconds per row, often enough on simple tables."""

    name = "tree"

    def suggest(self, trial, ctx):
        from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

        params = {
            "max_depth": self.int(trial, "max_depth", 2, 20),
            "min_samples_leaf": self.int(trial, "min_samples_leaf", 1, 200, log=True),
            "random_state": ctx.seed,
        }
        cls = DecisionTreeClassifier if ctx.is_classification else DecisionTreeRegressor
        return cls(**params)

    def known_good_points(self, ctx):
        return [{"max_depth": 6, "min_samples_leaf": 5}, {"max_depth": 10, "min_samples_leaf": 20}]


class ForestFamily(ModelFamily):
    """Random forest or extra trees: strong without tuning, costly when large."""

    name = "forest"

    def suggest(self, trial, ctx):
        from sklearn import ensemble

        kind = self.choice(trial, "kind", ["extra", "random"])
        params = {
            "n_estimators": self.int(trial, "n_estimators", 5, 200, log=True),
            "max_depth": self.int(trial, "max_depth", 3, 30),
            "max_features": self.choice(trial, "max_features", ["sqrt", 0.5, 1.0]),
            "min_samples_leaf": self.int(trial, "min_samples_leaf", 1, 50, log=True),
            "n_jobs": 1,
            "random_state": ctx.seed,
        }
        suffix = "Classifier" if ctx.is_classification else "Regressor"
        prefix = "ExtraTrees" if kind == "extra" else "RandomForest"
        return getattr(ensemble, prefix + suffix)(**params)

    def known_good_points(self, ctx):
        return [
            {
                "kind": "extra",
                "n_estimators": 30,
                "max_depth": 16,
                "max_features": "sqrt",
                "min_samples_leaf": 1,
            },
            {
                "kind": "random",
                "n_estimators": 20,
                "max_depth": 10,
                "max_features": "sqrt",
                "min_samples_leaf": 3,
            },
        ]


class HistGradientBoostingFamily(ModelFamily):
    """scikit-learn's histogram gradient boosting."""

    name = "hist_gb"

    def suggest(self, trial, ctx):
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        params = {
            "max_iter": self.int(trial, "max_iter", 5, 300, log=True),
            "learning_rate": self.float(trial, "learning_rate", 0.02, 1.0, log=True),
            "max_leaf_nodes": self.int(trial, "max_leaf_nodes", 4, 128, log=True),
            "min_samples_leaf": self.int(trial, "min_samples_leaf", 2, 100, log=True),
            "max_bins": self.choice(trial, "max_bins", [15, 31, 63, 127, 255]),
            "l2_regularization": self.float(trial, "l2_regularization", 1e-4, 10.0, log=True),
            "early_stopping": False,
            "random_state": ctx.seed,
        }
        if ctx.is_classification:
            return HistGradientBoostingClassifier(**params)
        return HistGradientBoostingRegressor(**params)

    def known_good_points(self, ctx):
        return [
            {
                "max_iter": 30,
                "learning_rate": 0.3,
                "max_leaf_nodes": 31,
                "min_samples_leaf": 20,
                "max_bins": 63,
                "l2_regularization": 1e-3,
            }
        ]


#: boosting rounds at which staged families are scored (plus the full size)
STAGE_GRID = (3, 5, 8, 12, 20, 30, 45, 70, 100, 150, 220, 330)


class LightGBMFamily(ModelFamily):
    """LightGBM: a few wide trees with a high learning rate are often enough and cheap.

    Staged: one fit of ``n_estimators`` rounds is scored at every smaller round count of
    :data:`STAGE_GRID`, so each trial finds its cheapest sufficient number of trees.
    """

    name = "lightgbm"
    encoding = "categorical"  # its own native categoricals (see _encoder.table_encoder)
    stage_param = "n_estimators"
    first_round_points = 2

    def stages(self, estimator):
        total = int(estimator.booster_.current_iteration())
        return [k for k in STAGE_GRID if k < total] + [total]

    def predict_stage(self, estimator, x, stage, proba):
        if proba:
            return estimator.predict_proba(x, num_iteration=stage)
        return estimator.predict(x, num_iteration=stage)

    def suggest(self, trial, ctx):
        import lightgbm

        params = {
            "n_estimators": self.int(trial, "n_estimators", 3, 500, log=True),
            "num_leaves": self.int(trial, "num_leaves", 4, 256, log=True),
            "max_depth": self.int(trial, "max_depth", 2, 16),
            "learning_rate": self.float(trial, "learning_rate", 0.01, 1.0, log=True),
            "max_bin": self.choice(trial, "max_bin", [15, 31, 63, 127, 255]),
            "min_child_samples": self.int(trial, "min_child_samples", 2, 200, log=True),
            "colsample_bytree": self.float(trial, "feature_fraction", 0.3, 1.0),
            "reg_lambda": self.float(trial, "reg_lambda", 1e-3, 10.0, log=True),
            "n_jobs": 1,
            "verbose": -1,
            "random_state": ctx.seed,
        }
        if ctx.is_classification:
            return lightgbm.LGBMClassifier(**params)
        return lightgbm.LGBMRegressor(**params)

    def known_good_points(self, ctx):
        base = {"min_child_samples": 20, "feature_fraction": 1.0, "reg_lambda": 1e-3}
        # n_estimators is an upper bound: the stages find the smallest count that suffices
        # first LightGBM's own defaults (100 rounds, 31 leaves, rate 0.1, 255 bins) with
        # room to stage down or up, then fewer, wider trees at higher rates
        shapes = [
            (200, 31, 16, 0.1, 255),
            (100, 31, 8, 0.3, 63),
            (150, 15, 5, 0.2, 127),
            (60, 63, 10, 0.5, 31),
        ]
        return [
            {
                **base,
                "n_estimators": n,
                "num_leaves": leaves,
                "max_depth": depth,
                "learning_rate": rate,
                "max_bin": bins,
            }
            for n, leaves, depth, rate, bins in shapes
        ]


class MLPFamily(ModelFamily):
    """A small neural network: a few matrix products per batch, strong on dense numeric data."""

    name = "mlp"
    encoding = "onehot"

    def suggest(self, trial, ctx):
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        width = self.int(trial, "width", 8, 128, log=True)
        layers = self.int(trial, "layers", 1, 2)
        params = {
            "hidden_layer_sizes": (width,) * layers,
            "alpha": self.float(trial, "alpha", 1e-6, 1e-1, log=True),
            "learning_rate_init": self.float(trial, "learning_rate_init", 1e-4, 3e-2, log=True),
            "max_iter": self.int(trial, "max_iter", 20, 150, log=True),
            "early_stopping": False,
            "random_state": ctx.seed,
        }
        cls = MLPClassifier if ctx.is_classification else MLPRegressor
        return cls(**params)

    def known_good_points(self, ctx):
        return [
            {
                "width": 64,
                "layers": 1,
                "alpha": 1e-4,
                "learning_rate_init": 1e-3,
                "max_iter": 100 if ctx.n_rows <= 5_000 else 30,  # fit time: rows x epochs
            }
        ]


def default_families() -> list[ModelFamily]:
    """The families a search uses unless told otherwise, from cheap to strong."""
    return [
        LinearFamily(),
        LightGBMFamily(),
        DecisionTreeFamily(),
        MLPFamily(),
        HistGradientBoostingFamily(),
        ForestFamily(),
    ]


def lightgbm_defaults(ctx: SearchContext) -> BaseEstimator:
    """The baseline every search is compared to: LightGBM with its default settings."""
    import lightgbm

    cls = lightgbm.LGBMClassifier if ctx.is_classification else lightgbm.LGBMRegressor
    return cls(n_jobs=1, verbose=-1, random_state=ctx.seed)
