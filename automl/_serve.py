"""A REST endpoint for a saved model: FastAPI app with predictions, metadata and metrics.

``create_app(model_dir)`` loads the model once (refusing a file with untrusted types,
as :func:`load_model` does) and returns an ASGI app:

- ``POST /predict`` with ``{"rows": [{column: value, ...}, ...]}`` answers
  ``{"predictions": [...]}`` (plus ``classes`` and ``probabilities`` for a classifier);
  a row missing a feature, or a value of the wrong type, gets HTTP 422 naming the column;
- ``GET /health``, ``GET /metadata`` (features, their kinds, the cost card);
- ``GET /metrics``: Prometheus text (requests by endpoint and status, latency histogram,
  errors), from a registry of the app's own so two apps in one process never mix counts.
"""

# no `from __future__ import annotations`: FastAPI reads the endpoints' annotations at
# run time, and the request model is local to create_app.
import logging
import os
import time
from typing import Any

import numpy as np

from halfcost.errors import BadInputError

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# Latency buckets (seconds) for a model whose own work is microseconds to milliseconds.
LATENCY_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_CELL_TYPES = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    """A JSON-ready Python value for a NumPy scalar (or the value itself)."""
    return value.item() if isinstance(value, np.generic) else value


def rows_frame(rows: list[dict[str, Any]], features: list[str]):
    """The request's rows as a DataFrame of the model's feature columns.

    Raises:
        BadInputError: a row misses a feature, or a cell is not a JSON scalar; the
            message names the column and the first row concerned.
    """
    import pandas as pd

    for index, row in enumerate(rows):
        missing = [name for name in features if name not in row]
        if missing:
            raise BadInputError(
                f"row {index} is missing feature(s) {', '.join(map(repr, missing))}; "
                "send every feature column (null for a missing value)."
            )
        for name in features:
            if not isinstance(row[name], _CELL_TYPES):
                raise BadInputError(
                    f"row {index}: feature {name!r} is a {type(row[name]).__name__}; "
                    "send a number, a string or null."
                )
    return pd.DataFrame.from_records(rows, columns=features)


class _Metrics:
    """The app's Prometheus metrics, in a registry of its own."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter(
            "halfcost_requests",
            "HTTP requests by endpoint, method and status code.",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "halfcost_request_latency_seconds",
            "Time to answer a request, by endpoint.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.errors = Counter(
            "halfcost_request_errors",
            "Requests answered with a 4xx or 5xx status, by endpoint and status code.",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.rows = Counter(
            "halfcost_predicted_rows", "Rows predicted by /predict.", registry=self.registry
        )

    def observe(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, method, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)
        if status >= 400:
            self.errors.labels(endpoint, str(status)).inc()


def create_app(model_dir: str | os.PathLike[str]) -> Any:
    """A FastAPI app serving the model saved in ``model_dir`` (the ``DIR/model`` folder).

    Raises:
        BadInputError: not a model folder, unreadable, or holding an untrusted type (the
            app is never built around a file :func:`load_model` refuses).
    """
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
    from pydantic import BaseModel, Field

    from halfcost import __version__
    from halfcost.automl._model_card import cost_card
    from halfcost.automl._model_io import load_model

    model = load_model(model_dir)
    features = model.feature_columns
    metrics = _Metrics()
    metadata = {
        "target": model.metadata.get("target"),
        "task": model.metadata.get("task"),
        "features": features,
        "feature_types": {name: model.column_kinds.get(name) for name in features},
        "classes": [_plain(c) for c in model.classes_],
        "cost_card": cost_card(model_dir, model.metadata),
        "created_at": model.metadata.get("created_at"),
        "halfcost_version": __version__,
    }

    class PredictRequest(BaseModel):
        rows: list[dict[str, Any]] = Field(min_length=1, description="one object per row")

    app = FastAPI(title="halfcost model", version=__version__)

    @app.middleware("http")
    async def measure(request: Request, call_next):
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            endpoint = getattr(route, "path", "other")
            metrics.observe(endpoint, request.method, status, time.perf_counter() - start)

    @app.exception_handler(BadInputError)
    async def bad_input(request: Request, exc: BadInputError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    @app.exception_handler(RequestValidationError)
    async def bad_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = f"{where}: {first.get('msg', 'invalid request')}"
        return JSONResponse(
            status_code=422,
            content={
                "detail": f"{message}; send JSON (Content-Type: application/json) "
                '{"rows": [{column: value, ...}]}.'
            },
        )

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "model": metadata["cost_card"].get("family")}

    @app.get("/metadata")
    def get_metadata() -> dict[str, Any]:
        return metadata

    @app.post("/predict")
    def predict(body: PredictRequest) -> dict[str, Any]:
        frame = rows_frame(body.rows, features)
        answer: dict[str, Any] = {
            "predictions": [_plain(v) for v in model.predict(frame)],
        }
        if model.is_classifier:
            answer["classes"] = metadata["classes"]
            answer["probabilities"] = model.predict_proba(frame).tolist()
        metrics.rows.inc(len(frame))
        return answer

    @app.get("/metrics")
    def get_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.state.model = model
    return app


def serve_model(
    model_dir: str | os.PathLike[str], *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> None:
    """Serve ``model_dir`` with uvicorn until interrupted (binds to localhost by default).

    Raises:
        BadInputError: the model folder is refused (see :func:`create_app`), before any
            port is opened; or the port cannot be listened on.
    """
    import socket

    import uvicorn

    app = create_app(model_dir)
    try:  # a port in use is the user's to change: one line, not uvicorn's traceback
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise BadInputError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); give another "
            "{param} or stop what uses it.",
            param="port",
        ) from exc
    logger.info("serving %s on http://%s:%d (Ctrl-C stops)", model_dir, host, port)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
