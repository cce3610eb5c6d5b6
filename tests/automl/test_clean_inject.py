"""The seeded error injector used by the cleaning benchmark, tests and demo."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from halfcost.automl._clean_inject import ERROR_KINDS, inject_errors
from halfcost.demo_data import make_customers


@pytest.fixture(scope="module")
def batch() -> pd.DataFrame:
    return make_customers(1200, seed=5)


def test_share_of_rows_get_one_kind_each(batch) -> None:
    dirty, truth = inject_errors(batch, share=0.05, seed=1)
    assert len(truth) == 60
    assert truth["row"].is_unique
    assert set(truth["kind"]) == set(ERROR_KINDS)
    assert dirty.shape == batch.shape and (dirty.index == batch.index).all()


def test_untouched_rows_are_unchanged(batch) -> None:
    dirty, truth = inject_errors(batch, share=0.1, seed=2)
    untouched = np.setdiff1d(np.arange(len(batch)), truth["row"])
    left = dirty.iloc[untouched].reset_index(drop=True)
    right = batch.iloc[untouched].reset_index(drop=True)
    # A null in an integer column turns it into floats; the values stay the same.
    pd.testing.assert_frame_equal(left, right, check_dtype=False)


def test_each_kind_really_is_an_error(batch) -> None:
    dirty, truth = inject_errors(batch, share=0.2, seed=3)
    for record in truth.itertuples():
        value = dirty.iloc[record.row][record.column] if record.column else None
        if record.kind == "null":
            assert pd.isna(value) and batch[record.column].notna().all()
        elif record.kind == "outlier":
            assert value == record.after and value != record.before
            assert value < 0 or abs(value) >= 1000 * abs(record.before) * 0.999
        elif record.kind in ("typo", "unseen_category"):
            assert value not in set(batch[record.column].dropna())
        elif record.kind == "garbage":
            assert pd.isna(pd.to_numeric(pd.Series([value]), errors="coerce")[0])
        else:
            source = int(record.after)
            assert source < record.row and source not in set(truth["row"])
            assert dirty.iloc[record.row].equals(dirty.iloc[source])


def test_same_seed_same_errors(batch) -> None:
    first = inject_errors(batch, seed=7)
    second = inject_errors(batch, seed=7)
    pd.testing.assert_frame_equal(first[1], second[1])
    assert not first[1].equals(inject_errors(batch, seed=8)[1])


def test_columns_limits_where_errors_go(batch) -> None:
    _, truth = inject_errors(batch, share=0.1, seed=4, columns=["plan", "monthly_spend"])
    assert set(truth["column"].dropna()) <= {"plan", "monthly_spend"}
    assert {"typo", "garbage", "duplicate"} <= set(truth["kind"])
