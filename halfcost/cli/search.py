"""`halfcost search`: the cheapest model that meets a target score, with its bill."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

from halfcost.cli._flags import add_mlflow_flag
from halfcost.cli._record import add_record_flags, check_registry, record

HELP = "find the cheapest model that meets a target score"
DESCRIPTION = """\
Search for the cheapest model (inference latency per 1k rows) whose cross-validated
score on DATA meets --min-score, compare it with LightGBM defaults, and write
DIR/report.json, DIR/report.html and DIR/model/ (load it with halfcost.automl.load_model).

--workers N runs N worker processes on one study (stored in --storage, default
DIR/study.db); `halfcost worker --storage URL --study NAME` joins it from another host.
--budget-s is the study's search time, shared by all workers: rerunning an interrupted
search resumes its study and spends what is left; a rerun with another --budget-s gets
that many seconds on top of what is left.

exit status: 0 a model met the target; 3 none did (report and the best model are
still written, with "met": false); 2 bad input, or the study's database went away
(rerun to resume).

example:
  halfcost search customers.csv --target churned --min-score 0.80 --budget-s 60 --out run1
"""


def register(parser: argparse.ArgumentParser) -> None:
    """Add the search flags."""
    parser.add_argument("data", metavar="DATA", help="a .csv or .parquet table")
    parser.add_argument("--target", required=True, metavar="COL", help="the column to predict")
    parser.add_argument(
        "--min-score", required=True, type=float, metavar="S", help="the score to meet (in CV)"
    )
    parser.add_argument(
        "--metric",
        metavar="M",
        help="accuracy|balanced_accuracy|roc_auc|f1 (classification), r2|neg_rmse "
        "(regression); default accuracy or r2",
    )
    parser.add_argument(
        "--budget-s",
        type=float,
        default=120.0,
        metavar="N",
        help="the study's search time in seconds, shared by all workers (default 120)",
    )
    parser.add_argument(
        "--workers",
        "--n-workers",
        dest="workers",
        type=int,
        default=1,
        metavar="N",
        help="worker processes running trials at once on one study (default 1)",
    )
    parser.add_argument(
        "--n-trials",
        type=int,
        metavar="N",
        help="stop after N trials (also bounded by --budget-s; default: no limit)",
    )
    parser.add_argument("--seed", type=int, default=0, metavar="K", help="random seed (default 0)")
    parser.add_argument(
        "--out",
        default="halfcost-search",
        metavar="DIR",
        help="output folder (default ./halfcost-search)",
    )
    parser.add_argument(
        "--storage", metavar="URL", help="Optuna storage URL (default sqlite:///DIR/study.db)"
    )
    parser.add_argument(
        "--study",
        "--study-name",
        dest="study",
        metavar="NAME",
        help="study name (default: from the data)",
    )
    parser.add_argument(
        "--task",
        choices=("classification", "regression"),
        help="override the task inferred from the target",
    )
    parser.add_argument(
        "--drop", default="", metavar="COL[,COL...]", help="columns never to use as features"
    )
    parser.add_argument(
        "--price-per-hour",
        type=float,
        metavar="P",
        help="price of one core-hour of the serving machine, for money figures",
    )
    parser.add_argument(
        "--cv", type=int, metavar="K", help="CV folds (default 5; 3 above 20k rows)"
    )
    parser.add_argument(
        "--holdout",
        type=float,
        default=0.2,
        metavar="F",
        help="share of rows held out (default 0.2)",
    )
    parser.add_argument(
        "--objective",
        choices=("batch", "online", "size"),
        default="batch",
        help="what cheapest means: batch latency per 1k rows (default), online: p50 of one "
        "single-row request end to end (within 10 µs or 5%%: the one faster in batch), "
        "size: saved bytes",
    )
    parser.add_argument(
        "--runtime",
        choices=("python", "onnx"),
        default="python",
        help="where finalists are re-measured and the chosen model is served from "
        "(onnx: converted, checked against Python, timed in ONNX Runtime)",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (with --workers N it is drawn only when stderr is a terminal)",
    )
    parser.add_argument("--json", action="store_true", help="print the report JSON on stdout")
    add_mlflow_flag(parser, what="the search as one run (chosen model, cost, trials)")
    add_record_flags(parser)


@contextlib.contextmanager
def _search_warnings_as_lines(command: str):
    """Print the search's own warnings as one ``halfcost CMD: warning:`` line each.

    Other warnings go to the previous handler; everything is restored afterwards, so an
    in-process caller (``halfcost demo``) keeps its own warning set-up.
    """
    import warnings

    from halfcost.automl import SearchWarning
    from halfcost.errors import flag_for

    with warnings.catch_warnings():
        previous = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if issubclass(category, SearchWarning):
                text = message.render(flag_for(message.param)) if message.param else message
                print(f"halfcost {command}: warning: {text}", file=sys.stderr)
            else:
                previous(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        warnings.simplefilter("always", SearchWarning)
        yield


@contextlib.contextmanager
def quiet_storage_threads():
    """Keep Optuna's heartbeat thread from printing a traceback when the database goes away.

    The search itself then stops with a one-line error (exit 2); the thread's traceback
    would only repeat it, at length.
    """
    import threading

    from sqlalchemy.exc import DBAPIError

    previous = threading.excepthook

    def hook(args):
        if not isinstance(args.exc_value, DBAPIError):
            previous(args)

    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = previous


def _summary(report: dict, html_path) -> str:
    """One line: met or not (in CV and held out), the chosen model, its cost ratio."""
    chosen, savings = report["chosen"], report["savings"]
    held_out = (
        "held out"
        if report["holdout_met"]
        else f"held out, BELOW the target {report['min_score']:g}"
    )
    return (
        f"{'met' if report['met'] else 'NOT met'}: {chosen['family']} "
        f"{report['metric']}={chosen['cv_score']:.4f} (CV), {chosen['holdout_score']:.4f} "
        f"({held_out}); {chosen['latency_ms_per_1k']:.3g} ms per 1k rows = "
        f"{savings['latency_ratio']:.2g}x LightGBM defaults, single row "
        f"{chosen['single_row_latency_ms']:.3g} ms = "
        f"{savings.get('single_row_latency_ratio', float('nan')):.2g}x, "
        f"{chosen['size_bytes']:,} bytes (objective {report.get('objective', 'batch')}, "
        f"runtime {report.get('runtime', 'python')}); report: {html_path}"
    )


def progress_wanted(args: argparse.Namespace) -> bool:
    """Whether the command draws the progress bar on stderr.

    With one worker, unless ``--no-progress``. With ``--workers N`` also only when stderr
    is a terminal: this process then redraws the bar every second while it waits, and on
    a captured stderr (a pipe, a log file) those frames would bury the one-line error a
    lost database gives.

    Args:
        args: the parsed ``halfcost search`` arguments.
    """
    if args.no_progress:
        return False
    return args.workers == 1 or sys.stderr.isatty()


def run(args: argparse.Namespace) -> int:
    """Run the search and write its results; exit 0 met, 3 not met."""
    from pathlib import Path

    from halfcost.automl import get_metric
    from halfcost.errors import BadInputError
    from halfcost.tables import read_table

    if args.metric is not None:  # cheap checks first: bad input fails fast
        get_metric(args.metric, args.task).validate_target(args.min_score)
    frame = read_table(args.data)
    if args.target not in frame.columns:
        raise BadInputError(
            f"target column {args.target!r} is not in {args.data}; choose one of: "
            f"{', '.join(map(str, frame.columns))}."
        )
    check_registry(args)
    from halfcost.automl import mlflow_tracking_uri, require_mlflow

    mlflow_uri = mlflow_tracking_uri(args.mlflow)
    if mlflow_uri:
        require_mlflow()  # before the search: a missing MLflow fails fast

    import optuna

    from halfcost.automl import CheapestModelSearch, save_model, write_report
    from halfcost.jsonio import to_json

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the CLI speaks for itself
    out = Path(args.out)
    search = CheapestModelSearch(
        metric=args.metric,
        min_score=args.min_score,
        budget_s=args.budget_s,
        n_trials=args.n_trials,
        seed=args.seed,
        task=args.task,
        holdout=args.holdout,
        cv=args.cv,
        storage=args.storage,
        study_name=args.study,
        price_per_hour=args.price_per_hour,
        out_dir=str(out),
        drop=[c.strip() for c in args.drop.split(",") if c.strip()],
        progress=progress_wanted(args),
        n_workers=args.workers,
        objective=args.objective,
        runtime=args.runtime,
    )
    try:
        with _search_warnings_as_lines("search"), quiet_storage_threads():
            search.fit(frame.drop(columns=[args.target]), frame[args.target], source=args.data)
    finally:
        optuna.logging.set_verbosity(verbosity)
    folder = save_model(search.best_model_, out / "model")
    json_path, html_path = write_report(search.report_, out, model_folder=folder)
    report = json.loads(json_path.read_text(encoding="utf-8"))
    record(args, json_path, default_project=out.resolve().name)
    if mlflow_uri:
        from halfcost.automl import log_search

        run_id = log_search(report, folder, uri=mlflow_uri)
        print(f"halfcost search: logged MLflow run {run_id} to {mlflow_uri}", file=sys.stderr)
    summary = _summary(report, html_path)
    if args.json:
        print(to_json(report))
        print(f"halfcost search: {summary}", file=sys.stderr)
    else:
        print(summary)
    if report["met"] and not report["holdout_met"]:
        print(
            f"halfcost search: warning: the chosen model meets the target in cross-validation "
            f"but NOT on the held-out rows ({report['metric']} "
            f"{report['chosen']['holdout_score']:.4f} < {report['min_score']:g}); expect it "
            "to miss the target on new data: add rows or lower --min-score.",
            file=sys.stderr,
        )
    if not report["met"]:
        print(
            f"halfcost search: no model reached {report['metric']} >= {report['min_score']:g} "
            f"(best CV score {report['best_cv_score']:.4f}); lower --min-score or raise "
            "--budget-s. The best model found was still written.",
            file=sys.stderr,
        )
        return 3
    return 0
