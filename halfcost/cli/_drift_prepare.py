"""`halfcost drift prepare`: the pipeline's prepare stage (training and held-out split)."""

from __future__ import annotations

import argparse

HELP = "the pipeline's prepare stage: write data/prepared/train.csv and holdout.csv"
DESCRIPTION = """\
The first stage of the DVC pipeline that `halfcost init` writes (dvc.yaml runs it; you
rarely call it yourself). Reads the `data:` section of params.yaml: the training table
(`source`, or `demo` for halfcost's seeded churn table, generated here so that `dvc repro`
works from a fresh clone) plus every labelled batch in data/batches/, and writes a
reproducible train / held-out split of each to data/prepared/.

example:
  halfcost drift prepare --project .
"""


def register(parser: argparse.ArgumentParser) -> None:
    """Add the flags of `halfcost drift prepare`."""
    parser.add_argument(
        "--project", default=".", metavar="DIR", help="the project folder (default: .)"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> int:
    """Write the split; exit 2 on bad input."""
    from halfcost.drift import Project, prepare
    from halfcost.jsonio import to_json

    summary = prepare(Project.open(args.project))
    if args.json:
        print(to_json(summary))
    else:
        batches = len(summary["batches"])
        print(
            f"prepared {summary['train_rows']} training and {summary['holdout_rows']} held-out "
            f"rows (source + {batches} batch{'es' if batches != 1 else ''})"
        )
    return 0
