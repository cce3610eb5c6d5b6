"""`halfcost search`, `predict` and `evaluate` as a user runs them (real subprocesses)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from halfcost.automl import load_model

CONTRACT_KEYS = {
    "kind",
    "metric",
    "min_score",
    "met",
    "task",
    "target",
    "n_trials",
    "chosen",
    "baseline",
    "pareto",
    "savings",
    "price_per_hour",
    "budget_s",
    "search_seconds",
    "data",
    "created_at",
    "halfcost_version",
}
ENTRY_KEYS = {
    "family",
    "params",
    "cv_score",
    "holdout_score",
    "latency_ms_per_1k",
    "single_row_latency_ms",
    "size_bytes",
    "train_seconds",
    "cost_per_1m_predictions_usd",
    "train_cost_usd",
}


def _table(n: int = 500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    label = np.where(x + 1.2 * (color == "red") + rng.normal(0, 0.5, n) > 0.4, "good", "bad")
    frame = pd.DataFrame(
        {
            "row_id": np.arange(n) + 1000,
            "x": x,
            "color": color,
            "halfcost_row": np.arange(n),
            "label": label,
        }
    )
    frame.loc[::17, "color"] = None
    frame.loc[::23, "x"] = np.nan
    return frame


@pytest.fixture(scope="module")
def searched(cli, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    data = folder / "train.csv"
    _table().to_csv(data, index=False)
    out = folder / "run"
    result = cli(
        [
            "search",
            str(data),
            "--target",
            "label",
            "--min-score",
            "0.75",
            "--budget-s",
            "2",
            "--out",
            str(out),
            "--price-per-hour",
            "0.2",
            "--json",
            "--seed",
            "2",
        ]
    )
    return folder, data, out, result


def test_search_exit_0_writes_contract_report_and_model(searched):
    _, _, out, result = searched
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report == json.loads((out / "report.json").read_text())
    assert set(report) >= CONTRACT_KEYS
    assert report["kind"] == "search" and report["met"] is True
    assert set(report["chosen"]) >= ENTRY_KEYS and set(report["baseline"]) >= ENTRY_KEYS
    assert {"latency_ratio", "size_ratio", "cost_per_1m_saved_usd"} <= set(report["savings"])
    assert report["data"]["rows"] == 500 and len(report["data"]["sha256"]) == 64
    assert "halfcost_row" not in report["features"]
    assert "row_id" in report["dropped_columns"]
    assert "row_id" in result.stderr and "warning" in result.stderr
    assert (out / "model" / "meta.json").exists() and (out / "study.db").exists()
    page = (out / "report.html").read_text()
    assert "plotly" in page and "Pareto" in page and report["chosen"]["family"] in page


def test_predict_round_trip_matches_the_python_api(searched, cli):
    folder, _, out, _ = searched
    new = _table(60, seed=9)
    new.loc[0, "color"] = "purple"  # unseen category
    new_path = folder / "new.parquet"
    new.drop(columns=["label"]).to_parquet(new_path)
    pred_path = folder / "pred.csv"
    result = cli(["predict", "--model", str(out / "model"), str(new_path), "--out", str(pred_path)])
    assert result.returncode == 0, result.stderr
    predictions = pd.read_csv(pred_path)
    model = load_model(out / "model")
    assert list(predictions["prediction"]) == list(model.predict(new))
    assert list(predictions.columns) == ["prediction", "proba_bad", "proba_good"]
    assert np.allclose(
        predictions[["proba_bad", "proba_good"]].to_numpy(), model.predict_proba(new)
    )


def test_evaluate_cli_scores_labelled_data(searched, cli):
    folder, data, out, _ = searched
    result = cli(
        [
            "evaluate",
            "--model",
            str(out / "model"),
            str(data),
            "--json",
            "--out",
            str(folder / "eval.json"),
        ]
    )
    assert result.returncode == 0, result.stderr
    scored = json.loads(result.stdout)
    assert scored["metric"] == "accuracy" and scored["rows"] == 500
    assert scored == json.loads((folder / "eval.json").read_text())
    assert scored["score"] >= 0.75


def test_search_rerun_same_out_resumes(searched, cli):
    _, data, out, first = searched
    before = json.loads(first.stdout)
    again = cli(
        [
            "search",
            str(data),
            "--target",
            "label",
            "--min-score",
            "0.75",
            "--budget-s",
            "1",
            "--out",
            str(out),
            "--seed",
            "2",
            "--json",
            "--no-progress",
        ]
    )
    assert again.returncode == 0, again.stderr
    after = json.loads(again.stdout)
    assert after["study"] == before["study"]
    assert after["n_trials"] == before["n_trials"] + after["n_trials_this_run"]
    assert after["n_trials_this_run"] >= 1


def test_target_not_met_exits_3_and_still_writes(cli, tmp_path):
    data = tmp_path / "noisy.csv"
    frame = _table(300, seed=4)
    frame["label"] = np.random.default_rng(0).choice(["good", "bad"], size=len(frame))
    frame.to_csv(data, index=False)
    out = tmp_path / "run"
    result = cli(
        [
            "search",
            str(data),
            "--target",
            "label",
            "--min-score",
            "0.95",
            "--budget-s",
            "1",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert result.returncode == 3, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["met"] is False and report["best_cv_score"] < 0.95
    assert load_model(out / "model").metadata["met"] is False
    assert "no model reached" in result.stderr and "Traceback" not in result.stderr


BAD_INPUTS = [
    ("missing_file", "no such file"),
    ("empty_file", "empty"),
    ("no_target", "target column 'nope' is not in"),
    ("one_class", "one class only"),
    ("impossible_score", "must be in [0, 1] for accuracy, but got 1.3"),
    ("dead_storage", "cannot open the study storage"),
]


def _bad_args(tmp_path, case: str) -> list[str]:
    data = tmp_path / "data.csv"
    frame = _table(60)
    target, score, extra = "label", "0.8", []
    if case == "missing_file":
        data = tmp_path / "absent.csv"
    elif case == "empty_file":
        data.write_text("")
    else:
        if case == "one_class":
            frame["label"] = "good"
        frame.to_csv(data, index=False)
    if case == "no_target":
        target = "nope"
    if case == "impossible_score":
        score, extra = "1.3", ["--metric", "accuracy"]
    if case == "dead_storage":
        extra = ["--storage", "postgresql+psycopg://nobody@127.0.0.1:1/none"]
    return [
        "search",
        str(data),
        "--target",
        target,
        "--min-score",
        score,
        "--out",
        str(tmp_path / "o"),
        "--budget-s",
        "1",
        "--no-progress",
        *extra,
    ]


def _one_error_line(stderr: str, fragment: str) -> None:
    lines = [line for line in stderr.splitlines() if "warning" not in line and line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("halfcost search: error: ") and fragment in lines[0]


@pytest.mark.parametrize(("case", "fragment"), BAD_INPUTS[:1] + BAD_INPUTS[-1:])
def test_bad_input_exits_2_in_a_real_process(cli, tmp_path, case, fragment):
    result = cli(_bad_args(tmp_path, case))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    _one_error_line(result.stderr, fragment)


@pytest.mark.parametrize(("case", "fragment"), BAD_INPUTS)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, case, fragment):
    from halfcost.cli import main

    assert main(_bad_args(tmp_path, case)) == 2
    _one_error_line(capsys.readouterr().err, fragment)
