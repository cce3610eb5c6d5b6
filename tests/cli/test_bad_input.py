"""Bad input across the loop, as a user runs it: one line naming the problem, the exit code.

Each row of :data:`CASES` is a real `halfcost` process on real files: the command, the
input, the expected exit status and words the message must hold. Every failing case also
checks that it printed one line (no traceback) and wrote nothing.
"""

from __future__ import annotations

from pathlib import Path

import lightgbm
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from halfcost.automl import HalfcostModel, save_model
from halfcost.automl._encoder import table_encoder
from halfcost.automl._prep import plan_columns
from halfcost.demo_data import ID_COLUMN, TARGET, make_customers


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    """A saved model of the demo table, and the bad inputs a hostile user would try."""
    folder = tmp_path_factory.mktemp("bad-input")
    train = make_customers(1500, seed=3)
    plan = plan_columns(train, TARGET, drop=[ID_COLUMN])
    pipeline = Pipeline(
        [
            ("encode", table_encoder(plan.features, plan.kinds)),
            ("model", lightgbm.LGBMClassifier(n_estimators=20, verbose=-1, n_jobs=1)),
        ]
    )
    pipeline.fit(train[plan.features], (train[TARGET] == "yes").astype(int).to_numpy())
    meta = {
        "target": TARGET,
        "task": "classification",
        "metric": "accuracy",
        "min_score": 0.5,
        "feature_columns": plan.features,
        "column_kinds": plan.kinds,
        "classes": ["no", "yes"],
        "family": "lightgbm",
        "params": {},
    }
    weights = {c: 1 / len(plan.features) for c in plan.features}
    save_model(HalfcostModel(pipeline, meta, weights), folder / "model")
    batch = make_customers(169, seed=4, id_start=90_000)
    batch.assign(monthly_spend="abc").to_csv(folder / "text_in_number.csv", index=False)
    dates = batch.copy()
    dates.loc[:4, "signup_date"] = "next week"
    dates.to_csv(folder / "bad_dates.csv", index=False)
    batch.head(0).to_csv(folder / "header_only.csv", index=False)
    batch.head(1).to_csv(folder / "one_row.csv", index=False)
    train.to_csv(folder / "reference.csv", index=False)
    (folder / "some.csv").write_bytes((folder / "one_row.csv").read_bytes())  # not SQLite
    (folder / "runs").mkdir()
    return {name: folder / name for name in ("model", "runs")} | {
        p.stem: p for p in folder.glob("*.csv")
    }


NOT_SQLITE = "not a SQLite database"
BAD_NUMBERS = ["'monthly_spend'", "169 of 169 values are not numbers", "--on-bad-values"]
# (name, argv with {input} placeholders, exit status, words the message holds)
CASES = [
    (
        "predict text in a numeric feature",
        ["predict", "--model", "{model}", "{text_in_number}", "--out", "{out}/p.csv"],
        2,
        BAD_NUMBERS,
    ),
    (
        "predict text in a date feature",
        ["predict", "--model", "{model}", "{bad_dates}", "--out", "{out}/p.csv"],
        2,
        ["'signup_date'", "5 of 169 values are not dates", "--on-bad-values"],
    ),
    (
        "predict a header-only table",
        ["predict", "--model", "{model}", "{header_only}", "--out", "{out}/p.csv"],
        2,
        ["header but no rows"],
    ),
    (
        "evaluate text in a numeric feature",
        ["evaluate", "--model", "{model}", "{text_in_number}"],
        2,
        BAD_NUMBERS,
    ),
    (
        "registry report on a CSV",
        ["registry", "report", "--db", "sqlite:///{some}"],
        2,
        [NOT_SQLITE],
    ),
    (
        "registry ingest into a CSV",
        [
            "registry",
            "ingest",
            "{runs}",
            "--project",
            "p",
            "--team",
            "t",
            "--db",
            "sqlite:///{some}",
        ],
        2,
        [NOT_SQLITE],
    ),
    ("registry init on a CSV", ["registry", "init", "--db", "sqlite:///{some}"], 2, [NOT_SQLITE]),
    (
        "drift check a missing profile",
        ["drift", "check", "--reference", "{out}/missing_folder", "--current", "{one_row}"],
        2,
        ["missing_folder", "no such profile", "halfcost drift profile"],
    ),
    (
        "drift check a one-row batch",
        [
            "drift",
            "check",
            "--reference",
            "{reference}",
            "--current",
            "{one_row}",
            "--out",
            "{out}/c",
        ],
        0,
        [],
    ),
]


@pytest.mark.parametrize(("name", "argv", "status", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_one_line_and_its_exit_status(
    cli, inputs, tmp_path, name, argv, status, words
):
    places = {key: str(path) for key, path in inputs.items()} | {"out": str(tmp_path)}
    before = {key: path.read_bytes() for key, path in inputs.items() if path.is_file()}
    proc = cli([part.format(**places) for part in argv])
    assert proc.returncode == status, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "Traceback" not in proc.stderr
    assert len(lines) <= 1, proc.stderr[:2000]  # one line, and library warnings summarized
    for word in words:
        assert word in proc.stderr, proc.stderr
    if status == 2:
        assert lines[0].startswith("halfcost ") and "error:" in lines[0]
        assert list(tmp_path.iterdir()) == []  # nothing written
    assert {key: inputs[key].read_bytes() for key in before} == before  # inputs untouched


@pytest.mark.parametrize("how", ["null", "impute"])
def test_bad_values_replaced_only_when_asked_and_counted(cli, inputs, tmp_path, how):
    out = tmp_path / "p.csv"
    argv = ["predict", "--model", str(inputs["model"]), str(inputs["text_in_number"])]
    proc = cli([*argv, "--out", str(out), "--on-bad-values", how])
    assert proc.returncode == 0, proc.stderr
    assert "monthly_spend: 169" in proc.stdout
    assert len(pd.read_csv(out)) == 169
    scored = cli(
        [
            "evaluate",
            "--model",
            str(inputs["model"]),
            str(inputs["text_in_number"]),
            "--on-bad-values",
            how,
            "--json",
        ]
    )
    assert scored.returncode in (0, 3), scored.stderr
    assert '"monthly_spend": 169' in scored.stdout
