"""Shared by every benchmark script: pinned threads, the run's context, text and markdown tables.

Import this module before NumPy, pandas or any model library, and call
:func:`pin_threads` first: OpenMP and BLAS read their thread counts when they load, and a
benchmark comparing model costs must give every model the same single thread.
Only the standard library is imported here, for that reason.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

#: Variables that cap thread pools (OpenMP, OpenBLAS, MKL, numexpr, Apple Accelerate).
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)

#: Telemetry switches of the libraries halfcost uses: nothing a benchmark runs phones home.
TELEMETRY_OFF = {
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "DVC_NO_ANALYTICS": "1",
    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
}


def pin_threads() -> None:
    """Pin every thread pool to one thread and turn telemetry off (call before importing NumPy)."""
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    for name, value in TELEMETRY_OFF.items():
        os.environ.setdefault(name, value)


def repo_root() -> Path:
    """The halfcost repository this benchmark lives in."""
    return Path(__file__).resolve().parents[1]


def package_versions(names: Iterable[str]) -> dict[str, str]:
    """Installed version of each distribution in ``names`` ("missing" when absent)."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux), else the platform's guess."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    """The 1/5/15-minute load averages, or "n/a" where the OS has none."""
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def git_revision(paths: Sequence[str] = ()) -> str:
    """The repository's HEAD commit, with "+ uncommitted changes in PATHS" when ``paths`` differ."""
    root = repo_root()
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", *paths],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    where = ", ".join(paths) or "the tree"
    return f"{head}" + (f" + uncommitted changes in {where}" if dirty else f" ({where} clean)")


def run_context(packages: Iterable[str], code_paths: Sequence[str] = ()) -> list[str]:
    """Lines describing where and when a benchmark ran (for the results file)."""
    return [
        f"date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"machine: {os.cpu_count()} cores, {cpu_model()}, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}",
        f"load average (1/5/15 min) at start: {load_average()}",
        "versions: " + ", ".join(f"{k} {v}" for k, v in package_versions(packages).items()),
        f"command: {' '.join([Path(sys.executable).name, *sys.argv])}",
        f"code: git {git_revision(code_paths)}",
    ]


def format_number(value: float | None, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals; an em dash for a missing value."""
    if value is None:
        return "—"
    return f"{value:.{digits}f}"


def format_ratio(value: float | None) -> str:
    """A ratio such as ``0.12x``; an em dash when missing."""
    if value is None:
        return "—"
    if value >= 10:
        return f"{value:.0f}x"
    return f"{value:.2f}x" if value >= 0.1 else f"{value:.2g}x"


def format_bytes(size_bytes: int | None) -> str:
    """A size in B, KB or MB (powers of 1024); an em dash when missing."""
    if size_bytes is None:
        return "—"
    size = float(size_bytes)
    for unit in ("B", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table (cells are converted with ``str``; pipes escaped)."""

    def cell(value: object) -> str:
        return str(value).replace("|", "\\|")

    lines = [
        "| " + " | ".join(cell(h) for h in headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain aligned table for the terminal."""
    cells = [[str(h) for h in headers], *[[str(v) for v in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_text_atomic(text: str, path: str | os.PathLike[str]) -> Path:
    """Write ``text`` to ``path`` (folders created) so a reader never sees half a file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.", delete=False
    ) as handle:
        handle.write(text)
        tmp = Path(handle.name)
    shutil.move(str(tmp), target)
    return target


POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@contextlib.contextmanager
def postgres_database(prefix: str, server: str = POSTGRES_SERVER) -> Iterator[str]:
    """A database of the benchmark's own on the shared ``server``, dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
