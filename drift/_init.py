"""`halfcost init`: write halfcost's DVC pipeline into a project, for the user's own data.

The pipeline (``dvc.yaml``) and its parameters (``params.yaml``) are rendered from the
templates shipped with the package (``drift/template_*.yaml``); the halfcost repository's
own ``dvc.yaml`` and ``params.yaml`` are ``halfcost init --demo``'s output, and a test
keeps them equal. The folder becomes a git + DVC repository if it is not one yet.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

from halfcost.drift._project import DEMO_SOURCE, Project, find_tool, tool_env
from halfcost.errors import BadInputError

DEMO_SETTINGS: dict[str, Any] = {
    "target": "churned",
    "task": "classification",
    "metric": "roc_auc",
    "min_score": 0.75,
    "budget_s": 20,
    "id_column": "customer_id",
    "drop": "customer_id",
}
CLEAN_POLICY = "clean_policy.yaml"  # the clean stage's policy (params.yaml clean.policy)
# Lines added to the project's .gitignore: the lock and logs are per machine.
GITIGNORE_LINES = ("/.halfcost/watch.lock", "/.halfcost/logs/", "/.halfcost/set_aside/")


def _template(name: str) -> str:
    return resources.files("halfcost.drift").joinpath(name).read_text(encoding="utf-8")


def _yaml_scalar(value: Any) -> str:
    import yaml

    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def render_pipeline(
    *,
    source: str = DEMO_SOURCE,
    target: str = DEMO_SETTINGS["target"],
    task: str = DEMO_SETTINGS["task"],
    metric: str = DEMO_SETTINGS["metric"],
    min_score: float = DEMO_SETTINGS["min_score"],
    budget_s: float = DEMO_SETTINGS["budget_s"],
    id_column: str | None = DEMO_SETTINGS["id_column"],
    drop: str = DEMO_SETTINGS["drop"],
    project_name: str | None = None,
) -> dict[str, str]:
    """Return the text of ``dvc.yaml`` and ``params.yaml`` for these settings.

    Args:
        source: ``"demo"`` or the training table's path, relative to the project.
        target, task, metric, min_score, budget_s, drop: the ``search:`` section.
        id_column: the column aligning labels with a batch (None: row order).
        project_name: ``project.name`` (None: the folder's name).
    """
    if '"' in drop or "\n" in drop:
        raise BadInputError(f"--drop must be comma-separated column names, but got {drop!r}.")
    source_dep = "" if source == DEMO_SOURCE else f"      - {_yaml_scalar(source)}\n"
    dvc_yaml = _template("template_dvc.yaml").replace("@SOURCE_DEP@", source_dep)
    replacements = (
        ("@PROJECT@", _yaml_scalar(project_name)),
        ("@SOURCE@", _yaml_scalar(source)),
        ("@ID_COLUMN@", _yaml_scalar(id_column)),
        ("@TARGET@", _yaml_scalar(target)),
        ("@TASK@", _yaml_scalar(task)),
        ("@METRIC@", _yaml_scalar(metric)),
        ("@MIN_SCORE@", _yaml_scalar(float(min_score))),
        ("@BUDGET_S@", _yaml_scalar(budget_s)),
        ("@DROP@", drop),
    )
    lines = []
    for line in _template("template_params.yaml").splitlines():
        if "@" in line:
            for token, value in replacements:
                line = line.replace(token, value)
            code, sep, comment = line.partition("  # ")
            line = f"{code.rstrip():<30} # {comment.strip()}" if sep else line
        lines.append(line)
    return {"dvc.yaml": dvc_yaml, "params.yaml": "\n".join(lines) + "\n"}


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(
        args, cwd=cwd, env=tool_env(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise BadInputError(
            f"`{' '.join(Path(args[0]).name if i == 0 else a for i, a in enumerate(args))}` "
            f"failed in {cwd}: {lines[-1] if lines else done.returncode}."
        )
    return done


def _git_toplevel(root: Path) -> Path | None:
    git = shutil.which("git")
    if git is None:
        raise BadInputError("git is not installed; install git (DVC pipelines need it).")
    done = subprocess.run(
        [git, "rev-parse", "--show-toplevel"],
        cwd=root,
        env=tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    return Path(done.stdout.strip()).resolve() if done.returncode == 0 else None


def _ignored_by(top: Path, root: Path) -> bool:
    """Whether the git repository at ``top`` ignores the folder ``root``."""
    done = subprocess.run(
        ["git", "check-ignore", "--quiet", "--", str(root.relative_to(top)) + "/"],
        cwd=top,
        env=tool_env(),
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def _ensure_repos(root: Path, *, own_repo: bool = False) -> list[str]:
    """Make ``root`` a git repository (unless inside one) and a DVC repository.

    ``root`` becomes a repository of its own when ``own_repo`` is set, or when the
    enclosing repository ignores it (git could never track the project's files there, and
    ``dvc init --subdir`` refuses).
    """
    actions = []
    top = _git_toplevel(root)
    if top is not None and top != root and (own_repo or _ignored_by(top, root)):
        top = None
    if top is None:
        _run(["git", "init", "--quiet"], root)
        actions.append("git init")
        top = root
    if not (root / ".dvc").is_dir():
        args = [find_tool("dvc"), "init", "--quiet"]
        if top != root:
            args.append("--subdir")
        _run(args, root)
        actions.append("dvc init" + (" --subdir" if top != root else ""))
    config = root / ".dvc" / "config"
    if not config.read_text(encoding="utf-8").strip():  # fresh `dvc init`: skip a dvc call
        config.write_text("[core]\n    analytics = false\n", encoding="utf-8")
    else:
        _run([find_tool("dvc"), "config", "core.analytics", "false"], root)
    return actions


def _resolve_source(root: Path, data: str | os.PathLike[str]) -> str:
    """Return the data path relative to ``root``, copying outside files into ``data/``."""
    from halfcost.tables import table_suffix

    path = Path(data)
    path = path if path.is_absolute() else (Path.cwd() / path)
    if not path.is_file():
        candidate = root / Path(data)
        if not candidate.is_file():
            raise BadInputError(f"{data}: no such file; give --data an existing .csv/.parquet.")
        path = candidate
    table_suffix(path)
    path = path.resolve()
    if root not in path.parents:
        copy = root / "data" / path.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
        path = copy
    return path.relative_to(root).as_posix()


def _track_source(root: Path, source: str) -> str | None:
    """``dvc add`` the data file unless git already tracks it; returns the action taken."""
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", source],
        cwd=root,
        env=tool_env(),
        capture_output=True,
        check=False,
    )
    if tracked.returncode == 0 or (root / f"{source}.dvc").is_file():
        return None
    _run([find_tool("dvc"), "add", "--quiet", source], root)
    return f"dvc add {source}"


def _update_gitignore(root: Path) -> None:
    path = root / ".gitignore"
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    missing = [ln for ln in GITIGNORE_LINES if ln not in lines]
    if missing:
        path.write_text("".join(f"{ln}\n" for ln in [*lines, *missing]), encoding="utf-8")


def _commit(root: Path, paths: list[str]) -> None:
    env_has_identity = subprocess.run(
        ["git", "config", "user.email"], cwd=root, capture_output=True, check=False
    ).stdout.strip()
    identity = (
        []
        if env_has_identity
        else ["-c", "user.name=halfcost", "-c", "user.email=halfcost@localhost"]
    )
    _run(["git", "add", "--", *paths], root)
    _run(["git", *identity, "commit", "--quiet", "-m", "halfcost init: DVC pipeline"], root)


def init_project(
    directory: str | os.PathLike[str],
    *,
    data: str | os.PathLike[str] | None = None,
    target: str | None = None,
    task: str | None = None,
    metric: str | None = None,
    min_score: float | None = None,
    budget_s: float | None = None,
    id_column: str | None = None,
    drop: str | None = None,
    demo: bool = False,
    force: bool = False,
    commit: bool = False,
    own_repo: bool = False,
) -> dict[str, Any]:
    """Write the halfcost pipeline into ``directory`` and make it a git + DVC repository.

    Args:
        directory: the project folder (created if missing).
        data: the training table (.csv/.parquet); a file outside the folder is copied
            into ``data/``; one git does not track is versioned with ``dvc add``.
        target, task, metric, min_score, budget_s, id_column, drop: the search settings
            (see params.yaml); required with ``data`` are ``target`` and ``min_score``.
        demo: use halfcost's seeded demo data (generated by the prepare stage).
        force: overwrite an existing dvc.yaml / params.yaml.
        commit: commit the pipeline files to git.
        own_repo: make ``directory`` a git repository of its own even inside another
            one (the demo does, so that its commits never land in a user's repository).

    Returns:
        ``{"project", "files", "actions", "source"}``.

    Raises:
        BadInputError: dvc.yaml exists (without ``force``), neither ``data`` nor
            ``demo`` given, or missing search settings.
    """
    root = Path(directory).resolve()
    if root.exists() and not root.is_dir():
        raise BadInputError(f"{root}: is a file; give a project folder.")
    if (root / "dvc.yaml").exists() and not force:
        raise BadInputError(
            f"{root / 'dvc.yaml'} already exists; pass --force to overwrite the pipeline."
        )
    if demo == (data is not None):
        raise BadInputError("give either --data PATH (with --target and --min-score) or --demo.")
    settings = dict(DEMO_SETTINGS)
    if not demo:
        if target is None or min_score is None:
            raise BadInputError("--data needs --target COLUMN and --min-score S as well.")
        settings.update(task="classification", metric="accuracy", id_column=None, drop="")
    given = {
        "target": target,
        "task": task,
        "metric": metric,
        "min_score": min_score,
        "budget_s": budget_s,
        "id_column": id_column,
        "drop": drop,
    }
    settings.update({k: v for k, v in given.items() if v is not None})
    if settings["metric"] in ("r2", "neg_rmse") and task is None:
        settings["task"] = "regression"
    root.mkdir(parents=True, exist_ok=True)
    source = DEMO_SOURCE if demo else _resolve_source(root, data)
    actions = _ensure_repos(root, own_repo=own_repo)
    files = render_pipeline(source=source, **settings)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    policy = root / CLEAN_POLICY
    if not policy.exists() or force:  # the user's edits survive a plain re-init
        policy.write_text(_template("template_clean_policy.yaml"), encoding="utf-8")
    batches = Project(root).batches_dir
    batches.mkdir(parents=True, exist_ok=True)
    (batches / ".gitkeep").touch()
    _update_gitignore(root)
    if not demo:
        tracked = _track_source(root, source)
        if tracked:
            actions.append(tracked)
    written = ["dvc.yaml", "params.yaml", CLEAN_POLICY, ".gitignore", "data/batches/.gitkeep"]
    if commit:
        extra = [p for p in (".dvc/config", ".dvc/.gitignore", ".dvcignore") if (root / p).exists()]
        if not demo:
            extra += [
                p
                for p in (f"{source}.dvc", str(Path(source).parent / ".gitignore"))
                if (root / p).exists()
            ]
        _commit(root, [*written, *extra])
        actions.append("git commit")
    return {"project": str(root), "files": written, "actions": actions, "source": source}
