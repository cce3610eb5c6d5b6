"""`halfcost predict`: predictions of a saved model for a table, in the table's row order."""

from __future__ import annotations

import argparse

HELP = "predict with a model saved by `halfcost search`"
DESCRIPTION = """\
Write one row per input row: a column `prediction`, plus `proba_<class>` columns for
classifiers, in DATA's row order.

example:
  halfcost predict --model run1/model new_customers.csv --out predictions.csv
"""


def register(parser: argparse.ArgumentParser) -> None:
    """Add the predict flags."""
    parser.add_argument("--model", required=True, metavar="DIR", help="the DIR/model folder")
    parser.add_argument("data", metavar="DATA", help="a .csv or .parquet table")
    parser.add_argument(
        "--out", required=True, metavar="PRED", help="where to write predictions (.csv or .parquet)"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")


def run(args: argparse.Namespace) -> int:
    """Predict and write the predictions table."""
    import pandas as pd

    from halfcost.automl import load_model
    from halfcost.jsonio import to_json
    from halfcost.tables import read_table, table_suffix, write_table

    table_suffix(args.out)
    model = load_model(args.model)
    frame = read_table(args.data, allow_empty=True)
    result = pd.DataFrame({"prediction": model.predict(frame)})
    if model.is_classifier:
        proba = model.predict_proba(frame)
        for i, cls in enumerate(model.classes_):
            result[f"proba_{cls}"] = proba[:, i]
    path = write_table(result, args.out)
    summary = {"model": str(args.model), "rows": len(result), "out": str(path)}
    print(to_json(summary) if args.json else f"wrote {len(result)} predictions to {path}")
    return 0
