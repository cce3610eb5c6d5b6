"""Writing a search's results: report.json (the contract) and report.html (for people).

The page is standalone (plotly.js inline, works offline): a warning when the chosen
model misses the target on the held-out rows, the cost-vs-score plot with every trial,
the Pareto front, the target line and the baseline, then the chosen model's card next
to the baseline's and, with a price, the money figures.
"""

from __future__ import annotations

import html
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from halfcost.jsonio import write_json

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"


def write_report(
    report: dict[str, Any],
    out_dir: str | os.PathLike[str],
    *,
    model_folder: str | os.PathLike[str] | None = None,
) -> tuple[Path, Path]:
    """Write ``report.json`` and ``report.html`` into ``out_dir``; return their paths.

    Args:
        report: a search's ``report_``.
        out_dir: the folder to write into (created if needed).
        model_folder: the folder the model was saved to, whose size the report then
            records as ``model_folder_bytes`` (the one key known only once it is saved).
    """
    folder = Path(out_dir)
    if model_folder is not None:
        files = [p for p in Path(model_folder).iterdir() if p.is_file()]
        report = {**report, "model_folder_bytes": sum(p.stat().st_size for p in files)}
    json_path = write_json(report, folder / REPORT_JSON)
    html_path = folder / REPORT_HTML
    tmp = folder / f".{REPORT_HTML}.tmp"
    tmp.write_text(render_html(report), encoding="utf-8")
    os.replace(tmp, html_path)
    return json_path, html_path


def _plot(report: dict[str, Any]) -> str:
    import plotly.graph_objects as go

    figure = go.Figure()
    trials = [
        t
        for t in report.get("trials", [])
        if t.get("cv_score") is not None
        and (t.get("latency_ms_per_1k") or t.get("rough_ms_per_1k"))
    ]
    if trials:
        figure.add_trace(
            go.Scatter(
                x=[t.get("latency_ms_per_1k") or t["rough_ms_per_1k"] for t in trials],
                y=[t["cv_score"] for t in trials],
                mode="markers",
                name="trials (search-time cost)",
                marker={"color": "rgba(120,120,120,0.35)", "size": 6},
                text=[f"#{t['trial']} {t['family']} ({t['state']})" for t in trials],
                hoverinfo="text+x+y",
            )
        )
    pareto = report["pareto"]
    figure.add_trace(
        go.Scatter(
            x=[p["latency_ms_per_1k"] for p in pareto],
            y=[p["cv_score"] for p in pareto],
            mode="lines+markers",
            name="Pareto front (re-measured)",
            line={"shape": "hv", "color": "#1f77b4"},
            text=[p["family"] for p in pareto],
        )
    )
    for key, symbol, color in (("baseline", "star", "#d62728"), ("chosen", "diamond", "#2ca02c")):
        entry = report[key]
        figure.add_trace(
            go.Scatter(
                x=[entry["latency_ms_per_1k"]],
                y=[entry["cv_score"]],
                mode="markers",
                name=f"{key}: {entry['family']}",
                marker={"symbol": symbol, "size": 16, "color": color},
            )
        )
    figure.add_hline(
        y=report["min_score"],
        line_dash="dash",
        line_color="#ff7f0e",
        annotation_text=f"target {report['metric']} ≥ {report['min_score']:g}",
    )
    figure.update_layout(
        xaxis_title="inference latency, ms per 1k rows (log scale)",
        yaxis_title=f"cross-validated {report['metric']}",
        xaxis_type="log",
        height=520,
        margin={"l": 60, "r": 20, "t": 30, "b": 60},
        legend={"orientation": "h", "y": -0.2},
    )
    return figure.to_html(full_html=False, include_plotlyjs=True)


def _plain(value: float, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits in plain notation: 12350, 0.0032, never
    1.235e+04 or 3.2e-03 (``:g`` switches to exponents outside 1e-4..1e4)."""
    if value == 0 or value != value or value in (float("inf"), float("-inf")):
        return f"{value:g}"
    exact = Decimal(repr(float(value)))
    rounded = exact.quantize(Decimal(1).scaleb(exact.adjusted() - digits + 1))
    text = format(rounded, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return _plain(value)
    return html.escape(str(value))


def _money(value: Any) -> str:
    """A decimal string as money for people: two decimals, or 4 significant digits below
    a cent, in plain notation (never 3e-06), with thousands separators."""
    if value is None:
        return "—"
    amount = Decimal(str(value))
    if amount == 0:
        return "0.00"
    places = 2 if abs(amount) >= Decimal("0.01") else 3 - amount.adjusted()
    return f"{amount:,.{places}f}"


def _per_predictions(value_per_1m: Any) -> str:
    """A cost per 1M predictions in the unit that reads as cents or more (``$0.11 per 1B``)."""
    if value_per_1m is None:
        return "—"
    from halfcost.formats import per_predictions_text

    return per_predictions_text(value_per_1m, "1M")


_MONEY_KEYS = {"cost_per_1m_predictions_usd", "train_cost_usd"}


_CARD_ROWS = (
    ("cv_score", "CV score"),
    ("holdout_score", "held-out score"),
    ("latency_ms_per_1k", "latency, ms per 1k rows"),
    ("single_row_latency_ms", "single-row latency, ms"),
    ("size_bytes", "size, bytes"),
    ("train_seconds", "training time, s"),
    ("cost_per_1m_predictions_usd", "cost per 1M predictions, USD"),
    ("train_cost_usd", "cost of one training run, USD"),
)


def _card(title: str, entry: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{label}</th><td>"
        f"{_money(entry.get(key)) if key in _MONEY_KEYS else _fmt(entry.get(key))}</td></tr>"
        for key, label in _CARD_ROWS
        if key in entry
    )
    params = ", ".join(f"{k}={_fmt(v)}" for k, v in entry.get("params", {}).items())
    return (
        f"<div class='card'><h2>{html.escape(title)}: {html.escape(entry['family'])}</h2>"
        f"<p class='params'>{params or 'default settings'}; "
        f"{entry.get('n_features', '?')} feature column(s)</p><table>{rows}</table></div>"
    )


def _importances(report: dict[str, Any]) -> str:
    shares = report.get("feature_importances", {})
    ranked = sorted(((k, v) for k, v in shares.items() if v > 0), key=lambda kv: -kv[1])[:15]
    if not ranked:
        return ""
    unused = sum(1 for v in shares.values() if v <= 0)
    rows = "".join(
        f"<tr><td>{html.escape(str(name))}</td><td><div class='bar' "
        f"style='width:{max(1, round(share * 300))}px'></div></td><td>{share:.1%}</td></tr>"
        for name, share in ranked
    )
    return (
        "<h2>What the chosen model looks at</h2><p>Permutation importance of each raw "
        f"column (share of the total).</p><table class='imp'>{rows}</table>"
        + (f"<p>{unused} other column(s) do not matter to it.</p>" if unused else "")
    )


def _holdout_warning(report: dict[str, Any]) -> str:
    """A visible warning when the chosen model misses the target on the held-out rows."""
    if report.get("holdout_met", True):
        return ""
    chosen = report["chosen"]
    return (
        "<div class='warn' role='alert'><b>Warning: below the target on held-out data.</b> "
        f"The chosen model scores {report['metric']} = {chosen['holdout_score']:.4f} on the "
        f"{report.get('rows', {}).get('holdout', '?')} held-out rows, below the target "
        f"{report['min_score']:g} (its cross-validated score is {chosen['cv_score']:.4f}). "
        "Expect it to miss the target on new data; give more rows or a lower target.</div>"
    )


def render_html(report: dict[str, Any]) -> str:
    """The standalone HTML page for a search report."""
    chosen, baseline, savings = report["chosen"], report["baseline"], report["savings"]
    verdict = (
        f"meets the target ({report['metric']} ≥ {report['min_score']:g})"
        if report["met"]
        else f"no model met the target ({report['metric']} ≥ {report['min_score']:g}); "
        f"best CV score reached: {_plain(report.get('best_cv_score') or 0.0)}"
    )
    money = ""
    if report.get("price_per_hour") is not None:
        money = (
            f"<p>At {_money(report['price_per_hour'])} USD per core-hour: "
            f"{_per_predictions(chosen.get('cost_per_1m_predictions_usd'))} predictions vs "
            f"{_per_predictions(baseline.get('cost_per_1m_predictions_usd'))} for the "
            f"baseline (saves {_per_predictions(savings.get('cost_per_1m_saved_usd'))}). Formula: "
            "latency_ms_per_1k × 1000 / 3,600,000 core-hours × price; a training run: "
            "train_seconds / 3600 × price.</p>"
        )
    dropped = "".join(
        f"<li>{html.escape(str(c))}: {html.escape(r)}</li>"
        for c, r in report.get("dropped_columns", {}).items()
    )
    data = report.get("data") or {}
    budget = report.get("budget_s")
    limits = [f"a {budget:g} s budget"] if budget is not None else []
    if report.get("n_trials_limit") is not None:
        limits.append(f"a limit of {report['n_trials_limit']} trials")
    source = data.get("path") or "a data frame (no file)"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>halfcost search report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }}
.cards {{ display: flex; gap: 1.5rem; flex-wrap: wrap; }}
.card {{ border: 1px solid #ddd; border-radius: 8px; padding: 1rem 1.5rem; flex: 1;
         min-width: 320px; }}
.card th {{ text-align: left; font-weight: normal; color: #555; padding-right: 1rem; }}
.params {{ color: #555; font-size: 0.9rem; }}
.big {{ font-size: 1.4rem; }}
.bar {{ background: #1f77b4; height: 0.8rem; }}
.imp td {{ padding: 0.1rem 0.6rem; }}
.warn {{ background: #fff3cd; border: 2px solid #d9822b; border-radius: 8px;
         padding: 0.8rem 1.2rem; font-size: 1.1rem; }}
</style></head><body>
<h1>Cheapest model for {html.escape(str(report.get("target")))}</h1>
{_holdout_warning(report)}
<p class="big">{html.escape(chosen["family"])} {verdict}, at
<b>{_plain(savings["latency_ratio"], 2)}×</b> the inference latency and
<b>{_plain(savings["size_ratio"], 2)}×</b> the size of LightGBM with default settings.</p>
{money}
{_plot(report)}
<div class="cards">{_card("Chosen", chosen)}{_card("Baseline", baseline)}</div>
{_importances(report)}
<h2>The run</h2>
<p>{report["n_trials"]} trials ({report.get("n_trials_this_run", "?")} in this run) in
{report["search_seconds"]:.0f} s ({" and ".join(limits) or "no limit"}); baseline
{report.get("baseline_seconds", 0):.0f} s, re-measuring finalists
{report.get("finalize_seconds", 0):.0f} s, final refit on all rows
{report.get("refit_seconds", 0):.1f} s. {report.get("cv_folds")}-fold cross-validation on
{report.get("rows", {}).get("dev", "?")} rows; {report.get("rows", {}).get("holdout", "?")} rows
held out. Data: {html.escape(str(source))} ({data.get("rows", "?")} rows, sha256
{html.escape(str(data.get("sha256", "?"))[:12])}…).</p>
<p>Latency is the median time to predict a batch of up to 10,000 rows on one thread,
per 1,000 rows; finalists and the baseline were re-measured one after another, alone.</p>
{f"<h3>Columns not used</h3><ul>{dropped}</ul>" if dropped else ""}
</body></html>
"""
