"""Cleaning entity tables: exact outputs, codes, units, open vocabularies, dependencies, typos."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from halfcost.automl import (
    CleaningPolicy,
    clean_frame,
    learn_suite,
    load_suite,
    read_exact_table,
    save_suite,
    write_clean_outputs,
)
from halfcost.automl._clean_entities import make_entities, split_new_entities
from halfcost.automl._clean_profile import suite_columns


@pytest.fixture(scope="module")
def split() -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = make_entities(160, seed=5, rows_per_entity=6.0)
    return split_new_entities(frame, seed=5)


@pytest.fixture(scope="module")
def suite(split):
    return learn_suite(split[0])


def _held(result) -> pd.Series:
    return result.quarantine.set_index("halfcost_row")["halfcost_reason"]


def _kept(result) -> pd.DataFrame:
    return result.clean.set_index("halfcost_row")


def test_columns_are_classified_as_what_they_hold(suite) -> None:
    columns = suite_columns(suite)
    kinds = {c: p["kind"] for c, p in columns.items()}
    assert kinds["postcode"] == kinds["phone"] == kinds["account"] == "code"
    assert kinds["provider_id"] == "code"
    assert kinds["score"] == kinds["sample"] == "measure"
    assert columns["sample"]["unit"] == "patients" and columns["score"]["unit"] == "%"
    assert kinds["footnote"] == "empty"
    assert columns["city"]["vocabulary"] == "open"
    assert columns["facility_name"]["vocabulary"] == "open"
    assert columns["condition"]["vocabulary"] == "closed"
    types = {(e.expectation_type, e.configuration.kwargs.get("column")) for e in suite.expectations}
    assert ("expect_column_values_to_match_regex", "postcode") in types
    assert ("expect_column_values_to_be_between", "postcode") not in types  # a code, no range
    assert ("expect_column_values_to_be_null", "footnote") in types
    keys = {(d["key"], d["column"]) for d in suite.meta["halfcost"]["dependencies"]}
    assert ("provider_id", "city") in keys and ("postcode", "city") in keys


def test_a_new_entity_batch_passes_and_its_new_values_are_reported(split, suite) -> None:
    _, batch = split
    result = clean_frame(batch, suite)
    assert result.report["rows_quarantined"] <= 0.05 * len(batch)
    assert result.report["rows_repaired"] == 0
    assert result.report["new_values"]["facility_name"]["rows"] > 0
    pd.testing.assert_frame_equal(
        result.clean.drop(columns="halfcost_row").reset_index(drop=True),
        batch.loc[result.clean["halfcost_row"]].reset_index(drop=True),
    )


def test_new_values_quarantine_holds_unseen_names(split, suite) -> None:
    _, batch = split
    policy = CleaningPolicy.from_dict({"columns": {"facility_name": {"new_values": "quarantine"}}})
    result = clean_frame(batch.head(50), suite, policy)
    assert result.report["rows_quarantined"] == 50
    assert "is a value never seen in the reference" in _held(result).iloc[0]


def _rows_of_one_entity(batch: pd.DataFrame, at_least: int) -> pd.Index:
    counts = batch["provider_id"].value_counts()
    entity = counts[counts >= at_least].index[0]
    return batch.index[batch["provider_id"] == entity]


def test_a_dependency_violation_inside_a_new_entity_is_repaired(split, suite) -> None:
    _, batch = split
    batch = batch.copy()
    rows = _rows_of_one_entity(batch, 4)
    right_city, right_phone = batch.loc[rows[0], "city"], batch.loc[rows[0], "phone"]
    other_city = next(c for c in batch["city"] if c != right_city)
    batch.loc[rows[1], "city"] = other_city  # the city of another place
    batch.loc[rows[2], "phone"] = right_phone[:-2] + right_phone[-1] + right_phone[-2]
    batch.loc[rows[3], "phone"] = right_phone[:3] + "O" + right_phone[4:]  # OCR letter
    result = clean_frame(batch, suite)
    kept = _kept(result)
    assert kept.loc[rows[1], "city"] == right_city
    assert kept.loc[rows[2], "phone"] == right_phone
    assert kept.loc[rows[3], "phone"] == right_phone
    repairs = {(r["row"], r["column"]): r for r in result.report["repairs"]}
    assert repairs[(rows[1], "city")] == {
        "row": rows[1],
        "column": "city",
        "from": other_city,
        "to": right_city,
        "how": "majority of the same key",
    }
    entries = [e for e in result.report["expectations"] if e["check"] == "dependency"]
    assert any(e["kwargs"]["key"] == "provider_id" and e["repaired_rows"] for e in entries)


def test_two_rows_that_disagree_are_held_with_the_candidates(split, suite) -> None:
    _, batch = split
    rows = _rows_of_one_entity(batch, 2)[:2]
    pair = batch.loc[rows].copy().reset_index(drop=True)
    pair.loc[1, "address"] = "1 Elsewhere Road"
    reasons = _held(clean_frame(pair, suite))
    assert len(reasons) == 2
    assert "no value is a clear majority" in reasons.iloc[0]
    assert all("1 Elsewhere Road" in r and "'" not in r and "candidates" in r for r in reasons)


def test_a_typo_of_a_value_the_reference_never_saw_is_repaired(split, suite) -> None:
    _, batch = split
    batch = batch.copy()
    batch.loc[batch.index[:8], "condition"] = "Kidney Care"  # new, frequent in the batch
    batch.loc[batch.index[8], "condition"] = "Kidny Care"
    policy = CleaningPolicy.from_dict({"columns": {"condition": {"new_values": "accept"}}})
    result = clean_frame(batch, suite, policy)
    assert _kept(result).loc[batch.index[8], "condition"] == "Kidney Care"
    typos = result.report["suspected_typos"]
    assert {"column": "condition", "value": "Kidny Care", "close_to": "Kidney Care"}.items() <= (
        next(t for t in typos if t["value"] == "Kidny Care").items()
    )


def test_units_and_codes_are_checked_for_what_they_are(split, suite) -> None:
    _, batch = split
    batch = batch.head(40).copy()
    batch.loc[1, "sample"] = "3x patients"
    batch.loc[2, "score"] = "840%"
    batch.loc[3, "postcode"] = "0213"
    reasons = _held(clean_frame(batch, suite))
    assert "sample=3x patients is not a number in patients (unparseable)" in reasons[1]
    assert "score=840 is outside" in reasons[2]
    assert "postcode=0213 does not match the code pattern" in reasons[3]


def test_outputs_are_exactly_the_input_text(tmp_path) -> None:
    reference = pd.DataFrame(
        {
            "account_no": ["0001234", "0099812", "1234567", "0000042"] * 5,
            "card": ["4000123412341234", "0400123412341234", "5500000000000004", "4111"] * 5,
            "phone": ["2053258100", "0207946095", "2125550100", "3125550199"] * 5,
            "name": ["McDonald", "van der Berg", "O'Neil", "ALLCAPS Ltd"] * 5,
            "empty_in_reference": [""] * 20,
            "amount": ["35233", "12", "7.50", "1e3"] * 5,
        }
    )
    batch = reference.copy()
    batch.loc[3, "empty_in_reference"] = "now filled"
    batch.loc[5, "amount"] = ""
    ref_csv, batch_csv = tmp_path / "ref.csv", tmp_path / "batch.csv"
    reference.to_csv(ref_csv, index=False)
    batch.to_csv(batch_csv, index=False)
    suite = learn_suite(read_exact_table(ref_csv))
    assert suite_columns(suite)["empty_in_reference"]["kind"] == "empty"
    assert suite_columns(suite)["account_no"]["kind"] == "code"
    result = clean_frame(read_exact_table(batch_csv), suite)
    paths = write_clean_outputs(result, tmp_path / "out", suite=suite, suffix=".csv")
    clean = pd.read_csv(paths["clean"], dtype=str, keep_default_na=False)
    held = pd.read_csv(paths["quarantine"], dtype=str, keep_default_na=False)
    assert len(clean) + len(held) == len(batch)
    for written in (clean, held):
        rows = written["halfcost_row"].astype(int)
        pd.testing.assert_frame_equal(
            written[list(batch.columns)].reset_index(drop=True),
            batch.loc[rows].reset_index(drop=True),
        )
    assert set(held["halfcost_row"].astype(int)) == {3, 5}
    original = batch_csv.read_text().splitlines()
    lines = paths["clean"].read_text().splitlines()
    assert lines[1] == original[1] + ",0"  # the same text, byte for byte, plus the row number


def test_parquet_keeps_values_and_dtypes(tmp_path) -> None:
    reference = pd.DataFrame({"zip": [2134, 35233, 10001, 94105] * 5, "n": [1, 2, 3, 4] * 5})
    suite = learn_suite(reference, kinds={"zip": "code"})
    batch = reference.copy()
    batch.loc[2, "n"] = 400
    result = clean_frame(batch, suite)
    paths = write_clean_outputs(result, tmp_path / "out", suite=suite, suffix=".parquet")
    clean = pd.read_parquet(paths["clean"])
    assert clean["zip"].dtype == reference["zip"].dtype
    assert clean["zip"].tolist() == batch.drop(index=2)["zip"].tolist()


def test_the_reference_votes_for_a_known_key_after_a_suite_round_trip(tmp_path) -> None:
    frame = make_entities(120, seed=9, rows_per_entity=6.0)
    reference = frame.iloc[::2].reset_index(drop=True)
    suite = load_suite(save_suite(learn_suite(reference), tmp_path / "suite.json"))
    lookups = suite.meta["halfcost"]["lookups"]
    assert set(lookups["values"]["provider_id"]) == set(reference["provider_id"])  # every key
    entity = reference["provider_id"].iloc[0]
    pair = frame[frame["provider_id"] == entity].head(2).reset_index(drop=True)
    right_city = pair.loc[0, "city"]
    pair.loc[1, "city"] = next(c for c in frame["city"] if c != right_city)
    # two batch rows disagree: only the reference's rows of the key make a majority
    result = clean_frame(pair, suite)
    assert result.report["rows_quarantined"] == 0
    assert _kept(result).loc[1, "city"] == right_city


def test_a_row_holding_another_entitys_key_is_held_not_rewritten(split, suite) -> None:
    _, batch = split
    rows = _rows_of_one_entity(batch, 4)
    stranger = batch[batch["provider_id"] != batch.loc[rows[0], "provider_id"]]
    lone = stranger.drop_duplicates("provider_id", keep=False)
    single = lone.index[0] if len(lone) else stranger.index[0]
    mixed = pd.concat([batch.loc[rows], batch.loc[[single]]]).reset_index(drop=True)
    last = len(mixed) - 1
    mixed.loc[last, "address"] = mixed.loc[0, "address"]  # another entity's address
    result = clean_frame(mixed, suite)
    assert not any(r["row"] == last for r in result.report["repairs"])
    reason = _held(result)[last]
    address = mixed.loc[0, "address"]
    assert reason.startswith(f"address={address} looks like the value of another entity")
    assert "disagrees on provider_id, facility_name" in reason


def test_reasons_and_repairs_hold_values_not_reprs(split, suite) -> None:
    _, batch = split
    batch = batch.copy()
    rows = _rows_of_one_entity(batch, 4)
    long_name = batch.loc[rows[0], "facility_name"] + " " + "and Rehabilitation Wing " * 4
    batch.loc[rows, "facility_name"] = long_name
    batch.loc[rows[1], "facility_name"] = long_name.replace("Wing", "Wign", 1)
    batch.loc[rows[2], "visits"] = " 12 "
    result = clean_frame(batch, suite)
    repair = next(r for r in result.report["repairs"] if r["row"] == rows[1])
    assert repair["to"] == long_name and len(long_name) > 80  # whole, not cut
    assert repair["from"] == batch.loc[rows[1], "facility_name"]
    for reason in result.quarantine["halfcost_reason"]:
        assert not re.search(r"=\'|=\"", reason), reason  # values, not reprs
