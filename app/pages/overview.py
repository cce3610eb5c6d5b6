"""Overview: spend, value, ROI, savings split by lever (and how each is estimated), and the
monthly trend with the current, partial month marked."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from halfcost.app import _shell, _ui
from halfcost.records import Lever

LEVER_LABELS = {
    Lever.CHEAPER_MODELS: "Cheaper models",
    Lever.DATASET_REUSE: "Dataset reuse",
    Lever.FEWER_LABELS: "Fewer labels",
    Lever.LESS_CLEANING: "Less cleaning",
}
SERIES_COLORS = {"Spend": "#d62728", "Value": "#2ca02c"}

ctx = _shell.page_context()
st.title("What ML costs and returns")
_ui.stop_if_empty(ctx)
st.caption(_ui.slice_caption(ctx))

summary = _ui.query(ctx, "overview")
before_ctx = _ui.previous_slice(ctx)
before = _ui.query(before_ctx, "overview") if before_ctx is not None else None
compared = " than the period of the same length before" if before is not None else ""
spend_col, value_col, roi_col, savings_col = st.columns(4)
spend_col.metric(
    "Spend",
    _ui.money(summary.spend),
    delta=_ui.money_delta(summary.spend, before.spend if before else None),
    delta_color="inverse",
    help=f"Every cost booked in the period (more or less{compared}).",
)
value_col.metric(
    "Value",
    _ui.money(summary.value),
    delta=_ui.money_delta(summary.value, before.value if before else None),
    help="Business value booked in the period.",
)
roi_delta = None
if before is not None and summary.roi is not None and before.roi is not None:
    roi_delta = f"{float(summary.roi - before.roi) * 100:+,.1f} points"
roi_col.metric(
    "ROI",
    _ui.percent(summary.roi, summary.roi_note),
    delta=roi_delta,
    help=summary.roi_note or "(value − spend) ÷ spend.",
)
savings_col.metric(
    "Saved",
    _ui.money(summary.savings),
    delta=_ui.money_delta(summary.savings, before.savings if before else None),
    help="Savings from all four levers together (estimates: see how below).",
)
if summary.unallocated_spend:
    st.caption(
        f"Spend includes {_ui.money(summary.unallocated_spend)} booked to no project "
        "(billing rows without a project tag): tag them to see them on a project."
    )

levers = pd.DataFrame(
    {
        "lever": [LEVER_LABELS.get(k, k) for k in summary.savings_by_lever],
        "saved": list(summary.savings_by_lever.values()),
        "how": [summary.estimates[k]["formula"] for k in summary.savings_by_lever],
    }
)
left, right = st.columns(2)
with left:
    st.subheader("Savings by lever (estimates)")
    bars = _ui.for_display(levers)
    bars["text"] = [_ui.money(v) for v in levers["saved"]]
    figure = go.Figure(
        go.Bar(
            x=bars["lever"],
            y=bars["saved"],
            text=bars["text"],
            textposition="outside",
            cliponaxis=False,
            marker_color="#1f77b4",
            hovertemplate="%{x}: %{text}<extra></extra>",
        )
    )
    figure.update_layout(height=320, margin={"t": 20, "b": 10}, yaxis_title="Saved ($)")
    _ui.money_axis(figure, "y", bars["saved"])
    st.plotly_chart(figure, width="stretch")
    with st.expander("How each saving is estimated"):
        for lever, label in LEVER_LABELS.items():
            estimate = summary.estimates[lever]
            st.markdown(_ui.estimate_note(label, estimate["formula"], estimate["inputs"]))

monthly = summary.monthly
with right:
    st.subheader("Spend and value by month")
    if monthly.empty:
        st.info("No costs or value in the chosen dates.")
    else:
        shown = _ui.for_display(monthly)
        shown["label"] = [
            f"{m} (partial)" if partial else m
            for m, partial in zip(shown["month"], shown["partial"], strict=True)
        ]
        figure = go.Figure()
        whole, partial = shown.loc[~shown["partial"]], shown.loc[shown["partial"]]
        for column, name in (("spend", "Spend"), ("value", "Value")):
            figure.add_scatter(  # whole months: the trend
                x=whole["label"],
                y=whole[column],
                name=name,
                mode="lines+markers",
                line={"color": SERIES_COLORS[name]},
            )
            figure.add_scatter(  # partial months: open markers, not joined to the trend
                x=partial["label"],
                y=partial[column],
                name=f"{name} (partial month)",
                mode="markers",
                marker={"color": SERIES_COLORS[name], "symbol": "circle-open", "size": 10},
                showlegend=not partial.empty,
            )
        figure.update_layout(height=320, margin={"t": 10, "b": 10}, legend_title_text=None)
        _ui.money_axis(figure, "y", pd.concat([shown["spend"], shown["value"]]))
        figure.update_yaxes(title=None)
        figure.update_xaxes(
            type="category", title=None, categoryorder="array", categoryarray=shown["label"]
        )
        st.plotly_chart(figure, width="stretch")
        if shown["partial"].any():
            st.caption(
                "Open markers and “(partial)”: a month the data or the chosen dates do not "
                "cover whole (the current month is still running); it is not joined to the "
                "trend, so its lower totals do not read as a collapse."
            )
st.subheader("Month by month")
_ui.table(monthly, name="monthly")
st.subheader("By team")
_ui.table(_ui.query(ctx, "teams_table"), name="teams")
