"""`halfcost label select` and `halfcost label simulate` as a user runs them.

The runs that write results go through the console script (a subprocess); the bad-input
cases call the same entry point in-process (``halfcost.cli.main``), which is what the
console script runs, to keep the suite fast.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from halfcost.cli import main


class _Result:
    def __init__(self, returncode: int, stderr: str):
        self.returncode, self.stderr = returncode, stderr


@pytest.fixture
def run_main(capsys):
    def run(args: list[str]) -> _Result:
        code = main(args)
        return _Result(code, capsys.readouterr().err)

    return run


def _table(n: int = 500, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    plan = rng.choice(["basic", "plus", "pro"], size=n).astype(object)
    logit = 2.5 * x + 1.2 * (plan == "pro")
    label = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    frame = pd.DataFrame(
        {"x": x.round(5), "plan": plan, "code": [f"{i % 50:04d}" for i in range(n)], "label": label}
    )
    frame.loc[::13, "plan"] = None
    return frame


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("label")
    table = _table()
    table.to_csv(folder / "all.csv", index=False)
    table.iloc[:80].to_csv(folder / "labelled.csv", index=False)
    table.iloc[80:].drop(columns="label").to_csv(folder / "pool.csv", index=False)
    return folder


def test_select_writes_the_picks_with_row_and_score(cli, files):
    out = files / "picks.csv"
    args = [
        "label",
        "select",
        "--pool",
        str(files / "pool.csv"),
        "--labeled",
        str(files / "labelled.csv"),
        "--target",
        "label",
        "--n",
        "25",
        "--strategy",
        "diverse",
        "--out",
        str(out),
        "--json",
    ]
    result = cli(args)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows"] == 25 and summary["strategy"] == "diverse"
    picks = pd.read_csv(out, dtype={"code": str})
    assert list(picks.columns) == ["x", "plan", "code", "halfcost_row", "halfcost_score"]
    pool = pd.read_csv(files / "pool.csv", dtype={"code": str})
    assert picks["halfcost_row"].is_unique
    pd.testing.assert_frame_equal(
        picks[["x", "plan", "code"]], pool.iloc[picks["halfcost_row"]].reset_index(drop=True)
    )
    assert picks["code"].str.len().eq(4).all()  # leading zeros kept


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--n", "1000"], "--n is 1000 but the pool has only 420 rows"),
        (["--n", "5", "--strategy", "best"], "unknown strategy 'best'"),
        (["--n", "5", "--target", "nope"], "target column 'nope' is not in the labelled rows"),
    ],
)
def test_select_bad_input_exits_2_with_one_line_and_writes_nothing(run_main, files, extra, message):
    out = files / "bad-picks.csv"
    args = [
        "label",
        "select",
        "--pool",
        str(files / "pool.csv"),
        "--labeled",
        str(files / "labelled.csv"),
        "--target",
        "label",
        "--out",
        str(out),
        *extra,
    ]
    result = run_main(args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_select_refuses_pools_with_other_columns_and_empty_pools(run_main, files):
    pool = pd.read_csv(files / "pool.csv")
    pool.rename(columns={"plan": "tier"}).to_csv(files / "other.csv", index=False)
    pool.iloc[:0].to_csv(files / "empty.csv", index=False)
    base = [
        "label",
        "select",
        "--labeled",
        str(files / "labelled.csv"),
        "--target",
        "label",
        "--n",
        "5",
        "--out",
        str(files / "x.csv"),
    ]
    other = run_main([*base, "--pool", str(files / "other.csv")])
    assert other.returncode == 2 and "missing plan; unexpected tier" in other.stderr
    empty = run_main([*base, "--pool", str(files / "empty.csv")])
    assert empty.returncode == 2 and "the pool has no rows" in empty.stderr


def test_simulate_writes_the_report_and_prints_the_verdict(cli, files):
    out = files / "sim"
    result = cli(
        [
            "label",
            "simulate",
            str(files / "all.csv"),
            "--target",
            "label",
            "--min-score",
            "0.78",
            "--strategy",
            "margin",
            "random",
            "--seeds",
            "2",
            "--cost-per-label",
            "0.25",
            "--out",
            str(out),
            "--no-progress",
            "--db",
            f"sqlite:///{files / 'registry.db'}",
            "--team",
            "growth",
        ]
    )
    assert result.returncode == 0, result.stderr
    assert "registry: " in result.stderr
    engine = sa.create_engine(f"sqlite:///{files / 'registry.db'}")
    with engine.connect() as conn:  # the plan is recorded; a simulation buys nothing
        kinds = conn.execute(sa.text("SELECT kind FROM ingested_files")).scalars().all()
        costs = conn.execute(sa.text("SELECT count(*) FROM cost_entries")).scalar()
        projects = conn.execute(sa.text("SELECT name FROM projects")).scalars().all()
    engine.dispose()
    assert kinds == ["labeling"] and costs == 0 and projects == ["sim"]
    report = json.loads((out / "report.json").read_text())
    assert report["kind"] == "labeling"
    assert set(report["labels_to_target"]) == {"margin", "random"}
    assert report["best_strategy"] == "margin"
    assert report["labels_planned"] == report["labels_to_target"]["margin"]
    assert report["data"]["rows"] == 500 and report["cost_per_label_usd"] == "0.25"
    assert (out / "report.html").exists() and (out / "curves.png").exists()
    assert "margin needs" in result.stdout and "report.html" in result.stdout


def test_simulate_bad_input_exits_2(run_main, files):
    table = _table()
    table.assign(label=table["x"] * 3.1).to_csv(files / "numbers.csv", index=False)
    result = run_main(
        [
            "label",
            "simulate",
            str(files / "numbers.csv"),
            "--target",
            "label",
            "--min-score",
            "0.5",
            "--out",
            str(files / "sim-bad"),
        ]
    )
    assert result.returncode == 2 and "classification only" in result.stderr
    high = run_main(
        [
            "label",
            "simulate",
            str(files / "all.csv"),
            "--target",
            "label",
            "--min-score",
            "0.999",
            "--out",
            str(files / "sim-high"),
            "--no-progress",
        ]
    )
    assert high.returncode == 2 and "give a lower --min-score" in high.stderr
    assert not (files / "sim-bad").exists() and not (files / "sim-high").exists()
