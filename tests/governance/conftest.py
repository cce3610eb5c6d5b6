"""Registry fixtures: every registry test runs on SQLite and on the real PostgreSQL.

Each PostgreSQL test gets its own schema (dropped afterwards), reached through the URL's
``options=-csearch_path=...`` so the same URL works for the Python API and the CLI. If
the server is down the tests fail: a registry that was never tested on PostgreSQL is
not a shared registry.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_schema_url() -> Iterator[str]:
    schema = f"halfcost_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty registry database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
    else:
        yield from _postgres_schema_url()


@pytest.fixture
def engine(db_url: str):
    """A writable engine on an empty registry (not migrated yet)."""
    from halfcost.governance import connect

    eng = connect(db_url)
    yield eng
    eng.dispose()
