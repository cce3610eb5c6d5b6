"""Page tests with Streamlit's AppTest: every page runs over a real seeded registry and shows
the read API's figures; the filters change them; an empty or unreachable registry says what
to do instead of a traceback."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import halfcost.app
from halfcost.app import _ui
from halfcost.governance import Filters, connect

APP_MAIN = Path(halfcost.app.__file__).resolve().parent / "main.py"

PAGES = ("overview", "projects", "datasets", "models", "drift")
DEAD_URL = "postgresql+psycopg://nobody@127.0.0.1:1/x"


def open_app(db_url: str, monkeypatch: pytest.MonkeyPatch, page: str | None = None) -> AppTest:
    """Run the app over ``db_url`` (as `halfcost app --db` would), on ``page`` if given."""
    monkeypatch.setenv("HALFCOST_DB", db_url)
    _ui.clear_cache()
    app = AppTest.from_file(str(APP_MAIN), default_timeout=60).run()
    if page is not None:
        app.switch_page(f"pages/{page}.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


@pytest.fixture(scope="module")
def engine(seeded_sqlite_url: str):
    engine = connect(seeded_sqlite_url, read_only=True)
    yield engine
    engine.dispose()


def metric(app: AppTest, label: str) -> str:
    """The displayed value of the metric called ``label``."""
    found = [m.value for m in app.metric if m.label == label]
    assert len(found) == 1, f"expected one metric {label!r}, got {[m.label for m in app.metric]}"
    return found[0]


def as_floats(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as the table widget holds it: Decimals as floats, default index."""
    return _ui.for_display(frame).reset_index(drop=True)


SCIENTIFIC = re.compile(r"\b\d+(\.\d+)?[eE][+-]?\d+\b")
RAW = {"None", "nan", "NaN", "NaT", "<NA>", "inf"}
HASH_COLUMNS = {"Version", "Champion", "Challenger"}


def assert_readable(shown: pd.DataFrame) -> None:
    """What a manager reads: plain headers, no None/nan, no scientific notation."""
    for column in shown.columns:
        assert "_" not in column, f"code name as a header: {column}"
        for value in shown[column]:
            if value is None or (isinstance(value, float) and value != value):
                raise AssertionError(f"missing value shown raw in {column!r}")
            text = str(value)
            assert text not in RAW, (column, text)
            if column not in HASH_COLUMNS:  # a short hash like 795e8229 is not a number
                assert not SCIENTIFIC.search(text), (column, text)


def assert_table_equals(shown: pd.DataFrame, expected: pd.DataFrame, link: str | None = None):
    """The table shows the read API's frame, formatted for reading, and reads plainly."""
    pd.testing.assert_frame_equal(
        shown.reset_index(drop=True),
        _ui.display_frame(expected, link=link),
        check_dtype=False,
        check_index_type=False,
    )
    assert_readable(shown.drop(columns=["Report"], errors="ignore"))


def test_every_page_runs_and_offers_csv_downloads(seeded_sqlite_url, monkeypatch):
    app = open_app(seeded_sqlite_url, monkeypatch)
    titles = set()
    for page in PAGES:
        app.switch_page(f"pages/{page}.py").run()
        assert not app.exception, (page, [e.value for e in app.exception])
        titles.add(app.title[0].value)
        tables = app.dataframe
        downloads = app.get("download_button")
        assert len(tables) >= 1, page
        # Every table has its CSV download, and nothing else offers one.
        assert len(downloads) == len(tables), page
        assert all(d.proto.label.endswith(".csv") for d in downloads)
        assert len(app.get("plotly_chart")) >= 1, page  # a picture on every page
    assert len(titles) == len(PAGES)


def test_overview_shows_the_read_api_figures(seeded_sqlite_url, engine, monkeypatch):
    from halfcost.governance import overview

    expected = overview(engine, Filters())
    app = open_app(seeded_sqlite_url, monkeypatch)
    assert metric(app, "Spend") == _ui.money(expected.spend)
    assert metric(app, "Value") == _ui.money(expected.value)
    assert metric(app, "ROI") == _ui.percent(expected.roi, expected.roi_note)
    assert_table_equals(app.dataframe[0].value, expected.monthly)
    # each estimate states its formula and inputs
    notes = " ".join(m.value for m in app.markdown)
    for lever in ("Cheaper models", "Dataset reuse", "Fewer labels", "Less cleaning"):
        assert f"**{lever}** = " in notes
    assert "Inputs: predictions" in notes


def test_team_filter_changes_the_figures(seeded_sqlite_url, engine, monkeypatch):
    from halfcost.governance import list_teams, overview

    team = list_teams(engine)[0]
    everyone = overview(engine, Filters())
    one_team = overview(engine, Filters(teams=(team,)))
    assert one_team.spend != everyone.spend  # the seeded history spreads spend over teams
    app = open_app(seeded_sqlite_url, monkeypatch)
    assert metric(app, "Spend") == _ui.money(everyone.spend)
    app.multiselect(key=_ui.TEAMS_KEY).set_value([team]).run()
    assert not app.exception
    assert metric(app, "Spend") == _ui.money(one_team.spend)
    assert metric(app, "ROI") == _ui.percent(one_team.roi, one_team.roi_note)


def test_date_filter_changes_the_figures_on_every_page(seeded_sqlite_url, engine, monkeypatch):
    from halfcost.governance import date_bounds, projects_table

    first, last = date_bounds(engine)
    start = first + timedelta(days=(last - first).days // 2)
    later = Filters(start=start, end=last)
    expected = projects_table(engine, later)
    assert not expected.equals(projects_table(engine, Filters()))
    app = open_app(seeded_sqlite_url, monkeypatch, "projects")
    app.date_input(key=_ui.DATES_KEY).set_value((start, last)).run()
    assert not app.exception
    assert_table_equals(app.dataframe[0].value, expected)
    for page in PAGES:  # the choice holds on every page
        app.switch_page(f"pages/{page}.py").run()
        assert not app.exception
        assert app.date_input(key=_ui.DATES_KEY).value == (start, last)


def test_projects_table_and_drill_down(seeded_sqlite_url, engine, monkeypatch):
    from halfcost.governance import project_detail, projects_table

    expected = projects_table(engine, Filters())
    app = open_app(seeded_sqlite_url, monkeypatch, "projects")
    assert metric(app, "Projects") == f"{len(expected):,}"
    assert_table_equals(app.dataframe[0].value, expected)
    project = expected["project"].iloc[-1]
    app.selectbox(key="drill_project").set_value(project).run()
    row = expected.loc[expected["project"] == project].iloc[0]
    assert metric(app, "Spend") == _ui.money(row["spend"])
    note = row["roi_note"] if isinstance(row["roi_note"], str) else None
    assert metric(app, "ROI") == _ui.percent(row["roi"], note)
    assert metric(app, "Payback") == _ui.months(row["payback_months"], note)
    detail = project_detail(engine, project, Filters())
    shown = [t.value for t in app.dataframe[1:]]
    nonempty = [frame for frame in detail.values() if not frame.empty]
    assert len(shown) == len(nonempty)
    links = {"models": "model", "alerts": "event"}
    for table, (key, frame) in zip(
        shown, [(k, f) for k, f in detail.items() if not f.empty], strict=True
    ):
        assert_table_equals(table, frame, link=links.get(key))


def test_datasets_page_shows_reuse_and_unreused(seeded_sqlite_url, engine, monkeypatch):
    from halfcost.governance import dataset_usage, dataset_usage_by_team, datasets_reuse, overview

    reuse = datasets_reuse(engine, Filters())
    app = open_app(seeded_sqlite_url, monkeypatch, "datasets")
    assert metric(app, "Datasets") == f"{len(reuse):,}"
    saved = overview(engine, Filters()).savings_by_lever["dataset_reuse"]
    assert metric(app, "Cost avoided by reuse") == _ui.money(saved)
    unused = reuse.loc[reuse["reuse_count"] == 0]
    assert metric(app, "Nobody reuses") == f"{len(unused):,}"
    assert_table_equals(app.dataframe[0].value, reuse)
    assert_table_equals(app.dataframe[1].value, unused)
    by_team = dataset_usage_by_team(engine, Filters())
    assert_table_equals(app.dataframe[2].value, by_team)
    assert by_team["uses"].sum() == len(dataset_usage(engine, Filters()))  # the same uses


def test_models_page_shows_inventory_and_pareto(seeded_sqlite_url, engine, monkeypatch):
    from halfcost.governance import models_inventory, pareto_points

    inventory = models_inventory(engine, Filters())
    app = open_app(seeded_sqlite_url, monkeypatch, "models")
    assert metric(app, "Models") == f"{len(inventory):,}"
    champions = int((inventory["status"] == "champion").sum())
    assert metric(app, "Champions") == f"{champions:,}"
    assert_table_equals(app.dataframe[0].value, inventory, link="model")
    project = app.selectbox(key="pareto_project").value
    points = pareto_points(engine, project)
    assert not points.empty, "the seeded history gives every project a Pareto front"
    assert_table_equals(app.dataframe[1].value, points)


def test_drift_page_shows_the_timeline(seeded_sqlite_url, engine, monkeypatch):
    from halfcost.governance import drift_timeline

    timeline = drift_timeline(engine, Filters())
    app = open_app(seeded_sqlite_url, monkeypatch, "drift")
    assert metric(app, "Alerts") == f"{int((timeline['kind'] == 'alert').sum()):,}"
    assert metric(app, "Retrains") == f"{int((timeline['kind'] == 'retrain').sum()):,}"
    assert_table_equals(app.dataframe[0].value, timeline.iloc[::-1], link="event")
    app.multiselect(key="drift_kinds").set_value(["alert"]).run()
    assert (app.dataframe[0].value["Event"] == "alert").all()
    assert len(app.dataframe[0].value) == int((timeline["kind"] == "alert").sum())


def test_empty_registry_says_what_to_do(empty_sqlite_url, monkeypatch):
    app = open_app(empty_sqlite_url, monkeypatch)
    for page in PAGES:
        app.switch_page(f"pages/{page}.py").run()
        assert not app.exception, page
        messages = [i.value for i in app.info]
        assert any("halfcost demo" in m and "halfcost registry ingest" in m for m in messages)
        assert not app.dataframe
        assert not app.error


def test_dead_database_gives_a_clear_message(monkeypatch):
    app = open_app(DEAD_URL, monkeypatch)
    errors = [e.value for e in app.error]
    assert len(errors) == 1
    assert "Cannot read the registry" in errors[0]
    assert "nobody@127.0.0.1:1/x" in errors[0]
    assert "halfcost registry init" in errors[0]


def test_missing_sqlite_file_gives_a_clear_message(tmp_path, monkeypatch):
    app = open_app(f"sqlite:///{tmp_path / 'nothing-here.db'}", monkeypatch)
    errors = [e.value for e in app.error]
    assert len(errors) == 1 and "nothing-here.db" in errors[0]
    assert not (tmp_path / "nothing-here.db").exists()  # read-only: never created


def test_money_is_rounded_only_for_display():
    from decimal import Decimal

    assert _ui.money(Decimal("1234567.891")) == "$1,234,567.89"
    assert _ui.money(Decimal("-0.125")) == "-$0.12"
    assert _ui.money(Decimal("-0.001")) == "$0.00"  # no "-$0.00"
    assert _ui.money(None) == "—"
    assert _ui.percent(Decimal("0.2534")) == "25.3%"
    assert _ui.percent(None, "n/a: nothing was spent") == "n/a"
    assert _ui.per_million(Decimal("0.3")) == "$0.30 per 1M"
    assert _ui.per_million(Decimal("0.000003014")) == "< $0.01 per 1B"
    assert _ui.per_million(Decimal("0.0042")) == "$4.20 per 1B"
    assert _ui.count(882702224) == "882,702,224"
    assert _ui.short_version("v0002") == "v0002"
    assert _ui.short_version("0123456789abcdef0123456789abcdef") == "01234567"
    assert _ui.months(None) == "not yet"
    assert _ui.months(None, "n/a: nothing was spent") == "n/a"
    assert _ui.months(1) == "1 month"
    exact = pd.DataFrame(
        {
            "spend": [Decimal(1) / Decimal(10**9)],
            "cv_score": [0.00001234],
            "roi": [Decimal(1) / Decimal(3)],
            "cost_per_1k_predictions": [Decimal(2) / Decimal(3)],
            "roi_note": [None],
        }
    )
    assert _ui.csv_text(exact) == (  # plain headers; exact, plain decimals; empty = missing
        "Spend (USD),Score (CV),ROI (%),Cost of predictions (USD per 1k predictions),"
        "Why ROI is n/a\n0.000000001,0.00001234,33.3333,0.666666667,\n"
    )
    frame = pd.DataFrame({"usd": [Decimal("0.1"), Decimal("0.2")], "name": ["a", "b"]})
    shown = _ui.for_display(frame)
    assert shown["usd"].dtype.kind == "f" and shown["name"].tolist() == ["a", "b"]
    assert frame["usd"].tolist() == [Decimal("0.1"), Decimal("0.2")]  # the source is untouched


AUTH_SECRETS = {
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "test-cookie-secret-not-used-for-real",
        "client_id": "halfcost",
        "client_secret": "secret",
        "server_metadata_url": "https://id.example.com/.well-known/openid-configuration",
    }
}


def test_login_is_required_when_auth_is_configured(seeded_sqlite_url, monkeypatch):
    monkeypatch.setenv("HALFCOST_DB", seeded_sqlite_url)
    app = AppTest.from_file(str(APP_MAIN), default_timeout=60)
    app.secrets = AUTH_SECRETS
    app.user = {"is_logged_in": False}
    app.run()
    assert not app.exception
    assert [b.label for b in app.button] == ["Log in"]
    assert not app.metric and not app.dataframe  # nothing of the registry before login

    app = AppTest.from_file(str(APP_MAIN), default_timeout=60)
    app.secrets = AUTH_SECRETS
    app.user = {"is_logged_in": True, "email": "manager@example.com"}
    app.run()
    assert not app.exception
    assert any("manager@example.com" in c.value for c in app.sidebar.caption)
    assert "Log out" in [b.label for b in app.button]
    assert metric(app, "Spend")


def test_seeded_rows_raise_a_banner_on_every_page(seeded_sqlite_url, monkeypatch):
    app = open_app(seeded_sqlite_url, monkeypatch)
    for page in PAGES:
        app.switch_page(f"pages/{page}.py").run()
        assert any("Demo data." in w.value for w in app.warning), page


def test_a_measured_registry_shows_roi_na_the_partial_month_and_the_flag(
    measured_sqlite_url, monkeypatch
):
    from halfcost.governance import connect, overview, projects_table

    engine = connect(measured_sqlite_url, read_only=True)
    try:
        summary = overview(engine, Filters())
        projects = projects_table(engine, Filters())
    finally:
        engine.dispose()
    assert Decimal(0) < summary.spend < Decimal("0.01")  # the whole search: 43 s at $0.10/h
    assert summary.roi is None and "below" in summary.roi_note
    assert projects["payback_months"].isna().all() and projects["roi_note"].notna().all()
    assert summary.monthly["partial"].iloc[-1]  # the current month is still running
    app = open_app(measured_sqlite_url, monkeypatch)
    assert not any("Demo data." in w.value for w in app.warning)
    assert metric(app, "ROI") == "n/a"
    monthly = app.dataframe[0].value
    assert monthly["Partial month"].iloc[-1] == "yes"
    app.switch_page("pages/models.py").run()
    assert any("miss their target on held-out data" in w.value for w in app.warning)
    assert app.dataframe[0].value["Report"].iloc[0].startswith("./evidence?model=")
    assert app.dataframe[0].value["Held-out meets target"].iloc[0] == "no"


def test_a_project_that_spent_nothing_shows_roi_na_with_the_reason(
    measured_sqlite_url, tmp_path, monkeypatch
):
    import shutil
    from datetime import UTC, datetime

    from halfcost.governance import add_project, add_value, connect

    copy = tmp_path / "registry.db"
    shutil.copy(measured_sqlite_url.removeprefix("sqlite:///"), copy)
    url = f"sqlite:///{copy}"
    engine = connect(url)
    try:
        add_project(engine, "no-spend", team="growth", value_per_month=Decimal("500"))
        add_value(engine, project="no-spend", month=datetime.now(UTC).date().replace(day=1))
    finally:
        engine.dispose()
    app = open_app(url, monkeypatch, "projects")
    table = app.dataframe[0].value.set_index("Project")
    assert table.loc["no-spend", "Spend"] == "$0.00"
    assert table.loc["no-spend", "Value"] == "$500.00"
    assert table.loc["no-spend", "ROI"] == "n/a"
    assert table.loc["no-spend", "Payback (months)"] == "n/a"
    assert "nothing was spent" in table.loc["no-spend", "Why ROI is n/a"]
