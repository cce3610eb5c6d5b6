"""halfcost in MLflow: saved models as MLflow pyfunc models, searches as MLflow runs.

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

    Categorical and date columns are strings (dates as ISO text, as halfcost reads them).
    Numeric columns are declared ``Any``: MLflow refuses int64 values for a ``double``
    column ("can not safely convert"), and a table read with pandas holds int64 columns
    wherever the values are whole numbers; the model checks the values itself and names
    a column whose values are not numbers. Every column may hold nulls (missing values).
    """
    require_mlflow()
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema
    from mlflow.types.schema import AnyType

    kinds = model.column_kinds
    inputs = [
        ColSpec(AnyType() if kinds.get(name) == "numeric" else "string", name, required=False)
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


def _pyfunc_arguments(model_dir: str | os.PathLike[str], model: Any) -> dict[str, Any]:
    """What ``mlflow.pyfunc.save_model`` and ``log_model`` need for a halfcost model."""
    return {
        "python_model": str(Path(__file__).with_name("_mlflow_model.py")),
        "artifacts": {"model": str(Path(model_dir))},
        "signature": model_signature(model),
        "input_example": input_example(model),
        "pip_requirements": _requirements(),
        "metadata": {"halfcost": {"family": model.metadata.get("family")}},
    }


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
        mlflow.pyfunc.save_model(staging / "model", **_pyfunc_arguments(model_dir, model))
        os.replace(staging / "model", out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def mlflow_tracking_uri(uri: str | None = None) -> str | None:
    """The MLflow tracking URI to use: ``uri``, else ``$MLFLOW_TRACKING_URI``, else None."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or None


def log_model(
    model_dir: str | os.PathLike[str], *, registered_model_name: str | None = None
) -> Any:
    """Log the halfcost model in ``model_dir`` to the active run as a pyfunc ``model``.

    Returns:
        MLflow's ``ModelInfo`` (with ``registered_model_version`` when registered).
    """
    mlflow = require_mlflow()
    from halfcost.automl._model_io import load_model

    model = load_model(model_dir)
    return mlflow.pyfunc.log_model(
        name="model",
        registered_model_name=registered_model_name,
        **_pyfunc_arguments(model_dir, model),
    )


def _numbers(values: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """The numeric entries of ``values`` (money arrives as a decimal string) as floats."""
    found = {}
    for key, value in values.items():
        if isinstance(value, bool) or value is None:
            continue
        try:
            found[f"{prefix}{key}"] = float(value)
        except (TypeError, ValueError):
            continue
    return found


def log_search(
    report: dict[str, Any],
    model_dir: str | os.PathLike[str] | None = None,
    *,
    uri: str | None = None,
    experiment: str = "halfcost",
) -> str:
    """Log a search as one MLflow run: chosen model, its params, score, cost and trials.

    Metrics are the chosen model's figures (scores, batch latency ``latency_ms_per_1k``,
    online latency ``single_row_latency_ms`` and whatever latency, size and money figures
    the report holds) and LightGBM defaults' as ``baseline.*``; params are the family and
    its hyper-parameters; the trials are the table ``trials.json``; the report and the
    model (as a pyfunc model, when ``model_dir`` is given) are artifacts.

    Args:
        report: a search's ``report_`` (or the parsed ``report.json``).
        model_dir: the saved ``DIR/model`` folder, logged as the run's model.
        uri: the tracking URI (default ``$MLFLOW_TRACKING_URI``; e.g. ``sqlite:///mlflow.db``).
        experiment: the MLflow experiment (created when missing).

    Returns:
        The run's id.
    """
    import pandas as pd

    mlflow = require_mlflow()
    target_uri = mlflow_tracking_uri(uri)
    if target_uri:
        mlflow.set_tracking_uri(target_uri)
    mlflow.set_experiment(experiment)
    chosen = report.get("chosen") or {}
    with mlflow.start_run(run_name=f"search {report.get('target', '')}".strip()) as run:
        money = {f"halfcost.{k}": str(v) for k, v in chosen.items() if k.endswith("_usd")}
        mlflow.set_tags(  # money as its exact decimal string beside the float metric
            {
                "halfcost.kind": "search",
                "halfcost.met": str(report.get("met")),
                "halfcost.family": str(chosen.get("family")),
                **{k: v for k, v in money.items() if v != "None"},
            }
        )
        settings = {key: report.get(key) for key in ("target", "task", "metric", "min_score")}
        settings.update({key: report.get(key) for key in ("seed", "n_trials", "budget_s")})
        settings["family"] = chosen.get("family")
        settings["price_per_hour"] = report.get("price_per_hour")
        settings.update({f"model.{k}": v for k, v in (chosen.get("params") or {}).items()})
        mlflow.log_params({k: v for k, v in settings.items() if v is not None})
        metrics = _numbers({k: v for k, v in chosen.items() if k not in ("params", "trial")})
        metrics.update(_numbers(report.get("baseline") or {}, "baseline."))
        metrics.update(_numbers({"model_folder_bytes": report.get("model_folder_bytes")}))
        mlflow.log_metrics({k: v for k, v in metrics.items() if not k.endswith(".trial")})
        trials = report.get("trials") or []
        if trials:
            table = pd.DataFrame([_flat_trial(t) for t in trials])
            mlflow.log_table(table, artifact_file="trials.json")
        mlflow.log_dict(report, "report.json")
        if model_dir is not None:
            log_model(model_dir)
        return run.info.run_id


def _flat_trial(trial: dict[str, Any]) -> dict[str, Any]:
    """One trial as a table row: nested params become ``params.<name>`` columns."""
    row = {k: v for k, v in trial.items() if not isinstance(v, dict | list)}
    for key, value in (trial.get("params") or {}).items():
        row[f"params.{key}"] = value if isinstance(value, int | float | str) else str(value)
    return row
