"""`halfcost clean` end to end on real files, as a user runs it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from halfcost.automl._clean_inject import inject_errors
from halfcost.cli import main
from halfcost.demo_data import make_customers


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean")
    make_customers(1500, seed=0).to_csv(folder / "ref.csv", index=False)
    dirty, truth = inject_errors(make_customers(800, seed=1, id_start=5000), share=0.05, seed=4)
    dirty.to_csv(folder / "data.csv", index=False)
    pd.read_csv(folder / "data.csv").to_parquet(folder / "data.parquet", index=False)
    return folder, truth


def test_clean_writes_the_contract_and_accounts_for_every_row(cli, files) -> None:
    folder, truth = files
    args = ["clean", "data.csv", "--reference", "ref.csv", "--out", "out", "--json"]
    done = cli(args, cwd=folder)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    out = folder / "out"
    assert {p.name for p in out.iterdir()} >= {
        "clean.csv",
        "quarantine.csv",
        "report.json",
        "report.html",
        "suite.json",
    }
    report = json.loads((out / "report.json").read_text())
    assert report["kind"] == "clean" and report["data"]["path"] == "data.csv"
    assert len(report["data"]["sha256"]) == 64
    assert report["rows_clean"] + report["rows_quarantined"] == report["rows_in"] == 800
    assert summary["rows_quarantined"] == report["rows_quarantined"] > 0
    clean = pd.read_csv(out / "clean.csv")
    held = pd.read_csv(out / "quarantine.csv")
    rows = np.concatenate([clean["halfcost_row"], held["halfcost_row"]])
    assert np.array_equal(np.sort(rows), np.arange(800))
    repaired = {r["row"] for r in report["repairs"]}
    assert truth["row"].isin(set(held["halfcost_row"]) | repaired).all()
    duplicates = truth[truth["kind"] == "duplicate"]
    reasons = held.set_index("halfcost_row")["halfcost_reason"]
    for row, source in zip(duplicates["row"], duplicates["after"], strict=True):
        assert reasons[row] == f"duplicate of row {source}"


def test_clean_reuses_a_suite_and_a_policy_on_parquet(files, capsys, monkeypatch) -> None:
    folder, _ = files
    monkeypatch.chdir(folder)  # in-process: the same entry point, without a second GX import
    suite = json.loads((folder / "out" / "suite.json").read_text())
    assert suite["meta"]["halfcost"]["columns"]["customer_id"]["kind"] == "identifier"
    (folder / "POLICY.yaml").write_text("columns:\n  plan:\n    action: ignore\n")
    args = ["clean", "data.parquet", "--suite", "out/suite.json", "--policy", "POLICY.yaml"]
    assert main([*args, "--out", "out2"]) == 0
    assert "quarantined" in capsys.readouterr().out
    held = pd.read_parquet(folder / "out2" / "quarantine.parquet")
    clean = pd.read_parquet(folder / "out2" / "clean.parquet")
    assert len(held) + len(clean) == 800
    assert not held["halfcost_reason"].str.startswith("plan=").any()


def test_missing_file_exits_2_with_one_line(cli, files) -> None:
    folder, _ = files
    done = cli(["clean", "missing.csv", "--reference", "ref.csv", "--out", "bad"], cwd=folder)
    assert done.returncode == 2
    assert done.stderr == "halfcost clean: error: missing.csv: no such file; check the path.\n"
    assert not (folder / "bad").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data.csv", "--reference", "empty.csv"], "empty.csv: the table has a header but no rows"),
        (["narrow.csv", "--reference", "ref.csv"], "missing age, noise"),
        (["data.csv"], "give --reference REF"),
        (["data.csv", "--reference", "ref.csv", "--policy", "bad.yaml"], "unknown action 'zap'"),
        (["data.csv", "--suite", "bad.yaml"], "bad.yaml: not valid JSON"),
        (["data.csv", "--suite", "out/suite.json", "--kind", "age=text"], "edit the suite"),
        (["data.csv", "--reference", "ref.csv", "--kind", "age"], "write it as COLUMN=KIND"),
        (["empty.csv", "--reference", "ref.csv"], "empty.csv: the table has a header but no rows"),
        (
            ["data.csv", "--reference", "ref.csv", "--policy", "nocol.yaml"],
            "the policy names column 'nope', which is not in the data; choose one of customer_id",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(files, capsys, monkeypatch, args, message) -> None:
    folder, _ = files
    monkeypatch.chdir(folder)
    make_customers(5, seed=0).iloc[:0].to_csv("empty.csv", index=False)
    make_customers(5, seed=0).drop(columns=["noise", "age"]).to_csv("narrow.csv", index=False)
    (folder / "bad.yaml").write_text("default:\n  action: zap\n")
    (folder / "nocol.yaml").write_text("columns:\n  nope:\n    action: ignore\n")
    assert main(["clean", *args, "--out", "bad_out"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("halfcost clean: error: ")
    assert message in err
    assert not (folder / "bad_out").exists()
