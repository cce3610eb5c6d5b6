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
    search, clean, drift, registry = (
        steps["search"],
        steps["clean"],
        steps["drift"],
        steps["registry"],
    )
    lines = [
        f"halfcost demo finished in {result.seconds:.0f} s; everything is in {result.root}",
        f"  clean:    {clean['rows_in']} rows in, {clean['rows_clean']} clean "
        f"({clean['rows_repaired']} repaired), {clean['rows_quarantined']} quarantined "
        f"-> {clean['out']}",
        f"  search:   chosen {search['chosen_family']} (CV {search['chosen_cv_score']:.4f}) vs "
        f"LightGBM defaults (CV {search['baseline_cv_score']:.4f}); inference latency "
        f"{search['latency_ratio_vs_lightgbm_defaults']:.2f}x -> {search['html']}",
        f"  drift:    first champion {drift['first_champion']}; a normal batch: "
        f"{drift['normal_batch']['outcome']}; a drifted batch: "
        f"{drift['drifted_batch']['outcome']} -> champion {drift['champion']}",
        f"            {drift['drifted_batch']['reason']}",
        f"            history: halfcost drift history --project {drift['project']}",
        f"  registry: {registry['db']}",
        "",
        "Open the manager's app:",
        f"  {open_app}",
    ]
    print("\n".join(lines), file=sys.stdout)
    return 0
