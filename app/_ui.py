"""Presentation helpers shared by the app's pages: the registry connection, filters, formats.

The app is nothing but presentation. Every figure comes from the registry's read API
(:mod:`halfcost.governance`); this module only fetches it (cached for a short while),
formats money for display, draws tables with a CSV download and says what to do when
the registry is empty or unreachable.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from halfcost.formats import money_text, per_predictions_text
from halfcost.records import Provenance

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from halfcost.governance import Filters

CACHE_TTL_S = float(os.environ.get("HALFCOST_APP_CACHE_TTL_S", "600"))
"""How long figures are kept at most. Within it they are re-read as soon as the registry
changes (its change marker moves); the benchmark sets ~0 to time every query cold."""
MARKER_TTL_S = float(os.environ.get("HALFCOST_APP_MARKER_TTL_S", "5"))
"""How often the registry's change marker is read (one index lookup)."""
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
        "dataset_usage_by_team",
        "models_inventory",
        "drift_timeline",
        "drift_reports",
        "teams_table",
        "lever_estimate",
    }
)
_UNFILTERED_QUERIES = frozenset(
    {
        "list_teams",
        "date_bounds",
        "registry_is_empty",
        "pareto_points",
        "provenance_counts",
        "evidence_file",
    }
)


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


@st.cache_data(ttl=MARKER_TTL_S, show_spinner=False)
def _change_marker(db_url: str) -> int | None:
    """The registry's change marker, read at most every few seconds (shared by sessions)."""
    from halfcost.governance import change_marker

    return change_marker(registry_engine(db_url))


@st.cache_data(ttl=CACHE_TTL_S, max_entries=500, show_spinner=False)
def _cached_query(
    name: str,
    db_url: str,
    marker: int | None,
    args: tuple[Any, ...],
    teams: tuple[str, ...] | None,
    start: date | None,
    end: date | None,
) -> Any:
    """One read function's answer, cached under the registry's change marker.

    ``marker`` is part of the cache key: any write to the registry moves it, and the
    figures are read again; until then every session shares one copy.
    """
    import halfcost.governance as governance
    from halfcost.governance import Filters

    function = getattr(governance, name)
    engine = registry_engine(db_url)
    filters = Filters(teams=teams, start=start, end=end)
    if name in _FILTERED_QUERIES:
        return function(engine, *args, filters)
    return function(engine, *args)


def query(ctx: AppContext, name: str, *args: Any) -> Any:
    """Call the registry's read function ``name`` for this context (cached, see above).

    Args:
        ctx: the page's context (registry URL and filters).
        name: a read function of :mod:`halfcost.governance` (``overview``, ...).
        *args: its arguments after ``engine`` (and before ``filters``), e.g. a project.
    """
    if name not in _FILTERED_QUERIES | _UNFILTERED_QUERIES:
        raise ValueError(
            f"unknown registry query {name!r}; choose one of "
            f"{', '.join(sorted(_FILTERED_QUERIES | _UNFILTERED_QUERIES))}"
        )
    marker = _change_marker(ctx.db_url)
    if name in _FILTERED_QUERIES:
        return _cached_query(name, ctx.db_url, marker, args, ctx.teams, ctx.start, ctx.end)
    return _cached_query(name, ctx.db_url, marker, args, None, None, None)


def clear_cache() -> None:
    """Forget cached figures, so the next run reads the registry again."""
    _change_marker.clear()
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

MISSING = "—"


def _missing(value: Any) -> bool:
    """True for None, NaN, NaT and pandas' NA (an undefined ROI, a payback not reached yet)."""
    if value is None or isinstance(value, dict | list | tuple | set):
        return value is None
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def money(value: Decimal | float | int | None) -> str:
    """Money for display: ``$1,234,567.89`` (thousands separators, two decimals); ``—``.

    The registry keeps exact Decimals; this is the only place they are rounded.
    """
    if _missing(value):
        return MISSING
    return money_text(value)


def per_million(value: Decimal | float | None) -> str:
    """A per-prediction cost for display: ``$0.30 per 1M``; tiny ones per 1B; ``—``."""
    return per_unit(value, "1M")


def per_unit(value: Decimal | float | None, unit: str = "1k") -> str:
    """Money per ``unit`` predictions in the unit that reads as cents or more (``$3.40 per
    1B``; see :func:`halfcost.formats.per_predictions_text`); ``—``."""
    if _missing(value):
        return MISSING
    return per_predictions_text(value, unit)


def percent(value: Decimal | float | None, note: str | None = None) -> str:
    """A ratio as a percentage with one decimal (``0.253`` → ``25.3%``); ``n/a`` or ``—``."""
    if _missing(value):
        return "n/a" if note else MISSING
    return f"{float(value) * 100:,.1f}%"


def count(value: int | float | None) -> str:
    """A whole number with thousands separators (``882,702,224``); ``—`` when unknown."""
    if _missing(value):
        return MISSING
    return f"{int(value):,}"


def months(value: float | int | None, note: str | None = None) -> str:
    """A payback period (``7 months``); ``n/a`` when ROI is not shown, else ``not yet``."""
    if _missing(value):
        return "n/a" if note else "not yet"
    number = float(value)
    text = f"{number:,.0f}" if number == int(number) else f"{number:,.1f}"
    return f"{text} month" + ("" if number == 1 else "s")


def short_version(value: Any) -> str:
    """``v0002`` as is; a content hash or ``s-<hash>`` cut to 8 characters; ``—``."""
    if _missing(value) or value == "":
        return MISSING
    text = str(value)
    if text.startswith("v") and text[1:].isdigit():
        return text
    bare = text.removeprefix("sha256:").removeprefix("s-")
    return bare[:8]


def _plain_number(value: Any) -> Any:
    """A number as plain decimal text for CSV (never ``1E-9`` or ``3.014e-06``)."""
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, float) and value == value and value not in (float("inf"), -float("inf")):
        import numpy as np

        return np.format_float_positional(value, trim="-")
    return value


def csv_header(column: str) -> str:
    """A read-API column's header in a download: the table's plain-language header, with
    the unit where the table shows it in the cell (``Spend (USD)``, ``Serving cost (USD per
    1M predictions)``), so a spreadsheet reader knows what each exact number is."""
    label, kind = COLUMNS.get(column, (column.replace("_", " ").capitalize(), "text"))
    if column in CSV_HEADERS:
        return CSV_HEADERS[column]
    unit = {
        "money": " (USD)",
        "per_million": " (USD per 1M predictions)",
        "per_thousand": " (USD per 1k predictions)",
        "percent": " (%)",
    }.get(kind, "")
    return label + unit


MONEY_STEP = Decimal("0.000000001")
"""The registry keeps money in nano-units: a download's money never needs more decimals
(a cost per 1k predictions is a division, whose 28 digits would be noise)."""
PERCENT_STEP = Decimal("0.0001")


def _csv_value(kind: str, value: Any) -> Any:
    """One exact figure for a download: money to the registry's nano-unit, ratios as
    percentages with four decimals, every number in plain decimal notation."""
    if _missing(value):
        return ""
    if kind == "percent":
        value = (Decimal(str(value)) * 100).quantize(PERCENT_STEP)
    elif kind in ("money", "per_million", "per_thousand"):
        value = Decimal(str(value)).quantize(MONEY_STEP)
    return _plain_number(value)


def csv_text(frame: pd.DataFrame) -> str:
    """The read API's frame as CSV: plain-language headers (:func:`csv_header`), exact
    figures in plain decimal notation (never ``1E-9``), an empty cell for missing."""
    plain = frame.copy()
    for column in plain.columns:
        kind = COLUMNS.get(str(column), ("", "text"))[1]
        if kind in ("percent", "money", "per_million", "per_thousand"):
            plain[column] = [_csv_value(kind, v) for v in plain[column]]
        elif plain[column].dtype == object or plain[column].dtype.kind == "f":
            plain[column] = plain[column].map(_plain_number).astype(object)
    plain.columns = [csv_header(str(column)) for column in plain.columns]
    return plain.to_csv(index=False)


def for_display(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with Decimal and nullable-integer columns as floats (missing = NaN).

    Charts draw, sort and serialise floats; the exact Decimals stay in the read API's
    frame, which is what the CSV download writes.
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


# Each column the read API returns: its plain-language header and how to show it.
COLUMNS: dict[str, tuple[str, str]] = {
    "project": ("Project", "text"),
    "team": ("Team", "text"),
    "owner_team": ("Owner team", "text"),
    "teams_using": ("Teams using it", "text"),
    "spend": ("Spend", "money"),
    "value": ("Value", "money"),
    "roi": ("ROI", "percent"),
    "roi_note": ("Why ROI is n/a", "text"),
    "payback_months": ("Payback (months)", "months"),
    "cost_per_1k_predictions": ("Cost of predictions", "per_thousand"),
    "predictions": ("Predictions", "count"),
    "projects": ("Projects", "count"),
    "provenance": ("Source", "text"),
    "month": ("Month", "text"),
    "savings": ("Saved", "money"),
    "partial": ("Partial month", "bool"),
    "lever": ("Lever", "text"),
    "saved": ("Saved", "money"),
    "how": ("How it is computed", "text"),
    "version": ("Version", "version"),
    "family": ("Model family", "text"),
    "status": ("Status", "text"),
    "cv_score": ("Score (CV)", "score"),
    "holdout_score": ("Score (held-out)", "score"),
    "min_score": ("Target", "score"),
    "holdout_met": ("Held-out meets target", "bool"),
    "latency_ms_per_1k": ("Latency (ms per 1k rows)", "float"),
    "size_bytes": ("Size (bytes)", "count"),
    "train_seconds": ("Final fit (s)", "float"),
    "search_seconds": ("Whole search (s)", "float"),
    "n_trials": ("Trials", "count"),
    "cost_per_1m": ("Serving cost", "per_million"),
    "baseline_family": ("Baseline", "text"),
    "baseline_score": ("Baseline score (CV)", "score"),
    "baseline_latency_ms_per_1k": ("Baseline latency (ms per 1k)", "float"),
    "baseline_cost_per_1m": ("Baseline serving cost", "per_million"),
    "saving_per_1m": ("Saving", "per_million"),
    "created_at": ("Created (UTC)", "datetime"),
    "promoted_at": ("Promoted (UTC)", "datetime"),
    "retired_at": ("Retired (UTC)", "datetime"),
    "report_html": ("Report", "link"),
    "dataset": ("Dataset", "text"),
    "uses": ("Uses", "count"),
    "reuse_count": ("Reused by (teams)", "count"),
    "avoided_cost": ("Cost avoided", "money"),
    "collect_cost": ("Collect cost", "money"),
    "label_cost": ("Label cost", "money"),
    "rows": ("Rows", "count"),
    "used_at": ("Used (UTC)", "datetime"),
    "first_used": ("First used (UTC)", "datetime"),
    "last_used": ("Last used (UTC)", "datetime"),
    "time": ("Time (UTC)", "datetime"),
    "kind": ("Event", "text"),
    "decision": ("Decision", "text"),
    "reason": ("Reason", "text"),
    "batch": ("Batch", "text"),
    "champion": ("Champion", "version"),
    "challenger": ("Challenger", "version"),
    "date": ("Date", "date"),
    "category": ("Category", "text"),
    "amount": ("Amount", "money"),
    "currency": ("Currency", "text"),
    "source": ("Recorded from", "text"),
    "details": ("How it is computed", "details"),
    "note": ("Note", "text"),
    "score": ("Score (CV)", "score"),
    "chosen": ("Chosen", "bool"),
}
HIDDEN_COLUMNS = frozenset({"model_id", "event_id"})
CSV_HEADERS = {  # where a download's header says more than the table's
    "report_html": "Report file",
    "model_id": "Model id (registry)",
    "event_id": "Event id (registry)",
    "payback_months": "Payback (months)",
    "partial": "Partial month",
    "details": "How it is computed",
}
HELP = {
    "roi": "(value − spend) ÷ spend. n/a when spend is zero or below the minimum (see the "
    "next column).",
    "provenance": "measured by a halfcost run, imported from billing or entered by a "
    "person, estimated by a stated formula, or seeded demo history.",
    "holdout_met": "no: the model met the target in cross-validation but not on the held-out rows.",
    "payback_months": "Months from the first cost until cumulative value passed cumulative "
    "cost. n/a when ROI is n/a; 'not yet' when it has not paid back.",
    "report_html": "Opens the run's report (served by this app, read-only).",
}


def _shown_value(kind: str, value: Any) -> Any:
    if kind == "bool":
        return MISSING if _missing(value) else ("yes" if bool(value) else "no")
    if _missing(value):
        return MISSING
    if kind == "money":
        return money(value)
    if kind == "per_million":
        return per_million(value)
    if kind == "per_thousand":
        return per_unit(value, "1k")
    if kind == "percent":
        return percent(value)
    if kind == "count":
        return count(value)
    if kind == "months":
        return months(value)
    if kind == "score":
        return f"{float(value):.4f}"
    if kind == "float":
        return f"{float(value):,.3f}"
    if kind == "version":
        return short_version(value)
    if kind == "datetime":
        return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")
    if kind == "date":
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if kind == "details":
        return _describe_details(value)
    return str(value)


def _describe_details(value: Any) -> str:
    if not isinstance(value, dict):
        return str(value)
    formula = value.get("formula")
    inputs = value.get("inputs") or {}
    shown = ", ".join(f"{k} = {v}" for k, v in inputs.items() if v is not None)
    return f"{formula} ({shown})" if formula and shown else str(formula or shown or MISSING)


def display_frame(frame: pd.DataFrame, link: str | None = None) -> pd.DataFrame:
    """The table as a reader sees it: plain headers, one format per kind, ``—`` for missing.

    ``link`` (``model`` or ``event``) turns the ``report_html`` column into a link to the
    app's evidence page for that row (by its id, never by its path).
    """
    shown = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        if column in HIDDEN_COLUMNS:
            continue
        label, kind = COLUMNS.get(column, (column.replace("_", " ").capitalize(), "text"))
        if kind == "link":
            if link is None:
                continue
            ids = frame["model_id" if link == "model" else "event_id"]
            shown[label] = [
                None if _missing(path) else f"./evidence?{link}={int(row_id)}"
                for path, row_id in zip(frame[column], ids, strict=True)
            ]
            continue
        if kind in ("percent", "months") and "roi_note" in frame.columns:
            # ROI and payback that are not shown say so: "n/a" (the reason is beside them)
            shown[label] = [
                ("n/a" if isinstance(note, str) else _shown_value(kind, v))
                if _missing(v)
                else _shown_value(kind, v)
                for v, note in zip(frame[column], frame["roi_note"], strict=True)
            ]
            if kind == "months":
                shown[label] = ["not yet" if text == MISSING else text for text in shown[label]]
            continue
        shown[label] = _format_column(kind, frame[column])
    return shown.reset_index(drop=True)


def _format_column(kind: str, values: pd.Series) -> list[str]:
    """One column formatted for reading; missing cells as ``—`` (vectorised where it pays:
    a drift log has thousands of rows)."""
    missing = values.isna().to_numpy()
    if kind in ("datetime", "date") and not missing.all():
        stamps = pd.to_datetime(values, utc=True, errors="coerce")
        text = stamps.dt.strftime("%Y-%m-%d %H:%M" if kind == "datetime" else "%Y-%m-%d")
        return [MISSING if m else t for m, t in zip(missing, text, strict=True)]
    if kind == "text":
        return [MISSING if m else str(v) for m, v in zip(missing, values, strict=True)]
    present = _PRESENT_FORMATS.get(kind)
    if present is not None:  # the cell is known present: no per-cell missing test
        return [MISSING if m else present(v) for m, v in zip(missing, values, strict=True)]
    return [_shown_value(kind, None if m else v) for m, v in zip(missing, values, strict=True)]


_PRESENT_FORMATS = {  # formats of a present (not missing) cell, for whole columns
    "money": money_text,
    "count": lambda v: f"{int(v):,}",
    "score": lambda v: f"{float(v):.4f}",
    "float": lambda v: f"{float(v):,.3f}",
    "version": short_version,
    "bool": lambda v: "yes" if bool(v) else "no",
}


def table(
    frame: pd.DataFrame,
    *,
    name: str,
    key: str | None = None,
    link: str | None = None,
    height: int | None = None,
    max_rows: int = 1000,
) -> None:
    """Draw ``frame`` readably (see :func:`display_frame`) with a CSV download of its exact
    values (full precision, plain decimals, the read API's column names).

    Args:
        frame: the read API's table.
        name: file name stem of the download (``projects`` → ``projects.csv``).
        key: widget key of the download button (defaults to ``name``).
        link: ``model`` or ``event``: link each row's report (``report_html``).
        height: the table's height in pixels (default: Streamlit's).
        max_rows: rows shown on the page (a longer table is cut, with a caption saying so;
            nobody reads 10,000 rows on a page, and sending them costs seconds).
    """
    import streamlit.column_config as cc

    shown = display_frame(frame.head(max_rows + 1), link=link)
    total = len(frame)
    config: dict[str, Any] = {}
    for column in frame.columns:
        label, kind = COLUMNS.get(column, (column, "text"))
        if label not in shown.columns:
            continue
        if kind == "link":
            config[label] = cc.LinkColumn(label, display_text="open report", help=HELP[column])
        elif column in HELP:
            config[label] = cc.TextColumn(label, help=HELP[column])
    options: dict[str, Any] = {"height": height} if height else {}
    if total > max_rows:
        st.caption(f"The first {max_rows:,} of {total:,} rows; the download holds every one.")
        shown = shown.head(max_rows)
    st.dataframe(shown, hide_index=True, column_config=config, width="stretch", **options)
    st.download_button(
        f"Download {name}.csv",
        data=lambda: csv_text(frame).encode("utf-8"),  # built only when clicked
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"download_{key or name}",
        on_click="ignore",
        icon=":material/download:",
    )


MAX_COLORS = 12
TEAM_PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31",
    "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1",
)  # fmt: skip
"""Team colours: a team keeps its colour on every page (its rank among all teams' names)."""


def team_colors(ctx: AppContext) -> dict[str, str]:
    """Every team's fixed colour (the same on every page and whatever the filters)."""
    teams = query(ctx, "list_teams")
    return {team: TEAM_PALETTE[index % len(TEAM_PALETTE)] for index, team in enumerate(teams)}


def color_by(frame: pd.DataFrame, column: str) -> str | None:
    """``column`` when its few values make a readable legend, else None (one colour).

    Plotly draws one trace per colour: 50 teams would be 50 traces, slow and unreadable.
    """
    return column if frame[column].nunique() <= MAX_COLORS else None


def seeded_banner(ctx: AppContext) -> None:
    """Say so, on every page, while the registry holds seeded demo rows."""
    counts = query(ctx, "provenance_counts")
    seeded = counts.get(Provenance.SEEDED, 0)
    if seeded:
        real = sum(v for k, v in counts.items() if k != Provenance.SEEDED)
        st.warning(
            f"**Demo data.** {seeded:,} rows of this registry are seeded demo history (made "
            f"up, not measured); {real:,} come from real runs, imports or estimates. The "
            "Source column says which is which.",
            icon=":material/science:",
        )


def estimate_note(label: str, formula: str, inputs: dict[str, Any]) -> str:
    """One line stating an estimate's formula and its inputs (for an expander)."""
    shown = ", ".join(
        f"{k.replace('_', ' ')} {count(v) if isinstance(v, int) else v}" for k, v in inputs.items()
    )
    return f"**{label}** = {formula}." + (f" Inputs: {shown}." if shown else "")


def slice_caption(ctx: AppContext) -> str:
    """One line saying which teams and dates the page shows."""
    teams = ", ".join(ctx.teams) if ctx.teams else "all teams"
    start = ctx.start.isoformat() if ctx.start else "the start"
    end = ctx.end.isoformat() if ctx.end else "today"
    return f"Showing {teams}, from {start} to {end}. Registry: `{ctx.redacted_url}`."


def previous_slice(ctx: AppContext) -> AppContext | None:
    """The period of the same length just before ``ctx``'s (for headline deltas); None
    when ``ctx`` starts on the registry's first day (there is nothing before to compare)."""
    if ctx.start is None or ctx.end is None:
        return None
    from datetime import timedelta

    bounds = query(ctx, "date_bounds")
    if bounds is None or ctx.start <= bounds[0]:  # nothing was booked before: no delta
        return None
    length = ctx.end - ctx.start + timedelta(days=1)
    return AppContext(
        db_url=ctx.db_url, teams=ctx.teams, start=ctx.start - length, end=ctx.start - timedelta(1)
    )


def money_delta(now: Decimal, before: Decimal | None) -> str | None:
    """``+$1,234.00`` against the previous period; None when there was none."""
    if before is None or before == 0:
        return None
    change = now - before
    return ("+" if change >= 0 else "-") + money(abs(change))


def money_axis(figure: Any, axis: str = "y", values: Any = None) -> None:
    """A money axis from zero: whole dollars when the amounts are large, cents when small."""
    numbers = pd.to_numeric(pd.Series(list(values if values is not None else [])), "coerce")
    largest = float(numbers.abs().max()) if numbers.notna().any() else 0.0
    fmt = "$,.0f" if largest >= 10 else "$,.2f"
    update = figure.update_yaxes if axis == "y" else figure.update_xaxes
    update(rangemode="tozero", tickformat=fmt)
