"""Commands record their results in the registry when --db / $HALFCOST_DB is set."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from halfcost.demo_data import make_customers

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def registry_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    name = f"halfcost_rec_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
