"""Benchmark: the manager's app on a large registry, on SQLite and on PostgreSQL.

A registry of 200 projects, 1,000 datasets, 50 teams and 50,000 cost, drift and dataset-use
events (``seed_history``; 18 months of history) is built on SQLite (a file) and on
PostgreSQL (a fresh database on 127.0.0.1:5432, dropped afterwards). For each page we time
its script run with Streamlit's ``AppTest`` (the entry page, which opens the registry and
draws the filters, plus the page): the median of ``--repeats`` runs with the figure cache
emptied before each run (every query hits the database: what a visitor waits for on a
fresh server or after the registry changed) and the median with the cache warm. We also
time ``halfcost registry report`` (the same figures on the terminal, as a subprocess).

What a visitor waits for is timed too, **in Chromium** (Debian's, driven by Playwright): the
app is served by a real Streamlit server over the same registry with a 1 s figure cache
(each timed visit comes more than 1 s after the last, so every query reads the database),
and each page is timed from the click on its link in the
sidebar until its script has finished and every chart is drawn (the median of
``--repeats`` visits, each coming from another page). A second server, with the app's own
cache settings, times the visit of a page seen before while the registry has not changed:
the app keys its figures on the registry's change marker (the audit log's last id) and
reads only that marker again. The registry's rows carry their
provenance, the seeded banner is drawn on every page and the models' and events' report
links are in place.

Anchor, measured in the same run: an ``AppTest`` run of a one-line script (Streamlit's own
cost of a script run); the ratio column is the Chromium time / anchor.

Goal: every page under 2 s cold, in Chromium, on both databases.

Run from the repository root: ``.venv/bin/python bench/app.py`` (full size) or
``--quick`` (a tenth of it). Writes ``bench/results/app.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench._common import pin_threads  # before NumPy loads: thread pools read the env once

pin_threads()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from bench import _common  # noqa: E402

GOAL_PAGE_S = 2.0
FULL_SIZE = {"teams": 50, "projects": 200, "datasets": 1000, "events": 50_000}
QUICK_SIZE = {"teams": 10, "projects": 20, "datasets": 100, "events": 5_000}
PAGES = ("overview", "projects", "datasets", "models", "drift")


@dataclass
class PageTiming:
    """One page's script-run times on one database."""

    backend: str
    page: str
    cold_s: float
    warm_s: float
    anchor_s: float
    browser_s: float = float("nan")
    browser_warm_s: float = float("nan")

    @property
    def ratio(self) -> float:
        return self.browser_s / self.anchor_s

    @property
    def slowest_s(self) -> float:
        return max(self.cold_s, self.browser_s)


@dataclass
class BackendResult:
    """Everything measured on one database."""

    backend: str
    seed_s: float
    counts: dict
    pages: list[PageTiming]
    report_s: float


def median_time(action: Callable[[], object], repeats: int, before=None) -> float:
    """Median wall time of ``action`` over ``repeats`` runs (``before`` runs untimed first)."""
    times = []
    for _ in range(repeats):
        if before is not None:
            before()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@contextlib.contextmanager
def sqlite_registry() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="halfcost-bench-app-") as folder:
        yield f"sqlite:///{Path(folder) / 'registry.db'}"


def postgres_registry() -> contextlib.AbstractContextManager[str]:
    return _common.postgres_database("halfcost_bench_app")


def seed(url: str, sizes: dict) -> tuple[float, dict]:
    from halfcost.governance import connect, seed_history

    engine = connect(url)
    try:
        start = time.perf_counter()
        counts = seed_history(engine, seed=0, **sizes)
        return time.perf_counter() - start, counts
    finally:
        engine.dispose()


def anchor_time(repeats: int) -> float:
    """Streamlit's own cost of one AppTest script run (a one-line script)."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_string("import streamlit as st\nst.write('hello')", default_timeout=60)
    app.run()
    return median_time(app.run, repeats)


def time_pages(url: str, backend: str, repeats: int, anchor_s: float) -> list[PageTiming]:
    """Cold- and warm-cache script-run times of every page, over the registry at ``url``."""
    from streamlit.testing.v1 import AppTest

    import halfcost.app
    from halfcost.app import _ui

    os.environ["HALFCOST_DB"] = url
    _ui.clear_cache()
    main = Path(halfcost.app.__file__).resolve().parent / "main.py"
    app = AppTest.from_file(str(main), default_timeout=120).run()
    timings = []
    for page in PAGES:

        def run_page(page: str = page) -> None:
            app.switch_page(f"pages/{page}.py").run()
            if app.exception:
                raise RuntimeError(f"{page}: {app.exception[0].value}")

        run_page()  # imports and first connection, untimed
        cold = median_time(run_page, repeats, before=_ui.clear_cache)
        warm = median_time(run_page, repeats)
        timings.append(PageTiming(backend, page, cold, warm, anchor_s))
        print(f"  {backend:<10} {page:<9} cold {cold:.3f} s  warm {warm:.3f} s", flush=True)
    return timings


def time_report(url: str, repeats: int) -> float:
    """Median wall time of `halfcost registry report --db URL` (a fresh process each time)."""
    exe = Path(sys.executable).with_name("halfcost")

    def run() -> None:
        subprocess.run(
            [str(exe), "registry", "report", "--db", url],
            check=True,
            capture_output=True,
            timeout=600,
        )

    return median_time(run, repeats)


CHROMIUM = "/usr/bin/chromium"
NAV_LABELS = {
    "overview": "Overview",
    "projects": "Projects",
    "datasets": "Datasets & reuse",
    "models": "Models",
    "drift": "Drift & retraining",
}
TIMEOUT_MS = 120_000
CACHE_TTL_S = 1.0
"""The served app forgets its figures after 1 s; each timed visit waits longer than that, so
every query reads the database (cold) while a run still shares its own repeated queries."""


@contextlib.contextmanager
def served_app(url: str, cache_ttl_s: float | None = CACHE_TTL_S) -> Iterator[str]:
    """A Streamlit server of the installed app over ``url``; ``cache_ttl_s`` caps how long
    it keeps figures (None: the app's default, re-read when the registry changes)."""
    import socket
    import urllib.request

    import halfcost.app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    main = Path(halfcost.app.__file__).resolve().parent / "main.py"
    env = {k: v for k, v in os.environ.items() if k != "HALFCOST_DB"}
    env.update(_common.TELEMETRY_OFF, HALFCOST_DB=url)
    if cache_ttl_s is not None:
        env["HALFCOST_APP_CACHE_TTL_S"] = str(cache_ttl_s)
    argv = [sys.executable, "-m", "streamlit", "run", str(main), "--server.headless", "true",
            "--server.port", str(port), "--server.address", "127.0.0.1",
            "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]  # fmt: skip
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    server = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"the app did not start: {log.read()[-2000:]!r}") from None
                time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def _settled(page, title: str | None = None) -> None:
    """Wait for the page's heading, its script to finish and every chart to be drawn."""
    if title is not None:
        page.get_by_test_id("stHeading").get_by_text(title, exact=True).wait_for(timeout=TIMEOUT_MS)
    page.wait_for_selector("[data-test-script-state='notRunning']", timeout=TIMEOUT_MS)
    charts = page.get_by_test_id("stPlotlyChart")
    for index in range(charts.count()):
        charts.nth(index).locator(".main-svg").first.wait_for(timeout=TIMEOUT_MS)
    exception = page.get_by_test_id("stException")
    if exception.count():
        raise RuntimeError(f"the page raised: {exception.first.inner_text()[:500]}")


TITLES = {
    "overview": "What ML costs and returns",
    "projects": "Projects",
    "datasets": "Datasets & reuse",
    "models": "Models",
    "drift": "Drift & retraining",
}


def time_browser(url: str, backend: str, repeats: int, *, cold: bool = True) -> dict[str, float]:
    """Median seconds from the sidebar click to a finished, drawn page, in Chromium.

    ``cold``: every query reads the database (the figure cache expires between visits);
    else the page was visited before and the registry has not changed since, so the app
    answers from the figures it keyed on the registry's change marker.
    """
    from playwright.sync_api import sync_playwright

    found: dict[str, float] = {}
    label = "cold" if cold else "unchanged"
    with served_app(url, CACHE_TTL_S if cold else None) as base, sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(base, timeout=TIMEOUT_MS)
        _settled(page, TITLES["overview"])
        nav = page.get_by_test_id("stSidebarNav")

        def visit(name: str) -> float:
            start = time.perf_counter()
            nav.get_by_text(NAV_LABELS[name], exact=True).click()
            _settled(page, TITLES[name])
            return time.perf_counter() - start

        for index, name in enumerate(PAGES):
            other = PAGES[(index + 1) % len(PAGES)]
            times = []
            for _ in range(repeats):
                if not cold:
                    visit(name)  # the visit before, which left its figures in the cache
                visit(other)  # come from elsewhere
                time.sleep(CACHE_TTL_S + 0.3)  # cold: let every cached figure expire
                times.append(visit(name))
            found[name] = statistics.median(times)
            print(f"  {backend:<10} {name:<9} Chromium {label} {found[name]:.3f} s", flush=True)
        browser.close()
    return found


def measure(backend: str, url: str, sizes: dict, repeats: int, anchor_s: float) -> BackendResult:
    seed_s, counts = seed(url, sizes)
    print(f"{backend}: seeded in {seed_s:.1f} s: {counts}", flush=True)
    pages = time_pages(url, backend, repeats, anchor_s)
    browser = time_browser(url, backend, repeats)
    unchanged = time_browser(url, backend, repeats, cold=False)
    for timing in pages:
        timing.browser_s = browser[timing.page]
        timing.browser_warm_s = unchanged[timing.page]
    report_s = time_report(url, max(3, repeats // 2))
    print(f"  {backend:<10} registry report {report_s:.3f} s", flush=True)
    return BackendResult(backend, seed_s, counts, pages, report_s)


def rows_of(results: list[BackendResult]) -> list[list[str]]:
    rows = []
    for result in results:
        for t in result.pages:
            rows.append(
                [
                    result.backend,
                    t.page,
                    _common.format_number(t.browser_s),
                    _common.format_number(t.browser_warm_s),
                    _common.format_number(t.cold_s),
                    _common.format_number(t.warm_s),
                    _common.format_ratio(t.ratio),
                    "yes" if t.slowest_s < GOAL_PAGE_S else "NO",
                ]
            )
        rows.append(
            [
                result.backend,
                "`halfcost registry report`",
                "—",
                "—",
                _common.format_number(result.report_s),
                "—",
                "—",
                "—",
            ]
        )
    return rows


HEADERS = [
    "database",
    "page",
    "Chromium, cold (s)",
    "Chromium, registry unchanged (s)",
    "AppTest script, cold (s)",
    "AppTest script, warm (s)",
    "Chromium / anchor",
    "< 2 s",
]


def verdict(results: list[BackendResult]) -> str:
    worst = max((t for r in results for t in r.pages), key=lambda t: t.slowest_s)
    met = all(t.slowest_s < GOAL_PAGE_S for r in results for t in r.pages)
    return (
        f"Goal (every page < {GOAL_PAGE_S:.0f} s cold, in Chromium and as an AppTest script, "
        f"on {' and '.join(r.backend for r in results)}): {'met' if met else 'NOT met'}; "
        f"slowest: {worst.page} on {worst.backend}, {worst.browser_s:.2f} s in Chromium "
        f"({worst.cold_s:.2f} s script)."
    )


def write_markdown(
    results: list[BackendResult], sizes: dict, anchor_s: float, context: list[str], path: Path
) -> None:
    counts = results[0].counts
    text = "\n\n".join(
        [
            "# Benchmark: the app on a large registry (`bench/app.py`)",
            __doc__.split("\n\n", 1)[1].rsplit("\n\nRun from", 1)[0],
            "\n".join(f"- {line}" for line in context),
            "Registry: "
            + ", ".join(f"{v:,} {k}" for k, v in counts.items() if isinstance(v, int))
            + f" (`seed_history` with {sizes}).",
            "Seeding took "
            + ", ".join(f"{r.seed_s:.1f} s on {r.backend}" for r in results)
            + f". Anchor (one-line AppTest script run): {anchor_s:.3f} s.",
            _common.markdown_table(HEADERS, rows_of(results)),
            verdict(results),
        ]
    )
    _common.write_text_atomic(text + "\n", path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the registry size")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per page (median)")
    parser.add_argument(
        "--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres"
    )
    parser.add_argument("--out", default=str(_common.repo_root() / "bench/results/app.md"))
    args = parser.parse_args()
    sizes = QUICK_SIZE if args.quick else FULL_SIZE
    context = _common.run_context(
        ["streamlit", "sqlalchemy", "psycopg", "pandas", "plotly", "playwright"]
    )
    anchor_s = anchor_time(args.repeats)
    print(f"anchor (one-line AppTest run): {anchor_s:.3f} s", flush=True)
    registries = {"sqlite": sqlite_registry, "postgres": postgres_registry}
    results = []
    for backend in args.backends.split(","):
        with registries[backend.strip()]() as url:
            results.append(measure(backend.strip(), url, sizes, args.repeats, anchor_s))
    context.append(f"load average (1/5/15 min) at the end: {_common.load_average()}")
    print()
    print(_common.text_table(HEADERS, rows_of(results)))
    print(verdict(results))
    write_markdown(results, sizes, anchor_s, context, Path(args.out))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
