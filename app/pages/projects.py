"""Projects: ROI and payback of each project, and a drill-down into one of them."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from halfcost.app import _shell, _ui

ctx = _shell.page_context()
st.title("Projects")
_ui.stop_if_empty(ctx)
st.caption(_ui.slice_caption(ctx))

projects = _ui.query(ctx, "projects_table")
if projects.empty:
    st.info("No project has costs or value in the chosen teams and dates.")
    st.stop()

count_col, paid_col, na_col = st.columns(3)
count_col.metric("Projects", f"{len(projects):,}")
paid_col.metric(
    "Paid back",
    f"{int(projects['payback_months'].notna().sum()):,}",
    help="Projects whose cumulative value has passed their cumulative cost.",
)
na_col.metric(
    "ROI n/a",
    f"{int(projects['roi_note'].notna().sum()):,}",
    help="Projects whose spend is zero or too small for a meaningful ROI.",
)

shown = _ui.for_display(projects)
shown["ROI"] = [_ui.percent(v, n) for v, n in zip(shown["roi"], shown["roi_note"], strict=True)]
shown["Payback"] = [
    _ui.months(v, n) for v, n in zip(shown["payback_months"], shown["roi_note"], strict=True)
]
colors = _ui.team_colors(ctx)
by_team = _ui.color_by(shown, "team") is not None  # a legend of teams when it stays readable
figure = go.Figure()
for team, group in shown.groupby("team", sort=True) if by_team else [(None, shown)]:
    figure.add_scatter(
        x=group["spend"],
        y=group["value"],
        mode="markers",
        name=team or "project",
        showlegend=by_team,
        marker={"size": 10, "color": colors.get(team, "#1f77b4") if team else "#1f77b4"},
        customdata=group[["project", "team", "ROI", "Payback"]].to_numpy(),
        hovertemplate=(
            "<b>%{customdata[0]}</b><br>team %{customdata[1]}<br>spend %{x:$,.2f}<br>"
            "value %{y:$,.2f}<br>ROI %{customdata[2]}<br>payback %{customdata[3]}<extra></extra>"
        ),
    )
figure.update_layout(xaxis_title="Spend ($)", yaxis_title="Value ($)")
amounts = pd.concat([shown["spend"], shown["value"]]).dropna()
top = float(amounts.max()) if not amounts.empty and amounts.max() > 0 else 1.0
figure.add_shape(  # above this line a project returned more than it cost
    type="line", x0=0, y0=0, x1=top, y1=top, line={"dash": "dot", "color": "grey"}
)
figure.add_annotation(x=top, y=top, text="break-even", showarrow=False, yshift=10)
figure.update_layout(height=380, margin={"t": 10, "b": 10})
_ui.money_axis(figure, "x", shown["spend"])
_ui.money_axis(figure, "y", shown["value"])
st.plotly_chart(figure, width="stretch")
_ui.table(projects, name="projects")

st.header("Drill down")
project = st.selectbox("Project", options=projects["project"].tolist(), key="drill_project")
detail = _ui.query(ctx, "project_detail", project)
row = projects.loc[projects["project"] == project].iloc[0]
note = row["roi_note"] if isinstance(row["roi_note"], str) else None
cols = st.columns(4)
cols[0].metric("Spend", _ui.money(row["spend"]))
cols[1].metric("Value", _ui.money(row["value"]))
cols[2].metric("ROI", _ui.percent(row["roi"], note), help=note or "(value − spend) ÷ spend.")
cols[3].metric("Payback", _ui.months(row["payback_months"], note), help=note)
source = row["provenance"] if isinstance(row["provenance"], str) else _ui.MISSING
st.caption(f"Where its figures come from: {source}. {_ui.HELP['provenance'].capitalize()}")

tabs = st.tabs(["Models", "Costs", "Value", "Alerts"])
for tab, key in zip(tabs, ["models", "costs", "values", "alerts"], strict=True):
    with tab:
        frame = detail.get(key)
        if frame is None or frame.empty:
            st.caption(f"No {key} recorded for {project} in the chosen dates.")
            continue
        link = {"models": "model", "alerts": "event"}.get(key)
        _ui.table(frame, name=f"{project}_{key}", key=f"detail_{key}", link=link)
