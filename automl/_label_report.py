"""A labelling simulation's results: report.json (through the records module), report.html
and curves.png.
"""

from __future__ import annotations

import base64
import html
import io
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from halfcost.records import DataLineage, LabelingReport, money_to_json

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
CURVES_PNG = "curves.png"


def labeling_report(sim, data: DataLineage | None = None) -> LabelingReport:
    """The typed record of a fitted :class:`LabelingSimulation` (a plan: nothing bought)."""
    from halfcost import __version__

    best = sim.labels_to_target_[sim.best_strategy_]
    saved = sim.labels_saved_vs_random_
    extra: dict[str, Any] = {
        "labels_to_target": dict(sim.labels_to_target_),
        "best_strategy": sim.best_strategy_,
        "ratio": None if sim.ratio_ is None else round(float(sim.ratio_), 4),
        "never_reached": list(sim.never_reached_),
        "metric": sim.metric_.name,
        "min_score": float(sim.min_score),
        "full_pool_score": round(float(sim.full_pool_score_), 6),
        "learner": sim._learner.name,
        "pool_rows": sim.pool_rows_,
        "holdout_rows": sim.holdout_rows_,
        "start": sim.start_,
        "step": sim.step_,
        "seeds": sim.seeds,
        "seed": sim.seed,
        "round_s": {k: round(v, 4) for k, v in sim.round_s_.items()},
        "money_saved_usd": money_to_json(sim.money_saved_usd_),
        "curves": sim.curves_,
    }
    return LabelingReport(
        created_at=datetime.now(UTC),
        halfcost_version=__version__,
        data=data,
        labels_bought=0,
        labels_saved_vs_random=saved or 0,
        cost_per_label_usd=sim.price_,
        labels_planned=best,
        extra=extra,
    )


def plot_curves(report: dict[str, Any]) -> bytes:
    """The learning curves (median over seeds, per strategy) as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=100)
    try:
        for name, curve in report["curves"].items():
            style = "--" if name == "random" else "-"
            (line,) = axes.plot(
                curve["labels"][: len(curve["median"])],
                curve["median"],
                style,
                linewidth=1.8,
                label=f"{name} (median of seeds)",
            )
            for scores in curve["seeds"]:  # each seed until it reached the target
                axes.plot(
                    curve["labels"][: len(scores)],
                    scores,
                    style,
                    linewidth=0.7,
                    alpha=0.35,
                    color=line.get_color(),
                )
        axes.axhline(report["min_score"], color="grey", linewidth=1, linestyle=":")
        axes.set_xlabel("labelled rows")
        axes.set_ylabel(f"held-out {report['metric']}")
        axes.set_title(f"labels to reach {report['metric']} ≥ {report['min_score']:g}")
        axes.legend()
        axes.grid(alpha=0.3)
        buffer = io.BytesIO()
        figure.tight_layout()
        figure.savefig(buffer, format="png")
    finally:
        plt.close(figure)
    return buffer.getvalue()


def _verdict(report: dict[str, Any]) -> str:
    best = report["best_strategy"]
    needed = report["labels_to_target"]
    random_n = needed.get("random")
    if needed.get(best) is None:
        return (
            f"No strategy but random reached {report['metric']} ≥ {report['min_score']:g} "
            "within the data."
        )
    line = f"{best} needs {needed[best]} labels"
    if random_n is None:
        return line + "; random never reached the target within the data."
    line += f", random {random_n}: {report['ratio']:.2f}x the labels"
    if needed[best] >= random_n:
        return line + "; choosing rows saves nothing on this data: label at random."
    if report.get("money_saved_usd") is not None:
        line += f", {report['money_saved_usd']} USD saved"
    return line + "."


def render_html(report: dict[str, Any], png: bytes) -> str:
    """A self-contained page: the verdict, the labels per strategy and the curves."""
    rows = []
    for name, count in report["labels_to_target"].items():
        shown = "never (within the data)" if count is None else str(count)
        rows.append(
            f"<tr><td>{html.escape(name)}</td><td>{html.escape(shown)}</td>"
            f"<td>{report['round_s'].get(name, 0):.3f}</td></tr>"
        )
    image = base64.b64encode(png).decode("ascii")
    notes = ""
    if report["never_reached"]:
        notes = (
            "<p class='warn'>Never reached the target within the data: "
            f"{html.escape(', '.join(report['never_reached']))}.</p>"
        )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>halfcost label simulate</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}
td,th{{padding:.2em .8em;text-align:left}} .warn{{color:#a00}}</style></head><body>
<h1>Labels to reach {html.escape(report["metric"])} ≥ {report["min_score"]:g}</h1>
<p>{html.escape(_verdict(report))}</p>{notes}
<table><tr><th>strategy</th><th>labels to target (median of {report["seeds"]} seeds)</th>
<th>seconds per round</th></tr>{"".join(rows)}</table>
<p>Pool {report["pool_rows"]} rows, held out {report["holdout_rows"]}; start
{report["start"]} random rows, {report["step"]} labels per round; learner
{html.escape(report["learner"])}; every pool row labelled scores
{report["full_pool_score"]:.4f}.</p>
<img alt="learning curves" src="data:image/png;base64,{image}">
</body></html>
"""


def write_labeling_outputs(record: LabelingReport, out_dir: str | os.PathLike[str]) -> Path:
    """Write report.json, report.html and curves.png into ``out_dir``; return the folder.

    Each file is written to a temporary name first and renamed, so a failed run never
    leaves a half-written report.
    """
    from halfcost.jsonio import write_json

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    report = record.to_dict()
    png = plot_curves(report)
    for name, payload in ((CURVES_PNG, png), (REPORT_HTML, render_html(report, png).encode())):
        tmp = folder / f".{name}.tmp"
        tmp.write_bytes(payload)
        os.replace(tmp, folder / name)
    write_json(report, folder / REPORT_JSON)
    return folder
