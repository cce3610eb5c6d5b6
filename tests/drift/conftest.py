"""Fixtures for the drift tests: seeded frames with known drift (drift-monitor helper)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

PLANS = ("basic", "standard", "premium")
PLAN_P = (0.6, 0.3, 0.1)


def make_frame(
    n_rows: int,
    *,
    seed: int,
    shift_std: float = 0.0,
    swap_plans: bool = False,
    text: bool = False,
) -> pd.DataFrame:
    """A table with every kind of column Evidently distinguishes.

    Args:
        n_rows: rows.
        seed: random seed.
        shift_std: move ``spend`` by this many standard deviations.
        swap_plans: reverse the plan proportions (basic <-> premium).
        text: add a free-text id column (Evidently treats it as text).
    """
    rng = np.random.default_rng(seed)
    spend = rng.normal(50.0, 10.0, n_rows) + 10.0 * shift_std
    age = rng.normal(40.0, 12.0, n_rows).round()
    age[rng.random(n_rows) < 0.05] = np.nan  # missing values are dropped, as Evidently does
    plan_p = PLAN_P[::-1] if swap_plans else PLAN_P
    frame = pd.DataFrame(
        {
            "spend": spend,
            "age": age,
            "tenure": rng.integers(0, 120, n_rows),  # many integers: numerical
            "calls": rng.poisson(1.0, n_rows).clip(0, 6),  # few integers: categorical
            "discount": rng.choice([0.0, 0.1, 0.2], n_rows),  # float, 3 values: counts (JS)
            "plan": rng.choice(PLANS, n_rows, p=plan_p),
            "region": rng.choice(["north", "south", "east", "west"], n_rows),
            "member": rng.random(n_rows) < 0.3,  # bool: categorical
            "churned": np.where(rng.random(n_rows) < 0.2, "yes", "no"),  # two values: Z-test
        }
    )
    if text:
        frame["note"] = [f"customer {seed}-{i} wrote {rng.integers(1e6)}" for i in range(n_rows)]
    return frame


@pytest.fixture(scope="session")
def monitor_frame():
    """The :func:`make_frame` function: ``monitor_frame(n_rows, seed=..., shift_std=...)``."""
    return make_frame


def _edit_params(root, **sections: dict) -> None:
    import yaml

    path = root / "params.yaml"
    params = yaml.safe_load(path.read_text())
    for section, values in sections.items():
        params[section].update(values)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.fixture(scope="session")
def edit_params():
    """``edit_params(root, section={key: value}, ...)``: update a project's params.yaml."""
    return _edit_params
