"""Asking for labels when drift hits, and retraining on the rows that got them.

When a batch alerts and has no labels, ``drift watch`` picks the ``monitor.label_budget``
rows worth labelling (``monitor.label_strategy``, learning from the project's training
data) and writes them to ``.halfcost/label_requests/<batch>.csv``. The labels that come
back may cover only those rows: they are matched by ``data.id_column``, else by
``halfcost_row``, and only the labelled rows are ever used as training data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from halfcost.errors import BadInputError

logger = logging.getLogger(__name__)

ROW_COLUMN = "halfcost_row"
LABEL_KEYS = ("label_budget", "label_strategy")
REQUESTS_FOLDER = "label_requests"


@dataclass(frozen=True)
class LabelRequestSettings:
    """The ``monitor:`` keys of label requests.

    Attributes:
        budget: rows to ask labels for when a batch alerts unlabelled (0: never ask).
        strategy: margin, entropy, diverse or random.
    """

    budget: int = 0
    strategy: str = "margin"

    def __post_init__(self) -> None:
        from halfcost.automl import STRATEGIES

        if isinstance(self.budget, bool) or not isinstance(self.budget, int) or self.budget < 0:
            raise BadInputError(
                f"monitor.label_budget must be an integer >= 0, but got {self.budget!r}."
            )
        if self.strategy not in STRATEGIES:
            raise BadInputError(
                f"monitor.label_strategy is {self.strategy!r}; choose one of "
                f"{', '.join(STRATEGIES)}."
            )


def split_monitor(monitor: dict[str, Any] | None) -> tuple[dict[str, Any], LabelRequestSettings]:
    """The alert policy's part of ``monitor:`` and the label-request settings."""
    section = dict(monitor or {})
    settings = LabelRequestSettings(
        budget=section.pop("label_budget", 0), strategy=section.pop("label_strategy", "margin")
    )
    return section, settings


def merge_labels(
    batch: pd.DataFrame, labels: pd.DataFrame, *, target: str, id_column: str | None = None
) -> pd.DataFrame:
    """``batch`` with the target from ``labels``, which may label only some rows.

    Partial labels are matched by ``id_column`` when both tables have it, else by
    ``halfcost_row`` (the batch's row number, as a label request writes it); rows
    without a label get a missing target. Labels without either column go through
    :func:`~halfcost.drift._watch.attach_labels` (one label for every row).

    Raises:
        BadInputError: no target column, repeated keys, or keys that are not in the batch.
    """
    from halfcost.drift._watch import attach_labels

    if target not in labels.columns:
        return attach_labels(batch, labels, target=target, id_column=id_column)
    if id_column and id_column in labels.columns and id_column in batch.columns:
        key, batch_keys = id_column, batch[id_column]
    elif ROW_COLUMN in labels.columns:
        key, batch_keys = ROW_COLUMN, pd.Series(np.arange(len(batch)))
    else:
        return attach_labels(batch, labels, target=target, id_column=id_column)
    given = labels.loc[labels[target].notna(), [key, target]]
    if given[key].duplicated().any():
        raise BadInputError(f"the labels repeat some {key} values; give one label per row.")
    unknown = ~given[key].isin(batch_keys)
    if unknown.any():
        raise BadInputError(
            f"{int(unknown.sum())} label(s) name {key} values that are not in the batch "
            f"(e.g. {given.loc[unknown, key].iloc[0]!r}); give labels for the batch's rows."
        )
    if given.empty:
        raise BadInputError(
            f"the labels hold no {target!r} value; fill in the {target!r} column of the "
            "rows you labelled."
        )
    out = batch.drop(columns=[target], errors="ignore").copy()
    mapping = pd.Series(given[target].to_numpy(), index=given[key].to_numpy())
    out[target] = batch_keys.map(mapping).to_numpy()
    logger.info("labels for %d of the batch's %d rows (by %s)", len(given), len(batch), key)
    return out


def labelled_rows(frame: pd.DataFrame, target: str) -> pd.DataFrame | None:
    """The rows of ``frame`` with a label (None when none has one)."""
    if target not in frame.columns:
        return None
    known = frame[target].notna()
    if not known.any():
        return None
    return frame if known.all() else frame.loc[known].reset_index(drop=True)


def request_path(project, batch_path: Path) -> Path:
    """Where the label request of ``batch_path`` is written."""
    return project.state_dir / REQUESTS_FOLDER / f"{Path(batch_path).stem}.csv"


def request_labels(
    project, frame: pd.DataFrame, batch_path: Path, target: str, settings: LabelRequestSettings
) -> dict[str, Any] | None:
    """Pick the batch rows to label and write the request; None when the budget is 0.

    Returns:
        The ``labels_requested`` event's fields (reason and details).
    """
    from halfcost.automl import picks_as_read, select_rows
    from halfcost.tables import read_table, write_table

    if settings.budget == 0:
        return None
    train = read_table(project.train_path)
    features = [c for c in train.columns if c != target and c in frame.columns]
    pool = frame[features]
    n = min(settings.budget, len(pool))
    picks = select_rows(pool, train[[*features, target]], target, n, strategy=settings.strategy)
    out = picks_as_read(batch_path, picks, frame)
    if target not in out.columns:
        out[target] = ""  # for the labeller to fill in; rows left empty stay unlabelled
    path = write_table(out, request_path(project, batch_path))
    return {
        "reason": (
            f"{n} of the batch's {len(frame)} rows picked by {settings.strategy} for labelling: "
            f"fill in {target!r} in {path} and rerun with --labels {path}."
        ),
        "details": {
            "path": str(path),
            "rows": n,
            "strategy": settings.strategy,
            "label_budget": settings.budget,
            "halfcost_row": out[ROW_COLUMN].tolist()[:50],
        },
    }


PURCHASES_FOLDER = "label_purchases"
_WALK_SKIP = {".git", ".dvc", "data", "models", "cache", "tmp", "__pycache__", ".venv"}


def latest_simulation(root: Path) -> tuple[Path, Any] | None:
    """The project's newest ``halfcost label simulate`` report (a labelling plan), if any.

    Found by walking the project (not its data, models or git folders) for ``report.json``
    files of kind ``labeling`` with ``labels_planned``.
    """
    import json
    import os

    from halfcost.records import LabelingReport

    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _WALK_SKIP and d != PURCHASES_FOLDER]
        if "report.json" not in files:
            continue
        path = Path(folder) / "report.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("kind") != "labeling" or data.get("labels_planned") is None:
                continue
            found.append((path, LabelingReport.from_dict(data, where=str(path))))
        except (OSError, ValueError):
            logger.warning("%s: not a readable labelling report; ignored", path)
    if not found:
        return None
    return max(found, key=lambda item: item[1].created_at)


def book_purchase(
    project, batch_path: Path, labelled: pd.DataFrame, target: str
) -> dict[str, Any] | None:
    """Write the labelling report of labels bought for a requested batch, once.

    Labels count as bought when the batch had a label request. The price and the saving
    come from the project's latest simulation: random labelling would have needed
    ``bought / ratio`` labels for the same score. Without a simulation that names a price
    nothing is written (the registry needs a price to book a cost).

    Returns:
        What was booked (path, labels, saving), or None.
    """
    import hashlib
    from datetime import UTC, datetime

    from halfcost import __version__
    from halfcost.jsonio import write_json
    from halfcost.records import LabelingReport

    if not request_path(project, batch_path).exists():
        return None
    simulation = latest_simulation(project.root)
    if simulation is None or simulation[1].cost_per_label_usd is None:
        logger.info("labels bought for %s: no simulation with a price, nothing booked", batch_path)
        return None
    sim_path, plan = simulation
    ratio = plan.extra.get("ratio")
    bought = len(labelled)
    would_need = round(bought / ratio) if ratio else bought
    saved = max(0, would_need - bought)
    keys = pd.util.hash_pandas_object(labelled.astype(str), index=False).to_numpy()
    digest = hashlib.sha256(np.sort(keys).tobytes()).hexdigest()[:12]
    path = (
        project.state_dir / PURCHASES_FOLDER / f"{Path(batch_path).stem}-{digest}" / "report.json"
    )
    if path.exists():  # the same labels again: bought once, booked once
        return None
    record = LabelingReport(
        created_at=datetime.now(UTC),
        halfcost_version=__version__,
        labels_bought=bought,
        labels_saved_vs_random=saved,
        cost_per_label_usd=plan.cost_per_label_usd,
        extra={
            "batch": str(batch_path),
            "target": target,
            "ratio": ratio,
            "best_strategy": plan.extra.get("best_strategy"),
            "saving_from": str(sim_path),
            "saving_rule": "random would need labels_bought / ratio labels for the same score",
        },
    )
    write_json(record.to_dict(), path)
    return {"path": str(path), "labels_bought": bought, "labels_saved_vs_random": saved}
