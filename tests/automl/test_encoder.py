"""The encoder from scikit-learn parts: raw columns in, model numbers out."""

from __future__ import annotations

import warnings

import lightgbm
import numpy as np
import pandas as pd
import pytest

from halfcost.automl._encoder import (
    ENCODER_TYPES,
    MISSING,
    RawColumns,
    imputed_values,
    output_sources,
    table_encoder,
)
from halfcost.automl._prep import CATEGORICAL, DATE, NUMERIC
from halfcost.automl._search_space import make_pipeline

KINDS = {"c": CATEGORICAL, "n": NUMERIC}


@pytest.mark.parametrize("mode", ["native", "onehot"])
def test_encoder_handles_unseen_and_missing_values(mode):
    train = pd.DataFrame({"c": ["a", "b", "a", "b", None], "n": [1.0, 2.0, None, 4.0, 5.0]})
    encoder = table_encoder(["c", "n"], KINDS, mode=mode).fit(train)
    out = encoder.transform(pd.DataFrame({"c": ["zzz", None, pd.NA], "n": [None, 1.0, 2.0]}))
    assert out.shape[0] == 3
    if mode == "onehot":
        assert np.isfinite(out).all()
        # a, b, and the infrequent column (the single missing value of training): an
        # unseen category goes to the infrequent one
        assert list(out[0, :3]) == [0.0, 0.0, 1.0]
    else:
        assert out[0, 0] == -1  # unseen -> the unknown code (LightGBM: missing)
        assert out[1, 0] == out[2, 0] >= 0  # None and pd.NA are one missing category
        assert np.isnan(out[0, 1])  # a missing number stays missing for the trees


def test_raw_columns_read_text_numbers_dates_and_mixed_categories():
    frame = pd.DataFrame(
        {
            "n": ["1.5", "n/a", "x", None],
            "d": ["2024-01-01", None, "2024-01-03", "2024-01-02"],
            "c": [1, "1", None, True],
        }
    )
    raw = RawColumns(["n", "d", "c"], {"n": NUMERIC, "d": DATE, "c": CATEGORICAL}).fit(frame)
    arrays = raw.arrays(frame)
    assert arrays["n"].dtype == np.float32 and arrays["n"].shape == (4, 1)
    assert arrays["n"][0, 0] == 1.5 and np.isnan(arrays["n"][1:, 0]).all()
    assert arrays["d"][2, 0] - arrays["d"][0, 0] == pytest.approx(2.0)
    assert np.isnan(arrays["d"][1, 0])  # None is missing, not the year -292 billion
    assert list(arrays["c"][:, 0]) == ["1", "1", MISSING, "True"]


def test_encoder_reads_datetime_columns():
    stamps = pd.Series(pd.to_datetime(["2024-01-01", None, "2024-01-03"]))
    frame = pd.DataFrame({"d": stamps, "dz": stamps.dt.tz_localize("UTC")})
    out = table_encoder(["d", "dz"], {"d": DATE, "dz": DATE}).fit(frame).transform(frame)
    assert out[2, 0] - out[0, 0] == pytest.approx(2.0)
    assert np.isnan(out[1]).all()


def test_high_cardinality_column_is_target_encoded_without_leaking():
    rng = np.random.default_rng(1)
    n = 2000
    shop = rng.integers(0, 100, n)
    y = (rng.random(n) < np.where(shop < 50, 0.8, 0.2)).astype(int)
    frame = pd.DataFrame({"shop": [f"s{i}" for i in shop], "unique": [f"u{i}" for i in range(n)]})
    kinds = {"shop": CATEGORICAL, "unique": CATEGORICAL}
    model = make_pipeline(
        ["shop", "unique"],
        kinds,
        "native",
        lightgbm.LGBMClassifier(n_estimators=5, verbose=-1),
        "classification",
        {"shop": 100, "unique": n},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # scikit-learn 1.9 deprecated shuffle=
        train_out = model[:-1].fit_transform(frame, y)
    assert output_sources(model) == ["shop", "unique", "shop", "unique"]
    shop_rate, unique_rate = train_out[:, 2], train_out[:, 3]
    # the shop's rate carries the signal; a per-row id cannot leak the row's own label
    assert np.corrcoef(shop_rate, y)[0, 1] > 0.4
    assert abs(np.corrcoef(unique_rate, y)[0, 1]) < 0.1
    new = pd.DataFrame({"shop": ["s1", "never-seen", None], "unique": ["u1", "x", None]})
    out = model[:-1].transform(new)
    prior = y.mean()
    assert out[1, 2] == pytest.approx(prior, abs=0.01) and out[2, 2] == pytest.approx(
        prior, abs=0.01
    )
    assert out[0, 2] > prior + 0.1  # shop 1 churns at 80%


def test_lightgbm_splits_on_its_native_categoricals():
    rng = np.random.default_rng(0)
    n = 600
    colour = rng.choice(list("abcdefgh"), n)
    y = np.isin(colour, ["b", "e", "g"]).astype(int)  # no order of the codes separates it
    frame = pd.DataFrame({"colour": colour, "n": rng.normal(size=n)})
    estimator = lightgbm.LGBMClassifier(
        n_estimators=20, num_leaves=2, learning_rate=0.5, verbose=-1
    )
    model = make_pipeline(
        ["colour", "n"],
        {"colour": CATEGORICAL, "n": NUMERIC},
        "categorical",
        estimator,
        "classification",
    ).fit(frame, y)
    root = model[-1].booster_.dump_model()["tree_info"][0]["tree_structure"]
    assert root["decision_type"] == "=="  # a categorical split: stumps are enough
    assert (model.predict(frame) == y).mean() == 1.0


def test_onehot_imputes_the_training_median_and_flags_missing_values():
    train = pd.DataFrame({"n": [1.0, 2.0, 3.0, None, 10.0], "c": ["a"] * 5})
    encoder = table_encoder(["n", "c"], {"n": NUMERIC, "c": CATEGORICAL}, mode="onehot")
    model = make_pipeline(
        ["n", "c"],
        {"n": NUMERIC, "c": CATEGORICAL},
        "onehot",
        __import__("sklearn.linear_model").linear_model.Ridge(),
        "regression",
    )
    model.fit(train, np.arange(5.0))
    assert imputed_values(model) == {"n": pytest.approx(2.5)}
    assert output_sources(model) == ["c", "n", "n"]  # one-hot, scaled value, indicator
    out = encoder.fit(train).transform(pd.DataFrame({"n": [None], "c": ["a"]}))
    assert list(out[0, 1:]) == [pytest.approx((2.5 - 4.0) / np.std([1, 2, 3, 10.0])), 1.0]


def test_every_encoder_class_is_in_the_trusted_type_list(customers):
    import skops.io

    from halfcost.automl._model_trust import trusted_type_names
    from halfcost.automl._prep import plan_columns

    plan = plan_columns(customers, "churned")
    y = (customers["churned"] == "yes").astype(int).to_numpy()
    found = set()
    for mode in ("native", "onehot"):
        encoder = table_encoder(
            plan.features, plan.kinds, mode, "classification", dict.fromkeys(plan.levels, 100)
        )
        found |= set(skops.io.get_untrusted_types(data=skops.io.dumps(encoder.fit(customers, y))))
    encoder_classes = {t for t in found if t.startswith(("sklearn.", "halfcost."))}
    assert encoder_classes <= set(ENCODER_TYPES) <= trusted_type_names()


def test_blocks_read_every_column_layout_as_the_column_by_column_reading():
    from halfcost.automl._encoder import category_text
    from halfcost.automl._prep import as_numbers, frame_blocks

    frame = pd.DataFrame(
        {
            "unused": ["x", "y", "z", "w"],
            "f": [1.5, np.nan, 3.0, -2.0],
            "i": [1, 2, 3, 4],
            "n_text": ["1.5", "n/a", "x", None],
            "nullable": pd.array([1, None, 3, 4], dtype="Int64"),
            "d": ["2024-01-01", None, "2024-01-03", "2024-01-02"],
            "c": ["a", None, "b", "a"],
            "mixed": [1, "1", None, True],
            "cat": pd.Categorical(["u", "v", None, "u"]),
            "flag": [True, False, True, True],
            "s": pd.array(["p", None, "q", "p"], dtype="string"),
        }
    )
    kinds = {"f": NUMERIC, "i": NUMERIC, "n_text": NUMERIC, "nullable": NUMERIC, "d": DATE}
    kinds |= dict.fromkeys(["c", "mixed", "cat", "flag", "s"], CATEGORICAL)
    columns = ["s", "d", "f", "c", "i", "mixed", "n_text", "cat", "nullable", "flag"]
    raw = RawColumns(columns, kinds).fit(frame)
    numbers, categories = raw.blocks(frame)
    assert raw.number_columns == ["d", "f", "i", "n_text", "nullable"]
    assert raw.category_columns == ["s", "c", "mixed", "cat", "flag"]
    assert numbers.dtype == np.float32 and categories.dtype == object
    for i, name in enumerate(raw.number_columns):
        expected = as_numbers(frame[name], kinds[name]).astype(np.float32)
        np.testing.assert_array_equal(numbers[:, i], expected)
    for i, name in enumerate(raw.category_columns):
        expected = category_text(frame[name].to_numpy(dtype=object))
        assert list(categories[:, i]) == list(expected)
    assert list(categories[:, 2]) == ["1", "1", MISSING, "True"]
    positions = sorted(p for p, _ in frame_blocks(frame) for p in p)
    assert positions == list(range(frame.shape[1]))  # every column, once
    one = frame.iloc[[2]][columns]  # a one-row request in the model's own order
    one_numbers, one_categories = raw.blocks(one)
    np.testing.assert_array_equal(one_numbers, numbers[[2]])
    assert list(one_categories[0]) == list(categories[2])
    with pytest.raises(KeyError, match="nullable"):
        raw.blocks(frame.drop(columns=["nullable"]))
