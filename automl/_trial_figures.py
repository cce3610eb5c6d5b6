"""The figures a search trial records: written once, as one user attribute, read by one function.

A trial's figures (fold scores, cross-validated score, rough and measured costs, the
stage it kept, why it was pruned) are collected in memory while the objective runs and
written when it ends, as the one user attribute ``figures`` (a dict). Each write is a
storage transaction (about 4 ms on PostgreSQL); one attribute per figure made seven of
them per trial. Studies written by earlier versions hold one user attribute per figure:
:func:`trial_figures` reads both layouts, so they still resume and report.

What other processes must see while a trial runs is not a figure and is written early,
apart: the worker running it (``worker``, for the stale-trial check), and, for a pruner
other than the search's own, the per-fold inputs Optuna's ``should_prune`` reads back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import optuna
from optuna.trial import FrozenTrial

SCORE_CONSTRAINT = "score"  # a trial's one constraint: min_score - its score (<= 0: met)
# where Optuna 5's Trial.set_constraint keeps it (a test checks they agree)
_CONSTRAINT_ATTR = f"constraints:{SCORE_CONSTRAINT}"
_OPTUNA_5 = optuna.__version__.split(".")[0] == "5"

FIGURES_ATTR = "figures"  # trial user attribute: {figure name: value}, written once

# the figures (keys of the dict; each was a user attribute of its own before)
FOLD_SCORES = "fold_scores"  # the fold scores that decide (best stage of a staged trial)
CV_SCORE = "cv_score"  # their mean, for a trial that ran all its folds
ROUGH_LATENCY = "rough_ms_per_1k"  # ms per 1k rows from timing validation predictions
LATENCY = "latency_ms_per_1k"  # measured batch latency, for a trial meeting the target
SINGLE_ROW_LATENCY = "single_row_latency_ms"
SIZE_BYTES = "size_bytes"
OVERRIDES = "overrides"  # parameters the trial's model differs in (the stage kept)
PRUNED = "pruned"  # why the trial was stopped
CV_SCORE_PARTIAL = "cv_score_partial"  # a pruned trial's mean of the folds it ran

FIGURE_KEYS = (
    FOLD_SCORES,
    CV_SCORE,
    ROUGH_LATENCY,
    LATENCY,
    SINGLE_ROW_LATENCY,
    SIZE_BYTES,
    OVERRIDES,
    PRUNED,
    CV_SCORE_PARTIAL,
)


def trial_figures(trial: FrozenTrial) -> dict[str, Any]:
    """The figures ``trial`` recorded, in either layout; every reader reads them here.

    Args:
        trial: a trial of a search study, of this version (one ``figures`` attribute) or
            an earlier one (one user attribute per figure).

    Returns:
        Figure name -> value; a figure the trial did not record is absent. Where both
        layouts hold a figure, the ``figures`` attribute (written last) wins.
    """
    attrs = trial.user_attrs
    figures = {key: attrs[key] for key in FIGURE_KEYS if key in attrs}
    figures.update(attrs.get(FIGURES_ATTR) or {})
    return figures


def write_figures(trial: optuna.Trial, figures: Mapping[str, Any]) -> None:
    """Record ``figures`` in ``trial``: one storage write, read back by :func:`trial_figures`.

    Args:
        trial: the running trial.
        figures: figure name (one of :data:`FIGURE_KEYS`) -> JSON-serializable value.
    """
    trial.set_user_attr(FIGURES_ATTR, dict(figures))


def set_score_constraint(trial: optuna.Trial, value: float) -> None:
    """``trial.set_constraint("score", value)``, without reading the trial back first.

    Optuna 5's ``Trial.set_constraint`` reads the whole trial from the storage (six
    queries on an RDB storage, 5-8 ms in a process that has just fitted models) to
    refuse a second value for the same key; a search trial sets its one constraint
    once. Under Optuna 5 this writes the system attribute ``set_constraint`` writes,
    which a test checks against Optuna's own; under any other version it calls
    ``set_constraint``.
    """
    if not _OPTUNA_5:
        trial.set_constraint(SCORE_CONSTRAINT, value)
        return
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"the {SCORE_CONSTRAINT!r} constraint of trial {trial.number} is NaN")
    # the storage's own API, by the trial's id (no public accessor)
    trial.study._storage.set_trial_system_attr(trial._trial_id, _CONSTRAINT_ATTR, value)
