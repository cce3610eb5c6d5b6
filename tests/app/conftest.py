"""Fixtures for the app's tests: seeded registries, a live Streamlit server, Debian's Chromium."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import halfcost.app
import pytest

APP_MAIN = Path(halfcost.app.__file__).resolve().parent / "main.py"
CHROMIUM = "/usr/bin/chromium"
POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SMALL_HISTORY = {"teams": 4, "projects": 10, "datasets": 24, "events": 1500, "seed": 7}


def seed_registry(url: str, **sizes: int) -> None:
    """Create the registry's schema at ``url`` and fill it with a seeded multi-team history."""
    from halfcost.governance import connect, migrate, seed_history

    engine = connect(url)
    try:
        migrate(engine)
        if sizes:
            seed_history(engine, **sizes)
    finally:
        engine.dispose()


def empty_registry(url: str) -> None:
    """Create the registry's schema at ``url`` with no rows in it."""
    seed_registry(url)


@pytest.fixture(scope="session")
def seeded_sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite registry holding a small seeded history of several teams (read-only use)."""
    path = tmp_path_factory.mktemp("registry") / "registry.db"
    url = f"sqlite:///{path}"
    seed_registry(url, **SMALL_HISTORY)
    return url


@pytest.fixture(scope="session")
def empty_sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite registry with its schema and no rows."""
    path = tmp_path_factory.mktemp("empty-registry") / "registry.db"
    url = f"sqlite:///{path}"
    empty_registry(url)
    return url


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database on 127.0.0.1:5432, dropped afterwards; yields its URL."""
    from sqlalchemy import create_engine, text

    name = f"halfcost_app_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def seeded_postgres_url() -> Iterator[str]:
    """A PostgreSQL registry holding the same small seeded history, dropped after the test."""
    with postgres_database() as url:
        seed_registry(url, **SMALL_HISTORY)
        yield url


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def app_env() -> dict[str, str]:
    """The environment a served app runs in: telemetry off, no registry URL inherited."""
    env = {k: v for k, v in os.environ.items() if k != "HALFCOST_DB"}
    env.update(
        DO_NOT_TRACK="1",
        GX_ANALYTICS_ENABLED="false",
        DVC_NO_ANALYTICS="1",
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
    )
    return env


def streamlit_argv(db_url: str, port: int) -> list[str]:
    """``python -m streamlit run`` for the installed app, as STACK.md and `halfcost app` do."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_MAIN),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
        "--browser.gatherUsageStats",
        "false",
        "--",
        "--db",
        db_url,
    ]


def wait_healthy(base_url: str, process: subprocess.Popen, log_path: Path, timeout_s=90) -> None:
    """Poll the server's /_stcore/health until it answers "ok"; fail with its log otherwise."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the app exited with {process.returncode}:\n{log_path.read_text(errors='replace')}"
            )
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the app did not answer in {timeout_s} s:\n{log_path.read_text()}")


def stop(process: subprocess.Popen) -> None:
    """Stop a server this test started (by its own pid), killing it if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def serve(argv: list[str], port: int, log_path: Path) -> Iterator[str]:
    """Run ``argv`` (a Streamlit server on ``port``) until the block ends; yields its base URL."""
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=app_env())
        try:
            wait_healthy(base_url, process, log_path)
            yield base_url
        finally:
            stop(process)


@pytest.fixture(scope="session")
def serve_app(tmp_path_factory: pytest.TempPathFactory) -> Callable:
    """A function: ``with serve_app(db_url) as base_url:`` runs the app over ``db_url``.

    ``command(port)`` may give another argv serving the app on ``port`` (`halfcost app`).
    """

    def start(db_url: str, command: Callable[[int], list[str]] | None = None):
        port = free_port()
        log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
        argv = command(port) if command else streamlit_argv(db_url, port)
        return serve(argv, port, log_path)

    return start


@pytest.fixture(scope="session")
def sqlite_app(serve_app: Callable, seeded_sqlite_url: str) -> Iterator[str]:
    """One app server over the seeded SQLite registry, shared by the browser tests."""
    with serve_app(seeded_sqlite_url) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    """Launch Debian's Chromium (never a downloaded browser), headless, without phoning home."""
    if not Path(CHROMIUM).is_file():
        raise RuntimeError(
            f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` "
            "(scripts/bootstrap.sh does it)"
        )
    return {
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """A viewport wide enough for the app's four-metric rows; downloads allowed."""
    return {
        **browser_context_args,
        "viewport": {"width": 1400, "height": 2000},
        "accept_downloads": True,
    }
