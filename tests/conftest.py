"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Nothing a test runs may phone home.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")

REPO_ROOT = Path(__file__).resolve().parents[1]


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
