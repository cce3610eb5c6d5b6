"""The shared records: every kind defined once, every record round-trips, old reports read."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from halfcost.errors import BadInputError
from halfcost.records import (
    REPORT_SCHEMA_VERSION,
    CleanReport,
    DataLineage,
    Event,
    LabelingReport,
    ModelEntry,
    SearchReport,
    file_lineage,
    money_from_json,
    money_to_json,
    read_jsonl,
    read_report,
)

WHEN = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _entry(**extra: object) -> ModelEntry:
    return ModelEntry(
        family="lightgbm",
        params={"n_estimators": 3},
        cv_score=0.81,
        holdout_score=0.8,
        latency_ms_per_1k=0.12,
        size_bytes=4096,
        train_seconds=0.4,
        cost_per_1m_predictions_usd=Decimal("0.000333"),
        train_cost_usd=Decimal("0.0000111"),
        extra=dict(extra),
    )


@pytest.mark.parametrize(
    "record",
    [
        SearchReport(
            created_at=WHEN,
            halfcost_version="0.1.0",
            data=DataLineage(path="train.csv", sha256="ab" * 32, rows=100),
            chosen=_entry(latency_ms_single_row=0.05),
            baseline=_entry(),
            metric="roc_auc",
            met=True,
            pareto=[{"family": "linear", "cv_score": 0.8}],
            extra={"trials": [{"number": 0}], "warnings": []},
        ),
        CleanReport(
            created_at=WHEN,
            rows_in=10,
            rows_clean=8,
            rows_repaired=1,
            rows_quarantined=2,
            review_cost_per_row_usd=Decimal("0.25"),
            extra={"columns": {"a": {"kind": "code"}}},
        ),
        LabelingReport(
            created_at=WHEN,
            labels_bought=50,
            labels_saved_vs_random=70,
            cost_per_label_usd=Decimal("1.20"),
        ),
    ],
    ids=["search", "clean", "labeling"],
)
def test_reports_round_trip_through_json(record) -> None:
    text = json.dumps(record.to_dict())
    back = read_report(json.loads(text))
    assert back == record
    assert json.loads(text)["schema_version"] == REPORT_SCHEMA_VERSION


def test_money_crosses_json_as_decimal_strings() -> None:
    entry = _entry().to_dict()
    assert entry["cost_per_1m_predictions_usd"] == "0.000333"
    assert entry["train_cost_usd"] == "0.0000111"
    assert money_to_json(Decimal("1E-7")) == "0.0000001"  # never scientific notation
    with pytest.raises(TypeError, match="must be a Decimal"):
        money_to_json(0.1)  # type: ignore[arg-type]


def test_version_1_reports_with_float_money_are_read() -> None:
    v1 = {
        "kind": "search",
        "created_at": "2026-01-01T00:00:00+00:00",
        "chosen": {"family": "tree", "cost_per_1m_predictions_usd": 3.014e-06, "cv_score": 0.9},
        "baseline": {"family": "lightgbm", "cost_per_1m_predictions_usd": 0.0001},
    }
    report = SearchReport.from_dict(v1)
    assert report.schema_version == 1
    assert report.chosen.cost_per_1m_predictions_usd == Decimal("0.000003014")
    assert report.to_dict()["schema_version"] == 2
    labeling = read_report(
        {"kind": "labeling", "labels_bought": 1, "labels_saved_vs_random": 0, "cost_per_label": 2}
    )
    assert labeling.cost_per_label_usd == Decimal(2)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"kind": "search", "chosen": {}}, "needs a 'chosen' model"),
        ({"kind": "clean", "rows_repaired": -1, "rows_quarantined": 0}, "rows_repaired must be"),
        ({"kind": "clean", "rows_repaired": 1}, "rows_quarantined must be"),
        ({"kind": "labeling", "labels_bought": "5", "labels_saved_vs_random": 0}, "labels_bought"),
        ({"kind": "nope"}, "unknown report kind 'nope'; choose one of search, clean, labeling"),
    ],
)
def test_bad_reports_are_one_line_errors(data: dict, words: str) -> None:
    with pytest.raises(BadInputError, match=words):
        read_report(data, where="r.json")


def test_money_from_json_refuses_non_numbers() -> None:
    assert money_from_json("0.10") == Decimal("0.10")
    for bad in ("ten", True, "NaN"):
        with pytest.raises(BadInputError, match="price"):
            money_from_json(bad, where="x", key="price")


def test_events_round_trip_and_fill_defaults() -> None:
    event = Event.make("alert", project="p", batch="b.csv", scores={"share": 0.4})
    again = Event.from_dict(json.loads(json.dumps(event.to_dict())))
    assert again == event
    minimal = Event.from_dict({"event_id": "x", "kind": "check", "time": "2026-01-01T00:00:00"})
    assert minimal.time.tzinfo is not None
    assert minimal.scores == {} and minimal.decision == ""
    with pytest.raises(BadInputError, match="a kind among check, alert"):
        Event.from_dict({"event_id": "x", "kind": "chek"})
    with pytest.raises(ValueError, match="unknown event kind"):
        Event.make("chek")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ('{"a": 1}\n{"a": 2}\n', [1, 2]),
        ('{"a": 1}\n{"a": 2', [1]),  # torn last line: the writer was killed mid-line
        ('{"a": 1}\n{"a": 2}', [1, 2]),  # a whole last object without its newline is read
        ('{"a": 1}\n\n{"a": 3}\n', [1, 3]),
    ],
)
def test_read_jsonl_tolerates_a_torn_last_line(text: str, expected: list[int]) -> None:
    assert [record["a"] for _, record in read_jsonl(text.encode())] == expected


def test_read_jsonl_names_a_broken_complete_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"a": 1}\n{"a": \n{"a": 3}\n')
    with pytest.raises(BadInputError, match=r"events\.jsonl:2: not a JSON object"):
        list(read_jsonl(path))
    path.write_text("[1]\n")
    with pytest.raises(BadInputError, match=r":1: not a JSON object"):
        list(read_jsonl(path))
    assert list(read_jsonl(tmp_path / "missing.jsonl")) == []


def test_file_lineage_hashes_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a\n1\n")
    lineage = file_lineage(path, rows=1)
    assert lineage.sha256 == hashlib.sha256(b"a\n1\n").hexdigest()
    assert DataLineage.from_dict(lineage.to_dict()) == lineage
