"""The DVC pipeline: the prepare stage, and the repository's own dvc.yaml from a fresh clone."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from halfcost.demo_data import make_customers
from halfcost.drift import Project
from halfcost.drift._init import render_pipeline
from halfcost.drift._prepare import prepare, split_holdout
from halfcost.drift._project import find_tool, tool_env
from halfcost.errors import BadInputError
from halfcost.tables import write_table


def _project(root: Path, **data) -> Project:
    root.mkdir(parents=True, exist_ok=True)
    files = render_pipeline()
    (root / "dvc.yaml").write_text(files["dvc.yaml"])
    params = yaml.safe_load(files["params.yaml"])
    params["data"].update(data)
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    return Project.open(root)


def test_split_is_reproducible_and_keyed_by_part():
    frame = make_customers(400, seed=5)
    train1, hold1 = split_holdout(frame, fraction=0.25, seed=0, key="b0001-x.csv")
    train2, hold2 = split_holdout(frame, fraction=0.25, seed=0, key="b0001-x.csv")
    _, other = split_holdout(frame, fraction=0.25, seed=0, key="b0002-x.csv")
    assert len(hold1) == 100 and len(train1) == 300
    pd.testing.assert_frame_equal(hold1, hold2)
    pd.testing.assert_frame_equal(train1, train2)
    assert set(hold1["customer_id"]) != set(other["customer_id"])
    assert not set(hold1["customer_id"]) & set(train1["customer_id"])


def test_prepare_adds_every_batch_to_train_and_holdout(tmp_path):
    project = _project(tmp_path / "p", demo_rows=400)
    first = prepare(project)
    assert (first["train_rows"], first["holdout_rows"]) == (300, 100)
    batch = make_customers(200, seed=9, drift=1.0, id_start=10_000)
    write_table(batch, project.batches_dir / "b0001-new.csv")
    second = prepare(project)
    assert second["batches"] == ["b0001-new.csv"]
    assert (second["train_rows"], second["holdout_rows"]) == (450, 150)
    holdout = pd.read_csv(project.holdout_path)
    _, batch_holdout = split_holdout(batch, fraction=0.25, seed=0, key="b0001-new.csv")
    # the rows `drift watch` scores a new batch on are exactly the batch's held-out rows
    assert set(batch_holdout["customer_id"]) <= set(holdout["customer_id"])
    train = pd.read_csv(project.train_path)
    assert not set(batch_holdout["customer_id"]) & set(train["customer_id"])


def test_prepare_rejects_a_batch_missing_columns(tmp_path):
    project = _project(tmp_path / "p", demo_rows=100)
    write_table(make_customers(50, seed=1).drop(columns=["plan"]), project.batches_dir / "b.csv")
    with pytest.raises(BadInputError, match=r"missing column.*plan"):
        prepare(project)


def test_prepare_rejects_bad_params(tmp_path):
    project = _project(tmp_path / "p", demo_rows="many")
    with pytest.raises(BadInputError, match="demo_rows"):
        prepare(project)


def _git(args: list[str], cwd: Path) -> str:
    env = tool_env()
    env.update(
        GIT_AUTHOR_NAME="halfcost test",
        GIT_AUTHOR_EMAIL="test@localhost",
        GIT_COMMITTER_NAME="halfcost test",
        GIT_COMMITTER_EMAIL="test@localhost",
    )
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _dvc(args: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [find_tool("dvc"), *args],
        cwd=cwd,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.slow
def test_repository_pipeline_reproduces_from_a_fresh_clone(repo_root, tmp_path):
    """`git clone` the committed repository and run its own dvc.yaml, with no DVC remote."""
    clone = tmp_path / "clone"
    _git(["clone", "--quiet", str(repo_root), str(clone)], tmp_path)
    assert not (clone / "dvc.lock").exists()
    assert (clone / ".dvc" / "config").is_file()
    run = _dvc(["repro"], clone)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for stage in ("prepare", "clean", "search", "evaluate", "monitor"):
        assert f"Running stage '{stage}'" in run.stdout
    metrics = json.loads((clone / "metrics" / "holdout.json").read_text())
    params = yaml.safe_load((clone / "params.yaml").read_text())
    assert metrics["metric"] == params["search"]["metric"]
    assert 0.0 <= metrics["score"] <= 1.0
    assert (clone / "models" / "challenger" / "model" / "meta.json").is_file()
    assert (clone / "models" / "profile" / "profile.json").is_file()
    report = json.loads((clone / "models" / "challenger" / "report.json").read_text())
    assert report["kind"] == "search" and report["budget_s"] == params["search"]["budget_s"]
    # nothing changed: nothing reruns
    again = _dvc(["repro"], clone)
    assert again.returncode == 0, again.stderr
    assert "Running stage" not in again.stdout
    # a changed search parameter reruns the search (then what depends on its output), not
    # the data stages
    params["search"]["seed"] = 1
    (clone / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    dry = _dvc(["repro", "--dry"], clone)
    assert dry.returncode == 0, dry.stderr
    assert "Running stage 'search'" in dry.stdout
    assert "Running stage 'prepare'" not in dry.stdout
    assert "Running stage 'clean'" not in dry.stdout


def test_repository_clean_policy_is_the_template(repo_root):
    from halfcost.drift._init import _template

    assert (repo_root / "clean_policy.yaml").read_text() == _template("template_clean_policy.yaml")


def test_prepare_writes_the_sources_training_rows_as_the_clean_reference(tmp_path):
    project = _project(tmp_path / "p", demo_rows=400)
    write_table(make_customers(200, seed=9, id_start=10_000), project.batches_dir / "b1.csv")
    summary = prepare(project)
    reference = pd.read_csv(project.reference_path)
    source_train, _ = split_holdout(
        make_customers(400, seed=0), fraction=0.25, seed=0, key="source"
    )
    assert summary["reference"] == str(project.reference_path)
    assert len(reference) == 300
    assert set(reference["customer_id"]) == set(source_train["customer_id"])
    batch_ids = set(make_customers(200, seed=9, id_start=10_000)["customer_id"])
    assert not set(reference["customer_id"]) & batch_ids


@pytest.mark.slow
def test_clean_stage_checks_a_batch_against_the_reference_and_keeps_drifted_values(tmp_path):
    """`dvc repro clean`: a bad batch row is quarantined; an out-of-range value is kept."""
    from halfcost.drift import init_project

    root = tmp_path / "proj"
    init_project(root, demo=True, commit=True)
    project = Project.open(root)
    batch = make_customers(60, seed=21, drift=1.0, id_start=50_000)
    numeric = "monthly_spend"
    batch[numeric] = batch[numeric] * 50  # far outside the reference's range
    batch.loc[batch.index[:3], "plan"] = "not-a-plan-zzz"  # a category the reference never had
    write_table(batch, project.batches_dir / "b0001-drifted.csv")
    done = subprocess.run(
        [find_tool("dvc"), "repro", "clean"],
        cwd=root,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads((root / "data" / "clean" / "report.json").read_text())
    quarantine = pd.read_csv(root / "data" / "clean" / "quarantine.csv")
    clean = pd.read_csv(root / "data" / "clean" / "clean.csv")
    batch_ids = set(batch["customer_id"])
    held_ids = set(quarantine["customer_id"]) & batch_ids
    assert held_ids, "nothing of the bad batch was found: the suite saw only its own input"
    assert held_ids <= set(batch.loc[batch.index[:3], "customer_id"])
    assert report["columns"][numeric].get("out_of_range_reported", 0) > 0
    kept = clean[clean["customer_id"].isin(batch_ids)]
    assert len(kept) >= 40, "drifted rows were cleaned out of the retrain"
