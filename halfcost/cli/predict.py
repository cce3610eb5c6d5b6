"""`halfcost predict`: predictions of a saved model for a table, in the table's row order."""

from __future__ import annotations

import argparse

from halfcost.cli._flags import add_on_bad_values_flag

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
    add_on_bad_values_flag(parser)


def run(args: argparse.Namespace) -> int:
    """Predict and write the predictions table."""
    import pandas as pd

    from halfcost.automl import load_model
    from halfcost.jsonio import to_json
    from halfcost.tables import read_table, table_suffix, write_table

    table_suffix(args.out)
    model = load_model(args.model)
    frame, bad_values = read_table(args.data), {}
    if args.on_bad_values != "error":  # (predict itself refuses them: no need to check twice)
        frame, bad_values = model.check_values(frame, on_bad_values=args.on_bad_values)
    result = pd.DataFrame({"prediction": model.predict(frame)})
    if model.is_classifier:
        proba = model.predict_proba(frame)
        for i, cls in enumerate(model.classes_):
            result[f"proba_{cls}"] = proba[:, i]
    path = write_table(result, args.out)
    summary = {"model": str(args.model), "rows": len(result), "out": str(path)}
    if bad_values:
        summary["bad_values"] = bad_values
    if args.json:
        print(to_json(summary))
    else:
        print(f"wrote {len(result)} predictions to {path}{_replaced(bad_values, args)}")
    return 0


def _replaced(bad_values: dict[str, int], args: argparse.Namespace) -> str:
    if not bad_values:
        return ""
    how = "treated as missing" if args.on_bad_values == "null" else "imputed"
    cells = ", ".join(f"{name}: {count}" for name, count in bad_values.items())
    return f" (values of the wrong type {how}: {cells})"
