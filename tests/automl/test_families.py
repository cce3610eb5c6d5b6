"""Every model family honours the plug-in contract (written once, run for each)."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest
from sklearn.base import clone

from halfcost.automl import ModelFamily, default_families
from halfcost.automl._cost import single_thread
from halfcost.automl._families import SearchContext
from halfcost.automl._metrics import CLASSIFICATION, REGRESSION

FAMILIES = default_families()


def _data(task: str) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 3))
    y = (x[:, 0] > 0).astype(int) if task == CLASSIFICATION else x[:, 0] * 2.0
    return x, y


def test_default_families_span_cheap_to_strong():
    names = [f.name for f in FAMILIES]
    assert {"linear", "tree", "forest", "hist_gb", "lightgbm"} <= set(names)
    assert len(names) == len(set(names))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
@pytest.mark.parametrize("task", [CLASSIFICATION, REGRESSION])
def test_family_contract(family: ModelFamily, task: str):
    ctx = SearchContext(
        task=task, n_rows=120, n_features=3, n_classes=2 if task == CLASSIFICATION else 0, seed=0
    )
    assert family.supports(ctx)
    x, y = _data(task)
    points = family.known_good_points(ctx)
    assert points, "every family offers at least one cheap known-good point"
    for point in points:
        params = {family.param_name(k): v for k, v in point.items()}
        estimator = family.suggest(optuna.trial.FixedTrial(params), ctx)
        with single_thread():
            fitted = clone(estimator).fit(x, y)
        assert fitted.predict(x).shape == (120,)
    # a sampled trial draws only prefixed parameters
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    family.suggest(trial, ctx)
    assert trial.params and all(k.startswith(f"{family.name}.") for k in trial.params)


def test_lightgbm_stages_cut_one_fit_into_smaller_models():
    from halfcost.automl._families import LightGBMFamily

    family = LightGBMFamily()
    ctx = SearchContext(task=CLASSIFICATION, n_rows=120, n_features=3, n_classes=2)
    x, y = _data(CLASSIFICATION)
    estimator = family.suggest(
        optuna.trial.FixedTrial(
            {**_prefixed(family, family.known_good_points(ctx)[0]), "lightgbm.n_estimators": 40}
        ),
        ctx,
    ).fit(x, y)
    stages = family.stages(estimator)
    assert stages == sorted(stages) and stages[-1] == estimator.booster_.current_iteration() <= 40
    assert stages[0] < stages[-1]
    small = family.predict_stage(estimator, x, stages[0], proba=True)
    full = family.predict_stage(estimator, x, stages[-1], proba=True)
    assert small.shape == full.shape == (120, 2)
    assert not np.allclose(small, full)
    assert family.stage_param == "n_estimators"


def _prefixed(family: ModelFamily, point: dict) -> dict:
    return {family.param_name(k): v for k, v in point.items()}
