"""Choosing among trials: which become finalists, and which finalist wins.

Pure functions on plain records, testable without fitting anything: the search turns
the study's trials into :class:`TrialRecord` s, picks finalists with
:func:`pick_finalists`, refits and re-measures them (elsewhere), and :func:`choose` picks
the winner among the resulting :class:`Finalist` s.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from optuna.trial import FrozenTrial, TrialState

from halfcost.automl._cost import OBJECTIVES, CostMeasurement, CostObjective
from halfcost.automl._trial_figures import (
    CV_SCORE,
    CV_SCORE_PARTIAL,
    LATENCY,
    OVERRIDES,
    ROUGH_LATENCY,
    trial_figures,
)

BATCH = OBJECTIVES["batch"]

# A near-tie on the objective's figure (within 5%) goes to the model doing less work.
LATENCY_TIE = 1.05
# Finalists more than this share of the target's scale below it on the hold-out part are
# passed over when another finalist meets the target.
HOLDOUT_TOLERANCE = 0.01
# A family whose cheapest feasible trial costs at most this many times the cheapest
# trial's figure gets a finalist place: trial figures are taken beside other work, and
# concurrent workers make them noisier still (measured: tens of percent).
FAMILY_NEAR = 2.0

T = TypeVar("T")


@dataclass(frozen=True)
class TrialRecord:
    """One finished trial, as finalist selection sees it.

    Attributes:
        trial: the trial number.
        params: the parameters that rebuild its model (stage overrides applied).
        cv_score: its cross-validated score (partial when every trial was pruned).
        latency_ms_per_1k: measured latency, else the rough one from validation.
        measured: whether the latency was measured (only trials meeting the target).
        cost: the figure the search's objective minimizes (batch: the latency).
    """

    trial: int
    params: dict[str, Any]
    cv_score: float
    latency_ms_per_1k: float
    measured: bool
    cost: float | None = None

    @property
    def objective_cost(self) -> float:
        """The objective's figure (the batch latency when no other was recorded)."""
        return self.latency_ms_per_1k if self.cost is None else self.cost


@dataclass(frozen=True)
class Finalist:
    """A candidate refit on the dev part and re-measured.

    Attributes:
        params: the trial parameters (``family``, ``n_features``, the family's knobs).
        trial: the trial number (None for the baseline).
        cv_score: the trial's cross-validated score.
        holdout_score: score of the refit model on the held-out part.
        cost: the re-measured cost.
        recheck_score: mean score on a second CV split (small data), else None.
        runtime: where ``cost`` was measured (``python`` or ``onnx``).
        runtime_note: why a finalist meant for ONNX was measured in Python, else None.
        python_cost: the Python figures of a finalist measured in ONNX Runtime.
    """

    params: dict[str, Any]
    trial: int | None
    cv_score: float
    holdout_score: float
    cost: CostMeasurement
    recheck_score: float | None = None
    runtime: str = "python"
    runtime_note: str | None = None
    python_cost: CostMeasurement | None = None

    def met(self, min_score: float) -> bool:
        """Whether the target is met (in cross-validation, as the search defines it)."""
        return self.cv_score >= min_score


def pareto_front(
    items: Sequence[T], latency: Callable[[T], float], score: Callable[[T], float]
) -> list[T]:
    """The items no other item beats on both latency (lower) and score (higher).

    Sorted by latency, cheapest first.
    """
    front = []
    for p in items:
        dominated = any(
            latency(q) <= latency(p)
            and score(q) >= score(p)
            and (latency(q) < latency(p) or score(q) > score(p))
            for q in items
        )
        if not dominated:
            front.append(p)
    return sorted(front, key=latency)


def trial_records(
    trials: Sequence[FrozenTrial], families: Collection[str], objective: CostObjective = BATCH
) -> list[TrialRecord]:
    """Completed trials of the given families as records.

    When every trial was stopped early, the pruned trials' partial scores stand in (with
    no latency), so a report still names the best score reached and the model reaching it.
    """
    figured = [(t, trial_figures(t)) for t in trials if t.params.get("family") in families]
    records = [
        TrialRecord(
            trial=t.number,
            params={**t.params, **f.get(OVERRIDES, {})},
            cv_score=float(f[CV_SCORE]),
            latency_ms_per_1k=float(f.get(LATENCY, f[ROUGH_LATENCY])),
            measured=LATENCY in f,
            cost=float(f.get(objective.key, math.inf)) if LATENCY in f else None,
        )
        for t, f in figured
        if t.state == TrialState.COMPLETE and CV_SCORE in f
    ]
    if records:
        return records
    return [
        TrialRecord(
            trial=t.number,
            params=dict(t.params),
            cv_score=float(f[CV_SCORE_PARTIAL]),
            latency_ms_per_1k=0.0,
            measured=False,
        )
        for t, f in figured
        if t.state == TrialState.PRUNED and CV_SCORE_PARTIAL in f
    ]


def pick_finalists(
    records: Sequence[TrialRecord],
    min_score: float,
    n_finalists: int,
    every_family: bool = False,
) -> list[TrialRecord]:
    """The trials worth refitting and re-measuring: ``n_finalists`` of them, or more.

    More: with ``every_family``, one per family meeting the target beyond
    ``n_finalists``; when no trial met the target, up to three best-scoring ones too.

    The cheapest measured trial meeting the target, then the cheapest of every other
    family whose best comes within ``FAMILY_NEAR`` times that cost, then the next cheapest
    (all but two places), then the cost/score Pareto front and the next cheapest feasible
    ones; when none met the target, the three best-scoring trials as well.

    Trials are timed while other work runs (other workers, the sampler), so a family
    near the cheapest may be ranked behind it by noise alone: its best gets a place, and
    the finalists' serial re-measurement decides. Same-family trials would mostly
    re-measure one model shape several times.

    Args:
        records: the study's finished trials.
        min_score: the target.
        n_finalists: how many places there are.
        every_family: give every family's cheapest feasible trial a place, beyond
            ``n_finalists`` if need be. For a runtime the trials were not measured in
            (ONNX Runtime): Python's figures rank the trials of one family in the right
            order, but not families against each other (a linear model pays for more
            Python transformers per call than a tree ensemble, and less in ONNX Runtime).
    """
    feasible = [r for r in records if r.cv_score >= min_score and r.measured]
    cheapest_first = sorted(feasible, key=lambda r: r.objective_cost)
    picked: dict[int, TrialRecord] = {}
    first_places = max(1, n_finalists - 2)
    if cheapest_first:
        ceiling = cheapest_first[0].objective_cost * FAMILY_NEAR
        for r in _family_bests(cheapest_first):
            if every_family or (r.objective_cost <= ceiling and len(picked) < first_places):
                picked.setdefault(r.trial, r)
    for r in cheapest_first:
        if len(picked) >= first_places:
            break
        picked.setdefault(r.trial, r)
    front = pareto_front(records, lambda r: r.objective_cost, lambda r: r.cv_score)
    for r in front + cheapest_first:
        if len(picked) >= n_finalists:
            break
        picked.setdefault(r.trial, r)
    if not feasible:
        for r in sorted(records, key=lambda r: -r.cv_score)[:3]:
            picked.setdefault(r.trial, r)
    return list(picked.values())


def _family_bests(cheapest_first: Sequence[TrialRecord]) -> list[TrialRecord]:
    """The first (cheapest) record of each family, in the order given."""
    seen: dict[str, TrialRecord] = {}
    for r in cheapest_first:
        seen.setdefault(r.params.get("family", ""), r)
    return list(seen.values())


def choose(
    finalists: Sequence[Finalist],
    min_score: float,
    scale: float = 1.0,
    objective: CostObjective = BATCH,
) -> Finalist:
    """The cheapest finalist meeting the target, else the cheapest of the best-scoring.

    Among finalists meeting the target in cross-validation, those that also hold up on
    independent checks are preferred: a held-out score no more than one point (1% of
    ``scale``) below the target, and (small data) a second CV split's score at the
    target. Both guard against a cross-validation won by luck. Costs (the
    ``objective``'s figure) within 5% of the cheapest, or within the objective's
    ``resolution`` (10 µs for a single-row request), count as a tie, which the smaller
    model wins for the batch objective and the one faster in batch for the online and
    size objectives: a small model's single-row latency is mostly the per-request
    overhead every model pays alike, and the batch figure shows which does less work
    per row.

    Args:
        finalists: the re-measured finalists (at least one).
        min_score: the target.
        scale: 1 for unitless metrics; the target's magnitude for error metrics.
        objective: what "cheapest" means (batch latency by default).
    """
    met = [f for f in finalists if f.met(min_score)]
    if met:
        tolerance = HOLDOUT_TOLERANCE * scale
        confirmed = [
            f
            for f in met
            if f.holdout_score >= min_score - tolerance
            and (f.recheck_score is None or f.recheck_score >= min_score)
        ]
        pool = confirmed or met
        cheapest = min(objective.of(f.cost) for f in pool)
        bound = max(cheapest * LATENCY_TIE, cheapest + objective.resolution)
        close = [f for f in pool if objective.of(f.cost) <= bound]
        batch = objective.key == "latency_ms_per_1k"
        tie_key = "size_bytes" if batch else "latency_ms_per_1k"
        return min(close, key=lambda f: (getattr(f.cost, tie_key), objective.of(f.cost)))
    top = max(f.cv_score for f in finalists)
    return min((f for f in finalists if f.cv_score >= top), key=lambda f: objective.of(f.cost))
