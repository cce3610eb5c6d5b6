"""What every run draws before its page: page config, login, the registry, the shared filters.

``main.py`` calls :func:`run_pages`, which prepares the run and then runs the page picked in
``st.navigation``; each page asks :func:`page_context` for the result. Streamlit sometimes
runs a file of ``pages/`` on its own (its older ``pages/`` folder convention: the first run
of a fresh server opened on a page's URL, ``AppTest`` reruns); the page then hands over to
the entry page, so it never shows without the navigation and filters.
"""

from __future__ import annotations

import runpy
import threading
from datetime import date
from pathlib import Path

import streamlit as st

from halfcost.app import _ui

_this_run = threading.local()  # Streamlit runs each session's script in its own thread
_KEPT = "kept_"  # session-state prefix of the filters' chosen values
ENTRY_PAGE = Path(__file__).with_name("main.py")


def _login_gate() -> None:
    """Require Streamlit's OIDC login when ``[auth]`` is configured in secrets.toml."""
    if not st.secrets.load_if_toml_exists() or "auth" not in st.secrets:
        return
    if st.user.is_logged_in:
        with st.sidebar:
            who = st.user.get("email") or st.user.get("name") or "a signed-in user"
            st.caption(f"Signed in as {who}")
            if st.button("Log out"):
                st.logout()
        return
    st.title("halfcost")
    st.write("This registry is private: sign in to see what ML costs and returns.")
    if st.button("Log in", type="primary"):
        st.login()
    st.stop()


def _remember(widget_key: str) -> None:
    """Copy a filter widget's value to where it outlives the widget (on_change callback)."""
    st.session_state[_KEPT + widget_key] = st.session_state[widget_key]


def _restore(widget_key: str) -> None:
    """Give a filter widget the value last chosen, whichever page (or run) drew it before.

    Streamlit forgets a widget's state when the widget it belonged to is not drawn in a
    run; the chosen filters are kept under their own keys and handed back here.
    """
    kept = st.session_state.get(_KEPT + widget_key)
    if kept is not None:
        st.session_state[widget_key] = kept


def _date_range(bounds: tuple[date, date] | None) -> tuple[date | None, date | None]:
    """Sidebar date range within the registry's first and last day (None: no dates yet)."""
    if bounds is None:
        return None, None
    first, last = bounds
    _restore(_ui.DATES_KEY)
    chosen = st.session_state.get(_ui.DATES_KEY)
    if chosen is not None and any(d < first or d > last for d in chosen):
        st.session_state[_ui.DATES_KEY] = (first, last)  # the registry changed under it
    elif chosen is None:
        st.session_state[_ui.DATES_KEY] = (first, last)
    picked = st.date_input(
        "Dates",
        min_value=first,
        max_value=last,
        key=_ui.DATES_KEY,
        on_change=_remember,
        args=(_ui.DATES_KEY,),
        help="Costs, value and events from the first to the last day, both included.",
    )
    if isinstance(picked, tuple) and len(picked) == 2:
        return picked[0], picked[1]
    if isinstance(picked, tuple) and len(picked) == 1:  # only the start picked so far
        return picked[0], last
    return first, last


def _sidebar(db_url: str) -> _ui.AppContext:
    """Draw the shared filters and return the context every page reads."""
    base = _ui.AppContext(db_url=db_url)
    with st.sidebar:
        st.header("Filters")
        options = _ui.query(base, "list_teams")
        _restore(_ui.TEAMS_KEY)
        kept = st.session_state.get(_ui.TEAMS_KEY)
        if kept is not None:
            st.session_state[_ui.TEAMS_KEY] = [team for team in kept if team in options]
        teams = st.multiselect(
            "Teams",
            options=options,
            key=_ui.TEAMS_KEY,
            on_change=_remember,
            args=(_ui.TEAMS_KEY,),
            placeholder="All teams",
            help="Show only these teams' projects, costs and value; empty shows every team.",
        )
        start, end = _date_range(_ui.query(base, "date_bounds"))
        if st.button(
            "Reload figures",
            help="Read the registry again now (it is re-read whenever it changes).",
        ):
            _ui.clear_cache()
    return _ui.AppContext(db_url=db_url, teams=tuple(teams) or None, start=start, end=end)


def prepare() -> _ui.AppContext:
    """Set up this run: page config, login, registry connection, sidebar filters.

    Stops the run with a clear message when the registry cannot be read.
    """
    st.set_page_config(page_title="halfcost", page_icon=":material/savings:", layout="wide")
    _login_gate()
    db_url = _ui.database_url()
    try:
        _ui.registry_engine(db_url)
        empty = _ui.query(_ui.AppContext(db_url=db_url), "registry_is_empty")
        ctx = _ui.AppContext(db_url=db_url) if empty else _sidebar(db_url)
        if not empty:
            _ui.seeded_banner(ctx)
    except _ui.registry_errors() as error:
        st.title("halfcost")
        st.error(_ui.unreachable_message(db_url, error))
        st.stop()
    return ctx


def run_pages(pages: list) -> None:
    """Prepare the run, then run the page picked among ``pages`` (``st.Page`` objects)."""
    _this_run.context = prepare()
    try:
        st.navigation(pages).run()
    finally:
        _this_run.context = None


def page_context() -> _ui.AppContext:
    """This run's context, prepared by the entry page (``main.py``).

    When Streamlit ran this page file on its own (its ``pages/`` folder convention, used for
    the first run of a fresh server opened on a page's URL), the entry page is run instead:
    it draws the navigation, the filters and this page; then this stand-alone run stops.
    """
    ctx = getattr(_this_run, "context", None)
    if ctx is None:
        runpy.run_path(str(ENTRY_PAGE))
        st.stop()
    return ctx
