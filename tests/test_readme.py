"""The README's two commands, exactly as the README writes them.

The commands are read from README.md, so the README and what is tested cannot drift
apart. The demo command runs in a fresh clone of this repository (never in this
checkout); its virtual environment borrows the test environment's installed packages to
stay fast, and `pip install -c constraints.txt` in the script then finds every pinned
version already there.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def readme_commands() -> dict[str, str]:
    """The commands of the README's "Two commands" block: ``{"demo": ..., "test": ...}``."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```bash\n(.*?)```", section, re.S)
    assert match, "README.md: no ```bash block under '## Two commands'"
    lines = [line.strip() for line in match.group(1).splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]
    assert len(commands) == 2, f"README.md: expected two commands, found {commands}"
    demo, test = commands
    assert "demo" in demo and "test" in test, commands
    return {"demo": demo, "test": test}


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    command = readme_commands()["test"]
    assert re.search(rf"^(exec )?{re.escape(command)}\s*$", ci, re.M), (
        f".ci/run does not run the README's test command `{command}`"
    )


def _pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if match:
            pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return pins


def test_constraints_pin_every_dependency_and_match_this_environment() -> None:
    pins = _pins()
    requirement_names = [
        re.split(r"[\s<>=!~\[;]", requirement, maxsplit=1)[0]
        for requirement in metadata.requires("halfcost") or []
    ]
    for name in requirement_names:
        assert re.sub(r"[-_.]+", "-", name).lower() in pins, (
            f"{name} is a dependency of halfcost but constraints.txt does not pin it; "
            "run `bash scripts/lock.sh`"
        )
    installed = {
        re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower(): dist.version
        for dist in metadata.distributions()
    }
    differ = {
        name: (installed[name], pinned)
        for name, pinned in pins.items()
        if name in installed and installed[name] != pinned
    }
    assert not differ, (
        f"installed versions differ from constraints.txt (installed, pinned): {differ}"
    )


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    bin_dir = str(Path(sys.executable).parent)
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != bin_dir]
    return {**env, "HOME": str(home), "PATH": os.pathsep.join(path)}


@pytest.mark.slow
def test_readme_demo_command_from_a_fresh_clone(
    tmp_path: Path,
    fresh_clone: Callable[[Path], Path],
    borrowing_venv: Callable[[Path], Path],
) -> None:
    command = readme_commands()["demo"]
    clone = fresh_clone(tmp_path / "clone")
    borrowing_venv(clone / ".venv")
    home = tmp_path / "home"
    home.mkdir()
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=clone,
        env=_clean_env(home),
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"`{command}` exited {done.returncode}:\n{output[-4000:]}"

    start = re.search(r"writing everything to (\S+)", done.stderr)
    assert start, f"the demo does not say where it writes:\n{done.stderr[-2000:]}"
    root = Path(start.group(1))
    assert root.parent == home.resolve(), "inside a checkout the demo writes under ~"
    assert f"everything is in {root}" in done.stdout, "the end of the output names the folder"
    assert re.search(r"halfcost app --db sqlite:///\S+registry\.db", done.stdout)
    for report in (
        "search/report.json",
        "search/report.html",
        "clean/report.json",
        "registry.db",
        "demo.json",
        "project/.halfcost/events.jsonl",
    ):
        assert (root / report).is_file(), f"the demo did not write {report}"

    summary = json.loads((root / "demo.json").read_text())
    drifted = summary["steps"]["drift"]["drifted_batch"]
    assert drifted["outcome"] == "promoted", f"the drifted batch did not retrain: {drifted}"

    where = subprocess.run(
        [
            str(clone / ".venv" / "bin" / "python"),
            "-c",
            "import halfcost; print(halfcost.__file__)",
        ],
        cwd=tmp_path,  # not this checkout: `python -c` imports from the current folder first
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(str(clone)), "the script did not install the clone's halfcost"
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True, check=True
    )
    assert status.stdout == "", f"the demo changed the checkout:\n{status.stdout}"
    assert not list(clone.glob("halfcost-demo*"))
