"""The cheapest-model search through its Python API (CheapestModelSearch)."""

from __future__ import annotations

import hashlib
import uuid
import warnings
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from optuna.trial import FrozenTrial, TrialState, create_trial

from halfcost.automl import CheapestModelSearch, HalfcostModel, SearchWarning
from halfcost.automl._finalists import trial_records
from halfcost.automl._trial_figures import FIGURES_ATTR, trial_figures
from halfcost.errors import BadInputError

ENTRY_KEYS = {
    "family",
    "params",
    "cv_score",
    "holdout_score",
    "latency_ms_per_1k",
    "single_row_latency_ms",
    "size_bytes",
    "train_seconds",
}


@pytest.fixture(scope="module")
def churn_run(customers, tmp_path_factory):
    """A fitted search and the SearchWarnings its fit raised."""
    out = tmp_path_factory.mktemp("churn")
    search = CheapestModelSearch(
        metric="roc_auc",
        min_score=0.80,
        budget_s=None,
        n_trials=14,
        seed=1,
        out_dir=str(out),
        price_per_hour="0.10",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(customers.drop(columns=["churned"]), customers["churned"])
    return search, [str(w.message) for w in caught if issubclass(w.category, SearchWarning)]


@pytest.fixture(scope="module")
def churn_search(churn_run):
    return churn_run[0]


def test_binary_search_meets_target_with_cheapest_feasible_on_front(churn_search):
    report = churn_search.report_
    assert churn_search.met_ is True and report["met"] is True
    chosen = report["chosen"]
    assert chosen["cv_score"] >= report["min_score"]
    assert set(chosen) >= ENTRY_KEYS and set(report["baseline"]) >= ENTRY_KEYS
    assert all(set(p) >= ENTRY_KEYS for p in report["pareto"])
    # the chosen model is the cheapest re-measured finalist that meets the target,
    # so nothing on the front meeting the target is cheaper by more than the tie margin
    met = [f for f in report["finalists"] if f["cv_score"] >= report["min_score"]]
    confirmed = [
        f
        for f in met
        if f["holdout_score"] >= report["min_score"] - 0.01
        and f.get("recheck_cv_score", report["min_score"]) >= report["min_score"]
    ]  # the rule of choose(): held out within a point, and the small-data recheck met
    feasible = confirmed or met
    assert chosen["latency_ms_per_1k"] <= 1.05 * min(f["latency_ms_per_1k"] for f in feasible)
    front_keys = {(p["family"], p["trial"]) for p in report["pareto"]}
    cheapest_met = min(feasible, key=lambda f: f["latency_ms_per_1k"])
    assert (cheapest_met["family"], cheapest_met["trial"]) in front_keys
    assert report["n_trials"] == len(report["trials"]) == 14
    assert report["kind"] == "search" and report["task"] == "classification"
    assert report["schema_version"] == 2
    assert report["holdout_met"] is (chosen["holdout_score"] >= report["min_score"])
    # every pruned trial says which rule of the fold pruner stopped it
    reasons = {t["pruned"] for t in report["trials"] if t["state"] == "pruned"}
    assert reasons <= {
        "budget",
        "cannot reach the target",
        "costlier than a model that meets the target",
    }


def test_report_records_the_rows_it_was_given_as_lineage(churn_search, customers):
    data = churn_search.report_["data"]
    assert data["path"] is None and data["sha256_of"] == "frame"
    assert data["rows"] == len(customers)
    digest = pd.util.hash_pandas_object(customers.drop(columns=["churned"]), index=False)
    assert data["sha256"] == hashlib.sha256(digest.to_numpy().tobytes()).hexdigest()


def test_money_figures_are_decimal_strings_following_the_documented_formula(churn_search):
    report = churn_search.report_
    price = Decimal("0.10")
    assert report["price_per_hour"] == "0.10"
    for entry in (report["chosen"], report["baseline"]):
        for key in ("cost_per_1m_predictions_usd", "train_cost_usd"):
            assert isinstance(entry[key], str) and "e" not in entry[key].lower()
        latency = Decimal(repr(entry["latency_ms_per_1k"]))
        assert Decimal(entry["cost_per_1m_predictions_usd"]) == latency * 1000 / 3_600_000 * price
        train = Decimal(repr(entry["train_seconds"]))
        assert Decimal(entry["train_cost_usd"]) == train / 3600 * price
    saved = Decimal(report["baseline"]["cost_per_1m_predictions_usd"]) - Decimal(
        report["chosen"]["cost_per_1m_predictions_usd"]
    )
    assert Decimal(report["savings"]["cost_per_1m_saved_usd"]) == saved


def test_id_column_is_dropped_with_a_warning_naming_the_parameter(churn_run):
    search, caught = churn_run
    assert "customer_id" in search.report_["dropped_columns"]
    assert "customer_id" not in search.best_model_.feature_columns
    about_id = [m for m in caught if "customer_id" in m]
    assert about_id and "name it in drop" in about_id[0] and "--" not in about_id[0]
    assert search.warnings_ == search.report_["warnings"] == caught


def test_best_model_predicts_raw_rows_and_has_importances(churn_search, customers):
    model = churn_search.best_model_
    assert isinstance(model, HalfcostModel)
    rows = customers.head(50)
    assert set(model.predict(rows)) <= {"yes", "no"}
    proba = model.predict_proba(rows)
    assert proba.shape == (50, 2) and np.allclose(proba.sum(axis=1), 1.0)
    importances = model.feature_importances_
    assert set(importances) == set(model.feature_columns)
    assert all(v >= 0 for v in importances.values())
    assert sum(importances.values()) == pytest.approx(1.0)
    # the useless noise column matters less than the strongest column
    assert importances["noise"] < max(importances.values())
    assert churn_search.report_["feature_importances"] == importances
    unused = set(model.feature_columns) - set(model.metadata["used_columns"])
    assert all(importances[c] == 0 for c in unused)


POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1/test"


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def storage_args(request, tmp_path):
    """The same search settings on the default SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        yield {"out_dir": str(tmp_path)}
        return
    import optuna

    name = f"halfcost-test-{uuid.uuid4().hex[:12]}"
    yield {"storage": POSTGRES_URL, "study_name": name}
    optuna.delete_study(study_name=name, storage=POSTGRES_URL)


def test_rerun_with_same_storage_resumes_the_study(customers, storage_args):
    args = {"min_score": 0.6, "budget_s": None, "n_trials": 3, "seed": 0, **storage_args}
    x, y = customers.drop(columns=["churned"]), customers["churned"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SearchWarning)
        first = CheapestModelSearch(**args).fit(x, y)
        second = CheapestModelSearch(**args).fit(x, y)
    assert second.report_["study"]["name"] == first.report_["study"]["name"]
    assert first.report_["n_trials"] == first.report_["n_trials_this_run"] == 3
    assert second.report_["n_trials_this_run"] == 3
    assert second.report_["n_trials"] == first.report_["n_trials"] + 3


def test_another_objective_starts_a_new_study_and_says_so(customers, tmp_path):
    args = {"min_score": 0.6, "budget_s": None, "n_trials": 2, "out_dir": str(tmp_path)}
    x, y = customers.drop(columns=["churned"]), customers["churned"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SearchWarning)
        batch = CheapestModelSearch(**args).fit(x, y)
        online = CheapestModelSearch(**args, objective="online").fit(x, y)
        again = CheapestModelSearch(**args, objective="online").fit(x, y)
    first, second = batch.report_["study"]["name"], online.report_["study"]["name"]
    assert first != second and again.report_["study"]["name"] == second
    assert online.report_["n_trials"] == 2 and again.report_["n_trials"] == 4
    said = [w for w in online.warnings_ if "started a new study" in w]
    assert said and first in said[0] and "objective='batch' (now 'online')" in said[0]
    assert not [w for w in again.warnings_ if "started a new study" in w]  # resumed
    with pytest.raises(BadInputError, match="made for objective='online' \\(now 'batch'\\)"):
        CheapestModelSearch(**args, study_name=second).fit(x, y)


def test_multiclass_macro_f1(wine):
    search = CheapestModelSearch(metric="f1", min_score=0.85, n_trials=8, seed=0)
    search.fit(wine.drop(columns=["cultivar"]), wine["cultivar"])
    assert search.met_
    assert search.report_["classes"] == ["a", "b", "c"]
    assert search.best_model_.predict_proba(wine.head(5)).shape == (5, 3)


def test_small_data_finalists_are_rechecked_on_a_second_split(wine):
    search = CheapestModelSearch(metric="f1", min_score=0.85, n_trials=8, seed=0)
    search.fit(wine.drop(columns=["cultivar"]), wine["cultivar"])
    finalists = search.report_["finalists"]
    assert all("recheck_cv_score" in f for f in finalists)
    confirmed = [
        f
        for f in finalists
        if f["met"] and f["recheck_cv_score"] >= 0.85 and f["holdout_score"] >= 0.85 - 0.01
    ]
    chosen = search.report_["chosen"]
    if confirmed:  # a finalist that only one split favoured is never preferred
        assert chosen["recheck_cv_score"] >= 0.85
        assert chosen["holdout_score"] >= 0.85 - 0.01


def test_regression_with_string_column_and_gaps(diabetes):
    search = CheapestModelSearch(min_score=0.30, n_trials=8, seed=0)
    search.fit(diabetes.drop(columns=["target"]), diabetes["target"])
    assert search.report_["task"] == "regression" and search.report_["metric"] == "r2"
    assert search.met_ and search.report_["chosen"]["cv_score"] >= 0.30
    prediction = search.best_model_.predict(diabetes.head(10))
    assert prediction.dtype == float and np.isfinite(prediction).all()


def test_unreachable_target_is_reported_not_met(wine):
    search = CheapestModelSearch(metric="accuracy", min_score=1.0, n_trials=6, seed=0)
    noisy = wine.copy()
    noisy.loc[noisy.index[::7], "cultivar"] = "a"  # label noise: 100% is out of reach
    search.fit(noisy.drop(columns=["cultivar"]), noisy["cultivar"])
    assert search.met_ is False and search.report_["met"] is False
    best = search.report_["best_cv_score"]
    assert search.report_["chosen"]["cv_score"] == pytest.approx(
        max(f["cv_score"] for f in search.report_["finalists"])
    )
    assert best < 1.0


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"metric": "acc", "min_score": 0.5}, "unknown metric 'acc'; choose one of accuracy"),
        ({"metric": "accuracy", "min_score": 1.3}, "must be in [0, 1] for accuracy, but got 1.3"),
        ({"metric": "r2", "min_score": 0.5}, "metric 'r2' is for regression"),
        ({"min_score": 0.5, "objective": "fast"}, "objective must be one of batch, online, size"),
        ({"min_score": 0.5, "runtime": "tvm"}, "runtime must be one of python, onnx"),
        (
            {"min_score": 0.5, "storage": "postgresql+psycopg://nobody@127.0.0.1:1/none"},
            "cannot open the study storage",
        ),
    ],
)
def test_bad_settings_raise_clear_errors(customers, kwargs, fragment):
    search = CheapestModelSearch(n_trials=1, **kwargs)
    with pytest.raises(BadInputError) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore", SearchWarning)
        search.fit(customers.drop(columns=["churned"]), customers["churned"])
    assert fragment in str(info.value)


def test_one_class_target_is_refused(customers):
    y = pd.Series("no", index=customers.index, name="churned")
    with pytest.raises(BadInputError, match="one class only"):
        CheapestModelSearch(min_score=0.5, n_trials=1).fit(customers.drop(columns=["churned"]), y)


def test_a_trial_writes_its_figures_once_and_reads_itself_back_only_where_optuna_must(
    customers,
):
    """Each storage call costs milliseconds on a server. The pruner is asked in memory and
    the figures are one attribute: a trial writes who runs it as it starts (other
    processes read it while it runs), then its figures once, when it ends. A read of a
    trial is six queries on an RDB storage: Optuna's ask and tell read it once each; the
    constraint write and the run's callbacks add no read of their own."""
    import optuna

    storage = optuna.storages.InMemoryStorage()
    writes: list[tuple[int, str]] = []
    reads: list[int] = []
    real_write, real_read = storage.set_trial_user_attr, storage.get_trial

    def counting_write(trial_id: int, key: str, value) -> None:
        writes.append((trial_id, key))
        real_write(trial_id, key, value)

    def counting_read(trial_id: int):
        reads.append(trial_id)
        return real_read(trial_id)

    storage.set_trial_user_attr = counting_write
    storage.get_trial = counting_read  # set_constraint's check and the callbacks' copy go here
    search = CheapestModelSearch(min_score=0.6, budget_s=None, n_trials=6, seed=0, cv=4)
    search.set_params(storage=storage, patience=50)
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # INFO logs read the best trial
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SearchWarning)
            search.fit(customers.drop(columns=["churned"]), customers["churned"])
    finally:
        optuna.logging.set_verbosity(verbosity)
    ran = [t for t in search.study_.get_trials() if t.state.is_finished()]
    assert len(ran) == 6 and all(trial_figures(t).get("fold_scores") for t in ran)
    assert any(t.state == TrialState.COMPLETE for t in ran)
    for t in ran:
        keys = [key for trial_id, key in writes if trial_id == t._trial_id]
        assert keys == ["worker", FIGURES_ATTR], (t.number, t.state, keys)
        # only a pruned trial reports a step: its last one
        assert len(t.intermediate_values) == (t.state == TrialState.PRUNED)
        assert reads.count(t._trial_id) == 2, (t.number, t.state, reads.count(t._trial_id))
        figures = trial_figures(t)
        score = figures.get("cv_score", figures.get("cv_score_partial"))
        assert t.constraints == {"score": pytest.approx(0.6 - score)}  # recorded all the same


def _as_old_layout(trial: FrozenTrial) -> FrozenTrial:
    """``trial`` as versions before the ``figures`` attribute stored it: one per figure."""
    attrs = dict(trial.user_attrs)
    figures = attrs.pop(FIGURES_ATTR, {})
    return create_trial(
        state=trial.state,
        values=trial.values,
        params=trial.params,
        distributions=trial.distributions,
        user_attrs={**attrs, **figures},
        system_attrs=trial.system_attrs,
        intermediate_values=trial.intermediate_values,
    )


def test_a_study_written_in_the_old_layout_resumes_and_reports_its_trials(customers):
    import optuna

    x, y = customers.drop(columns=["churned"]), customers["churned"]
    settings = {"min_score": 0.75, "budget_s": None, "n_trials": 6, "seed": 0, "cv": 3}
    first = CheapestModelSearch(**settings)
    first.set_params(storage=optuna.storages.InMemoryStorage())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SearchWarning)
        first.fit(x, y)
    written = first.study_.get_trials()
    assert {t.state for t in written} >= {TrialState.COMPLETE, TrialState.PRUNED}
    storage = optuna.storages.InMemoryStorage()
    old = optuna.create_study(
        storage=storage, study_name=first.study_.study_name, direction="minimize"
    )
    for key, value in first.study_.user_attrs.items():
        old.set_user_attr(key, value)
    for t in written:
        old.add_trial(_as_old_layout(t))
    assert not any(FIGURES_ATTR in t.user_attrs for t in old.get_trials())
    families = {t.params["family"] for t in written if "family" in t.params}
    assert trial_records(old.get_trials(), families) == trial_records(written, families)

    again = CheapestModelSearch(**{**settings, "n_trials": 2})
    again.set_params(storage=storage)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SearchWarning)
        again.fit(x, y)
    report = again.report_
    finished = sum(t.state.is_finished() for t in written)
    assert report["n_trials"] == finished + 2 and report["n_trials_this_run"] == 2

    def summary(entry: dict) -> dict:
        return {k: v for k, v in entry.items() if k != "seconds"}

    before = {e["trial"]: summary(e) for e in first.report_["trials"]}
    after = {e["trial"]: summary(e) for e in report["trials"]}
    assert all(after[number] == entry for number, entry in before.items())
    assert all(after[number]["cv_score"] is not None for number in before)
