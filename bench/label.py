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
SATURATION_SHARES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0)  # random's curve, for the reading
GOAL_VS_RANDOM = 0.5  # margin needs <= 0.5x random's labels on every set
GOAL_VS_ANCHOR = 1.1  # and <= 1.1x the anchor's
SELECT_ROWS, SELECT_COLUMNS, SELECT_LABELED, SELECT_N = 100_000, 20, 2_000, 1_000
SELECT_GOAL_S = 10.0
DEFAULT_OUT = "bench/results/label.md"
PARTS_DIR = "bench/results/label"  # one JSON per data set and for select, plus the curves


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


def _anchor_runs(
    sim, target: float, repeats: list[int] | None = None
) -> tuple[list[int | None], list[float], list[list[float]]]:
    """scikit-activeml margin sampling over the simulation's split, starts and steps."""
    from skactiveml.classifier import SklearnClassifier
    from skactiveml.pool import UncertaintySampling

    pool, held = sim._x_pool, sim._x_held
    rows = pd.concat([pool, held], ignore_index=True)
    held_ids = np.arange(len(pool), len(rows)).reshape(-1, 1)
    k = len(sim.classes_)

    def build(n):
        return sim._learner.build(sim.plan_.kinds, n, k)

    reached, round_s, curves = [], [], []
    for repeat in range(sim.seeds) if repeats is None else repeats:
        start = np.random.default_rng([int(sim.seed), repeat]).choice(
            sim.pool_rows_, sim.start_, replace=False
        )
        y = np.full(sim.pool_rows_, -1)
        y[start] = sim._y_pool[start]
        x_ids = np.arange(sim.pool_rows_).reshape(-1, 1)
        strategy = UncertaintySampling(
            method="margin_sampling", missing_label=-1, random_state=repeat
        )
        found, scores = None, []
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
            scores.append(score)
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
        curves.append(scores)
    return reached, round_s, curves


def _prepared(name: str, rows: int | None, target: float | None = None):
    """The data set, random's 50% score (the target S) and a simulation with its split cut."""
    from halfcost.automl import LabelingSimulation

    data = load_dataset(name, seed=0, n_rows=rows)
    x, y = data.features, data.labels
    probe = LabelingSimulation(min_score=0.0, seeds=SEEDS, metric=data.metric)
    if target is None:
        target = probe.random_share_score(x, y, RANDOM_SHARE)
    sim = LabelingSimulation(
        min_score=target, strategies=STRATEGIES, seeds=SEEDS, metric=data.metric
    )
    strategies = sim._prepare(x, y)
    return data, probe, target, sim, strategies


def _random_by_share(probe, data) -> dict[str, float]:
    """Random labelling's held-out score at 10%, 20%, ... 100% of the pool (saturation)."""
    x, y = data.features, data.labels
    return {f"{share:.0%}": probe.random_share_score(x, y, share) for share in SATURATION_SHARES}


def run_set(name: str, rows: int | None, out_dir: Path) -> dict:
    """Simulate every strategy and the anchor on one data set, with simulate's defaults.

    Also measures random labelling's held-out score at 10%, 20%, ... 100% of the pool (the
    same split, learner and seeds), which shows where the learning curve saturates.
    """
    data, probe, target, _, _ = _prepared(name, rows)
    random_by_share = _random_by_share(probe, data)
    began = time.perf_counter()
    sim = type(probe)(min_score=target, strategies=STRATEGIES, seeds=SEEDS, metric=data.metric).fit(
        data.features, data.labels
    )
    sim_s = time.perf_counter() - began
    began = time.perf_counter()
    anchor = _anchor_runs(sim, target)
    anchor_s = time.perf_counter() - began
    return _set_result(name, data, sim, target, random_by_share, anchor, sim_s, anchor_s, out_dir)


def run_seed_part(name: str, rows: int | None, repeat: int) -> dict:
    """One seed of :func:`run_set` (every strategy and the anchor), to run seeds in parallel.

    Each strategy's replay depends only on its seed (its start, its tie-breaking stream and
    the learner's seed), so three processes give exactly the sequential run's counts.
    """
    data, probe, target, sim, strategies = _prepared(name, rows)
    start = np.random.default_rng([int(sim.seed), repeat]).choice(
        sim.pool_rows_, sim.start_, replace=False
    )
    began = time.perf_counter()
    runs = {s.name: sim._replay(s, start, repeat, target, None) for s in strategies}
    sim_s = time.perf_counter() - began
    began = time.perf_counter()
    reached, round_s, curves = _anchor_runs(sim, target, [repeat])
    part = {
        "name": name,
        "repeat": repeat,
        "target": target,
        "runs": runs,
        "anchor": {"reached": reached, "round_s": round_s, "curves": curves},
        "simulate_s": sim_s,
        "anchor_s": time.perf_counter() - began,
    }
    if repeat == 0:
        part["random_by_share"] = _random_by_share(probe, data)
        part["full_pool_score"] = sim._score(np.arange(sim.pool_rows_))
    return part


def merge_seed_parts(name: str, rows: int | None, parts_dir: Path) -> dict | None:
    """The :func:`run_set` result of a set whose seeds ran as separate parts (None: missing)."""
    import json

    paths = [parts_dir / f"{name}.seed{k}.json" for k in range(SEEDS)]
    if not all(p.exists() for p in paths):
        return None
    parts = [json.loads(p.read_text()) for p in paths]
    first = parts[0]
    data, _, target, sim, strategies = _prepared(name, rows, target=first["target"])
    sim.runs_ = {s.name: [part["runs"][s.name] for part in parts] for s in strategies}
    sim.full_pool_score_ = first["full_pool_score"]
    sim._summarize(strategies)
    anchor = tuple(
        [value for part in parts for value in part["anchor"][key]]
        for key in ("reached", "round_s", "curves")
    )
    sim_s = sum(part["simulate_s"] for part in parts)
    anchor_s = sum(part["anchor_s"] for part in parts)
    result = _set_result(
        name, data, sim, target, first["random_by_share"], anchor, sim_s, anchor_s, parts_dir
    )
    result["context"] = first["context"] + [
        f"seeds run as {SEEDS} parallel processes; simulate/anchor seconds summed over them"
    ]
    return result


def _set_result(
    name, data, sim, target, random_by_share, anchor, sim_s, anchor_s, out_dir: Path
) -> dict:
    """The set's row of results; its report, html and curves (anchor's too) go to out_dir."""
    from halfcost.automl import labeling_report, write_labeling_outputs
    from halfcost.automl._label_simulate import _median_or_none

    anchor_reached, anchor_round_s, anchor_curves = anchor
    record = labeling_report(sim)
    record.extra["curves"]["anchor (skactiveml margin)"] = _anchor_curve(
        sim, anchor_curves, anchor_reached
    )
    write_labeling_outputs(record, out_dir / name)  # report.json, report.html, curves.png
    return {
        "name": name,
        "rows": len(data.frame),
        "classes": len(sim.classes_),
        "minority": float(np.bincount(sim._y_pool).min() / sim.pool_rows_),
        "metric": data.metric,
        "target": target,
        "full_pool_score": sim.full_pool_score_,
        "random_by_share": random_by_share,
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


def _anchor_curve(sim, curves: list[list[float]], reached: list[int | None]) -> dict:
    """The anchor's learning curve in the shape of ``LabelingSimulation.curves_``."""
    common = min(len(c) for c in curves)
    longest = max(len(c) for c in curves)
    return {
        "labels": [sim.start_ + i * sim.step_ for i in range(longest)],
        "median": [float(np.median([c[i] for c in curves])) for i in range(common)],
        "seeds": curves,
        "reached": reached,
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
    cli_s, cli_cpu_s = _time_cli(pool, labelled)
    return {
        "select_s": min(times),
        "anchor_s": min(anchor_times),
        "select_cpu_s": min(cpu),
        "anchor_cpu_s": min(anchor_cpu),
        "cli_s": cli_s,
        "cli_cpu_s": cli_cpu_s,
        "load": _common.load_average(),
    }


def _time_cli(pool: pd.DataFrame, labelled: pd.DataFrame) -> tuple[float, float]:
    """`halfcost label select` as a user runs it: interpreter start, imports, CSVs in and out.

    Returns the faster of two runs: wall seconds and the child's CPU seconds.
    """
    import resource
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        pool_csv, labelled_csv = Path(tmp, "pool.csv"), Path(tmp, "labelled.csv")
        pool.to_csv(pool_csv, index=False)
        labelled.to_csv(labelled_csv, index=False)
        command = [
            sys.executable, "-m", "halfcost", "label", "select", "--pool", str(pool_csv),
            "--labeled", str(labelled_csv), "--target", "label", "--n", str(SELECT_N),
            "--strategy", "diverse", "--out", str(Path(tmp, "picks.csv")),
        ]  # fmt: skip
        runs = []
        for _ in range(2):
            cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            began = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            wall = time.perf_counter() - began
            cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (
                cpu_after.ru_stime - cpu_before.ru_stime
            )
            runs.append((wall, cpu))
    return min(runs)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a / b


def _count(value: int | None) -> object:
    return "never" if value is None else value


def render(results: list[dict], select: dict | None, saturation: list[dict] = ()) -> str:
    """The results file: context per part, the table, per-seed counts, saturation, goals."""
    fmt = _common.format_number
    lines = ["# Active-learning benchmark: halfcost label vs random and scikit-activeml", ""]
    for part in [*results, *saturation, *([select] if select else [])]:
        what = part.get("name", "select") + (" (saturation)" if part in saturation else "")
        lines.append(f"- {what}: " + "; ".join(part["context"]))
    lines += [
        "- the 2 cores are shared with other jobs: times vary run to run; label counts do not.",
        "",
        "Target S = random labelling's held-out score with 50% of the pool labelled (median of "
        "3 random halves). Labels = the labelled count at the first round scoring >= S, median "
        "of 3 seeds (each seed its own random start, shared by every strategy and the anchor). "
        "simulate's documented defaults: start max(20, 1% of the pool) random rows, 1% of the "
        "pool per round, 20% held out. Learner: LightGBM defaults on halfcost's encoding, for "
        "halfcost and for the anchor (scikit-activeml 1.0 "
        '`UncertaintySampling(method="margin_sampling")`). Curves: `bench/results/label/<set>/`.',
        "",
    ]
    headers = [
        "data set", "rows", "classes", "minority", "metric", "S", "pool", "start/step",
        *STRATEGIES, "anchor (skactiveml margin)", "margin / random", "margin / anchor",
        "s per round (margin / diverse / anchor)",
    ]  # fmt: skip
    rows = []
    for r in results:
        lab = r["labels"]
        rows.append(
            [
                r["name"], f"{r['rows']:,}", r["classes"], f"{r['minority']:.1%}", r["metric"],
                fmt(r["target"], 4), f"{r['pool']:,}", f"{r['start']}/{r['step']}",
                *(_count(lab[s]) for s in STRATEGIES), _count(r["anchor"]),
                _common.format_ratio(_ratio(lab["margin"], lab["random"])),
                _common.format_ratio(_ratio(lab["margin"], r["anchor"])),
                f"{r['round_s']['margin']:.3f} / {r['round_s']['diverse']:.3f} / "
                f"{r['anchor_round_s']:.3f}",
            ]
        )  # fmt: skip
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
        "## Where random's curve saturates (held-out score by share of the pool labelled at "
        "random, median of 3 seeds)",
        "",
    ]
    curves = results + [c for c in saturation if c["name"] not in {r["name"] for r in results}]
    shares = list(curves[0]["random_by_share"]) if curves else []
    sat_rows = []
    for r in curves:
        random_n = r["labels"]["random"] if "labels" in r else None
        sat_rows.append(
            [r["name"], fmt(r["target"], 4), *(fmt(r["random_by_share"][k], 4) for k in shares),
             _pool_share(random_n, r["pool"]),
             _pool_share(0.5 * random_n if random_n else None, r["pool"])]
        )  # fmt: skip
    lines.append(
        _common.markdown_table(
            ["data set", "S", *shares, "random reached S at", "0.5x random is"], sat_rows
        )
    )
    if select:
        lines += _render_select(select)
    lines += ["", "## Goals", ""]
    for r in results:
        lab = r["labels"]
        vs_random, vs_anchor = (
            _ratio(lab["margin"], lab["random"]),
            _ratio(lab["margin"], r["anchor"]),
        )
        ok_r = vs_random is not None and vs_random <= GOAL_VS_RANDOM
        ok_a = vs_anchor is not None and vs_anchor <= GOAL_VS_ANCHOR
        lines.append(
            f"- {r['name']}: margin <= {GOAL_VS_RANDOM}x random: {'met' if ok_r else 'NOT met'} "
            f"({_common.format_ratio(vs_random)}); <= {GOAL_VS_ANCHOR}x anchor: "
            f"{'met' if ok_a else 'NOT met'} ({_common.format_ratio(vs_anchor)})"
        )
    if select:
        ok = select["cli_s"] < SELECT_GOAL_S
        lines.append(
            f"- select under {SELECT_GOAL_S:.0f} s (the command, start to end): "
            f"{'met' if ok else 'NOT met'} ({select['cli_s']:.2f} s wall, "
            f"{select['cli_cpu_s']:.2f} s CPU, load {select['load']})"
        )
    return "\n".join(lines) + "\n"


def _pool_share(count: float | None, pool: int) -> str:
    return "—" if count is None else f"{count:,.0f} ({count / pool:.0%})"


def _render_select(select: dict) -> list[str]:
    return [
        "",
        f"## select: {SELECT_ROWS:,} x {SELECT_COLUMNS} pool, {SELECT_LABELED:,} labelled, "
        f"N = {SELECT_N:,}, diverse, fit included",
        "",
        f"- `halfcost label select ... --strategy diverse` as a command (interpreter start, "
        f"imports, CSVs read and written): {select['cli_s']:.2f} s wall, "
        f"{select['cli_cpu_s']:.2f} s CPU",
        f'- the inner call `select_rows(..., strategy="diverse")` on frames in memory: '
        f"{select['select_s']:.2f} s wall, {select['select_cpu_s']:.2f} s CPU (one thread)",
        f"- scikit-activeml margin query, same model and pool: {select['anchor_s']:.2f} s wall, "
        f"{select['anchor_cpu_s']:.2f} s CPU (halfcost / anchor: "
        f"{select['select_s'] / select['anchor_s']:.2f}x wall, "
        f"{select['select_cpu_s'] / select['anchor_cpu_s']:.2f}x CPU)",
        f"- load average at the end of the select runs: {select['load']}",
    ]


def _context() -> list[str]:
    return _common.run_context(
        ["scikit-learn", "lightgbm", "scikit-activeml", "numpy", "pandas"],
        ["automl/_label.py", "automl/_label_simulate.py", "bench/label.py"],
    )


def _save(part: dict, path: Path) -> None:
    import json

    _common.write_text_atomic(json.dumps(part, indent=1, default=float), path)


def _load_parts(parts: Path) -> tuple[list[dict], dict | None, list[dict]]:
    import json

    results, saturation = [], []
    for name, _ in LABEL_SETS:
        path = parts / f"{name}.json"
        if path.exists():
            results.append(json.loads(path.read_text()))
        path = parts / f"{name}.saturation.json"
        if path.exists():
            saturation.append(json.loads(path.read_text()))
    select_path = parts / "select.json"
    select = json.loads(select_path.read_text()) if select_path.exists() else None
    return results, select, saturation


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only breast_cancer (a smoke run)")
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument(
        "--sets", nargs="*", metavar="NAME", help="only these of LABEL_SETS (default: all)"
    )
    parser.add_argument("--no-select", action="store_true", help="skip the select timing")
    parser.add_argument(
        "--seed-part",
        type=int,
        metavar="K",
        help=f"run only seed K (0..{SEEDS - 1}) of the sets; --merge joins the {SEEDS} parts",
    )
    parser.add_argument(
        "--merge", action="store_true", help="join the seed parts of the sets into their results"
    )
    parser.add_argument(
        "--saturation",
        action="store_true",
        help="only S and random's score by share of the pool (where its curve saturates)",
    )
    parser.add_argument(
        "--parts",
        default=PARTS_DIR,
        help="folder of the per-set results (JSON) and curves; the table is assembled from "
        "every part found there, so sets run in separate processes end up in one table",
    )
    args = parser.parse_args()
    parts = Path(args.parts)
    sets = LABEL_SETS[:1] if args.quick else LABEL_SETS
    if args.sets is not None:
        sets = [s for s in LABEL_SETS if s[0] in args.sets]
    for name, rows in sets:
        print(f"{name} ...", file=sys.stderr, flush=True)
        context = _context()
        if args.saturation:
            data, probe, target, _, _ = _prepared(name, rows)
            result = {
                "name": name,
                "target": target,
                "pool": probe.pool_rows_,
                "random_by_share": _random_by_share(probe, data),
                "context": context,
            }
            _save(result, parts / f"{name}.saturation.json")
        elif args.merge:
            result = merge_seed_parts(name, rows, parts)
            if result is None:
                print(f"{name}: not every seed part is there", file=sys.stderr)
                continue
            _save(result, parts / f"{name}.json")
        elif args.seed_part is not None:
            result = run_seed_part(name, rows, args.seed_part)
            result["context"] = context
            _save(result, parts / f"{name}.seed{args.seed_part}.json")
        else:
            result = run_set(name, rows, parts)
            result["context"] = context
            _save(result, parts / f"{name}.json")
        print(result, file=sys.stderr, flush=True)
    if not args.no_select:
        context = _context()
        select = run_select()
        select["context"] = context
        _save(select, parts / "select.json")
        print(select, file=sys.stderr, flush=True)
    text = render(*_load_parts(parts))
    _common.write_text_atomic(text, args.out)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
