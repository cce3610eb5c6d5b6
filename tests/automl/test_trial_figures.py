"""A trial's figures: one user attribute written once, read back in either layout."""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState, create_trial

from halfcost.automl._trial_figures import (
    FIGURES_ATTR,
    set_score_constraint,
    trial_figures,
    write_figures,
)

OLD_LAYOUT = {  # one user attribute per figure, as versions before ``figures`` wrote them
    "fold_scores": [0.8, 0.9],
    "cv_score": 0.85,
    "rough_ms_per_1k": 2.0,
    "latency_ms_per_1k": 1.5,
    "single_row_latency_ms": 0.3,
    "size_bytes": 1234,
    "overrides": {"tree.n_estimators": 20},
}


def test_figures_written_once_are_read_back_in_one_attribute():
    study = optuna.create_study()
    trial = study.ask()
    write_figures(trial, OLD_LAYOUT)
    study.tell(trial, 1.0)
    frozen = study.trials[0]
    assert set(frozen.user_attrs) == {FIGURES_ATTR}
    assert trial_figures(frozen) == OLD_LAYOUT


def test_a_trial_of_the_old_layout_reads_the_same_and_other_attributes_are_not_figures():
    old = create_trial(value=1.0, user_attrs={**OLD_LAYOUT, "worker": "host:1"})
    assert trial_figures(old) == OLD_LAYOUT


def test_where_both_layouts_hold_a_figure_the_figures_attribute_wins():
    # a pruner other than the search's own gets its inputs fold by fold, by name; the
    # figures written when the trial ends hold the final ones
    final = {"fold_scores": [0.5, 0.6], "pruned": "", "cv_score_partial": 0.55}
    both = create_trial(
        state=TrialState.PRUNED, user_attrs={"fold_scores": [0.5], FIGURES_ATTR: final}
    )
    assert trial_figures(both) == final
    assert trial_figures(create_trial(value=1.0)) == {}


def test_the_score_constraint_is_stored_as_optunas_own_set_constraint_stores_it():
    study = optuna.create_study()
    theirs, ours = study.ask(), study.ask()
    theirs.set_constraint("score", -0.25)
    set_score_constraint(ours, -0.25)
    study.tell(theirs, 1.0)
    study.tell(ours, 1.0)
    first, second = study.trials
    assert second.system_attrs == first.system_attrs
    assert second.constraints == first.constraints == {"score": -0.25}


def test_a_nan_score_constraint_is_refused():
    trial = optuna.create_study().ask()
    with pytest.raises(ValueError, match="NaN"):
        set_score_constraint(trial, float("nan"))
