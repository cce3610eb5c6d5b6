"""The fold pruner (an Optuna BasePruner) and the stage choice, on hand-made trials."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState, create_trial

from halfcost.automl._objective import (
    BUDGET,
    CANNOT_REACH,
    COSTLIER,
    MIN_FOR_FOLD_EFFECTS,
    FoldPruner,
    PatienceStop,
    pick_stage,
)


def _running(fold_scores: list[float], rough: float | None = None) -> optuna.trial.FrozenTrial:
    """A trial as the pruner sees it after len(fold_scores) folds."""
    attrs = {"fold_scores": fold_scores}
    if rough is not None:
        attrs["rough_ms_per_1k"] = rough
    means = {i: sum(fold_scores[: i + 1]) / (i + 1) for i in range(len(fold_scores))}
    return create_trial(state=TrialState.RUNNING, intermediate_values=means, user_attrs=attrs)


def _feasible(rough: float, cv: float = 0.9) -> optuna.trial.FrozenTrial:
    return create_trial(
        value=rough,
        params={"x": 0.5},
        distributions={"x": FloatDistribution(0, 1)},
        user_attrs={"cv_score": cv, "rough_ms_per_1k": rough, "latency_ms_per_1k": rough},
    )


def _study(*trials) -> optuna.Study:
    study = optuna.create_study(direction="minimize")
    for trial in trials:
        study.add_trial(trial)
    return study


def test_is_an_optuna_pruner_that_prunes_a_trial_that_cannot_reach_the_target():
    pruner = FoldPruner(min_score=0.9, n_folds=5)
    assert isinstance(pruner, optuna.pruners.BasePruner)
    study = _study()
    pruner.start(study, budget_s=None)
    hopeless = _running([0.86])
    assert pruner.prune(study, hopeless) is True  # 0.86 + 0.03 < 0.9
    assert pruner.reason_for(hopeless.number) == CANNOT_REACH
    assert pruner.prune(study, _running([0.88])) is False  # within the one-fold slack
    # after two folds the slack is twice their spread (at least half a point)
    assert pruner.reason(_running([0.88, 0.88])) == CANNOT_REACH
    assert pruner.reason(_running([0.85, 0.93])) is None


def _completed(fold_scores: list[float]) -> optuna.trial.FrozenTrial:
    """A finished trial of a cross-validated search, with its fold scores."""
    mean = sum(fold_scores) / len(fold_scores)
    return create_trial(value=1.0, user_attrs={"fold_scores": fold_scores, "cv_score": mean})


def _hard_first_fold(n_trials: int) -> list[optuna.trial.FrozenTrial]:
    """Completed trials whose first fold scores 0.04 below the rest, whatever the model."""
    return [
        _completed([m - 0.04, m + 0.01, m + 0.01, m + 0.01, m + 0.01 + 0.002 * (i % 2)])
        for i, m in enumerate(0.80 + 0.02 * i for i in range(n_trials))
    ]


def test_once_trials_completed_a_hard_first_fold_is_not_held_against_a_trial():
    plain, blocked = FoldPruner(min_score=0.9, n_folds=5), FoldPruner(min_score=0.9, n_folds=5)
    plain.start(_study(*_hard_first_fold(MIN_FOR_FOLD_EFFECTS - 1)), budget_s=None)
    blocked.start(_study(*_hard_first_fold(MIN_FOR_FOLD_EFFECTS)), budget_s=None)
    # 0.865 on the hard fold projects to about 0.905 in full: only the plain rule prunes it
    assert plain.reason(_running([0.865])) == CANNOT_REACH
    assert blocked.reason(_running([0.865])) is None
    # (the projection, plus the half-point floor: these trials strayed from it by less)
    assert blocked.optimistic_mean([0.865]) == pytest.approx(0.905 + 0.005, abs=0.001)
    # a trial that stays below the target on the easy folds too is still pruned
    assert blocked.reason(_running([0.84, 0.88])) == CANNOT_REACH
    assert blocked.reason(_running([float("-inf")])) == CANNOT_REACH


def test_the_slack_grows_with_how_far_completed_trials_strayed_from_their_projection():
    steady = _hard_first_fold(6)
    # the same fold offsets, but the first fold says less about the rest of the trial
    unsteady = [
        _completed([s - 0.04, s + 0.01 + d, s + 0.01 + d, s + 0.01 + d, s + 0.01 + d])
        for s, d in zip((0.80, 0.82, 0.84, 0.86, 0.88, 0.90), (0.03, -0.03) * 3, strict=True)
    ]
    tight, loose = FoldPruner(min_score=0.9, n_folds=5), FoldPruner(min_score=0.9, n_folds=5)
    tight.start(_study(*steady), budget_s=None)
    loose.start(_study(*unsteady), budget_s=None)
    assert loose.optimistic_mean([0.85]) > tight.optimistic_mean([0.85]) + 0.02
    assert tight.reason(_running([0.85])) == CANNOT_REACH
    assert loose.reason(_running([0.85])) is None


def test_only_whole_finite_fold_scores_teach_the_fold_offsets():
    broken = [
        _completed([0.5, float("nan"), 0.9, 0.9, 0.9]),
        _completed([0.5, 0.9, 0.9]),  # another fold count (another study's layout)
        create_trial(value=1.0, user_attrs={"cv_score": 0.9}),  # no fold scores
    ]
    pruner = FoldPruner(min_score=0.9, n_folds=5)
    pruner.start(_study(*broken, *_hard_first_fold(MIN_FOR_FOLD_EFFECTS - 1)), budget_s=None)
    assert pruner.reason(_running([0.865])) == CANNOT_REACH  # still the plain rule
    pruner.observe(_study(), _hard_first_fold(1)[0])  # the fifth, seen as it finishes
    assert pruner.reason(_running([0.865])) is None


def test_never_prunes_on_score_after_the_last_fold():
    pruner = FoldPruner(min_score=0.9, n_folds=3)
    pruner.start(_study(), budget_s=None)
    assert pruner.reason(_running([0.5, 0.5])) == CANNOT_REACH
    assert pruner.reason(_running([0.5, 0.5, 0.5])) is None


def test_slack_is_relative_to_the_target_for_error_metrics():
    pruner = FoldPruner(min_score=-100.0, n_folds=5, scale=100.0)
    pruner.start(_study(), budget_s=None)
    assert pruner.reason(_running([-102.0])) is None  # within 3% of the target's size
    assert pruner.reason(_running([-104.0])) == CANNOT_REACH


def test_cost_bound_comes_from_stored_trials_and_from_observed_ones():
    study = _study(_feasible(rough=2.0), _feasible(rough=0.5, cv=0.8))  # the second missed
    pruner = FoldPruner(min_score=0.9, n_folds=5)
    pruner.start(study, budget_s=None)
    assert pruner.reason(_running([0.95], rough=4.5)) == COSTLIER  # > 2 x 2.0
    assert pruner.reason(_running([0.95], rough=3.5)) is None
    assert pruner.reason(_running([0.95])) is None  # staged: no latency until the end
    pruner.observe(study, _feasible(rough=1.0))
    assert pruner.reason(_running([0.95], rough=3.5)) == COSTLIER


def test_a_per_family_cost_bound_compares_a_trial_with_its_own_family_only():
    def of(family: str, rough: float) -> optuna.trial.FrozenTrial:
        return create_trial(
            value=rough,
            params={"family": family},
            distributions={"family": CategoricalDistribution(["tree", "linear"])},
            user_attrs={"cv_score": 0.95, "rough_ms_per_1k": rough},
        )

    study = _study(of("tree", 1.0), of("linear", 10.0))
    shared, own = FoldPruner(0.9, 5), FoldPruner(0.9, 5, per_family=True)
    for pruner in (shared, own):
        pruner.start(study, budget_s=None)
    # a linear trial at 12 ms: 12x the cheapest tree, 1.2x the cheapest linear model
    assert shared.judge(5, 0, [0.95], 12.0, "linear") == COSTLIER
    assert own.judge(5, 0, [0.95], 12.0, "linear") is None
    assert own.judge(6, 0, [0.95], 25.0, "linear") == COSTLIER
    assert own.judge(7, 0, [0.95], 3.0, "mlp") is None  # no mlp yet: no bound


def test_budget_prunes_only_once_a_trial_of_this_run_completed():
    pruner = FoldPruner(min_score=0.5, n_folds=5)
    study = _study()
    pruner.start(study, budget_s=0.0)
    assert pruner.reason(_running([0.9])) is None  # nothing finished yet: let it end
    pruner.observe(study, create_trial(state=TrialState.FAIL))
    assert pruner.reason(_running([0.9])) is None
    pruner.observe(study, _feasible(rough=1.0))
    assert pruner.reason(_running([0.9, 0.9, 0.9, 0.9, 0.9])) == BUDGET


def test_pick_stage_takes_the_smallest_stage_meeting_the_target():
    scores = {3: [0.80, 0.82], 8: [0.90, 0.91], 20: [0.93, 0.95]}
    assert pick_stage(scores, 0.9) == (8, [0.90, 0.91])
    assert pick_stage(scores, 0.99) == (20, [0.93, 0.95])  # none meets it: the best


@pytest.mark.parametrize("patience", [None, 3])
def test_patience_stops_after_that_many_trials_without_a_cheaper_model(patience):
    study = _study()
    stop = PatienceStop(patience)
    stopped = []
    study.stop = lambda: stopped.append(True)  # record the call (no optimize loop here)
    stop(study, _feasible(rough=1.0))
    for _ in range(3):
        stop(study, _feasible(rough=0.99))  # less than 2% cheaper: not progress
    assert bool(stopped) is (patience is not None)
    assert (stop.stopped_early is not None) is (patience is not None)


def test_judge_decides_from_what_the_objective_holds_as_prune_does_from_attributes():
    study = _study(_feasible(rough=2.0))
    pruner = FoldPruner(min_score=0.9, n_folds=5)
    pruner.start(study, budget_s=None)
    for scores, rough in (([0.86], None), ([0.95], 4.5), ([0.95], 3.5), ([0.88, 0.88], 1.0)):
        trial = _running(scores, rough)
        expected = pruner.reason(trial)
        assert pruner.judge(7, len(scores) - 1, scores, rough) == expected
        assert pruner.prune(study, trial) is (expected is not None)
    assert pruner.reason_for(7) == CANNOT_REACH  # the last reason judged for trial 7


@pytest.mark.parametrize(
    ("objective", "runtime", "trials_minimize", "cost_bound", "per_family"),
    [
        ("batch", "python", "batch", True, False),
        ("online", "python", "online", False, False),
        ("size", "python", "size", False, False),
        # ONNX Runtime: Python's figures rank one family's trials, not families
        ("batch", "onnx", "batch", True, True),
        ("online", "onnx", "batch", True, True),
        ("size", "onnx", "size", False, True),
    ],
)
def test_what_trials_minimize_and_whether_cost_prunes_them(
    objective, runtime, trials_minimize, cost_bound, per_family
):
    from halfcost.automl import CheapestModelSearch
    from halfcost.automl._metrics import METRICS
    from halfcost.automl._search import make_pruner

    search = CheapestModelSearch(min_score=0.8, objective=objective, runtime=runtime)
    assert search.trial_objective == trials_minimize
    pruner = make_pruner(
        METRICS["accuracy"], 0.8, 3, True, objective=search.trial_objective, runtime=runtime
    )
    assert pruner.cost_bound is cost_bound and pruner.per_family is per_family
