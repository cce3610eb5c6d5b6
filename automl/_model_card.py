"""A saved model's cost card: what it scores and what it costs to serve, in one dict.

The figures come from the search report beside the model folder (``DIR/report.json``
for ``DIR/model``) when it is there, else from the model's own ``meta.json``. The
endpoint's ``/metadata``, the MLflow export and the MLflow run all show the same card.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# Keys of a report's ``chosen`` entry (and of meta.json) that describe score and cost;
# always present in the card (None where unknown).
COST_CARD_KEYS = (
    "family",
    "cv_score",
    "holdout_score",
    "latency_ms_per_1k",
    "single_row_latency_ms",
    "single_row_p99_ms",
    "size_bytes",
    "cost_per_1m_predictions_usd",
    "train_cost_usd",
    "objective",
    "runtime",
)


def read_report(model_dir: str | Path) -> dict[str, Any]:
    """The search report written beside ``model_dir`` (empty when there is none)."""
    path = Path(model_dir).parent / "report.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return report if isinstance(report, dict) else {}


def cost_card(model_dir: str | Path, metadata: dict[str, Any]) -> dict[str, Any]:
    """Score and cost figures of the model in ``model_dir`` (None where unknown).

    Args:
        model_dir: the ``DIR/model`` folder.
        metadata: the loaded model's metadata (``HalfcostModel.metadata``).
    """
    report = read_report(model_dir)
    chosen = report.get("chosen") or {}
    card = {key: metadata.get(key) for key in COST_CARD_KEYS}
    # every figure the report has for the chosen model (new ones, e.g. per runtime, too)
    card.update({key: value for key, value in chosen.items() if key not in ("params", "trial")})
    card["metric"] = metadata.get("metric") or report.get("metric")
    card["min_score"] = metadata.get("min_score", report.get("min_score"))
    card["price_per_hour"] = report.get("price_per_hour")
    baseline = report.get("baseline") or {}
    card["baseline_latency_ms_per_1k"] = baseline.get("latency_ms_per_1k")
    return card
