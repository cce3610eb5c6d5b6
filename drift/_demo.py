"""The drift part of `halfcost demo`: a fresh git + DVC project, a retrain and a promotion.

:func:`run_drift_demo` writes the pipeline with ``halfcost init --demo``, runs
``dvc repro`` and promotes the first champion, then watches two batches: one from the
training distribution (checked, no alert, no retrain) and one drifted batch with its
labels in a separate table (alert, retrain through ``dvc repro``, promotion).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

from halfcost.drift._project import Project, tool_env
from halfcost.errors import BadInputError

DEMO_ROWS = 3000  # the training table before drift
BATCH_ROWS = 2000
# Twice the original data: after the retrain most training rows follow the new
# distribution, so a challenger that meets the target in cross-validation is good on it.
DRIFTED_ROWS = 6000
# A cheaper challenger may be this much worse than the champion on held-out data: the
# search returns the *cheapest* model meeting the target, not the most accurate one.
DEMO_MARGIN = 0.02
NORMAL_SEED = 11
DRIFTED_SEED = 12


def _write_batches(project: Project) -> dict[str, Path]:
    """Write a normal batch and a drifted batch (features and labels in separate files)."""
    from halfcost.demo_data import ID_COLUMN, TARGET, make_customers
    from halfcost.tables import write_table

    params = project.params()["data"]
    first_id = int(params["demo_rows"]) + 1_000_000
    incoming = project.root / "incoming"
    normal = make_customers(BATCH_ROWS, seed=NORMAL_SEED, id_start=first_id)
    drifted = make_customers(
        DRIFTED_ROWS, seed=DRIFTED_SEED, drift=1.0, id_start=first_id + BATCH_ROWS
    )
    labels = drifted[[ID_COLUMN, TARGET]].sample(frac=1.0, random_state=0)  # order differs
    return {
        "normal": write_table(normal.drop(columns=[TARGET]), incoming / "batch-normal.csv"),
        "drifted": write_table(drifted.drop(columns=[TARGET]), incoming / "batch-drifted.csv"),
        "drifted_labels": write_table(labels, incoming / "batch-drifted-labels.csv"),
    }


def _set_params(params_yaml: Path, values: dict[str, object]) -> None:
    """Set ``key: value`` lines of params.yaml in place, keeping its comments."""
    lines = params_yaml.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        key, sep, rest = line.partition(":")
        name = key.strip()
        if sep and key.startswith("  ") and name in values:
            comment = rest[rest.index("#") :] if "#" in rest else ""
            code = f"{key}: {values[name]}"
            lines[number] = f"{code:<30} {comment}".rstrip()
    params_yaml.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _git_commit(root: Path, message: str, paths: list[str]) -> None:
    env = tool_env()
    env.setdefault("GIT_AUTHOR_NAME", "halfcost demo")
    env.setdefault("GIT_AUTHOR_EMAIL", "halfcost@localhost")
    env.setdefault("GIT_COMMITTER_NAME", env["GIT_AUTHOR_NAME"])
    env.setdefault("GIT_COMMITTER_EMAIL", env["GIT_AUTHOR_EMAIL"])
    present = [p for p in paths if (root / p).exists()]
    for args in (["git", "add", "--", *present], ["git", "commit", "--quiet", "-m", message]):
        subprocess.run(args, cwd=root, env=env, capture_output=True, check=False)


def run_drift_demo(
    project_dir: str | os.PathLike[str], *, budget_s: float = 20, sinks: list | None = None
) -> dict[str, Any]:
    """Create a demo project in ``project_dir``, train a champion, then retrain on drift.

    Args:
        project_dir: a new or empty folder (never the halfcost repository); it becomes a
            git repository of its own, even inside another one.
        budget_s: the search budget of each (re)train, written to params.yaml.
        sinks: alert sinks for the watches (default: none; the CLI's demo may pass a
            ``PrintSink``).

    Returns:
        A summary: ``project``, ``events`` (the event log), ``champion`` (current version),
        ``champion_path``, ``champions`` (all versions), ``first_repro_s``,
        ``normal_batch`` and ``drifted_batch`` (each: ``outcome``, ``reason``,
        ``seconds``, ``repro_seconds``, ``scores``), ``data_version``, ``history``
        (the decisions, oldest first).

    Raises:
        BadInputError: ``project_dir`` is not empty.
    """
    from halfcost.drift._champions import ChampionStore
    from halfcost.drift._history import history
    from halfcost.drift._init import init_project
    from halfcost.drift._watch import train_first_champion, watch_batch

    root = Path(project_dir).resolve()
    if root.exists() and any(root.iterdir()):
        raise BadInputError(f"{root} is not empty; give the drift demo a new folder.")
    init_project(root, demo=True, budget_s=budget_s, commit=True, own_repo=True)
    project = Project(root)
    _set_params(project.params_yaml, {"demo_rows": DEMO_ROWS, "margin": DEMO_MARGIN})
    (root / ".gitignore").write_text(
        (root / ".gitignore").read_text(encoding="utf-8") + "/incoming/\n", encoding="utf-8"
    )

    start = time.perf_counter()
    first = train_first_champion(project)
    first_repro_s = time.perf_counter() - start
    _git_commit(
        root,
        "demo: first champion",
        ["params.yaml", "dvc.lock", ".gitignore", "data", "models", "metrics", ".halfcost"],
    )

    batches = _write_batches(project)
    summaries = {}
    for name, labels in (("normal", None), ("drifted", batches["drifted_labels"])):
        start = time.perf_counter()
        result = watch_batch(batches[name], labels=labels, project=project, sinks=sinks)
        summaries[f"{name}_batch"] = {
            "path": str(batches[name]),
            "outcome": result.outcome,
            "reason": result.reason,
            "seconds": round(time.perf_counter() - start, 1),
            "repro_seconds": result.repro_seconds,
            "scores": result.scores,
            "drifted_columns": [
                col for col, info in result.drift.get("columns", {}).items() if info.get("drifted")
            ],
        }
    _git_commit(
        root,
        f"demo: drifted batch -> {summaries['drifted_batch']['outcome']}",
        ["dvc.lock", "data/batches", "metrics", ".halfcost"],
    )
    store = ChampionStore(project)
    return {
        "project": str(root),
        "events": str(project.events_path),
        "first_champion": first,
        "champion": store.current_version(),
        "champion_path": str(store.path()),
        "champions": store.versions(),
        "data_version": project.data_version(),
        "first_repro_s": round(first_repro_s, 1),
        **summaries,
        "history": history(project),
    }
