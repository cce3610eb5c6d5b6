"""Small seeded tables for the search tests (fast: a few hundred rows each)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from halfcost.demo_data import make_customers


@pytest.fixture(scope="session")
def customers() -> pd.DataFrame:
    """Binary table with a clear signal, an id column, strings, dates and missing values."""
    rng = np.random.default_rng(7)
    n = 700
    spend = rng.normal(50, 15, n)
    calls = rng.poisson(2, n)
    plan = rng.choice(["basic", "plus", "pro", "max"], size=n)
    logit = 0.12 * (spend - 50) - 0.8 * (calls - 2) + 1.5 * (plan == "basic") - 0.4
    churned = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    frame = pd.DataFrame(
        {
            "customer_id": [f"K{i:05d}" for i in range(n)],
            "signup_date": (
                pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
            ).strftime("%Y-%m-%d"),
            "spend": spend.round(2),
            "calls": calls,
            "plan": plan,
            "noise": rng.normal(0, 1, n),
            "churned": churned,
        }
    )
    frame.loc[rng.random(n) < 0.05, "spend"] = np.nan
    frame.loc[rng.random(n) < 0.05, "plan"] = None
    return frame


@pytest.fixture(scope="session")
def demo_customers() -> pd.DataFrame:
    """The demo's churn table (noisier; for shape checks, not for targets)."""
    return make_customers(600, seed=3)


@pytest.fixture(scope="session")
def wine() -> pd.DataFrame:
    """Multiclass (3 classes) numeric table shipped with scikit-learn."""
    from sklearn.datasets import load_wine

    data = load_wine(as_frame=True)
    frame = data.frame.rename(columns={"target": "cultivar"})
    frame["cultivar"] = frame["cultivar"].map({0: "a", 1: "b", 2: "c"})
    return frame


@pytest.fixture(scope="session")
def diabetes() -> pd.DataFrame:
    """Regression table shipped with scikit-learn, plus a string column with gaps."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame
    rng = np.random.default_rng(0)
    frame["site"] = rng.choice(["x", "y", None], size=len(frame))
    return frame


@pytest.fixture(scope="session")
def saved_model(tmp_path_factory, customers):
    """A small fitted churn model saved as ``DIR/model`` with a report.json beside it.

    Built directly (encoder + shallow tree) rather than searched, so the serving and
    export tests stay fast; the report carries the cost figures a search writes.
    """
    from sklearn.tree import DecisionTreeClassifier

    from halfcost.automl import HalfcostModel, save_model
    from halfcost.automl._prep import plan_columns
    from halfcost.automl._search_space import make_pipeline
    from halfcost.jsonio import write_json

    plan = plan_columns(customers, "churned")
    tree = DecisionTreeClassifier(max_depth=3, random_state=0)
    pipeline = make_pipeline(
        plan.features, dict(plan.kinds), "native", tree, "classification", dict(plan.levels)
    )
    pipeline.fit(customers[plan.features], (customers["churned"] == "yes").astype(int))
    meta = {
        "target": "churned",
        "task": "classification",
        "metric": "accuracy",
        "min_score": 0.6,
        "feature_columns": plan.features,
        "column_kinds": dict(plan.kinds),
        "classes": ["no", "yes"],
        "family": "tree",
        "params": {"max_depth": 3},
        "cv_score": 0.71,
    }
    run = tmp_path_factory.mktemp("run")
    save_model(HalfcostModel(pipeline, meta, {}), run / "model")
    chosen = {"family": "tree", "cv_score": 0.71, "latency_ms_per_1k": 0.42, "size_bytes": 4321}
    write_json({"chosen": chosen, "metric": "accuracy", "baseline": {}}, run / "report.json")
    return run / "model"
