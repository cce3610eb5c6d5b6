"""Measuring what a model costs to serve: latency per 1k rows, single-row latency, size.

Cost is measured, not guessed. Python wrappers add about half a millisecond per call,
more than a small model's own work, so latency is timed on a batch (up to 10k rows,
reported per 1k rows), single-threaded, as the median of repeats. Single-row latency
is reported as well, for online serving.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

BATCH_ROWS = 10_000
_SECONDS_PER_HOUR = 3600


@dataclass(frozen=True)
class CostMeasurement:
    """What one fitted model costs.

    Attributes:
        latency_ms_per_1k: median time to predict a batch, per 1,000 rows, in ms.
        single_row_latency_ms: median (p50) time to predict one row, in ms.
        size_bytes: size of the saved model.
        train_seconds: time the fit took (set by the caller, who timed it).
        single_row_p99_ms: 99th percentile of the single-row times, in ms.
    """

    latency_ms_per_1k: float
    single_row_latency_ms: float
    size_bytes: int
    train_seconds: float = 0.0
    single_row_p99_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The measurement as a plain dict (report keys)."""
        return asdict(self)


def prediction_batch(frame: pd.DataFrame, rows: int = BATCH_ROWS, seed: int = 0) -> pd.DataFrame:
    """A fixed batch of up to ``rows`` rows to time predictions on (repeated if too short)."""
    if len(frame) >= rows:
        return frame.sample(n=rows, random_state=seed).reset_index(drop=True)
    repeats = int(np.ceil(rows / max(len(frame), 1)))
    return pd.concat([frame] * repeats, ignore_index=True).iloc[:rows]


class single_thread:
    """Context manager pinning BLAS/OpenMP pools to one thread while timing."""

    def __enter__(self):
        from threadpoolctl import threadpool_limits

        self._limits = threadpool_limits(limits=1)
        self._env = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = "1"
        return self

    def __exit__(self, *exc):
        self._limits.restore_original_limits()
        if self._env is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = self._env
        return False


def _times_s(call, repeats: int, max_total_s: float) -> list[float]:
    times = []
    started = time.perf_counter()
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - started > max_total_s and len(times) >= 3:
            break
    return times


def _median_time_s(call, repeats: int, max_total_s: float) -> float:
    return statistics.median(_times_s(call, repeats, max_total_s))


def model_size_bytes(model: Any, *, exact: bool = True) -> int:
    """Size of ``model`` in the format it is saved in (skops).

    With ``exact=False`` the pickled size is returned instead: close to it, much
    cheaper to compute, and good enough to rank trials during a search. (Pickle is used
    only to count bytes here; models are never saved or loaded with it.)
    """
    if not exact:
        import pickle

        return len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    import skops.io

    return len(skops.io.dumps(model))


def measure_cost(
    model: Any,
    batch: pd.DataFrame,
    *,
    repeats: int = 5,
    train_seconds: float = 0.0,
    max_total_s: float = 1.0,
    size_bytes: int | None = None,
    exact_size: bool = True,
    served: Any = None,
) -> CostMeasurement:
    """Measure a fitted model's serving cost on ``batch``, single-threaded.

    Args:
        model: a fitted model with ``predict`` taking ``batch``.
        batch: the rows to predict (see :func:`prediction_batch`).
        repeats: timed repeats (median taken); fewer when ``max_total_s`` runs out.
        train_seconds: the fit time to record with the measurement.
        max_total_s: rough time cap for the batch timing.
        size_bytes: the serialized size if already known (else measured).
        exact_size: measure the size in the saved format (else a cheap estimate).
        served: what serves a single-row request end to end (the ``HalfcostModel``
            ``load_model`` returns: column checks, encoder, model), timed on the same
            one-row DataFrame for every model; None: ``model`` itself.
    """
    one_row = batch.iloc[:1]
    served = model if served is None else served
    with single_thread():
        model.predict(batch.iloc[:100])  # warm-up: lazy init, caches
        served.predict(one_row)
        batch_s = _median_time_s(lambda: model.predict(batch), repeats, max_total_s)
        row_s = _times_s(lambda: served.predict(one_row), repeats * 40, max_total_s / 2)
    return CostMeasurement(
        latency_ms_per_1k=batch_s * 1000 * 1000 / len(batch),
        single_row_latency_ms=statistics.median(row_s) * 1000,
        single_row_p99_ms=float(np.percentile(row_s, 99)) * 1000,
        size_bytes=int(
            size_bytes if size_bytes is not None else model_size_bytes(model, exact=exact_size)
        ),
        train_seconds=float(train_seconds),
    )


@dataclass(frozen=True)
class CostObjective:
    """What "cheap" means for a search: one figure of a :class:`CostMeasurement`.

    Attributes:
        name: the objective's name (``batch``, ``online``, ``size``).
        key: the :class:`CostMeasurement` field (and report key) it minimizes.
        unit: the figure's unit, for messages.
        short_unit: the unit as a progress bar shows it.
        resolution: differences smaller than this (in ``unit``) are no difference to
            the user, so they count as a near-tie (0: only the relative tie applies).
    """

    name: str
    key: str
    unit: str
    short_unit: str
    resolution: float = 0.0

    def of(self, cost: CostMeasurement) -> float:
        """The figure of ``cost`` this objective minimizes."""
        return float(getattr(cost, self.key))


#: the cost objectives a search can minimize
OBJECTIVES = {
    "batch": CostObjective("batch", "latency_ms_per_1k", "ms per 1k rows", "ms/1k"),
    # 10 µs is about 1% of the fastest request a client of `halfcost serve` sees (its HTTP
    # floor on loopback, GET /health, has a p50 of 0.9 ms: bench/results/serve.md); ONNX
    # Runtime's single-row figures of small models differ by a few µs, mostly noise
    "online": CostObjective(
        "online", "single_row_latency_ms", "ms per single-row request", "ms/row", 0.01
    ),
    "size": CostObjective("size", "size_bytes", "bytes", "bytes"),
}
DEFAULT_OBJECTIVE = "batch"
#: where a model's serving cost is measured and the chosen model is served from
RUNTIMES = ("python", "onnx")


def python_ranks_families(runtime: str) -> bool:
    """Whether trial figures, measured in Python, rank families against each other there.

    They do for the Python runtime. In another (ONNX Runtime) they rank one family's
    trials in the right order, not families against each other: a family Python ranks
    2x behind may be the cheapest there. Finalist places (every family gets one) and
    the cost bound (each family by its own cheapest trial) follow this.
    """
    return runtime == "python"


def trial_objective(objective: str, runtime: str) -> str:
    """The objective a search's trials are scored on (in Python) for ``objective`` there.

    Trials are measured in Python. A Python pipeline's single-row figure is mostly its
    per-call overhead (pandas, scikit-learn's checks in every transformer), which ONNX
    Runtime does not pay; there a request costs the same small fixed overhead for every
    model plus the model's work per row, and that work is what the batch figure
    measures. So for ``online`` in ONNX Runtime, trials minimize the batch figure and
    the finalists are chosen on single-row requests measured in ONNX Runtime.
    """
    if objective == "online" and runtime != "python":
        return "batch"
    return objective


def get_objective(name: str) -> CostObjective:
    """The objective called ``name``.

    Raises:
        BadInputError: an unknown name (the message lists the choices).
    """
    from halfcost.errors import BadInputError

    if name not in OBJECTIVES:
        raise BadInputError(
            f"unknown {{param}} {name!r}; choose one of {', '.join(OBJECTIVES)}.",
            param="objective",
        )
    return OBJECTIVES[name]


def as_money(value: Decimal | float | int | str) -> Decimal:
    """``value`` as a Decimal: a float by its shortest repr (0.1 stays 0.1), never binary."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def cost_per_1m_predictions_usd(
    latency_ms_per_1k: float, price_per_hour: Decimal | float | str
) -> Decimal:
    """Serving cost of one million predictions at ``price_per_hour`` per core-hour.

    1M predictions take ``latency_ms_per_1k * 1000`` ms of one core, that is
    ``latency_ms_per_1k * 1000 / 3.6e6`` core-hours, billed at ``price_per_hour``.
    """
    core_hours = as_money(float(latency_ms_per_1k)) * 1000 / Decimal(3_600_000)
    return core_hours * as_money(price_per_hour)


def train_cost_usd(train_seconds: float, price_per_hour: Decimal | float | str) -> Decimal:
    """Cost of one training run: ``train_seconds / 3600`` core-hours at ``price_per_hour``."""
    return as_money(float(train_seconds)) / _SECONDS_PER_HOUR * as_money(price_per_hour)
