"""Active learning: which unlabelled rows to label next, with the model teams start from.

The learner is LightGBM with its default settings on halfcost's own encoding of the raw
columns (:func:`~halfcost.automl._encoder.table_encoder`), or one of the search's families.
A :class:`QueryStrategy` turns the learner's class probabilities on the pool into a
ranked batch: ``margin`` and ``entropy`` pick the rows the model is least sure about,
``diverse`` spreads that uncertainty across the data (weighted k-means over the most
uncertain rows, after Zhdanov 2019), and ``random`` is the baseline every saving is
measured against. :class:`LabelSelector` is the scikit-learn-style estimator;
:func:`select_rows` is what ``halfcost label select`` calls.
"""

from __future__ import annotations

import io
import logging
import os
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from halfcost.automl._families import SearchContext, default_families, lightgbm_defaults
from halfcost.automl._metrics import CLASSIFICATION, REGRESSION
from halfcost.automl._prep import encode_target, infer_task, plan_columns
from halfcost.errors import BadInputError
from halfcost.tables import column_difference

logger = logging.getLogger(__name__)

ROW_COLUMN = "halfcost_row"
SCORE_COLUMN = "halfcost_score"
DEFAULT_STRATEGY = "margin"
#: diverse: how many uncertain candidates per row picked go into the clustering
DIVERSE_CANDIDATES_PER_PICK = 5


class QueryStrategy(ABC):
    """Ranks unlabelled rows for labelling; a plug-in, like Optuna's samplers.

    Subclasses set ``name`` and implement :meth:`pick`. ``needs_features`` asks the
    caller for the encoded feature matrix of the candidates (only ``diverse`` uses it);
    ``needs_proba`` False spares the caller the model's predictions (``random``).
    """

    name: str = ""
    needs_features: bool = False
    needs_proba: bool = True

    @abstractmethod
    def pick(
        self,
        proba: np.ndarray,
        n: int,
        rng: np.random.Generator,
        features: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Choose ``n`` of the rows of ``proba`` (class probabilities), best first.

        Returns:
            The chosen row indices into ``proba`` and the score that picked each one
            (higher is picked earlier).
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _top(scores: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of the ``n`` highest scores, ties broken at random (not by row order)."""
    shuffled = rng.permutation(len(scores))
    order = shuffled[np.argsort(-scores[shuffled], kind="stable")]
    return order[:n]


def margin_uncertainty(proba: np.ndarray) -> np.ndarray:
    """1 - (top class probability - second one): 1 on the decision boundary, 0 when sure."""
    if proba.shape[1] < 2:
        return np.zeros(len(proba))
    two = -np.partition(-proba, 1, axis=1)[:, :2]
    return 1.0 - (two[:, 0] - two[:, 1])


class MarginStrategy(QueryStrategy):
    """Smallest margin between the two most likely classes first (the default)."""

    name = "margin"

    def pick(self, proba, n, rng, features=None):
        scores = margin_uncertainty(proba)
        chosen = _top(scores, n, rng)
        return chosen, scores[chosen]


class EntropyStrategy(QueryStrategy):
    """Highest entropy of the predicted class distribution first."""

    name = "entropy"

    def pick(self, proba, n, rng, features=None):
        clipped = np.clip(proba, 1e-12, 1.0)
        scores = -(proba * np.log(clipped)).sum(axis=1)
        chosen = _top(scores, n, rng)
        return chosen, scores[chosen]


class RandomStrategy(QueryStrategy):
    """Rows at random: the baseline that savings are measured against."""

    name = "random"
    needs_proba = False

    def pick(self, proba, n, rng, features=None):
        scores = rng.random(len(proba))
        chosen = np.argsort(-scores, kind="stable")[:n]
        return chosen, scores[chosen]


class DiverseStrategy(QueryStrategy):
    """Uncertain rows spread over the data, so a batch is not ``n`` near-copies.

    The ``candidates_per_pick * n`` rows of smallest margin are clustered into ``n``
    groups by k-means weighted by their uncertainty (Zhdanov, "Diverse mini-batch active
    learning", 2019), and the most uncertain row of each group is picked. Features are
    the model's encoded inputs, standardized and weighted by the model's split gains, so
    distance is measured in the columns the model actually uses.
    """

    name = "diverse"
    needs_features = True

    def __init__(self, candidates_per_pick: int = DIVERSE_CANDIDATES_PER_PICK):
        self.candidates_per_pick = candidates_per_pick

    def pick(self, proba, n, rng, features=None):
        scores = margin_uncertainty(proba)
        if features is None or n <= 1 or len(proba) <= n:
            chosen = _top(scores, n, rng)
            return chosen, scores[chosen]
        candidates = _top(scores, min(len(proba), self.candidates_per_pick * n), rng)
        groups = _clusters(features[candidates], scores[candidates], n, rng)
        best: dict[int, int] = {}
        for position, group in enumerate(groups):  # candidates are sorted best first
            best.setdefault(int(group), int(candidates[position]))
        chosen = list(best.values())
        if len(chosen) < n:  # fewer distinct groups than picks (duplicate rows)
            taken = set(chosen)
            chosen += [int(i) for i in candidates if int(i) not in taken][: n - len(chosen)]
        chosen_arr = np.asarray(chosen, dtype=np.int64)
        chosen_arr = chosen_arr[np.argsort(-scores[chosen_arr], kind="stable")]
        return chosen_arr, scores[chosen_arr]

    def __repr__(self) -> str:
        return f"DiverseStrategy(candidates_per_pick={self.candidates_per_pick})"


def _clusters(x: np.ndarray, weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """k-means groups of ``x`` (rows sorted most uncertain first), weighted by uncertainty.

    The ``n`` most uncertain rows seed the centres: k-means++ costs more than the
    clustering itself at a thousand centres, and these are the rows we would pick anyway.
    """
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        model = KMeans(
            n_clusters=n,
            init=x[:n],
            n_init=1,
            max_iter=30,
            random_state=int(rng.integers(2**31)),
        )
        return model.fit_predict(x, sample_weight=np.maximum(weights, 1e-6))


#: the strategies by name, in the order reports list them
STRATEGIES: dict[str, type[QueryStrategy]] = {
    "margin": MarginStrategy,
    "entropy": EntropyStrategy,
    "diverse": DiverseStrategy,
    "random": RandomStrategy,
}


def get_strategy(strategy: str | QueryStrategy) -> QueryStrategy:
    """The strategy called ``strategy`` (or ``strategy`` itself if it is an instance).

    Raises:
        BadInputError: an unknown name (the message lists the valid ones).
    """
    if isinstance(strategy, QueryStrategy):
        return strategy
    cls = STRATEGIES.get(str(strategy))
    if cls is None:
        raise BadInputError(
            f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}.",
            param="strategy",
        )
    return cls()


# --- the learner ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Learner:
    """Builds the model ``select`` and ``simulate`` fit: same learner, same saving.

    Attributes:
        family: a search family's name, or None for LightGBM with its default settings.
        seed: the estimator's random seed.
    """

    family: str | None = None
    seed: int = 0

    @property
    def name(self) -> str:
        """What reports call the learner."""
        return self.family or "lightgbm_defaults"

    def check(self) -> Learner:
        """Return self, or raise BadInputError for an unknown family name."""
        if self.family is not None:
            self._family()
        return self

    def _family(self):
        families = {f.name: f for f in default_families()}
        if self.family not in families:
            raise BadInputError(
                f"unknown learner {self.family!r}; choose one of {', '.join(families)} "
                "(or leave it out for LightGBM defaults).",
                param="learner",
            )
        return families[self.family]

    def build(self, kinds: dict[str, str], n_rows: int, n_classes: int):
        """An unfitted pipeline: halfcost's encoder, then the estimator."""
        from halfcost.automl._search_space import make_pipeline

        ctx = SearchContext(
            task=CLASSIFICATION,
            n_rows=n_rows,
            n_features=len(kinds),
            n_classes=n_classes,
            seed=self.seed,
            kinds=dict(kinds),
        )
        if self.family is None:
            estimator, encoding = lightgbm_defaults(ctx), "native"
        else:
            import optuna

            family = self._family()
            point = (family.known_good_points(ctx) or [{}])[0]
            fixed = optuna.trial.FixedTrial({family.param_name(k): v for k, v in point.items()})
            estimator, encoding = family.suggest(fixed, ctx), family.encoding
        return make_pipeline(list(kinds), dict(kinds), encoding, estimator, CLASSIFICATION)


def fit_quietly(model, x: pd.DataFrame, y: np.ndarray):
    """Fit ``model`` with convergence and feature-name chatter silenced; return it."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*valid feature names.*")
        model.fit(x, y)
    return model


def full_proba(model, x: pd.DataFrame, n_classes: int, *, encoded: np.ndarray | None = None):
    """Class probabilities over all ``n_classes`` (zero for classes the model never saw).

    ``model`` None (the labelled rows hold one class, nothing to fit) gives uniform
    probabilities, so every strategy then picks at random. ``encoded`` (the encoder's
    output for ``x``) saves encoding the rows twice.
    """
    if model is None:
        return np.full((len(x), n_classes), 1.0 / n_classes)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*valid feature names.*")
        if encoded is None:
            proba = model.predict_proba(x)
        else:
            proba = model.named_steps["model"].predict_proba(encoded)
    out = np.zeros((len(x), n_classes))
    out[:, np.asarray(model.classes_, dtype=np.int64)] = proba
    return out


def encode(model, x: pd.DataFrame) -> np.ndarray | None:
    """The fitted encoder's output for ``x`` (None without a model)."""
    return None if model is None else model.named_steps["encode"].transform(x)


def strategy_inputs(
    strategy: QueryStrategy, model, x: pd.DataFrame, n_classes: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """What ``strategy.pick`` needs for the rows ``x``: class probabilities and features.

    A strategy that ignores the model (``random``) gets uniform probabilities without
    a prediction: over a simulation, random's rounds are the most numerous.
    """
    if not strategy.needs_proba:
        return full_proba(None, x, n_classes), None
    encoded = encode(model, x)
    proba = full_proba(model, x, n_classes, encoded=encoded)
    features = None
    if strategy.needs_features and encoded is not None:
        features = model_features(model, encoded)
    return proba, features


def model_features(model, encoded: np.ndarray) -> np.ndarray:
    """Encoded inputs standardized and weighted by the model's importances (for distances)."""
    encoded = np.asarray(encoded, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        center = np.nanmean(encoded, axis=0)
        spread = np.nanstd(encoded, axis=0)
    center = np.nan_to_num(center)
    spread = np.where(np.isfinite(spread) & (spread > 0), spread, 1.0)
    scaled = np.nan_to_num((encoded - center) / spread)
    estimator = model.named_steps["model"]
    booster = getattr(estimator, "booster_", None)
    gains = booster.feature_importance("gain") if booster is not None else None
    if gains is None:
        gains = getattr(estimator, "feature_importances_", None)
    if gains is not None and len(gains) == scaled.shape[1] and np.sum(gains) > 0:
        scaled = scaled * np.sqrt(np.asarray(gains, dtype=float) / np.sum(gains))
    return scaled


def check_classification(y: pd.Series, target: str) -> None:
    """Raise BadInputError unless ``y`` is a classification target."""
    if infer_task(y) == REGRESSION:
        raise BadInputError(
            f"target column {target!r} looks like a regression target "
            f"({y.nunique()} distinct numbers); active learning here handles classification "
            "only: give a column of classes."
        )


# --- selection -----------------------------------------------------------------------------


class LabelSelector(BaseEstimator):
    """Pick the pool rows worth labelling next, scikit-learn style.

    ``fit`` trains the learner on the labelled rows; ``select`` ranks a pool of
    unlabelled rows (raw columns, as the labelled ones) with the strategy.

    Args:
        n: rows to pick.
        strategy: margin, entropy, diverse, random, or a :class:`QueryStrategy`.
        learner: a search family's name, or None for LightGBM defaults.
        seed: seeds the learner and the tie-breaking.

    Attributes:
        model_: the fitted pipeline (None when the labelled rows hold one class).
        classes_: the classes, in the model's order.
        features_: the feature columns used.
    """

    def __init__(
        self,
        n: int = 100,
        strategy: str | QueryStrategy = DEFAULT_STRATEGY,
        learner: str | None = None,
        seed: int = 0,
    ):
        self.n = n
        self.strategy = strategy
        self.learner = learner
        self.seed = seed

    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> LabelSelector:
        """Train the learner on the labelled rows ``X`` with labels ``y``.

        Raises:
            BadInputError: a regression target, one class only, or no feature column.
        """
        get_strategy(self.strategy)
        learner = Learner(self.learner, int(self.seed)).check()
        y = pd.Series(np.asarray(y, dtype=object) if not isinstance(y, pd.Series) else y)
        target = str(y.name) if y.name is not None else "target"
        check_classification(y, target)
        codes, self.classes_ = encode_target(y.reset_index(drop=True), CLASSIFICATION, target)
        plan = plan_columns(X)
        self.features_ = plan.features
        self.model_ = learner.build(plan.kinds, len(X), len(self.classes_))
        fit_quietly(self.model_, X[self.features_].reset_index(drop=True), codes)
        return self

    def select(self, pool: pd.DataFrame) -> pd.DataFrame:
        """The ``n`` pool rows to label next, best first.

        Returns:
            The chosen rows with every pool column, plus ``halfcost_row`` (the 0-based row
            number in ``pool``) and ``halfcost_score`` (the score that picked it).

        Raises:
            BadInputError: an empty pool, missing feature columns, or ``n`` too large.
        """
        strategy = get_strategy(self.strategy)
        n = _check_n(self.n, len(pool))
        missing = [c for c in self.features_ if c not in pool.columns]
        if missing:
            raise BadInputError(
                f"the pool lacks feature column(s) {', '.join(map(str, missing))} of the "
                "labelled rows; give a pool with the same columns."
            )
        x = pool[self.features_].reset_index(drop=True)
        proba, features = strategy_inputs(strategy, self.model_, x, len(self.classes_))
        rng = np.random.default_rng(int(self.seed))
        chosen, scores = strategy.pick(proba, n, rng, features)
        picks = pool.iloc[chosen].reset_index(drop=True).copy()
        picks[ROW_COLUMN] = np.asarray(chosen, dtype=np.int64)
        picks[SCORE_COLUMN] = np.asarray(scores, dtype=float)
        return picks


def _check_n(n: int, available: int, where: str = "the pool") -> int:
    if available == 0:
        raise BadInputError(
            f"{where} has no rows to pick from; give a pool with at least one unlabelled row."
        )
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise BadInputError(f"{{param}} must be a whole number ≥ 1, but got {n!r}.", param="n")
    if n > available:
        raise BadInputError(
            f"{{param}} is {n} but {where} has only {available} rows to pick from; "
            f"give {{param}} ≤ {available}.",
            param="n",
        )
    return int(n)


def _row_keys(frames: list[pd.DataFrame], columns: list[str]) -> list[np.ndarray]:
    """One hash per row of ``columns`` for each frame, comparable across the frames.

    A column whose dtype differs between the frames (numbers in one, text in the other)
    is compared by its text, so 1 and "1" match; the others hash as they are (fast).
    """
    mixed = [c for c in columns if len({str(f[c].dtype) for f in frames}) > 1]
    keys = []
    for frame in frames:
        part = frame[columns].reset_index(drop=True)
        if mixed:
            part = part.assign(**{c: part[c].astype(str) for c in mixed})
        keys.append(pd.util.hash_pandas_object(part, index=False).to_numpy())
    return keys


def select_rows(
    pool: pd.DataFrame,
    labeled: pd.DataFrame,
    target: str,
    n: int,
    *,
    strategy: str | QueryStrategy = DEFAULT_STRATEGY,
    learner: str | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Pick the ``n`` rows of ``pool`` to label next, learning from ``labeled``.

    ``pool`` holds the feature columns of ``labeled`` (a ``target`` column in it is
    ignored). Pool rows identical to a labelled row are never picked: their label is
    already known.

    Returns:
        The picks as :meth:`LabelSelector.select` returns them (``halfcost_row`` counts
        rows of ``pool`` as given).

    Raises:
        BadInputError: different columns, an empty pool, ``n`` larger than the pool,
            one class in ``labeled``, a regression target, an unknown strategy.
    """
    get_strategy(strategy)
    if target not in labeled.columns:
        raise BadInputError(
            f"target column {target!r} is not in the labelled rows; choose one of: "
            f"{', '.join(map(str, labeled.columns))}.",
            param="target",
        )
    if len(pool) == 0:
        raise BadInputError(
            "the pool is empty; give a pool with at least one unlabelled row.", param="pool"
        )
    features = [c for c in labeled.columns if c != target]
    pool_columns = [c for c in pool.columns if c != target]
    difference = column_difference(
        [c for c in features if c not in pool_columns],
        [c for c in pool_columns if c not in features],
    )
    if difference:
        raise BadInputError(
            f"the pool and the labelled rows have different columns ({difference}); "
            "give a pool with the labelled table's columns, without the target."
        )
    _check_n(n, len(pool))  # before any fitting: a bad N fails fast
    labels = labeled[target]
    known = labels.notna()
    if not known.all():
        logger.info("%d labelled rows have no %s and are left out", int((~known).sum()), target)
    selector = LabelSelector(n=n, strategy=strategy, learner=learner, seed=seed)
    selector.fit(labeled.loc[known, features].reset_index(drop=True), labels[known])
    pool_keys, labelled_keys = _row_keys([pool, labeled.loc[known]], features)
    already = np.isin(pool_keys, labelled_keys)
    candidates = np.flatnonzero(~already)
    where = "the pool" if not already.any() else f"the pool (less {int(already.sum())} labelled)"
    _check_n(n, len(candidates), where)
    picks = selector.select(pool.iloc[candidates])
    picks[ROW_COLUMN] = candidates[picks[ROW_COLUMN].to_numpy()]
    return picks


def picks_as_read(
    path: str | os.PathLike[str], picks: pd.DataFrame, frame: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The picked rows with their cells exactly as the file at ``path`` holds them.

    Parsing a CSV turns codes such as ``00042`` into numbers and ``7`` into ``7.0`` when
    a cell is missing; the rows a person labels must show the values of their own file.
    ``halfcost_row`` counts rows of that file. Parquet keeps its types: ``frame`` (the
    table as read) or ``picks`` is returned as it is.
    """
    from halfcost.tables import table_suffix

    rows = picks[ROW_COLUMN].to_numpy()
    if table_suffix(path) != ".csv":
        if frame is None:
            return picks
        out = frame.iloc[rows].reset_index(drop=True)
    else:
        out = _csv_rows_as_text(path, rows)
    out[ROW_COLUMN] = rows
    out[SCORE_COLUMN] = picks[SCORE_COLUMN].to_numpy()
    return out


def _csv_rows_as_text(path: str | os.PathLike[str], rows: np.ndarray) -> pd.DataFrame:
    """Rows ``rows`` (0-based data rows) of the CSV at ``path``, every cell as its text.

    Only the wanted rows are parsed: reading a 100k-row pool as text costs a second, more
    than the rest of a selection but the model. pandas' ``skiprows`` counts records (a
    quoted newline stays in its row) but also blank lines, which the table as read
    skipped, so a file with blank lines is read whole.
    """
    wanted = np.unique(rows)
    data = Path(path).read_bytes()
    if not (b"\n\n" in data or b"\n\r\n" in data or data.startswith((b"\n", b"\r"))):
        keep = set((wanted + 1).tolist())  # line 0 is the header
        part = pd.read_csv(
            io.BytesIO(data),
            dtype=str,
            keep_default_na=False,
            skiprows=lambda line: line > 0 and line not in keep,
        )
        if len(part) == len(wanted):
            return part.iloc[np.searchsorted(wanted, rows)].reset_index(drop=True)
    raw = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    return raw.iloc[rows].reset_index(drop=True)
