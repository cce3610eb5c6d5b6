"""Fixtures for the app's tests: seeded registries, a live Streamlit server, Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import halfcost.app

APP_MAIN = Path(halfcost.app.__file__).resolve().parent / "main.py"
CHROMIUM = "/usr/bin/chromium"
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


SEARCH_HTML_TITLE = "Search report of churn-demo"
DRIFT_HTML_TITLE = "Drift report of batch-07"
DRIFT_BUNDLE_TEXT = "Drawn by the shared bundle"


def write_measured_runs(folder: Path) -> Path:
    """What a real search and a drift watch leave behind (report.json + report.html, an
    event log whose check names its drift.html), with the search's ``holdout_met``."""
    import json
    from datetime import UTC, datetime

    search = folder / "search"
    search.mkdir(parents=True)
    chosen = {
        "family": "lightgbm",
        "params": {"n_estimators": 30},
        "cv_score": 0.7949,
        "holdout_score": 0.7687,
        "latency_ms_per_1k": 0.41,
        "size_bytes": 52_000,
        "train_seconds": 0.02,
        "cost_per_1m_predictions_usd": 0.0000114,
        "train_cost_usd": 0.00000056,
    }
    report = {
        "kind": "search",
        "created_at": datetime.now(UTC).isoformat(),
        "metric": "roc_auc",
        "min_score": 0.79,
        "met": True,
        "holdout_met": False,
        "chosen": chosen,
        "baseline": {**chosen, "family": "lightgbm_defaults", "cv_score": 0.801,
                     "latency_ms_per_1k": 2.4, "cost_per_1m_predictions_usd": 0.0000667},
        "pareto": [chosen, {**chosen, "family": "random_forest", "params": {}, "cv_score": 0.8,
                            "latency_ms_per_1k": 3.1}],
        "price_per_hour": 0.1,
        "n_trials": 48,
        "search_seconds": 40.2,
        "baseline_seconds": 1.1,
        "finalize_seconds": 1.6,
        "refit_seconds": 0.02,
    }  # fmt: skip
    (search / "report.json").write_text(json.dumps(report))
    (search / "report.html").write_text(f"<html><body><h1>{SEARCH_HTML_TITLE}</h1></body></html>")
    project = folder / "project"
    (project / ".halfcost" / "reports" / "b7").mkdir(parents=True)
    drift_html = project / ".halfcost" / "reports" / "b7" / "drift.html"
    drift_html.write_text(  # as drift watch writes it: Evidently's bundle shared, linked
        f"<html><body><h1>{DRIFT_HTML_TITLE}</h1><p id='drawn'></p>"
        '<script src="../_assets/evidently-0.0.test.js"></script></body></html>'
    )
    (project / ".halfcost" / "reports" / "_assets").mkdir()
    (project / ".halfcost" / "reports" / "_assets" / "evidently-0.0.test.js").write_text(
        f"document.getElementById('drawn').textContent = {DRIFT_BUNDLE_TEXT!r};"
    )
    event = {
        "schema_version": 1,
        "event_id": "0" * 31 + "7",
        "time": datetime.now(UTC).isoformat(),
        "kind": "check",
        "project": "churn-demo",
        "batch": "data/batches/batch-07.csv",
        "batch_rows": 2000,
        "decision": "ok",
        "reason": "weighted drift share 0.12 below alert_share 0.30",
        "details": {"report_html": str(drift_html)},
    }
    (project / ".halfcost" / "events.jsonl").write_text(json.dumps(event) + "\n")
    return folder


def measured_registry(url: str, folder: Path) -> None:
    """A registry holding only measured rows: one real-looking project, no seeded history."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from halfcost.governance import add_project, add_value, connect, ingest_into, migrate

    write_measured_runs(folder)
    engine = connect(url)
    try:
        migrate(engine)
        for part in ("search", "project"):
            ingest_into(engine, folder / part, project="churn-demo", team="growth")
        add_project(
            engine,
            "churn-demo",
            team="growth",
            value_per_prediction=Decimal("0.002"),
            predictions_per_month=2_000_000,
        )
        add_value(engine, project="churn-demo", amount=Decimal(4000), month=datetime.now(UTC))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def measured_sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite registry of measured rows only (a search with its report, a drift check with
    its drift.html, a month of value): its spend is a few cents, so its ROI is n/a."""
    folder = tmp_path_factory.mktemp("measured")
    url = f"sqlite:///{folder / 'registry.db'}"
    measured_registry(url, folder / "runs")
    return url


@dataclass(frozen=True)
class PostgresRegistry:
    """A seeded PostgreSQL registry: the owner's URL, and a reader role's (SELECT only)."""

    url: str
    reader_url: str


@pytest.fixture(scope="session")
def seeded_postgres(cli, postgres_database) -> Iterator[PostgresRegistry]:
    """A PostgreSQL registry holding the small seeded history, with a read-only role made by
    `halfcost registry init --reader-role`; database and role are dropped after the session."""
    from sqlalchemy.engine import make_url

    with postgres_database() as url:
        seed_registry(url, **SMALL_HISTORY)
        role = f"{make_url(url).database}_reader"
        made = cli(["registry", "init", "--db", url, "--reader-role", role], timeout=300)
        if made.returncode != 0:
            raise RuntimeError(f"registry init --reader-role failed: {made.stderr}")
        reader_url = make_url(url).set(username=role).render_as_string(hide_password=False)
        yield PostgresRegistry(url=url, reader_url=reader_url)


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


class AppServer:
    """A Streamlit server process serving the app, started at once, awaited on first use."""

    def __init__(self, argv: list[str], port: int, log_path: Path) -> None:
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            argv, stdout=self._log, stderr=subprocess.STDOUT, env=app_env()
        )
        self._healthy = False

    def url(self, timeout_s: float = 120) -> str:
        """The server's base URL, once /_stcore/health answers; fails with the server's log."""
        deadline = time.monotonic() + timeout_s
        while not self._healthy:
            if self.process.poll() is not None:
                raise RuntimeError(f"the app exited with {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the app did not answer in {timeout_s} s:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/_stcore/health", timeout=2) as answer:
                    self._healthy = answer.status == 200
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        return self.base_url

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Stop this server (the process this fixture started, by its own pid)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="session")
def app_servers(
    tmp_path_factory: pytest.TempPathFactory,
    seeded_sqlite_url: str,
    empty_sqlite_url: str,
    measured_sqlite_url: str,
    seeded_postgres: PostgresRegistry,
    halfcost_exe: list[str],
) -> Iterator[dict[str, AppServer]]:
    """The app served over the seeded SQLite, the empty SQLite, the measured-only SQLite and
    the seeded PostgreSQL registries; all boot together. The PostgreSQL one is started the
    way users start it, `halfcost app --db URL --port N`, and connects as the read-only role."""
    folder = tmp_path_factory.mktemp("servers")
    commands = {
        "sqlite": lambda port: streamlit_argv(seeded_sqlite_url, port),
        "empty": lambda port: streamlit_argv(empty_sqlite_url, port),
        "measured": lambda port: streamlit_argv(measured_sqlite_url, port),
        "postgres": lambda port: [
            *halfcost_exe,
            "app",
            "--db",
            seeded_postgres.reader_url,
            "--port",
            str(port),
        ],
    }
    servers: dict[str, AppServer] = {}
    try:
        for name, command in commands.items():
            port = free_port()
            servers[name] = AppServer(command(port), port, folder / f"{name}.log")
        yield servers
    finally:
        for server in servers.values():
            server.stop()


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
