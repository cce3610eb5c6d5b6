"""`halfcost demo`: run every capability on the embedded demo data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "run search, cleaning, drift retraining and the registry on embedded demo data"
DESCRIPTION = (
    "Generate seeded demo data (a customer-churn table with an id column, strings and "
    "missing values) and run halfcost end to end in a new folder: clean a dirty batch with "
    "Great Expectations, search for the cheapest model that meets a target, run the DVC "
    "pipeline in a fresh git + DVC project and retrain on a drifted batch, then fill a "
    "registry and print the command that opens the manager's app. Takes a few minutes."
)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help=(
            "a new or empty folder for the demo (default: ./halfcost-demo-<UTC time>, or "
            "~/halfcost-demo-<UTC time> when the current folder is inside halfcost itself)"
        ),
    )
    parser.add_argument(
        "--budget-s",
        type=int,
        default=40,
        help="search budget in seconds (each retrain gets half); default 40",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for data and search")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> int:
    from halfcost.demo import run_demo
    from halfcost.jsonio import to_json

    result = run_demo(args.dir, budget_s=args.budget_s, seed=args.seed)
    open_app = result.steps["registry"]["open_app"]
    if args.json:
        print(to_json(result.to_dict()))
        print(
            f"halfcost demo: done; everything is in {result.root}; open the app: {open_app}",
            file=sys.stderr,
        )
        return 0
    steps = result.steps
    lines = [
        f"halfcost demo finished in {result.seconds:.0f} s; everything is in {result.root}",
        "",
        *summary_lines(steps),
        "",
        "Open the manager's app:",
        f"  {open_app}",
    ]
    print("\n".join(lines), file=sys.stdout)
    return 0


def _score(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "?"


def _target(value: object) -> str:
    return f"{value:g}" if isinstance(value, int | float) else "?"


def _search_lines(search: dict) -> list[str]:
    metric = (search.get("metric") or "score").replace("_", " ").upper()
    target = search.get("min_score")
    cv, holdout = search["chosen_cv_score"], search.get("chosen_holdout_score")
    lines = [f"  The target: {metric} of at least {_target(target)} on the churn label."]
    if search.get("met"):
        verdict = f"meets it in cross-validation ({_score(cv)})"
    else:
        verdict = f"misses it even in cross-validation ({_score(cv)})"
    if search.get("holdout_met") is False:
        verdict += (
            f", but NOT on the held-out 20% of the rows ({_score(holdout)} < {_target(target)}):"
            " treat its score with care"
        )
    elif holdout is not None:
        verdict += f" and on the held-out 20% of the rows ({_score(holdout)})"
    lines.append(f"  The model: halfcost chose {search['chosen_family']}, which {verdict}.")
    ratio = search.get("latency_ratio_vs_lightgbm_defaults")
    baseline = f"LightGBM with default settings (CV {_score(search['baseline_cv_score'])})"
    if isinstance(ratio, int | float) and 0 < ratio < 1:
        lines.append(f"    It is {1 / ratio:.1f}x cheaper to run than {baseline}.")
    elif isinstance(ratio, int | float):
        lines.append(f"    It takes {ratio:.1f}x the inference time of {baseline}.")
    lines.append(f"    The search's report: {search['html']}")
    return lines


def _drift_lines(drift: dict) -> list[str]:
    normal, drifted = drift["normal_batch"], drift["drifted_batch"]
    columns = drifted.get("drifted_columns") or []
    names = ", ".join(columns[:4]) + (", …" if len(columns) > 4 else "")
    moved = f"{len(columns)} columns moved ({names})"
    scores = drifted.get("scores") or {}
    fell = ""
    if isinstance(scores.get("champion_batch"), int | float) and "target" in scores:
        below = scores["champion_batch"] < scores["target"]
        fell = (
            f"; the champion scored {_score(scores['champion_batch'])} on it "
            f"({'below' if below else 'still above'} the target {_target(scores['target'])})"
        )
    outcome = {
        "promoted": f"so halfcost retrained through `dvc repro` and promoted {drift['champion']}",
        "refused": "halfcost retrained, but the challenger was not better: the champion stays",
        "retrain_failed": "the retrain failed: the champion stays",
    }.get(drifted["outcome"], f"outcome: {drifted['outcome']}")
    return [
        f"  Drift: a normal batch: {normal['outcome'].replace('_', ' ')}. A drifted batch: "
        f"{moved}{fell}; {outcome}.",
        f"    Why: {drifted['reason']}",
        f"    History: halfcost drift history --project {drift['project']}",
    ]


def summary_lines(steps: dict) -> list[str]:
    """The demo's outcome in plain words: target, model, cost, drift, what is seeded."""
    clean, registry = steps["clean"], steps["registry"]
    seeded = registry.get("seeded") or {}
    history = (
        f"beside a SEEDED history of {seeded.get('teams', '?')} teams and "
        f"{seeded.get('projects', '?')} projects: made-up figures, marked as seeded in the app"
        if seeded
        else "(no seeded history: the registry was not empty)"
    )
    return [
        *_search_lines(steps["search"]),
        f"  Cleaning: of {clean['rows_in']:,} new rows, {clean['rows_repaired']:,} were "
        f"repaired automatically and {clean['rows_quarantined']:,} set aside for review; "
        f"{clean['rows_clean']:,} are clean -> {clean['out']}",
        *_drift_lines(steps["drift"]),
        f"  Registry: {registry['db']} holds the demo project's real runs (measured), {history}.",
    ]
