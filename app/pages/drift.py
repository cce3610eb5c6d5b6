"""Drift & retraining: alerts, retrains and promotions on a timeline, with decision and reason,
and each checked batch's drift report one click away."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from halfcost.app import _shell, _ui

MAX_PLOTTED_PROJECTS = 40
MAX_PLOTTED_EVENTS = 1500  # newest first; more points only slow the browser down
MAX_LINKS = 10
KIND_COLORS = {  # distinct hues, and distinct symbols below, for distinct kinds
    "alert": "#d62728",
    "retrain_started": "#9e9e9e",
    "retrain": "#1f77b4",
    "retrain_failed": "#000000",
    "promotion": "#2ca02c",
    "refusal": "#ff7f0e",
    "check": "#bcbd22",
}
KIND_SYMBOLS = {
    "alert": "triangle-up",
    "retrain_started": "circle-open",
    "retrain": "circle",
    "retrain_failed": "x",
    "promotion": "star",
    "refusal": "square",
    "check": "diamond-open",
}

ctx = _shell.page_context()
st.title("Drift & retraining")
_ui.stop_if_empty(ctx)
st.caption(_ui.slice_caption(ctx))

timeline = _ui.query(ctx, "drift_timeline")
kinds = timeline["kind"].value_counts()
cols = st.columns(5)
cols[0].metric("Alerts", f"{int(kinds.get('alert', 0)):,}")
cols[1].metric("Retrains", f"{int(kinds.get('retrain', 0)):,}")
cols[2].metric("Promotions", f"{int(kinds.get('promotion', 0)):,}")
cols[3].metric("Refusals", f"{int(kinds.get('refusal', 0)):,}", help="Challengers not promoted.")
cols[4].metric("Failed retrains", f"{int(kinds.get('retrain_failed', 0)):,}")


def report_links() -> None:
    """Links to the drift.html of the latest checked batches (served read-only)."""
    reports = _ui.query(ctx, "drift_reports")
    if reports.empty:
        return
    st.markdown("**Drift reports of the checked batches** (open in a new tab, read-only):")
    for _, event in reports.iloc[::-1].head(MAX_LINKS).iterrows():
        st.markdown(
            f"- [{event['project']}: {event['kind']} of "
            f"{str(event['batch'] or 'a batch').rsplit('/', 1)[-1]}, "
            f"{event['time']:%Y-%m-%d %H:%M} UTC]"
            f"(./evidence?event={int(event['event_id'])})"
        )


if timeline.empty:
    st.info("No drift alert or retrain in the chosen teams and dates.")
    report_links()
    st.stop()

busiest = timeline["project"].value_counts().index[:MAX_PLOTTED_PROJECTS]
plotted = timeline.loc[timeline["project"].isin(busiest)].tail(MAX_PLOTTED_EVENTS)
if len(busiest) < timeline["project"].nunique() or len(plotted) < len(timeline):
    st.caption(
        f"The timeline shows the latest {len(plotted):,} events of the "
        f"{min(len(busiest), MAX_PLOTTED_PROJECTS)} projects with the most events; pick "
        "teams or dates in the sidebar to see others; the table's download lists every event."
    )
figure = go.Figure()
for kind, events in plotted.groupby("kind", sort=True):  # one trace per kind: its legend entry
    figure.add_scatter(  # SVG: WebGL in a browser without a GPU is slower here
        x=events["time"],
        y=events["project"],
        name=kind,
        mode="markers",
        marker={
            "color": KIND_COLORS.get(kind, "#7f7f7f"),
            "symbol": KIND_SYMBOLS.get(kind, "circle"),
        },
        customdata=events[["team", "decision", "reason"]].fillna(_ui.MISSING).to_numpy(),
        hovertemplate=(
            "%{y} · %{x|%Y-%m-%d %H:%M}<br>team %{customdata[0]}<br>decision "
            "%{customdata[1]}<br>%{customdata[2]}<extra>" + kind + "</extra>"
        ),
    )
figure.update_traces(marker={"size": 9})
figure.update_layout(
    height=max(320, 22 * len(busiest)),
    margin={"t": 10},
    legend_title_text="event",
    yaxis={"type": "category", "categoryorder": "category descending"},
)
st.plotly_chart(figure, width="stretch")

kind_filter = st.multiselect(
    "Event kinds", options=sorted(kinds.index.tolist()), key="drift_kinds", placeholder="All"
)
shown = timeline if not kind_filter else timeline.loc[timeline["kind"].isin(kind_filter)]
st.caption("Newest first.")
_ui.table(shown.iloc[::-1], name="drift_timeline", link="event")
report_links()
