"""A worker process of the search: joins a stored study and runs trials until it is done.

:func:`run_worker` rebuilds the search problem from what the study recorded (settings,
data file, column ranking), after checking that the file it reads is the study's own (by
its sha256) and gives the same fingerprint; then it runs trials against the study's
shared wall-clock budget and trial limit. :class:`WorkerProcesses` is how
``CheapestModelSearch(n_workers=N)`` runs N of them on this machine.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib
import logging
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna

from halfcost.automl._search_study import (
    DATA_ATTR,
    FINGERPRINT_ATTR,
    RANKING_ATTR,
    StudyBudget,
    check_joinable,
    make_storage,
    storage_errors,
    storage_gone,
    storage_label,
)
from halfcost.errors import BadInputError, HalfcostError, StorageUnavailableError

logger = logging.getLogger(__name__)

# imported by a waiting worker before its study is ready (about 3 s of CPU)
_WARM_IMPORTS = (
    "halfcost.automl._search",
    "halfcost.automl._families",
    "halfcost.tables",
    "lightgbm",
    "sklearn.ensemble",
    "sklearn.linear_model",
    "sklearn.neural_network",
    "sklearn.tree",
)
STORAGE_ENV = "HALFCOST_WORKER_STORAGE"  # the URL reaches workers this way, not on argv
_ERRORS = {"StorageUnavailableError": StorageUnavailableError, "BadInputError": BadInputError}
_ERROR_MARK = "halfcost-worker-error:"


def run_worker(
    storage: str | optuna.storages.BaseStorage,
    study_name: str,
    *,
    data: str | os.PathLike[str] | None = None,
    worker_id: int | None = None,
) -> int:
    """Join the study ``study_name`` and run its trials until its budget or limit is spent.

    Args:
        storage: where the study lives (a URL, or a storage object).
        study_name: the study, as ``halfcost search`` named it (its report says).
        data: the study's data file on this host, when it is mounted at another path
            (checked by its sha256 either way).
        worker_id: seeds this worker's sampler apart from the others (None: random).

    Returns:
        How many trials this worker ran.

    Raises:
        BadInputError: no such study, not a halfcost study, or other data.
        StorageUnavailableError: the database went away (rerun to resume).
    """
    store = make_storage(storage)
    try:
        return _work(store, study_name, data, worker_id)
    except storage_errors() as exc:
        raise storage_gone(store, exc) from exc


def _work(store: Any, study_name: str, data: Any, worker_id: int | None) -> int:
    from halfcost.automl._cost import DEFAULT_OBJECTIVE, single_thread
    from halfcost.automl._families import default_families
    from halfcost.automl._search import (
        CheapestModelSearch,
        default_sampler,
        make_pruner,
        run_trials,
    )
    from halfcost.tables import read_table

    try:
        study = optuna.load_study(study_name=study_name, storage=store)
    except KeyError as exc:
        raise BadInputError(
            f"no study {study_name!r} in {storage_label(store)!r}; start it with "
            "`halfcost search DATA ... --storage URL`, which names its study.",
            param="study_name",
        ) from exc
    settings = check_joinable(study)
    path = _check_data(study, data)
    seed = None if worker_id is None else int(settings["seed"]) * 1000 + 1 + worker_id
    study.sampler = default_sampler(seed, parallel=True)
    by_name = {f.name: f for f in default_families()}
    unknown = [name for name in settings["families"] if name not in by_name]
    if unknown:
        raise BadInputError(
            f"study {study_name!r} searches families this halfcost lacks ({', '.join(unknown)});"
            " install the same halfcost version as the study's host."
        )
    search = CheapestModelSearch(
        metric=settings["metric"],
        min_score=settings["min_score"],
        task=settings["task"],
        holdout=settings["holdout"],
        cv=settings["cv"],
        seed=settings["seed"],
        drop=settings["drop"],
        families=[by_name[name] for name in settings["families"]],
        patience=settings["patience"],
        prune=settings["prune"],
        # studies recorded before objectives existed searched batch latency in Python
        objective=settings.get("objective", DEFAULT_OBJECTIVE),
        runtime=settings.get("runtime", "python"),
        n_trials=1,
    )
    frame = read_table(path)
    target = settings["target"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the coordinating process told the user already
        prepared = search._prepare(frame.drop(columns=[target]), frame[target], [])
    if prepared.fingerprint != study.user_attrs.get(FINGERPRINT_ATTR):
        raise BadInputError(
            f"the rows a worker reads from {path} (every column but {target!r}) are not "
            f"those study {study_name!r} was searched on: fit the search on the file's own "
            "columns (leave some out with drop=), with the same halfcost version.",
            param="data",
        )
    budget = StudyBudget.read(study)
    if budget is None or RANKING_ATTR not in study.user_attrs:
        raise BadInputError(
            f"study {study_name!r} has not started a run; start `halfcost search` first.",
            param="study_name",
        )
    problem = prepared.problem(study.user_attrs[RANKING_ATTR])
    pruner = make_pruner(
        prepared.metric,
        prepared.min_score,
        len(prepared.split.folds),
        settings["prune"],
        objective=search.trial_objective,
        runtime=search.runtime,
    )
    study.pruner = pruner
    counter = _Counter()
    with single_thread():
        run_trials(
            study,
            problem,
            pruner,
            budget,
            patience=settings["patience"],
            objective=search.trial_objective,
            extra_callbacks=[counter],
        )
    return counter.count


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self.count += 1


def _check_data(study: optuna.Study, data: Any) -> Path:
    """The study's data file on this host, checked by its sha256."""
    recorded = study.user_attrs[DATA_ATTR]
    path = Path(data if data is not None else recorded["path"])
    if not path.is_file():
        raise BadInputError(
            f"this worker cannot read the study's data {path}: no such file; give this host "
            "the same file ({param} PATH if it is mounted elsewhere).",
            param="data",
        )
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != recorded["sha256"]:
        raise BadInputError(
            f"{path} is not the study's data: its sha256 {digest.hexdigest()[:12]} differs "
            f"from the study's {recorded['sha256'][:12]}; give this worker the same file.",
            param="data",
        )
    return path


class WorkerProcesses:
    """Worker processes on this machine, started early and told their study later.

    Each is a fresh interpreter (``python -m halfcost.automl._search_worker``) that
    imports the search (about 3 s of CPU) and then waits for a study name on its
    stdin. Started when a search begins, they import while the coordinating process
    prepares the data and scores the baseline; :meth:`run` hands them the study once
    it is ready. Fresh processes, not forks: the coordinating process has threads and
    LightGBM's OpenMP pool by then, which a forked child must not inherit, and
    multiprocessing's spawn would run the user's main script again in every worker.
    Closing without :meth:`run` (the search failed first) stops them: they ran nothing.

    Args:
        url: the study's storage (passed in the environment, never on the command line).
        n_workers: how many.
    """

    def __init__(self, url: str, n_workers: int) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="halfcost-workers-")
        env = {**os.environ, STORAGE_ENV: url}
        self._logs: list[Any] = []
        self._processes: list[subprocess.Popen] = []
        try:
            for i in range(n_workers):
                log = open(Path(self._tmp.name) / f"worker-{i}.err", "w+", encoding="utf-8")  # noqa: SIM115
                self._logs.append(log)
                command = [sys.executable, "-m", __name__, "--worker-id", str(i)]
                self._processes.append(
                    subprocess.Popen(
                        command,
                        env=env,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.DEVNULL,
                        stderr=log,
                        text=True,
                    )
                )
        except BaseException:
            self.close()
            raise

    def run(
        self,
        study_name: str,
        *,
        poll: Callable[[], None] | None = None,
        poll_every_s: float = 1.0,
    ) -> None:
        """Hand the workers ``study_name`` and wait until they have all ended.

        A worker killed by a signal is logged and the others go on; one that stops with
        an error raises that error here once every worker has ended (the first one's
        message). Meanwhile ``poll`` is called every ``poll_every_s`` seconds (a
        progress bar); an error it raises ends the polling, not the wait.

        Raises:
            StorageUnavailableError, BadInputError, HalfcostError: a worker's error.
        """
        try:
            for process in self._processes:
                with contextlib.suppress(BrokenPipeError):  # it died: its code says so
                    process.stdin.write(study_name + "\n")
                    process.stdin.close()
            codes = _wait_all(self._processes, poll, poll_every_s)
        except BaseException:  # interrupted: take the workers down too
            self._stop()
            raise
        failures = []
        for i, (log, code) in enumerate(zip(self._logs, codes, strict=True)):
            if code < 0:
                logger.warning(
                    "worker %d was killed (signal %d); its trial is failed once its heartbeat "
                    "is stale, and the other workers went on",
                    i,
                    -code,
                )
            elif code != 0:
                log.flush()
                log.seek(0)
                failures.append(_error_from(log.read(), code))
        if failures:
            raise failures[0]

    def close(self) -> None:
        """Stop workers that were never handed a study (they ran nothing); remove logs."""
        for process in self._processes:
            if process.stdin is not None and not process.stdin.closed:
                with contextlib.suppress(BrokenPipeError):
                    process.stdin.close()
        self._stop()
        for log in self._logs:
            log.close()
        self._tmp.cleanup()

    def _stop(self) -> None:
        for process in self._processes:
            if process.poll() is None:
                process.terminate()
        for process in self._processes:
            process.wait()


def _wait_all(
    processes: list[subprocess.Popen], poll: Callable[[], None] | None, every_s: float
) -> list[int]:
    """Every process's exit code, calling ``poll`` meanwhile (its errors only logged)."""
    pending = list(processes)
    while poll is not None and pending:
        try:
            poll()
        except Exception as exc:  # a bar must never stop the search: the workers decide
            logger.debug("progress poll failed: %s", exc)
            break
        with contextlib.suppress(subprocess.TimeoutExpired):
            pending[0].wait(timeout=every_s)
        pending = [process for process in pending if process.poll() is None]
    return [process.wait() for process in processes]


def _error_from(text: str, code: int) -> HalfcostError:
    for line in reversed(text.splitlines()):
        if line.startswith(_ERROR_MARK):
            kind, _, message = line.removeprefix(_ERROR_MARK).partition(" ")
            return _ERRORS.get(kind, HalfcostError)(message)
    last = text.strip().splitlines()[-1] if text.strip() else f"exit status {code}"
    return HalfcostError(f"a search worker crashed ({last[:300]}); rerun to resume the study.")


def _run_main(url: str, study_name: str, worker_id: int | None) -> int:
    """Run a worker; its exit code, and an error as one marked line on stderr."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        run_worker(url, study_name, worker_id=worker_id)
    except HalfcostError as exc:
        print(f"{_ERROR_MARK}{type(exc).__name__} {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    return 0


def main(argv: list[str] | None = None) -> int:
    """The worker program :class:`WorkerProcesses` starts.

    Storage URL from the environment (never argv: it may hold a password); the study's
    name from the first line of stdin, read once the search's imports are done. End of
    input before a name: the search ended first, exit 0.
    """
    parser = argparse.ArgumentParser(prog="halfcost-worker")
    parser.add_argument("--worker-id", type=int)
    args = parser.parse_args(argv)
    for module in _WARM_IMPORTS:  # what a first trial would wait for
        importlib.import_module(module)
    study_name = sys.stdin.readline().strip()
    if not study_name:
        return 0
    return _run_main(os.environ[STORAGE_ENV], study_name, args.worker_id)


if __name__ == "__main__":
    sys.exit(main())
