"""Column typing, id detection and the in-model encoder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from halfcost.automl._prep import (
    CATEGORICAL,
    DATE,
    NUMERIC,
    TableEncoder,
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


@pytest.mark.parametrize("mode", ["native", "onehot"])
def test_encoder_handles_unseen_and_missing_values(mode):
    train = pd.DataFrame({"c": ["a", "b", "a", "b", None], "n": [1.0, 2.0, None, 4.0, 5.0]})
    encoder = TableEncoder(["c", "n"], {"c": CATEGORICAL, "n": NUMERIC}, mode=mode).fit(train)
    out = encoder.transform(pd.DataFrame({"c": ["zzz", None, pd.NA], "n": [None, 1.0, 2.0]}))
    assert out.shape[0] == 3 and out.shape[1] == len(encoder.output_sources_)
    if mode == "onehot":
        assert np.isfinite(out).all()
    else:
        assert out[0, 0] == 2.0  # unseen -> the shared "other" code
        assert np.isnan(out[1, 0]) and np.isnan(out[2, 0])  # missing stays missing


def test_encoder_reads_datetime_columns():
    stamps = pd.Series(pd.to_datetime(["2024-01-01", None, "2024-01-03"]))
    frame = pd.DataFrame({"d": stamps, "dz": stamps.dt.tz_localize("UTC")})
    out = TableEncoder(["d", "dz"], {"d": DATE, "dz": DATE}).fit(frame).transform(frame)
    assert out[2, 0] - out[0, 0] == pytest.approx(2.0)
    assert np.isnan(out[1]).all()


def test_high_cardinality_column_is_target_encoded_without_leaking():
    rng = np.random.default_rng(1)
    n = 2000
    shop = rng.integers(0, 100, n)
    y = (rng.random(n) < np.where(shop < 50, 0.8, 0.2)).astype(int)
    frame = pd.DataFrame({"shop": [f"s{i}" for i in shop], "unique": [f"u{i}" for i in range(n)]})
    encoder = TableEncoder(
        ["shop", "unique"], {"shop": CATEGORICAL, "unique": CATEGORICAL}, task="classification"
    )
    train_out = encoder.fit_transform(frame, y)
    assert encoder.output_sources_ == ["shop", "shop", "unique", "unique"]
    shop_rate, unique_rate = train_out[:, 1], train_out[:, 3]
    # the shop's rate carries the signal; a per-row id cannot leak the row's own label
    assert np.corrcoef(shop_rate, y)[0, 1] > 0.4
    assert abs(np.corrcoef(unique_rate, y)[0, 1]) < 0.1
    new = pd.DataFrame({"shop": ["s1", "never-seen", None], "unique": ["u1", "x", None]})
    out = encoder.transform(new)
    prior = y.mean()
    assert out[1, 1] == pytest.approx(prior) and out[2, 1] == pytest.approx(prior)
    assert out[0, 1] > prior  # shop 1 churns at 80%


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
