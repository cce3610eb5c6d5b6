"""Fixtures shared by every test package."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Nothing a test runs may phone home.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")

REPO_ROOT = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The halfcost repository (read-only for tests: they work in tmp_path)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def halfcost_exe() -> list[str]:
    """The argv prefix that runs the installed console script."""
    exe = shutil.which("halfcost", path=str(Path(sys.executable).parent))
    if exe is None:
        raise RuntimeError("the `halfcost` console script is not installed beside this python")
    return [exe]


@pytest.fixture(scope="session")
def cli(halfcost_exe: list[str]):
    """A function running `halfcost ARGS` in a subprocess, as a user would, capturing output."""

    def run(
        args: list[str], cwd: Path | None = None, timeout: float = 600
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*halfcost_exe, *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


@contextlib.contextmanager
def _fresh_postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database on 127.0.0.1:5432, dropped afterwards; yields its URL.

    A role ``<database>_reader`` made for it (``registry init --reader-role``) goes too.
    The server must be up: when it is not, the test fails (it never skips).
    """
    from sqlalchemy import create_engine, text

    name = f"halfcost_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f"DROP ROLE IF EXISTS {name}_reader"))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Callable[[], contextlib.AbstractContextManager[str]]:
    """``with postgres_database() as url:`` gives a fresh PostgreSQL database, dropped after."""
    return _fresh_postgres_database
