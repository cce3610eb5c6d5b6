"""Overview: spend, value, ROI, savings split by lever and the monthly trend."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from halfcost.app import _shell, _ui

LEVER_LABELS = {
    "cheaper_models": "Cheaper models",
    "dataset_reuse": "Dataset reuse",
    "fewer_labels": "Fewer labels",
    "less_cleaning": "Less cleaning",
}

ctx = _shell.page_context()
st.title("What ML costs and returns")
_ui.stop_if_empty(ctx)
st.caption(_ui.slice_caption(ctx))

summary = _ui.query(ctx, "overview")
spend_col, value_col, roi_col, savings_col = st.columns(4)
spend_col.metric("Spend", _ui.money(summary.spend), help="Every cost booked in the period.")
value_col.metric("Value", _ui.money(summary.value), help="Business value booked in the period.")
roi_col.metric("ROI", _ui.percent(summary.roi), help="(value − spend) / spend.")
savings_col.metric(
    "Saved",
    _ui.money(summary.savings),
    help="Savings from all four levers together (the chart below splits them).",
)
if summary.unallocated_spend:
    st.caption(
        f"Spend includes {_ui.money(summary.unallocated_spend)} booked to no project "
        "(billing rows without a project tag): tag them to see them on a project."
    )

levers = pd.DataFrame(
    {
        "lever": [LEVER_LABELS.get(k, k) for k in summary.savings_by_lever],
        "saved_usd": list(summary.savings_by_lever.values()),
    }
)
left, right = st.columns(2)
with left:
    st.subheader("Savings by lever")
    figure = px.bar(
        _ui.for_display(levers), x="lever", y="saved_usd", labels={"saved_usd": "Saved ($)"}
    )
    figure.update_layout(height=320, margin={"t": 10, "b": 10}, xaxis_title=None)
    st.plotly_chart(figure, width="stretch")
    _ui.table(levers, name="savings_by_lever", money_columns=["saved_usd"])

monthly = summary.monthly
with right:
    st.subheader("Spend and value by month")
    if monthly.empty:
        st.info("No costs or value in the chosen dates.")
    else:
        shown = _ui.for_display(monthly).melt(
            id_vars="month", value_vars=["spend", "value"], var_name="series", value_name="usd"
        )
        figure = px.line(shown, x="month", y="usd", color="series", markers=True)
        figure.update_layout(height=320, margin={"t": 10, "b": 10}, yaxis_title="$")
        st.plotly_chart(figure, width="stretch")
st.subheader("Month by month")
_ui.table(
    monthly,
    name="monthly",
    money_columns=["spend", "value", "savings"],
    percent_columns=["roi"],
)
st.subheader("By team")
_ui.table(
    _ui.query(ctx, "teams_table"),
    name="teams",
    money_columns=["spend", "value"],
    percent_columns=["roi"],
)
