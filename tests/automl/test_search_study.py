"""The study's shared budget, trial limit and fingerprint (no worker processes here)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from halfcost.automl import CheapestModelSearch, SearchWarning
from halfcost.automl._search_study import (
    CLOCK_EVERY_S,
    SPENT_ATTR,
    AfterTrial,
    RunClock,
    TrialLimit,
    begin_run,
)
from halfcost.automl._trial_figures import trial_figures, write_figures
from halfcost.errors import BadInputError


def _study() -> optuna.Study:
    return optuna.create_study(direction="minimize")


def _spend(study: optuna.Study, seconds: float) -> None:
    """What the run clock records after a trial: this run has spent ``seconds``."""
    run = study.user_attrs["halfcost_budget"]["run_started_at"]
    study.set_user_attr(SPENT_ATTR, {"run_started_at": run, "spent_s": seconds})


def test_a_resumed_study_spends_only_what_is_left_and_a_new_budget_adds_to_it():
    study = _study()
    first = begin_run(study, 60.0, None)
    assert first.spent_s == 0 and 59 < first.remaining_s() <= 60
    _spend(study, 45.0)  # the run died after 45 s
    again = begin_run(study, 60.0, None)  # the same command: the 15 s left
    assert again.spent_s == 45.0 and 14 < again.remaining_s() <= 15
    _spend(study, 50.0)
    more = begin_run(study, 30.0, None)  # another budget: 30 s on top of the 10 left
    assert more.budget_s == 90.0 and 39 < more.remaining_s() <= 40
    _spend(study, 95.0)
    assert begin_run(study, 90.0, None).remaining_s() == 0


def test_the_run_clock_writes_at_most_every_interval_and_when_flushed(monkeypatch):
    study = _study()
    budget = begin_run(study, 60.0, None)
    writes = []
    real = study.set_user_attr
    monkeypatch.setattr(study, "set_user_attr", lambda k, v: (writes.append(v), real(k, v)))
    clock = RunClock(budget, every_s=3600.0)
    for _ in range(3):  # three trials within the hour: the first one writes
        clock(study, None)
    assert len(writes) == 1
    clock.flush(study)  # the run ends
    assert len(writes) == 2 and study.user_attrs[SPENT_ATTR] == writes[-1]
    assert writes[-1]["spent_s"] >= writes[0]["spent_s"] >= 0
    assert RunClock(budget).every_s == CLOCK_EVERY_S


def test_after_trial_calls_back_where_optuna_would_with_the_trial_as_it_ends():
    study = _study()
    seen: list[tuple] = []

    def record(study, trial):
        seen.append((trial.number, trial.state, trial.value, trial.params, trial_figures(trial)))
        if trial.number == 3:
            study.stop()  # as a patience rule does: this trial is the run's last

    def objective(trial):
        x = trial.suggest_int("x", 0, 9)
        write_figures(trial, {"cv_score": x / 10})
        outcome = ("value", "pruned", "caught", "value", "never")[trial.number]
        if outcome == "pruned":
            raise optuna.TrialPruned()
        if outcome == "caught":
            raise ValueError("an estimator refused its parameters")
        return float(x)

    study.optimize(AfterTrial(objective, [record], (ValueError,)), n_trials=5, catch=(ValueError,))
    assert [(n, state) for n, state, *_ in seen] == [
        (0, TrialState.COMPLETE),
        (1, TrialState.PRUNED),
        (2, TrialState.FAIL),
        (3, TrialState.COMPLETE),
    ]
    stored = study.get_trials()
    assert len(stored) == 4  # stopped after trial 3
    for (number, state, value, params, figures), trial in zip(seen, stored, strict=True):
        assert (number, state, value, params) == (
            trial.number,
            trial.state,
            trial.value,
            trial.params,
        )
        assert figures == trial_figures(trial)

    def uncaught(trial):
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        study.optimize(AfterTrial(uncaught, [record], (ValueError,)), n_trials=1)
    assert len(seen) == 4  # an error ending the run calls no callback, as in Optuna


def test_after_trial_fails_a_trial_whose_value_optuna_would_refuse():
    study = _study()
    states = []
    study.optimize(
        AfterTrial(lambda trial: float("nan"), [lambda s, t: states.append(t.state)], ()),
        n_trials=1,
    )
    assert states == [TrialState.FAIL] == [study.trials[0].state]


def test_the_trial_limit_counts_this_runs_trials_across_workers():
    study = _study()
    for x in (1.0, 1.5, 0.5):
        study.enqueue_trial({"x": x})
    budget = begin_run(study, None, 2)  # queued trials are this run's to run
    assert budget.trial_limit == 2 and budget.remaining_s() is None

    def objective(trial):
        return trial.suggest_float("x", 0, 2)

    study.optimize(TrialLimit(objective, budget.trial_limit), n_trials=10)
    states = [t.state for t in study.trials]
    assert states[:2] == [optuna.trial.TrialState.COMPLETE] * 2
    assert trial_figures(study.trials[2])["pruned"] == TrialLimit.REASON
    # the worker stopped at the first trial past the limit, and put back the starting
    # point it had taken for it
    assert len(study.trials) == 4
    assert study.trials[3].state == optuna.trial.TrialState.WAITING
    assert study.trials[3].system_attrs["fixed_params"] == {"x": 0.5}
    assert study.trials[0].user_attrs["worker"].endswith(f":{os.getpid()}")


def test_another_target_starts_a_new_study_and_says_so(customers, tmp_path):
    x, y = customers.drop(columns=["churned"]), customers["churned"]
    args = {"n_trials": 1, "out_dir": str(tmp_path), "budget_s": None}
    first = CheapestModelSearch(min_score=0.6, **args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SearchWarning)
        first.fit(x, y)
    second = CheapestModelSearch(min_score=0.65, **args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        second.fit(x, y)
    assert second.study_.study_name != first.study_.study_name
    said = [str(w.message) for w in caught if issubclass(w.category, SearchWarning)]
    assert any("started a new study" in m and "min_score=0.6 (now 0.65)" in m for m in said)
    assert len(second.study_.trials) >= 1  # its own trials, none of the old target's
    named = {**args, "study_name": first.study_.study_name}
    with pytest.raises(BadInputError) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore", SearchWarning)
        CheapestModelSearch(min_score=0.65, **named).fit(x, y)
    assert "min_score=0.6 (now 0.65)" in str(info.value)


@pytest.mark.parametrize(
    ("settings", "param"),
    [
        ({}, "storage"),  # in memory: no other process reaches it
        ({"storage": optuna.storages.InMemoryStorage()}, "storage"),
        ({"out_dir": "x", "sampler": optuna.samplers.RandomSampler()}, "sampler"),
        ({"out_dir": "x"}, "source"),  # workers read the file the rows came from
    ],
)
def test_several_workers_need_what_other_processes_can_reach(customers, settings, param):
    search = CheapestModelSearch(min_score=0.6, n_trials=1, n_workers=2, **settings)
    with pytest.raises(BadInputError) as info:
        search.fit(customers.drop(columns=["churned"]), customers["churned"])
    assert info.value.param == param


def test_waiting_for_workers_polls_the_progress_bar_and_survives_a_failing_poll():
    from halfcost.automl._search_worker import _wait_all

    def sleeper(seconds: float, code: int) -> subprocess.Popen:
        script = f"import sys, time; time.sleep({seconds}); sys.exit({code})"
        return subprocess.Popen([sys.executable, "-c", script])

    polls: list[float] = []
    codes = _wait_all([sleeper(1.0, 0), sleeper(0.2, 3)], lambda: polls.append(1.0), 0.1)
    assert codes == [0, 3]
    assert len(polls) >= 3  # polled while the slower one ran

    def broken() -> None:
        raise ConnectionError("the storage went away")

    assert _wait_all([sleeper(0.3, 0)], broken, 0.1) == [0]  # waited all the same


def test_workers_never_handed_a_study_are_stopped_and_leave_nothing():
    from halfcost.automl._search_worker import WorkerProcesses

    workers = WorkerProcesses("sqlite:///unused.db", 2)  # the search failed before its study
    processes = list(workers._processes)
    workers.close()
    assert all(p.returncode is not None for p in processes)  # none left running
    assert not Path(workers._tmp.name).exists()
    assert not Path("unused.db").exists()  # they never opened the storage


def test_the_progress_bar_counts_this_runs_trials_when_polled():
    from halfcost.automl._objective import Progress

    study = _study()
    for value in (3.0, 2.0, 1.0):
        study.enqueue_trial({})
        study.optimize(lambda trial, v=value: v, n_trials=1)
    bar = Progress(None, 5, enabled=True, trials_before=1)
    bar(study)  # a poll, as the coordinating process makes while workers run
    assert bar._bar.n == 2
    assert "trials=3" in bar._bar.postfix
    bar.close()


def test_the_progress_bar_counts_a_trial_it_is_given_before_the_study_records_it():
    from halfcost.automl._objective import Progress

    study = _study()
    study.optimize(lambda trial: 2.0, n_trials=1)
    live = study.ask()  # still RUNNING in the storage, as when AfterTrial calls back
    write_figures(live, {"latency_ms_per_1k": 0.5})
    ending = optuna.trial.create_trial(
        state=TrialState.COMPLETE, value=0.5, user_attrs=live.user_attrs
    )
    ending.number = live.number
    bar = Progress(None, 5, enabled=True)
    bar(study, ending)
    assert bar._bar.n == 2
    assert "trials=2" in bar._bar.postfix and "best feasible=0.5" in bar._bar.postfix
    bar.close()


def test_the_study_file_logs_ahead_and_is_whole_once_a_search_ends(customers, tmp_path):
    x, y = customers.drop(columns=["churned"]), customers["churned"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SearchWarning)
        CheapestModelSearch(min_score=0.6, n_trials=2, out_dir=str(tmp_path)).fit(x, y)
    assert not (tmp_path / "study.db-wal").exists()  # every connection closed: folded in
    connection = sqlite3.connect(tmp_path / "study.db")
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute("SELECT count(*) FROM trials").fetchone()[0] >= 2
    finally:
        connection.close()
