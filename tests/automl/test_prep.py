"""Column typing, id detection and the type checks at the model's door."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from halfcost.automl._prep import (
    DATE,
    NUMERIC,
    find_id_columns,
    infer_task,
    plan_columns,
)
from halfcost.errors import BadInputError


def _frame(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "order_id": np.arange(n) + 5000,
            "uuid": [f"u-{i:06x}" for i in rng.permutation(n)],
            "amount_cents": rng.choice(10**9, size=n, replace=False),
            "price_text": [f"{v:.2f}" for v in rng.normal(10, 2, n)],
            "day": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "color": rng.choice(["red", "blue"], n),
            "halfcost_row": np.arange(n),
            "empty": [None] * n,
            "y": rng.choice([0, 1], n),
        }
    )


def test_id_like_columns_are_found_but_measurements_kept():
    found = find_id_columns(_frame().drop(columns=["y"]))
    assert "order_id" in found and "uuid" in found
    assert "amount_cents" not in found  # unique, but not named nor laid out like an id
    assert "day" not in found and "price_text" not in found


def test_plan_types_columns_and_says_why_it_dropped_others():
    plan = plan_columns(_frame(), "y", drop=("color",))
    assert plan.kinds == {"amount_cents": NUMERIC, "price_text": NUMERIC, "day": DATE}
    assert plan.dropped["color"] == "asked (drop)"
    assert plan.dropped["halfcost_row"].startswith("reserved")
    assert plan.dropped["empty"] == "no values"
    assert "row id" in plan.dropped["order_id"]


def test_drop_of_unknown_column_is_refused():
    with pytest.raises(BadInputError, match=r"^drop names column"):
        plan_columns(_frame(), "y", drop=("nope",))


def test_task_inference():
    assert infer_task(pd.Series(["a", "b"])) == "classification"
    assert infer_task(pd.Series([0, 1, 2, 1])) == "classification"
    assert infer_task(pd.Series(np.linspace(0, 1, 50))) == "regression"


def test_check_values_names_bad_cells_and_replaces_them_only_when_asked():
    from halfcost.automl._prep import check_values

    frame = pd.DataFrame(
        {
            "x": ["1.5", "abc", "", "nan"],
            "when": ["2024-01-02", "soon", "2024-01-03", None],
            "plan": ["a", "1", "", None],  # categorical: any value is a value
        }
    )
    kinds = {"x": "numeric", "when": "date", "plan": "categorical"}
    with pytest.raises(BadInputError, match=r"'x' \(1 of 4 values are not numbers, e.g. 'abc'\)"):
        check_values(frame, kinds)
    nulled, counts = check_values(frame, kinds, on_bad_values="null")
    assert counts == {"x": 1, "when": 1}
    assert pd.isna(nulled.loc[1, "x"]) and pd.isna(nulled.loc[1, "when"])
    assert nulled.loc[0, "x"] == "1.5" and frame.loc[1, "x"] == "abc"
    imputed, _ = check_values(frame, kinds, on_bad_values="impute", impute={"x": 7.0})
    assert imputed.loc[1, "x"] == 7.0 and pd.isna(imputed.loc[1, "when"])
    with pytest.raises(BadInputError, match="on_bad_values must be one of"):
        check_values(frame, kinds, on_bad_values="drop")
