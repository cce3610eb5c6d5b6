"""Benchmark: halfcost's drift check and alert policy against raw Evidently 0.7 with defaults.

Two parts, both on seeded synthetic tables of 20 columns (12 numeric of several shapes,
8 categorical with 3–12 skewed categories):

* **Detection** — a 5,000-row reference and 2,000-row batches: no drift (10 batches, and
  10 small 300-row batches), a 0.5-std mean shift in an important and in an unimportant
  column, swapped category proportions, and a slow trend (a column's mean moving 0.05 std
  per batch over 10 batches). For each: how often the drifted column is flagged, how often
  dataset drift (Evidently's rule: ≥ 50% of columns) is declared, how often halfcost's policy alerts
  (defaults: importance-weighted share ≥ 0.3, with a fixed set of model importances),
  and the false alarms on clean batches. Raw Evidently: ``Report([DataDriftPreset()])``.
* **Speed** — a 1,000,000-row × 20-column batch against a same-size reference:
  ``check_drift`` (profile built beforehand; and including the profile build) plus its
  Evidently HTML report on 20,000-row samples, vs ``Report([DataDriftPreset()]).run(current,
  reference)`` on the full frames, back to back in one process (both warmed up first: the
  Evidently import is not timed); ratios and the share of column decisions that agree with
  Evidently's on the full data.

Run from the repository root: ``.venv/bin/python bench/drift.py [--rows N] [--skip-speed]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench._common import pin_threads  # before NumPy loads: thread pools read the env once

pin_threads()

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench import _common  # noqa: E402

NUMERIC = [f"num{i:02d}" for i in range(12)]
CATEGORICAL = [f"cat{i}" for i in range(8)]
IMPORTANT_NUMERIC, UNIMPORTANT_NUMERIC, IMPORTANT_CATEGORY = "num00", "num07", "cat0"
# The champion's feature importances the policy weighs columns by (sum to 1).
IMPORTANCES = {"num00": 0.30, "cat0": 0.30, "num01": 0.10, "cat1": 0.05}
_REST = [c for c in NUMERIC + CATEGORICAL if c not in IMPORTANCES]
IMPORTANCES.update({c: 0.25 / len(_REST) for c in _REST})
REFERENCE_ROWS, BATCH_ROWS = 5_000, 2_000


def _numeric(i: int, rng: np.random.Generator, n: int) -> tuple[np.ndarray, float]:
    """Column ``num{i}`` and its distribution's standard deviation."""
    shape = i % 4
    if shape == 0:
        return rng.normal(50.0 + i, 10.0, n), 10.0
    if shape == 1:
        return rng.lognormal(1.0, 0.5, n), float(np.sqrt((np.exp(0.25) - 1) * np.exp(2.25)))
    if shape == 2:
        return rng.exponential(5.0, n), 5.0
    return rng.integers(0, 200, n).astype(float), float(np.sqrt((200**2 - 1) / 12))


def make_table(
    n_rows: int,
    seed: int,
    *,
    shift_std: dict[str, float] | None = None,
    swap: tuple[str, ...] = (),
) -> pd.DataFrame:
    """A seeded 20-column table; ``shift_std`` moves numeric means, ``swap`` reverses mixes."""
    rng = np.random.default_rng(seed)
    shift_std = shift_std or {}
    data: dict[str, np.ndarray] = {}
    for i, name in enumerate(NUMERIC):
        values, std = _numeric(i, rng, n_rows)
        data[name] = values + shift_std.get(name, 0.0) * std
    for i, name in enumerate(CATEGORICAL):
        k = 3 + i + (i // 2)
        weights = 1.0 / np.arange(1, k + 1)
        weights = weights[::-1] if name in swap else weights
        labels = np.array([f"{name}_v{j}" for j in range(k)], dtype=object)
        data[name] = labels[rng.choice(k, size=n_rows, p=weights / weights.sum())]
    return pd.DataFrame(data)


@dataclass
class Tally:
    """Counts for one scenario and one detector."""

    runs: int = 0
    column_hits: int = 0  # the drifted column was flagged
    other_flags: int = 0  # columns flagged that did not drift
    dataset_drift: int = 0
    alerts: int = 0
    first_hit: list[int] = field(default_factory=list)


def _evidently_columns(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, dict]:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    from halfcost.drift._check import evidently_column_results

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snapshot = Report([DataDriftPreset()]).run(current, reference)
    return evidently_column_results(snapshot.dict())


def _score_run(tally: Tally, flagged: list[str], truth: str | None, alert: bool | None) -> None:
    tally.runs += 1
    tally.column_hits += int(truth is not None and truth in flagged)
    tally.other_flags += len([c for c in flagged if c != truth])
    tally.dataset_drift += int(len(flagged) / 20 >= 0.5)
    tally.alerts += int(bool(alert))


def detection(seeds: int) -> list[dict]:
    """Run the detection scenarios; one row per (scenario, detector)."""
    from halfcost.drift import AlertPolicy, build_profile, check_drift

    reference = make_table(REFERENCE_ROWS, seed=1)
    profile = build_profile(reference)
    policy = AlertPolicy()
    scenarios = [
        ("no drift", None, [{}] * 10, 100, BATCH_ROWS),
        ("no drift, small batches (300 rows)", None, [{}] * 10, 600, 300),
        (
            "mean +0.5 std, important num00",
            "num00",
            [{"shift_std": {"num00": 0.5}}] * seeds,
            200,
            BATCH_ROWS,
        ),
        (
            "mean +0.5 std, unimportant num07",
            "num07",
            [{"shift_std": {"num07": 0.5}}] * seeds,
            300,
            BATCH_ROWS,
        ),
        ("category mix swapped, cat0", "cat0", [{"swap": ("cat0",)}] * seeds, 400, BATCH_ROWS),
        (
            "slow trend num00, +0.05 std/batch",
            "num00",
            [{"shift_std": {"num00": 0.05 * (k + 1)}} for k in range(10)],
            500,
            BATCH_ROWS,
        ),
    ]
    rows = []
    for name, truth, batches, seed0, batch_rows in scenarios:
        ours, theirs = Tally(), Tally()
        for k, spec in enumerate(batches):
            batch = make_table(batch_rows, seed=seed0 + k, **spec)
            result = check_drift(profile, batch)
            decision = policy.decide(
                result, events=[], batch_rows=len(batch), importances=IMPORTANCES
            )
            ev = _evidently_columns(reference, batch)
            ev_flagged = [c for c, r in ev.items() if r["drifted"]]
            _score_run(ours, result.drifted_columns, truth, decision.alert)
            _score_run(theirs, ev_flagged, truth, len(ev_flagged) / len(ev) >= 0.5)
            for tally, flagged in ((ours, result.drifted_columns), (theirs, ev_flagged)):
                if truth in flagged:
                    tally.first_hit.append(k + 1)
        for detector, tally in (("halfcost", ours), ("Evidently", theirs)):
            rows.append({"scenario": name, "detector": detector, "truth": truth, "tally": tally})
    return rows


def _rate(hits: int, runs: int) -> str:
    return f"{hits}/{runs} ({hits / runs:.0%})" if runs else "—"


def detection_table(rows: list[dict]) -> tuple[list[str], list[list[object]]]:
    headers = [
        "scenario",
        "detector",
        "drifted column flagged",
        "other columns flagged (per batch)",
        "dataset drift (≥50% cols)",
        "alert",
        "first flagged at batch",
    ]
    table = []
    for row in rows:
        t: Tally = row["tally"]
        alert = _rate(t.alerts, t.runs) if row["detector"] == "halfcost" else "= dataset drift"
        table.append(
            [
                row["scenario"],
                row["detector"],
                _rate(t.column_hits, t.runs) if row["truth"] else "—",
                f"{t.other_flags / t.runs:.2f}",
                _rate(t.dataset_drift, t.runs),
                alert,
                (min(t.first_hit) if t.first_hit else "never")
                if row["scenario"].startswith("slow")
                else "—",
            ]
        )
    return headers, table


def speed(n_rows: int, sample_rows: int) -> dict[str, float]:
    """Time halfcost and raw Evidently on the same big frames, back to back."""
    from halfcost.drift import build_profile, check_drift

    reference = make_table(n_rows, seed=11)
    current = make_table(
        n_rows,
        seed=12,
        shift_std={"num00": 0.05, "num01": 0.1, "num02": 0.3, "num05": 0.12},
        swap=("cat0",),
    )
    out: dict[str, float] = {"rows": n_rows}
    _warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        profile = build_profile(reference)
        out["profile_s"] = time.perf_counter() - start
        profile.save(Path(tmp) / "ref.profile")
        start = time.perf_counter()
        result = check_drift(profile, current, sample_rows=sample_rows)
        out["decide_s"] = time.perf_counter() - start
        start = time.perf_counter()
        result.save(Path(tmp) / "report")
        out["html_s"] = time.perf_counter() - start
    out["check_s"] = out["decide_s"] + out["html_s"]

    from evidently import Report
    from evidently.presets import DataDriftPreset

    from halfcost.drift._check import evidently_column_results

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snapshot = Report([DataDriftPreset()]).run(current, reference)
    out["evidently_s"] = time.perf_counter() - start
    theirs = evidently_column_results(snapshot.dict())
    ours = result.to_dict()["columns"]
    # The naive shortcut, for contrast: raw Evidently on 100,000-row samples of each side.
    naive_rows = min(100_000, n_rows)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        naive = Report([DataDriftPreset()]).run(
            current.sample(naive_rows, random_state=0), reference.sample(naive_rows, random_state=0)
        )
    out["naive_s"] = time.perf_counter() - start
    out["naive_rows"] = naive_rows
    naive_columns = evidently_column_results(naive.dict())
    out["naive_agree"] = sum(naive_columns[c]["drifted"] == theirs[c]["drifted"] for c in theirs)
    agree = [c for c in theirs if c in ours and ours[c]["drifted"] == theirs[c]["drifted"]]
    out["columns"] = len(theirs)
    out["agree"] = len(agree)
    out["ours_drifted"] = ",".join(result.drifted_columns)
    out["theirs_drifted"] = ",".join(c for c, r in theirs.items() if r["drifted"])
    out["max_score_diff"] = max(abs(ours[c]["score"] - theirs[c]["score"]) for c in theirs)
    return out


def _warm_up() -> None:
    """Import Evidently and run both tools once on a small table, so no timing pays that."""
    from halfcost.drift import check_drift

    small = make_table(2_000, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        check_drift(small, small).save(tmp)
    _evidently_columns(small, small)


def speed_table(s: dict) -> tuple[list[str], list[list[object]]]:
    ev = s["evidently_s"]
    headers = ["what", "seconds", "vs raw Evidently"]
    rows = [
        ["raw Evidently Report([DataDriftPreset()]).run", f"{ev:.1f}", "1x (anchor)"],
        [
            "halfcost check (profile built beforehand)",
            f"{s['check_s']:.1f}",
            _common.format_ratio(s["check_s"] / ev),
        ],
        [
            "  of which: decisions on all rows",
            f"{s['decide_s']:.1f}",
            _common.format_ratio(s["decide_s"] / ev),
        ],
        [
            "  of which: Evidently HTML on samples",
            f"{s['html_s']:.1f}",
            _common.format_ratio(s["html_s"] / ev),
        ],
        [
            "halfcost profile build (once, at training)",
            f"{s['profile_s']:.1f}",
            _common.format_ratio(s["profile_s"] / ev),
        ],
        [
            "halfcost profile build + check",
            f"{s['profile_s'] + s['check_s']:.1f}",
            _common.format_ratio((s["profile_s"] + s["check_s"]) / ev),
        ],
        [
            f"for contrast: raw Evidently on {s['naive_rows']:,}-row samples "
            f"({s['naive_agree']}/{s['columns']} decisions as on full data)",
            f"{s['naive_s']:.1f}",
            _common.format_ratio(s["naive_s"] / ev),
        ],
    ]
    return headers, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per side (speed)")
    parser.add_argument("--sample-rows", type=int, default=20_000, help="HTML sample rows")
    parser.add_argument("--seeds", type=int, default=5, help="batches per drift scenario")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-detection", action="store_true")
    parser.add_argument("--out", default=str(_common.repo_root() / "bench/results/drift.md"))
    args = parser.parse_args(argv)

    context = _common.run_context(["evidently", "pandas", "numpy", "scipy"])
    parts = ["# bench/drift.py — halfcost drift check vs raw Evidently", ""]
    parts += [f"- {line}" for line in context] + [""]
    if not args.skip_detection:
        headers, rows = detection_table(detection(args.seeds))
        print(_common.text_table(headers, rows), flush=True)
        parts += [
            "## Detection",
            "",
            f"Reference {REFERENCE_ROWS} rows, batches {BATCH_ROWS} rows, 20 columns. halfcost "
            "alerts with the default policy (importance-weighted drifted share ≥ 0.3; "
            f"importances: num00 0.30, cat0 0.30, num01 0.10, cat1 0.05, 16 others "
            f"{IMPORTANCES['num02']:.4f} each). Raw Evidently's only dataset-level signal is "
            "its dataset drift (≥ 50% of columns).",
            "",
            _common.markdown_table(headers, rows),
            "",
        ]
    if not args.skip_speed:
        s = speed(args.rows, args.sample_rows)
        headers, rows = speed_table(s)
        agreement = s["agree"] / s["columns"]
        summary = (
            f"{s['rows']:,} rows × 20 columns per side; column decisions agreeing with "
            f"Evidently on the full data: {s['agree']}/{s['columns']} ({agreement:.0%}); "
            f"largest score difference {s['max_score_diff']:.2e}. Drifted (halfcost): "
            f"{s['ours_drifted']}; drifted (Evidently): {s['theirs_drifted']}. HTML report "
            f"rendered by Evidently from {args.sample_rows:,}-row samples."
        )
        print(_common.text_table(headers, rows))
        print(summary, flush=True)
        parts += ["## Speed", "", summary, "", _common.markdown_table(headers, rows), ""]
    path = _common.write_text_atomic("\n".join(parts), args.out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
