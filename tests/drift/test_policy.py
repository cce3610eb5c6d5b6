"""The alert policy: weighting, batch size, consecutive batches, cooldown, triggers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from halfcost.drift import AlertPolicy, EventLog, check_drift
from halfcost.drift._check import ColumnDrift, DriftResult
from halfcost.drift._stats import JENSEN_SHANNON, WASSERSTEIN
from halfcost.errors import BadInputError

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def result_with(drifted: list[str], columns: int = 10) -> DriftResult:
    """A check result with ``columns`` columns (c0, c1, ...) of which ``drifted`` drifted."""
    names = [f"c{i}" for i in range(columns)]
    entries = {
        name: ColumnDrift(
            name,
            "numerical",
            WASSERSTEIN,
            0.5 if name in drifted else 0.01,
            0.1,
            name in drifted,
            "profile",
            True,
        )
        for name in names
    }
    return DriftResult(
        entries, drift_share=0.5, skipped={}, rows={"reference": 1, "current": 1}, sampled={}
    )


def check_event(log: EventLog, policy: AlertPolicy, result: DriftResult, when: datetime):
    decision = policy.decide(result, events=log.read(), batch_rows=1000, now=when)
    log.append("check", time=when, batch_rows=1000, **decision.check_event_fields(result))
    return decision


def test_defaults_match_the_contract_and_unknown_keys_are_named():
    policy = AlertPolicy.from_params(None)
    assert policy.to_dict() == {
        "drift_share": 0.5,
        "alert_share": 0.3,
        "importance_weighted": True,
        "min_batch_rows": 100,
        "consecutive_batches": 1,
        "cooldown_hours": 0.0,
        "manual_trigger": False,
        "score_drop_trigger": True,
        "webhook_url": None,
        "sample_rows": 100_000,
    }
    with pytest.raises(
        BadInputError, match=r"unknown key\(s\) alert_shar .*choose from drift_share"
    ):
        AlertPolicy.from_params({"alert_shar": 0.2})
    with pytest.raises(BadInputError, match=r"alert_share must be in \(0, 1\], but got 1.5"):
        AlertPolicy.from_params({"alert_share": 1.5})
    with pytest.raises(BadInputError, match="consecutive_batches must be an integer >= 1"):
        AlertPolicy.from_params({"consecutive_batches": 0})
    with pytest.raises(BadInputError, match="webhook_url"):
        AlertPolicy.from_params({"webhook_url": "ftp://x"})


def test_share_threshold_and_reasons_name_the_columns():
    policy = AlertPolicy()
    calm = policy.decide(result_with(["c1", "c2"]), events=[], batch_rows=500)
    assert not calm.alert and not calm.retrain
    assert calm.reasons[0] == "2 of 10 columns drifted (share 0.20 < 0.30): c1, c2"
    drifting = policy.decide(result_with(["c1", "c2", "c3"]), events=[], batch_rows=500)
    assert drifting.alert and drifting.retrain and drifting.triggers == ["drift"]
    assert drifting.reasons[0] == "3 of 10 columns drifted (share 0.30 ≥ 0.30): c1, c2, c3"


def test_importance_weighting_counts_what_the_model_uses():
    importances = {"c0": 0.6, "c1": 0.3, "c2": 0.1}
    one_important = result_with(["c0"])
    weighted = AlertPolicy().decide(
        one_important, events=[], batch_rows=500, importances=importances
    )
    assert weighted.alert and weighted.weighted_share == pytest.approx(0.6)
    assert "weighted share 0.60 ≥ 0.30" in weighted.reasons[0]
    unweighted = AlertPolicy(importance_weighted=False).decide(
        one_important, events=[], batch_rows=500, importances=importances
    )
    assert not unweighted.alert and unweighted.weighted_share == pytest.approx(0.1)
    unused = AlertPolicy().decide(
        result_with(["c5", "c6", "c7", "c8"]), events=[], batch_rows=500, importances=importances
    )
    assert not unused.alert and unused.weighted_share == 0.0


def test_small_batch_is_not_judged():
    decision = AlertPolicy(min_batch_rows=100).decide(
        result_with(["c0", "c1", "c2", "c3"]), events=[], batch_rows=40
    )
    assert not decision.alert and not decision.judged
    assert decision.check_decision == "too_small"
    assert decision.reasons[0] == "batch too small to judge drift: 40 rows < min_batch_rows 100"


def test_consecutive_batches_come_from_the_event_log(tmp_path):
    log = EventLog(tmp_path / "events.jsonl")
    policy = AlertPolicy(consecutive_batches=3)
    drifted, calm = result_with(["c0", "c1", "c2", "c3"]), result_with([])
    times = [NOW + timedelta(hours=h) for h in range(8)]
    assert not check_event(log, policy, drifted, times[0]).alert
    assert not check_event(log, policy, calm, times[1]).alert  # breaks the run
    first = check_event(log, policy, drifted, times[2])
    assert "drifting batch 1 of 3 consecutive needed: no alert yet" in first.reasons
    assert not check_event(log, policy, drifted, times[3]).alert
    third = check_event(log, policy, drifted, times[4])
    assert third.alert and third.consecutive == 3
    assert "3 consecutive drifting batches (≥ 3 needed)" in third.reasons
    log.append("promotion", time=times[5])  # a new champion: count afresh
    assert check_event(log, policy, drifted, times[6]).consecutive == 1


def test_cooldown_blocks_retrain_but_not_the_alert_and_manual_overrides(tmp_path):
    log = EventLog(tmp_path / "events.jsonl")
    log.append("retrain_started", time=NOW - timedelta(hours=2))
    log.append("retrain", time=NOW - timedelta(hours=2))
    policy = AlertPolicy(cooldown_hours=24)
    drifted = result_with(["c0", "c1", "c2", "c3"])
    held = policy.decide(drifted, events=log.read(), batch_rows=500, now=NOW)
    assert held.alert and not held.retrain
    assert "cooldown: last retrain 2h ago < 24h; alert only, no retrain" in held.reasons
    later = policy.decide(drifted, events=log.read(), batch_rows=500, now=NOW + timedelta(hours=23))
    assert later.alert and later.retrain
    manual = policy.decide(result_with([]), events=log.read(), batch_rows=500, now=NOW, manual=True)
    assert manual.alert and manual.retrain and manual.triggers == ["manual"]
    assert any(r.startswith("manual trigger overrides the cooldown") for r in manual.reasons)


def test_labelled_score_below_target_triggers():
    policy = AlertPolicy()
    calm = result_with([])
    dropped = policy.decide(calm, events=[], batch_rows=500, labelled_score=0.71, target_score=0.8)
    assert dropped.alert and dropped.triggers == ["score_drop"]
    assert "champion's score on the labelled batch 0.7100 < target 0.8000" in dropped.reasons
    fine = policy.decide(calm, events=[], batch_rows=500, labelled_score=0.85, target_score=0.8)
    assert not fine.alert
    off = AlertPolicy(score_drop_trigger=False).decide(
        calm, events=[], batch_rows=500, labelled_score=0.71, target_score=0.8
    )
    assert not off.alert
    assert AlertPolicy(manual_trigger=True).decide(calm, events=[], batch_rows=500).retrain


def test_real_checks_no_drift_no_alert_and_shift_alerts_naming_the_column(monitor_frame):
    reference = monitor_frame(3000, seed=1)
    policy = AlertPolicy()
    calm = check_drift(reference, monitor_frame(2000, seed=5))
    assert not policy.decide(calm, events=[], batch_rows=2000).alert
    importances = {"spend": 0.5, "plan": 0.2, "age": 0.1, "tenure": 0.1, "calls": 0.1}
    shifted = check_drift(reference, monitor_frame(2000, seed=5, shift_std=0.75))
    decision = policy.decide(shifted, events=[], batch_rows=2000, importances=importances)
    assert decision.alert and decision.drifted_columns == ["spend"]
    assert decision.reasons[0] == "1 of 9 columns drifted (weighted share 0.50 ≥ 0.30): spend"
    assert JENSEN_SHANNON.display_name in {
        c["method"] for c in shifted.to_dict()["columns"].values()
    }
