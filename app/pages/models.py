"""Models: inventory with champion/challenger status, cost per 1M predictions, Pareto plot."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from halfcost.app import _shell, _ui

MONEY = ["cost_per_1m", "baseline_cost_per_1m", "saving_per_1m"]
TOP_N = 20

ctx = _shell.page_context()
st.title("Models")
_ui.stop_if_empty(ctx)
st.caption(_ui.slice_caption(ctx))

inventory = _ui.query(ctx, "models_inventory")
summary = _ui.query(ctx, "overview")
status_counts = inventory["status"].value_counts()
cols = st.columns(4)
cols[0].metric("Models", f"{len(inventory):,}")
cols[1].metric("Champions", f"{int(status_counts.get('champion', 0)):,}")
cols[2].metric("Challengers", f"{int(status_counts.get('candidate', 0)):,}")
cols[3].metric(
    "Saved by cheaper models",
    _ui.money(summary.savings_by_lever.get("cheaper_models")),
    help="(baseline cost − chosen cost) per prediction × prediction volume.",
)
if inventory.empty:
    st.info("No model is registered for the chosen teams and dates.")
    st.stop()

st.subheader(f"Cost per 1M predictions vs the baseline (top {TOP_N} champions by saving)")
shown = _ui.for_display(inventory)
champions = shown.loc[shown["status"] == "champion"].nlargest(TOP_N, "saving_per_1m")
bars = champions.melt(
    id_vars=["project", "version"],
    value_vars=["baseline_cost_per_1m", "cost_per_1m"],
    var_name="model",
    value_name="usd_per_1m",
).replace({"model": {"baseline_cost_per_1m": "baseline", "cost_per_1m": "chosen"}})
figure = px.bar(
    bars,
    x="project",
    y="usd_per_1m",
    color="model",
    barmode="group",
    hover_data=["version"],
    labels={"usd_per_1m": "$ per 1M predictions", "project": ""},
)
figure.update_layout(height=360, margin={"t": 10, "b": 10})
st.plotly_chart(figure, width="stretch")
_ui.table(inventory, name="models", money_columns=MONEY)

st.subheader("The search's trade-off: score vs inference cost")
projects = sorted(inventory["project"].unique().tolist())
project = st.selectbox("Project", options=projects, key="pareto_project")
points = _ui.query(ctx, "pareto_points", project)
if points.empty:
    st.caption(f"No search report with a Pareto front is registered for {project}.")
else:
    shown = _ui.for_display(points)
    shown["model"] = shown["chosen"].map({True: "chosen", False: "other candidate"})
    figure = px.scatter(
        shown,
        x="latency_ms_per_1k",
        y="score",
        color="version",
        symbol="model",
        symbol_map={"chosen": "star", "other candidate": "circle"},
        hover_data=["family", "size_bytes"],
        labels={
            "latency_ms_per_1k": "Latency (ms per 1k rows): lower is cheaper",
            "score": "Score",
            "version": "search of version",
        },
    )
    figure.update_traces(marker={"size": 11})
    figure.update_layout(height=360, margin={"t": 10, "b": 10})
    st.plotly_chart(figure, width="stretch")
    _ui.table(points, name=f"{project}_pareto", key="pareto")
