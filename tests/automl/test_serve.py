"""The REST endpoint: predictions equal load_model's, 422 naming the column, metrics."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from halfcost.automl import create_app, load_model
from halfcost.errors import BadInputError


@pytest.fixture(scope="module")
def client(saved_model) -> TestClient:
    return TestClient(create_app(saved_model))


def _rows(customers, n=5) -> list[dict]:
    frame = customers.drop(columns=["churned"]).head(n)
    return json.loads(frame.to_json(orient="records"))


def test_predict_answers_what_load_model_predicts(client, saved_model, customers):
    answer = client.post("/predict", json={"rows": _rows(customers, 20)})
    assert answer.status_code == 200, answer.text
    model = load_model(saved_model)
    frame = customers.drop(columns=["churned"]).head(20)
    body = answer.json()
    assert body["predictions"] == list(model.predict(frame))
    assert body["classes"] == ["no", "yes"]
    assert np.allclose(body["probabilities"], model.predict_proba(frame), rtol=0, atol=1e-12)


def test_a_missing_feature_is_422_naming_the_column(client, customers):
    rows = _rows(customers, 2)
    del rows[1]["spend"]
    answer = client.post("/predict", json={"rows": rows})
    assert answer.status_code == 422
    assert "'spend'" in answer.json()["detail"] and "row 1" in answer.json()["detail"]


def test_a_mistyped_feature_is_422_naming_the_column(client, customers):
    rows = _rows(customers, 3)
    rows[0]["spend"] = "a lot"
    rows[2]["signup_date"] = {"year": 2024}
    answer = client.post("/predict", json={"rows": rows})
    assert answer.status_code == 422
    assert "'signup_date'" in answer.json()["detail"]
    rows[2]["signup_date"] = "2024-02-02"
    answer = client.post("/predict", json={"rows": rows})
    assert answer.status_code == 422
    assert "'spend'" in answer.json()["detail"] and "a lot" in answer.json()["detail"]


@pytest.mark.parametrize(
    "body", [{"rowz": []}, {"rows": []}, {"rows": [3]}, [1, 2], "not an object"]
)
def test_a_malformed_body_is_422_never_500(client, body):
    answer = client.post("/predict", json=body)
    assert answer.status_code == 422
    assert '"rows"' in answer.json()["detail"]


def test_null_cells_are_missing_values_not_errors(client, customers):
    rows = _rows(customers, 2)
    rows[0]["spend"] = None
    rows[1]["plan"] = None
    assert client.post("/predict", json={"rows": rows}).status_code == 200


def test_health_and_metadata(client, customers):
    assert client.get("/health").json()["status"] == "ok"
    meta = client.get("/metadata").json()
    assert meta["features"] == [c for c in customers.columns if c not in ("churned", "customer_id")]
    assert meta["feature_types"]["spend"] == "numeric"
    assert meta["feature_types"]["plan"] == "categorical"
    assert meta["cost_card"]["latency_ms_per_1k"] == 0.42  # from the report beside it
    assert meta["cost_card"]["size_bytes"] == 4321
    assert meta["classes"] == ["no", "yes"]


def _samples(text: str) -> dict[tuple, float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_count_requests_latency_and_errors(saved_model, customers):
    client = TestClient(create_app(saved_model))  # a fresh app: counts start at zero
    for _ in range(3):
        client.post("/predict", json={"rows": _rows(customers, 2)})
    client.post("/predict", json={"rows": [{"spend": 1}]})
    samples = _samples(client.get("/metrics").text)
    ok = (("endpoint", "/predict"), ("method", "POST"), ("status", "200"))
    assert samples[("halfcost_requests_total", ok)] == 3
    assert (
        samples[("halfcost_request_errors_total", (("endpoint", "/predict"), ("status", "422")))]
        == 1
    )
    assert samples[("halfcost_request_latency_seconds_count", (("endpoint", "/predict"),))] == 4
    assert samples[("halfcost_predicted_rows_total", ())] == 6


def test_an_untrusted_model_is_refused_before_serving(saved_model, tmp_path, cli):
    import skops.io
    from numpy.testing._private.utils import runstring
    from sklearn.preprocessing import FunctionTransformer

    folder = tmp_path / "model"
    shutil.copytree(saved_model, folder)
    skops.io.dump(FunctionTransformer(runstring), folder / "pipeline.skops")
    with pytest.raises(BadInputError, match="runstring") as error:
        create_app(folder)
    done = cli(["serve", "--model", str(folder), "--port", str(_free_port())], timeout=60)
    assert done.returncode == 2
    assert str(error.value) in done.stderr and "serving" not in done.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_a_real_uvicorn_process_serves_on_localhost(saved_model, customers, halfcost_exe):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [*halfcost_exe, "serve", "--model", str(saved_model), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert _get(f"{base}/health")["status"] == "ok"
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "the server did not start within 60 s"
                time.sleep(0.2)
        request = urllib.request.Request(
            f"{base}/predict",
            data=json.dumps({"rows": _rows(customers, 3)}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert len(json.loads(response.read())["predictions"]) == 3
        bad = urllib.request.Request(
            f"{base}/predict", data=b'{"rows": [{}]}', headers={"Content-Type": "application/json"}
        )
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(bad, timeout=5)
        assert error.value.code == 422
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    assert f"on http://127.0.0.1:{port}" in stderr


def test_a_port_in_use_is_exit_2_in_one_line(saved_model, cli):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = cli(["serve", "--model", str(saved_model), "--port", str(port)], timeout=60)
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "--port" in done.stderr
    assert "Traceback" not in done.stderr
