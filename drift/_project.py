"""A halfcost DVC project on disk: where the pipeline and its state live, and its params.

One layout serves the halfcost repository itself, the demo project and every project
written by ``halfcost init``, so ``drift watch``, ``drift history`` and the pipeline
stages agree on paths without passing them around::

    dvc.yaml  params.yaml                the pipeline and its parameters
    data/batches/                        labelled batches added by `drift watch` (DVC-tracked)
    data/prepared/train.csv holdout.csv  prepare stage: the training and held-out split
    data/clean/                          clean stage (`halfcost clean`)
    models/challenger/                   search stage: the challenger (`halfcost search --out`)
    metrics/holdout.json                 evaluate stage: the challenger on held-out data
    models/profile/                      monitor stage: reference profile of the training data
    .halfcost/                           state outside every stage output (champions, events, lock)
"""

from __future__ import annotations

import copy
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halfcost.errors import BadInputError

# Defaults for every params.yaml section halfcost reads; a project's params.yaml
# overrides them key by key.
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "project": {"name": None},
    "data": {
        "source": "demo",
        "demo_rows": 4000,
        "demo_seed": 0,
        "holdout_fraction": 0.25,
        "split_seed": 0,
        "id_column": None,
    },
    "search": {
        "target": "churned",
        "task": "auto",
        "metric": "roc_auc",
        "min_score": 0.75,
        "budget_s": 20,
        "seed": 0,
        "drop": "",
    },
    "monitor": {
        "drift_share": 0.5,
        "alert_share": 0.3,
        "importance_weighted": True,
        "min_batch_rows": 100,
        "consecutive_batches": 1,
        "cooldown_hours": 0,
        "manual_trigger": False,
        "score_drop_trigger": True,
        "webhook_url": None,
        "sample_rows": 100000,
    },
    "promotion": {"margin": 0.01},
}

DEMO_SOURCE = "demo"


def tool_env() -> dict[str, str]:
    """The environment for DVC, git and halfcost subprocesses: telemetry off, venv first on PATH.

    The pipeline's stages call the ``halfcost`` console script, so the folder holding
    the running Python (the venv's ``bin``) goes first on PATH.
    """
    env = dict(os.environ)
    env.update(
        DO_NOT_TRACK="1",
        GX_ANALYTICS_ENABLED="false",
        DVC_NO_ANALYTICS="1",
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
    )
    bin_dir = str(Path(sys.executable).parent)
    parts = env.get("PATH", "").split(os.pathsep)
    if bin_dir not in parts:
        env["PATH"] = os.pathsep.join([bin_dir, *[p for p in parts if p]])
    return env


def find_tool(name: str) -> str:
    """Return the path of console script ``name`` (``dvc``, ``halfcost``), venv first.

    Raises:
        BadInputError: the tool is not installed.
    """
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        raise BadInputError(
            f"`{name}` is not installed; install halfcost into a venv "
            "(`pip install -e .`) and run from inside it."
        )
    return found


def _merge(defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(defaults)
    for section, values in given.items():
        if isinstance(values, dict) and isinstance(merged.get(section), dict):
            merged[section].update(values)
        else:
            merged[section] = values
    return merged


@dataclass(frozen=True)
class Project:
    """The paths of one halfcost DVC project and its parameters.

    Attributes:
        root: the project folder (it holds dvc.yaml and params.yaml).
    """

    root: Path

    @classmethod
    def open(cls, root: str | os.PathLike[str] = ".") -> Project:
        """Open the project in ``root``, checking that it has a pipeline.

        Raises:
            BadInputError: ``root`` has no dvc.yaml or params.yaml.
        """
        path = Path(root).resolve()
        if not path.is_dir():
            raise BadInputError(f"{path}: no such project folder; give --project a folder.")
        for name in ("dvc.yaml", "params.yaml"):
            if not (path / name).is_file():
                raise BadInputError(
                    f"{path}: no {name}; run `halfcost init {path}` to write the pipeline first."
                )
        return cls(path)

    # -- pipeline files ---------------------------------------------------------------
    @property
    def dvc_yaml(self) -> Path:
        return self.root / "dvc.yaml"

    @property
    def params_yaml(self) -> Path:
        return self.root / "params.yaml"

    @property
    def dvc_lock(self) -> Path:
        return self.root / "dvc.lock"

    @property
    def batches_dir(self) -> Path:
        return self.root / "data" / "batches"

    @property
    def prepared_dir(self) -> Path:
        return self.root / "data" / "prepared"

    @property
    def train_path(self) -> Path:
        return self.prepared_dir / "train.csv"

    @property
    def holdout_path(self) -> Path:
        return self.prepared_dir / "holdout.csv"

    @property
    def reference_path(self) -> Path:
        """The source's training rows: the clean stage's default reference."""
        return self.prepared_dir / "reference.csv"

    @property
    def challenger_dir(self) -> Path:
        return self.root / "models" / "challenger"

    @property
    def profile_path(self) -> Path:
        return self.root / "models" / "profile"

    @property
    def metrics_path(self) -> Path:
        return self.root / "metrics" / "holdout.json"

    # -- state outside the pipeline's outputs ------------------------------------------
    @property
    def state_dir(self) -> Path:
        return self.root / ".halfcost"

    @property
    def events_path(self) -> Path:
        return self.state_dir / "events.jsonl"

    @property
    def champions_dir(self) -> Path:
        return self.state_dir / "champions"

    @property
    def champion_pointer(self) -> Path:
        return self.state_dir / "champion.json"

    @property
    def lock_path(self) -> Path:
        return self.state_dir / "watch.lock"

    @property
    def running_path(self) -> Path:
        """``retrain.json``: the retrain in progress (its batch, event and process group)."""
        return self.state_dir / "retrain.json"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def set_aside_dir(self) -> Path:
        return self.state_dir / "set_aside"

    # -- parameters ---------------------------------------------------------------------
    def params(self) -> dict[str, Any]:
        """Return params.yaml merged over :data:`DEFAULT_PARAMS` (section by section).

        Raises:
            BadInputError: params.yaml is not valid YAML or not a mapping.
        """
        return load_params(self.params_yaml)

    @property
    def name(self) -> str:
        """The project's name: ``project.name`` in params.yaml, else the folder's name."""
        return str(self.params()["project"].get("name") or self.root.name)

    def data_version(self) -> str | None:
        """The md5 DVC recorded in dvc.lock for the prepared data (``data/prepared``), if any.

        It changes whenever the training data changes (a new batch, a new source file),
        so every event and champion names the exact data it was trained on.
        """
        return lock_out_md5(self.dvc_lock, "data/prepared")


def load_params(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a params.yaml and merge it over :data:`DEFAULT_PARAMS`.

    Raises:
        BadInputError: the file is missing, not YAML, or not a mapping of sections.
    """
    import yaml

    p = Path(path)
    if not p.is_file():
        raise BadInputError(f"{p}: no such file; run `halfcost init` to write one.")
    try:
        given = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f" (line {line + 1})" if line is not None else ""
        raise BadInputError(f"{p}: not valid YAML{where}; fix the syntax.") from exc
    if not isinstance(given, dict):
        raise BadInputError(f"{p}: expected a mapping of sections (data:, search:, ...).")
    return _merge(DEFAULT_PARAMS, given)


def lock_out_md5(lock_path: Path, out_path: str) -> str | None:
    """Return the md5 dvc.lock records for output ``out_path`` (None if not recorded)."""
    import yaml

    if not lock_path.is_file():
        return None
    try:
        lock = yaml.safe_load(lock_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        return None
    for stage in (lock.get("stages") or {}).values():
        for entry in (stage or {}).get("outs") or []:
            if entry.get("path") == out_path:
                return entry.get("md5")
    return None
