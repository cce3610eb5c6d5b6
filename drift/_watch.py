"""`halfcost drift watch`: check a batch, and when the policy says so, retrain and promote.

One watch, under the project's lock:

1. reads the batch (and its labels), checks it against the champion's reference
   profile and records a ``check`` event;
2. asks the :class:`~halfcost.drift.AlertPolicy` from params.yaml whether this is an
   alert and whether to retrain (an ``alert`` event, sent to the sinks);
3. to retrain, adds the labelled batch to ``data/batches/`` as a new file tracked with
   ``dvc add``, runs ``dvc repro`` (``retrain_started``, then ``retrain`` or
   ``retrain_failed``), and compares the challenger with the champion on the same
   held-out data and on the batch's held-out rows;
4. promotes the challenger (``promotion``) or keeps the champion (``refusal``).

The training data only grows by whole files, written to a temporary name and renamed,
so it is never half-appended. When the retrain fails (``dvc repro`` exits non-zero or is
killed) or the challenger is refused, the batch file and its ``.dvc`` file are moved to
``.halfcost/set_aside/`` — the training data returns to its previous version and the
batch is kept, not lost.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from halfcost.drift._champions import ChampionStore, Verdict, compare
from halfcost.drift._prepare import split_holdout
from halfcost.drift._project import Project, find_tool, tool_env
from halfcost.errors import BadInputError, ConcurrentRunError, HalfcostError
from halfcost.records import Decision, Outcome
from halfcost.tables import read_table, write_table

# Lines of `dvc repro` output kept in a retrain_failed event.
_TAIL_LINES = 15


@dataclass
class WatchResult:
    """What one watch did, and why.

    Attributes:
        outcome: ``no_alert``, ``alert_only``, ``promoted``, ``refused``,
            ``retrain_failed`` or ``retrain_skipped``.
        reason: one sentence explaining the outcome.
        champion: the champion's version after the watch (None if there is none).
        events: every event this watch appended to the event log, in order.
        drift: the drift check's ``drift.json`` content.
        decision: the alert policy's decision (``AlertDecision.to_dict()``).
        scores: the scores compared (champion's on the batch, challenger vs champion).
        repro_seconds: wall time of ``dvc repro`` (None when it did not run).
    """

    outcome: str
    reason: str
    champion: str | None
    events: list[dict[str, Any]] = field(default_factory=list)
    drift: dict[str, Any] = field(default_factory=dict)
    decision: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    repro_seconds: float | None = None

    @property
    def retrained(self) -> bool:
        return self.repro_seconds is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "reason": self.reason,
            "champion": self.champion,
            "retrained": self.retrained,
            "repro_seconds": self.repro_seconds,
            "scores": self.scores,
            "decision": self.decision,
            "drift": self.drift,
            "events": self.events,
        }


class RetrainFailedError(HalfcostError):
    """``dvc repro`` failed; the champion is unchanged (exit status 1)."""

    exit_code = 1


# -- the lock -------------------------------------------------------------------------
@contextlib.contextmanager
def project_lock(project: Project, *, wait_s: float = 0.0) -> Iterator[None]:
    """Hold ``.halfcost/watch.lock`` (an exclusive ``flock``) for the block.

    Args:
        project: the project to lock.
        wait_s: how long to wait for another holder to finish before giving up.

    Raises:
        ConcurrentRunError: another watch still holds the lock after ``wait_s``.
    """
    import fcntl

    project.state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(project.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(0.0, wait_s)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "?"
                    raise ConcurrentRunError(
                        f"another `halfcost drift watch` ({holder}) is running on "
                        f"{project.root}; wait for it to finish or pass --wait SECONDS."
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, since {datetime.now(UTC).isoformat()}".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the flock


# -- the batch and its labels ------------------------------------------------------------
def attach_labels(
    batch: pd.DataFrame, labels: pd.DataFrame, *, target: str, id_column: str | None = None
) -> pd.DataFrame:
    """Return ``batch`` with the target column taken from ``labels``.

    Labels are aligned by an id column when one is shared (``data.id_column`` in
    params.yaml, else every column of ``labels`` other than the target that the batch
    also has); otherwise by row order, and then the row counts must match.

    Raises:
        BadInputError: no target column in ``labels``, duplicate or missing ids, or
            different row counts.
    """
    if target not in labels.columns:
        raise BadInputError(
            f"the labels have no target column {target!r}; give a table with a "
            f"{target!r} column (and the id column, or rows in the batch's order)."
        )
    if id_column and id_column in labels.columns and id_column in batch.columns:
        keys = [id_column]
    else:
        keys = [c for c in labels.columns if c != target and c in batch.columns]
    out = batch.drop(columns=[target], errors="ignore")
    if not keys:
        if len(labels) != len(batch):
            raise BadInputError(
                f"the labels have {len(labels)} rows but the batch has {len(batch)}; without "
                "a shared id column, labels are matched by row order: give one label per row."
            )
        out[target] = labels[target].to_numpy()
        return out
    if labels.duplicated(keys).any():
        raise BadInputError(
            f"the labels repeat some {', '.join(keys)} values; give one label per row."
        )
    merged = out.merge(labels[[*keys, target]], on=keys, how="left", validate="many_to_one")
    unlabelled = int(merged[target].isna().sum())
    if unlabelled == len(merged):
        raise BadInputError(
            f"the labels match none of the batch's {', '.join(keys)} values; "
            "give labels for the batch's rows."
        )
    if unlabelled:
        raise BadInputError(
            f"{unlabelled} batch row(s) have no label in the labels table (matched by "
            f"{', '.join(keys)}); give a label for every row."
        )
    return merged


def _features(frame: pd.DataFrame, target: str) -> pd.DataFrame:
    drop = [c for c in frame.columns if c == target or str(c).startswith("halfcost_")]
    return frame.drop(columns=drop)


# -- dvc -----------------------------------------------------------------------------------
def _run_dvc(project: Project, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [find_tool("dvc"), *args],
        cwd=project.root,
        env=tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )


@dataclass(frozen=True)
class ReproOutcome:
    """How a ``dvc repro`` run ended."""

    returncode: int
    seconds: float
    log_path: Path
    tail: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe(self) -> str:
        if self.returncode < 0:
            how = f"was killed by signal {-self.returncode}"
        else:
            how = f"exited with status {self.returncode}"
        last = dvc_error(self.tail)
        last = last or next((ln for ln in reversed(self.tail.splitlines()) if ln.strip()), "")
        return f"`dvc repro` {how} after {self.seconds:.1f} s" + (
            f": {last.strip()}" if last else ""
        )


def run_repro(
    project: Project,
    *,
    extra_args: Sequence[str] = (),
    on_start: Callable[[int], None] | None = None,
) -> ReproOutcome:
    """Run ``dvc repro`` in the project, logging to ``.halfcost/logs/``.

    ``dvc repro`` runs in its own process group; if this process is interrupted
    (Ctrl-C, or SIGTERM during a watch), the whole group is stopped before the
    interruption propagates. ``on_start`` receives the group's id as soon as it runs
    (the watch records it, so that the next watch can stop the group if this process is
    killed outright).
    """
    project.logs_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    log_path = project.logs_dir / f"repro-{stamp}.log"
    start = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [find_tool("dvc"), "repro", *extra_args],
            cwd=project.root,
            env=tool_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            if on_start is not None:
                on_start(proc.pid)
            returncode = proc.wait()
        except BaseException:
            _stop_group(proc)
            raise
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    return ReproOutcome(
        returncode, time.perf_counter() - start, log_path, "\n".join(lines[-_TAIL_LINES:])
    )


def _stop_group(proc: subprocess.Popen) -> None:
    for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt for the block, so cleanup code runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# -- a retrain killed outright: found and undone by the next watch ----------------------
INTERRUPTED_REASON = "interrupted (found on restart)"
_INTERRUPTED = "the retrain was interrupted; the champion is unchanged and the batch was set aside."
_END_KINDS = ("retrain_failed", "promotion", "refusal")  # what closes a retrain_started


def _write_running(project: Project, running: dict[str, Any]) -> None:
    from halfcost.jsonio import write_json

    write_json(running, project.running_path)  # temp file + os.replace


def _read_running(project: Project) -> dict[str, Any]:
    import json

    try:
        data = json.loads(project.running_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _group_members(pgid: int, root: Path) -> list[int]:
    """Live processes of process group ``pgid`` working in ``root`` (not zombies, not us).

    The working folder guards against a recycled group id: ``dvc repro`` and every stage
    it runs work in the project's folder.
    """
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            stat = (entry / "stat").read_text()
            cwd = Path(os.readlink(entry / "cwd")).resolve()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z" and (cwd == root or root in cwd.parents):
            found.append(int(entry.name))
    return found


def stop_orphans(project: Project) -> list[int]:
    """Stop what is left of a killed watch's ``dvc repro`` (SIGTERM, then SIGKILL).

    Returns the process ids that were still running.
    """
    pgid = _read_running(project).get("pgid")
    if not isinstance(pgid, int) or pgid <= 1:
        return []
    root = project.root.resolve()
    orphans = _group_members(pgid, root)
    for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        alive = _group_members(pgid, root)
        if not alive:
            break
        for pid in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait_s
        while _group_members(pgid, root) and time.monotonic() < deadline:
            time.sleep(0.1)
    return orphans


def _open_retrain(project: Project) -> dict[str, Any] | None:
    """The last ``retrain_started`` event that no end event followed, if any."""
    from halfcost.drift._events import EventLog

    started = None
    for event in EventLog(project.events_path).read(["retrain_started", *_END_KINDS]):
        started = event if event["kind"] == "retrain_started" else None
    return started


def recover_interrupted(project: Project, sinks: Sequence[Any] | None = None) -> list[dict]:
    """Undo a retrain whose watch was killed (SIGKILL, power loss) before it ended.

    Called under the project's lock before anything else: stops the killed watch's
    ``dvc repro`` if it still runs, takes the batch that run added back out of the
    training data (its file, ``.dvc`` file and ``.gitignore`` line, kept in
    ``.halfcost/set_aside/``) and records a ``retrain_failed`` event with the reason
    :data:`INTERRUPTED_REASON`. The champion is not touched.

    Returns:
        The events recorded (none when there was nothing to recover).
    """
    stopped = stop_orphans(project)
    shutil.rmtree(project.state_dir / "staging", ignore_errors=True)  # half-staged batches
    started = _open_retrain(project)
    if started is None:
        project.running_path.unlink(missing_ok=True)
        return []
    record = _Recorder(project, started.get("batch"), started.get("batch_rows"), sinks)
    added = (started.get("details") or {}).get("added_batch_file")
    name = Path(added).name if added else None
    pointer = ChampionStore(project).current() or {}
    if name is not None and pointer.get("batch") == name:
        # killed between the promotion and its event: the promotion stands
        record(
            "promotion",
            decision=Decision.PROMOTED,
            reason=f"{pointer['version']} was promoted before its watch stopped (found on "
            "restart).",
            champion=pointer["version"],
            challenger=pointer["version"],
            scores=pointer.get("scores") or {},
            details={"started_event": started["event_id"]},
        )
    else:
        details: dict[str, Any] = {"started_event": started["event_id"]}
        if stopped:
            details["stopped_processes"] = stopped
        if name is not None:
            set_aside_batch(project, name)
            details.update(_aside_details(project, name))
        record(
            "retrain_failed",
            decision=Decision.CHAMPION_KEPT,
            reason=INTERRUPTED_REASON,
            details=details,
        )
    project.running_path.unlink(missing_ok=True)
    return record.events


# -- adding and setting aside a batch ----------------------------------------------------
BATCH_PREFIX = "b-"
_HASH_CHARS = 16  # hex digits of the batch's SHA-256 in its file name


def _batch_name(digest: str, source: Path) -> str:
    """``b-<sha256 of the file's bytes, 16 hex>-<source stem>.csv``: the name is the content."""
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in source.stem)[:40]
    return f"{BATCH_PREFIX}{digest[:_HASH_CHARS]}-{stem}.csv"


def find_batch(project: Project, digest: str) -> Path | None:
    """The file in ``data/batches/`` holding the batch whose SHA-256 is ``digest``, if any."""
    prefix = f"{BATCH_PREFIX}{digest[:_HASH_CHARS]}-"
    if not project.batches_dir.is_dir():
        return None
    return next(
        (p for p in sorted(project.batches_dir.iterdir()) if p.name.startswith(prefix)), None
    )


def stage_batch(project: Project, frame: pd.DataFrame) -> tuple[Path, str]:
    """Write the labelled batch to a staging file in ``.halfcost/``; return it and its SHA-256."""
    import hashlib

    staging = project.state_dir / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    path = write_table(frame, staging / f"batch-{os.getpid()}.csv")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return path, digest


def add_batch(project: Project, staged: Path, name: str) -> Path:
    """Move the staged batch file into ``data/batches/`` as ``name`` and ``dvc add`` it.

    Raises:
        BadInputError: ``dvc add`` failed (the file is set aside again).
    """
    path = project.batches_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, path)  # one rename: the training data never holds half a batch
    done = _run_dvc(project, "add", str(path.relative_to(project.root)))
    if done.returncode != 0:
        set_aside_batch(project, name)
        error = dvc_error(f"{done.stderr}\n{done.stdout}") or f"exit status {done.returncode}"
        if _LOCK_BUSY in error:
            raise ConcurrentRunError(
                f"`dvc add` could not run: {error} The batch was set aside; rerun the watch "
                "when the other DVC process has finished."
            )
        raise BadInputError(
            f"`dvc add {path}` failed: {error} The batch was set aside; is the project a "
            "git + DVC repository? Run `halfcost init` on it."
        )
    return path


_LOCK_BUSY = "Unable to acquire lock"


def dvc_error(output: str) -> str:
    """DVC's error message from its output, whole: the ``ERROR:`` line and its continuation.

    DVC wraps long messages over several lines; the continuation lines are joined back so
    the message is never cut mid-sentence.
    """
    lines = output.splitlines()
    start = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].startswith("ERROR")), None)
    if start is None:
        return ""
    parts = [lines[start].removeprefix("ERROR:").strip()]
    for line in lines[start + 1 :]:
        if not line.strip() or line.startswith(("ERROR", "WARNING", "Running stage", ">")):
            break
        parts.append(line.strip())
    return " ".join(parts)


def set_aside_batch(project: Project, name: str) -> Path:
    """Take batch ``name`` back out of the training data into ``.halfcost/set_aside/``.

    Moves the data file and its ``.dvc`` file and drops its line from the folder's
    ``.gitignore`` (what ``dvc add`` wrote), so the training data is as before the batch.
    """
    target_dir = project.set_aside_dir
    target_dir.mkdir(parents=True, exist_ok=True)
    for file_name in (name, f"{name}.dvc"):
        src = project.batches_dir / file_name
        if src.exists():
            os.replace(src, target_dir / file_name)
    ignore = project.batches_dir / ".gitignore"
    if ignore.is_file():
        lines = ignore.read_text(encoding="utf-8").splitlines()
        kept = [ln for ln in lines if ln.strip() != f"/{name}"]
        if kept != lines:
            ignore.write_text("".join(f"{ln}\n" for ln in kept), encoding="utf-8")
    return target_dir / name


# -- scoring ----------------------------------------------------------------------------
def _score(
    model: Any, frame: pd.DataFrame | None, target: str, metric: str, on_bad_values: str = "error"
) -> float | None:
    """The model's score on the labelled ``frame`` (None when there is nothing to score)."""
    from halfcost.automl import evaluate_model

    if frame is None or frame.empty or target not in frame.columns:
        return None
    result = evaluate_model(model, frame, target=target, metric=metric, on_bad_values=on_bad_values)
    return float(result["score"])


def challenge(
    project: Project, *, batch_holdout: pd.DataFrame | None = None
) -> tuple[Verdict, str | None]:
    """Score the challenger and the champion on the same held-out data and decide.

    Returns:
        The verdict and the champion's version (None before the first champion).
    """
    params = project.params()
    search, margin = params["search"], float(params["promotion"]["margin"])
    target, metric = str(search["target"]), str(search["metric"])
    holdout = read_table(project.holdout_path)
    store = ChampionStore(project)
    champion = store.current_version()
    challenger_dir = project.challenger_dir / "model"
    if not challenger_dir.exists():
        raise BadInputError(f"{challenger_dir} is missing; the search stage wrote no challenger.")
    from halfcost.automl import load_model

    challenger_model = load_model(challenger_dir)
    scores = {
        "challenger_cv": _challenger_summary(project).get("cv_score"),
        # the project's own held-out rows come from the training data's source: cells of
        # the wrong type are read as missing there, as training read them
        "challenger_holdout": _score(challenger_model, holdout, target, metric, "null"),
        "challenger_batch": _score(challenger_model, batch_holdout, target, metric),
    }
    if champion is not None:
        champion_model = load_model(store.model_dir(champion))
        scores["champion_holdout"] = _score(champion_model, holdout, target, metric, "null")
        scores["champion_batch"] = _score(champion_model, batch_holdout, target, metric)
    verdict = compare(scores, metric=metric, min_score=float(search["min_score"]), margin=margin)
    return verdict, champion


# -- the watch ---------------------------------------------------------------------------
class _Recorder:
    """Appends events with the project's common fields and keeps them for the result."""

    def __init__(self, project: Project, batch: str | None, batch_rows: int | None, sinks):
        from halfcost.drift import EventLog

        self.log = EventLog(project.events_path)
        self.common = {"project": project.name, "batch": batch, "batch_rows": batch_rows}
        self.project = project
        self.sinks = list(sinks or [])
        self.events: list[dict[str, Any]] = []

    def __call__(self, kind: str, *, notify: bool = False, **fields: Any) -> dict[str, Any]:
        fields.setdefault("data_version", self.project.data_version())
        fields.setdefault("champion", ChampionStore(self.project).current_version())
        event = self.log.append(kind, **self.common, **fields)
        self.events.append(event)
        if notify and self.sinks:
            from halfcost.drift._sinks import notify as send

            failures = send(event, self.sinks)
            if failures:
                event = dict(event, details={**event["details"], "sink_failures": failures})
                self.events[-1] = event
        return event


def _retrain_and_promote(
    project: Project,
    record: _Recorder,
    *,
    reason: str,
    batch_frame: pd.DataFrame | None,
    batch_source: Path | None,
) -> tuple[str, str, dict[str, float], float | None]:
    """Add the batch (if any), run ``dvc repro``, compare, promote or refuse.

    Returns:
        (outcome, reason, scores, repro_seconds); repro_seconds is None when
        `dvc repro` did not run (the batch was already training data).
    """
    params = project.params()
    name = None
    batch_holdout = None
    if batch_frame is not None and batch_source is not None:
        staged, digest = stage_batch(project, batch_frame)
        present = find_batch(project, digest)
        if present is not None:
            staged.unlink(missing_ok=True)
            where = str(present.relative_to(project.root))
            why = (
                f"this batch is already in the training data as {where} (same content); "
                "retraining on it again would count its rows twice, so the champion is kept."
            )
            record(
                "refusal",
                decision=Decision.RETRAIN_SKIPPED,
                reason=why,
                details={"batch_file": where},
            )
            return Outcome.RETRAIN_SKIPPED, why, {}, None
        name = _batch_name(digest, batch_source)
    # the start is logged before the batch is added: a kill at any point after this line
    # leaves an open retrain_started that names the batch, and the next watch undoes it
    started = record(
        "retrain_started",
        decision=Decision.RETRAIN,
        reason=reason,
        details={"added_batch_file": None if name is None else f"data/batches/{name}"},
    )
    running = {"watch_pid": os.getpid(), "batch": name, "started_event": started["event_id"]}
    _write_running(project, running)
    try:
        if name is not None:
            try:
                with _sigterm_as_interrupt():
                    add_batch(project, staged, name)
            except KeyboardInterrupt:
                _record_interrupted(project, record, name)
                raise
            except HalfcostError as exc:
                record("retrain_failed", decision=Decision.CHAMPION_KEPT, reason=str(exc))
                raise
            data = params["data"]
            _, batch_holdout = split_holdout(
                batch_frame,
                fraction=float(data["holdout_fraction"]),
                seed=int(data["split_seed"]),
                key=name,
            )
        return _repro_and_decide(project, record, name, batch_holdout, running)
    finally:  # not reached when the watch is SIGKILLed: the next watch cleans up then
        project.running_path.unlink(missing_ok=True)


def _record_interrupted(project: Project, record: _Recorder, name: str | None) -> None:
    """A retrain stopped by SIGTERM or Ctrl-C: set its batch aside, record why."""
    if name is not None:
        set_aside_batch(project, name)
    record(
        "retrain_failed",
        decision=Decision.CHAMPION_KEPT,
        reason=_INTERRUPTED,
        details=_aside_details(project, name),
    )


def _repro_and_decide(
    project: Project,
    record: _Recorder,
    name: str | None,
    batch_holdout: pd.DataFrame | None,
    running: dict[str, Any],
) -> tuple[str, str, dict[str, float], float | None]:
    try:
        with _sigterm_as_interrupt():
            outcome = run_repro(
                project, on_start=lambda pgid: _write_running(project, {**running, "pgid": pgid})
            )
    except KeyboardInterrupt:
        _record_interrupted(project, record, name)
        raise
    if not outcome.ok:
        if name is not None:
            set_aside_batch(project, name)
        why = f"{outcome.describe()}; the champion is unchanged"
        why += " and the batch was set aside." if name else "."
        record(
            "retrain_failed",
            decision=Decision.CHAMPION_KEPT,
            reason=why,
            details={
                **_aside_details(project, name),
                "log": str(outcome.log_path),
                "log_tail": outcome.tail,
                "returncode": outcome.returncode,
                "repro_seconds": round(outcome.seconds, 2),
            },
        )
        return Outcome.RETRAIN_FAILED, why, {}, outcome.seconds
    try:
        verdict, champion = challenge(project, batch_holdout=batch_holdout)
    except HalfcostError as exc:  # e.g. a challenger that cannot score the held-out rows
        if name is not None:
            set_aside_batch(project, name)
        why = f"the challenger could not be compared with the champion: {exc}"
        record(
            "retrain_failed",
            decision=Decision.CHAMPION_KEPT,
            reason=why,
            details={**_aside_details(project, name), "log": str(outcome.log_path)},
        )
        return Outcome.RETRAIN_FAILED, why, {}, outcome.seconds
    record(
        "retrain",
        decision=Decision.CHALLENGER_READY,
        reason=f"`dvc repro` finished in {outcome.seconds:.1f} s.",
        scores=verdict.scores,
        details={
            "log": str(outcome.log_path),
            "repro_seconds": round(outcome.seconds, 2),
            "challenger_model": _challenger_summary(project),
        },
    )
    if verdict.promote:
        promoted = ChampionStore(project).promote(
            data_version=project.data_version(),
            scores=verdict.scores,
            reason=verdict.reason,
            batch=name,
        )
        record(
            "promotion",
            notify=True,
            decision=Decision.PROMOTED,
            reason=verdict.reason,
            champion=promoted["version"],
            challenger=promoted["version"],
            scores=verdict.scores,
            details={
                "previous_champion": champion,
                "path": str(project.champions_dir / promoted["version"]),
            },
        )
        return Outcome.PROMOTED, verdict.reason, verdict.scores, outcome.seconds
    if name is not None:
        set_aside_batch(project, name)
    why = f"{verdict.reason} The champion {champion or '(none)'} is kept."
    record(
        "refusal",
        notify=True,
        decision=Decision.CHAMPION_KEPT,
        reason=why,
        scores=verdict.scores,
        details={**_aside_details(project, name), "challenger_model": _challenger_summary(project)},
    )
    return Outcome.REFUSED, why, verdict.scores, outcome.seconds


def _challenger_summary(project: Project) -> dict[str, Any]:
    """Family, scores and cost of the challenger, from the search stage's report.json."""
    import json

    try:
        report = json.loads((project.challenger_dir / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    chosen = report.get("chosen") or {}
    keys = ("family", "cv_score", "holdout_score", "latency_ms_per_1k", "size_bytes")
    return {"met": report.get("met"), **{k: chosen.get(k) for k in keys}}


def _aside_details(project: Project, name: str | None) -> dict[str, Any]:
    if name is None:
        return {}
    return {"set_aside": str((project.set_aside_dir / name).relative_to(project.root))}


def ensure_champion(project: Project, record: _Recorder) -> str:
    """Make sure the project has a champion, training and promoting the first if needed.

    Runs ``dvc repro`` (a no-op when the pipeline is up to date) and promotes the
    challenger as ``v0001`` if it meets the target.

    Raises:
        RetrainFailedError: the pipeline failed or the first challenger missed the target.
    """
    store = ChampionStore(project)
    current = store.current_version()
    if current is not None:
        return current
    outcome, reason, _, _ = _retrain_and_promote(
        project,
        record,
        reason="no champion yet: train the first one.",
        batch_frame=None,
        batch_source=None,
    )
    if outcome != Outcome.PROMOTED:
        raise RetrainFailedError(f"no champion could be trained: {reason}")
    return str(store.current_version())


def train_first_champion(
    project: str | os.PathLike[str] | Project = ".", *, wait_s: float = 0.0
) -> str:
    """Run the pipeline and promote its challenger as the first champion, if there is none.

    Returns:
        The current champion's version (unchanged when the project already had one).

    Raises:
        ConcurrentRunError: another watch holds the project's lock.
        RetrainFailedError: the pipeline failed or its challenger missed the target.
    """
    proj = project if isinstance(project, Project) else Project.open(project)
    with project_lock(proj, wait_s=wait_s):
        recover_interrupted(proj)
        return ensure_champion(proj, _Recorder(proj, None, None, None))


def _batch_report_dir(project: Project, batch_path: Path) -> Path:
    """``.halfcost/reports/<UTC time>-<batch>/``: one folder per checked batch."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return project.state_dir / "reports" / f"{stamp}-{batch_path.stem[:60]}"


def _load_batch(
    batch_path: Path, labels_path: Path | None, target: str, id_column: str | None
) -> pd.DataFrame:
    from halfcost.drift._label_requests import merge_labels

    batch = read_table(batch_path)
    if labels_path is not None:  # labels for only some rows are kept (issue 11)
        batch = merge_labels(batch, read_table(labels_path), target=target, id_column=id_column)
    return batch


def watch_batch(
    batch: str | os.PathLike[str],
    *,
    labels: str | os.PathLike[str] | None = None,
    project: str | os.PathLike[str] | Project = ".",
    force: bool = False,
    wait_s: float = 0.0,
    sinks: Sequence[Any] | None = None,
    now: datetime | None = None,
    report_dir: str | os.PathLike[str] | None = None,
    on_bad_values: str = "error",
) -> WatchResult:
    """Check ``batch`` for drift and, when the alert policy says so, retrain and promote.

    Args:
        batch: the new batch (.csv or .parquet), with the target column when labelled.
        labels: a table with the target column for the batch's rows, aligned by a shared
            id column or by row order (see :func:`attach_labels`).
        project: the project folder (holding dvc.yaml and params.yaml).
        force: the manual trigger: retrain whatever the drift check says.
        wait_s: wait this long for another watch on the project to finish.
        sinks: alert sinks (``PrintSink()``, ``WebhookSink(url)``) that receive alerts,
            promotions and refusals. Default: none here (the CLI adds a PrintSink and
            the params' webhook).
        now: the time the policy uses for cooldowns (default: now, UTC).
        report_dir: also save the drift check there (``drift.json`` + ``drift.html``).
        on_bad_values: values a feature's trained type cannot read (text in a numeric
            column): ``error`` refuses the batch before anything is written; ``null`` or
            ``impute`` replaces them for the check and the scores (see
            :meth:`HalfcostModel.check_values`) and counts them in the check event.

    Raises:
        BadInputError: unreadable batch or labels, or a project without a pipeline.
        ConcurrentRunError: another watch holds the project's lock.
        RetrainFailedError: there is no champion and the first retrain failed.
    """
    proj = project if isinstance(project, Project) else Project.open(project)
    params = proj.params()
    target = str(params["search"]["target"])
    batch_path = Path(batch)
    frame = _load_batch(
        batch_path,
        None if labels is None else Path(labels),
        target,
        params["data"].get("id_column"),
    )
    with project_lock(proj, wait_s=wait_s):
        recovered = recover_interrupted(proj, sinks)  # a killed watch's retrain, undone
        first = _Recorder(proj, None, None, sinks)  # the first champion, if there is none
        champion = ensure_champion(proj, first)
        record = _Recorder(proj, str(batch_path), len(frame), sinks)
        result = _watch_locked(
            proj,
            record,
            frame,
            batch_path,
            champion,
            force=force,
            now=now,
            report_dir=report_dir,
            on_bad_values=on_bad_values,
        )
        result.events = recovered + first.events + result.events
        return result


def _watch_locked(
    project: Project,
    record: _Recorder,
    frame: pd.DataFrame,
    batch_path: Path,
    champion: str,
    *,
    force: bool,
    now: datetime | None,
    report_dir: str | os.PathLike[str] | None = None,
    on_bad_values: str = "error",
) -> WatchResult:
    from halfcost.automl import load_model
    from halfcost.drift import AlertPolicy, _html, check_drift, load_profile
    from halfcost.drift._champions import ChampionStore
    from halfcost.drift._check import summarized_warnings

    params = project.params()
    search, monitor = params["search"], params["monitor"]
    target, metric = str(search["target"]), str(search["metric"])
    from halfcost.drift._label_requests import (
        book_purchase,
        labelled_rows,
        request_labels,
        split_monitor,
    )

    policy_section, label_settings = split_monitor(monitor)
    policy = AlertPolicy.from_params(policy_section)  # a bad monitor: fails before the check
    store = ChampionStore(project)
    profile = load_profile(store.profile_path(champion))
    champion_model = load_model(store.model_dir(champion))
    # the batch enters a model here: its types are checked first, never silently
    scored, bad_values = champion_model.check_values(frame, on_bad_values=on_bad_values)
    with summarized_warnings(f"checking {len(frame)} row(s) for drift"):  # one line in all
        drift = check_drift(
            profile,
            _features(scored, target),
            drift_share=float(monitor["drift_share"]),
            sample_rows=monitor.get("sample_rows"),
        )
        # every checked batch keeps its drift.html next to its event (the registry links it),
        # capped, with Evidently's script bundle shared by the project's reports (an --out
        # folder gets Evidently's self-contained page)
        reports = Path(report_dir) if report_dir else _batch_report_dir(project, batch_path)
        shared = None if report_dir else reports.parent / _html.ASSETS_DIR
        cap = None if report_dir else _html.DEFAULT_MAX_HTML_BYTES
        drift.save(reports, assets=shared, max_html_bytes=cap)
    labelled_frame = labelled_rows(scored, target)  # only rows with a label ever train
    labelled = labelled_frame is not None
    champion_score = _score(champion_model, labelled_frame, target, metric) if labelled else None
    importances = getattr(champion_model, "feature_importances_", None)
    drift_dict = drift.to_dict()
    decision = policy.decide(
        drift,
        events=record.log.read(),  # the log so far, without this batch's check
        batch_rows=len(frame),
        importances=importances,
        labelled_score=champion_score,
        target_score=float(search["min_score"]),
        manual=force,
        now=now,
    )
    check = decision.check_event_fields(drift)
    if champion_score is not None:
        check["scores"]["champion_batch"] = champion_score
    check["details"]["columns"] = drift_dict.get("columns", {})
    if bad_values:
        check["details"]["bad_values"] = {"replaced_by": on_bad_values, "cells": bad_values}
    if (reports / "drift.html").is_file():
        check["details"]["report_html"] = str((reports / "drift.html").resolve())
    record("check", **check)
    decision_dict = decision.to_dict()
    reasons = decision.reason or "no policy rule fired."
    scores = {} if champion_score is None else {"champion_batch": champion_score}
    result = WatchResult(
        outcome=Outcome.NO_ALERT,
        reason=reasons,
        champion=champion,
        drift=drift_dict,
        decision=decision_dict,
        scores=scores,
    )
    if decision.alert:
        record(
            "alert",
            notify=True,
            decision=Decision.RETRAIN if decision.retrain else Decision.ALERT_ONLY,
            reason=reasons,
            scores={"weighted_share": float(decision.weighted_share), **scores},
            details={
                "triggers": list(decision.triggers),
                "drifted_columns": list(drift.drifted_columns),
            },
        )
        result.outcome = Outcome.ALERT_ONLY
    if decision.retrain:
        if not labelled:
            why = (
                f"the policy asks for a retrain ({reasons}), but the batch has no "
                f"{target!r} labels; rerun with --labels LABELS to retrain on it."
            )
            record("refusal", decision=Decision.RETRAIN_SKIPPED, reason=why)
            result.outcome, result.reason = "retrain_skipped", why
        else:
            outcome, why, compared, seconds = _retrain_and_promote(
                project, record, reason=reasons, batch_frame=labelled_frame, batch_source=batch_path
            )
            result.outcome, result.reason = outcome, why
            result.scores.update(compared)
            result.repro_seconds = None if seconds is None else round(seconds, 2)
    if labelled:  # labels bought at a label request's asking are booked (with the saving)
        book_purchase(project, batch_path, labelled_frame, target)
    if decision.alert and not labelled:
        requested = request_labels(project, frame, batch_path, target, label_settings)
        if requested is not None:
            record("labels_requested", notify=True, **requested)
    result.champion = store.current_version()
    result.events = record.events
    return result


__all__ = [
    "RetrainFailedError",
    "WatchResult",
    "add_batch",
    "attach_labels",
    "challenge",
    "ensure_champion",
    "project_lock",
    "recover_interrupted",
    "run_repro",
    "set_aside_batch",
    "stop_orphans",
    "train_first_champion",
    "watch_batch",
]
