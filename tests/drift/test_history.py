"""`halfcost drift history`: the decisions of a project, read back from its event log."""

from __future__ import annotations

import json

import pytest

from halfcost.drift import EventLog, history
from halfcost.drift._history import format_history
from halfcost.drift._init import render_pipeline
from halfcost.errors import BadInputError


@pytest.fixture
def project(tmp_path):
    for name, text in render_pipeline().items():
        (tmp_path / name).write_text(text)
    log = EventLog(tmp_path / ".halfcost" / "events.jsonl")
    log.append("check", batch="a.csv", decision="no_drift", reason="no alert")
    log.append("alert", batch="b.csv", decision="retrain", reason="plan drifted")
    log.append("retrain_started", batch="b.csv", decision="retrain", reason="plan drifted")
    log.append(
        "promotion",
        batch="b.csv",
        champion="v0002",
        challenger="v0002",
        decision="promoted",
        reason="challenger beats the champion",
        scores={"challenger_holdout": 0.83, "champion_holdout": 0.8},
    )
    return tmp_path


def test_history_lists_decisions_and_hides_checks_unless_asked(project):
    kinds = [e["kind"] for e in history(project)]
    assert kinds == ["alert", "retrain_started", "promotion"]
    assert next(e["kind"] for e in history(project, include_checks=True)) == "check"
    assert [e["kind"] for e in history(project, kinds=["promotion"])] == ["promotion"]
    assert len(history(project, last=2)) == 2


def test_history_table_shows_reasons_and_scores(project):
    table = format_history(history(project))
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["time", "(UTC)", "kind"]
    promotion = next(line for line in lines if "promotion" in line)
    assert "v0002" in promotion and "challenger beats the champion" in promotion
    assert "challenger_holdout=0.830" in table


def test_history_cli_json_and_bad_kind(project, cli):
    proc = cli(["drift", "history", "--project", str(project), "--json"])
    assert proc.returncode == 0, proc.stderr
    assert [e["kind"] for e in json.loads(proc.stdout)][-1] == "promotion"
    bad = cli(["drift", "history", "--project", str(project), "--kind", "promo"])
    assert bad.returncode == 2 and "unknown event kind promo" in bad.stderr
    with pytest.raises(BadInputError, match="no such project folder"):
        history(project / "elsewhere")


def test_empty_history_says_what_to_do(tmp_path):
    for name, text in render_pipeline().items():
        (tmp_path / name).write_text(text)
    assert history(tmp_path) == []
    assert "halfcost drift watch" in format_history([])
