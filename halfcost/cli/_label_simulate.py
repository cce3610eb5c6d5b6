"""`halfcost label simulate`: how many labels each strategy needs to reach a score."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from halfcost.cli._record import add_record_flags, check_registry, record

HELP = "replay labelling on a labelled table: labels each strategy needs for a score"
DESCRIPTION = """\
Hide the labels of DATA, hold out a fixed 20% to score on, and replay labelling: start
from --start random rows (default max(20, 1% of the pool)), then buy --step labels per
round (default 1% of the pool) as each strategy picks them, refitting the same learner
`label select` uses. Repeated over --seeds random starts. A strategy's labels-to-target is
the labelled count at the first round whose held-out score is >= S (median over seeds;
null when it never gets there within the data). Random is always replayed: it is the
baseline of the saving.

Writes DIR/report.json (kind "labeling": labels_to_target, best_strategy, ratio,
labels_planned, curves), DIR/report.html and DIR/curves.png. With --db (or $HALFCOST_DB)
the report is also recorded in the registry: a simulation buys nothing, so it books no
cost; `drift watch --labels` books the labels bought, with this simulation's saving.

exit status: 0 simulated; 2 bad input.

example:
  halfcost label simulate labelled.csv --target churned --min-score 0.85 \\
      --cost-per-label 0.40 --out label-sim
"""


def register(parser: argparse.ArgumentParser) -> None:
    """Add the simulate flags."""
    parser.add_argument("data", metavar="DATA", help="a labelled .csv or .parquet table")
    parser.add_argument("--target", required=True, metavar="COL", help="the label column")
    parser.add_argument(
        "--min-score", required=True, type=float, metavar="S", help="held-out score to reach"
    )
    parser.add_argument(
        "--strategy",
        nargs="+",
        metavar="S",
        help="margin|entropy|diverse|random, one or more (default: all four)",
    )
    parser.add_argument(
        "--start",
        type=int,
        metavar="N0",
        help="random labels to start with (default max(20, 1%% of the pool))",
    )
    parser.add_argument(
        "--step", type=int, metavar="K", help="labels bought per round (default 1%% of the pool)"
    )
    parser.add_argument("--seeds", type=int, default=3, help="repeats (random starts), default 3")
    parser.add_argument("--seed", type=int, default=0, help="base random seed (0)")
    parser.add_argument(
        "--metric",
        default="accuracy",
        metavar="M",
        help="accuracy|balanced_accuracy|f1|roc_auc (accuracy)",
    )
    parser.add_argument(
        "--cost-per-label", metavar="P", help="price of one label in USD, for the money saved"
    )
    parser.add_argument(
        "--learner", metavar="FAMILY", help="a search family; default LightGBM defaults"
    )
    parser.add_argument(
        "--out", default="label-sim", metavar="DIR", help="report folder (label-sim)"
    )
    parser.add_argument("--json", action="store_true", help="print report.json on stdout")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_record_flags(parser)


def run(args: argparse.Namespace) -> int:
    """Simulate, write the report, print the verdict."""
    from halfcost.automl import LabelingSimulation, labeling_report, write_labeling_outputs
    from halfcost.errors import BadInputError
    from halfcost.jsonio import to_json
    from halfcost.records import file_lineage
    from halfcost.tables import read_table

    frame = read_table(args.data)
    if args.target not in frame.columns:
        raise BadInputError(
            f"target column {args.target!r} is not in {args.data}; choose one of: "
            f"{', '.join(map(str, frame.columns))}."
        )
    check_registry(args)
    sim = LabelingSimulation(
        min_score=args.min_score,
        strategies=args.strategy,
        start=args.start,
        step=args.step,
        seeds=args.seeds,
        metric=args.metric,
        cost_per_label=args.cost_per_label,
        learner=args.learner,
        seed=args.seed,
        progress=not args.no_progress,
    )
    sim.fit(frame.drop(columns=[args.target]), frame[args.target])
    labeling = labeling_report(sim, file_lineage(args.data, rows=len(frame)))
    folder = write_labeling_outputs(labeling, args.out)
    record(args, folder / "report.json", default_project=Path(args.out).resolve().name)
    report = labeling.to_dict()
    summary = _summary(report, folder)
    if args.json:
        print(to_json(report))
        print(f"halfcost label simulate: {summary}", file=sys.stderr)
    else:
        print(summary)
    return 0


def _summary(report: dict, folder) -> str:
    needed = report["labels_to_target"]
    lines = [f"{'strategy':<10} labels to {report['metric']} >= {report['min_score']:g}"]
    for name, count in needed.items():
        lines.append(f"{name:<10} {'never (within the data)' if count is None else count}")
    best, random_n = report["best_strategy"], needed.get("random")
    if needed.get(best) is None:
        verdict = f"no strategy but random reached the target within {report['pool_rows']} rows"
    elif random_n is None:
        verdict = f"{best} needs {needed[best]} labels; random never reached the target"
    else:
        verdict = f"{best} needs {needed[best]} labels, random {random_n} ({report['ratio']:.2f}x)"
        if needed[best] >= random_n:
            verdict += ": choosing rows saves nothing on this data, label at random"
        elif report.get("money_saved_usd") is not None:
            saved = report["labels_saved_vs_random"]
            verdict += f": {saved} labels, {report['money_saved_usd']} USD saved"
    lines.append(f"{verdict}; report: {folder / 'report.html'}")
    return "\n".join(lines)
