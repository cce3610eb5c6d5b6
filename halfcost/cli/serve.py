"""`halfcost serve`: a REST endpoint (FastAPI + uvicorn) for a model saved by `halfcost search`."""

from __future__ import annotations

import argparse

HELP = "serve a saved model over HTTP: /predict, /health, /metadata, /metrics"
DESCRIPTION = """\
Serve DIR/model on http://HOST:PORT until interrupted (Ctrl-C):

  POST /predict   {"rows": [{"col": value, ...}, ...]} -> {"predictions": [...]}
                  (+ "classes", "probabilities" for a classifier); a row missing a
                  feature or a value of the wrong type gets HTTP 422 naming the column
  GET  /health    {"status": "ok"}
  GET  /metadata  features, their types, the model's cost card
  GET  /metrics   Prometheus: requests, latency histogram, errors

Binds to 127.0.0.1 (this machine only) unless --host says otherwise. A model folder
holding a type halfcost does not write is refused before the port opens (exit 2).

example:
  halfcost serve --model run1/model --port 8080
  curl -s localhost:8080/predict -H 'Content-Type: application/json' \\
      -d '{"rows": [{"spend": 12.5, "plan": "basic", ...every feature...}]}'
"""


def register(parser: argparse.ArgumentParser) -> None:
    """Add the serve flags."""
    parser.add_argument("--model", required=True, metavar="DIR", help="the DIR/model folder")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: local only)"
    )
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    import logging
    import sys

    from halfcost.automl import serve_model
    from halfcost.errors import BadInputError

    if not 0 < args.port < 65536:
        raise BadInputError(
            f"--port must be in 1..65535, but got {args.port}; give a free TCP port."
        )
    # the library logs "serving ... on ..." once the model is loaded and trusted
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("halfcost serve: %(message)s"))
    logger = logging.getLogger("halfcost")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    serve_model(args.model, host=args.host, port=args.port)
    return 0
