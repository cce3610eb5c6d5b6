"""`halfcost evaluate`: a saved model's score on a labelled table."""

from __future__ import annotations

import argparse

from halfcost.cli._flags import add_on_bad_values_flag

HELP = "score a model saved by `halfcost search` on labelled data"
DESCRIPTION = """\
Score the model on DATA (target and metric default to the model's own). With the
model's own metric, the exit status says whether its target score is still met:
0 met, 3 not met; 2 bad input.

example:
  halfcost evaluate --model run1/model labelled_batch.csv --json
"""


def register(parser: argparse.ArgumentParser) -> None:
    """Add the evaluate flags."""
    parser.add_argument("--model", required=True, metavar="DIR", help="the DIR/model folder")
    parser.add_argument("data", metavar="DATA", help="a labelled .csv or .parquet table")
    parser.add_argument("--target", metavar="COL", help="target column (default: the model's)")
    parser.add_argument("--metric", metavar="M", help="metric (default: the model's)")
    parser.add_argument("--out", metavar="JSON", help="also write the result to this JSON file")
    parser.add_argument("--json", action="store_true", help="print the result JSON on stdout")
    add_on_bad_values_flag(parser)


def run(args: argparse.Namespace) -> int:
    """Score the model; exit 3 when its own target score is not met."""
    from halfcost.automl import evaluate_model, load_model
    from halfcost.jsonio import to_json, write_json
    from halfcost.tables import read_table

    model = load_model(args.model)
    result = evaluate_model(
        model,
        read_table(args.data),
        target=args.target,
        metric=args.metric,
        on_bad_values=args.on_bad_values,
    )
    met = None
    if result["metric"] == model.metadata.get("metric"):
        result["min_score"] = model.metadata.get("min_score")
        met = result["score"] >= float(result["min_score"])
        result["met"] = met
    if args.out:
        write_json(result, args.out)
    if args.json:
        print(to_json(result))
    else:
        verdict = "" if met is None else (" (target met)" if met else " (target NOT met)")
        replaced = ", ".join(f"{k}: {v}" for k, v in result.get("bad_values", {}).items())
        replaced = f" (values of the wrong type replaced: {replaced})" if replaced else ""
        print(
            f"{result['metric']} = {result['score']:.4f} on {result['rows']} rows"
            f"{verdict}{replaced}"
        )
    return 3 if met is False else 0
