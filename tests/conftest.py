"""Fixtures shared by every test package."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import sysconfig
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


def _borrow_console_scripts(source_bin: Path, target_bin: Path) -> None:
    """Copy the dependencies' console scripts (dvc, streamlit...) as pip would write them.

    A console script is a tiny Python file whose first line names the interpreter; the
    copy names the target venv's interpreter instead. halfcost's own script is left out:
    the target installs its own.
    """
    python = target_bin / "python"
    for script in source_bin.iterdir():
        target = target_bin / script.name
        if target.exists() or not script.is_file() or script.name == "halfcost":
            continue
        head = script.read_bytes()[:200]
        if not head.startswith(b"#!") or b"python" not in head.split(b"\n", 1)[0]:
            continue
        body = script.read_text().split("\n", 1)[1]
        target.write_text(f"#!{python}\n{body}")
        target.chmod(0o755)


def make_borrowing_venv(venv: Path) -> Path:
    """Create a virtual environment at ``venv`` that borrows this one's third-party packages.

    Installing 1.3 GB of dependencies again would take minutes, so the new venv reads
    them through a .pth line pointing at this environment's site-packages. halfcost
    itself is not borrowed: the editable hook of this checkout is a .pth file, and .pth
    files inside a directory added by a .pth line are not processed, so the new venv
    runs only the halfcost that is installed into it.
    """
    done = subprocess.run(
        [sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    py = venv / "bin" / "python"
    target = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    deps = sysconfig.get_paths()["purelib"]
    Path(target.stdout.strip(), "zz_borrowed_deps.pth").write_text(deps + "\n")
    _borrow_console_scripts(Path(sys.executable).parent, venv / "bin")
    return venv


@pytest.fixture(scope="session")
def borrowing_venv() -> Callable[[Path], Path]:
    """``borrowing_venv(path)`` makes a venv there that borrows the installed dependencies."""
    return make_borrowing_venv


def _clone_repo(target: Path) -> Path:
    """Clone this repository into ``target`` as it stands, uncommitted tracked edits too.

    In CI the checkout is clean and this is a plain clone of HEAD; on a developer's
    machine, ``git stash create`` records the working tree of the tracked files as a
    commit (without touching the checkout), and the clone checks that commit out.
    """

    def git(*args: str, cwd: Path = REPO_ROOT) -> str:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
        return done.stdout.strip()

    snapshot = git("stash", "create") or git("rev-parse", "HEAD")
    git("clone", "--quiet", "--local", "--no-checkout", str(REPO_ROOT), str(target))
    git("checkout", "--quiet", snapshot, cwd=target)
    return target


@pytest.fixture(scope="session")
def fresh_clone() -> Callable[[Path], Path]:
    """``fresh_clone(path)`` clones this repository there (never the checkout itself)."""
    return _clone_repo


def free_port() -> int:
    """A TCP port free right now (bind port 0), so parallel test runs never collide."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateCluster:
    """A PostgreSQL cluster of a test's own: its folder, port, and ``stop``/``start``.

    Fault tests stop it to play a database going away; the shared server on 5432 is never
    touched. ``initdb`` refuses to run as root (and CI runs as root), so the cluster's
    commands run as the ``postgres`` user, in a folder chowned to it.
    """

    def __init__(self, folder: Path, bindir: Path) -> None:
        self.folder = folder
        self.bindir = bindir
        self.port = 0
        self.data = folder / "data"

    def _run(self, *argv: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run(
            [*prefix, *argv], capture_output=True, text=True, check=False, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip()[-2000:]}")

    def init(self) -> None:
        """initdb (trust auth, no fsync: a throw-away cluster)."""
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "--no-sync", "--no-instructions",
        )  # fmt: skip

    def start(self) -> None:
        """Start on its port (a new free one the first time; the same one afterwards)."""
        for attempt in range(3):
            if not self.port or attempt:
                self.port = free_port()
            options = (
                f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            try:
                self._run(
                    str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l",
                    str(self.folder / "server.log"), "-o", options, "-w", "-t", "60", "start",
                )  # fmt: skip
                return
            except RuntimeError:
                if attempt == 2:
                    raise

    def stop(self) -> None:
        """Stop at once (``-m immediate``: the way a crashed server goes)."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of one of its databases."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


def _postgres_bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:  # a missing component fails, never skips
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    return found[-1].parent


@pytest.fixture
def private_postgres() -> Iterator[PrivateCluster]:
    """A running PostgreSQL cluster of this test's own (free port, temp folder), removed after."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="halfcost-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    folder.chmod(0o700)
    cluster = PrivateCluster(folder, _postgres_bindir())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(RuntimeError):
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
