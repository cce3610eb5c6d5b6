"""Several worker processes on one study, on real PostgreSQL, and the faults they survive.

Every test runs real `halfcost search --workers 2` processes: two workers finishing a study,
one of them killed with SIGKILL mid-trial, every process killed and the command rerun,
and the database going away mid-search (on a private cluster the test starts itself).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from halfcost.automl._search_study import TrialLimit
from halfcost.automl._trial_figures import trial_figures

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def table(tmp_path: Path) -> Path:
    """300 rows, a clear signal: accuracy 0.7 is met quickly by most trials."""
    rng = np.random.default_rng(3)
    n = 300
    x = rng.normal(size=(n, 4))
    y = np.where(x[:, 0] + 0.5 * x[:, 1] + rng.normal(0, 0.5, n) > 0, "yes", "no")
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"]).assign(label=y)
    path = tmp_path / "table.csv"
    frame.to_csv(path, index=False)
    return path


def _search_args(table: Path, out: Path, storage: str, study: str, *extra: str) -> list[str]:
    return [
        "search", str(table), "--target", "label", "--min-score", "0.7", "--workers", "2",
        "--storage", storage, "--study", study, "--out", str(out), "--cv", "3", *extra,
    ]  # fmt: skip


def _states(storage: str, study: str) -> Counter:
    trials = optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)
    return Counter(t.state for t in trials)


def _wait_for(condition, timeout_s: float = 480.0, what: str = "condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _start(halfcost_exe, args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [*halfcost_exe, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the test can kill all of it
    )


def _completed(storage: str, study: str, at_least: int):
    def check():
        try:
            return _states(storage, study)[TrialState.COMPLETE] >= at_least
        except KeyError:  # the study is not created yet
            return False

    return check


def test_two_workers_finish_a_study_and_a_worker_on_other_data_refuses(
    cli, table, tmp_path, postgres_database
):
    with postgres_database() as url:
        study = f"two-{uuid.uuid4().hex[:8]}"
        out = tmp_path / "run"
        done = cli(_search_args(table, out, url, study, "--n-trials", "12", "--budget-s", "600"))
        assert done.returncode == 0, done.stderr
        report = json.loads((out / "report.json").read_text())
        assert report["met"] is True
        assert report["n_trials_this_run"] == 12  # the trial limit holds across workers
        trials = optuna.load_study(study_name=study, storage=url).get_trials()
        ran = [t for t in trials if "worker" in t.user_attrs]
        assert len(ran) == 12
        assert len({t.user_attrs["worker"] for t in ran}) == 2  # both workers ran trials
        assert not [t for t in trials if t.state == TrialState.RUNNING]
        assert (out / "model" / "pipeline.skops").is_file()

        other = tmp_path / "other.csv"
        other.write_text(table.read_text().replace("yes", "oui"))
        refused = cli(["worker", "--storage", url, "--study", study, "--data", str(other)])
        assert refused.returncode == 2
        assert "is not the study's data" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1


def test_a_worker_killed_mid_trial_fails_its_trial_and_the_other_finishes(
    halfcost_exe, table, tmp_path, postgres_database
):
    with postgres_database() as url:
        study = f"kill-{uuid.uuid4().hex[:8]}"
        out = tmp_path / "run"
        # a trial limit, not a time budget: the work is the same however busy the machine
        limit = ("--n-trials", "10", "--budget-s", "1800")
        search = _start(halfcost_exe, _search_args(table, out, url, study, *limit))
        try:
            _wait_for(_completed(url, study, 1), what="a first completed trial")

            def frozen_mid_trial():
                """A worker stopped (SIGSTOP) while its trial is still RUNNING, and that trial.

                Stopped first, then read: a trial that finished between the read and
                the kill would not be the one killed mid-trial (seen under heavy load).
                """
                loaded = optuna.load_study(study_name=study, storage=url)
                live = loaded.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
                trial = next((t for t in live if "worker" in t.user_attrs), None)
                if trial is None:
                    return None
                pid = int(trial.user_attrs["worker"].rsplit(":", 1)[1])
                os.kill(pid, signal.SIGSTOP)
                if loaded.get_trials(deepcopy=False)[trial.number].state == TrialState.RUNNING:
                    return trial, pid
                os.kill(pid, signal.SIGCONT)
                return None

            victim, pid = _wait_for(frozen_mid_trial, what="a worker in a running trial")
            os.kill(pid, signal.SIGKILL)
            _, stderr = search.communicate(timeout=300)
        finally:
            if search.poll() is None:
                os.killpg(search.pid, signal.SIGKILL)
        assert search.returncode == 0, stderr
        trials = optuna.load_study(study_name=study, storage=url).get_trials()
        assert trials[victim.number].state == TrialState.FAIL
        assert not [t for t in trials if t.state == TrialState.RUNNING]
        later = [t for t in trials if t.number > victim.number and t.state.is_finished()]
        assert later, "the surviving worker ran no trial after the kill"
        assert json.loads((out / "report.json").read_text())["met"] is True


def test_rerun_after_every_process_died_resumes_the_study(
    halfcost_exe, cli, table, tmp_path, postgres_database
):
    with postgres_database() as url:
        study = f"resume-{uuid.uuid4().hex[:8]}"
        out = tmp_path / "run"
        args = _search_args(table, out, url, study, "--budget-s", "1800")
        search = _start(halfcost_exe, [*args, "--n-trials", "30"])
        try:
            _wait_for(_completed(url, study, 2), what="two completed trials")
        finally:
            os.killpg(search.pid, signal.SIGKILL)
            search.wait()
        first = optuna.load_study(study_name=study, storage=url).get_trials()
        assert not (out / "report.json").exists()

        done = cli([*args, "--n-trials", "4"])  # the same study: n_trials is per run
        assert done.returncode == 0, done.stderr
        trials = optuna.load_study(study_name=study, storage=url).get_trials()
        report = json.loads((out / "report.json").read_text())
        assert report["n_trials_this_run"] == 4
        assert report["n_trials"] == 4 + sum(t.state != TrialState.WAITING for t in first)
        for before in first:  # finished trials kept as they were, dead ones failed
            if before.state == TrialState.COMPLETE:
                assert trials[before.number].state == TrialState.COMPLETE
                assert trials[before.number].params == before.params
        assert not [t for t in trials if t.state == TrialState.RUNNING]
        enqueued = [
            json.dumps(t.system_attrs["fixed_params"], sort_keys=True)
            for t in trials  # a point a worker drew past the limit never ran: it went back
            if "fixed_params" in t.system_attrs
            and trial_figures(t).get("pruned") != TrialLimit.REASON
        ]
        assert len(enqueued) == len(set(enqueued)), "a starting point was enqueued twice"


def test_database_going_away_is_a_one_line_error_then_the_study_resumes(
    halfcost_exe, cli, table, tmp_path, private_postgres
):
    url = private_postgres.url()
    study = f"gone-{uuid.uuid4().hex[:8]}"
    out = tmp_path / "run"
    args = _search_args(table, out, url, study, "--budget-s", "1800")
    search = _start(halfcost_exe, [*args, "--n-trials", "40"])
    try:
        _wait_for(_completed(url, study, 2), what="two completed trials")
        private_postgres.stop()
        _, stderr = search.communicate(timeout=180)
    finally:
        if search.poll() is None:
            os.killpg(search.pid, signal.SIGKILL)
    assert search.returncode == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "went away" in lines[0], stderr
    assert "rerun" in lines[0]
    assert "127.0.0.1" in lines[0] and "_CachedStorage" not in lines[0]  # where, as a URL
    assert not (out / "report.json").exists() and not (out / "model").exists()

    private_postgres.start()
    done = cli([*args, "--n-trials", "3"])
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["n_trials"] - report["n_trials_this_run"] >= 2  # the first run's trials
