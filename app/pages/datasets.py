"""Datasets & reuse: who uses which dataset, how often each was reused, the cost avoided."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from halfcost.app import _shell, _ui

TOP_N = 20
MONEY = ["avoided_cost", "collect_cost", "label_cost"]

ctx = _shell.page_context()
st.title("Datasets & reuse")
_ui.stop_if_empty(ctx)
st.caption(_ui.slice_caption(ctx))

reuse = _ui.query(ctx, "datasets_reuse")
summary = _ui.query(ctx, "overview")
unused = reuse.loc[reuse["reuse_count"] == 0]
cols = st.columns(3)
cols[0].metric("Datasets", f"{len(reuse):,}")
cols[1].metric(
    "Cost avoided by reuse",
    _ui.money(summary.savings_by_lever.get("dataset_reuse")),
    help="What collecting and labelling again would have cost the teams that reused data.",
)
cols[2].metric("Nobody reuses", f"{len(unused):,}", help="Datasets used by their owner only.")

if reuse.empty:
    st.info("No dataset is used in the chosen teams and dates.")
    st.stop()

st.subheader(f"Most reused datasets (top {TOP_N} by cost avoided)")
shown = _ui.for_display(reuse)
top = shown.loc[shown["avoided_cost"] > 0].nlargest(TOP_N, "avoided_cost")
top["label"] = top["dataset"] + " @" + top["version"].astype(str).str[:7]  # one bar a version
figure = px.bar(
    top,
    x="avoided_cost",
    y="label",
    color=_ui.color_by(top, "owner_team"),
    orientation="h",
    hover_data=["owner_team", "version", "reuse_count", "teams_using"],
    labels={"avoided_cost": "Cost avoided ($)", "label": ""},
)
figure.update_layout(height=420, margin={"t": 10, "b": 10}, yaxis={"autorange": "reversed"})
st.plotly_chart(figure, width="stretch")
_ui.table(reuse, name="datasets_reuse", money_columns=MONEY)

st.subheader("Datasets nobody reuses")
st.caption("Candidates to advertise to other teams before they buy or label the same data.")
_ui.table(unused, name="datasets_not_reused", money_columns=MONEY)

st.subheader("Which teams use which datasets")
usage = _ui.query(ctx, "dataset_usage")
_ui.table(usage, name="dataset_usage")
