"""The event log: schema, UTC times, filtering, torn lines, concurrent appends."""

from __future__ import annotations

import json
import multiprocessing
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from halfcost.drift import EventLog
from halfcost.drift._events import FIELDS, KINDS, SCHEMA_VERSION
from halfcost.errors import BadInputError

SCHEMA_KEYS = {"schema_version", "event_id", "time", "kind", *FIELDS}


def test_append_writes_one_complete_line_per_event(tmp_path):
    log = EventLog.for_project(tmp_path)
    assert log.path == tmp_path / ".halfcost" / "events.jsonl"
    local = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    event = log.append(
        "alert",
        project="p",
        batch="b1",
        batch_rows=10,
        time=local,
        scores={"accuracy": 0.8},
        decision="retrain",
        reason="why",
    )
    lines = log.path.read_text().splitlines()
    assert len(lines) == 1
    stored = json.loads(lines[0])
    assert stored == event and set(stored) == SCHEMA_KEYS
    assert stored["schema_version"] == SCHEMA_VERSION
    assert re.fullmatch(r"[0-9a-f]{32}", stored["event_id"])
    assert stored["time"] == "2026-03-01T10:00:00+00:00"
    assert stored["details"] == {} and stored["champion"] is None


def test_read_filters_by_kind_in_order(tmp_path):
    log = EventLog(tmp_path / "events.jsonl")
    assert log.read() == []
    for kind in ("check", "alert", "check", "promotion"):
        log.append(kind)
    assert [e["kind"] for e in log.read()] == ["check", "alert", "check", "promotion"]
    assert [e["kind"] for e in log.read("check")] == ["check", "check"]
    assert [e["kind"] for e in log.read(["alert", "promotion"])] == ["alert", "promotion"]
    assert datetime.fromisoformat(log.read()[0]["time"]).tzinfo == UTC


def test_unknown_kind_or_field_is_refused(tmp_path):
    log = EventLog(tmp_path / "events.jsonl")
    with pytest.raises(ValueError, match="choose one of check, alert"):
        log.append("retrained")
    with pytest.raises(ValueError, match="unknown event field"):
        log.append("check", colour="red")
    assert set(KINDS) >= {"check", "alert", "retrain", "promotion", "refusal"}


def test_torn_last_line_is_ignored_and_corrupt_line_named(tmp_path):
    log = EventLog(tmp_path / "events.jsonl")
    log.append("check")
    with log.path.open("a") as handle:
        handle.write('{"kind": "alert", "ti')  # a writer killed mid-line
    assert len(log.read()) == 1
    log.path.write_text('{"kind": "check"}\nnot json\n{"kind": "check"}\n')
    with pytest.raises(BadInputError, match=r"events.jsonl:2: not a JSON object"):
        log.read()


def _append_many(path: str, worker: int, count: int) -> None:
    log = EventLog(path)
    for i in range(count):
        log.append("check", batch=f"w{worker}-{i}", details={"padding": "x" * 2000})


def test_concurrent_appends_never_interleave(tmp_path):
    path = str(tmp_path / "events.jsonl")
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_append_many, args=(path, w, 150)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    events = EventLog(path).read()
    assert len(events) == 600
    assert len({e["event_id"] for e in events}) == 600
    assert {e["batch"] for e in events} == {f"w{w}-{i}" for w in range(4) for i in range(150)}
