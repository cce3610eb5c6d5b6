"""`halfcost drift profile` and `halfcost drift check` as a user runs them (subprocesses)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest


def frame(n_rows: int, seed: int, shift_std: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "spend": rng.normal(50, 10, n_rows) + 10 * shift_std,
            "age": rng.normal(40, 12, n_rows).round(),
            "plan": rng.choice(["basic", "premium"], n_rows, p=[0.7, 0.3]),
            "region": rng.choice(["n", "s", "e"], n_rows),
        }
    )


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    folder = tmp_path_factory.mktemp("drift-cli")
    frame(3000, 1).to_csv(folder / "ref.csv", index=False)
    frame(2000, 2).to_csv(folder / "calm.csv", index=False)
    drifted = frame(2000, 3, shift_std=1.0)
    drifted["age"] += 15
    drifted.to_parquet(folder / "drifted.parquet", index=False)
    frame(100, 4).drop(columns=["plan"]).assign(colour="red").to_csv(
        folder / "bad.csv", index=False
    )
    (folder / "empty.csv").write_text("spend,age,plan,region\n")
    return folder


def test_profile_then_check_writes_the_report(cli, tables):
    made = cli(["drift", "profile", "ref.csv", "--out", "ref.profile", "--json"], cwd=tables)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["rows"] == 3000
    calm = cli(
        [
            "drift",
            "check",
            "--reference",
            "ref.profile",
            "--current",
            "calm.csv",
            "--out",
            "calm",
            "--fail-on-drift",
        ],
        cwd=tables,
    )
    assert calm.returncode == 0, calm.stderr
    assert "no dataset drift: 0 of 4 columns drifted" in calm.stdout
    data = json.loads((tables / "calm" / "drift.json").read_text())
    assert data["drift_detected"] is False and set(data["columns"]) == {
        "spend",
        "age",
        "plan",
        "region",
    }
    assert (tables / "calm" / "drift.html").stat().st_size > 10_000


def test_fail_on_drift_exits_1_and_json_names_columns(cli, tables):
    drifted = cli(
        [
            "drift",
            "check",
            "--reference",
            "ref.csv",
            "--current",
            "drifted.parquet",
            "--out",
            "drifted",
            "--fail-on-drift",
            "--json",
            "--no-html",
        ],
        cwd=tables,
    )
    assert drifted.returncode == 1, drifted.stderr
    data = json.loads(drifted.stdout)
    assert data["drift_detected"] is True
    assert data["drifted_columns"] == ["spend", "age"]
    assert data["columns"]["spend"]["method"] == "Wasserstein distance (normed)"


def test_bad_input_exits_2_with_one_line(cli, tables):
    bad = cli(["drift", "check", "--reference", "ref.csv", "--current", "bad.csv"], cwd=tables)
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0
    assert "missing plan; unexpected colour" in bad.stderr
    empty = cli(["drift", "check", "--reference", "ref.csv", "--current", "empty.csv"], cwd=tables)
    assert empty.returncode == 2 and "no rows" in empty.stderr
