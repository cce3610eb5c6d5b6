"""Seeded synthetic data for the demo, the tests and the pipeline's prepare stage.

A customer-churn table that looks like real data: an id column, a signup date, numeric
and string columns, missing values, a useless noise column, non-linear effects and label
noise. ``drift`` moves a batch away from the training distribution (prices up, the plan
mix swapped, and a changed relationship between spend and churn), so a model trained
before the drift loses accuracy and a retrain helps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TARGET = "churned"
ID_COLUMN = "customer_id"
PLANS = ("basic", "standard", "premium")
REGIONS = ("north", "south", "east", "west", "central")
CHANNELS = ("web", "store", "phone", "partner")


def make_customers(
    n_rows: int = 20_000,
    *,
    seed: int = 0,
    drift: float = 0.0,
    id_start: int = 0,
    start_date: str = "2024-01-01",
) -> pd.DataFrame:
    """Return ``n_rows`` seeded customer rows with the binary target ``churned``.

    Args:
        n_rows: number of rows.
        seed: random seed; the same seed gives the same table.
        drift: 0 for the training distribution; 1 for a clearly drifted batch
            (values in between interpolate).
        id_start: first customer number, so later batches get new ids.
        start_date: the earliest signup date.
    """
    rng = np.random.default_rng(seed)
    n = int(n_rows)
    plan_p = np.array([0.5, 0.35, 0.15]) * (1 - drift) + np.array([0.15, 0.35, 0.5]) * drift
    plan = rng.choice(PLANS, size=n, p=plan_p / plan_p.sum())
    region = rng.choice(REGIONS, size=n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    channel = rng.choice(CHANNELS, size=n, p=[0.45, 0.25, 0.2, 0.1]).astype(object)
    age = rng.normal(42 - 6 * drift, 12, n).clip(18, 90).round()
    tenure = rng.gamma(2.0, 12.0 * (1 - 0.4 * drift), n).round().clip(0, 240)
    base_price = pd.Series(plan).map({"basic": 20.0, "standard": 45.0, "premium": 90.0}).to_numpy()
    spend = base_price * rng.lognormal(0.0 + 0.35 * drift, 0.25, n)
    calls = rng.poisson(1.0 + 1.5 * drift, n)
    last_login = rng.exponential(10.0, n).round(1)
    discount = rng.choice([0.0, 0.05, 0.1, 0.2], size=n, p=[0.6, 0.2, 0.15, 0.05])
    noise = rng.normal(0, 1, n)  # carries no signal: a column a cheap model can drop
    start = pd.Timestamp(start_date)
    signup = start + pd.to_timedelta(rng.integers(0, 700, n), unit="D")

    logit = (
        -0.6
        + 2.0 * (calls >= 3)
        + 0.12 * (last_login - 10)
        - 0.07 * tenure
        + 1.1 * (plan == "basic")
        + 0.9 * (channel == "partner")
        - 3.0 * discount * (plan != "basic")
        + 1.5 * np.sin(age / 8.0)
        + (0.03 + 0.04 * drift) * (spend - base_price)
        + 1.2 * drift * (region == "south")
    )
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    flip = rng.random(n) < 0.03  # label noise
    churned = np.where(flip, ~churned, churned)

    frame = pd.DataFrame(
        {
            ID_COLUMN: [f"C{i:07d}" for i in range(id_start, id_start + n)],
            "signup_date": signup.strftime("%Y-%m-%d"),
            "age": age,
            "tenure_months": tenure.astype(int),
            "plan": plan,
            "region": region,
            "channel": channel,
            "monthly_spend": spend.round(2),
            "discount": discount,
            "support_calls": calls.astype(int),
            "last_login_days": last_login,
            "noise": noise.round(4),
            TARGET: np.where(churned, "yes", "no"),
        }
    )
    # Missing values, as real exports have them.
    frame.loc[rng.random(n) < 0.04, "age"] = np.nan
    frame.loc[rng.random(n) < 0.03, "channel"] = None
    frame.loc[rng.random(n) < 0.02, "last_login_days"] = np.nan
    return frame
