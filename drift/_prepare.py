"""The pipeline's prepare stage: the training data and the held-out split, from params.yaml.

The training data is the ``data.source`` table (or, with ``source: demo``, halfcost's
seeded churn table, generated here so that ``dvc repro`` works from a fresh clone with
no DVC remote) plus every labelled batch ``halfcost drift watch`` added under
``data/batches/``. Each part is split on its own, with a seed derived from its name, so
a batch's held-out rows are the same whenever they are computed: ``drift watch`` scores
the champion and the challenger on exactly the rows of a new batch that the challenger
never trained on.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from halfcost.drift._project import DEMO_SOURCE, Project
from halfcost.errors import BadInputError
from halfcost.tables import SUPPORTED_SUFFIXES, read_table, write_table


def split_holdout(
    frame: pd.DataFrame, *, fraction: float, seed: int, key: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``frame`` into (train, holdout) rows, reproducibly for the part named ``key``.

    Args:
        frame: one part of the training data (the source, or one batch).
        fraction: share of rows held out, in (0, 1).
        seed: ``data.split_seed`` from params.yaml.
        key: the part's name (``"source"`` or a batch file name); it seeds the split.
    """
    if not 0 < fraction < 1:
        raise BadInputError(
            f"data.holdout_fraction must be between 0 and 1 (exclusive), but got {fraction}."
        )
    rng = np.random.default_rng([int(seed), zlib.crc32(key.encode("utf-8"))])
    n_holdout = round(len(frame) * fraction)
    held = np.zeros(len(frame), dtype=bool)
    held[rng.choice(len(frame), size=n_holdout, replace=False)] = True
    return frame.loc[~held].reset_index(drop=True), frame.loc[held].reset_index(drop=True)


def batch_files(project: Project) -> list[Path]:
    """The labelled batches in ``data/batches/``, in the order they were added."""
    if not project.batches_dir.is_dir():
        return []
    return sorted(
        p
        for p in project.batches_dir.iterdir()
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith(".")
    )


def load_source(project: Project, data_params: dict[str, Any]) -> pd.DataFrame:
    """Return the base training table named by ``data.source``."""
    source = str(data_params.get("source") or DEMO_SOURCE)
    if source == DEMO_SOURCE:
        from halfcost.demo_data import make_customers

        rows = _whole_number(data_params, "demo_rows", minimum=10)
        return make_customers(rows, seed=_whole_number(data_params, "demo_seed", minimum=0))
    return read_table(project.root / source)


def _whole_number(section: dict[str, Any], key: str, *, minimum: int) -> int:
    value = section.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise BadInputError(
            f"params.yaml data.{key} must be a whole number >= {minimum}, but got {value!r}."
        )
    return value


def prepare(project: Project) -> dict[str, Any]:
    """Write ``data/prepared/train.csv``, ``holdout.csv`` and ``reference.csv``; summarize.

    Raises:
        BadInputError: the source or a batch is unreadable, or a batch's columns differ
            from the source's.
    """
    data_params = project.params()["data"]
    fraction = data_params["holdout_fraction"]
    if isinstance(fraction, bool) or not isinstance(fraction, int | float):
        raise BadInputError(
            f"params.yaml data.holdout_fraction must be a number, but got {fraction!r}."
        )
    seed = _whole_number(data_params, "split_seed", minimum=0)
    source = load_source(project, data_params)
    parts = [("source", source)]
    for path in batch_files(project):
        batch = read_table(path)
        missing = sorted(set(source.columns) - set(batch.columns))
        if missing:
            raise BadInputError(
                f"{path}: missing column(s) {', '.join(missing)} that the training data has; "
                "remove the batch or add the columns."
            )
        parts.append((path.name, batch[list(source.columns)]))
    trains, holdouts = [], []
    for key, frame in parts:
        train, holdout = split_holdout(frame, fraction=fraction, seed=seed, key=key)
        trains.append(train)
        holdouts.append(holdout)
    train = pd.concat(trains, ignore_index=True)
    holdout = pd.concat(holdouts, ignore_index=True)
    write_table(train, project.train_path)
    write_table(holdout, project.holdout_path)
    # The clean stage's default reference: the source's own training rows, never a batch,
    # so that the suite it learns can find what is wrong with a new batch.
    write_table(trains[0], project.reference_path)
    return {
        "train": str(project.train_path),
        "holdout": str(project.holdout_path),
        "reference": str(project.reference_path),
        "train_rows": len(train),
        "holdout_rows": len(holdout),
        "batches": [key for key, _ in parts[1:]],
    }
