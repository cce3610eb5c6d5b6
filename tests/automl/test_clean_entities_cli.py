"""`halfcost clean` on an entity table, end to end through files, as a user runs it.

One batch of new entities carries each problem of issue 12 at a known cell: a
dependency violation inside a new entity, a batch typo the reference never saw, a
garbled unit, a code of the wrong shape. The outputs are read back as text.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from halfcost.automl._clean_entities import make_entities, split_new_entities
from halfcost.cli import main

ROW = "halfcost_row"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("entities")
    reference, batch = split_new_entities(make_entities(160, seed=5, rows_per_entity=6.0), seed=5)
    batch = batch.reset_index(drop=True)
    counts = batch["provider_id"].value_counts()
    entity = batch.index[batch["provider_id"] == counts[counts >= 4].index[0]]
    right_city = batch.loc[entity[0], "city"]
    second = batch.index[batch["provider_id"] == counts.index[-1]]  # every row: a bad code
    planted = {
        "city": entity[1],  # another city for one row of a new entity
        "condition": entity[2],  # 'Kidny Care' beside 8 rows of the new 'Kidney Care'
        "sample": 3,
        "postcode": 4,
        "entity postcode": second,
    }
    batch.loc[entity[1], "city"] = next(c for c in batch["city"] if c != right_city)
    frequent = [i for i in batch.index if i not in {*entity, *second, 3, 4}][:8]
    batch.loc[frequent, "condition"] = "Kidney Care"
    batch.loc[entity[2], "condition"] = "Kidny Care"
    batch.loc[3, "sample"] = "3x patients"
    right_postcode = batch.loc[4, "postcode"]
    batch.loc[4, "postcode"] = right_postcode[1:]  # one row: its entity's rows repair it
    batch.loc[second, "postcode"] = "0213"
    reference.to_csv(folder / "ref.csv", index=False)
    batch.to_csv(folder / "batch.csv", index=False)
    (folder / "POLICY.yaml").write_text("columns:\n  condition:\n    new_values: accept\n")
    args = ["clean", "batch.csv", "--reference", "ref.csv", "--policy", "POLICY.yaml"]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        assert main([*args, "--out", "out"]) == 0
        again = ["clean", "batch.csv", "--suite", "out/suite.json", "--policy", "POLICY.yaml"]
        assert main([*again, "--out", "again"]) == 0
    return folder, batch, planted, (right_city, right_postcode)


def _read(folder, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def test_every_cell_not_repaired_is_written_as_read(run) -> None:
    folder, batch, _, _ = run
    report = json.loads((folder / "out" / "report.json").read_text())
    repaired = {(r["row"], r["column"]) for r in report["repairs"]}
    original = (folder / "batch.csv").read_text().splitlines()
    clean_lines = (folder / "out" / "clean.csv").read_text().splitlines()[1:]
    clean = _read(folder, "out/clean.csv")
    held = _read(folder, "out/quarantine.csv")
    assert len(clean) + len(held) == len(batch)
    untouched = 0
    for line, row in zip(clean_lines, clean[ROW].astype(int), strict=True):
        if not any((row, c) in repaired for c in batch.columns):
            assert line == f"{original[1 + row]},{row}"  # byte for byte, plus the row number
            untouched += 1
    assert untouched > 0.9 * len(batch)
    rows = held[ROW].astype(int)
    pd.testing.assert_frame_equal(held[list(batch.columns)], batch.loc[rows].reset_index(drop=True))
    zeros = clean["postcode"].str.startswith("0")
    assert zeros.any() and (clean.loc[zeros, "postcode"].str.len() == 5).all()


def test_a_new_entity_batch_is_accepted_and_its_new_values_reported(run) -> None:
    folder, batch, planted, _ = run
    report = json.loads((folder / "out" / "report.json").read_text())
    held = set(_read(folder, "out/quarantine.csv")[ROW].astype(int))
    bad = {planted["sample"], *planted["entity postcode"]}
    assert len(held - bad) <= 0.05 * len(batch)
    assert report["new_values"]["facility_name"]["rows"] > 0.5 * len(batch)
    assert report["columns"]["city"]["vocabulary"] == "open"  # each column says its own
    assert report["columns"]["state"]["vocabulary"] == "closed"
    columns = json.loads((folder / "out" / "suite.json").read_text())["meta"]["halfcost"]
    assert columns["columns"]["postcode"]["kind"] == "code"
    assert columns["columns"]["sample"]["kind"] == "measure"


def test_a_dependency_violation_and_a_batch_typo_are_repaired(run) -> None:
    folder, batch, planted, (right_city, _) = run
    report = json.loads((folder / "out" / "report.json").read_text())
    clean = _read(folder, "out/clean.csv").set_index(ROW)
    city_row, typo_row = planted["city"], planted["condition"]
    assert clean.loc[str(city_row), "city"] == right_city
    assert clean.loc[str(typo_row), "condition"] == "Kidney Care"
    repairs = {(r["row"], r["column"]): r for r in report["repairs"]}
    assert repairs[(city_row, "city")]["from"] == batch.loc[city_row, "city"]
    assert repairs[(city_row, "city")]["how"] == "majority of the same key"
    assert repairs[(typo_row, "condition")]["to"] == "Kidney Care"
    typo = next(t for t in report["suspected_typos"] if t["value"] == "Kidny Care")
    assert typo["close_to"] == "Kidney Care"


def test_units_and_codes_are_checked_with_readable_reasons(run) -> None:
    folder, _, planted, (_, right_postcode) = run
    held = _read(folder, "out/quarantine.csv").set_index(ROW)["halfcost_reason"]
    assert "sample=3x patients is not a number in patients (unparseable)" in held["3"]
    for row in planted["entity postcode"]:
        assert held[str(row)].startswith("postcode=0213 does not match the code pattern")
    clean = _read(folder, "out/clean.csv").set_index(ROW)
    assert clean.loc["4", "postcode"] == right_postcode
    html = (folder / "out" / "report.html").read_text()
    assert "sample=3x patients" in html


def test_a_saved_suite_gives_the_same_outputs(run) -> None:
    folder = run[0]
    for name in ("clean.csv", "quarantine.csv"):
        pd.testing.assert_frame_equal(_read(folder, f"out/{name}"), _read(folder, f"again/{name}"))
