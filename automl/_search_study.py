"""The study several search processes share: its storage, what it records, its budget.

A study is the unit of work of the search, stored in an Optuna storage that every worker
can reach (SQLite for one machine, PostgreSQL or a journal file on shared disk for many).
Besides its trials it records, as user attributes, everything a worker on another host
needs to join it and check it works on the same problem: the settings, the data's path
and content hash, the column ranking, and the wall-clock budget with the time already
spent (so that a resumed study spends only what is left).

Killed workers: RDB storages (SQLite, PostgreSQL) record a heartbeat per running trial;
a trial whose heartbeat stops for :data:`GRACE_PERIOD_S` is failed by the next worker
that starts a trial (``optuna.storages.fail_stale_trials``), or by the coordinating
process before it reads the results. Journal storages have no heartbeat in Optuna 5.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import time
import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import optuna
from optuna.trial import TrialState

from halfcost.automl._trial_figures import PRUNED, write_figures
from halfcost.errors import BadInputError, StorageUnavailableError

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_S = 2
GRACE_PERIOD_S = 12  # a trial without a heartbeat this long belongs to a dead worker
JOURNAL_PREFIX = "journal:///"

# study user attributes
SETTINGS_ATTR = "halfcost_search"  # the settings a worker rebuilds the search from
DATA_ATTR = "halfcost_data"  # {"path", "sha256"} of the table the search reads
RANKING_ATTR = "halfcost_ranking"  # {"ranking": [...], "gain_shares": {...}}
BUDGET_ATTR = "halfcost_budget"  # see StudyBudget
SPENT_ATTR = "halfcost_spent"  # {"run_started_at", "spent_s"}: see RunClock
CLOCK_EVERY_S = 10.0  # RunClock writes the time spent at most this often
FINGERPRINT_ATTR = "fingerprint"
WORKER_ATTR = "worker"  # trial user attribute, written as a trial starts: who runs it
FIELDS_ATTR = "fingerprint_fields"  # the fields the fingerprint was made of (for messages)


def make_storage(storage: str | optuna.storages.BaseStorage | None) -> Any:
    """An Optuna storage with heartbeats for ``storage`` (URL, object, or None: in memory).

    URLs ``journal:///path/to/study.log`` open a journal file (``JournalFileBackend``,
    for a disk every worker mounts); other URLs open an ``RDBStorage`` with heartbeats.

    Raises:
        StorageUnavailableError: the database cannot be reached.
    """
    if storage is None or isinstance(storage, optuna.storages.BaseStorage):
        return storage
    if storage.startswith(JOURNAL_PREFIX):
        from optuna.storages.journal import JournalFileBackend

        path = "/" + storage.removeprefix(JOURNAL_PREFIX).lstrip("/")
        return optuna.storages.JournalStorage(JournalFileBackend(path))
    engine_kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if storage.startswith("sqlite"):
        engine_kwargs["connect_args"] = {"timeout": 30}  # several processes share the file
    elif storage.startswith("postgresql"):
        engine_kwargs["connect_args"] = {"connect_timeout": 5}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            rdb = optuna.storages.RDBStorage(
                storage,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=HEARTBEAT_INTERVAL_S,
                grace_period=GRACE_PERIOD_S,
            )
        if storage.startswith("sqlite"):
            _write_ahead_log(rdb.engine)
        return rdb
    except Exception as exc:  # SQLAlchemy/driver errors come in many types
        raise StorageUnavailableError(
            f"cannot open the study storage {storage_label(storage)!r} ({first_line(exc)}); "
            "check {param} and that the database is running.",
            param="storage",
        ) from exc


def _write_ahead_log(engine: Any) -> None:
    """SQLite study files in write-ahead-log mode, synced at checkpoints, not every commit.

    A trial makes some 25 small writes. In SQLite's default mode each commit waits for
    the disk twice; in WAL mode with ``synchronous=NORMAL`` it does not, which took a
    write from 3.5 ms to 1.4 ms here, and readers (other workers, the progress bar) no
    longer block writers. A process killed mid-write loses nothing committed; a power
    cut can lose the last commits, never the file. WAL needs every process on one host,
    as a SQLite study does anyway (several hosts share PostgreSQL or a journal file).
    Connections opened from now on get the settings: the pool is emptied once.
    """
    from sqlalchemy import event

    def on_connect(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # kept in the file for every later opener
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    event.listen(engine, "connect", on_connect)
    engine.dispose()


def storage_url(storage: Any) -> str | None:
    """The URL other processes open the same storage with (None: none they can open)."""
    if isinstance(storage, str):
        return storage
    url = getattr(storage, "url", None)
    if url is not None:
        return str(url)
    backend = getattr(storage, "_backend", None)
    path = getattr(backend, "_file_path", None)
    return f"{JOURNAL_PREFIX}{str(path).lstrip('/')}" if path is not None else None


def storage_label(storage: Any) -> str | None:
    """Where a study lives, fit for a report or a message: the URL without its password."""
    from optuna.storages._cached_storage import _CachedStorage

    if isinstance(storage, _CachedStorage):  # what a study holds: Optuna's cache around it
        storage = storage._backend
    url = storage if isinstance(storage, str) else getattr(storage, "url", None)
    if url is None:
        if storage is None or isinstance(storage, optuna.storages.InMemoryStorage):
            return None
        return storage_url(storage) or type(storage).__name__
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not an SQLAlchemy URL (a journal path, ...): shown as given
        return str(url)


def first_line(exc: BaseException) -> str:
    """An exception's first line, short enough for a one-line error."""
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip()
    return (text.splitlines()[0] if text else type(cause).__name__)[:200]


def storage_errors() -> tuple[type[BaseException], ...]:
    """The exception types that mean the study's storage went away."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    return (OperationalError, DBAPIError, ConnectionError)


def storage_cause(exc: BaseException) -> BaseException | None:
    """The storage error behind ``exc``, if any.

    Optuna 5 can mask a storage error raised while it finishes a trial with an
    ``UnboundLocalError`` of its own; the storage error is then in the exception's context.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, storage_errors()):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def storage_gone(storage: Any, exc: BaseException) -> StorageUnavailableError:
    """The one-line error for a storage that went away mid-search (resume once it is back)."""
    return StorageUnavailableError(
        f"the study storage {storage_label(storage)!r} went away ({first_line(exc)}); "
        "finished trials are kept: rerun the same command once it is back to resume.",
        param="storage",
    )


def settle(study: optuna.Study, *, max_wait_s: float = 3 * GRACE_PERIOD_S) -> int:
    """Wait until no trial is RUNNING: live ones finish, dead workers' ones are failed.

    Called once this process's workers are done: a trial still RUNNING then belongs to
    a remote worker (it finishes soon) or to a killed one (its heartbeat stopped, and
    ``fail_stale_trials`` fails it after the grace period).

    Returns:
        How many trials are still RUNNING after ``max_wait_s`` (0 normally).
    """
    deadline = time.monotonic() + max_wait_s
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
        _fail_orphans(study)
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if not running or time.monotonic() > deadline:
            return len(running)
        time.sleep(0.5)


def _fail_orphans(study: optuna.Study) -> None:
    """Fail RUNNING trials a worker took but never began (killed before its first heartbeat).

    Optuna's stale check only sees trials with a heartbeat. A live worker marks its trial
    (``worker``) a moment after taking it, so an unmarked trial older than the grace
    period belongs to a worker that died in between.
    """
    now = datetime.now()  # Optuna stores trial times as naive local time
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        started = trial.datetime_start
        if WORKER_ATTR in trial.user_attrs or started is None:
            continue
        if (now - started).total_seconds() > GRACE_PERIOD_S:
            with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
                # the storage's own API, by the frozen trial's id (no public accessor)
                study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)


@dataclass(frozen=True)
class StudyBudget:
    """The study's wall-clock budget, shared by every worker and every run.

    Attributes:
        budget_s: the study's total search time (None: no time limit).
        spent_s: search time spent by earlier runs.
        run_started_at: when this run started (epoch seconds, so other hosts agree,
            given clocks kept in sync by NTP).
        trial_limit: trials numbered at or above this are not run (this run's
            ``n_trials`` on top of the trials the study had; None: no limit).
    """

    budget_s: float | None
    spent_s: float
    run_started_at: float
    trial_limit: int | None

    @property
    def deadline_at(self) -> float | None:
        """When this run's search must end (epoch seconds), None without a time limit."""
        if self.budget_s is None:
            return None
        return self.run_started_at + max(0.0, self.budget_s - self.spent_s)

    def remaining_s(self) -> float | None:
        """Seconds left now (None: no time limit)."""
        deadline = self.deadline_at
        return None if deadline is None else max(0.0, deadline - time.time())

    def as_attr(self) -> dict[str, Any]:
        """The study user attribute storing it."""
        return {
            "budget_s": self.budget_s,
            "spent_s": self.spent_s,
            "run_started_at": self.run_started_at,
            "trial_limit": self.trial_limit,
        }

    @classmethod
    def read(cls, study: optuna.Study) -> StudyBudget | None:
        """The budget stored in ``study`` (None when no run ever started)."""
        stored = study.user_attrs.get(BUDGET_ATTR)
        if stored is None:
            return None
        return cls(
            budget_s=stored["budget_s"],
            spent_s=float(stored["spent_s"]),
            run_started_at=float(stored["run_started_at"]),
            trial_limit=stored["trial_limit"],
        )


def begin_run(study: optuna.Study, budget_s: float | None, n_trials: int | None) -> StudyBudget:
    """Start a run of ``study``: store its budget and trial limit; return them.

    The rule for a resumed study: a run given the same ``budget_s`` as stored spends what
    is left of it; a run given another ``budget_s`` gets that many seconds on top of what
    is left (the study's budget grows by ``budget_s``). Time spent is what earlier runs
    recorded (:class:`RunClock`: at most every 10 s after a trial, and at their end).
    """
    previous = StudyBudget.read(study)
    spent = 0.0 if previous is None else _spent_s(study, previous)
    total = budget_s
    if previous is not None and previous.budget_s is not None and budget_s is not None:
        same = abs(float(previous.budget_s) - float(budget_s)) < 1e-9
        total = float(previous.budget_s) if same else float(previous.budget_s) + float(budget_s)
    started = sum(t.state != TrialState.WAITING for t in study.get_trials(deepcopy=False))
    limit = None if n_trials is None else started + int(n_trials)
    budget = StudyBudget(
        budget_s=None if total is None else float(total),
        spent_s=spent,
        run_started_at=time.time(),
        trial_limit=limit,
    )
    study.set_user_attr(BUDGET_ATTR, budget.as_attr())
    if previous is not None and budget.budget_s is not None:
        logger.info(
            "resuming study %s: %.1f s of %.1f s spent", study.study_name, spent, budget.budget_s
        )
    return budget


def _spent_s(study: optuna.Study, previous: StudyBudget) -> float:
    recorded = study.user_attrs.get(SPENT_ATTR)
    if recorded is None or float(recorded["run_started_at"]) != previous.run_started_at:
        return previous.spent_s
    return float(recorded["spent_s"])


class RunClock:
    """Study callback: records the time spent so far, so a killed run's time counts.

    It writes after a finished trial at most every ``every_s`` seconds, and once more
    through :meth:`flush` when the run ends. A write is a storage transaction (about
    3 ms on PostgreSQL), and after every trial it was one of a trial's ~24 storage
    calls; a killed run now leaves up to ``every_s`` seconds (and its running trial)
    uncounted, which a resumed study spends again.
    """

    def __init__(self, budget: StudyBudget, every_s: float = CLOCK_EVERY_S) -> None:
        self.budget = budget
        self.every_s = float(every_s)
        self._written_at = -math.inf

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if time.monotonic() - self._written_at >= self.every_s:
            self.flush(study)

    def flush(self, study: optuna.Study) -> None:
        """Record the time spent until now."""
        spent = self.budget.spent_s + (time.time() - self.budget.run_started_at)
        study.set_user_attr(
            SPENT_ATTR, {"run_started_at": self.budget.run_started_at, "spent_s": spent}
        )
        self._written_at = time.monotonic()


class TrialLimit:
    """Wraps the objective: trials numbered beyond the run's limit stop their worker.

    Trial numbers are given out by the storage, one per trial, so with several workers
    exactly the trials below the limit run (each worker's ``n_trials`` could not say so).
    A worker drawing a number at or above it records a pruned trial and stops.
    """

    REASON = "beyond n_trials"

    def __init__(self, objective: Any, trial_limit: int | None) -> None:
        self.objective = objective
        self.trial_limit = trial_limit

    def __call__(self, trial: optuna.Trial) -> float:
        if self.trial_limit is not None and trial.number >= self.trial_limit:
            trial.study.stop()
            write_figures(trial, {PRUNED: self.REASON})
            self._requeue(trial)
            raise optuna.TrialPruned(self.REASON)
        trial.set_user_attr(WORKER_ATTR, f"{socket.gethostname()}:{os.getpid()}")
        return self.objective(trial)

    @staticmethod
    def _requeue(trial: optuna.Trial) -> None:
        """Put a queued starting point this worker took past the limit back in the queue."""
        live = trial.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        frozen = next((t for t in live if t.number == trial.number), None)
        fixed = None if frozen is None else frozen.system_attrs.get("fixed_params")
        if fixed:
            trial.study.enqueue_trial(fixed)


class AfterTrial:
    """Wraps the objective: the run's callbacks see each trial as it ends, from memory.

    ``Study.optimize(callbacks=...)`` reads every finished trial back from the storage
    before calling them, a whole ``get_trial`` (six queries on an RDB storage, some
    5-8 ms of ORM work in a process that has just fitted models). Everything these
    callbacks read (state, value, parameters, user attributes: the figures) is in the
    live trial already, so they get a ``FrozenTrial`` built from it instead, called
    where Optuna would call them: after a trial completes, is pruned, or fails with an
    error in ``catch``; not when an error ends the run. Its ``system_attrs`` (so its
    constraints) and ``intermediate_values`` are empty: callbacks needing them read the
    study. A callback may call ``study.stop()``; the run ends after this trial, as from
    Optuna's callbacks. The trial is not yet told, so it is RUNNING in the storage.
    """

    def __init__(
        self, objective: Any, callbacks: list[Any], catch: tuple[type[Exception], ...]
    ) -> None:
        self.objective = objective
        self.callbacks = list(callbacks)
        self.catch = catch

    def __call__(self, trial: optuna.Trial) -> float:
        try:
            value = self.objective(trial)
        except optuna.TrialPruned:
            self._ended(trial, TrialState.PRUNED, None)
            raise
        except self.catch:
            self._ended(trial, TrialState.FAIL, None)
            raise
        self._ended(trial, *_told(value))
        return value

    def _ended(self, trial: optuna.Trial, state: TrialState, value: float | None) -> None:
        frozen = optuna.trial.FrozenTrial(
            number=trial.number,
            state=state,
            value=value,
            datetime_start=trial.datetime_start,
            datetime_complete=datetime.now(),
            params=trial.params,
            distributions=trial.distributions,
            user_attrs=trial.user_attrs,
            system_attrs={},
            intermediate_values={},
            trial_id=trial._trial_id,  # no public accessor; FrozenTrial needs it
        )
        for callback in self.callbacks:
            callback(trial.study, frozen)


def _told(value: Any) -> tuple[TrialState, float | None]:
    """The state and value Optuna's ``tell`` gives an objective's return value."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return TrialState.FAIL, None
    return (TrialState.FAIL, None) if math.isnan(number) else (TrialState.COMPLETE, number)


def check_joinable(study: optuna.Study) -> dict[str, Any]:
    """The settings stored by the search that made ``study``.

    Raises:
        BadInputError: ``study`` was not made by ``halfcost search``.
    """
    settings = study.user_attrs.get(SETTINGS_ATTR)
    if settings is None or DATA_ATTR not in study.user_attrs:
        raise BadInputError(
            f"study {study.study_name!r} was not started by `halfcost search` with a data "
            "file; start it with `halfcost search DATA ... --storage URL`, then join it.",
            param="study_name",
        )
    return settings
