"""The benchmark data sets are seeded, big enough, and as awkward as the benchmark promises."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench/ is not installed

from bench._datasets import (
    DATASETS,
    MIN_SYNTHETIC_ROWS,
    BenchDataset,
    load_dataset,
)

SYNTHETIC = [name for name in DATASETS if load_dataset(name, seed=0).synthetic]


@pytest.fixture(scope="module")
def synthetic_sets() -> dict[str, BenchDataset]:
    return {name: load_dataset(name, seed=0) for name in SYNTHETIC}


def test_at_least_five_sets_three_of_them_synthetic(synthetic_sets):
    assert len(DATASETS) >= 5
    assert len(SYNTHETIC) >= 3 and set(SYNTHETIC) <= set(DATASETS)
    assert all(data.synthetic for data in synthetic_sets.values())
    assert not load_dataset("digits").synthetic and not load_dataset("breast_cancer").synthetic


@pytest.mark.parametrize("name", list(DATASETS))
def test_same_seed_same_table_other_seed_other_table(name):
    first, again = load_dataset(name, seed=3), load_dataset(name, seed=3)
    pd.testing.assert_frame_equal(first.frame, again.frame)
    if first.synthetic:
        other = load_dataset(name, seed=4)
        assert not other.frame.equals(first.frame)


@pytest.mark.parametrize("name", list(DATASETS))
def test_describes_itself_consistently(name):
    data = load_dataset(name)
    assert data.name == name
    assert data.target in data.frame.columns
    assert data.target not in data.features.columns
    assert data.task in {"classification", "regression"}
    classification_metrics = {"accuracy", "balanced_accuracy", "f1", "roc_auc"}
    allowed = classification_metrics if data.task == "classification" else {"r2", "neg_rmse"}
    assert data.metric in allowed
    assert data.labels.notna().all()


def test_synthetic_sets_have_enough_rows(synthetic_sets):
    for data in synthetic_sets.values():
        assert len(data.frame) >= MIN_SYNTHETIC_ROWS >= 20_000


def test_synthetic_sets_have_missing_values_in_numbers_and_strings(synthetic_sets):
    for name, data in synthetic_sets.items():
        features = data.features
        numeric = features.select_dtypes("number")
        strings = features.select_dtypes(object)
        assert numeric.isna().any().any(), f"{name}: no missing number"
        assert strings.isna().any().any(), f"{name}: no missing string"


def test_strings_stay_raw_strings_with_high_cardinality(synthetic_sets):
    for name, data in synthetic_sets.items():
        strings = data.features.select_dtypes(object)
        assert not data.features.select_dtypes("category").columns.size, name
        values = strings.stack()
        assert values.map(type).eq(str).all(), f"{name}: a string column holds non-strings"
        # at least two columns with hundreds of levels, but not ids (values repeat)
        high = [c for c in strings if strings[c].nunique() >= 300]
        assert len(high) >= 2, f"{name}: high-cardinality string columns {high}"
        assert all(strings[c].nunique() < 0.5 * len(data.frame) for c in high), name


def test_imbalanced_binary_and_multiclass_and_a_regression(synthetic_sets):
    binary = multiclass = regression = False
    for data in synthetic_sets.values():
        if data.task == "regression":
            regression = True
            continue
        shares = data.labels.value_counts(normalize=True)
        imbalanced = shares.max() / shares.min() >= 3
        binary |= len(shares) == 2 and imbalanced and shares.min() < 0.1
        multiclass |= len(shares) >= 3 and imbalanced
    assert binary and multiclass and regression


def test_each_set_has_useless_columns(synthetic_sets):
    """Columns named noise*/batch/ref/agent carry no signal: independent of the target."""
    for name, data in synthetic_sets.items():
        useless = [
            c
            for c in data.features
            if c.startswith(("noise", "batch_code", "ref_code", "listing_agent"))
        ]
        assert len(useless) >= 2, name
        y = data.labels
        signal = y.astype(float) if data.task == "regression" else (y == y.mode()[0]).astype(float)
        for column in useless:
            values = data.frame[column]
            if values.dtype == object:
                values = values.astype("category").cat.codes
            correlation = abs(np.corrcoef(values.astype(float), signal)[0, 1])
            assert correlation < 0.03, f"{name}.{column} correlates {correlation:.3f}"


def _logit(share: float) -> float:
    share = min(max(share, 1e-4), 1 - 1e-4)
    return float(np.log(share / (1 - share)))


def _interaction(outcome: pd.Series, first: pd.Series, second: pd.Series) -> float:
    """How far the effect of two yes/no conditions is from additive, in log-odds."""
    cell = {(a, b): outcome[(first == a) & (second == b)].mean() for a in (0, 1) for b in (0, 1)}
    return _logit(cell[1, 1]) - _logit(cell[1, 0]) - _logit(cell[0, 1]) + _logit(cell[0, 0])


def test_fraud_hides_in_interactions(synthetic_sets):
    frame = synthetic_sets["fraud"].frame
    fraud = (frame["is_fraud"] == "fraud").astype(float)
    foreign = (frame["country"] != frame["card_country"]).astype(int)
    night = frame["hour"].isin([0, 1, 2, 3, 4, 5, 23]).astype(int)
    big = (frame["amount"] > 150).astype(int)
    new = (frame["account_age_days"] < 60).astype(int)
    assert _interaction(fraud, foreign, big) > 0.8
    assert _interaction(fraud, night, new) > 0.8


def test_segments_follow_interactions(synthetic_sets):
    frame = synthetic_sets["segments"].frame
    premium = (frame["segment"] == "premium").astype(float)
    rich = (frame["income"] > np.exp(10.9)).astype(int)
    big_basket = (frame["avg_basket"] > 50).astype(int)
    assert _interaction(premium, rich, big_basket) > 0.8


def test_prices_pool_pays_only_in_warm_regions(synthetic_sets):
    frame = synthetic_sets["prices"].frame
    log_price = np.log(frame["price_k"])
    warm = frame["region"].isin(["region_5", "region_6", "region_7"])
    pool = frame["has_pool"] == "yes"

    def pool_effect(rows: pd.Series) -> float:
        return float(log_price[rows & pool].mean() - log_price[rows & ~pool].mean())

    assert pool_effect(warm) - pool_effect(~warm) > 0.07


def test_high_cardinality_strings_carry_signal(synthetic_sets):
    """Some levels of the big string columns have far more positives than others."""
    frame = synthetic_sets["fraud"].frame
    fraud = frame["is_fraud"] == "fraud"
    by_merchant = fraud.groupby(frame["merchant"]).agg(["mean", "size"])
    busy = by_merchant[by_merchant["size"] >= 30]
    assert busy["mean"].quantile(0.97) > 2.5 * fraud.mean()
    assert busy["mean"].max() > 5 * fraud.mean()


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match=r"choose one of .*digits"):
        load_dataset("nope")


def test_rows_argument_sizes_synthetic_sets():
    data = load_dataset(SYNTHETIC[0], seed=1, n_rows=1_000)
    assert len(data.frame) == 1_000
