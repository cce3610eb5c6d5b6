"""Cost measurement and the money arithmetic."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from halfcost.automl import CostMeasurement, measure_cost
from halfcost.automl._cost import (
    cost_per_1m_predictions_usd,
    model_size_bytes,
    prediction_batch,
    train_cost_usd,
)


def test_prediction_batch_is_fixed_and_bounded():
    frame = pd.DataFrame({"a": np.arange(300)})
    batch = prediction_batch(frame, rows=1000)
    assert len(batch) == 1000 and set(batch["a"]) == set(frame["a"])
    big = pd.DataFrame({"a": np.arange(30_000)})
    assert len(prediction_batch(big)) == 10_000
    assert prediction_batch(big, seed=1).equals(prediction_batch(big, seed=1))


def test_measure_cost_reports_positive_figures():
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(500, 4)), columns=list("abcd"))
    model = LogisticRegression().fit(x, (x["a"] > 0).astype(int))
    cost = measure_cost(model, prediction_batch(x, rows=2000), repeats=3, train_seconds=1.5)
    assert isinstance(cost, CostMeasurement)
    assert cost.latency_ms_per_1k > 0 and cost.single_row_latency_ms > 0
    assert cost.size_bytes == model_size_bytes(model) > 0
    assert cost.train_seconds == 1.5
    assert set(cost.to_dict()) == {
        "latency_ms_per_1k",
        "single_row_latency_ms",
        "size_bytes",
        "train_seconds",
        "single_row_p99_ms",
    }
    assert cost.single_row_p99_ms >= cost.single_row_latency_ms


def test_objectives_are_named_and_pick_their_figure():
    from halfcost.automl._cost import OBJECTIVES, get_objective
    from halfcost.errors import BadInputError

    cost = CostMeasurement(2.0, 0.3, 1234, 0.0, 0.9)
    assert [get_objective(n).of(cost) for n in ("batch", "online", "size")] == [2.0, 0.3, 1234]
    assert list(OBJECTIVES) == ["batch", "online", "size"]
    with pytest.raises(
        BadInputError, match="unknown objective 'fast'; choose one of batch, online"
    ):
        get_objective("fast")


def test_money_formulas():
    # 2 ms per 1k rows -> 2,000 ms per 1M rows = 2/3600 core-hours
    assert cost_per_1m_predictions_usd(2.0, 0.36) == Decimal("2.0") * 1000 / 3_600_000 * Decimal(
        "0.36"
    )
    assert float(cost_per_1m_predictions_usd(3.6, 1.0)) == pytest.approx(0.001)
    assert float(train_cost_usd(7200.0, 0.5)) == pytest.approx(1.0)
