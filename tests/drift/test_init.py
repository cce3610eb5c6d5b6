"""`halfcost init`: the pipeline written into a user's project, real git and DVC."""

from __future__ import annotations

import json
import subprocess

import yaml

from halfcost.demo_data import make_customers
from halfcost.drift import init_project
from halfcost.drift._init import render_pipeline
from halfcost.tables import write_table


def test_repository_pipeline_is_init_demo_output(repo_root):
    files = render_pipeline()
    assert (repo_root / "dvc.yaml").read_text() == files["dvc.yaml"]
    assert (repo_root / "params.yaml").read_text() == files["params.yaml"]
    assert (repo_root / ".dvc" / "config").is_file()


def test_init_demo_makes_a_git_and_dvc_project(tmp_path, cli):
    proc = cli(["init", str(tmp_path / "p"), "--demo", "--budget-s", "7", "--commit", "--json"])
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    root = tmp_path / "p"
    assert summary["source"] == "demo"
    assert "git init" in summary["actions"] and "dvc init" in summary["actions"]
    assert (root / ".git").is_dir() and (root / ".dvc" / "config").is_file()
    assert "analytics = false" in (root / ".dvc" / "config").read_text()
    params = yaml.safe_load((root / "params.yaml").read_text())
    assert params["search"]["budget_s"] == 7
    stages = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]
    assert list(stages) == ["prepare", "clean", "search", "evaluate", "monitor"]
    assert "/.halfcost/watch.lock" in (root / ".gitignore").read_text()
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()
    assert {"dvc.yaml", "params.yaml", ".dvc/config", "data/batches/.gitkeep"} <= set(tracked)


def test_init_refuses_an_existing_pipeline_unless_forced(tmp_path, cli):
    root = tmp_path / "p"
    assert cli(["init", str(root), "--demo"]).returncode == 0
    (root / "dvc.yaml").write_text("stages: {}\n")
    proc = cli(["init", str(root), "--demo"])
    assert proc.returncode == 2
    assert "already exists" in proc.stderr and "--force" in proc.stderr
    assert proc.stderr.count("\n") == 1  # one line, no traceback
    assert (root / "dvc.yaml").read_text() == "stages: {}\n"
    assert cli(["init", str(root), "--demo", "--force"]).returncode == 0
    assert "prepare" in (root / "dvc.yaml").read_text()


def test_init_with_user_data_copies_and_tracks_it_with_dvc(tmp_path):
    data = write_table(make_customers(300, seed=1), tmp_path / "mine" / "customers.csv")
    root = tmp_path / "proj"
    summary = init_project(
        root, data=data, target="churned", metric="f1", min_score=0.3, id_column="customer_id"
    )
    assert summary["source"] == "data/customers.csv"
    assert (root / "data" / "customers.csv").is_file()
    assert (root / "data" / "customers.csv.dvc").is_file()  # dvc add
    assert any(a.startswith("dvc add") for a in summary["actions"])
    params = yaml.safe_load((root / "params.yaml").read_text())
    assert params["data"]["source"] == "data/customers.csv"
    assert params["search"]["metric"] == "f1" and params["search"]["min_score"] == 0.3
    deps = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]["prepare"]["deps"]
    assert deps == ["data/customers.csv", "data/batches"]
    # the demo's `drop: customer_id` is not carried over to a user's table
    assert params["search"]["drop"] == ""


def test_init_needs_a_target_with_user_data(tmp_path, cli):
    data = write_table(make_customers(50, seed=1), tmp_path / "d.csv")
    proc = cli(["init", str(tmp_path / "p"), "--data", str(data)])
    assert proc.returncode == 2
    assert "--target" in proc.stderr
    assert not (tmp_path / "p" / "dvc.yaml").exists()


def test_init_missing_data_file_is_a_clear_error(tmp_path, cli):
    proc = cli(
        ["init", str(tmp_path / "p"), "--data", "nope.csv", "--target", "y", "--min-score", "0.5"]
    )
    assert proc.returncode == 2
    assert "nope.csv" in proc.stderr and "no such file" in proc.stderr


def _git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)


def test_init_inside_a_repository_that_ignores_the_folder_makes_its_own(tmp_path):
    # The issue-9 case: a halfcost checkout whose .gitignore ignores halfcost-demo*/.
    outer = tmp_path / "outer"
    outer.mkdir()
    _git("init", "--quiet", cwd=outer)
    (outer / ".gitignore").write_text("halfcost-demo*/\n")
    project = outer / "halfcost-demo-1" / "project"
    result = init_project(project, demo=True, commit=True)
    assert "git init" in result["actions"]
    assert "dvc init" in result["actions"]  # not --subdir
    assert _git("rev-parse", "--show-toplevel", cwd=project).stdout.strip() == str(project)
    assert _git("log", "--oneline", cwd=project).stdout.strip()
    assert _git("status", "--porcelain", cwd=outer).stdout == "?? .gitignore\n"


def test_own_repo_keeps_commits_out_of_an_enclosing_repository(tmp_path):
    outer = tmp_path / "outer"
    outer.mkdir()
    _git("init", "--quiet", cwd=outer)
    result = init_project(outer / "demo", demo=True, commit=True, own_repo=True)
    assert "git init" in result["actions"]
    assert (outer / "demo" / ".git").is_dir()
    outer_log = subprocess.run(["git", "log"], cwd=outer, capture_output=True, text=True)
    assert outer_log.returncode != 0, "the enclosing repository got a commit"


def test_init_inside_a_repository_uses_a_dvc_subdir_by_default(tmp_path):
    outer = tmp_path / "outer"
    outer.mkdir()
    _git("init", "--quiet", cwd=outer)
    result = init_project(outer / "proj", demo=True)
    assert "dvc init --subdir" in result["actions"]
    assert not (outer / "proj" / ".git").exists()
