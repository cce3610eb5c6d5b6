"""Benchmark: halfcost's cheapest-model search against LightGBM defaults and FLAML.

For each data set, in one run and on one thread:

1. Cut a 20% stratified test part (seeded). No contender ever sees it; it is the judge.
2. LightGBM defaults, with the search's own protocol on the training part (a 20%
   stratified hold-out, K-fold cross-validation on the rest): its CV score minus
   0.5 point (0.005) is the target.
3. halfcost's ``CheapestModelSearch`` with that target and ``--budget-s``, fit on the
   training part (it cuts its own hold-out and refits on the whole training part).
4. FLAML (``flaml.AutoML``) with the same time budget, maximizing the metric, fit on
   the training part.
5. LightGBM defaults refit on the whole training part.

All three are scored on the test part with the same metric code and timed with the same
function (``halfcost.automl.measure_cost``: a fixed 10k-row batch drawn from the test
part, warm-up, single thread, median of repeats; two rounds in turn, the lower median
kept). halfcost takes the raw frame (its preprocessing is timed); LightGBM and FLAML
take the same rows with string columns already converted to pandas ``category`` dtype
(the conversion is not timed, which favours them). Sizes are ``pickle`` bytes of each
serving object, the same method for all.

Run from the repository root: ``.venv/bin/python bench/search.py [--quick]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench._common import pin_threads  # before NumPy loads: thread pools read the env once

pin_threads()

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import pickle  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench import _common  # noqa: E402
from bench._datasets import DATASETS, BenchDataset, load_dataset  # noqa: E402

TARGET_MARGIN = 0.005  # the target is LightGBM defaults' CV score minus half a point
HOLDOUT_TOLERANCE = 0.01  # goal: held-out score within one point of the target
LATENCY_GOAL = 0.5  # goal: at most half of LightGBM defaults' latency (aim: 0.1)
LATENCY_AIM = 0.1
TEST_SHARE = 0.2
INNER_HOLDOUT = 0.2  # the search's default hold-out, replicated for the anchor's CV
LARGE_DATA_ROWS = 20_000  # the search uses 3 folds above this many CV rows, else 5
DEFAULT_BUDGET_S = 60.0
QUICK_BUDGET_S = 10.0
DEFAULT_OUT = "bench/results/search.md"
CONTENDERS = ("LightGBM defaults", "FLAML", "halfcost")
FLAML_METRICS = {
    ("accuracy", False): "accuracy",
    ("accuracy", True): "accuracy",
    ("roc_auc", False): "roc_auc",
    ("roc_auc", True): "roc_auc_ovr",
    ("f1", False): "f1",
    ("f1", True): "macro_f1",
    ("r2", False): "r2",
    ("neg_rmse", False): "rmse",
}
CODE_PATHS = (
    "automl",
    "halfcost",
    "bench/_common.py",
    "bench/_datasets.py",
    "bench/search.py",
    "bench/_serve.py",
)
PACKAGES = (
    "halfcost",
    "scikit-learn",
    "lightgbm",
    "optuna",
    "flaml",
    "xgboost",
    "pandas",
    "onnxruntime",
    "skl2onnx",
    "onnxmltools",
)


# --------------------------------------------------------------------------- data
@dataclass
class Prepared:
    """One data set split for the run, in the raw and the ``category`` encodings."""

    dataset: BenchDataset
    x_train: pd.DataFrame
    y_train: pd.Series
    x_test: pd.DataFrame
    y_test: pd.Series
    x_train_cat: pd.DataFrame
    x_test_cat: pd.DataFrame
    classes: list[Any]  # sorted class labels (classification), else []
    batch: pd.DataFrame  # the 10k-row timing batch, raw
    batch_cat: pd.DataFrame  # the same rows, categories

    @property
    def is_classification(self) -> bool:
        return self.dataset.task == "classification"

    def codes(self, labels: Any) -> np.ndarray:
        """Class labels -> indices into ``classes`` (compared as strings)."""
        index = {str(c): i for i, c in enumerate(self.classes)}
        return np.array([index[str(v)] for v in labels], dtype=np.int64)


def to_categories(train: pd.DataFrame, *others: pd.DataFrame) -> list[pd.DataFrame]:
    """String columns -> pandas ``category`` with the training part's levels (unseen -> NaN)."""
    levels = {
        c: sorted(train[c].dropna().astype(str).unique())
        for c in train.columns
        if train[c].dtype == object
    }
    converted = []
    for frame in (train, *others):
        out = frame.copy()
        for column, cats in levels.items():
            values = out[column].where(out[column].isna(), out[column].astype(str))
            out[column] = pd.Categorical(values, categories=cats)
        converted.append(out)
    return converted


def prepare(dataset: BenchDataset, seed: int) -> Prepared:
    """Cut the test part and build the raw and ``category`` views and the timing batch."""
    from sklearn.model_selection import train_test_split

    from halfcost.automl._cost import prediction_batch

    x, y = dataset.features, dataset.labels
    stratify = y if dataset.task == "classification" else None
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_SHARE, stratify=stratify, random_state=seed
    )
    x_train, x_test = x_train.reset_index(drop=True), x_test.reset_index(drop=True)
    y_train, y_test = y_train.reset_index(drop=True), y_test.reset_index(drop=True)
    batch = prediction_batch(x_test, seed=seed)
    x_train_cat, x_test_cat, batch_cat = to_categories(x_train, x_test, batch)
    classes = sorted(y.unique().tolist(), key=str) if dataset.task == "classification" else []
    return Prepared(
        dataset,
        x_train,
        y_train,
        x_test,
        y_test,
        x_train_cat,
        x_test_cat,
        classes,
        batch,
        batch_cat,
    )


# --------------------------------------------------------------------------- results
@dataclass
class Outcome:
    """What one contender achieved on one data set."""

    name: str
    holdout_score: float | None = None
    latency_ms_per_1k: float | None = None
    single_row_latency_ms: float | None = None
    size_bytes: int | None = None
    search_s: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    predictor: Any = field(default=None, repr=False)  # has .predict(batch)
    timing_batch: Any = field(default=None, repr=False)


@dataclass
class DatasetResult:
    """All contenders on one data set, plus the target they were held to."""

    name: str
    metric: str
    task: str
    rows: int
    features: int
    anchor_cv_score: float | None
    target: float | None
    cv_folds: int
    outcomes: dict[str, Outcome]

    def ratio(self, name: str, attribute: str) -> float | None:
        """``name``'s figure divided by LightGBM defaults' (None when either is missing)."""
        base = getattr(self.outcomes["LightGBM defaults"], attribute)
        value = getattr(self.outcomes[name], attribute)
        if base in (None, 0) or value is None:
            return None
        return value / base


def scored(prepared: Prepared, metric_name: str, predict, predict_proba, model_classes) -> float:
    """Score a contender on the test part with halfcost's metric code (the same for all)."""
    from halfcost.automl import METRICS

    metric = METRICS[metric_name]
    if not prepared.is_classification:
        return float(metric(prepared.y_test.to_numpy(dtype=float), np.asarray(predict())))
    truth = prepared.codes(prepared.y_test)
    k = len(prepared.classes)
    if metric.needs_proba:
        proba = np.asarray(predict_proba(), dtype=float)
        ordered = np.zeros((len(truth), k))
        ordered[:, prepared.codes(model_classes)] = proba
        return float(metric(truth, ordered, k))
    return float(metric(truth, prepared.codes(predict()), k))


def scored_model(prepared: Prepared, metric_name: str, model: Any) -> float:
    """:func:`scored` of a model taking the raw test part (halfcost's own models)."""
    return scored(
        prepared,
        metric_name,
        lambda: model.predict(prepared.x_test),
        lambda: model.predict_proba(prepared.x_test),
        model.classes_,
    )


def pickled_size_bytes(obj: Any) -> int:
    """Serialized size of a serving object (pickle protocol 5), the same method for all."""
    return len(pickle.dumps(obj, protocol=5))


# --------------------------------------------------------------------------- anchor
def inner_folds(y: pd.Series, task: str, seed: int) -> tuple[np.ndarray, list, int]:
    """The search's protocol on the training part: 20% stratified hold-out, K folds on the rest.

    Returns the dev-row indices, the folds (indices into the dev rows) and K.
    """
    from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

    idx = np.arange(len(y))
    codes = pd.factorize(y, sort=True)[0] if task == "classification" else None
    n_hold = max(round(len(y) * INNER_HOLDOUT), 1)
    if codes is not None:
        n_hold = max(n_hold, int(codes.max()) + 1)
    dev, _ = train_test_split(idx, test_size=n_hold, stratify=codes, random_state=seed)
    n_folds = 3 if len(dev) > LARGE_DATA_ROWS else 5
    if codes is not None:
        n_folds = max(2, min(n_folds, int(np.bincount(codes[dev]).min())))
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        folds = list(splitter.split(np.zeros(len(dev)), codes[dev]))
    else:
        splitter = KFold(n_splits=n_folds, shuffle=True, random_state=seed)
        folds = list(splitter.split(np.zeros(len(dev))))
    return dev, folds, n_folds


def lightgbm_defaults(task: str, seed: int):
    """LightGBM with its default settings, on one thread."""
    import lightgbm

    cls = lightgbm.LGBMClassifier if task == "classification" else lightgbm.LGBMRegressor
    return cls(n_jobs=1, verbose=-1, random_state=seed)


def run_anchor(prepared: Prepared, seed: int) -> tuple[Outcome, float, int]:
    """LightGBM defaults: CV score with the search's protocol, then refit on the training part."""
    from halfcost.automl import METRICS

    data = prepared.dataset
    metric = METRICS[data.metric]
    dev, folds, n_folds = inner_folds(prepared.y_train, data.task, seed)
    x_dev, y_dev = prepared.x_train_cat.iloc[dev], prepared.y_train.iloc[dev]
    started = time.perf_counter()
    fold_scores = []
    for train, valid in folds:
        model = lightgbm_defaults(data.task, seed).fit(x_dev.iloc[train], y_dev.iloc[train])
        x_valid, y_valid = x_dev.iloc[valid], y_dev.iloc[valid]
        if not prepared.is_classification:
            fold_scores.append(metric(y_valid.to_numpy(dtype=float), model.predict(x_valid)))
            continue
        truth, k = prepared.codes(y_valid), len(prepared.classes)
        if metric.needs_proba:
            proba = np.zeros((len(truth), k))
            proba[:, prepared.codes(model.classes_)] = model.predict_proba(x_valid)
            fold_scores.append(metric(truth, proba, k))
        else:
            fold_scores.append(metric(truth, prepared.codes(model.predict(x_valid)), k))
    cv_score = float(np.mean(fold_scores))
    model = lightgbm_defaults(data.task, seed).fit(prepared.x_train_cat, prepared.y_train)
    elapsed = time.perf_counter() - started
    outcome = Outcome(
        name="LightGBM defaults",
        holdout_score=scored(
            prepared,
            data.metric,
            lambda: model.predict(prepared.x_test_cat),
            lambda: model.predict_proba(prepared.x_test_cat),
            getattr(model, "classes_", []),
        ),
        size_bytes=pickled_size_bytes(model),
        search_s=elapsed,
        details={"cv_score": cv_score, "fold_scores": [float(s) for s in fold_scores]},
        predictor=model,
        timing_batch=prepared.batch_cat,
    )
    return outcome, cv_score, n_folds


# --------------------------------------------------------------------------- FLAML
def run_flaml(prepared: Prepared, budget_s: float, seed: int) -> Outcome:
    """FLAML's AutoML, maximizing the metric for ``budget_s`` seconds on one thread."""
    from flaml import AutoML

    data = prepared.dataset
    multiclass = len(prepared.classes) > 2
    flaml_metric = FLAML_METRICS.get((data.metric, multiclass))
    if flaml_metric is None:
        raise ValueError(f"no FLAML metric for {data.metric!r} (multiclass={multiclass})")
    logging.getLogger("flaml").setLevel(logging.WARNING)
    automl = AutoML()
    started = time.perf_counter()
    automl.fit(
        X_train=prepared.x_train_cat,
        y_train=prepared.y_train,
        task=data.task,
        metric=flaml_metric,
        time_budget=budget_s,
        n_jobs=1,
        verbose=0,
        seed=seed,
        log_file_name="",
    )
    elapsed = time.perf_counter() - started
    serving = (automl._transformer, automl._label_transformer, automl._trained_estimator)
    return Outcome(
        name="FLAML",
        holdout_score=scored(
            prepared,
            data.metric,
            lambda: automl.predict(prepared.x_test_cat),
            lambda: automl.predict_proba(prepared.x_test_cat),
            automl.classes_ if prepared.is_classification else [],
        ),
        size_bytes=pickled_size_bytes(serving),
        search_s=elapsed,
        details={
            "best_estimator": automl.best_estimator,
            "best_config": automl.best_config,
            "flaml_metric": flaml_metric,
        },
        predictor=automl,
        timing_batch=prepared.batch_cat,
    )


# --------------------------------------------------------------------------- halfcost
def run_halfcost(
    prepared: Prepared, target: float, budget_s: float, seed: int, n_folds: int
) -> Outcome:
    """halfcost's search for the cheapest model meeting ``target`` on the raw training part."""
    import optuna

    from halfcost.automl import CheapestModelSearch

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the bench is the user: one line a set
    data = prepared.dataset
    search = CheapestModelSearch(
        metric=data.metric,
        min_score=target,
        budget_s=budget_s,
        seed=seed,
        task=data.task,
        holdout=INNER_HOLDOUT,
        cv=n_folds,
    )
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(prepared.x_train, prepared.y_train)
    elapsed = time.perf_counter() - started
    model = search.best_model_
    return Outcome(
        name="halfcost",
        holdout_score=scored_model(prepared, data.metric, model),
        size_bytes=pickled_size_bytes(model),
        search_s=elapsed,
        details=search_details(search.report_, getattr(model, "metadata", {})),
        predictor=model,
        timing_batch=prepared.batch,
    )


def search_details(report: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    """The report figures the bench shows; a key the search no longer writes is left out."""
    chosen = report.get("chosen", {})
    details = {
        "met_in_cv": report.get("met"),
        "family": chosen.get("family"),
        "params": chosen.get("params"),
        "n_features": chosen.get("n_features"),
        "used_columns": metadata.get("used_columns"),
        "cv_score": chosen.get("cv_score"),
        "inner_holdout_score": chosen.get("holdout_score"),
        "own_latency_ratio": report.get("savings", {}).get("latency_ratio"),
        "own_baseline_cv": report.get("baseline", {}).get("cv_score"),
        "own_size_bytes": chosen.get("size_bytes"),
        "n_trials": report.get("n_trials"),
        "search_seconds": report.get("search_seconds"),
        "families_tried": sorted(
            {str(t.get("family")) for t in report.get("trials", []) if t.get("family")}
        ),
    }
    return {k: v for k, v in details.items() if v is not None}


# --------------------------------------------------------------------------- timing
def measure_all(outcomes: list[Outcome], rounds: int = 2) -> None:
    """Time every fitted contender with the search's own ``measure_cost``, in turn.

    Each round measures each model alone, one after another; the lower of the medians
    is kept, since interference from other work on the machine only ever adds time.
    """
    from halfcost.automl import measure_cost

    ready = [o for o in outcomes if o.predictor is not None]
    for _ in range(rounds):
        for outcome in ready:
            cost = measure_cost(outcome.predictor, outcome.timing_batch, size_bytes=0)
            outcome.latency_ms_per_1k = min(
                outcome.latency_ms_per_1k or math.inf, cost.latency_ms_per_1k
            )
            outcome.single_row_latency_ms = min(
                outcome.single_row_latency_ms or math.inf, cost.single_row_latency_ms
            )


def guarded(name: str, work) -> Outcome:
    """Run one contender; a failure becomes a row with its error, not a lost benchmark."""
    try:
        return work()
    except Exception as exc:  # any library error must not lose the other contenders
        traceback.print_exc(file=sys.stderr)
        return Outcome(name=name, error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}")


def run_dataset(dataset: BenchDataset, budget_s: float, seed: int, log) -> DatasetResult:
    """All contenders on one data set (see the module docstring for the protocol)."""
    prepared = prepare(dataset, seed)
    log(f"[{dataset.name}] {len(dataset.frame)} rows; LightGBM defaults (anchor)")
    anchor_cv, n_folds = None, 5
    holder: dict[str, Any] = {}

    def anchor() -> Outcome:
        outcome, holder["cv"], holder["folds"] = run_anchor(prepared, seed)
        return outcome

    outcomes = {"LightGBM defaults": guarded("LightGBM defaults", anchor)}
    anchor_cv, n_folds = holder.get("cv"), holder.get("folds", n_folds)
    target = None if anchor_cv is None else anchor_cv - TARGET_MARGIN
    log(f"[{dataset.name}] target {dataset.metric} >= {format_score(target)}; FLAML {budget_s:g}s")
    outcomes["FLAML"] = guarded("FLAML", lambda: run_flaml(prepared, budget_s, seed))
    log(f"[{dataset.name}] halfcost {budget_s:g}s")
    if target is None:
        outcomes["halfcost"] = Outcome("halfcost", error="no target: the anchor failed")
    else:
        outcomes["halfcost"] = guarded(
            "halfcost", lambda: run_halfcost(prepared, target, budget_s, seed, n_folds)
        )
    log(f"[{dataset.name}] timing the models")
    measure_all(list(outcomes.values()))
    return DatasetResult(
        name=dataset.name,
        metric=dataset.metric,
        task=dataset.task,
        rows=len(dataset.frame),
        features=dataset.features.shape[1],
        anchor_cv_score=anchor_cv,
        target=target,
        cv_folds=n_folds,
        outcomes=outcomes,
    )


# --------------------------------------------------------------------------- output
def format_score(value: float | None) -> str:
    return _common.format_number(value, 4)


def met_mark(result: DatasetResult, outcome: Outcome) -> str:
    if outcome.holdout_score is None or result.target is None:
        return "—"
    if outcome.holdout_score >= result.target:
        return "yes"
    gap = result.target - outcome.holdout_score
    return f"within 1 pt (-{gap:.4f})" if gap <= HOLDOUT_TOLERANCE else f"no (-{gap:.4f})"


HEADERS = (
    "data set",
    "model",
    "metric",
    "holdout",
    "target",
    "met on holdout?",
    "ms/1k rows",
    "vs LGBM",
    "1-row ms",
    "size",
    "vs LGBM",
    "search s",
)


def summary_rows(results: list[DatasetResult]) -> list[list[str]]:
    rows = []
    for r in results:
        for name in CONTENDERS:
            o = r.outcomes[name]
            if o.error:
                rows.append([r.name, name, r.metric, f"error: {o.error}", *["—"] * 8])
                continue
            rows.append(
                [
                    r.name,
                    name,
                    r.metric,
                    format_score(o.holdout_score),
                    format_score(r.target),
                    met_mark(r, o),
                    _common.format_number(o.latency_ms_per_1k, 2),
                    _common.format_ratio(r.ratio(name, "latency_ms_per_1k")),
                    _common.format_number(o.single_row_latency_ms, 2),
                    _common.format_bytes(o.size_bytes),
                    _common.format_ratio(r.ratio(name, "size_bytes")),
                    _common.format_number(o.search_s, 1),
                ]
            )
    return rows


def detail_rows(results: list[DatasetResult]) -> list[list[str]]:
    rows = []
    for r in results:
        h, f = r.outcomes["halfcost"].details, r.outcomes["FLAML"].details
        params = ", ".join(f"{k}={_short(v)}" for k, v in sorted(h.get("params", {}).items()))
        rows.append(
            [
                r.name,
                f"{r.rows} x {r.features}",
                f"{format_score(r.anchor_cv_score)} ({r.cv_folds} folds)",
                format_score(h.get("own_baseline_cv")),
                str(h.get("family", "—")),
                f"{h.get('n_features', '—')}/{r.features}",
                params or "—",
                format_score(h.get("cv_score")),
                "yes" if h.get("met_in_cv") else ("no" if h else "—"),
                _common.format_ratio(h.get("own_latency_ratio")),
                str(h.get("n_trials", "—")),
                _seconds_of(h.get("search_seconds"), r.outcomes["halfcost"].search_s),
                str(f.get("best_estimator", "—")),
            ]
        )
    return rows


DETAIL_HEADERS = (
    "data set",
    "rows x cols",
    "LGBM CV (target + 0.005)",
    "LGBM CV in search",
    "halfcost family",
    "columns used",
    "halfcost params",
    "halfcost CV",
    "met in CV?",
    "own latency ratio",
    "trials",
    "search s / total s",
    "FLAML best",
)


def _seconds_of(part: float | None, total: float | None) -> str:
    if part is None or total is None:
        return "—"
    return f"{part:.0f} / {total:.0f}"


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def verdicts(results: list[DatasetResult]) -> list[str]:
    """One line per goal of the issue, PASS or FAIL with the figures behind it."""
    ok = [r for r in results if not r.outcomes["halfcost"].error]
    failed = [r.name for r in results if r.outcomes["halfcost"].error]
    lines = []

    ratios = {r.name: r.ratio("halfcost", "latency_ms_per_1k") for r in ok}
    worst = max((v for v in ratios.values() if v is not None), default=None)
    latency_pass = (
        bool(ok)
        and not failed
        and all(v is not None and v <= LATENCY_GOAL for v in ratios.values())
    )
    aim = sum(1 for v in ratios.values() if v is not None and v <= LATENCY_AIM)
    lines.append(
        f"- latency ≤ {LATENCY_GOAL}x LightGBM defaults on every set: "
        f"**{'PASS' if latency_pass else 'FAIL'}** (worst {_common.format_ratio(worst)}; "
        + ", ".join(f"{k} {_common.format_ratio(v)}" for k, v in ratios.items())
        + f"); aim ≤ {LATENCY_AIM}x reached on {aim}/{len(results)}"
    )

    gaps = {
        r.name: r.outcomes["halfcost"].holdout_score - r.target
        for r in ok
        if r.target is not None and r.outcomes["halfcost"].holdout_score is not None
    }
    score_pass = bool(ok) and not failed and all(g >= -HOLDOUT_TOLERANCE for g in gaps.values())
    lines.append(
        "- held-out score within 1 point of the target on every set: "
        f"**{'PASS' if score_pass else 'FAIL'}** ("
        + ", ".join(f"{k} {g:+.4f}" for k, g in gaps.items())
        + ")"
    )

    versus = {}
    for r in ok:
        flaml, mine = r.outcomes["FLAML"], r.outcomes["halfcost"]
        if flaml.latency_ms_per_1k and mine.latency_ms_per_1k:
            versus[r.name] = mine.latency_ms_per_1k / flaml.latency_ms_per_1k
    cheaper_pass = bool(versus) and not failed and all(v < 1 for v in versus.values())
    lines.append(
        "- cheaper to serve than FLAML on every set: "
        f"**{'PASS' if cheaper_pass else 'FAIL'}** (halfcost/FLAML latency: "
        + ", ".join(f"{k} {_common.format_ratio(v)}" for k, v in versus.items())
        + ")"
    )
    both = [
        r.name
        for r in ok
        if r.name in gaps
        and gaps[r.name] >= -HOLDOUT_TOLERANCE
        and ratios.get(r.name) is not None
        and ratios[r.name] <= LATENCY_GOAL
    ]
    lines.insert(
        0,
        f"- **overall: {'PASS' if len(both) == len(results) else 'FAIL'}** — target met on "
        f"held-out data (within 1 point) at ≤ {LATENCY_GOAL}x LightGBM defaults' latency on "
        f"{len(both)}/{len(results)} sets" + (f" ({', '.join(both)})" if both else ""),
    )
    if failed:
        lines.append(f"- halfcost failed to run on: {', '.join(failed)} (see the table)")
    return lines


def markdown_report(
    results: list[DatasetResult], context: list[str], args: argparse.Namespace
) -> str:
    parts = [
        "# Benchmark: the cheapest-model search",
        "",
        "halfcost's `CheapestModelSearch` vs LightGBM defaults vs FLAML, one run, one thread "
        f"per model. Target = LightGBM defaults' CV score − {TARGET_MARGIN} (0.5 point); "
        f"search budget {args.budget_s:g} s for halfcost and FLAML alike; seed {args.seed}.",
        "Generated by `bench/search.py` (see `docs/bench.md` for the protocol).",
        "",
        "## Run",
        "",
        *[f"- {line}" for line in context],
    ]
    if args.note:
        parts.append(f"- note: {args.note}")
    parts += [
        "",
        "## Verdict",
        "",
        *verdicts(results),
        "",
        "## Results (held-out test part, 20% of each set, never seen by any contender)",
        "",
        _common.markdown_table(HEADERS, summary_rows(results)),
        "",
        "`vs LGBM`: ratio to LightGBM defaults on the same set (lower is cheaper). "
        "`search s`: wall time to get the model (LightGBM: its CV + refit; FLAML: `fit`; "
        "halfcost: `fit`, which includes its own baseline, finalist re-measurement and refit).",
        "",
        "## What halfcost chose",
        "",
        _common.markdown_table(DETAIL_HEADERS, detail_rows(results)),
        "",
        "## Method",
        "",
        "- Each set: 20% stratified test part cut first (seeded); all contenders fit on the "
        "other 80% (the training part). The target comes from LightGBM defaults run with the "
        "search's protocol on the training part (its own 20% stratified hold-out, then 3-fold "
        "CV above 20k rows, else 5-fold); halfcost is given the same fold count.",
        "- Scores: halfcost's metric code for every contender (multiclass f1/AUC are macro).",
        "- Latency: `halfcost.automl.measure_cost` for every contender: a fixed 10k-row batch "
        "drawn from the test part (repeated when the part is smaller), warm-up, single thread "
        "(threadpoolctl + `OMP_NUM_THREADS=1`, `n_jobs=1`), median of up to 7 repeats; two "
        "rounds with all models in turn, the lower median kept. halfcost takes the raw frame "
        "(its preprocessing is timed); LightGBM and FLAML take the same rows with strings "
        "already converted to pandas `category` dtype (conversion not timed: in their favour). "
        "Predictions are class labels (`predict`), values for regression.",
        "- Size: `pickle` (protocol 5) bytes of the serving object: the fitted LGBM estimator; "
        "FLAML's transformer + label transformer + trained estimator; halfcost's `best_model_`.",
        "- FLAML: `AutoML.fit(task, metric, time_budget=budget, n_jobs=1, verbose=0, seed)`, "
        "default estimator list, maximizing the same metric.",
        "",
    ]
    return "\n".join(parts)


def json_report(results: list[DatasetResult], context: list[str]) -> dict[str, Any]:
    def outcome(o: Outcome) -> dict[str, Any]:
        return {
            k: v
            for k, v in o.__dict__.items()
            if k not in ("predictor", "timing_batch") and v is not None
        }

    return {
        "context": context,
        "verdicts": verdicts(results),
        "datasets": [
            {
                **{k: v for k, v in r.__dict__.items() if k != "outcomes"},
                "outcomes": {k: outcome(o) for k, o in r.outcomes.items()},
            }
            for r in results
        ],
    }


# --------------------------------------------------------------------------- CLI
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/search.py",
        description="halfcost's cheapest-model search vs LightGBM defaults vs FLAML.",
    )
    parser.add_argument(
        "--budget-s",
        type=float,
        default=None,
        help=f"search budget per data set for halfcost and FLAML (default {DEFAULT_BUDGET_S:g};"
        f" {QUICK_BUDGET_S:g} with --quick)",
    )
    parser.add_argument(
        "--datasets",
        default=",".join(DATASETS),
        help=f"comma-separated data sets (default: all of {', '.join(DATASETS)})",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: small budgets, same data sets"
    )
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"markdown file (default {DEFAULT_OUT})")
    parser.add_argument("--json", default=None, help="also write the raw figures as JSON here")
    parser.add_argument("--seed", type=int, default=0, help="seed for data, splits and searches")
    parser.add_argument(
        "--rows", type=int, default=None, help="rows of each synthetic set (default: its own size)"
    )
    parser.add_argument("--note", default="", help="a remark to record in the results file")
    parser.add_argument(
        "--serve",
        action="store_true",
        help="the serving comparison instead: LightGBM defaults in Python and ONNX Runtime vs "
        "halfcost --objective online in Python and ONNX (its section of --out is replaced)",
    )
    args = parser.parse_args(argv)
    if args.budget_s is None:
        args.budget_s = QUICK_BUDGET_S if args.quick else DEFAULT_BUDGET_S
    if not args.budget_s > 0:
        parser.error(f"--budget-s must be positive, but got {args.budget_s:g}")
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    unknown = [n for n in names if n not in DATASETS]
    if unknown or not names:
        parser.error(
            f"unknown data set(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(DATASETS)}"
        )
    args.dataset_names = names
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    context = _common.run_context(PACKAGES, code_paths=CODE_PATHS)
    if args.serve:
        from bench import _serve

        served = []
        this = sys.modules[__name__]
        for name in args.dataset_names:
            dataset = load_dataset(name, seed=args.seed, n_rows=args.rows)
            served.append(_serve.run_serve_dataset(this, dataset, args.budget_s, args.seed, log))
        context.append(f"load average (1/5/15 min) at end: {_common.load_average()}")
        print(_common.text_table(_serve.HEADERS, _serve.rows(served)))
        print("\n".join(_serve.verdicts(served)))
        command = "python bench/search.py " + " ".join(argv if argv is not None else sys.argv[1:])
        section = _serve.markdown(served, context, args.budget_s, command)
        print(f"\nwrote {_serve.write_section(section, args.out)}")
        return 0
    results = []
    for name in args.dataset_names:
        dataset = load_dataset(name, seed=args.seed, n_rows=args.rows)
        results.append(run_dataset(dataset, args.budget_s, args.seed, log))
    context.append(f"load average (1/5/15 min) at end: {_common.load_average()}")
    print(_common.text_table(HEADERS, summary_rows(results)))
    print()
    print(_common.text_table(DETAIL_HEADERS, detail_rows(results)))
    print()
    print("\n".join(verdicts(results)))
    out = _common.write_text_atomic(markdown_report(results, context, args), args.out)
    print(f"\nwrote {out}")
    if args.json:
        text = json.dumps(json_report(results, context), indent=2, default=str)
        print(f"wrote {_common.write_text_atomic(text + chr(10), args.json)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
