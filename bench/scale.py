"""Benchmark: one search study run by 1, 2 and 4 worker processes on shared storages.

Three parts, on one seeded data set, in one run:

1. **Fixed work.** The same list of 48 trials (the search's known-good starting points,
   then seeded random draws of its space), enqueued in a fresh study, pruning off, run
   by ``CheapestModelSearch(n_workers=N, n_trials=48)`` with 1, 2 and 4 workers on
   PostgreSQL and on a journal file, against the anchor: 1 worker on SQLite (today's
   default storage). Timed: the search phase (``search_seconds``: the workers read and
   check the data in it; their imports overlap the coordinating process's preparation),
   and the whole fit. Goal: 2 workers ≤ 0.62x the anchor's search time on a 2-core
   machine.
2. **Budgeted search.** A normal search (pruning on, ``budget_s``) with 1 and 2 workers
   on PostgreSQL; each run's chosen model is then re-measured beside the other's, in
   turn on the same batch, and compared with the cheapest of them. Goal: the same
   model or one within 5% of its cost.
3. **Storage overhead.** In the 1-worker runs of part 1, every call the search makes
   into its storage object is timed (:class:`StorageTimer`), so the figure is what the
   real trials cost the storage, not a model of them: the seconds spent in storage
   calls per trial, as a share of the run's mean trial time. The heartbeat thread's
   calls run beside the trial and are shown apart. Goal: under 5%.

PostgreSQL is the shared server (``--postgres``, default 127.0.0.1:5432); the benchmark
makes a database of its own there and drops it afterwards.

Run from the repository root: ``nice -n 10 .venv/bin/python bench/scale.py [--quick]``
(``--quick``: 12 trials, fewer rows, a 45 s budget: proves the script, not the goal).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench._common import pin_threads  # before NumPy loads: thread pools read the env once

pin_threads()

import argparse  # noqa: E402
import inspect  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
import warnings  # noqa: E402
from typing import Any  # noqa: E402

from bench import _common  # noqa: E402
from bench._datasets import load_dataset  # noqa: E402

DEFAULT_OUT = "bench/results/scale.md"
CODE_PATHS = ("automl", "bench/_common.py", "bench/_datasets.py", "bench/scale.py")
PACKAGES = ("halfcost", "optuna", "sqlalchemy", "psycopg", "scikit-learn", "lightgbm")
SPEEDUP_GOAL = 0.62
CHOICE_GOAL = 1.05
OVERHEAD_GOAL = 0.05
MIN_SCORE_FIXED = 0.5  # every trial meets it: each one also gets its cost measured


def fixed_trials(frame, target: str, n_trials: int, seed: int) -> list[dict[str, Any]]:
    """The search's starting points, then seeded random draws of its space: ``n_trials``."""
    import optuna

    from halfcost.automl import CheapestModelSearch

    search = CheapestModelSearch(min_score=MIN_SCORE_FIXED, n_trials=1, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        problem = search._prepare(frame.drop(columns=[target]), frame[target], []).problem()
    trials = problem.known_good_trials()[:n_trials]
    draws = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    while len(trials) < n_trials:
        trial = draws.ask()
        family = problem.family(
            trial.suggest_categorical("family", [f.name for f in problem.supported()])
        )
        trial.suggest_int("n_features", 1, len(problem.ranking))
        family.suggest(trial, problem.context)
        trials.append(dict(trial.params))
        draws.tell(trial, 0.0)
    return trials


def run_search(data_path: Path, target: str, storage: str, **settings: Any) -> tuple[Any, float]:
    """One ``CheapestModelSearch`` fit on the file, as ``halfcost search`` runs it; and its
    seconds."""
    import optuna

    from halfcost.automl import CheapestModelSearch
    from halfcost.tables import read_table

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    frame = read_table(data_path)
    search = CheapestModelSearch(storage=storage, **settings)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(frame.drop(columns=[target]), frame[target], source=data_path)
    return search, time.perf_counter() - started  # the whole fit, as a user waits for it


class StorageTimer:
    """Times every call this process makes into one storage object, by thread.

    Wraps the object's methods in place (instance attributes shadow the class's), so
    Optuna's caching layer, heartbeats and the search use it unchanged. Nested calls
    (one storage method calling another) count once, at the outermost.
    """

    def __init__(self, store: Any) -> None:
        self.seconds = 0.0  # in the thread that created the timer: the trials' own path
        self.other_seconds = 0.0  # in other threads (the heartbeat)
        self.calls = 0
        self._owner = threading.get_ident()
        self._local = threading.local()
        for name in dir(type(store)):
            method = getattr(store, name, None)
            if not name.startswith("__") and inspect.ismethod(method):
                setattr(store, name, self._timed(method))

    def _timed(self, method: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(self._local, "depth", 0)
            self._local.depth = depth + 1
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self._local.depth = depth
                if depth == 0:
                    spent = time.perf_counter() - started
                    if threading.get_ident() == self._owner:
                        self.seconds += spent
                        self.calls += 1
                    else:
                        self.other_seconds += spent

        return timed


def fixed_work(
    data_path: Path, target: str, storage: str, n_workers: int, trials: list[dict]
) -> dict[str, Any]:
    """Part 1: the enqueued trials run by ``n_workers`` workers; seconds and trial times.

    With one worker the trials run in this process, on a timed storage object
    (:class:`StorageTimer`): part 3's figures.
    """
    import optuna

    from halfcost.automl._search_study import make_storage
    from halfcost.automl._trial_figures import PRUNED, trial_figures

    name = f"fixed-{uuid.uuid4().hex[:8]}"

    store = make_storage(storage)
    study = optuna.create_study(study_name=name, storage=store, direction="minimize")
    for params in trials:
        study.enqueue_trial(params)
    timer = StorageTimer(store) if n_workers == 1 else None
    search, fit_s = run_search(
        data_path,
        target,
        store if timer is not None else storage,
        min_score=MIN_SCORE_FIXED,
        n_trials=len(trials),
        budget_s=None,
        prune=False,
        study_name=name,
        n_workers=n_workers,
        patience=None,
    )
    ran = [
        t
        for t in search.study_.get_trials()
        if t.state.is_finished() and t.datetime_start and trial_figures(t).get(PRUNED) is None
    ]  # pruning is off: a pruned trial is one a worker drew past the limit and never ran
    durations = [(t.datetime_complete - t.datetime_start).total_seconds() for t in ran]
    result = {
        "seconds": search.report_["search_seconds"],
        "fit_s": fit_s,
        "trials": len(ran),
        "mean_trial_s": statistics.fmean(durations) if durations else float("nan"),
    }
    if timer is not None and ran:
        # every call of the fit (study set-up and the finalists' reads too): an upper bound
        result["storage_s_per_trial"] = timer.seconds / len(ran)
        result["storage_calls_per_trial"] = timer.calls / len(ran)
        result["heartbeat_s_per_trial"] = timer.other_seconds / len(ran)
    return result


def remeasure(models: dict[str, Any], batch) -> dict[str, float]:
    """Each chosen model's latency, measured in turn on one batch (lower of two rounds)."""
    from halfcost.automl import measure_cost

    best = dict.fromkeys(models, float("inf"))
    for _ in range(2):
        for label, model in models.items():
            cost = measure_cost(model.pipeline, batch, max_total_s=2.0)
            best[label] = min(best[label], cost.latency_ms_per_1k)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="12 trials, 3k rows, 45 s budget")
    parser.add_argument("--dataset", default="fraud", help="a bench data set (default fraud)")
    parser.add_argument("--rows", type=int, help="rows of the synthetic set (default 8000)")
    parser.add_argument("--trials", type=int, help="fixed trials (default 48)")
    parser.add_argument("--budget-s", type=float, help="budgeted runs' budget (default 90)")
    parser.add_argument("--postgres", default=_common.POSTGRES_SERVER, metavar="URL")
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    n_trials = args.trials or (12 if args.quick else 48)
    rows = args.rows or (3000 if args.quick else 8000)
    budget_s = args.budget_s or (45.0 if args.quick else 90.0)
    context = _common.run_context(PACKAGES, CODE_PATHS)
    dataset = load_dataset(args.dataset, seed=0, n_rows=rows)
    lines = [
        "# Scale-out benchmark: one study, several worker processes",
        "",
        *[f"- {line}" for line in context],
        f"- data: {dataset.name}, {len(dataset.frame)} rows; {n_trials} fixed trials; "
        f"budgeted runs {budget_s:g} s" + (" (--quick: proves the script, not the goals)"
        if args.quick else ""),
        "",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="halfcost-bench-scale-") as tmp:
        folder = Path(tmp)
        data_path = folder / "data.csv"
        dataset.frame.to_csv(data_path, index=False)
        trials = fixed_trials(dataset.frame, dataset.target, n_trials, seed=0)
        with _common.postgres_database("halfcost_bench_scale", args.postgres) as pg:
            lines += part_fixed(folder, data_path, dataset.target, pg, trials)
            lines += part_budgeted(data_path, dataset, pg, budget_s)
    text = "\n".join(lines) + "\n"
    print(text)
    _common.write_text_atomic(text, args.out)
    return 0


def part_fixed(folder: Path, data_path: Path, target: str, pg: str, trials: list) -> list[str]:
    runs = [("SQLite (anchor)", f"sqlite:///{folder / 'anchor.db'}", 1)]
    for n in (1, 2, 4):
        runs.append(("PostgreSQL", pg, n))
    for n in (1, 2, 4):
        runs.append(("journal file", f"journal:///{folder / f'journal-{n}.log'}", n))
    results = []
    for label, storage, n in runs:
        print(f"fixed work: {label}, {n} worker(s)...", file=sys.stderr, flush=True)
        results.append((label, storage, n, fixed_work(data_path, target, storage, n, trials)))
    anchor_s, anchor_fit_s = results[0][3]["seconds"], results[0][3]["fit_s"]
    rows = [
        [
            label,
            n,
            r["trials"],
            _common.format_number(r["seconds"]),
            _common.format_number(r["mean_trial_s"]),
            _common.format_ratio(r["seconds"] / anchor_s),
            _common.format_number(r["fit_s"]),
            _common.format_ratio(r["fit_s"] / anchor_fit_s),
        ]
        for label, _, n, r in results
    ]
    overhead_rows = []
    for label, _, _n, r in results:
        if "storage_s_per_trial" not in r:
            continue
        share = r["storage_s_per_trial"] / r["mean_trial_s"]
        overhead_rows.append(
            [
                label,
                _common.format_number(r["storage_calls_per_trial"], 1),
                _common.format_number(r["storage_s_per_trial"] * 1000),
                _common.format_number(r["heartbeat_s_per_trial"] * 1000),
                _common.format_number(r["mean_trial_s"]),
                f"{share:.1%}",
                "yes" if share < OVERHEAD_GOAL else "NO",
            ]
        )
    two = next(r for label, _, n, r in results if label == "PostgreSQL" and n == 2)
    return [
        f"## 1. Fixed work: {len(trials)} enqueued trials, pruning off",
        "",
        "Ratios are to the anchor (1 worker on SQLite) measured in this run; "
        f"goal: 2 workers ≤ {SPEEDUP_GOAL}x.",
        "",
        _common.markdown_table(
            [
                "storage",
                "workers",
                "trials",
                "search s",
                "mean trial s",
                "vs anchor",
                "whole fit s",
                "vs anchor",
            ],
            rows,
        ),
        "",
        "search s: the search phase (``search_seconds``), as the goal reads; whole fit s: the "
        "whole ``fit``, preparation, baseline, finalists and refit included (the workers' "
        "start-up overlaps the preparation).",
        "",
        f"2 workers on PostgreSQL: {two['seconds'] / anchor_s:.2f}x the anchor "
        f"({'meets' if two['seconds'] / anchor_s <= SPEEDUP_GOAL else 'misses'} the "
        f"{SPEEDUP_GOAL}x goal at this load).",
        "",
        "## 3. Storage overhead per trial (the 1-worker runs above, every storage call timed)",
        "",
        "Storage calls of the whole fit (study set-up and the finalists' reads included) per "
        "trial run, against that run's mean trial time; the heartbeat thread's calls run "
        "beside the trial and are not in the share.",
        "",
        _common.markdown_table(
            [
                "storage",
                "calls per trial",
                "ms per trial",
                "heartbeat ms per trial",
                "mean trial s",
                "share of a trial",
                f"< {OVERHEAD_GOAL:.0%}",
            ],
            overhead_rows,
        ),
        "",
    ]


def part_budgeted(data_path: Path, dataset, pg: str, budget_s: float) -> list[str]:
    metric = dataset.metric
    # the target: LightGBM defaults' CV score minus half a point, as in bench/search.py
    target_score = _defaults_cv(dataset) - 0.005
    from halfcost.errors import HalfcostError

    chosen, failed = {}, []
    for n in (1, 2):
        print(f"budgeted search: {n} worker(s)...", file=sys.stderr, flush=True)
        try:
            search, _ = run_search(
                data_path,
                dataset.target,
                pg,
                metric=metric,
                min_score=target_score,
                budget_s=budget_s,
                study_name=f"budget-{n}-{uuid.uuid4().hex[:8]}",
                n_workers=n,
            )
        except HalfcostError as exc:  # e.g. no trial finished in the budget on a busy machine
            failed.append([f"{n} worker(s)", "-", f"failed: {exc}", "-", "-", "-", "NO"])
            continue
        chosen[f"{n} worker(s)"] = search
    if not chosen:
        return _budgeted_lines(budget_s, metric, target_score, failed)
    batch = dataset.features.sample(n=min(10_000, len(dataset.frame)), replace=True, random_state=1)
    latency = remeasure({k: s.best_model_ for k, s in chosen.items()}, batch)
    cheapest = min(latency.values())
    rows = []
    for label, search in chosen.items():
        report = search.report_
        rows.append(
            [
                label,
                report["n_trials_this_run"],
                report["chosen"]["family"],
                _common.format_number(report["chosen"]["cv_score"], 4),
                _common.format_number(latency[label]),
                _common.format_ratio(latency[label] / cheapest),
                "yes" if latency[label] / cheapest <= CHOICE_GOAL else "NO",
            ]
        )
    return _budgeted_lines(budget_s, metric, target_score, rows + failed)


def _budgeted_lines(budget_s: float, metric: str, target_score: float, rows: list) -> list[str]:
    return [
        f"## 2. Budgeted search ({budget_s:g} s, target {metric} ≥ {target_score:.4f})",
        "",
        "Chosen models re-measured side by side (ms per 1k rows, lower of two rounds); "
        f"goal: within {CHOICE_GOAL - 1:.0%} of the cheapest.",
        "",
        _common.markdown_table(
            ["run", "trials", "chosen", "CV score", "ms/1k", "vs cheapest", "≤ 1.05x"], rows
        ),
        "",
    ]


def _defaults_cv(dataset) -> float:
    """LightGBM defaults' 5-fold CV score on the set (the search's own baseline protocol)."""
    from halfcost.automl import CheapestModelSearch

    search = CheapestModelSearch(metric=dataset.metric, min_score=0.0, n_trials=1, n_finalists=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(dataset.features, dataset.labels)
    return float(search.report_["baseline"]["cv_score"])


if __name__ == "__main__":
    sys.exit(main())
