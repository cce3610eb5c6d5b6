"""Model families the search draws from, as plug-ins: one :class:`ModelFamily` each.

A family knows its cost-driving knobs (how many trees, how deep, how many bins) and a
few cheap known-good settings the search tries first. Families are instances passed to
the search, so a user can add one without touching the search loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import optuna
from halfcost.automl._metrics import CLASSIFICATION, REGRESSION
from sklearn.base import BaseEstimator


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
    category codes and missing values as they are, ``onehot`` for models that need
    standardized dense inputs) and implement :meth:`suggest`.
    """

    name: str = ""
    encoding: str = "native"
    tasks: tuple[str, ...] = (CLASSIFICATION, REGRESSION)

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


class LightGBMFamily(ModelFamily):
    """LightGBM: a few wide trees with a high learning rate are often enough and cheap."""

    name = "lightgbm"

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
        return [
            {
                **base,
                "n_estimators": 20,
                "num_leaves": 31,
                "max_depth": 8,
                "learning_rate": 0.3,
                "max_bin": 63,
            },
            {
                **base,
                "n_estimators": 10,
                "num_leaves": 63,
                "max_depth": 10,
                "learning_rate": 0.5,
                "max_bin": 31,
            },
            {
                **base,
                "n_estimators": 50,
                "num_leaves": 15,
                "max_depth": 6,
                "learning_rate": 0.2,
                "max_bin": 63,
            },
            {
                **base,
                "n_estimators": 100,
                "num_leaves": 31,
                "max_depth": 12,
                "learning_rate": 0.1,
                "max_bin": 255,
            },
        ]


class MLPFamily(ModelFamily):
    """A small neural network: a few matrix products per batch, strong on dense numeric data."""

    name = "mlp"
    encoding = "onehot"

    def suggest(self, trial, ctx):
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        width = self.int(trial, "width", 8, 256, log=True)
        layers = self.int(trial, "layers", 1, 2)
        params = {
            "hidden_layer_sizes": (width,) * layers,
            "alpha": self.float(trial, "alpha", 1e-6, 1e-1, log=True),
            "learning_rate_init": self.float(trial, "learning_rate_init", 1e-4, 3e-2, log=True),
            "max_iter": self.int(trial, "max_iter", 20, 200, log=True),
            "early_stopping": False,
            "random_state": ctx.seed,
        }
        cls = MLPClassifier if ctx.is_classification else MLPRegressor
        return cls(**params)

    def known_good_points(self, ctx):
        return [
            {"width": 64, "layers": 1, "alpha": 1e-4, "learning_rate_init": 1e-3, "max_iter": 100}
        ]


def default_families() -> list[ModelFamily]:
    """The families a search uses unless told otherwise, from cheap to strong."""
    return [
        LinearFamily(),
        DecisionTreeFamily(),
        LightGBMFamily(),
        HistGradientBoostingFamily(),
        ForestFamily(),
        MLPFamily(),
    ]


def lightgbm_defaults(ctx: SearchContext) -> BaseEstimator:
    """The baseline every search is compared to: LightGBM with its default settings."""
    import lightgbm

    cls = lightgbm.LGBMClassifier if ctx.is_classification else lightgbm.LGBMRegressor
    return cls(n_jobs=1, verbose=-1, random_state=ctx.seed)
