"""Registry fixtures: every registry test runs on SQLite and on the real PostgreSQL.

Each test gets its own database: a copy of a migrated SQLite file, or a migrated
PostgreSQL schema of its own (dropped afterwards). ``empty_db_url`` gives a database
without tables (for the migration tests).
If the PostgreSQL server is down the tests fail: a registry never tested on PostgreSQL
is not a shared registry.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _admin():
    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


def _postgres_schema() -> Iterator[str]:
    """A fresh schema of its own, reached through the URL's ``options=-csearch_path=...``."""
    schema = f"halfcost_test_{uuid.uuid4().hex[:12]}"
    admin = _admin()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite registry to copy."""
    from halfcost.governance import connect, migrate

    path = tmp_path_factory.mktemp("registry-template") / "registry.db"
    engine = connect(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


def migrated_url(request: pytest.FixtureRequest, folder: Path) -> Iterator[str]:
    """Yield the URL of a fresh, migrated registry on ``request.param``'s backend."""
    if request.param == "sqlite":
        target = folder / "registry.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    from halfcost.governance import connect, migrate

    for url in _postgres_schema():
        engine = connect(url)
        migrate(engine)
        engine.dispose()
        yield url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, migrated, empty registry of its own."""
    yield from migrated_url(request, tmp_path)


@pytest.fixture(scope="module", params=BACKENDS)
def module_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, migrated registry shared by one module's tests (for read-only tests)."""
    yield from migrated_url(request, tmp_path_factory.mktemp("registry"))


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database without any table."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    yield from _postgres_schema()


@pytest.fixture
def engine(db_url: str):
    """A writable engine on a fresh, migrated registry."""
    from halfcost.governance import connect

    eng = connect(db_url)
    yield eng
    eng.dispose()
