"""`halfcost drift watch` on a real git + DVC project: checks, retrains, promotions, refusals.

A module fixture builds one project (``halfcost init --demo``, tiny search budget) and
trains its first champion through real ``dvc repro``; each test works on a copy of it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from halfcost.demo_data import ID_COLUMN, TARGET, make_customers
from halfcost.drift import ChampionStore, EventLog, Project, init_project, watch_batch
from halfcost.drift._watch import attach_labels, project_lock, train_first_champion
from halfcost.errors import BadInputError
from halfcost.tables import write_table

BUDGET_S = 4
MIN_SCORE = 0.7  # below what even the tiny search reaches on a busy machine
# Columns that carry the signal; a challenger trained without them is clearly worse.
INFORMATIVE = "age,tenure_months,plan,channel,monthly_spend,discount,support_calls,last_login_days"


@pytest.fixture(scope="module")
def trained(tmp_path_factory, edit_params) -> Path:
    """A demo project with its first champion (v0001), trained by real `dvc repro`."""
    root = tmp_path_factory.mktemp("base") / "project"
    init_project(root, demo=True, budget_s=BUDGET_S, min_score=MIN_SCORE, commit=True)
    edit_params(root, data={"demo_rows": 2000}, promotion={"margin": 0.02})
    assert train_first_champion(root) == "v0001"
    return root


@pytest.fixture
def project(trained, tmp_path) -> Path:
    """A private copy of the trained project (git, DVC cache, champions and all)."""
    root = tmp_path / "project"
    shutil.copytree(trained, root, symlinks=True)
    return root


@pytest.fixture(scope="module")
def batches(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("incoming")
    normal = make_customers(1500, seed=21, id_start=5_000_000)
    drifted = make_customers(4000, seed=22, drift=1.0, id_start=6_000_000)  # 2x the source
    labels = drifted[[ID_COLUMN, TARGET]].sample(frac=1.0, random_state=1)
    return {
        "normal_unlabelled": write_table(normal.drop(columns=[TARGET]), folder / "normal.csv"),
        "normal_labelled": write_table(normal, folder / "normal_labelled.csv"),
        "drifted_unlabelled": write_table(drifted.drop(columns=[TARGET]), folder / "drifted.csv"),
        "drifted_labels": write_table(labels, folder / "drifted_labels.csv"),
    }


def _events(root: Path, kind: str | None = None) -> list[dict]:
    return EventLog(root / ".halfcost" / "events.jsonl").read(kinds=kind)


def _batch_data_files(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "data" / "batches").iterdir() if p.suffix == ".csv")


@pytest.mark.slow  # uses the trained project (one real `dvc repro`)
def test_first_champion_records_the_data_version(trained):
    pointer = json.loads((trained / ".halfcost" / "champion.json").read_text())
    assert pointer["version"] == "v0001"
    lock = yaml.safe_load((trained / "dvc.lock").read_text())
    prepared = next(o for o in lock["stages"]["prepare"]["outs"] if o["path"] == "data/prepared")
    assert pointer["data_version"] == prepared["md5"]
    assert pointer["scores"]["challenger_holdout"] >= pointer["scores"]["target"]
    assert (trained / ".halfcost" / "champions" / "v0001" / "model" / "meta.json").is_file()
    assert (trained / ".halfcost" / "champions" / "v0001" / "profile" / "profile.json").is_file()
    kinds = [e["kind"] for e in _events(trained)]
    assert kinds == ["retrain_started", "retrain", "promotion"]


@pytest.mark.slow  # uses the trained project (one real `dvc repro`)
def test_no_drift_batch_does_not_retrain(project, batches, tmp_path):
    before = (project / ".halfcost" / "champion.json").read_bytes()
    result = watch_batch(
        batches["normal_unlabelled"], project=project, report_dir=tmp_path / "check"
    )
    assert result.outcome == "no_alert"
    assert not result.retrained
    assert [e["kind"] for e in result.events] == ["check"]
    assert result.events[0]["decision"] == "no_drift"
    assert (project / ".halfcost" / "champion.json").read_bytes() == before
    assert _batch_data_files(project) == []
    saved = json.loads((tmp_path / "check" / "drift.json").read_text())
    assert saved["share_drifted"] == result.drift["share_drifted"]
    assert (tmp_path / "check" / "drift.html").is_file()


@pytest.mark.slow  # uses the trained project (one real `dvc repro`)
def test_watch_records_its_events_and_models_in_the_registry(project, batches, cli, tmp_path):
    db = f"sqlite:///{tmp_path / 'registry.db'}"
    proc = cli(
        [
            "drift",
            "watch",
            "--batch",
            str(batches["normal_unlabelled"]),
            "--project",
            str(project),
            "--db",
            db,
            "--team",
            "growth",
            "--registry-project",
            "churn",
        ]
    )
    assert proc.returncode == 0, proc.stderr
    assert "registry:" in proc.stderr
    engine = sa.create_engine(db)
    with engine.connect() as conn:
        projects = conn.execute(sa.text("SELECT name FROM projects")).scalars().all()
        models = conn.execute(sa.text("SELECT count(*) FROM models")).scalar_one()
    engine.dispose()
    assert projects == ["churn"]
    assert models >= 1  # the champion v0001 trained by the fixture


@pytest.mark.slow  # uses the trained project (one real `dvc repro`)
def test_drift_without_labels_alerts_but_cannot_retrain(project, batches):
    result = watch_batch(batches["drifted_unlabelled"], project=project)
    assert result.outcome == "retrain_skipped"
    assert "--labels" in result.reason
    assert [e["kind"] for e in result.events] == ["check", "alert", "refusal"]
    assert "plan" in result.events[1]["reason"]  # names a drifted column
    assert ChampionStore(Project(project)).current_version() == "v0001"
    # the check's drift.html sits next to its event, Evidently's bundle shared, size-capped
    from halfcost.drift import _html

    page = Path(result.events[0]["details"]["report_html"])
    assert page.name == "drift.html" and page.parent.parent.name == "reports"
    bundle = next((page.parent.parent / _html.ASSETS_DIR).glob("evidently-*.js"))
    assert f'<script src="../{_html.ASSETS_DIR}/{bundle.name}">' in page.read_text()
    assert page.stat().st_size <= _html.DEFAULT_MAX_HTML_BYTES < bundle.stat().st_size


@pytest.mark.slow
def test_drifted_batch_retrains_and_promotes(project, batches, cli):
    proc = cli(
        [
            "drift",
            "watch",
            "--batch",
            str(batches["drifted_unlabelled"]),
            "--labels",
            str(batches["drifted_labels"]),
            "--project",
            str(project),
            "--json",
        ]
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["outcome"] == "promoted", result["reason"]
    assert result["champion"] == "v0002"
    kinds = [e["kind"] for e in result["events"]]
    assert kinds == ["check", "alert", "retrain_started", "retrain", "promotion"]
    promotion = result["events"][-1]
    assert promotion["champion"] == "v0002"
    assert "challenger" in promotion["reason"] and "margin" in promotion["reason"]
    assert promotion["scores"]["challenger_holdout"] >= promotion["scores"]["target"]
    # the promotion names the data it was trained on: the new dvc.lock version
    pointer = json.loads((project / ".halfcost" / "champion.json").read_text())
    assert pointer["version"] == "v0002" and pointer["previous"] == "v0001"
    assert pointer["data_version"] == Project(project).data_version()
    first = json.loads(
        (project / ".halfcost" / "champions" / "v0001" / "champion.json").read_text()
    )
    assert pointer["data_version"] != first["data_version"]
    # the labelled batch is now DVC-tracked training data
    (added,) = _batch_data_files(project)
    assert (project / "data" / "batches" / f"{added}.dvc").is_file()
    assert len(pd.read_csv(project / "data" / "batches" / added)) == 4000
    # and the decision is explained by `drift history`
    history = cli(["drift", "history", "--project", str(project)])
    assert history.returncode == 0
    assert "promotion" in history.stdout and "v0002" in history.stdout
    assert "drifted" in history.stdout


@pytest.mark.slow
def test_worse_challenger_is_refused_and_champion_kept(project, batches, edit_params):
    # a retrain configured to drop every informative column gives a clearly worse model
    edit_params(project, search={"drop": INFORMATIVE, "min_score": 0.3})
    champion_dir = project / ".halfcost" / "champions" / "v0001"
    before = (project / ".halfcost" / "champion.json").read_bytes()
    model_before = (champion_dir / "model" / "meta.json").read_bytes()
    result = watch_batch(batches["normal_labelled"], project=project, force=True)
    assert result.outcome == "refused", result.reason
    assert "worse than the champion" in result.reason
    assert result.scores["challenger_holdout"] < result.scores["champion_holdout"] - 0.01
    assert (project / ".halfcost" / "champion.json").read_bytes() == before
    assert (champion_dir / "model" / "meta.json").read_bytes() == model_before
    assert ChampionStore(Project(project)).versions() == ["v0001"]
    refusal = _events(project, "refusal")[-1]
    assert refusal["decision"] == "champion_kept" and "worse" in refusal["reason"]
    # the batch left the training data, and is kept aside rather than lost
    assert _batch_data_files(project) == []
    assert (project / refusal["details"]["set_aside"]).is_file()


@pytest.mark.slow  # uses the trained project (one real `dvc repro`)
def test_failing_dvc_repro_keeps_champion_and_training_data(project, batches, edit_params):
    edit_params(project, data={"demo_rows": "lots"})  # the prepare stage will fail
    before = (project / ".halfcost" / "champion.json").read_bytes()
    result = watch_batch(batches["normal_labelled"], project=project, force=True)
    assert result.outcome == "retrain_failed"
    assert "`dvc repro` exited with status" in result.reason
    failed = _events(project, "retrain_failed")[-1]
    assert "demo_rows" in failed["details"]["log_tail"]
    assert (project / ".halfcost" / "champion.json").read_bytes() == before
    assert _batch_data_files(project) == []
    assert not list((project / "data" / "batches").glob("*.dvc"))
    assert (project / failed["details"]["set_aside"]).is_file()


@pytest.mark.slow  # uses the trained project (one real `dvc repro`)
def test_a_held_lock_makes_a_second_watch_exit_clearly(project, batches, cli):
    with project_lock(Project(project)):
        proc = cli(
            [
                "drift",
                "watch",
                "--batch",
                str(batches["normal_unlabelled"]),
                "--project",
                str(project),
                "--wait",
                "0.5",
            ]
        )
    assert proc.returncode == 4
    assert "another `halfcost drift watch`" in proc.stderr and "--wait" in proc.stderr
    assert len(_events(project)) == 3  # only the first champion's events


def _processes_in(root: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")).resolve() == root.resolve():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.slow
def test_killed_retrain_and_concurrent_watch(project, batches, halfcost_exe, cli):
    """Two watches at once: the second exits with a clear message; then the first is killed."""
    before = (project / ".halfcost" / "champion.json").read_bytes()
    first = subprocess.Popen(
        [
            *halfcost_exe,
            "drift",
            "watch",
            "--batch",
            str(batches["normal_labelled"]),
            "--project",
            str(project),
            "--force",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        while len(_events(project, "retrain_started")) < 2:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the retrain never started"
            time.sleep(0.3)
        second = cli(
            [
                "drift",
                "watch",
                "--batch",
                str(batches["normal_labelled"]),
                "--project",
                str(project),
                "--force",
            ]
        )
        assert second.returncode == 4, second.stderr
        assert "another `halfcost drift watch`" in second.stderr
        assert first.poll() is None  # the first is still retraining
        first.send_signal(signal.SIGTERM)
        _, stderr = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 130, stderr
    assert len(_events(project, "retrain_started")) == 2  # the first champion's and ours
    failed = _events(project, "retrain_failed")[-1]
    assert "interrupted" in failed["reason"]
    assert (project / ".halfcost" / "champion.json").read_bytes() == before
    assert _batch_data_files(project) == []
    assert _processes_in(project) == []  # `dvc repro` and its stage were stopped too


def test_labels_align_by_id_or_by_row_order():
    batch = make_customers(20, seed=3).drop(columns=[TARGET])
    labels = make_customers(20, seed=3)[[ID_COLUMN, TARGET]]
    shuffled = labels.sample(frac=1.0, random_state=0)
    by_id = attach_labels(batch, shuffled, target=TARGET)
    assert by_id[TARGET].tolist() == labels[TARGET].tolist()
    by_order = attach_labels(batch, labels[[TARGET]], target=TARGET)
    assert by_order[TARGET].tolist() == labels[TARGET].tolist()
    with pytest.raises(BadInputError, match="row order"):
        attach_labels(batch, labels[[TARGET]].head(5), target=TARGET)
    with pytest.raises(BadInputError, match="no label"):
        attach_labels(batch, shuffled.head(15), target=TARGET)
    with pytest.raises(BadInputError, match="repeat"):
        attach_labels(batch, pd.concat([labels, labels]), target=TARGET)
    with pytest.raises(BadInputError, match="no target column"):
        attach_labels(batch, labels[[ID_COLUMN]], target=TARGET)


def _files_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _search_running_in(root: Path) -> bool:
    """True when a `halfcost search` (the pipeline's search stage) works in ``root``."""
    for pid in _processes_in(root):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"search" in argv and any(a.endswith(b"halfcost") for a in argv):
            return True
    return False


@pytest.mark.slow
def test_a_sigkilled_watch_is_undone_by_the_next_one(
    project, batches, halfcost_exe, cli, tmp_path, edit_params
):
    """kill -9 of the watch's whole process group during `dvc repro`, then watch again."""
    edit_params(project, search={"budget_s": 20})  # the orphaned search outlives the kill
    # the search is timed, so its challenger varies with the machine's load: a wide margin
    # makes this test about the recovery, not about which challenger a busy machine finds
    edit_params(project, promotion={"margin": 1.0})
    champion_dir = project / ".halfcost" / "champions" / "v0001"
    champion_before = _files_bytes(champion_dir)
    pointer_before = (project / ".halfcost" / "champion.json").read_bytes()
    batch = str(batches["normal_labelled"])
    argv = [*halfcost_exe, "drift", "watch", "--batch", batch, "--project", str(project)]
    with open(tmp_path / "killed.err", "w") as err:
        watch = subprocess.Popen(
            [*argv, "--force"], stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 240
        while not _search_running_in(project):
            assert watch.poll() is None, (tmp_path / "killed.err").read_text()
            assert time.monotonic() < deadline, "the search stage never started"
            time.sleep(0.2)
        os.killpg(watch.pid, signal.SIGKILL)  # the watch's own group: dvc runs in its own
    finally:
        if watch.poll() is None:
            os.killpg(watch.pid, signal.SIGKILL)
        watch.wait(timeout=30)
    orphans = _processes_in(project)
    assert orphans, "dvc repro runs in its own session: it outlives the watch's group"
    (added,) = _batch_data_files(project)  # the killed run's batch is in the training data
    assert (project / ".halfcost" / "champion.json").read_bytes() == pointer_before
    assert len(_events(project, "retrain_started")) == 2  # the first champion's and the killed

    edit_params(project, search={"budget_s": BUDGET_S})  # the retry needs no long search
    again = cli([*argv[1:], "--force", "--json"])
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    kinds = [e["kind"] for e in result["events"]]
    assert kinds[0] == "retrain_failed" and kinds[1] == "check", kinds
    undone = result["events"][0]
    assert undone["reason"] == "interrupted (found on restart)"
    assert undone["details"]["set_aside"] == f".halfcost/set_aside/{added}"
    assert (project / undone["details"]["set_aside"]).is_file()
    stopped = undone["details"]["stopped_processes"]  # the orphan was stopped first
    assert stopped and not any(Path(f"/proc/{pid}/cwd").exists() for pid in stopped)
    assert result["outcome"] == "promoted", result["reason"]
    assert kinds.count("retrain_started") == 1 and kinds[-1] == "promotion"
    assert _processes_in(project) == []  # no orphan of the killed run is left
    assert _batch_data_files(project) == [added]  # the batch once, under its content's name
    gitignore = (project / "data" / "batches" / ".gitignore").read_text().splitlines()
    assert gitignore.count(f"/{added}") == 1
    assert _files_bytes(champion_dir) == champion_before  # v0001 never changed
    # the same batch again is not trained on twice
    third = watch_batch(batch, project=project, force=True)
    assert third.outcome == "retrain_skipped" and "already in the training data" in third.reason
    assert _batch_data_files(project) == [added]
    assert ChampionStore(Project(project)).current_version() == "v0002"


@pytest.mark.slow
def test_a_torn_event_log_is_repaired_and_read_by_watch_history_and_ingest(
    project, batches, cli, tmp_path
):
    log = project / ".halfcost" / "events.jsonl"
    with log.open("a") as handle:
        handle.write('{"event_id": "x", "kind": "che')  # a writer killed mid-line
    argv = ["drift", "watch", "--batch", str(batches["normal_unlabelled"]), "--project"]
    for _ in range(2):
        proc = cli([*argv, str(project)])
        assert proc.returncode == 0, proc.stderr
    kinds = [e["kind"] for e in _events(project)]
    assert kinds[-3:] == ["log_repaired", "check", "check"], kinds
    assert (project / ".halfcost" / "events.jsonl.torn").read_text() == (
        '{"event_id": "x", "kind": "che\n'
    )
    history = cli(["drift", "history", "--project", str(project), "--all"])
    assert history.returncode == 0, history.stderr
    db = f"sqlite:///{tmp_path / 'registry.db'}"
    ingest = cli(
        ["registry", "ingest", str(log), "--db", db, "--project", "churn", "--team", "growth"]
    )
    assert ingest.returncode == 0, ingest.stderr
    engine = sa.create_engine(db)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM drift_events")).scalar_one()
    engine.dispose()
    assert stored == len(kinds)


def test_dvc_errors_are_read_whole():
    from halfcost.drift._watch import ReproOutcome, dvc_error

    wrapped = (
        "Running stage 'prepare':\n> halfcost drift prepare\n"
        "ERROR: Unable to acquire lock. Most likely another DVC process is running or\n"
        "was terminated abruptly. Check the page <https://dvc.org/doc/user-guide/\n"
        "troubleshooting#lock-issue> for other possible reasons and to learn how to resolve this.\n"
    )
    message = dvc_error(wrapped)
    assert message.startswith("Unable to acquire lock.")
    assert message.endswith("to learn how to resolve this.")
    outcome = ReproOutcome(255, 1.0, Path("repro.log"), wrapped)
    assert outcome.describe().endswith("to learn how to resolve this.")
    assert dvc_error("all good\n") == ""


@pytest.mark.slow  # uses the trained project (one real `dvc repro`)
def test_text_in_a_numeric_column_stops_the_watch_unless_asked(project, batches, cli, tmp_path):
    bad = pd.read_csv(batches["normal_labelled"]).assign(monthly_spend="n/a yet")
    path = write_table(bad, tmp_path / "bad.csv")
    before = (project / ".halfcost" / "events.jsonl").read_bytes()
    proc = cli(["drift", "watch", "--batch", str(path), "--project", str(project)])
    assert proc.returncode == 2, proc.stderr
    assert "'monthly_spend' (1500 of 1500 values are not numbers" in proc.stderr
    assert "--on-bad-values" in proc.stderr
    assert (project / ".halfcost" / "events.jsonl").read_bytes() == before  # nothing written
    result = watch_batch(path, project=project, on_bad_values="null")
    (check,) = [e for e in result.events if e["kind"] == "check"]
    assert check["details"]["bad_values"] == {
        "replaced_by": "null",
        "cells": {"monthly_spend": 1500},
    }
