"""The event log: one JSON line per check, alert, retrain, promotion or refusal.

Append-only ``events.jsonl`` in the project's state folder (``<project>/.halfcost/``). Each
line is written with a single ``write`` on a file opened with ``O_APPEND`` while holding an
exclusive ``flock``, then ``fsync``'d, so concurrent writers never interleave and a crash
loses at most the line being written. The schema is documented in ``docs/events.md``; the
governance registry ingests the file, and the alert policy derives consecutive drifting
batches and cooldowns from it (no other state file).
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from halfcost.errors import BadInputError
from halfcost.jsonio import to_json

SCHEMA_VERSION = 1
KINDS = ("check", "alert", "retrain_started", "retrain", "retrain_failed", "promotion", "refusal")
STATE_DIR = ".halfcost"
EVENTS_FILE = "events.jsonl"
# field -> default; every line carries every field
FIELDS: dict[str, Any] = {
    "project": None,
    "batch": None,
    "batch_rows": None,
    "data_version": None,
    "champion": None,
    "challenger": None,
    "scores": dict,
    "decision": "",
    "reason": "",
    "details": dict,
}


def make_event(kind: str, *, time: datetime | None = None, **fields: Any) -> dict[str, Any]:
    """Build one event (a dict in the documented schema) without writing it.

    Args:
        kind: one of :data:`KINDS`.
        time: when it happened (default: now); stored in UTC, ISO-8601 with ``+00:00``.
        **fields: any of :data:`FIELDS`; the others get their defaults.

    Raises:
        ValueError: an unknown kind or field (a programming error, not user input).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}; choose one of {', '.join(KINDS)}")
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise ValueError(
            f"unknown event field(s) {', '.join(unknown)}; choose from {', '.join(FIELDS)}"
        )
    moment = (time or datetime.now(UTC)).astimezone(UTC)
    event: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "event_id": uuid.uuid4().hex,
        "time": moment.isoformat(),
        "kind": kind,
    }
    for name, default in FIELDS.items():
        value = fields.get(name)
        event[name] = (default() if callable(default) else default) if value is None else value
    return event


class EventLog:
    """Append-only JSON-lines log of a project's drift events.

    Args:
        path: the ``events.jsonl`` file (created with its folder on first append).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @classmethod
    def for_project(cls, project: str | os.PathLike[str]) -> EventLog:
        """The log at ``<project>/.halfcost/events.jsonl``."""
        return cls(Path(project) / STATE_DIR / EVENTS_FILE)

    def append(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Append one event (see :func:`make_event`) and return it as written."""
        return self.write(make_event(kind, **fields))

    def write(self, event: dict[str, Any]) -> dict[str, Any]:
        """Append an event built with :func:`make_event` (one line, locked, fsync'd)."""
        line = (to_json(event, indent=None) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                written = os.write(fd, line)
                if written != len(line):  # pragma: no cover - a full disk
                    raise OSError(f"short write to {self.path}: {written} of {len(line)} bytes")
                os.fsync(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        if created:  # make the new file's directory entry durable too
            _fsync_directory(self.path.parent)
        return event

    def read(self, kinds: str | list[str] | tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """All events in the order written, optionally only those of ``kinds``.

        A final line without its newline (a writer killed mid-line) is ignored.

        Raises:
            BadInputError: a complete line is not valid JSON (names the line and the fix).
        """
        if not self.path.exists():
            return []
        wanted = {kinds} if isinstance(kinds, str) else set(kinds) if kinds else None
        text = self.path.read_text(encoding="utf-8")
        lines = text.split("\n")
        complete = lines[:-1]  # the piece after the last newline is empty or torn
        events = []
        for number, line in enumerate(complete, start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError as exc:
                raise BadInputError(
                    f"{self.path}:{number}: not a JSON event ({exc.args[0]}); "
                    "fix or remove that line (the log is append-only text)."
                ) from exc
            if wanted is None or event.get("kind") in wanted:
                events.append(event)
        return events


def _fsync_directory(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def parse_time(value: str) -> datetime:
    """An event's ``time`` as an aware UTC datetime."""
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
