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
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from halfcost.jsonio import to_json
from halfcost.records import (
    EVENT_FIELDS,
    EVENT_SCHEMA_VERSION,
    Decision,
    Event,
    EventKind,
    read_jsonl,
)
from halfcost.records import parse_time as _parse_time

SCHEMA_VERSION = EVENT_SCHEMA_VERSION
KINDS = tuple(str(kind) for kind in EventKind)
STATE_DIR = ".halfcost"
EVENTS_FILE = "events.jsonl"
TORN_SUFFIX = ".torn"  # events.jsonl.torn: torn last lines a writer moved out of the log
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
        """Append an event built with :func:`make_event` (one line, locked, fsync'd).

        A torn last line (a writer killed mid-line) is first moved to
        ``events.jsonl.torn`` and a ``log_repaired`` event recorded, so this event starts
        on a line of its own instead of being glued onto the fragment.
        """
        line = _line(event)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                repaired = self._repair_torn_tail(fd)
                if repaired is not None:
                    _write_all(fd, _line(repaired), self.path)
                _write_all(fd, line, self.path)
                os.fsync(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        if created:  # make the new file's directory entry durable too
            _fsync_directory(self.path.parent)
        return event

    @property
    def torn_path(self) -> Path:
        """Where torn last lines go: ``events.jsonl.torn`` beside the log."""
        return self.path.with_name(self.path.name + TORN_SUFFIX)

    def _repair_torn_tail(self, fd: int) -> dict[str, Any] | None:
        """Move a final line without its newline out of the log (caller holds the flock).

        Returns the ``log_repaired`` event to write first, or None when the log ends cleanly.
        """
        size = os.fstat(fd).st_size
        if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return None
        start = size
        while start > 0:  # find the last newline, reading backwards in blocks
            block = min(65536, start)
            chunk = os.pread(fd, block, start - block)
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                start = start - block + cut + 1
                break
            start -= block
        fragment = os.pread(fd, size - start, start)
        if _whole_event(fragment):  # only its newline is missing (a hand-edited file): keep it
            os.write(fd, b"\n")
            return make_event(
                "log_repaired",
                decision=Decision.NEWLINE_ADDED,
                reason="the log's last event had no newline; one was added after it.",
                details={"offset": size},
            )
        with open(self.torn_path, "ab") as torn:
            torn.write(fragment + b"\n")
            torn.flush()
            os.fsync(torn.fileno())
        os.ftruncate(fd, start)
        return make_event(
            "log_repaired",
            decision=Decision.TORN_LINE_MOVED,
            reason=(
                f"the log's last line was torn (a writer stopped mid-line); its {len(fragment)} "
                f"byte(s) were moved to {self.torn_path.name} so every event is a whole line."
            ),
            details={"torn_bytes": len(fragment), "moved_to": str(self.torn_path), "offset": start},
        )

    def read(self, kinds: str | list[str] | tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """All events in the order written, optionally only those of ``kinds``.

        A final line without its newline (a writer killed mid-line) is ignored.

        Raises:
            BadInputError: a complete line is not a JSON object (names the line and the fix).
        """
        if not self.path.exists():
            return []
        wanted = {kinds} if isinstance(kinds, str) else set(kinds) if kinds else None
        return [
            event
            for _, event in parse_event_lines(self.path.read_bytes(), self.path)
            if wanted is None or event.get("kind") in wanted
        ]


def parse_event_lines(
    raw: bytes | str, path: str | os.PathLike[str]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, event) for each complete line of an event log's content, in order.

    :meth:`EventLog.read`, ``drift history`` and the registry's ingest all read through
    :func:`halfcost.records.read_jsonl`, the one reader of JSON lines: the piece after
    the last newline is empty or a torn line (a writer killed mid-line) and is skipped.

    Raises:
        BadInputError: the content is not UTF-8, or a complete line is not a JSON object.
    """
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    return read_jsonl(data, name=str(path))


def _whole_event(fragment: bytes) -> bool:
    try:
        return isinstance(json.loads(fragment), dict)
    except ValueError:
        return False


def _line(event: dict[str, Any]) -> bytes:
    return (to_json(event, indent=None) + "\n").encode("utf-8")


def _write_all(fd: int, data: bytes, path: Path) -> None:
    written = os.write(fd, data)
    if written != len(data):  # pragma: no cover - a full disk
        raise OSError(f"short write to {path}: {written} of {len(data)} bytes")


def _fsync_directory(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def parse_time(value: str) -> datetime:
    """An event's ``time`` as an aware UTC datetime."""
    return _parse_time(value)
