"""halfcost in MLflow: a saved model exported as an MLflow pyfunc model.

MLflow is optional (``pip install 'halfcost[mlflow]'``, the client ``mlflow-skinny``):
:func:`require_mlflow` imports it or says how to install it. Telemetry is off
(``MLFLOW_DISABLE_TELEMETRY``, set when halfcost is imported).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from halfcost.errors import BadInputError

_INSTALL = "install it with `pip install 'halfcost[mlflow]'`"


def require_mlflow() -> Any:
    """The ``mlflow`` module, or a BadInputError saying how to install it."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    try:
        import mlflow
    except ImportError as exc:
        raise BadInputError(f"MLflow is not installed; {_INSTALL}.") from exc
    return mlflow


def model_signature(model: Any) -> Any:
    """The MLflow signature of a halfcost model: its raw columns in, predictions out.

    Numeric columns are doubles, categorical and date columns strings (dates as ISO
    text, as halfcost reads them); every input column may hold nulls (missing values).
    """
    require_mlflow()
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    kinds = model.column_kinds
    inputs = [
        ColSpec("double" if kinds.get(name) == "numeric" else "string", name, required=False)
        for name in model.feature_columns
    ]
    if model.is_classifier:
        label = "double" if all(isinstance(c, int | float) for c in model.classes_) else "string"
        outputs = [ColSpec(label, "prediction")]
        outputs += [ColSpec("double", f"proba_{cls}") for cls in model.classes_]
    else:
        outputs = [ColSpec("double", "prediction")]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))


def input_example(model: Any) -> Any:
    """A one-row example of the raw columns: 0.0 for numbers, null elsewhere.

    The model itself keeps no training rows, so the example shows the columns and their
    types rather than a real customer's values; nulls are read as missing values.
    """
    import pandas as pd

    kinds = model.column_kinds
    return pd.DataFrame(
        {
            name: [0.0] if kinds.get(name) == "numeric" else pd.Series([None], dtype=object)
            for name in model.feature_columns
        }
    )


def _requirements() -> list[str]:
    from halfcost.automl._model_io import version_info

    versions = version_info()
    names = ("scikit-learn", "lightgbm", "skops", "numpy")
    return [f"halfcost=={versions['halfcost']}", *(f"{n}=={versions[n]}" for n in names)]


def export_mlflow(model_dir: str | os.PathLike[str], out_path: str | os.PathLike[str]) -> Path:
    """Write the halfcost model in ``model_dir`` as an MLflow pyfunc model at ``out_path``.

    The MLflow model (signature, input example, no pickle) loads with
    ``mlflow.pyfunc.load_model`` and serves with ``mlflow models serve --env-manager
    local`` in an environment where halfcost is installed. ``out_path`` must not exist;
    the model is written beside it first and renamed, so a failed export leaves nothing.

    Raises:
        BadInputError: ``model_dir`` is refused by :func:`load_model`, ``out_path``
            exists, or MLflow is not installed.
    """
    mlflow = require_mlflow()
    from halfcost.automl._model_io import load_model

    model = load_model(model_dir)  # refuses a tampered folder before anything is written
    out = Path(out_path)
    if out.exists():
        raise BadInputError(
            f"{out} already exists; give a new path for the MLflow model (it is a folder)."
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        mlflow.pyfunc.save_model(
            staging / "model",
            python_model=str(Path(__file__).with_name("_mlflow_model.py")),
            artifacts={"model": str(Path(model_dir))},
            signature=model_signature(model),
            input_example=input_example(model),
            pip_requirements=_requirements(),
            metadata={"halfcost": {"family": model.metadata.get("family")}},
        )
        os.replace(staging / "model", out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out
