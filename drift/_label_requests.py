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
