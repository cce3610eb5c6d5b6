"""Datasets & reuse: who uses which dataset, how often each was reused, the cost avoided."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from halfcost.app import _shell, _ui
from halfcost.records import Lever

TOP_N = 20

ctx = _shell.page_context()
st.title("Datasets & reuse")
_ui.stop_if_empty(ctx)
st.caption(_ui.slice_caption(ctx))

reuse = _ui.query(ctx, "datasets_reuse")
estimate = _ui.query(ctx, "lever_estimate", Lever.DATASET_REUSE)
unused = reuse.loc[reuse["reuse_count"] == 0]
cols = st.columns(3)
cols[0].metric("Datasets", f"{len(reuse):,}")
cols[1].metric(
    "Cost avoided by reuse",
    _ui.money(estimate["saved"]),
    help=f"An estimate: {estimate['formula']}.",
)
cols[2].metric("Nobody reuses", f"{len(unused):,}", help="Datasets used by their owner only.")
with st.expander("How “Cost avoided by reuse” is estimated"):
    st.markdown(_ui.estimate_note("Cost avoided by reuse", estimate["formula"], estimate["inputs"]))

if reuse.empty:
    st.info("No dataset is used in the chosen teams and dates.")
    st.stop()

st.subheader(f"Most reused datasets (top {TOP_N} by cost avoided)")
shown = _ui.for_display(reuse)
top = shown.loc[shown["avoided_cost"] > 0].nlargest(TOP_N, "avoided_cost")
top["label"] = top["dataset"] + " @" + top["version"].map(_ui.short_version)  # a bar a version
top["text"] = [_ui.money(v) for v in top["avoided_cost"]]
colors = _ui.team_colors(ctx)
by_owner = _ui.color_by(top, "owner_team") is not None
figure = go.Figure()
groups = top.fillna({"owner_team": _ui.MISSING}).groupby("owner_team", sort=True)
for owner, group in groups if by_owner else [(None, top.fillna({"owner_team": _ui.MISSING}))]:
    figure.add_bar(
        x=group["avoided_cost"],
        y=group["label"],
        orientation="h",
        text=group["text"],
        name=owner or "dataset",
        showlegend=by_owner,
        marker_color=colors.get(owner, "#1f77b4") if owner else "#1f77b4",
        customdata=group[["owner_team", "reuse_count", "teams_using"]].to_numpy(),
        hovertemplate=(
            "<b>%{y}</b><br>cost avoided %{text}<br>owner team %{customdata[0]}<br>"
            "reused by %{customdata[1]} team(s): %{customdata[2]}<extra></extra>"
        ),
    )
figure.update_layout(xaxis_title="Cost avoided ($)", legend_title_text="owner team")
# one bar per label: stacked (not grouped) traces keep each bar on its own label's line
figure.update_layout(
    height=max(320, 24 * len(top)),
    margin={"t": 10, "b": 10},
    barmode="relative",
    yaxis={"categoryorder": "total ascending"},
)
_ui.money_axis(figure, "x", top["avoided_cost"])
st.plotly_chart(figure, width="stretch")
_ui.table(reuse, name="datasets_reuse")

st.subheader("Datasets nobody reuses")
st.caption("Candidates to advertise to other teams before they buy or label the same data.")
_ui.table(unused, name="datasets_not_reused")

st.subheader("Which teams use which datasets")
st.caption("One row per dataset version, team and project: how often it was used, first and last.")
usage = _ui.query(ctx, "dataset_usage_by_team")
_ui.table(usage, name="dataset_usage")
