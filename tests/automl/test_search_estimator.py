"""CheapestModelSearch as a scikit-learn estimator: parameters, validation, clone."""

from __future__ import annotations

import warnings

import optuna
import pytest
from sklearn.base import BaseEstimator, clone

from halfcost.automl import CheapestModelSearch, SearchWarning
from halfcost.automl._families import DecisionTreeFamily, LinearFamily
from halfcost.errors import BadInputError, flag_for

LEARNED = {"best_model_", "report_", "study_", "met_", "warnings_"}


def _fit_quietly(search, frame, target):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SearchWarning)
        return search.fit(frame.drop(columns=[target]), frame[target])


def test_clone_keeps_every_setting_and_the_clone_runs_exactly_n_trials(customers, tmp_path):
    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    search = CheapestModelSearch(
        metric="roc_auc",
        min_score=0.7,
        budget_s=None,
        n_trials=50,
        seed=3,
        holdout=0.25,
        cv=3,
        sampler=optuna.samplers.RandomSampler(seed=3),
        storage=storage,
        study_name="clone-check",
        price_per_hour="0.25",
        families=[LinearFamily(), DecisionTreeFamily()],
        drop=["noise"],
        n_finalists=3,
        patience=20,
    )
    copy = clone(search)
    assert copy is not search and isinstance(copy, BaseEstimator)
    assert copy.get_params() == search.get_params()
    assert copy.families is not search.families  # settings are copied, not shared

    k = 5
    copy.set_params(n_trials=k)
    _fit_quietly(copy, customers, "churned")
    assert copy.report_["n_trials_this_run"] == k == copy.report_["n_trials_limit"]
    assert len(copy.study_.trials) == k and all(t.state.is_finished() for t in copy.study_.trials)
    stored = optuna.load_study(study_name="clone-check", storage=storage)
    assert len(stored.trials) == k
    assert {t["family"] for t in copy.report_["trials"]} <= {"linear", "tree"}
    assert "noise" not in copy.report_["features"]
    assert not hasattr(search, "report_")  # the original was never fitted


def test_fit_leaves_only_learned_results_in_trailing_underscore_attributes(wine):
    search = _fit_quietly(CheapestModelSearch(min_score=0.8, n_trials=3, seed=0), wine, "cultivar")
    fitted = {name for name in vars(search) if name.endswith("_")}
    assert fitted == LEARNED
    # fit changed no setting
    assert search.get_params() == CheapestModelSearch(min_score=0.8, n_trials=3).get_params()


def test_a_given_sampler_is_copied_so_refits_are_reproducible(wine):
    sampler = optuna.samplers.RandomSampler(seed=11)
    search = CheapestModelSearch(min_score=0.8, n_trials=12, patience=None, sampler=sampler)
    first = _fit_quietly(search, wine, "cultivar").report_["trials"]
    second = _fit_quietly(search, wine, "cultivar").report_["trials"]
    assert search.sampler is sampler
    drawn = [(t["family"], t["n_features"]) for t in first]
    assert drawn == [(t["family"], t["n_features"]) for t in second]


def test_arguments_are_keyword_only():
    with pytest.raises(TypeError):
        CheapestModelSearch("accuracy", 0.8)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("param", "value", "expected"),
    [
        ("patience", 0, "an integer ≥ 1 (trials), or None to use the whole budget"),
        ("patience", 2.5, "an integer ≥ 1 (trials), or None to use the whole budget"),
        ("n_finalists", 0, "an integer ≥ 1"),
        ("n_trials", 0, "an integer ≥ 1, or None"),
        ("budget_s", -1, "a number of seconds > 0, or None"),
        ("holdout", 0.95, "a share in (0, 0.9)"),
        ("cv", 1, "an integer ≥ 2, or None"),
        ("seed", 1.5, "an integer"),
        ("task", "ranking", "one of classification, regression, or None"),
        ("sampler", "tpe", "an optuna.samplers.BaseSampler instance, or None"),
        (
            "storage",
            5,
            "an Optuna storage URL, an optuna.storages.BaseStorage instance, or None",
        ),
        ("study_name", "", "a non-empty string, or None"),
        ("price_per_hour", "-1", "an amount ≥ 0 (per core-hour), or None"),
        ("price_per_hour", "cheap", "an amount ≥ 0 (per core-hour), or None"),
        ("families", ["linear"], "a list of ModelFamily instances, or None"),
        ("drop", "noise", "a list of column names"),
        ("progress", "yes", "True or False"),
        ("min_score", "high", "a number (the score to meet)"),
    ],
)
def test_every_parameter_is_checked_with_one_message_shape(customers, param, value, expected):
    search = CheapestModelSearch(min_score=0.6, n_trials=1).set_params(**{param: value})
    with pytest.raises(BadInputError) as info:
        search.fit(customers.drop(columns=["churned"]), customers["churned"])
    error = info.value
    assert error.param == param
    assert str(error) == f"{param} must be {expected}, but got {value!r}."
    # the CLI renders the same message with the flag
    assert error.render(flag_for(param)).startswith(f"--{param.replace('_', '-')} must be")


def test_no_time_budget_needs_a_trial_limit(customers):
    search = CheapestModelSearch(min_score=0.6, budget_s=None)
    with pytest.raises(BadInputError, match="budget_s is None and so is n_trials") as info:
        search.fit(customers.drop(columns=["churned"]), customers["churned"])
    assert info.value.param == "budget_s"


def test_a_missing_target_names_the_parameter(customers):
    with pytest.raises(BadInputError, match=r"^min_score is required") as info:
        CheapestModelSearch(n_trials=1).fit(customers, customers["churned"])
    assert info.value.param == "min_score"


def test_library_errors_name_parameters_not_flags(customers, tmp_path):
    x, y = customers.drop(columns=["churned"]), customers["churned"]
    other = customers.assign(spend=customers["spend"] * 2)
    args = {"min_score": 0.6, "n_trials": 1, "out_dir": str(tmp_path), "study_name": "mine"}
    _fit_quietly(CheapestModelSearch(**args), customers, "churned")
    with pytest.raises(BadInputError) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore", SearchWarning)
        CheapestModelSearch(**args).fit(other.drop(columns=["churned"]), y)
    assert info.value.param == "study_name" and "give another study_name" in str(info.value)
    assert "--" not in str(info.value)
    with pytest.raises(BadInputError) as info:
        CheapestModelSearch(min_score=0.6, n_trials=1, drop=["nope"]).fit(x, y)
    assert info.value.param == "drop" and str(info.value).startswith("drop names column")
