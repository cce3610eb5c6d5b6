"""Models: inventory with champion/challenger status, cost per 1M predictions against the
baseline, champions that miss their target on held-out data, and each search's trade-off."""

from __future__ import annotations

import plotly.express as px
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
    color_discrete_map={"baseline": "#9e9e9e", "chosen": "#1f77b4"},
    hover_data=["version"],
    labels={"usd_per_1m": "$ per 1M predictions", "project": "", "model": ""},
)
figure.update_layout(height=360, margin={"t": 10, "b": 10})
_ui.money_axis(figure, "y", bars["usd_per_1m"])
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
    shown["model"] = shown["chosen"].map({True: "chosen", False: "other candidate"})
    shown["version"] = shown["version"].map(_ui.short_version)
    figure = px.scatter(
        shown,
        x="latency_ms_per_1k",
        y="score",
        color="version",
        symbol="model",
        symbol_map={"chosen": "star", "other candidate": "circle"},
        hover_data={"family": True, "size_bytes": ":,", "score": ":.4f"},
        labels={
            "latency_ms_per_1k": "Latency (ms per 1k rows): lower is cheaper",
            "score": "Score (CV)",
            "version": "search of version",
        },
    )
    figure.update_traces(marker={"size": 11})
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
