"""Presentation helpers shared by the app's pages: the registry connection, filters, formats.

The app is nothing but presentation. Every figure comes from the registry's read API
(:mod:`halfcost.governance`); this module only fetches it (cached for a short while),
formats money for display, draws tables with a CSV download and says what to do when
the registry is empty or unreachable.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from halfcost.governance import Filters

CACHE_TTL_S = 30
TEAMS_KEY = "halfcost_teams"
DATES_KEY = "halfcost_dates"

EMPTY_REGISTRY_MESSAGE = (
    "The registry is empty: there is nothing to show yet. Fill it with "
    "`halfcost registry ingest PATH --project P` (a search or cleaning report.json, a drift "
    "events.jsonl, dvc.lock), `halfcost registry import-costs BILLING.csv`, or try the app "
    "on demo figures with `halfcost demo`."
)

# The registry's read functions the app calls, and whether each takes the filters.
_FILTERED_QUERIES = frozenset(
    {
        "overview",
        "projects_table",
        "project_detail",
        "datasets_reuse",
        "dataset_usage",
        "models_inventory",
        "drift_timeline",
        "teams_table",
    }
)
_UNFILTERED_QUERIES = frozenset({"list_teams", "date_bounds", "registry_is_empty", "pareto_points"})


@dataclass(frozen=True)
class AppContext:
    """What every page needs: where the registry is and which slice of it is shown.

    Attributes:
        db_url: the registry's SQLAlchemy URL (may hold a password: show ``redacted_url``).
        teams: the teams picked in the sidebar, or None for every team.
        start: first day shown (inclusive), or None for the registry's first day.
        end: last day shown (inclusive), or None for the registry's last day.
    """

    db_url: str
    teams: tuple[str, ...] | None = None
    start: date | None = None
    end: date | None = None

    @property
    def filters(self) -> Filters:
        """The registry's ``Filters`` for this slice."""
        from halfcost.governance import Filters

        return Filters(teams=self.teams, start=self.start, end=self.end)

    @property
    def redacted_url(self) -> str:
        """The URL with any password masked, safe to show on a page."""
        return redact_url(self.db_url)


def database_url(argv: Sequence[str] | None = None) -> str:
    """The registry URL: ``--db URL`` after ``--`` on the command line, else $HALFCOST_DB.

    ``halfcost app --db URL`` starts ``streamlit run main.py -- --db URL``; a bare
    ``streamlit run`` falls back to ``$HALFCOST_DB``, then to the default SQLite file.
    """
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db", default=None)
    known, _ = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    from halfcost.governance import resolve_url

    return resolve_url(known.db)


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (unparsable URLs are returned as is)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a URL we cannot parse has no password to hide
        return url


@st.cache_resource(show_spinner=False)
def registry_engine(db_url: str) -> Engine:
    """One read-only engine (and connection pool) per registry URL, shared by sessions."""
    from halfcost.governance import connect

    return connect(db_url, read_only=True)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _cached_query(
    name: str,
    db_url: str,
    args: tuple[Any, ...],
    teams: tuple[str, ...] | None,
    start: date | None,
    end: date | None,
) -> Any:
    import halfcost.governance as governance
    from halfcost.governance import Filters

    function = getattr(governance, name)
    engine = registry_engine(db_url)
    if name in _FILTERED_QUERIES:
        return function(engine, *args, Filters(teams=teams, start=start, end=end))
    return function(engine, *args)


def query(ctx: AppContext, name: str, *args: Any) -> Any:
    """Call the registry's read function ``name`` for this context (cached for 30 s).

    Args:
        ctx: the page's context (registry URL and filters).
        name: a read function of :mod:`halfcost.governance` (``overview``, ...).
        *args: its arguments after ``engine`` (and before ``filters``), e.g. a project.
    """
    if name in _FILTERED_QUERIES:
        return _cached_query(name, ctx.db_url, args, ctx.teams, ctx.start, ctx.end)
    if name in _UNFILTERED_QUERIES:
        return _cached_query(name, ctx.db_url, args, None, None, None)
    raise ValueError(
        f"unknown registry query {name!r}; choose one of "
        f"{', '.join(sorted(_FILTERED_QUERIES | _UNFILTERED_QUERIES))}"
    )


def clear_cache() -> None:
    """Forget cached figures, so the next run reads the registry again."""
    _cached_query.clear()


def registry_errors() -> tuple[type[BaseException], ...]:
    """The errors that mean "this registry cannot be read" rather than a bug in the app."""
    from sqlalchemy.exc import SQLAlchemyError

    from halfcost.errors import HalfcostError

    return (SQLAlchemyError, HalfcostError, OSError)


def unreachable_message(db_url: str, error: BaseException) -> str:
    """One paragraph naming the registry that failed, why, and what to do."""
    reason = " ".join(str(error).split())[:300] or type(error).__name__
    return (
        f"Cannot read the registry at `{redact_url(db_url)}`: {reason}. "
        "Start the database or point the app at a working registry "
        "(`halfcost app --db URL` or `HALFCOST_DB`); create a new one with "
        "`halfcost registry init --db URL`."
    )


def stop_if_empty(ctx: AppContext) -> None:
    """Show what to do and stop the page when the registry holds nothing yet."""
    if query(ctx, "registry_is_empty"):
        st.info(EMPTY_REGISTRY_MESSAGE)
        st.stop()


# ----------------------------------------------------------------------------- formats


def _missing(value: Any) -> bool:
    """True for None, NaN and pandas' NA (an undefined ROI, a payback not reached yet)."""
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def money(value: Decimal | float | int | None) -> str:
    """Money for display: ``$1,234,567`` (cents below $1,000); ``—`` when unknown.

    The registry keeps exact Decimals; this is the only place they are rounded.
    """
    if _missing(value):
        return "—"
    amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount < 1000:
        return f"{sign}${amount:,.2f}"
    return f"{sign}${amount:,.0f}"


def percent(value: Decimal | float | None) -> str:
    """A ratio for display as a percentage (``0.253`` → ``25.3%``); ``—`` when unknown."""
    if _missing(value):
        return "—"
    return f"{float(value) * 100:,.1f}%"


def months(value: float | int | None) -> str:
    """A payback period for display (``7 months``); ``not yet`` when it has not paid back."""
    if _missing(value):
        return "not yet"
    count = float(value)
    text = f"{count:,.0f}" if count == int(count) else f"{count:,.1f}"
    return f"{text} month" + ("" if count == 1 else "s")


def for_display(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with Decimal and nullable-integer columns as floats (missing = NaN).

    Tables and charts draw, sort and serialise floats; the exact Decimals stay in the
    read API's frame, which is what the CSV download writes.
    """
    shown = frame.copy()
    for column in shown.columns:
        values = shown[column]
        if values.dtype == object and _holds_decimals(values):
            shown[column] = pd.to_numeric(values.map(_decimal_to_float), errors="coerce")
        elif pd.api.types.is_extension_array_dtype(values) and values.dtype.kind in "iuf":
            shown[column] = values.astype("float64")
    return shown


def _holds_decimals(column: pd.Series) -> bool:
    sample = column.dropna().head(20)
    return not sample.empty and all(isinstance(v, Decimal) for v in sample)


def _decimal_to_float(value: Any) -> float | None:
    return None if value is None else float(value)


def table(
    frame: pd.DataFrame,
    *,
    name: str,
    money_columns: Sequence[str] = (),
    percent_columns: Sequence[str] = (),
    key: str | None = None,
) -> None:
    """Draw ``frame`` as a table with a CSV download of its exact (unrounded) values.

    Args:
        frame: the read API's table.
        name: file name stem of the download (``projects`` → ``projects.csv``).
        money_columns: columns shown as dollars.
        percent_columns: ratio columns shown as percentages.
        key: widget key of the download button (defaults to ``name``).
    """
    import streamlit.column_config as cc

    config: dict[str, Any] = {c: cc.NumberColumn(format="dollar") for c in money_columns}
    config.update({c: cc.NumberColumn(format="percent") for c in percent_columns})
    st.dataframe(for_display(frame), hide_index=True, column_config=config, width="stretch")
    st.download_button(
        f"Download {name}.csv",
        data=lambda: frame.to_csv(index=False).encode("utf-8"),  # built only when clicked
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"download_{key or name}",
        on_click="ignore",
        icon=":material/download:",
    )


MAX_COLORS = 12


def color_by(frame: pd.DataFrame, column: str) -> str | None:
    """``column`` when its few values make a readable legend, else None (one colour).

    Plotly draws one trace per colour: 50 teams would be 50 traces, slow and unreadable.
    """
    return column if frame[column].nunique() <= MAX_COLORS else None


def slice_caption(ctx: AppContext) -> str:
    """One line saying which teams and dates the page shows."""
    teams = ", ".join(ctx.teams) if ctx.teams else "all teams"
    start = ctx.start.isoformat() if ctx.start else "the start"
    end = ctx.end.isoformat() if ctx.end else "today"
    return f"Showing {teams}, from {start} to {end}. Registry: `{ctx.redacted_url}`."
