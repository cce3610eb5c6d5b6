"""The saved model: a folder that cannot run code when loaded.

``DIR/model/`` holds ``meta.json`` (target, task, metric, feature columns, classes,
family, parameters, feature importances, library versions) and ``pipeline.skops``: the
fitted encoder + estimator in skops' format, loaded only when every type in it is on
the exact list halfcost writes (:mod:`halfcost.automl._model_trust`) — never a bare
pickle, never a type trusted by its module's prefix.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from halfcost import __version__
from halfcost.errors import BadInputError
from halfcost.jsonio import write_json

FORMAT_VERSION = 1
META_FILE = "meta.json"
PIPELINE_FILE = "pipeline.skops"


class HalfcostModel:
    """A fitted model taking raw feature columns, as returned by :func:`load_model`.

    Attributes:
        pipeline: the fitted scikit-learn pipeline (encoder + estimator).
        metadata: target, task, metric, min_score, feature_columns, classes, family,
            params and version information.
        feature_importances_: raw input column -> importance (≥ 0, summing to 1).
    """

    def __init__(
        self,
        pipeline: Any,
        metadata: dict[str, Any],
        feature_importances: dict[str, float],
        runner: Any = None,
    ):
        self.pipeline = pipeline
        self.metadata = metadata
        self.feature_importances_ = feature_importances
        #: what predictions run in: the pipeline itself, or its ONNX Runtime twin
        self.runner = runner if runner is not None else pipeline

    @property
    def runtime(self) -> str:
        """``onnx`` when predictions run in ONNX Runtime, else ``python``."""
        return "python" if self.runner is self.pipeline else "onnx"

    @property
    def feature_columns(self) -> list[str]:
        """The raw columns the model needs, in the order it was trained on."""
        return list(self.metadata["feature_columns"])

    @property
    def classes_(self) -> list:
        """The classes (classification) in the order of ``predict_proba``'s columns."""
        return list(self.metadata.get("classes") or [])

    @property
    def is_classifier(self) -> bool:
        """True for a classification model."""
        return self.metadata["task"] == "classification"

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame:
        if not isinstance(frame, pd.DataFrame):
            raise BadInputError("predict takes a pandas DataFrame with the raw feature columns.")
        columns = self.feature_columns
        present = frame.columns.tolist()
        if present == columns:  # a frame holding exactly the features (a request): no copy
            features = frame
        else:
            have = set(present)
            missing = [c for c in columns if c not in have]
            if missing:
                raise BadInputError(
                    f"the data is missing feature column(s) {', '.join(map(repr, missing))} "
                    "that the model was trained on; add them (values may be empty)."
                )
            features = frame[columns]
        self.check_values(features)  # refuses values of the wrong type, never silently
        return features

    @property
    def column_kinds(self) -> dict[str, str]:
        """Raw column -> numeric, date or categorical, as the model was trained."""
        kinds = self.metadata.get("column_kinds")
        if kinds:
            return dict(kinds)
        from halfcost.automl._encoder import raw_step

        raw = raw_step(self.pipeline)
        if raw is None:
            return {}
        return dict(zip(raw.columns_, raw.kinds_, strict=True))

    def check_values(
        self, frame: pd.DataFrame, *, on_bad_values: str = "error"
    ) -> tuple[pd.DataFrame, dict[str, int]]:
        """Compare each column of ``frame`` with the type the model was trained on.

        Args:
            frame: the raw table about to be scored.
            on_bad_values: ``error`` refuses values a numeric or date column cannot
                read; ``null`` treats them as missing values (as training did);
                ``impute`` replaces them with the training median where the model
                imputes one (linear models, neural nets) and leaves them missing where
                the model learned where missing values go (trees).

        Returns:
            The frame to score (bad cells replaced) and column -> bad cells replaced.

        Raises:
            BadInputError: bad values with ``on_bad_values="error"``, naming each column
                and its count.
        """
        from halfcost.automl._encoder import imputed_values
        from halfcost.automl._prep import check_values

        impute = imputed_values(self.pipeline) if on_bad_values == "impute" else None
        return check_values(frame, self.column_kinds, on_bad_values=on_bad_values, impute=impute)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Predict classes (as in the training data) or values for each row of ``frame``."""
        raw = self.runner.predict(self._features(frame))
        if not self.is_classifier:
            return np.asarray(raw, dtype=float)
        return np.asarray(self.classes_, dtype=object)[np.asarray(raw, dtype=np.int64)]

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Class probabilities, one column per class in ``classes_`` order."""
        if not self.is_classifier:
            raise BadInputError("predict_proba is for classifiers; this model is a regressor.")
        proba = np.asarray(self.runner.predict_proba(self._features(frame)), dtype=float)
        full = np.zeros((proba.shape[0], len(self.classes_)))
        seen = getattr(self.pipeline, "classes_", np.arange(proba.shape[1]))
        full[:, np.asarray(seen, dtype=np.int64)] = proba
        return full

    def __repr__(self) -> str:
        meta = self.metadata
        return f"HalfcostModel(family={meta.get('family')!r}, target={meta.get('target')!r})"


def version_info() -> dict[str, str]:
    """Versions of the libraries a saved model depends on."""
    import lightgbm
    import sklearn
    import skops

    return {
        "halfcost": __version__,
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "lightgbm": lightgbm.__version__,
        "skops": skops.__version__,
        "numpy": np.__version__,
    }


def save_model(model: HalfcostModel, path: str | os.PathLike[str]) -> Path:
    """Save ``model`` into the folder ``path``, replacing a model saved there before.

    The files are written into a temporary sibling folder, which then takes the place of
    ``path`` by rename: a run killed while saving leaves the previous model whole (or no
    model), never a pipeline beside another model's metadata.
    """
    import shutil
    import tempfile

    import skops.io

    folder = Path(path)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        skops.io.dump(model.pipeline, staging / PIPELINE_FILE)
        meta = {
            **model.metadata,
            "format_version": FORMAT_VERSION,
            "feature_importances": model.feature_importances_,
            "runtime": model.runtime,
        }
        meta.pop("onnx", None)
        if model.runtime == "onnx":
            from halfcost.automl._onnx import ONNX_FILE, sha256

            data = model.runner.onnx_bytes
            (staging / ONNX_FILE).write_bytes(data)
            meta["onnx"] = {"file": ONNX_FILE, "sha256": sha256(data), "bytes": len(data)}
        write_json(meta, staging / META_FILE)
        staging.chmod(0o755)
        retired = None
        if folder.exists():
            retired = folder.with_name(f".{folder.name}.old-{staging.name.rsplit('-', 1)[-1]}")
            os.replace(folder, retired)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
    return folder


def load_model(path: str | os.PathLike[str]) -> HalfcostModel:
    """Load a model saved by ``halfcost search`` (the ``DIR/model`` folder).

    Raises:
        BadInputError: the folder or its files are missing, or the file holds a type
            outside the trusted list (a tampered or foreign file).
    """
    import json

    import skops.io

    from halfcost.automl._model_trust import trusted_type_names, untrusted_types

    folder = Path(path)
    meta_path, pipeline_path = folder / META_FILE, folder / PIPELINE_FILE
    if not folder.is_dir() or not meta_path.exists() or not pipeline_path.exists():
        raise BadInputError(
            f"{folder}: not a halfcost model folder (needs {META_FILE} and {PIPELINE_FILE}); "
            "give the DIR/model folder written by `halfcost search`."
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        untrusted = untrusted_types(pipeline_path)
    except Exception as exc:  # corrupt JSON or zip: many exception types
        raise BadInputError(
            f"{folder}: the model files are unreadable ({type(exc).__name__}: {exc}); "
            "re-create the model with `halfcost search`."
        ) from exc
    if untrusted:
        raise BadInputError(
            f"{folder}: the model file contains untrusted type(s) {', '.join(untrusted)}; "
            "refusing to load it. Re-create the model with `halfcost search`."
        )
    # every type in the file is on the exact list: skops may construct them
    pipeline = skops.io.load(pipeline_path, trusted=sorted(trusted_type_names()))
    importances = meta.pop("feature_importances", {})
    runner = _onnx_runner(folder, meta, pipeline) if meta.get("runtime") == "onnx" else None
    return HalfcostModel(pipeline, meta, importances, runner)


def _onnx_runner(folder: Path, meta: dict[str, Any], pipeline: Any) -> Any:
    """The ONNX Runtime session of a model saved in that runtime, its checksum verified.

    Raises:
        BadInputError: the ONNX file is missing, or its sha256 differs from the one in
            ``meta.json`` (a changed or swapped file is never served).
    """
    from halfcost.automl._encoder import raw_step
    from halfcost.automl._onnx import OnnxConversionError, OnnxPipeline, sha256

    info = meta.get("onnx") or {}
    path = folder / str(info.get("file", "model.onnx"))
    if not path.is_file() or "sha256" not in info:
        raise BadInputError(
            f"{folder}: the model is saved for ONNX Runtime but {path.name} or its checksum "
            "is missing; re-create the model with `halfcost search`."
        )
    data = path.read_bytes()
    if sha256(data) != info["sha256"]:
        raise BadInputError(
            f"{path}: sha256 {sha256(data)[:12]}… differs from {info['sha256'][:12]}… in "
            f"{META_FILE}; refusing a changed ONNX file. Re-create the model with "
            "`halfcost search` (or restore the file it wrote)."
        )
    try:
        return OnnxPipeline(
            raw_step(pipeline), data, is_classifier=meta.get("task") == "classification"
        )
    except OnnxConversionError as exc:
        raise BadInputError(
            f"{path}: {exc}; re-create the model with `halfcost search --runtime onnx`."
        ) from exc
