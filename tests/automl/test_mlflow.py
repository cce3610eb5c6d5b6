"""MLflow: the exported pyfunc model loads and serves with MLflow's own tools; a search
logs one run with its chosen model, figures and trials."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from halfcost.automl import export_mlflow, load_model
from halfcost.errors import BadInputError


def _features(customers: pd.DataFrame, n: int) -> pd.DataFrame:
    return customers.drop(columns=["churned"]).head(n)


@pytest.fixture(scope="module")
def exported(saved_model, tmp_path_factory) -> Path:
    return export_mlflow(saved_model, tmp_path_factory.mktemp("export") / "mlflow-model")


def test_mlflow_loader_predicts_what_halfcost_predicts(exported, saved_model, customers):
    pyfunc = mlflow.pyfunc.load_model(str(exported))
    frame = _features(customers, 50)
    got = pyfunc.predict(frame)
    model = load_model(saved_model)
    assert got["prediction"].tolist() == list(model.predict(frame))
    assert np.allclose(got[["proba_no", "proba_yes"]], model.predict_proba(frame))
    signature = pyfunc.metadata.signature
    assert signature.inputs.input_names() == model.feature_columns
    assert signature.outputs.input_names() == ["prediction", "proba_no", "proba_yes"]
    assert not list(exported.rglob("*.pkl"))  # a model from code: nothing to unpickle


def test_the_input_example_is_saved_and_predicts(exported):
    pyfunc = mlflow.pyfunc.load_model(str(exported))
    example = json.loads((exported / "input_example.json").read_text())
    frame = pd.DataFrame(example["data"], columns=example["columns"])
    assert len(pyfunc.predict(frame)) == 1


def test_export_refuses_an_existing_path_and_a_tampered_model(saved_model, exported, tmp_path, cli):
    before = sorted(p.name for p in exported.iterdir())
    done = cli(
        ["export", "--model", str(saved_model), "--format", "mlflow", "--out", str(exported)]
    )
    assert done.returncode == 2 and "already exists" in done.stderr
    assert sorted(p.name for p in exported.iterdir()) == before
    with pytest.raises(BadInputError, match="not a halfcost model folder"):
        export_mlflow(tmp_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_export_onnx_writes_a_file_onnxruntime_runs(saved_model, customers, tmp_path, cli):
    # halfcost.automl.export_onnx comes from the ONNX work (issue 14, item 3)
    out = tmp_path / "model.onnx"
    done = cli(["export", "--model", str(saved_model), "--format", "onnx", "--out", str(out)])
    assert done.returncode == 0, done.stderr
    import onnxruntime

    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    model = load_model(saved_model)
    props = session.get_modelmeta().custom_metadata_map
    assert set(json.loads(props["halfcost_columns"])) <= set(model.feature_columns)
    assert {i.name for i in session.get_inputs()} <= {"halfcost_numbers", "halfcost_categories"}
    raw = model.pipeline.named_steps["encode"].named_steps["raw"]
    numbers, categories = raw.blocks(customers.head(20))
    feed = {"halfcost_numbers": numbers, "halfcost_categories": categories}
    feed = {i.name: feed[i.name] for i in session.get_inputs()}
    labels = session.run(None, feed)[0]
    assert list(np.asarray(model.classes_, dtype=object)[labels]) == list(
        model.predict(customers.head(20))
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow  # `mlflow models serve` starts uvicorn in a subprocess (~20 s)
def test_mlflow_models_serve_serves_the_export_offline(exported, customers, tmp_path):
    port = _free_port()
    bin_dir = str(Path(sys.executable).parent)  # MLflow runs `uvicorn` from PATH
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", str(exported)]
    command += ["--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    rows = json.loads(_features(customers, 4).to_json(orient="records"))
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations",
        data=json.dumps({"dataframe_records": rows}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    answer = json.loads(response.read())
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
                assert time.monotonic() < deadline, "mlflow models serve did not start"
                time.sleep(0.5)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    expected = load_model(exported / "artifacts" / "model").predict(_features(customers, 4))
    assert [p["prediction"] for p in answer["predictions"]] == list(expected)


@pytest.mark.slow  # a real (tiny) search, then MLflow's sqlite store
def test_search_logs_one_run_with_model_figures_and_trials(customers, tmp_path, cli):
    customers.to_csv(tmp_path / "customers.csv", index=False)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    args = ["search", str(tmp_path / "customers.csv"), "--target", "churned"]
    args += ["--min-score", "0.6", "--n-trials", "4", "--budget-s", "60", "--cv", "2"]
    args += ["--no-progress"]
    done = cli([*args, "--out", str(tmp_path / "run"), "--mlflow", uri], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    mlflow.set_tracking_uri(uri)
    (run,) = mlflow.search_runs(experiment_names=["halfcost"], output_format="list")
    chosen = report["chosen"]
    assert run.info.run_id in done.stderr
    assert run.data.params["family"] == chosen["family"]
    for key in ("cv_score", "holdout_score", "latency_ms_per_1k", "single_row_latency_ms"):
        assert run.data.metrics[key] == pytest.approx(chosen[key])
    assert run.data.metrics["size_bytes"] == chosen["size_bytes"]
    assert run.data.metrics["baseline.latency_ms_per_1k"] == pytest.approx(
        report["baseline"]["latency_ms_per_1k"]
    )
    trials_path = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="trials.json", dst_path=str(tmp_path / "dl")
    )
    trials = json.loads(Path(trials_path).read_text())
    assert len(trials["data"]) == len(report["trials"])
    (logged,) = mlflow.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"source_run_id = '{run.info.run_id}'",
        output_format="list",
    )
    pyfunc = mlflow.pyfunc.load_model(logged.model_uri)
    frame = _features(customers, 10)
    expected = load_model(tmp_path / "run" / "model").predict(frame)
    assert pyfunc.predict(frame)["prediction"].tolist() == list(expected)
