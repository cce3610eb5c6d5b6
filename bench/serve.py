"""Benchmark: `halfcost serve` on loopback, requests/s and p50/p99 at 1, 8 and 32 clients.

In one run:

1. A model is found by a short halfcost search on a benchmark data set (``--dataset``,
   default ``fraud``: strings and numbers), or taken from ``--model DIR/model``.
2. The anchor: the same model's single-row ``predict`` in this process, one
   one-row DataFrame per call (what a request must at least cost), median of repeats.
3. ``halfcost serve`` is started as a real uvicorn process on a free loopback port.
   ``GET /health`` at one client gives the HTTP floor (framework and loopback, no model).
4. ``POST /predict`` with one row per request, from 1, 8 and 32 concurrent clients, each
   a thread with its own keep-alive connection sending requests back to back; every
   level is bounded by a request count and a time limit, whichever comes first.

The clients run on the same 2 cores as the server, so the figures are what one machine
serving itself can do, not the server's ceiling.

Run from the repository root: ``.venv/bin/python bench/serve.py [--quick]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench._common import pin_threads  # before NumPy loads: thread pools read the env once

pin_threads()

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from bench import _common  # noqa: E402
from bench._datasets import load_dataset  # noqa: E402

CLIENTS = (1, 8, 32)
DEFAULT_OUT = "bench/results/serve.md"
PACKAGES = ("fastapi", "uvicorn", "starlette", "pydantic", "scikit-learn", "lightgbm")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_model(
    dataset: str, work: Path, n_trials: int, objective: str = "online", runtime: str = "onnx"
) -> tuple[Path, list[dict]]:
    """A short halfcost search on ``dataset``; returns the model folder and sample rows.

    ``min_score`` 0: the cheapest model the search finds. What is measured here is the
    endpoint around the model, not the model's accuracy (bench/search.py measures that).
    """
    import optuna

    from halfcost.automl import CheapestModelSearch, save_model, write_report

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    data = load_dataset(dataset)
    x = data.frame.drop(columns=[data.target])
    search = CheapestModelSearch(
        metric=data.metric,
        min_score=0.0,
        budget_s=120,
        n_trials=n_trials,
        seed=0,
        objective=objective,
        runtime=runtime,
    )
    search.fit(x, data.frame[data.target])
    folder = save_model(search.best_model_, work / "model")
    write_report(search.report_, work, model_folder=folder)
    return folder, json.loads(x.head(200).to_json(orient="records"))


def anchor_ms(model_dir: Path, rows: list[dict], repeats: int) -> float:
    """Median ms of the model's in-process single-row predict (a one-row DataFrame)."""
    import pandas as pd

    from halfcost.automl import load_model

    model = load_model(model_dir)
    frames = [pd.DataFrame([row]) for row in rows]
    for frame in frames[:20]:
        model.predict(frame)  # warm-up
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        model.predict(frames[i % len(frames)])
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


def start_server(model_dir: Path, port: int) -> subprocess.Popen:
    """``halfcost serve`` on 127.0.0.1:``port``, returned once /health answers."""
    exe = shutil.which("halfcost", path=str(Path(sys.executable).parent)) or "halfcost"
    proc = subprocess.Popen(
        [exe, "serve", "--model", str(model_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"halfcost serve exited: {proc.stderr.read()[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("halfcost serve did not answer /health within 120 s")


def load_run(
    port: int, path: str, bodies: list[bytes | None], clients: int, max_requests: int, max_s: float
) -> dict[str, float]:
    """``clients`` threads send requests back to back until the count or the time is spent."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    sent = [0]
    stop_at = time.monotonic() + max_s

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        headers = {"Content-Type": "application/json"}
        n = index
        while time.monotonic() < stop_at:
            with lock:
                if sent[0] >= max_requests:
                    break
                sent[0] += 1
            body = bodies[n % len(bodies)]
            n += clients
            start = time.perf_counter()
            connection.request("POST" if body else "GET", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append((time.perf_counter() - start) * 1000)
            if response.status != 200:
                with lock:
                    errors[0] += 1
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall_s = time.perf_counter() - start
    values = np.asarray(latencies)
    return {
        "clients": clients,
        "requests": len(values),
        "errors": errors[0],
        "seconds": wall_s,
        "rps": len(values) / wall_s,
        "p50_ms": float(np.percentile(values, 50)),
        "p99_ms": float(np.percentile(values, 99)),
    }


def main(argv: list[str] | None = None) -> int:
    from halfcost.automl import OBJECTIVES, RUNTIMES

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="fraud", help="benchmark data set for the search")
    parser.add_argument("--model", help="serve this DIR/model instead of searching")
    parser.add_argument("--n-trials", type=int, default=20, help="search trials (default 20)")
    parser.add_argument(
        "--objective",
        choices=tuple(OBJECTIVES),
        default="online",
        help="the search's objective (default online)",
    )
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default="onnx",
        help="the search's runtime (default onnx: the serving path)",
    )
    parser.add_argument("--requests", type=int, default=3000, help="request cap per level")
    parser.add_argument("--max-s", type=float, default=20.0, help="time cap per level (s)")
    parser.add_argument("--quick", action="store_true", help="300 requests, 5 s per level")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"results file (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.max_s, args.n_trials = 300, 5.0, 6
    context = _common.run_context(PACKAGES, ["automl", "halfcost", "bench/serve.py"])
    work = Path(tempfile.mkdtemp(prefix="halfcost-bench-serve-"))
    try:
        if args.model:
            model_dir = Path(args.model)
            data = load_dataset(args.dataset)
            rows = json.loads(
                data.frame.drop(columns=[data.target]).head(200).to_json(orient="records")
            )
        else:
            model_dir, rows = find_model(
                args.dataset, work, args.n_trials, args.objective, args.runtime
            )
        meta = json.loads((model_dir / "meta.json").read_text())
        anchor = anchor_ms(model_dir, rows, repeats=500)
        port = _free_port()
        server = start_server(model_dir, port)
        try:
            bodies = [json.dumps({"rows": [row]}).encode() for row in rows]
            health = load_run(port, "/health", [None], 1, args.requests, args.max_s)
            levels = [
                load_run(port, "/predict", bodies, n, args.requests, args.max_s) for n in CLIENTS
            ]
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    headers = ["endpoint", "clients", "requests", "errors", "requests/s", "p50 ms", "p99 ms"]
    headers.append("p50 / in-process predict")
    table = []
    for result in [health, *levels]:
        table.append(
            [
                "GET /health" if result is health else "POST /predict (1 row)",
                result["clients"],
                result["requests"],
                result["errors"],
                _common.format_number(result["rps"], 0),
                _common.format_number(result["p50_ms"], 2),
                _common.format_number(result["p99_ms"], 2),
                _common.format_ratio(result["p50_ms"] / anchor),
            ]
        )
    searched = f" (search: {args.objective} objective, {args.runtime} runtime)"
    searched = "" if args.model else searched
    lines = [
        "# Serving benchmark: `halfcost serve` on loopback",
        "",
        *(f"- {line}" for line in context),
        f"- model: {meta.get('family')} on {args.dataset} "
        f"({len(meta.get('feature_columns', []))} raw feature columns), served from "
        f"{meta.get('runtime', 'python')}{searched}",
        f"- anchor: the same model's in-process single-row predict, median of 500 calls: "
        f"{anchor:.2f} ms",
        f"- load per level: at most {args.requests} requests or {args.max_s:g} s; clients are "
        "threads with keep-alive connections on the same 2 cores as the server",
        "",
        _common.markdown_table(headers, table),
        "",
    ]
    text = "\n".join(lines)
    _common.write_text_atomic(text, args.out)
    print(_common.text_table(headers, table))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
