"""The rows of one search: a stratified hold-out part, K folds on the rest, a timing batch.

The hold-out part is cut first and never seen by the study; the folds (and, on small
data, a second independently shuffled set of folds) are cut from the dev part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from halfcost.automl._cost import prediction_batch
from halfcost.automl._metrics import CLASSIFICATION
from halfcost.errors import BadInputError

LARGE_DATA_ROWS = 20_000
# Up to this many dev rows, finalists are cross-validated again on a second, independently
# shuffled split: on small data the trial that wins on one split is often lucky on it
# (many column subsets and settings tried against few rows), and a fresh split is an
# estimate free of that selection. Above it, folds are large enough that the luck is small
# and the refits would cost real time.
RECHECK_MAX_ROWS = 5_000

Folds = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class SearchSplit:
    """The data of one search.

    Attributes:
        x_dev: raw feature columns of the dev part (cross-validation, finalists' refit).
        y_dev: encoded target of the dev part.
        x_hold: the held-out rows, scored once per finalist.
        y_hold: their encoded target.
        folds: (train, valid) index pairs into the dev part.
        batch: a fixed batch of dev rows to time predictions on.
        recheck_folds: a second, independently shuffled set of folds (small data only).
    """

    x_dev: pd.DataFrame
    y_dev: np.ndarray
    x_hold: pd.DataFrame
    y_hold: np.ndarray
    folds: Folds
    batch: pd.DataFrame
    recheck_folds: Folds | None = None


def check_classes(y: np.ndarray, classes: list) -> None:
    """Refuse classes with a single row: a stratified hold-out needs two of each.

    Raises:
        BadInputError: naming the classes with one row.
    """
    counts = np.bincount(y, minlength=len(classes))
    rare = [str(classes[i]) for i in np.flatnonzero(counts < 2)]
    if rare:
        raise BadInputError(
            f"class(es) {', '.join(rare)} have a single row; a stratified hold-out needs "
            "at least two rows per class: add rows or drop those rows."
        )


def split_rows(
    x: pd.DataFrame, y: np.ndarray, *, task: str, holdout: float, cv: int | None, seed: int
) -> SearchSplit:
    """Cut the hold-out part, then the folds of the dev part (stratified for classes).

    Args:
        x: raw feature columns, one row per labelled row.
        y: encoded target (class indices for classification).
        task: classification or regression.
        holdout: share of rows held out.
        cv: folds; None: 5, or 3 above 20,000 dev rows. Fewer when a class has fewer
            dev rows than folds.
        seed: seeds the hold-out cut, the folds and the timing batch.
    """
    from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

    stratify = y if task == CLASSIFICATION else None
    idx = np.arange(len(y))
    n_hold = max(round(len(y) * float(holdout)), 1)
    if task == CLASSIFICATION:
        n_hold = max(n_hold, int(y.max()) + 1)
    dev_idx, hold_idx = train_test_split(
        idx, test_size=n_hold, stratify=stratify, random_state=seed
    )
    n_folds = cv or (3 if len(dev_idx) > LARGE_DATA_ROWS else 5)
    y_dev = y[dev_idx]
    if task == CLASSIFICATION:
        smallest = int(np.bincount(y_dev).min())
        if smallest < n_folds:
            n_folds = max(2, smallest)
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    else:
        splitter = KFold(n_splits=n_folds, shuffle=True, random_state=seed)
    x_dev = x.iloc[dev_idx].reset_index(drop=True)
    labels = y_dev if stratify is not None else None
    folds = list(splitter.split(np.zeros(len(y_dev)), labels))
    recheck_folds = None
    if len(y_dev) <= RECHECK_MAX_ROWS:
        splitter.random_state = seed + 1
        recheck_folds = list(splitter.split(np.zeros(len(y_dev)), labels))
    return SearchSplit(
        x_dev=x_dev,
        y_dev=y_dev,
        x_hold=x.iloc[hold_idx].reset_index(drop=True),
        y_hold=y[hold_idx],
        folds=folds,
        batch=prediction_batch(x_dev, seed=seed),
        recheck_folds=recheck_folds,
    )
