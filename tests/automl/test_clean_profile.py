"""Learning a GX suite from a reference: classification, expectations, save/load."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from halfcost.automl import learn_suite, load_suite, save_suite
from halfcost.automl._clean_profile import classify_column, numeric_range, suite_columns
from halfcost.demo_data import make_customers
from halfcost.errors import BadInputError


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return make_customers(1500, seed=0)


@pytest.fixture(scope="module")
def suite(reference: pd.DataFrame):
    return learn_suite(reference)


def _by_column(suite) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for expectation in suite.expectations:
        kwargs = expectation.configuration.kwargs
        column = kwargs.get("column")
        if column is not None:
            out.setdefault(column, {})[expectation.expectation_type] = dict(kwargs)
    return out


def test_columns_of_the_demo_data_are_classified_for_what_they_are(suite) -> None:
    kinds = {column: p["kind"] for column, p in suite_columns(suite).items()}
    assert kinds["customer_id"] == "identifier"
    assert kinds["signup_date"] == "datetime"
    assert kinds["plan"] == kinds["region"] == kinds["churned"] == "categorical"
    assert kinds["monthly_spend"] == kinds["noise"] == "numeric"
    assert all(p["reason"] for p in suite_columns(suite).values())


def test_identifiers_and_dates_get_no_learned_range_or_set(suite) -> None:
    checks = _by_column(suite)
    assert set(checks["customer_id"]) == {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_unique",
    }
    between = checks["signup_date"]["expect_column_values_to_be_between"]
    assert between["max_value"] == {"$PARAMETER": "halfcost_now"}
    assert "min_value" not in between or between["min_value"] is None


def test_not_null_only_where_the_reference_has_no_nulls(reference, suite) -> None:
    checks = _by_column(suite)
    for column in reference.columns:
        has_not_null = "expect_column_values_to_not_be_null" in checks.get(column, {})
        assert has_not_null == (not reference[column].isna().any()), column
    assert reference["channel"].isna().any()  # the demo data's nullable category


def test_numeric_ranges_have_a_margin_and_respect_sign(reference, suite) -> None:
    checks = _by_column(suite)
    for column in ("monthly_spend", "noise", "tenure_months"):
        between = checks[column]["expect_column_values_to_be_between"]
        low, high = reference[column].min(), reference[column].max()
        assert high < between["max_value"]
        assert between["min_value"] <= low
        if low >= 0:
            assert between["min_value"] >= 0
    assert checks["noise"]["expect_column_values_to_be_between"]["min_value"] < (
        reference["noise"].min()
    )
    categories = checks["plan"]["expect_column_values_to_be_in_set"]["value_set"]
    assert sorted(categories) == sorted(reference["plan"].unique())


def test_numeric_range_never_crosses_zero_for_a_positive_column() -> None:
    low, high = numeric_range(pd.Series([0.5, 1.0, 1.5, 100.0]), integer=False)
    assert low == 0 and high > 100
    low, high = numeric_range(pd.Series([-9.0, -5.0, -1.0]), integer=False)
    assert high == 0 and low < -9


@pytest.mark.parametrize(
    ("name", "values", "kind"),
    [
        ("order_id", [f"O{i}" for i in range(50)], "identifier"),
        ("row", list(range(10, 60)), "identifier"),
        ("n_logins", sorted(np.random.default_rng(0).integers(0, 9, 50).tolist()), "counter"),
        ("flag", [True, False] * 25, "boolean"),
        ("created_at", [f"2024-03-{d:02d} 10:00:00" for d in range(1, 26)] * 2, "datetime"),
        ("comment", [f"free text number {i} here" for i in range(50)], "text"),
        ("price", ["1.5", "2.25", "3"] * 17, "numeric"),
        ("colour", ["red", "blue"] * 25, "categorical"),
    ],
)
def test_classify_column(name: str, values: list, kind: str) -> None:
    assert classify_column(name, pd.Series(values))[0] == kind


def test_kind_overrides_change_the_checks(reference) -> None:
    suite = learn_suite(reference, kinds={"support_calls": "counter", "region": "text"})
    checks = _by_column(suite)
    counter = checks["support_calls"]["expect_column_values_to_be_between"]
    assert counter["min_value"] == 0 and counter.get("max_value") is None
    assert suite_columns(suite)["region"]["reason"] == "set by the user"
    assert suite_columns(suite)["region"]["vocabulary"] == "open"  # new values are reported
    in_set = [
        e
        for e in suite.expectations
        if e.expectation_type == "expect_column_values_to_be_in_set"
        and e.configuration.kwargs["column"] == "region"
    ]
    assert in_set[0].meta["halfcost"]["check"] == "new_value"
    with pytest.raises(BadInputError, match="choose one of identifier"):
        learn_suite(reference, kinds={"region": "place"})
    with pytest.raises(BadInputError, match="unknown column 'nope'"):
        learn_suite(reference, kinds={"nope": "text"})


def test_empty_reference_is_bad_input(reference) -> None:
    with pytest.raises(BadInputError, match="no rows"):
        learn_suite(reference.iloc[:0])


def test_suite_round_trips_through_gx_json(suite, tmp_path) -> None:
    path = save_suite(suite, tmp_path / "suite.json")
    data = json.loads(path.read_text())
    assert data["meta"]["halfcost"]["columns"]["customer_id"]["kind"] == "identifier"
    loaded = load_suite(path)
    assert loaded.to_json_dict() == suite.to_json_dict()
    assert len(loaded.expectations) == len(suite.expectations)


def test_load_suite_rejects_bad_files(tmp_path) -> None:
    with pytest.raises(BadInputError, match="no such suite file"):
        load_suite(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(BadInputError, match="not valid JSON"):
        load_suite(bad)
    bad.write_text(json.dumps({"name": "x"}))
    with pytest.raises(BadInputError, match="no 'expectations'"):
        load_suite(bad)
    bad.write_text(
        json.dumps(
            {
                "name": "x",
                "expectations": [],
                "meta": {"halfcost": {"columns": {"a": {"kind": "weird"}}}},
            }
        )
    )
    with pytest.raises(BadInputError, match="kind 'weird'"):
        load_suite(bad)
