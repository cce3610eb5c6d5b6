"""`halfcost search`, `predict` and `evaluate` as a user runs them (real subprocesses)."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

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
    "schema_version",
    "holdout_met",
    "model_folder_bytes",
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
            "--n-trials",
            "10",
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
    _, data, out, result = searched
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report == json.loads((out / "report.json").read_text())
    assert set(report) >= CONTRACT_KEYS
    assert report["kind"] == "search" and report["met"] is True
    assert set(report["chosen"]) >= ENTRY_KEYS and set(report["baseline"]) >= ENTRY_KEYS
    assert {"latency_ratio", "size_ratio", "cost_per_1m_saved_usd"} <= set(report["savings"])
    assert report["schema_version"] == 2 and report["n_trials_this_run"] == 10
    # the library records the lineage: the file the CLI read, and its bytes' sha256
    assert report["data"]["path"] == str(data.resolve()) and report["data"]["rows"] == 500
    assert report["data"]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    # money crosses JSON as decimal strings
    assert report["price_per_hour"] == "0.2"
    for entry in (report["chosen"], report["baseline"]):
        assert Decimal(entry["cost_per_1m_predictions_usd"]) >= 0
        assert isinstance(entry["train_cost_usd"], str)
    assert isinstance(report["savings"]["cost_per_1m_saved_usd"], str)
    model_files = (out / "model").iterdir()
    assert report["model_folder_bytes"] == sum(p.stat().st_size for p in model_files)
    assert "halfcost_row" not in report["features"]
    assert "row_id" in report["dropped_columns"]
    # the warning names the flag, the report (the library's words) the parameter
    warning = next(line for line in result.stderr.splitlines() if "row_id" in line)
    assert warning.startswith("halfcost search: warning: ") and "name it in --drop" in warning
    assert any("name it in drop " in w for w in report["warnings"])
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
            "--n-trials",
            "3",
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
    assert after["n_trials_this_run"] == 3


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
            "--n-trials",
            "4",
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


def test_a_model_missing_the_target_on_held_out_rows_is_called_out(cli, tmp_path):
    """Met in CV, missed held out: the summary, stderr, report.json and report.html say so."""
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(5)
    n = 400
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    frame["y"] = 3 * frame["a"] + frame["b"] + rng.normal(0, 0.3, n)
    # the search's protocol cuts its seeded 20% hold-out first (no stratification for
    # values): scramble the target on exactly those rows, so CV is easy and hold-out is not
    _, held = train_test_split(np.arange(n), test_size=round(0.2 * n), random_state=0)
    frame.loc[held, "y"] = rng.permutation(frame.loc[held, "y"].to_numpy())
    data = tmp_path / "values.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "run"
    args = ["search", str(data), "--target", "y", "--min-score", "0.5", "--n-trials", "4"]
    result = cli([*args, "--out", str(out), "--no-progress"])
    assert result.returncode == 0, result.stderr  # the target is met as defined: in CV
    report = json.loads((out / "report.json").read_text())
    assert report["met"] is True and report["holdout_met"] is False
    assert report["chosen"]["holdout_score"] < 0.5 <= report["chosen"]["cv_score"]
    assert "held out, BELOW the target 0.5" in result.stdout
    assert "NOT on the held-out rows" in result.stderr
    assert "below the target on held-out data" in (out / "report.html").read_text()


BAD_INPUTS = [
    ("missing_file", "no such file"),
    ("empty_file", "empty"),
    ("no_target", "target column 'nope' is not in"),
    ("one_class", "one class only"),
    ("impossible_score", "must be in [0, 1] for accuracy, but got 1.3"),
    ("dead_storage", "cannot open the study storage"),
    ("zero_trials", "--n-trials must be an integer ≥ 1, or None, but got 0."),
    ("dead_storage", "check --storage and that the database is running"),
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
    if case == "zero_trials":
        extra = ["--n-trials", "0"]
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


@pytest.mark.parametrize(
    ("flags", "terminal", "drawn"),
    [
        ([], False, True),  # one worker: as before, whatever stderr is
        ([], True, True),
        (["--no-progress"], True, False),
        (["--workers", "2"], True, True),
        (["--workers", "2"], False, False),  # captured stderr: a one-line error stays one line
        (["--workers", "2", "--no-progress"], True, False),
    ],
)
def test_the_progress_bar_is_drawn_with_workers_only_on_a_terminal(
    monkeypatch, flags, terminal, drawn
):
    import sys

    from halfcost.cli import build_parser
    from halfcost.cli.search import progress_wanted

    args = build_parser().parse_args(
        ["search", "data.csv", "--target", "y", "--min-score", "0.8", *flags]
    )
    monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
    assert progress_wanted(args) is drawn
