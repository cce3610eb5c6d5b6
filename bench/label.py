"""Benchmark: halfcost's active-learning strategies against random labelling and scikit-activeml.

For each data set, in one run and on one thread:

1. ``LabelingSimulation`` cuts a fixed 20% held-out part (seeded); the rest is the pool.
2. The target S is random labelling's held-out score with 50% of the pool labelled
   (LightGBM defaults on halfcost's encoding, median over three random halves).
3. ``simulate`` replays margin, entropy, diverse and random, three seeds each, from the
   same random starts (max(20, 1% of the pool)), buying 1% of the pool per round.
4. The anchor: scikit-activeml's ``UncertaintySampling(method="margin_sampling")``
   queries the same pool with the same model (the same halfcost pipeline, wrapped in
   ``skactiveml.classifier.SklearnClassifier``), from the same starts, same batch size,
   same held-out part and the same stopping rule: labels at the first round scoring >= S.

Then ``select`` on a 100k x 20 pool (16 numeric, 4 string columns) with 2,000 labelled
rows, N = 1,000 and ``diverse``, model fit included, against scikit-activeml's margin
query with the same model on the same pool.

The data sets and their generators were fixed before any strategy was tuned, and are not
changed afterwards (see :data:`LABEL_SETS`).

Run from the repository root: ``.venv/bin/python bench/label.py [--quick]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench._common import pin_threads  # before NumPy loads: thread pools read the env once

pin_threads()

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.base import BaseEstimator, ClassifierMixin  # noqa: E402

from bench import _common  # noqa: E402
from bench._datasets import load_dataset  # noqa: E402

#: (data set name in bench._datasets, rows; None = the set's own size). Fixed before tuning.
LABEL_SETS: tuple[tuple[str, int | None], ...] = (
    ("breast_cancer", None),  # 569 rows, 30 numeric columns, binary 63/37, accuracy
    ("segments", 30_000),  # 5 imbalanced classes, strings + numbers, 4% noisy labels, accuracy
    ("fraud", 60_000),  # ~5% positives, high-cardinality strings, ROC AUC
)
STRATEGIES = ["margin", "entropy", "diverse", "random"]
SEEDS = 3
RANDOM_SHARE = 0.5  # the target: random's score with half the pool labelled
GOAL_VS_RANDOM = 0.5  # margin needs <= 0.5x random's labels on every set
GOAL_VS_ANCHOR = 1.1  # and <= 1.1x the anchor's
SELECT_ROWS, SELECT_COLUMNS, SELECT_LABELED, SELECT_N = 100_000, 20, 2_000, 1_000
SELECT_GOAL_S = 10.0
DEFAULT_OUT = "bench/results/label.md"


class _RowModel(ClassifierMixin, BaseEstimator):
    """Lets scikit-activeml (which takes arrays) drive halfcost's pipeline on raw rows.

    X given to scikit-activeml is a column of row numbers; this estimator looks the raw
    rows up and fits/predicts with the very pipeline halfcost uses, so the anchor and
    halfcost differ only in the query strategy's code.
    """

    def __init__(self, rows: pd.DataFrame | None = None, build=None):
        self.rows = rows
        self.build = build

    def _lookup(self, x):
        return self.rows.iloc[np.asarray(x, dtype=np.int64).ravel()].reset_index(drop=True)

    def fit(self, X, y):  # scikit-activeml passes X by name
        x = X
        from halfcost.automl._label import fit_quietly

        y = np.asarray(y, dtype=np.int64)
        self.model_ = fit_quietly(self.build(len(y)), self._lookup(x), y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        x = X
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*valid feature names.*")
            return self.model_.predict_proba(self._lookup(x))

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def _anchor_runs(sim, target: float) -> tuple[list[int | None], list[float]]:
    """scikit-activeml margin sampling over the simulation's split, starts and steps."""
    from skactiveml.classifier import SklearnClassifier
    from skactiveml.pool import UncertaintySampling

    pool, held = sim._x_pool, sim._x_held
    rows = pd.concat([pool, held], ignore_index=True)
    held_ids = np.arange(len(pool), len(rows)).reshape(-1, 1)
    k = len(sim.classes_)

    def build(n):
        return sim._learner.build(sim.plan_.kinds, n, k)

    reached, round_s = [], []
    for repeat in range(sim.seeds):
        start = np.random.default_rng([int(sim.seed), repeat]).choice(
            sim.pool_rows_, sim.start_, replace=False
        )
        y = np.full(sim.pool_rows_, -1)
        y[start] = sim._y_pool[start]
        x_ids = np.arange(sim.pool_rows_).reshape(-1, 1)
        strategy = UncertaintySampling(
            method="margin_sampling", missing_label=-1, random_state=repeat
        )
        found = None
        for _ in range(sim._max_rounds()):
            began = time.perf_counter()
            clf = SklearnClassifier(
                _RowModel(rows, build),
                classes=np.arange(k),
                missing_label=-1,
                random_state=repeat,
            ).fit(x_ids, y)
            proba = clf.predict_proba(held_ids)
            prediction = proba if sim.metric_.needs_proba else proba.argmax(axis=1)
            score = float(sim.metric_(sim._y_held, prediction, k))
            labelled = int((y >= 0).sum())
            if score >= target:
                found = labelled
                round_s.append(time.perf_counter() - began)
                break
            unlabelled = np.flatnonzero(y < 0)
            if len(unlabelled) == 0:
                break
            picked = strategy.query(
                x_ids,
                y,
                clf=clf,
                fit_clf=False,
                candidates=unlabelled,
                batch_size=min(sim.step_, len(unlabelled)),
            )
            y[picked] = sim._y_pool[picked]
            round_s.append(time.perf_counter() - began)
        reached.append(found)
    return reached, round_s


def run_set(name: str, rows: int | None, step_share: float | None = None) -> dict:
    from halfcost.automl import LabelingSimulation
    from halfcost.automl._label_simulate import _median_or_none

    data = load_dataset(name, seed=0, n_rows=rows)
    x, y = data.features, data.labels
    probe = LabelingSimulation(min_score=0.0, seeds=SEEDS, metric=data.metric)
    target = probe.random_share_score(x, y, RANDOM_SHARE)
    step = None if step_share is None else max(1, round(step_share * probe.pool_rows_))
    began = time.perf_counter()
    sim = LabelingSimulation(
        min_score=target, strategies=STRATEGIES, seeds=SEEDS, metric=data.metric, step=step
    ).fit(x, y)
    sim_s = time.perf_counter() - began
    began = time.perf_counter()
    anchor_reached, anchor_round_s = _anchor_runs(sim, target)
    anchor_s = time.perf_counter() - began
    return {
        "name": name,
        "rows": len(data.frame),
        "classes": len(sim.classes_),
        "minority": float(np.bincount(sim._y_pool).min() / sim.pool_rows_),
        "metric": data.metric,
        "target": target,
        "pool": sim.pool_rows_,
        "start": sim.start_,
        "step": sim.step_,
        "labels": dict(sim.labels_to_target_),
        "per_seed": {k: [r["reached"] for r in v] for k, v in sim.runs_.items()},
        "round_s": dict(sim.round_s_),
        "anchor": _median_or_none(anchor_reached),
        "anchor_per_seed": anchor_reached,
        "anchor_round_s": float(np.median(anchor_round_s)),
        "simulate_s": sim_s,
        "anchor_s": anchor_s,
    }


def _select_pool(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """100k x 20 pool (16 numeric, 4 string codes with leading zeros) + 2,000 labelled rows."""
    from sklearn.datasets import make_classification

    n = SELECT_ROWS + SELECT_LABELED
    x, y = make_classification(
        n_samples=n,
        n_features=SELECT_COLUMNS,
        n_informative=8,
        n_classes=3,
        n_clusters_per_class=2,
        flip_y=0.02,
        random_state=seed,
    )
    frame = pd.DataFrame(x[:, :16], columns=[f"x{i:02d}" for i in range(16)])
    for j in range(16, SELECT_COLUMNS):
        codes = np.digitize(x[:, j], np.quantile(x[:, j], np.linspace(0, 1, 41)[1:-1]))
        frame[f"code{j}"] = np.array([f"{c:05d}" for c in codes], dtype=object)
    frame["label"] = np.array(["bronze", "silver", "gold"], dtype=object)[y]
    labelled = frame.iloc[:SELECT_LABELED].reset_index(drop=True)
    pool = frame.iloc[SELECT_LABELED:].drop(columns=["label"]).reset_index(drop=True)
    return pool, labelled


def run_select() -> dict:
    from skactiveml.classifier import SklearnClassifier
    from skactiveml.pool import UncertaintySampling

    from halfcost.automl import select_rows
    from halfcost.automl._label import Learner
    from halfcost.automl._prep import encode_target, plan_columns

    pool, labelled = _select_pool()
    times, anchor_times, cpu, anchor_cpu = [], [], [], []
    for _ in range(2):  # alternate, keep the faster of each (shared machine)
        began, began_cpu = time.perf_counter(), time.process_time()
        picks = select_rows(pool, labelled, "label", SELECT_N, strategy="diverse")
        times.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
        began, began_cpu = time.perf_counter(), time.process_time()
        plan = plan_columns(labelled.drop(columns=["label"]))
        codes, classes = encode_target(labelled["label"], "classification", "label")
        rows = pd.concat([labelled[plan.features], pool[plan.features]], ignore_index=True)
        y = np.r_[codes, np.full(len(pool), -1)]
        x_ids = np.arange(len(rows)).reshape(-1, 1)

        kinds, k = plan.kinds, len(classes)

        def build(n, kinds=kinds, k=k):
            return Learner().build(kinds, n, k)

        clf = SklearnClassifier(
            _RowModel(rows, build), classes=np.arange(len(classes)), missing_label=-1
        )
        UncertaintySampling(method="margin_sampling", missing_label=-1, random_state=0).query(
            x_ids, y, clf=clf, fit_clf=True, batch_size=SELECT_N
        )
        anchor_times.append(time.perf_counter() - began)
        anchor_cpu.append(time.process_time() - began_cpu)
    assert len(picks) == SELECT_N and picks["halfcost_row"].is_unique
    return {
        "select_s": min(times),
        "anchor_s": min(anchor_times),
        "select_cpu_s": min(cpu),
        "anchor_cpu_s": min(anchor_cpu),
    }


def render(results: list[dict], select: dict, context: list[str]) -> str:
    fmt = _common.format_number
    lines = ["# Active-learning benchmark: halfcost label vs random and scikit-activeml", ""]
    lines += [f"- {c}" for c in context]
    lines += [
        "- the 2 cores are shared with other jobs: times vary run to run; label counts do not.",
        "",
        "Target S = random labelling's held-out score with 50% of the pool labelled (median of "
        "3 random halves). Labels = the labelled count at the first round scoring >= S, median "
        "of 3 seeds (each seed its own random start, shared by every strategy and the anchor). "
        "Learner: LightGBM defaults on halfcost's encoding, for halfcost and for the anchor "
        '(scikit-activeml 1.0 `UncertaintySampling(method="margin_sampling")`).',
        "",
    ]
    headers = [
        "data set",
        "rows",
        "classes",
        "minority",
        "metric",
        "S",
        "pool",
        "start/step",
        "margin",
        "entropy",
        "diverse",
        "random",
        "anchor (skactiveml margin)",
        "margin / random",
        "margin / anchor",
        "s per round (margin / diverse / anchor)",
    ]
    rows = []
    for r in results:
        lab = r["labels"]

        def ratio(a, b):
            return None if a is None or b is None else a / b

        rows.append(
            [
                r["name"],
                f"{r['rows']:,}",
                r["classes"],
                f"{r['minority']:.1%}",
                r["metric"],
                fmt(r["target"], 4),
                f"{r['pool']:,}",
                f"{r['start']}/{r['step']}",
                *(lab[s] if lab[s] is not None else "never" for s in STRATEGIES),
                r["anchor"] if r["anchor"] is not None else "never",
                _common.format_ratio(ratio(lab["margin"], lab["random"])),
                _common.format_ratio(ratio(lab["margin"], r["anchor"])),
                f"{r['round_s']['margin']:.3f} / {r['round_s']['diverse']:.3f} / "
                f"{r['anchor_round_s']:.3f}",
            ]
        )
    lines.append(_common.markdown_table(headers, rows))
    lines += ["", "## Per seed (labels to target)", ""]
    for r in results:
        seeds = "; ".join(f"{k} {v}" for k, v in r["per_seed"].items())
        lines.append(
            f"- {r['name']}: {seeds}; anchor {r['anchor_per_seed']} "
            f"(simulate {r['simulate_s']:.0f} s, anchor {r['anchor_s']:.0f} s)"
        )
    lines += [
        "",
        f"## select: {SELECT_ROWS:,} x {SELECT_COLUMNS} pool, {SELECT_LABELED:,} labelled, "
        f"N = {SELECT_N:,}, diverse, fit included",
        "",
        f'- halfcost `select_rows(..., strategy="diverse")`: {select["select_s"]:.2f} s wall, '
        f"{select['select_cpu_s']:.2f} s CPU (one thread)",
        f"- scikit-activeml margin query, same model and pool: {select['anchor_s']:.2f} s wall, "
        f"{select['anchor_cpu_s']:.2f} s CPU (ratio {select['select_s'] / select['anchor_s']:.2f}x "
        f"wall, {select['select_cpu_s'] / select['anchor_cpu_s']:.2f}x CPU)",
        "",
        "## Goals",
        "",
    ]
    for r in results:
        lab = r["labels"]
        vs_random = (
            None if None in (lab["margin"], lab["random"]) else lab["margin"] / lab["random"]
        )
        vs_anchor = None if None in (lab["margin"], r["anchor"]) else lab["margin"] / r["anchor"]
        ok_r = vs_random is not None and vs_random <= GOAL_VS_RANDOM
        ok_a = vs_anchor is not None and vs_anchor <= GOAL_VS_ANCHOR
        lines.append(
            f"- {r['name']}: margin <= {GOAL_VS_RANDOM}x random: {'met' if ok_r else 'NOT met'} "
            f"({_common.format_ratio(vs_random)}); <= {GOAL_VS_ANCHOR}x anchor: "
            f"{'met' if ok_a else 'NOT met'} ({_common.format_ratio(vs_anchor)})"
        )
    ok = select["select_s"] < SELECT_GOAL_S
    lines.append(
        f"- select under {SELECT_GOAL_S:.0f} s: {'met' if ok else 'NOT met'} "
        f"({select['select_s']:.2f} s wall at load {_common.load_average()}; "
        f"{select['select_cpu_s']:.2f} s of CPU)"
    )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only breast_cancer (a smoke run)")
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument(
        "--sets", nargs="+", metavar="NAME", help="only these of LABEL_SETS (default: all)"
    )
    parser.add_argument(
        "--step-share",
        type=float,
        metavar="F",
        help="labels bought per round as a share of the pool (default: simulate's 1%%)",
    )
    args = parser.parse_args()
    context = _common.run_context(
        ["scikit-learn", "lightgbm", "scikit-activeml", "numpy", "pandas"],
        ["automl/_label.py", "automl/_label_simulate.py", "bench/label.py"],
    )
    sets = LABEL_SETS[:1] if args.quick else LABEL_SETS
    if args.sets:
        sets = [s for s in LABEL_SETS if s[0] in args.sets]
    results = []
    for name, rows in sets:
        print(f"{name} ...", file=sys.stderr, flush=True)
        results.append(run_set(name, rows, args.step_share))
        print(results[-1], file=sys.stderr, flush=True)
    select = run_select()
    print(select, file=sys.stderr, flush=True)
    text = render(results, select, context)
    _common.write_text_atomic(text, args.out)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
