"""Projects: ROI and payback of each project, and a drill-down into one of them."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from halfcost.app import _shell, _ui

MONEY = ["spend", "value", "cost_per_1k_predictions"]

ctx = _shell.page_context()
st.title("Projects")
_ui.stop_if_empty(ctx)
st.caption(_ui.slice_caption(ctx))

projects = _ui.query(ctx, "projects_table")
if projects.empty:
    st.info("No project has costs or value in the chosen teams and dates.")
    st.stop()

count_col, paid_col = st.columns(2)
count_col.metric("Projects", f"{len(projects):,}")
paid_col.metric(
    "Paid back",
    f"{int(projects['payback_months'].notna().sum()):,}",
    help="Projects whose cumulative value has passed their cumulative cost.",
)

shown = _ui.for_display(projects)
figure = px.scatter(
    shown,
    x="spend",
    y="value",
    color=_ui.color_by(shown, "team"),
    hover_name="project",
    hover_data={"team": True, "roi": ":.1%", "payback_months": True},
    labels={"spend": "Spend ($)", "value": "Value ($)"},
)
amounts = pd.concat([shown["spend"], shown["value"]]).dropna()
top = float(amounts.max()) if not amounts.empty and amounts.max() > 0 else 1.0
figure.add_shape(  # above this line a project returned more than it cost
    type="line", x0=0, y0=0, x1=top, y1=top, line={"dash": "dot", "color": "grey"}
)
figure.add_annotation(x=top, y=top, text="break-even", showarrow=False, yshift=10)
figure.update_traces(marker={"size": 10})
figure.update_layout(height=380, margin={"t": 10, "b": 10})
st.plotly_chart(figure, width="stretch")
_ui.table(projects, name="projects", money_columns=MONEY, percent_columns=["roi"])

st.header("Drill down")
project = st.selectbox("Project", options=projects["project"].tolist(), key="drill_project")
detail = _ui.query(ctx, "project_detail", project)
row = projects.loc[projects["project"] == project].iloc[0]
cols = st.columns(4)
cols[0].metric("Spend", _ui.money(row["spend"]))
cols[1].metric("Value", _ui.money(row["value"]))
cols[2].metric("ROI", _ui.percent(row["roi"]))
cols[3].metric("Payback", _ui.months(row["payback_months"]))

tabs = st.tabs(["Models", "Costs", "Value", "Alerts"])
sections = [
    ("models", ["cost_per_1m", "baseline_cost_per_1m", "saving_per_1m"]),
    ("costs", ["amount"]),
    ("values", ["amount"]),
    ("alerts", []),
]
for tab, (key, money_columns) in zip(tabs, sections, strict=True):
    with tab:
        frame = detail.get(key)
        if frame is None or frame.empty:
            st.caption(f"No {key} recorded for {project} in the chosen dates.")
            continue
        _ui.table(
            frame,
            name=f"{project}_{key}",
            key=f"detail_{key}",
            money_columns=[c for c in money_columns if c in frame.columns],
        )
