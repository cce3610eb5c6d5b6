"""The arithmetic, against figures computed by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from halfcost.governance import _roi


def test_roi_is_net_over_cost_and_undefined_without_cost():
    assert _roi.roi(D("150"), D("100")) == D("0.5")
    assert _roi.roi(D("60"), D("80")) == D("-0.25")
    assert _roi.roi(D("10"), D("0")) is None


def test_roi_is_exact_not_rounded():
    assert _roi.roi(D("1500"), D("1100")) == D(4) / D(11)


def test_payback_counts_months_from_first_cost():
    cost = {"2026-01": D("800"), "2026-02": D("300"), "2026-03": D("100")}
    value = {"2026-01": D("100"), "2026-02": D("500"), "2026-03": D("700")}
    # cumulative cost 800, 1100, 1200; cumulative value 100, 600, 1300 → overtakes in March
    assert _roi.payback_months(cost, value) == 3


def test_payback_in_the_first_month_is_one():
    assert _roi.payback_months({"2026-05": D("10")}, {"2026-05": D("11")}) == 1


def test_payback_is_none_until_value_exceeds_cost():
    cost = {"2026-01": D("100"), "2026-02": D("100")}
    assert _roi.payback_months(cost, {"2026-02": D("200")}) is None  # equal is not exceeding
    assert _roi.payback_months(cost, {}) is None
    assert _roi.payback_months({}, {"2026-01": D("5")}) is None  # no cost: nothing to pay back


def test_payback_walks_months_without_entries_and_across_years():
    cost = {date(2025, 11, 1): D("100")}
    value = {date(2026, 2, 1): D("150")}
    assert _roi.payback_months(cost, value) == 4  # Nov, Dec, Jan, Feb


def test_cost_per_1k_predictions():
    assert _roi.cost_per_1k_predictions(D("200"), 50_000) == D("4")
    assert _roi.cost_per_1k_predictions(D("200"), 0) is None
    assert _roi.cost_per_1k_predictions(D("200"), None) is None


def test_cheaper_model_saving_scales_with_volume():
    assert _roi.cheaper_model_saving(D("1.5"), D("0.5"), 3_000_000) == D("3")
    assert _roi.cheaper_model_saving(D("1.5"), D("0.5"), 50_000) == D("0.05")
    assert _roi.cheaper_model_saving(None, D("0.5"), 3_000_000) == 0
    assert _roi.saving_per_1m(D("2"), D("0.25")) == D("1.75")


def test_reuse_labeling_and_cleaning_savings():
    assert _roi.reuse_avoided_cost(D("100"), D("50"), 3) == D("450")
    assert _roi.reuse_avoided_cost(D("100"), D("50"), 0) == 0
    assert _roi.labeling_saved(1200, D("0.25")) == D("300")
    assert _roi.cleaning_saved(37, D("0.10")) == D("3.70")


def test_figures_add_up_by_group():
    a = _roi.Figures(spend=D("1100"), value=D("1500"))
    b = _roi.Figures(spend=D("200"), value=D("500"), predictions=50_000)
    both = _roi.total([a, b])
    assert (both.spend, both.value, both.predictions) == (D("1300"), D("2000"), 50_000)
    assert both.roi == D(700) / D(1300)
    assert b.cost_per_1k_predictions == D("4")
    assert a.cost_per_1k_predictions is None


def test_months_between_and_keys():
    assert _roi.months_between(date(2025, 12, 31), date(2026, 1, 1)) == 1
    assert _roi.month_key(date(2026, 3, 9)) == "2026-03"
    assert _roi.month_start(date(2026, 3, 9)) == date(2026, 3, 1)
