"""`out_of_range: report`: values outside the reference's range are counted, rows kept."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from halfcost.automl import CleaningPolicy, clean_frame, learn_suite
from halfcost.errors import BadInputError


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({"price": rng.uniform(10, 20, 300).round(2), "plan": ["a", "b", "c"] * 100})


def _batch() -> pd.DataFrame:
    return pd.DataFrame(
        {"price": [12.5, 500.0, 15.0, 14.0], "plan": ["a", "b", "zzz-unknown", "c"]}
    )


def test_report_keeps_out_of_range_rows_and_counts_them(reference: pd.DataFrame) -> None:
    suite = learn_suite(reference)
    policy = CleaningPolicy.from_dict({"default": {"out_of_range": "report"}})
    result = clean_frame(_batch(), suite, policy)
    assert list(result.quarantine["halfcost_row"]) == [2]  # the unknown plan still is held
    assert 1 in set(result.clean["halfcost_row"])
    assert result.report["columns"]["price"]["out_of_range_reported"] == 1
    assert result.report["policy"]["default"]["out_of_range"] == "report"


def test_the_default_still_quarantines_out_of_range(reference: pd.DataFrame) -> None:
    result = clean_frame(_batch(), learn_suite(reference))
    assert set(result.quarantine["halfcost_row"]) == {1, 2}


def test_an_unknown_out_of_range_action_is_refused() -> None:
    with pytest.raises(BadInputError, match="unknown out_of_range action 'keep'; choose one of"):
        CleaningPolicy.from_dict({"default": {"out_of_range": "keep"}})
