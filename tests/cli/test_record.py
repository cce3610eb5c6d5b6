"""Commands record their results in the registry when --db / $HALFCOST_DB is set."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from halfcost.demo_data import make_customers


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def registry_url(request, tmp_path, postgres_database):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    with postgres_database() as url:
        yield url


@pytest.fixture
def batch_files(tmp_path):
    make_customers(400, seed=0).to_csv(tmp_path / "ref.csv", index=False)
    make_customers(200, seed=1, id_start=400).to_csv(tmp_path / "batch.csv", index=False)
    return tmp_path / "ref.csv", tmp_path / "batch.csv"


def test_clean_records_its_report(cli, tmp_path, batch_files, registry_url):
    ref, batch = batch_files
    args = ["clean", str(batch), "--reference", str(ref), "--out", str(tmp_path / "out")]
    proc = cli([*args, "--db", registry_url, "--project", "churn", "--team", "growth"])
    assert proc.returncode == 0, proc.stderr
    assert "registry:" in proc.stderr
    engine = sa.create_engine(registry_url)
    with engine.connect() as conn:
        projects = conn.execute(sa.text("SELECT name FROM projects")).scalars().all()
    engine.dispose()
    assert projects == ["churn"]


def test_clean_without_registry_records_nothing(cli, tmp_path, batch_files, monkeypatch):
    monkeypatch.delenv("HALFCOST_DB", raising=False)
    ref, batch = batch_files
    proc = cli(["clean", str(batch), "--reference", str(ref), "--out", str(tmp_path / "out")])
    assert proc.returncode == 0, proc.stderr
    assert "registry:" not in proc.stderr
    assert not list(tmp_path.glob("*.db"))


def test_dead_registry_fails_before_any_work(cli, tmp_path, batch_files):
    ref, batch = batch_files
    out = tmp_path / "out"
    proc = cli(
        [
            "clean",
            str(batch),
            "--reference",
            str(ref),
            "--out",
            str(out),
            "--db",
            "postgresql+psycopg://nobody@127.0.0.1:1/x",
        ]
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "cannot reach database" in proc.stderr
    assert not out.exists()


def test_search_records_its_model_with_baseline(cli, tmp_path, registry_url):
    make_customers(1_500, seed=2).to_csv(tmp_path / "train.csv", index=False)
    proc = cli(
        [
            "search",
            str(tmp_path / "train.csv"),
            "--target",
            "churned",
            "--min-score",
            "0.6",
            "--metric",
            "roc_auc",
            "--budget-s",
            "5",
            "--no-progress",
            "--out",
            str(tmp_path / "s"),
            "--db",
            registry_url,
            "--team",
            "growth",
        ]
    )
    assert proc.returncode == 0, proc.stderr
    engine = sa.create_engine(registry_url)
    with engine.connect() as conn:
        projects = conn.execute(sa.text("SELECT name FROM projects")).scalars().all()
        models = conn.execute(sa.text("SELECT count(*) FROM models")).scalar_one()
    engine.dispose()
    assert projects == ["s"]  # default project: the --out folder's name
    assert models == 1


def test_search_with_dead_registry_exits_2_before_searching(cli, tmp_path):
    make_customers(300, seed=2).to_csv(tmp_path / "train.csv", index=False)
    out = tmp_path / "s"
    proc = cli(
        [
            "search",
            str(tmp_path / "train.csv"),
            "--target",
            "churned",
            "--min-score",
            "0.6",
            "--out",
            str(out),
            "--db",
            "postgresql+psycopg://nobody@127.0.0.1:1/x",
        ]
    )
    assert proc.returncode == 2
    assert "cannot reach database" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (out / "report.json").exists()
