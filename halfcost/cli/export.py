"""`halfcost export`: a saved model as an ONNX file or an MLflow pyfunc model."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "export a saved model as an ONNX file or an MLflow model"
DESCRIPTION = """\
Write DIR/model as an ONNX file (--format onnx) or as an MLflow pyfunc model folder
with signature and input example (--format mlflow; needs `pip install 'halfcost[mlflow]'`).
The model folder is checked as `halfcost serve` checks it; PATH must not exist yet.

default --out: DIR/model.onnx or DIR/mlflow-model, beside the model folder.

examples:
  halfcost export --model run1/model --format onnx
  halfcost export --model run1/model --format mlflow --out exported/churn
  mlflow models serve -m exported/churn --env-manager local
"""

FORMATS = ("onnx", "mlflow")


def register(parser: argparse.ArgumentParser) -> None:
    """Add the export flags."""
    parser.add_argument("--model", required=True, metavar="DIR", help="the DIR/model folder")
    parser.add_argument("--format", required=True, choices=FORMATS, help="onnx or mlflow")
    parser.add_argument("--out", metavar="PATH", help="where to write (must not exist)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")


def default_out(model: str, fmt: str) -> Path:
    """``DIR/model.onnx`` or ``DIR/mlflow-model`` for the model folder ``DIR/model``."""
    folder = Path(model)
    return folder.with_suffix(".onnx") if fmt == "onnx" else folder.parent / "mlflow-model"


def run(args: argparse.Namespace) -> int:
    """Export and say where the result is."""
    from halfcost.jsonio import to_json

    out = Path(args.out) if args.out else default_out(args.model, args.format)
    if args.format == "onnx":
        from halfcost.automl import export_onnx

        path = export_onnx(args.model, out)
        how = "load it with onnxruntime.InferenceSession"
    else:
        from halfcost.automl import export_mlflow

        path = export_mlflow(args.model, out)
        how = f"serve it with `mlflow models serve -m {path} --env-manager local`"
    if args.json:
        print(to_json({"model": str(args.model), "format": args.format, "out": str(path)}))
    else:
        print(f"wrote the {args.format} model to {path}; {how}")
    return 0
