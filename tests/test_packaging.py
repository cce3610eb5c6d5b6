"""The wheel as users get it: built, installed into a fresh virtual environment, run.

The fresh environment gets the halfcost wheel itself (no editable install, no access to
this checkout: it runs from a temporary folder) and borrows the already installed
third-party dependencies through a .pth line, which keeps the test to a minute instead of
re-installing 1.3 GB. The halfcost code it runs is only what the wheel contains, so a
missing app page, migration or template fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


def _run(argv: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    proc = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)], out)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (whl,) = out.glob("halfcost-*.whl")
    return whl


@pytest.fixture(scope="module")
def fresh_venv(
    wheel: Path, tmp_path_factory: pytest.TempPathFactory, borrowing_venv: Callable[[Path], Path]
) -> Path:
    venv = borrowing_venv(tmp_path_factory.mktemp("venv"))
    py = venv / "bin" / "python"
    proc = _run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)], venv)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return venv


def test_wheel_ships_non_python_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "halfcost/app/main.py",
        "halfcost/governance/migrations/env.py",
        "halfcost/governance/migrations/script.py.mako",
    ):
        assert required in names, f"{required} is missing from the wheel"
    assert any(n.startswith("halfcost/app/pages/") and n.endswith(".py") for n in names)
    assert any(n.startswith("halfcost/governance/migrations/versions/") for n in names)
    assert not any(n.startswith(("app/", "automl/", "drift/", "governance/")) for n in names), (
        "a top-level package other than halfcost would land in users' environments"
    )


def test_installed_wheel_runs_help_and_demo(
    fresh_venv: Path, tmp_path: Path, fresh_clone: Callable[[Path], Path]
) -> None:
    exe = fresh_venv / "bin" / "halfcost"
    where = _run(
        [
            str(fresh_venv / "bin" / "python"),
            "-c",
            "import halfcost.app, sys; print(halfcost.app.__file__)",
        ],
        tmp_path,
    )
    assert where.returncode == 0, where.stderr
    assert str(fresh_venv) in where.stdout, "halfcost was not imported from the fresh venv"
    assert str(REPO) not in where.stdout

    help_proc = _run([str(exe), "--help"], tmp_path)
    assert help_proc.returncode == 0, help_proc.stderr
    for command in ("demo", "search", "clean", "drift", "registry", "app"):
        assert command in help_proc.stdout

    # A regular install, started from the root of a halfcost checkout with no --dir (the
    # case that failed: git there ignores ./halfcost-demo-*, and DVC refused).
    checkout = fresh_clone(tmp_path / "checkout")
    home = tmp_path / "home"
    home.mkdir()
    env_path = os.pathsep.join([str(fresh_venv / "bin"), os.environ.get("PATH", "")])
    demo = subprocess.run(
        [str(exe), "demo", "--budget-s", "15", "--json"],
        cwd=checkout,
        env={**os.environ, "PATH": env_path, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    summary = json.loads(demo.stdout)
    demo_dir = Path(summary["root"])
    assert demo_dir.parent == home.resolve(), "outside a checkout, the demo goes to ~"
    assert f"writing everything to {demo_dir}" in demo.stderr
    assert f"everything is in {demo_dir}" in demo.stderr
    assert (demo_dir / "search" / "report.json").exists()
    assert (demo_dir / "clean" / "report.json").exists()
    assert (demo_dir / "registry.db").exists()
    status = subprocess.run(
        ["git", "status", "--porcelain", "--ignored"], cwd=checkout, capture_output=True, text=True
    )
    assert status.stdout == "", f"the demo wrote into the checkout: {status.stdout}"
    # The demo never writes inside the installed package.
    package_dir = Path(where.stdout.strip()).parents[1]
    assert not any(p.name.startswith("halfcost-demo") for p in package_dir.iterdir())
