"""`drift watch --mlflow`: a promotion registers a model version and moves `champion`;
a refusal is logged as a run and moves nothing. Real git + DVC project, real MLflow store."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest

from halfcost.demo_data import ID_COLUMN, TARGET, make_customers
from halfcost.drift import MLflowSink, Project, init_project, watch_batch
from halfcost.drift._watch import train_first_champion
from halfcost.tables import write_table

# Columns that carry the signal: a challenger trained without them is clearly worse.
INFORMATIVE = "age,tenure_months,plan,channel,monthly_spend,discount,support_calls,last_login_days"


@pytest.fixture(scope="module")
def project(tmp_path_factory, edit_params) -> Path:
    """A demo project with its first champion (v0001), trained by real `dvc repro`."""
    root = tmp_path_factory.mktemp("mlflow") / "project"
    init_project(root, demo=True, budget_s=4, min_score=0.7, commit=True)
    edit_params(root, data={"demo_rows": 2000}, promotion={"margin": 0.02})
    assert train_first_champion(root) == "v0001"
    return root


def _champion_version(client, name: str) -> str:
    return client.get_model_version_by_alias(name, "champion").version


@pytest.mark.slow  # two real `dvc repro` retrains
def test_promotion_moves_the_alias_and_refusal_does_not(
    project, tmp_path, cli, monkeypatch, edit_params
):
    monkeypatch.chdir(tmp_path)  # MLflow keeps artifacts in ./mlruns beside a sqlite store
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    drifted = make_customers(4000, seed=22, drift=1.0, id_start=6_000_000)
    batch = write_table(drifted.drop(columns=[TARGET]), tmp_path / "drifted.csv")
    labels = write_table(drifted[[ID_COLUMN, TARGET]], tmp_path / "labels.csv")
    args = ["drift", "watch", "--batch", str(batch), "--labels", str(labels)]
    done = cli([*args, "--project", str(project), "--mlflow", uri, "--json"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["outcome"] == "promoted"
    assert "MLflow registry" not in done.stderr  # no sink failure

    name = Project(project).name
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient()
    (registered,) = client.search_model_versions(f"name = '{name}'")
    assert _champion_version(client, name) == registered.version
    assert registered.tags["halfcost.champion"] == "v0002"
    pyfunc = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    rows = drifted.drop(columns=[TARGET]).head(5)
    assert len(pyfunc.predict(rows)) == 5

    # a retrain without the informative columns is refused: logged, never aliased
    edit_params(project, search={"drop": INFORMATIVE, "min_score": 0.3})
    normal = make_customers(1500, seed=21, id_start=5_000_000)
    sink = MLflowSink(uri, model_name=name)
    result = watch_batch(
        write_table(normal, tmp_path / "normal.csv"), project=project, force=True, sinks=[sink]
    )
    assert result.outcome == "refused", result.reason
    assert sink.failures == []
    assert [v.version for v in client.search_model_versions(f"name = '{name}'")] == [
        registered.version
    ]
    assert _champion_version(client, name) == registered.version
    runs = mlflow.search_runs(experiment_names=["halfcost-drift"], output_format="list")
    kinds = sorted(run.data.tags["halfcost.kind"] for run in runs)
    assert kinds == ["promotion", "refusal"]
    refusal = next(run for run in runs if run.data.tags["halfcost.kind"] == "refusal")
    assert "worse" in refusal.data.tags["halfcost.reason"]
    assert refusal.data.metrics["challenger_holdout"] < refusal.data.metrics["champion_holdout"]
