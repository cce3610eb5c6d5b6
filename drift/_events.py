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
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from halfcost.jsonio import to_json
from halfcost.records import EVENT_FIELDS, EVENT_SCHEMA_VERSION, Event, EventKind, read_jsonl
from halfcost.records import parse_time as _parse_time

SCHEMA_VERSION = EVENT_SCHEMA_VERSION
KINDS = tuple(str(kind) for kind in EventKind)
STATE_DIR = ".halfcost"
EVENTS_FILE = "events.jsonl"
FIELDS = EVENT_FIELDS  # field -> default factory; every line carries every field


def make_event(kind: str, *, time: datetime | None = None, **fields: Any) -> dict[str, Any]:
    """Build one event (a dict in the documented schema) without writing it.

    Args:
        kind: one of :data:`KINDS`.
        time: when it happened (default: now); stored in UTC, ISO-8601 with ``+00:00``.
        **fields: any of :data:`FIELDS`; the others get their defaults.

    Raises:
        ValueError: an unknown kind or field (a programming error, not user input).
    """
    return Event.make(kind, time=time, **fields).to_dict()


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

        A torn final line (a writer killed mid-line) is ignored
        (:func:`halfcost.records.read_jsonl`, the one reader of JSON lines).

        Raises:
            BadInputError: a complete line is not a JSON object (names the line and the fix).
        """
        wanted = {kinds} if isinstance(kinds, str) else set(kinds) if kinds else None
        return [
            event
            for _, event in read_jsonl(self.path)
            if wanted is None or event.get("kind") in wanted
        ]


def _fsync_directory(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def parse_time(value: str) -> datetime:
    """An event's ``time`` as an aware UTC datetime."""
    return _parse_time(value)
