"""Models: inventory with champion/challenger status, cost per 1M predictions against the
baseline, champions that miss their target on held-out data, and each search's trade-off."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from halfcost.app import _shell, _ui
from halfcost.records import Lever

TOP_N = 20
MAX_LINKS = 10

ctx = _shell.page_context()
st.title("Models")
_ui.stop_if_empty(ctx)
st.caption(_ui.slice_caption(ctx))

inventory = _ui.query(ctx, "models_inventory")
estimate = _ui.query(ctx, "lever_estimate", Lever.CHEAPER_MODELS)
status_counts = inventory["status"].value_counts()
cols = st.columns(4)
cols[0].metric("Models", f"{len(inventory):,}")
cols[1].metric("Champions", f"{int(status_counts.get('champion', 0)):,}")
cols[2].metric("Challengers", f"{int(status_counts.get('candidate', 0)):,}")
cols[3].metric(
    "Saved by cheaper models",
    _ui.money(estimate["saved"]),
    help=f"An estimate: {estimate['formula']}.",
)
if inventory.empty:
    st.info("No model is registered for the chosen teams and dates.")
    st.stop()
with st.expander("How “Saved by cheaper models” is estimated"):
    st.markdown(
        _ui.estimate_note("Saved by cheaper models", estimate["formula"], estimate["inputs"])
    )

live = inventory.loc[inventory["status"] != "retired"]
missed = live.loc[live["holdout_met"].fillna(True) == False]  # noqa: E712
if not missed.empty:
    names = ", ".join(
        f"{p} {_ui.short_version(v)} ({s})"
        for p, v, s in zip(missed["project"], missed["version"], missed["status"], strict=True)
    )
    st.warning(
        f"**{len(missed):,} champion or candidate model(s) miss their target on held-out "
        f"data** (they met it in cross-validation only): {names}. Check them before trusting "
        "their scores and savings.",
        icon=":material/warning:",
    )

st.subheader(f"Serving cost per 1M predictions vs the baseline (top {TOP_N} champions by saving)")
shown = _ui.for_display(inventory)
champions = shown.loc[shown["status"] == "champion"].nlargest(TOP_N, "saving_per_1m")
figure = go.Figure()
for column, name, color in (
    ("baseline_cost_per_1m", "baseline", "#9e9e9e"),
    ("cost_per_1m", "chosen", "#1f77b4"),
):
    figure.add_bar(
        x=champions["project"],
        y=champions[column],
        name=name,
        marker_color=color,
        customdata=champions["version"].map(_ui.short_version).to_numpy(),
        hovertemplate="%{x} %{customdata}: $%{y:,.2f} per 1M<extra>" + name + "</extra>",
    )
figure.update_layout(barmode="group", yaxis_title="$ per 1M predictions")
figure.update_layout(height=360, margin={"t": 10, "b": 10})
_ui.money_axis(
    figure, "y", list(champions["baseline_cost_per_1m"]) + list(champions["cost_per_1m"])
)
st.plotly_chart(figure, width="stretch")
_ui.table(inventory, name="models", link="model")

with_reports = inventory.loc[inventory["report_html"].notna()]
if not with_reports.empty:
    st.markdown("**Reports of the searches** (open in a new tab, served read-only):")
    for _, model in (
        with_reports.sort_values("created_at", ascending=False).head(MAX_LINKS).iterrows()
    ):
        st.markdown(
            f"- [{model['project']} {_ui.short_version(model['version'])} ({model['status']})]"
            f"(./evidence?model={int(model['model_id'])})"
        )

st.subheader("The search's trade-off: score vs inference cost")
projects = sorted(inventory["project"].unique().tolist())
project = st.selectbox("Project", options=projects, key="pareto_project")
points = _ui.query(ctx, "pareto_points", project)
if points.empty:
    st.caption(f"No search report with a Pareto front is registered for {project}.")
else:
    shown = _ui.for_display(points)
    shown["version"] = shown["version"].map(_ui.short_version)
    figure = go.Figure()
    versions = sorted(shown["version"].unique())
    hue = {v: _ui.TEAM_PALETTE[i % len(_ui.TEAM_PALETTE)] for i, v in enumerate(versions)}
    for (version, chosen), group in shown.groupby(["version", "chosen"], sort=True):
        figure.add_scatter(
            x=group["latency_ms_per_1k"],
            y=group["score"],
            mode="markers",
            name=f"{version}, {'chosen' if chosen else 'other candidates'}",
            legendgroup=version,
            marker={
                "size": 14 if chosen else 11,
                "symbol": "star" if chosen else "circle",
                "color": hue[version],
            },
            customdata=group[["family", "size_bytes"]].to_numpy(),
            hovertemplate=(
                "%{customdata[0]}<br>score %{y:.4f}<br>latency %{x:,.3f} ms per 1k<br>"
                "size %{customdata[1]:,} bytes<extra>search of " + version + "</extra>"
            ),
        )
    figure.update_layout(
        xaxis_title="Latency (ms per 1k rows): lower is cheaper", yaxis_title="Score (CV)"
    )
    own = inventory.loc[inventory["project"] == project].sort_values("created_at")
    latest = own.iloc[-1]
    if latest["min_score"] == latest["min_score"] and latest["min_score"] is not None:
        figure.add_hline(
            y=float(latest["min_score"]),
            line={"dash": "dash", "color": "#d62728"},
            annotation_text=f"target {float(latest['min_score']):.3f} (latest search)",
            annotation_position="bottom right",
        )
    base_latency, base_score = latest["baseline_latency_ms_per_1k"], latest["baseline_score"]
    if base_latency == base_latency and base_score == base_score and base_latency is not None:
        figure.add_scatter(
            x=[float(base_latency)],
            y=[float(base_score)],
            mode="markers+text",
            marker={"symbol": "x", "size": 14, "color": "black"},
            text=["baseline"],
            textposition="top center",
            name=str(latest["baseline_family"] or "baseline"),
        )
    figure.update_xaxes(rangemode="tozero")
    figure.update_layout(height=380, margin={"t": 10, "b": 10})
    st.plotly_chart(figure, width="stretch")
    st.caption(
        "Above the dashed line a model meets the target; the cheapest of those (left) is "
        "chosen. The cross marks LightGBM with default settings, measured in the same run."
    )
    _ui.table(points, name=f"{project}_pareto", key="pareto")
