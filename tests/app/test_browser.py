"""Browser tests in real Chromium (Debian's, driven by Playwright) against a served app.

Each test starts the app on a free port over a real registry (seeded SQLite, or seeded
PostgreSQL), opens the pages, checks that the figures shown equal the registry's read
API, uses the filters, downloads a CSV and saves a screenshot of every page under
pytest-playwright's output folder (``test-results/<test>/``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from halfcost.app import _ui
from halfcost.governance import Filters, connect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 45_000
PAGES = {  # url path -> (navigation label, page title)
    "": ("Overview", "What ML costs and returns"),
    "projects": ("Projects", "Projects"),
    "datasets": ("Datasets & reuse", "Datasets & reuse"),
    "models": ("Models", "Models"),
    "drift": ("Drift & retraining", "Drift & retraining"),
}


SCIENTIFIC = re.compile(r"\b\d(\.\d+)?e[+-]\d+\b", re.IGNORECASE)
RAW_WORDS = re.compile(r"\b(None|nan|NaN|NaT)\b")
BANNER = "Demo data."


def settle(page: Page) -> None:
    """Wait until the app is drawn and its script has finished running."""
    page.wait_for_selector("[data-testid='stApp']", timeout=TIMEOUT_MS)
    page.wait_for_selector("[data-test-script-state='notRunning']", timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("stSpinner")).to_have_count(0, timeout=TIMEOUT_MS)


def open_page(page: Page, base_url: str, path: str) -> None:
    """Load the app at ``path`` (a new session, as a bookmark would)."""
    page.goto(f"{base_url}/{path}", timeout=TIMEOUT_MS)
    wait_for_title(page, path)


def go_to(page: Page, path: str) -> None:
    """Switch page through the sidebar navigation (same session: the filters carry over)."""
    page.get_by_test_id("stSidebarNav").get_by_text(PAGES[path][0], exact=True).click()
    page.wait_for_url(lambda url: url.rstrip("/").endswith(f"/{path}".rstrip("/")))
    wait_for_title(page, path)


def wait_for_title(page: Page, path: str) -> None:
    heading = page.get_by_test_id("stHeading").get_by_text(PAGES[path][1], exact=True)
    expect(heading).to_be_visible(timeout=TIMEOUT_MS)
    settle(page)


def metric_value(page: Page, label: str):
    """The locator of the value shown by the metric called ``label``."""
    card = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    )
    return card.get_by_test_id("stMetricValue")


def expect_metric(page: Page, label: str, text: str) -> None:
    expect(metric_value(page, label)).to_have_text(text, timeout=TIMEOUT_MS)


def no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)


def charts_drawn(page: Page) -> None:
    """Wait until every Plotly chart on the page has drawn its picture."""
    charts = page.get_by_test_id("stPlotlyChart")
    for index in range(charts.count()):
        drawn = charts.nth(index).locator(".main-svg").first
        expect(drawn).to_be_visible(timeout=TIMEOUT_MS)


def shoot(page: Page, output_path: str, name: str) -> Path:
    """Save a screenshot of the page (charts drawn) under the test's output folder."""
    charts_drawn(page)
    folder = Path(output_path)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.png"
    page.evaluate(  # Streamlit scrolls inside its own container, not the window
        "document.querySelectorAll('[data-testid=stMain], [data-testid=stAppViewContainer]')"
        ".forEach(e => e.scrollTo(0, 0))"
    )
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000  # a drawn page, not a blank one
    return target


def pick_team(page: Page, team: str) -> None:
    """Choose ``team`` in the sidebar's Teams filter."""
    box = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect")
    box.click()
    page.get_by_role("option", name=team, exact=True).click()
    page.keyboard.press("Escape")


@pytest.fixture(scope="module")
def engine(seeded_sqlite_url: str):
    engine = connect(seeded_sqlite_url, read_only=True)
    yield engine
    engine.dispose()


def test_every_page_shows_the_registry_figures(page: Page, app_servers, engine, output_path):
    from halfcost.governance import (
        datasets_reuse,
        drift_timeline,
        models_inventory,
        overview,
        projects_table,
    )

    everyone = Filters()
    summary = overview(engine, everyone)
    expected = {
        "": {
            "Spend": _ui.money(summary.spend),
            "Value": _ui.money(summary.value),
            "ROI": _ui.percent(summary.roi),
        },
        "projects": {"Projects": f"{len(projects_table(engine, everyone)):,}"},
        "datasets": {
            "Datasets": f"{len(datasets_reuse(engine, everyone)):,}",
            "Cost avoided by reuse": _ui.money(summary.savings_by_lever["dataset_reuse"]),
        },
        "models": {
            "Models": f"{len(models_inventory(engine, everyone)):,}",
            "Saved by cheaper models": _ui.money(summary.savings_by_lever["cheaper_models"]),
        },
        "drift": {
            "Alerts": f"{int((drift_timeline(engine, everyone)['kind'] == 'alert').sum()):,}"
        },
    }
    open_page(page, app_servers["sqlite"].url(), "")
    for path, metrics in expected.items():
        if path:
            go_to(page, path)
        for label, text in metrics.items():
            expect_metric(page, label, text)
        expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible(timeout=TIMEOUT_MS)
        charts_drawn(page)
        no_exception(page)
        shoot(page, output_path, path or "overview")


def test_team_filter_holds_across_pages_and_csv_matches(
    page: Page, app_servers, engine, output_path
):
    from halfcost.governance import list_teams, overview, projects_table

    team = list_teams(engine)[-1]
    chosen = Filters(teams=(team,))
    summary = overview(engine, chosen)
    assert summary.spend != overview(engine, Filters()).spend
    open_page(page, app_servers["sqlite"].url(), "")
    pick_team(page, team)
    expect_metric(page, "Spend", _ui.money(summary.spend))
    expect_metric(page, "ROI", _ui.percent(summary.roi))
    settle(page)
    shoot(page, output_path, "overview-one-team")

    # The filter is shared: the Projects page shows only that team's projects.
    go_to(page, "projects")
    projects = projects_table(engine, chosen)
    expect_metric(page, "Projects", f"{len(projects):,}")
    settle(page)
    with page.expect_download(timeout=TIMEOUT_MS) as download_info:
        page.get_by_role("button", name="Download projects.csv").click()
    download = download_info.value
    assert download.suggested_filename == "projects.csv"
    downloaded = Path(download.path()).read_text(encoding="utf-8")
    assert downloaded == _ui.csv_text(projects)  # exact figures, not the rounded ones
    assert not SCIENTIFIC.search(downloaded)  # plain decimal notation
    read = pd.read_csv(download.path(), dtype=str, keep_default_na=False)
    assert set(read["Team"]) == {team}  # plain-language headers
    assert read["Spend (USD)"].tolist() == [_ui._plain_number(v) for v in projects["spend"]]
    shoot(page, output_path, "projects-one-team")


@pytest.mark.postgres
def test_app_over_postgresql_as_a_read_only_role(
    page: Page, app_servers, seeded_postgres, output_path
):
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError

    from halfcost.governance import drift_timeline, overview

    engine = connect(seeded_postgres.url, read_only=True)
    try:
        summary = overview(engine, Filters())
        alerts = int((drift_timeline(engine, Filters())["kind"] == "alert").sum())
    finally:
        engine.dispose()
    # The role the app connects as cannot write, whatever the app would try.
    reader = create_engine(seeded_postgres.reader_url)
    try:
        with pytest.raises(DBAPIError), reader.begin() as connection:
            connection.execute(text("SET TRANSACTION READ WRITE"))
            connection.execute(text("INSERT INTO teams (name, created_at) VALUES ('x', now())"))
    finally:
        reader.dispose()
    # This server was started the way users start it, `halfcost app --db READER_URL`; its
    # first visitor opens a page's own URL (a bookmark), not the entry page.
    open_page(page, app_servers["postgres"].url(), "drift")
    expect_metric(page, "Alerts", f"{alerts:,}")
    no_exception(page)
    shoot(page, output_path, "drift-postgres")
    go_to(page, "")
    expect_metric(page, "Spend", _ui.money(summary.spend))
    expect_metric(page, "Value", _ui.money(summary.value))
    no_exception(page)
    shoot(page, output_path, "overview-postgres")


def test_empty_registry_says_what_to_do(page: Page, app_servers, output_path):
    base_url = app_servers["empty"].url()
    for path in ("", "models"):  # the entry page, and a page opened first by its URL
        open_page(page, base_url, path)
        message = page.get_by_test_id("stAlertContentInfo")
        expect(message).to_contain_text("halfcost demo", timeout=TIMEOUT_MS)
        expect(message).to_contain_text("halfcost registry ingest")
        no_exception(page)
        shoot(page, output_path, f"{path or 'overview'}-empty")


def visible_text(page: Page) -> str:
    """The text a visitor reads on the page (headings, metrics, captions, chart labels)."""
    return page.get_by_test_id("stMain").inner_text(timeout=TIMEOUT_MS)


def expect_readable(page: Page) -> None:
    text = visible_text(page)
    assert not RAW_WORDS.search(text), RAW_WORDS.search(text)
    assert not SCIENTIFIC.search(text), SCIENTIFIC.search(text)


def test_no_raw_values_and_the_seeded_banner_on_every_page(page: Page, app_servers, output_path):
    open_page(page, app_servers["sqlite"].url(), "")
    for path in PAGES:
        if path:
            go_to(page, path)
        charts_drawn(page)
        no_exception(page)
        expect(page.get_by_text(BANNER)).to_be_visible(timeout=TIMEOUT_MS)
        expect_readable(page)


def test_a_measured_registry_has_no_banner_and_an_honest_roi(page: Page, app_servers, output_path):
    open_page(page, app_servers["measured"].url(), "")
    expect_readable(page)
    expect(page.get_by_text(BANNER)).to_have_count(0)
    expect_metric(page, "ROI", "n/a")  # a few cents of spend against $4,000 of value
    # the current month is still running: marked, not drawn as a collapse
    expect(page.get_by_text("(partial)").first).to_be_visible(timeout=TIMEOUT_MS)
    charts_drawn(page)
    expect(page.locator(".xtick text", has_text="(partial)").first).to_be_visible(
        timeout=TIMEOUT_MS
    )
    shoot(page, output_path, "overview-measured")
    go_to(page, "projects")
    expect(page.get_by_text(BANNER)).to_have_count(0)
    expect_metric(page, "ROI", "n/a")
    expect_metric(page, "Payback", "n/a")
    expect_readable(page)
    shoot(page, output_path, "projects-measured")
    for path in ("models", "drift", "datasets"):
        go_to(page, path)
        expect(page.get_by_text(BANNER)).to_have_count(0)
        no_exception(page)
        expect_readable(page)


def test_a_model_row_and_a_drift_event_open_their_reports(page: Page, app_servers, output_path):
    from tests.app.conftest import DRIFT_BUNDLE_TEXT, DRIFT_HTML_TITLE, SEARCH_HTML_TITLE

    open_page(page, app_servers["measured"].url(), "models")
    # the champion that missed its target on held-out data is flagged
    expect(page.get_by_text("miss their target on held-out data")).to_be_visible()
    shoot(page, output_path, "models-measured")
    link = page.get_by_role("link", name=re.compile(r"churn-demo .*\(candidate\)"))
    with page.context.expect_page(timeout=TIMEOUT_MS) as opened:
        link.click()
    report = opened.value
    report.wait_for_load_state()
    settle(report)
    frame = report.frame_locator("iframe").first
    expect(frame.get_by_text(SEARCH_HTML_TITLE)).to_be_visible(timeout=TIMEOUT_MS)
    report.close()

    go_to(page, "drift")
    link = page.get_by_role("link", name=re.compile(r"churn-demo: check of"))
    with page.context.expect_page(timeout=TIMEOUT_MS) as opened:
        link.click()
    report = opened.value
    report.wait_for_load_state()
    settle(report)
    drawn = report.frame_locator("iframe").first
    expect(drawn.get_by_text(DRIFT_HTML_TITLE)).to_be_visible(timeout=TIMEOUT_MS)
    # the page's shared script bundle was served with it (put back inline by the app)
    expect(drawn.get_by_text(DRIFT_BUNDLE_TEXT)).to_be_visible(timeout=TIMEOUT_MS)
    report.close()
