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


TORN_LOGS = {
    # name: the log's bytes before the next append (each ends without its newline)
    "torn_line": lambda whole: whole + b'{"event_id": "x", "kind": "che',
    "truncated_file": lambda whole: whole[: len(whole) - 17],  # cut inside the last event
    "only_a_fragment": lambda whole: b'{"event_id": "x"',
}


@pytest.mark.parametrize("damage", sorted(TORN_LOGS))
def test_a_writer_moves_a_torn_last_line_aside_first(tmp_path, damage):
    log = EventLog(tmp_path / "events.jsonl")
    for kind in ("check", "alert"):
        log.append(kind)
    damaged = TORN_LOGS[damage](log.path.read_bytes())
    log.path.write_bytes(damaged)
    kept = damaged[: damaged.rfind(b"\n") + 1]  # the whole lines before the fragment
    readable = log.read()  # the reader skips the fragment
    written = log.append("check", batch="next")
    raw = log.path.read_bytes()
    assert raw.startswith(kept) and raw.endswith(b"\n")
    events = log.read()
    assert events[: len(readable)] == readable
    repaired, last = events[len(readable) :]
    assert repaired["kind"] == "log_repaired" and last == written
    fragment = damaged[len(kept) :]
    assert repaired["details"]["torn_bytes"] == len(fragment)
    assert log.torn_path.read_bytes() == fragment + b"\n"
    log.append("check")  # the log now ends cleanly: nothing more is repaired
    assert [e["kind"] for e in log.read()][-3:] == ["log_repaired", "check", "check"]


def test_a_last_event_without_its_newline_is_kept(tmp_path):
    log = EventLog(tmp_path / "events.jsonl")
    first = log.append("check")
    log.path.write_bytes(log.path.read_bytes().rstrip(b"\n"))  # a hand-edited file
    assert log.read() == [first]
    log.append("alert")
    assert [e["kind"] for e in log.read()] == ["check", "log_repaired", "alert"]
    assert log.read()[1]["decision"] == "newline_added" and not log.torn_path.exists()


def test_an_empty_log_reads_as_no_events_and_takes_appends(tmp_path):
    log = EventLog(tmp_path / "events.jsonl")
    log.path.write_bytes(b"")
    assert log.read() == []
    log.append("check")
    assert [e["kind"] for e in log.read()] == ["check"]
    assert not log.torn_path.exists()


def test_governance_reads_the_log_with_the_same_reader(tmp_path):
    from halfcost.governance import ingest

    log = EventLog(tmp_path / "events.jsonl")
    log.append("check")
    log.path.write_bytes(log.path.read_bytes() + b'{"event_id": "x", "ki')
    result = ingest(log.path, project="p", team="t", db=f"sqlite:///{tmp_path / 'r.db'}")
    assert result["added"] == 1  # the whole line; the torn one skipped, as EventLog reads it


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
