"""halfcost.formats: money as people read it, shared by the app and report.html."""

from __future__ import annotations

from decimal import Decimal

import pytest

from halfcost.formats import money_text, per_predictions_text


def test_money_has_separators_two_decimals_and_a_sign():
    assert money_text(Decimal("1234567.891")) == "$1,234,567.89"
    assert money_text("-3.2") == "-$3.20"
    assert money_text(Decimal("-0.001")) == "$0.00"  # no "-$0.00"
    assert money_text(0.1) == "$0.10"


def test_per_prediction_cost_moves_to_the_unit_that_reads_as_cents():
    assert per_predictions_text(Decimal("0.3")) == "$0.30 per 1M"
    assert per_predictions_text("0.0000034", "1k") == "$3.40 per 1B"
    assert per_predictions_text("0.0001091") == "$0.11 per 1B"
    assert per_predictions_text("0.0000007516") == "< $0.01 per 1B"
    assert per_predictions_text(0) == "$0.00 per 1M"
    with pytest.raises(ValueError, match="unknown unit '1G'; choose one of 1k, 1M, 1B"):
        per_predictions_text(1, "1G")
