"""Cleaning a batch with Great Expectations: each error kind, the row accounting, policies."""

from __future__ import annotations

import json
from datetime import datetime

import great_expectations as gx
import great_expectations.expectations as gxe
import numpy as np
import pandas as pd
import pytest

from halfcost.automl import CleaningPolicy, clean_frame, learn_suite, load_suite, save_suite
from halfcost.automl._clean_inject import inject_errors
from halfcost.automl._clean_repair import ColumnRepair, RepairOutcome
from halfcost.automl._clean_report import write_clean_outputs
from halfcost.demo_data import make_customers
from halfcost.errors import BadInputError
from halfcost.jsonio import to_json
from halfcost.tables import read_table

NOW = datetime(2026, 6, 1)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return make_customers(2000, seed=0)


@pytest.fixture(scope="module")
def suite(reference: pd.DataFrame):
    return learn_suite(reference)


@pytest.fixture
def batch() -> pd.DataFrame:
    return make_customers(400, seed=1, id_start=10_000)


def _reason(result, row: int) -> str:
    held = result.quarantine.set_index("halfcost_row")
    assert row in held.index, f"row {row} was not quarantined"
    return str(held.loc[row, "halfcost_reason"])


def _clean_value(result, row: int, column: str):
    kept = result.clean.set_index("halfcost_row")
    assert row in kept.index, f"row {row} was quarantined: {_reason(result, row)}"
    return kept.loc[row, column]


def _assert_accounting(result, n_rows: int) -> None:
    report = result.report
    assert report["rows_clean"] + report["rows_quarantined"] == report["rows_in"] == n_rows
    rows = np.concatenate([result.clean["halfcost_row"], result.quarantine["halfcost_row"]])
    assert np.array_equal(np.sort(rows), np.arange(n_rows))
    assert result.clean["halfcost_row"].is_monotonic_increasing
    assert result.quarantine["halfcost_reason"].notna().all()


def test_a_clean_batch_passes_untouched(suite, batch) -> None:
    result = clean_frame(batch, suite, now=NOW)
    _assert_accounting(result, len(batch))
    assert result.report["rows_quarantined"] == 0 and result.report["rows_repaired"] == 0
    assert result.report["kind"] == "clean"
    kept = result.clean.drop(columns="halfcost_row")
    pd.testing.assert_frame_equal(kept, batch, check_dtype=False)


@pytest.fixture(scope="module")
def dirty() -> tuple[pd.DataFrame, object]:
    """One batch with every hand-placed error kind, cleaned once for the tests below."""
    batch = make_customers(400, seed=1, id_start=10_000)
    batch["monthly_spend"] = batch["monthly_spend"].astype(object)
    edits = {
        (3, "tenure_months"): np.nan,
        (4, "plan"): None,
        (5, "channel"): None,  # channel has nulls in the reference: allowed
        (7, "monthly_spend"): batch.loc[7, "monthly_spend"] * 1000,
        (8, "discount"): -0.05,  # never negative in the reference
        (10, "plan"): " Premium ",
        (11, "region"): "nrth",
        (12, "region"): "atlantis",
        (14, "monthly_spend"): " 45.5 ",
        (15, "monthly_spend"): "#REF!",
        (20, "signup_date"): "2030-01-01",
        (21, "signup_date"): "last tuesday",
    }
    for (row, column), value in edits.items():
        batch.loc[row, column] = value
    batch.loc[30] = batch.loc[2]
    batch.loc[31] = batch.loc[2]
    batch.loc[32, "customer_id"] = batch.loc[5, "customer_id"]
    return batch


@pytest.fixture(scope="module")
def cleaned(suite, dirty):
    return clean_frame(dirty, suite, now=NOW)


def test_every_row_is_accounted_for(cleaned, dirty) -> None:
    _assert_accounting(cleaned, len(dirty))
    assert cleaned.report["rows_quarantined"] == 11
    assert cleaned.report["rows_repaired"] == 3


def test_null_where_none_allowed_is_quarantined_but_not_in_a_nullable_column(cleaned) -> None:
    assert "tenure_months=null is missing" in _reason(cleaned, 3)
    assert "expect_column_values_to_not_be_null" in _reason(cleaned, 3)
    assert "plan=null is missing" in _reason(cleaned, 4)
    assert pd.isna(_clean_value(cleaned, 5, "channel"))


def test_out_of_range_and_negative_values_are_quarantined(cleaned) -> None:
    assert "monthly_spend=" in _reason(cleaned, 7) and "is outside" in _reason(cleaned, 7)
    assert "discount=-0.05 is outside [0" in _reason(cleaned, 8)
    report = cleaned.report
    assert report["columns"]["discount"]["quarantined_rows"] == 1
    ranges = [
        e for e in report["expectations"] if e["column"] == "discount" and e["check"] == "range"
    ]
    assert ranges[0]["unexpected_count"] == 1 and ranges[0]["examples"][0]["row"] == 8


def test_category_spelling_is_repaired_and_reported(cleaned) -> None:
    assert _clean_value(cleaned, 10, "plan") == "premium"
    assert _clean_value(cleaned, 11, "region") == "north"
    assert "region=atlantis is not a known category" in _reason(cleaned, 12)
    repairs = {(r["row"], r["column"]): r for r in cleaned.report["repairs"]}
    assert repairs[(10, "plan")]["how"] == "case/whitespace"
    assert repairs[(11, "region")] == {
        "row": 11,
        "column": "region",
        "from": "nrth",
        "to": "north",
        "how": "close match",
    }


def test_numbers_as_text_are_repaired_and_garbage_is_unparseable(cleaned, dirty) -> None:
    assert _clean_value(cleaned, 14, "monthly_spend") == 45.5
    assert _reason(cleaned, 15) == "monthly_spend=#REF! is not a number (unparseable)"
    # untouched cells come out as they went in; the repair is a number like its neighbours
    kept = cleaned.clean.set_index("halfcost_row")["monthly_spend"].drop(index=14)
    assert kept.tolist() == dirty.loc[kept.index, "monthly_spend"].tolist()
    assert cleaned.report["columns"]["monthly_spend"]["unparseable"] == 1
    assert cleaned.report["columns"]["monthly_spend"]["repaired_rows"] == 1


def test_dates_must_parse_and_not_be_in_the_future(cleaned, dirty) -> None:
    assert "is in the future" in _reason(cleaned, 20)
    assert "signup_date=last tuesday is not a %Y-%m-%d date" in _reason(cleaned, 21)
    assert _clean_value(cleaned, 22, "signup_date") == dirty.loc[22, "signup_date"]


def test_exact_duplicates_keep_the_first_and_duplicate_ids_are_caught(cleaned, dirty) -> None:
    assert _reason(cleaned, 30) == "duplicate of row 2"
    assert _reason(cleaned, 31) == "duplicate of row 2"
    assert _clean_value(cleaned, 2, "customer_id") == dirty.loc[2, "customer_id"]
    assert "duplicates row 5" in _reason(cleaned, 32)
    assert _clean_value(cleaned, 5, "customer_id") == dirty.loc[5, "customer_id"]
    assert cleaned.report["rows_duplicate"] == 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_row_lands_exactly_once_and_injected_errors_are_caught(suite, seed) -> None:
    batch = make_customers(600, seed=10 + seed, id_start=20_000)
    dirty, truth = inject_errors(batch, share=0.1, seed=seed)
    result = clean_frame(dirty, suite, now=NOW)
    _assert_accounting(result, len(dirty))
    held = set(result.quarantine["halfcost_row"])
    repaired = {r["row"] for r in result.report["repairs"]}
    caught = truth["row"].isin(held | repaired)
    assert caught.all(), truth[~caught]
    untouched = set(range(len(dirty))) - set(truth["row"])
    assert len(held & untouched) <= 0.005 * len(untouched)
    assert result.report["rows_repaired"] == len(repaired - held)


def test_policy_impute_ignore_and_quarantine(suite, reference, batch) -> None:
    batch.loc[40, "tenure_months"] = np.nan
    batch.loc[41, "monthly_spend"] = 1e6
    batch.loc[42, "region"] = "atlantis"
    batch.loc[43, "plan"] = "PREMIUM"
    batch.loc[44] = batch.loc[1]
    policy = CleaningPolicy.from_dict(
        {
            "columns": {
                "tenure_months": {"action": "impute"},
                "monthly_spend": {"action": "impute", "impute": 50},
                "region": {"action": "ignore"},
                "plan": {"action": "quarantine"},
            },
            "duplicates": "ignore",
        }
    )
    result = clean_frame(batch, suite, policy, now=NOW)
    assert _clean_value(result, 40, "tenure_months") == reference["tenure_months"].median()
    assert _clean_value(result, 41, "monthly_spend") == 50
    assert _clean_value(result, 42, "region") == "atlantis"
    assert "plan=PREMIUM" in _reason(result, 43)
    # duplicates: ignore keeps exact copies, but the copied id still fails its uniqueness
    assert _reason(result, 44).startswith("customer_id=C0010001 duplicates row 1")
    imputed = [r for r in result.report["repairs"] if r["how"] == "imputed"]
    assert {(r["row"], r["column"]) for r in imputed} == {
        (40, "tenure_months"),
        (41, "monthly_spend"),
    }
    assert result.report["columns"]["tenure_months"]["imputed_rows"] == 1
    _assert_accounting(result, len(batch))


def test_impute_median_of_a_category_is_a_clear_error(suite, batch) -> None:
    batch.loc[3, "plan"] = None
    policy = CleaningPolicy.from_dict(
        {"columns": {"plan": {"action": "impute", "impute": "median"}}}
    )
    with pytest.raises(BadInputError, match="use impute: mode or a constant"):
        clean_frame(batch, suite, policy, now=NOW)


def test_an_edited_suite_is_honoured_after_reload(suite, batch, tmp_path) -> None:
    path = save_suite(suite, tmp_path / "suite.json")
    data = json.loads(path.read_text())
    for expectation in data["expectations"]:
        if expectation["kwargs"].get("column") == "region" and "value_set" in expectation["kwargs"]:
            expectation["kwargs"]["value_set"].append("atlantis")
    path.write_text(json.dumps(data))
    batch.loc[12, "region"] = "atlantis"
    assert "not a known category" in _reason(clean_frame(batch, suite, now=NOW), 12)
    edited = load_suite(path)
    assert _clean_value(clean_frame(batch, edited, now=NOW), 12, "region") == "atlantis"


def test_a_hand_written_gx_suite_works_without_halfcost_meta(batch) -> None:
    suite = gx.ExpectationSuite(
        name="by_hand",
        expectations=[gxe.ExpectColumnValuesToBeBetween(column="age", min_value=18, max_value=60)],
    )
    result = clean_frame(batch, suite, now=NOW)
    over = set(np.flatnonzero(batch["age"].to_numpy() > 60))
    assert set(result.quarantine["halfcost_row"]) == over and over
    _assert_accounting(result, len(batch))


def test_columns_that_differ_from_the_suite_are_named(suite, batch) -> None:
    with pytest.raises(BadInputError, match="missing noise; unexpected extra"):
        clean_frame(batch.drop(columns="noise").assign(extra=1), suite, now=NOW)


def test_outputs_are_written_and_read_back(suite, cleaned, dirty, tmp_path) -> None:
    paths = write_clean_outputs(cleaned, tmp_path / "out", suite=suite, suffix=".parquet")
    clean = read_table(paths["clean"])
    held = read_table(paths["quarantine"])
    assert list(clean.columns) == [*dirty.columns, "halfcost_row"]
    assert list(held.columns) == [*dirty.columns, "halfcost_row", "halfcost_reason"]
    assert len(clean) + len(held) == len(dirty)
    report = json.loads(paths["report"].read_text())
    assert report["kind"] == "clean" and report["rows_quarantined"] == 11
    assert report["classification"]["customer_id"]["kind"] == "identifier"
    page = paths["html"].read_text()
    assert "plan=null is missing" in page and "identifier" in page
    assert load_suite(paths["suite"]).to_json_dict() == suite.to_json_dict()
    json.loads(to_json(cleaned.report))


class _PercentText(ColumnRepair):
    """A custom repair: '12%' -> 12.0 (the extension point, as a user would write one)."""

    def applies(self, profile: dict) -> bool:
        return profile.get("kind") == "numeric"

    def repair(self, raw, profile, policy, known) -> RepairOutcome:
        text = raw.astype(str)
        values = pd.to_numeric(text.str.rstrip("%"), errors="coerce")
        return RepairOutcome(
            values=values,
            repaired=text.str.endswith("%").to_numpy() & values.notna().to_numpy(),
            unparseable=(raw.notna() & values.isna()).to_numpy(),
            how=pd.Series("percent sign", index=raw.index),
            problem="is not a percentage",
        )


def test_custom_repairs_plug_in() -> None:
    suite = gx.ExpectationSuite(
        name="rates",
        expectations=[gxe.ExpectColumnValuesToBeBetween(column="rate", min_value=0, max_value=100)],
        meta={"halfcost": {"columns": {"rate": {"kind": "numeric"}}}},
    )
    frame = pd.DataFrame({"rate": ["12%", "50", "abc", "300"]})
    result = clean_frame(frame, suite, repairs=[_PercentText()], now=NOW)
    assert result.clean["rate"].tolist() == ["12", "50"]  # text stays text, repairs too
    assert _reason(result, 2) == "rate=abc is not a percentage (unparseable)"
    assert "rate=300.0 is outside [0.0, 100.0]" in _reason(result, 3)
    assert result.report["repairs"] == [
        {"row": 0, "column": "rate", "from": "12%", "to": "12", "how": "percent sign"}
    ]
