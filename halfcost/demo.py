"""`halfcost demo`: every capability, end to end, on the embedded demo data.

The demo works only inside its own folder (never inside the installed package or the
halfcost repository): it cleans a dirty batch, searches for the cheapest model that meets
a target, runs the DVC pipeline in a fresh git + DVC project and answers a drifted batch
with a retrain and a promotion, then fills a registry a manager can open with
`halfcost app`.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from halfcost.demo_data import TARGET, make_customers
from halfcost.errors import BadInputError
from halfcost.jsonio import write_json
from halfcost.tables import write_table

DEMO_TEAM = "growth"
DEMO_PROJECT = "churn-demo"


@dataclass
class DemoResult:
    """Where the demo left its outputs, and the headline figures."""

    root: Path
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"root": str(self.root), "seconds": round(self.seconds, 1), "steps": self.steps}


def _package_dir() -> Path:
    """The folder halfcost is imported from (an editable install: the checkout's root)."""
    return Path(__file__).resolve().parents[1]


def _halfcost_checkout(path: Path) -> Path | None:
    """The halfcost source checkout that contains ``path``, if any."""
    for folder in (path, *path.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and 'name = "halfcost"' in pyproject.read_text(errors="replace"):
            return folder
    return None


def _inside_halfcost(path: Path) -> bool:
    package_dir = _package_dir()
    path = path.resolve()
    inside_package = path == package_dir or package_dir in path.parents
    return inside_package or _halfcost_checkout(path) is not None


def default_demo_dir(cwd: Path | None = None) -> Path:
    """A fresh ``halfcost-demo-<UTC time>`` folder that works wherever the demo is started.

    It goes under ``cwd`` (default: the current directory), unless that is inside the
    installed halfcost package or a halfcost source checkout (where an editable install
    would treat it as part of the package, and git ignores it): then under the user's home
    folder, or the temporary folder if the home folder is inside one as well.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    for base in (cwd or Path.cwd(), Path.home(), Path(tempfile.gettempdir())):
        if not _inside_halfcost(base):
            return base.resolve() / f"halfcost-demo-{stamp}"
    raise BadInputError("no folder outside the halfcost package was found; give --dir a folder.")


def _prepare_dir(root: Path) -> Path:
    package_dir = _package_dir()
    root = root.resolve()
    if root == package_dir or package_dir in root.parents:
        raise BadInputError(
            f"{root} is inside the halfcost package; give --dir a folder of your own."
        )
    if root.exists() and any(root.iterdir()):
        raise BadInputError(f"{root} is not empty; give --dir a new or empty folder.")
    root.mkdir(parents=True, exist_ok=True)
    return root


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _command(argv: list[str], ok: tuple[int, ...] = (0,)) -> int:
    """Run a halfcost command in-process; its stdout goes to stderr (the demo's progress)."""
    from halfcost.cli import main as cli_main

    with contextlib.redirect_stdout(sys.stderr):
        code = cli_main(argv)
    if code not in ok:
        raise RuntimeError(f"halfcost {argv[0]} exited with {code}")
    return code


def step_data(root: Path, seed: int) -> dict[str, Any]:
    """Write the reference (trusted) sample and a fresh batch with injected errors."""
    from halfcost.automl import inject_errors

    data_dir = root / "data"
    reference = make_customers(8_000, seed=seed)
    batch = make_customers(12_000, seed=seed + 1, id_start=len(reference))
    dirty, truth = inject_errors(batch, share=0.05, seed=seed)
    write_table(reference, data_dir / "reference.csv")
    write_table(dirty, data_dir / "batch_dirty.csv")
    return {
        "reference": str(data_dir / "reference.csv"),
        "dirty_batch": str(data_dir / "batch_dirty.csv"),
        "rows_with_injected_errors": len(truth),
    }


def step_clean(root: Path, data: dict[str, Any]) -> dict[str, Any]:
    """Clean the dirty batch against a suite learned from the reference."""
    out = root / "clean"
    _command(["clean", data["dirty_batch"], "--reference", data["reference"], "--out", str(out)])
    report = json.loads((out / "report.json").read_text())
    return {
        "out": str(out),
        "report": str(out / "report.json"),
        "rows_in": report["rows_in"],
        "rows_clean": report["rows_clean"],
        "rows_repaired": report["rows_repaired"],
        "rows_quarantined": report["rows_quarantined"],
    }


def step_search(
    root: Path, data: dict[str, Any], clean: dict[str, Any], budget_s: int, seed: int
) -> dict[str, Any]:
    """Search for the cheapest model that meets a target on reference + cleaned batch."""
    import pandas as pd

    from halfcost.tables import read_table

    clean_rows = read_table(Path(clean["out"]) / "clean.csv")
    clean_rows = clean_rows[[c for c in clean_rows.columns if not c.startswith("halfcost_")]]
    train = pd.concat([read_table(data["reference"]), clean_rows], ignore_index=True)
    train_path = write_table(train, root / "data" / "train.csv")
    out = root / "search"
    argv = [
        "search",
        str(train_path),
        "--target",
        TARGET,
        "--min-score",
        "0.79",
        "--metric",
        "roc_auc",
        "--budget-s",
        str(budget_s),
        "--seed",
        str(seed),
        "--out",
        str(out),
        "--price-per-hour",
        "0.10",
    ]
    _command(argv, ok=(0, 3))
    report = json.loads((out / "report.json").read_text())
    chosen, baseline = report["chosen"], report["baseline"]
    return {
        "out": str(out),
        "report": str(out / "report.json"),
        "html": str(out / "report.html"),
        "met": report["met"],
        "metric": report.get("metric"),
        "min_score": report.get("min_score"),
        "chosen_family": chosen["family"],
        "chosen_cv_score": chosen["cv_score"],
        "chosen_holdout_score": chosen.get("holdout_score"),
        "holdout_met": _holdout_met(report),
        "baseline_cv_score": baseline["cv_score"],
        "latency_ratio_vs_lightgbm_defaults": (
            chosen["latency_ms_per_1k"] / baseline["latency_ms_per_1k"]
            if baseline["latency_ms_per_1k"]
            else None
        ),
    }


def _holdout_met(report: dict[str, Any]) -> bool | None:
    """The search's ``holdout_met``; for a report written before the key, held-out ≥ target."""
    if isinstance(report.get("holdout_met"), bool):
        return report["holdout_met"]
    holdout, target = report["chosen"].get("holdout_score"), report.get("min_score")
    if isinstance(holdout, int | float) and isinstance(target, int | float):
        return holdout >= target
    return None


def step_drift(root: Path, budget_s: int) -> dict[str, Any]:
    """A fresh git + DVC project: `dvc repro`, then a drifted batch that retrains and promotes."""
    from halfcost.drift import run_drift_demo

    return run_drift_demo(root / "project", budget_s=budget_s)


def step_registry(root: Path, runs: list[tuple[Path, str, str]], seed: int) -> dict[str, Any]:
    """Fill a demo registry with the runs above plus a seeded multi-team history.

    The demo project is given a value per prediction and a month of served predictions,
    so its row in the app shows a return next to the cost its runs booked.
    """
    from halfcost.governance import add_project, add_value, connect, fill_demo_registry

    db_url = f"sqlite:///{(root / 'registry.db').as_posix()}"
    summary = fill_demo_registry(db_url, runs=runs, seed=seed)
    engine = connect(db_url)
    try:
        add_project(
            engine,
            DEMO_PROJECT,
            team=DEMO_TEAM,
            value_per_prediction=Decimal("0.002"),
            predictions_per_month=2_000_000,
        )
        add_value(engine, project=DEMO_PROJECT, month=datetime.now(UTC).date())
    finally:
        engine.dispose()
    return {
        "db": db_url,
        "seeded": summary["seeded"],
        "ingested_files": sum(item["files_added"] for item in summary["ingested"]),
        "open_app": f"halfcost app --db {db_url}",
    }


def run_demo(root: Path | None = None, *, budget_s: int = 40, seed: int = 0) -> DemoResult:
    """Run every capability on the embedded demo data in ``root`` (a new folder).

    Args:
        root: the demo folder; default: :func:`default_demo_dir`.
        budget_s: search budget in seconds for the search and for each retrain.
        seed: seed for the demo data and the search.
    """
    start = time.perf_counter()
    result = DemoResult(root=_prepare_dir(root or default_demo_dir()))
    r = result.root
    _say(f"halfcost demo: writing everything to {r}")
    _say("1/5 data: a trusted reference sample and a new batch with injected errors")
    result.steps["data"] = step_data(r, seed)
    _say("2/5 clean: learn a Great Expectations suite, repair or quarantine the batch")
    result.steps["clean"] = step_clean(r, result.steps["data"])
    _say("3/5 search: the cheapest model that meets the target, against LightGBM defaults")
    result.steps["search"] = step_search(
        r, result.steps["data"], result.steps["clean"], budget_s, seed
    )
    _say("4/5 drift: DVC pipeline, then a drifted batch that triggers a retrain")
    result.steps["drift"] = step_drift(r, max(10, budget_s // 2))
    _say("5/5 registry: ingest the runs above and a seeded multi-team history")
    runs = [
        (Path(result.steps["clean"]["report"]), DEMO_PROJECT, DEMO_TEAM),
        (Path(result.steps["search"]["report"]), DEMO_PROJECT, DEMO_TEAM),
        (Path(result.steps["drift"]["project"]), DEMO_PROJECT, DEMO_TEAM),
    ]
    result.steps["registry"] = step_registry(r, runs, seed)
    result.seconds = time.perf_counter() - start
    write_json(result.to_dict(), r / "demo.json")
    return result
