"""Finalist selection and the final choice, as pure functions: no model is fitted here."""

from __future__ import annotations

import optuna
from optuna.distributions import CategoricalDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from halfcost.automl._cost import CostMeasurement
from halfcost.automl._finalists import (
    Finalist,
    TrialRecord,
    choose,
    pareto_front,
    pick_finalists,
    trial_records,
)


def _record(trial: int, cv: float, latency: float, measured: bool = True) -> TrialRecord:
    return TrialRecord(trial, {"family": "tree", "n_features": 3}, cv, latency, measured)


def _finalist(
    trial: int,
    cv: float,
    holdout: float,
    latency: float,
    size: int = 1000,
    recheck: float | None = None,
) -> Finalist:
    cost = CostMeasurement(latency, 0.5, size, 0.1)
    return Finalist({"family": "tree", "n_features": 3}, trial, cv, holdout, cost, recheck)


def test_pareto_front_keeps_only_undominated_points_cheapest_first():
    points = [(5.0, 0.90), (1.0, 0.80), (2.0, 0.80), (3.0, 0.95), (1.0, 0.70)]
    front = pareto_front(points, lambda p: p[0], lambda p: p[1])
    assert front == [(1.0, 0.80), (3.0, 0.95)]


def test_pick_finalists_takes_the_cheapest_feasible_then_the_front():
    records = [
        _record(0, 0.90, 5.0),
        _record(1, 0.86, 1.0),
        _record(2, 0.87, 2.0),
        _record(3, 0.88, 3.0),
        _record(4, 0.95, 9.0),  # the front's top: best score
        _record(5, 0.70, 0.1, measured=False),  # infeasible but cheapest: on the front
    ]
    picked = pick_finalists(records, min_score=0.85, n_finalists=4)
    # the n_finalists - 2 cheapest feasible trials, then the Pareto front cheapest first
    # (5, 1, 2, 3, 0, 4) until the places run out
    assert [r.trial for r in picked] == [1, 2, 5, 3]
    assert [r.trial for r in pick_finalists(records, 0.85, n_finalists=6)] == [1, 2, 3, 0, 5, 4]


def _of(family: str, trial: int, cv: float, latency: float) -> TrialRecord:
    return TrialRecord(trial, {"family": family, "n_features": 3}, cv, latency, True)


def test_pick_finalists_gives_a_family_near_the_cheapest_a_place():
    records = [_of("tree", i, 0.9, 1.0 + i / 10) for i in range(6)]
    records += [_of("linear", 10, 0.9, 1.9), _of("mlp", 11, 0.9, 2.1)]
    picked = [r.trial for r in pick_finalists(records, 0.85, n_finalists=4)]
    # linear's best (1.9) is within 2x of the cheapest (1.0) and displaces the second
    # tree; mlp's (2.1) is not, and gets no place ahead of the cheaper trees
    assert picked[:2] == [0, 10]
    assert 11 not in picked and len(picked) == 4


def test_pick_finalists_gives_every_family_a_place_for_another_runtime():
    records = [_of("tree", i, 0.9, 1.0 + i / 10) for i in range(6)]
    records += [_of("linear", 10, 0.9, 8.0), _of("mlp", 11, 0.9, 30.0)]
    records.append(_of("forest", 12, 0.80, 0.5))  # misses the target: no family place
    picked = [r.trial for r in pick_finalists(records, 0.85, 3, every_family=True)]
    assert picked[:3] == [0, 10, 11]
    assert 12 not in picked[:3]
    assert 10 not in [r.trial for r in pick_finalists(records, 0.85, 3)]


def test_pick_finalists_adds_the_best_scores_when_none_met_the_target():
    records = [_record(i, 0.5 + i / 100, 1.0 + i, measured=False) for i in range(8)]
    picked = pick_finalists(records, min_score=0.9, n_finalists=2)
    assert {7, 6, 5} <= {r.trial for r in picked}


def test_choose_prefers_the_cheapest_finalist_confirmed_on_the_holdout():
    lucky = _finalist(0, cv=0.91, holdout=0.80, latency=1.0)  # 10 points below held out
    solid = _finalist(1, cv=0.90, holdout=0.89, latency=2.0)
    costly = _finalist(2, cv=0.95, holdout=0.95, latency=9.0)
    assert choose([lucky, solid, costly], min_score=0.9) is solid


def test_choose_passes_over_a_finalist_failing_the_second_split():
    rechecked_low = _finalist(0, cv=0.91, holdout=0.92, latency=1.0, recheck=0.85)
    rechecked_ok = _finalist(1, cv=0.90, holdout=0.90, latency=3.0, recheck=0.91)
    assert choose([rechecked_low, rechecked_ok], min_score=0.9) is rechecked_ok


def test_choose_falls_back_on_cv_when_no_finalist_is_confirmed():
    a = _finalist(0, cv=0.91, holdout=0.50, latency=2.0)
    b = _finalist(1, cv=0.92, holdout=0.50, latency=1.0)
    assert choose([a, b], min_score=0.9) is b


def test_choose_breaks_a_latency_near_tie_by_size():
    fast_big = _finalist(0, cv=0.9, holdout=0.9, latency=1.00, size=50_000)
    near_small = _finalist(1, cv=0.9, holdout=0.9, latency=1.04, size=2_000)
    far_smaller = _finalist(2, cv=0.9, holdout=0.9, latency=1.20, size=1_000)
    assert choose([fast_big, near_small, far_smaller], min_score=0.9) is near_small


def test_choose_breaks_an_online_near_tie_by_the_batch_latency():
    from halfcost.automl._cost import OBJECTIVES

    def finalist(trial, batch_ms, row_ms, size):
        cost = CostMeasurement(batch_ms, row_ms, size, 0.1)
        return Finalist({"family": "tree", "n_features": 3}, trial, 0.9, 0.9, cost)

    # single-row figures within 5%: the model doing less work per row wins, not the smaller
    small_slow = finalist(0, batch_ms=4.0, row_ms=0.200, size=1_000)
    big_fast = finalist(1, batch_ms=1.0, row_ms=0.208, size=9_000)
    slower_row = finalist(2, batch_ms=0.5, row_ms=0.300, size=500)
    online = OBJECTIVES["online"]
    assert choose([small_slow, big_fast, slower_row], 0.8, objective=online) is big_fast


def test_choose_counts_single_row_figures_within_10_microseconds_as_a_tie():
    from halfcost.automl._cost import OBJECTIVES

    def finalist(trial, batch_ms, row_ms):
        cost = CostMeasurement(batch_ms, row_ms, 1_000, 0.1)
        return Finalist({"family": "tree", "n_features": 3}, trial, 0.9, 0.9, cost)

    # 2.3 µs (5.5%) apart in ONNX Runtime, 12x apart per row: the lighter model wins
    heavy = finalist(0, batch_ms=1.53, row_ms=0.0421)
    light = finalist(1, batch_ms=0.127, row_ms=0.0444)
    beyond = finalist(2, batch_ms=0.05, row_ms=0.0525)  # 10.4 µs over: no tie
    online = OBJECTIVES["online"]
    assert choose([heavy, light, beyond], 0.8, objective=online) is light
    # in Python, where requests take milliseconds, only the 5% rule applies
    slow = [finalist(0, 1.53, 2.000), finalist(1, 0.127, 2.108)]
    assert choose(slow, 0.8, objective=online) is slow[0]


def test_choose_without_a_feasible_finalist_takes_the_cheapest_best_score():
    a = _finalist(0, cv=0.80, holdout=0.8, latency=1.0)
    b = _finalist(1, cv=0.85, holdout=0.8, latency=5.0)
    c = _finalist(2, cv=0.85, holdout=0.8, latency=3.0)
    assert choose([a, b, c], min_score=0.9) is c


def test_choose_scales_the_holdout_tolerance_for_error_metrics():
    # neg_rmse target -100: one point is 1% of the target's magnitude, i.e. 1.0
    within = _finalist(0, cv=-99.0, holdout=-100.9, latency=1.0)
    beyond = _finalist(1, cv=-99.0, holdout=-101.5, latency=0.5)
    assert choose([within, beyond], min_score=-100.0, scale=100.0) is within
    assert choose([within, beyond], min_score=-100.0, scale=1.0) is beyond  # none confirmed


def _trial(number: int, state: TrialState, **user_attrs) -> optuna.trial.FrozenTrial:
    trial = create_trial(
        state=state,
        value=1.0 if state == TrialState.COMPLETE else None,
        params={"family": "tree", "n_features": 2, "tree.max_depth": 4},
        distributions={
            "family": CategoricalDistribution(["tree", "gone"]),
            "n_features": IntDistribution(1, 5),
            "tree.max_depth": IntDistribution(1, 10),
        },
        user_attrs=user_attrs,
    )
    trial.number = number
    return trial


def test_trial_records_read_completed_trials_with_stage_overrides():
    trials = [
        _trial(0, TrialState.COMPLETE, cv_score=0.9, rough_ms_per_1k=3.0, latency_ms_per_1k=2.0),
        _trial(1, TrialState.COMPLETE, cv_score=0.7, rough_ms_per_1k=1.5),
        _trial(
            2,
            TrialState.COMPLETE,
            cv_score=0.8,
            rough_ms_per_1k=1.0,
            overrides={"tree.max_depth": 2},
        ),
        _trial(3, TrialState.PRUNED, cv_score_partial=0.99),
    ]
    records = trial_records(trials, {"tree"})
    assert [r.trial for r in records] == [0, 1, 2]
    assert records[0].measured and records[0].latency_ms_per_1k == 2.0
    assert not records[1].measured and records[1].latency_ms_per_1k == 1.5
    assert records[2].params["tree.max_depth"] == 2
    assert trial_records(trials, {"linear"}) == []


def test_trial_records_fall_back_on_partial_scores_when_all_were_pruned():
    trials = [
        _trial(0, TrialState.PRUNED, cv_score_partial=0.6),
        _trial(1, TrialState.PRUNED, cv_score_partial=0.7),
        _trial(2, TrialState.FAIL),
    ]
    records = trial_records(trials, {"tree"})
    assert [(r.trial, r.cv_score, r.measured) for r in records] == [
        (0, 0.6, False),
        (1, 0.7, False),
    ]


def test_the_choice_follows_the_objective():
    from halfcost.automl._cost import OBJECTIVES

    def finalist(trial, batch_ms, row_ms, size):
        cost = CostMeasurement(batch_ms, row_ms, size, 0.1)
        return Finalist({"family": "tree", "n_features": 3}, trial, 0.9, 0.9, cost)

    finalists = [finalist(1, 1.0, 5.0, 9000), finalist(2, 4.0, 0.2, 5000), finalist(3, 8.0, 3, 100)]
    chosen = {name: choose(finalists, 0.8, objective=o).trial for name, o in OBJECTIVES.items()}
    assert chosen == {"batch": 1, "online": 2, "size": 3}


def test_finalists_are_picked_by_the_objectives_figure():
    from halfcost.automl._cost import OBJECTIVES

    def trial(number, batch_ms, size):
        return create_trial(
            params={"family": "tree", "n_features": 3},
            distributions={
                "family": CategoricalDistribution(["tree"]),
                "n_features": IntDistribution(1, 5),
            },
            value=batch_ms,
            user_attrs={
                "cv_score": 0.9,
                "rough_ms_per_1k": batch_ms,
                "latency_ms_per_1k": batch_ms,
                "size_bytes": size,
            },
            state=TrialState.COMPLETE,
        )

    trials = [trial(0, 1.0, 9000), trial(1, 2.0, 100), trial(2, 3.0, 5000)]
    for number, t in enumerate(trials):
        t.number = number
    records = trial_records(trials, {"tree"}, OBJECTIVES["size"])
    assert [r.objective_cost for r in records] == [9000, 100, 5000]
    picked = pick_finalists(records, 0.8, n_finalists=1)
    assert picked[0].cost == 100
