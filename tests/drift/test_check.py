"""check_drift against real Evidently 0.7 on the full data: same tests, same scores, same calls."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from evidently import Report
from evidently.presets import DataDriftPreset
from scipy import stats

from halfcost.drift import build_profile, check_drift
from halfcost.drift._check import evidently_column_results
from halfcost.drift._stats import (
    EXACT_VALUES_LIMIT,
    summarize_numbers,
    wasserstein_distance,
)
from halfcost.errors import BadInputError


def raw_evidently(reference: pd.DataFrame, current: pd.DataFrame) -> dict:
    """Per-column results of a plain `Report([DataDriftPreset()]).run(current, reference)`."""
    return evidently_column_results(Report([DataDriftPreset()]).run(current, reference).dict())


def assert_same_as_evidently(result, expected: dict) -> None:
    ours = result.to_dict()["columns"]
    assert set(ours) == set(expected)
    for name, theirs in expected.items():
        assert ours[name]["method"] == theirs["method"], name
        assert ours[name]["threshold"] == pytest.approx(theirs["threshold"]), name
        assert ours[name]["score"] == pytest.approx(theirs["score"], rel=1e-9, abs=1e-12), name
        assert ours[name]["drifted"] == theirs["drifted"], name


@pytest.mark.parametrize(
    ("reference_rows", "current_rows", "methods"),
    [
        # more than 1,000 reference values: distances
        (3000, 2000, {"Wasserstein distance (normed)", "Jensen-Shannon distance"}),
        # at most 1,000: Evidently's p-value tests, run on the whole small reference
        (800, 700, {"K-S p_value", "chi-square p_value", "Z-test p_value"}),
    ],
)
def test_matches_evidently_on_full_data(reference_rows, current_rows, methods, monitor_frame):
    reference = monitor_frame(reference_rows, seed=1)
    current = monitor_frame(current_rows, seed=2, shift_std=0.75, swap_plans=True)
    result = check_drift(reference, current)
    expected = raw_evidently(reference, current)
    assert_same_as_evidently(result, expected)
    assert {col["method"] for col in expected.values()} == methods
    assert "spend" in result.drifted_columns


def test_text_column_uses_evidentlys_text_test(monitor_frame):
    reference = monitor_frame(1500, seed=1, text=True)[["spend", "note"]]
    current = monitor_frame(1200, seed=2, text=True)[["spend", "note"]]
    result = check_drift(reference, current)
    assert_same_as_evidently(result, raw_evidently(reference, current))
    assert result.to_dict()["column_details"]["note"]["source"] == "sample"


def test_no_drift_batch_has_no_drifted_column(monitor_frame):
    result = check_drift(monitor_frame(5000, seed=1), monitor_frame(4000, seed=3))
    assert result.drifted_columns == []
    assert not result.drift_detected
    assert result.share_drifted == 0.0


def test_shift_and_swap_name_their_columns(monitor_frame):
    reference = monitor_frame(5000, seed=1)
    shifted = check_drift(reference, monitor_frame(4000, seed=3, shift_std=0.5))
    assert shifted.drifted_columns == ["spend"]
    swapped = check_drift(reference, monitor_frame(4000, seed=3, swap_plans=True))
    assert swapped.drifted_columns == ["plan"]
    both = check_drift(reference, monitor_frame(4000, seed=3, shift_std=1, swap_plans=True))
    assert both.drifted_columns == ["spend", "plan"]
    assert both.share_drifted == pytest.approx(2 / 9)
    assert not both.drift_detected
    assert check_drift(
        reference, monitor_frame(4000, seed=3, shift_std=1, swap_plans=True), drift_share=0.2
    ).drift_detected


def test_binned_summary_agrees_with_evidently_on_continuous_columns():
    rng = np.random.default_rng(7)
    reference = pd.DataFrame({"x": rng.lognormal(0, 1, 20_000), "y": rng.normal(0, 1, 20_000)})
    profile = build_profile(reference)
    assert not profile.columns["x"].numbers["exact"]  # more distinct values than the limit
    for shift in (0.0, 0.12):
        current = pd.DataFrame(
            {"x": rng.lognormal(shift, 1, 10_000), "y": rng.normal(shift, 1, 10_000)}
        )
        ours = check_drift(profile, current).to_dict()["columns"]
        theirs = raw_evidently(reference, current)
        for name in ("x", "y"):
            assert ours[name]["score"] == pytest.approx(theirs[name]["score"], abs=2e-4)
            assert ours[name]["drifted"] == theirs[name]["drifted"]


def test_wasserstein_matches_scipy_with_weights():
    rng = np.random.default_rng(0)
    reference, weights = np.sort(rng.normal(0, 1, 500)), rng.random(500)
    current = np.sort(np.concatenate([rng.exponential(1, 300), reference[:50]]))  # with ties
    ours = wasserstein_distance(reference, weights, current)
    assert ours == pytest.approx(stats.wasserstein_distance(reference, current, weights), rel=1e-9)


def test_summary_is_exact_below_the_limit():
    values = np.repeat(np.arange(100.0), 7)
    summary = summarize_numbers(values)
    assert summary["exact"] and summary["n_unique"] == 100 < EXACT_VALUES_LIMIT
    assert summary["std"] == pytest.approx(np.std(values))


def test_save_writes_contract_json_and_evidently_html(tmp_path, monitor_frame):
    reference = monitor_frame(3000, seed=1)
    current = monitor_frame(2500, seed=2, shift_std=1.0)
    result = check_drift(reference, current, sample_rows=1000)
    result.save(tmp_path)
    data = json.loads((tmp_path / "drift.json").read_text())
    assert list(data)[:3] == ["drift_detected", "share_drifted", "columns"]
    for entry in data["columns"].values():
        assert set(entry) == {"drifted", "method", "score", "threshold"}
    assert data["columns"]["spend"]["drifted"] is True
    assert (
        data["sampled"]["report"] | {"reference_rows": 1000, "current_rows": 1000}
        == data["sampled"]["report"]
    )
    assert data["sampled"]["report"]["sampled"] is True
    assert data["sampled"]["decisions"]["current_rows"] == 2500
    html = (tmp_path / "drift.html").read_text()
    assert "Dataset Drift" in html and "Wasserstein distance (normed)" in html and "spend" in html


def test_different_columns_are_named(monitor_frame):
    reference = monitor_frame(500, seed=1)
    current = monitor_frame(500, seed=2).drop(columns=["plan"]).assign(extra=1)
    with pytest.raises(BadInputError, match=r"missing plan; unexpected extra"):
        check_drift(reference, current)
    only = check_drift(reference, current, columns=["spend", "region"])
    assert list(only.columns) == ["spend", "region"]
    with pytest.raises(BadInputError, match=r"cannot check column\(s\) plan: not in both"):
        check_drift(reference, current, columns=["spend", "plan"])


def test_empty_batch_and_bad_arguments(monitor_frame):
    reference = monitor_frame(500, seed=1)
    with pytest.raises(BadInputError, match="no rows"):
        check_drift(reference, reference.iloc[:0])
    with pytest.raises(BadInputError, match="drift_share"):
        check_drift(reference, reference, drift_share=1.5)
    with pytest.raises(BadInputError, match="sample_rows"):
        check_drift(reference, reference, sample_rows=5)


def test_numeric_column_turned_text_is_refused(monitor_frame):
    reference = monitor_frame(2000, seed=1)[["spend", "plan"]]
    current = reference.assign(spend=reference["spend"].round(1).astype(object))
    current.loc[::3, "spend"] = "n/a"
    with pytest.raises(BadInputError, match="'spend' holds numbers in the reference but text"):
        check_drift(reference, current)


def test_target_absent_from_batch_is_skipped(monitor_frame):
    reference = monitor_frame(1500, seed=1)
    profile = build_profile(reference, target="churned")
    result = check_drift(profile, monitor_frame(1500, seed=2).drop(columns=["churned"]))
    assert "churned" in result.skipped and "churned" not in result.columns
    unlabelled = monitor_frame(1500, seed=2).drop(columns=["churned"])
    assert "churned" in check_drift(reference, unlabelled, target="churned").skipped


def test_edge_columns_agree_with_evidently():
    rng = np.random.default_rng(3)

    def frame(n_rows: int, shift: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "with_inf": np.where(
                    rng.random(n_rows) < 0.01, np.inf, rng.exponential(1 + shift, n_rows)
                ),
                "mostly_missing": np.where(
                    rng.random(n_rows) < 0.5, np.nan, rng.normal(shift, 1, n_rows)
                ),
                "ints_9_or_14": rng.integers(0, 9 if shift == 0 else 14, n_rows),  # type flips
                "pandas_category": pd.Categorical(rng.choice(["x", "y", "z"], n_rows)),
            }
        )

    # 1,900 reference rows, but only ~950 values in `mostly_missing`: a p-value test there
    reference, current = frame(1900, 0.0), frame(1200, 0.3)
    result = check_drift(reference, current)
    assert_same_as_evidently(result, raw_evidently(reference, current))
    assert result.to_dict()["column_details"]["mostly_missing"]["method_id"] == "ks"
    assert result.to_dict()["column_details"]["ints_9_or_14"]["type"] == "numerical"


def test_shared_bundle_and_size_cap(monitor_frame, tmp_path):
    from halfcost.drift import _html

    reference = monitor_frame(400, seed=1)
    current = monitor_frame(400, seed=2, shift_std=2.0, swap_plans=True)
    result = check_drift(reference, current)
    alone = result.save_html(tmp_path / "alone" / "drift.html")  # Evidently's own page
    reports = tmp_path / "reports"
    shared = result.save_html(reports / "batch-1" / "drift.html", assets=reports / "_assets")
    result.save_html(reports / "batch-2" / "drift.html", assets=reports / "_assets")
    page = shared.read_text(encoding="utf-8")
    bundle = next((reports / "_assets").glob("evidently-*.js"))
    assert f'<script src="../_assets/{bundle.name}"></script>' in page
    assert sorted(p.name for p in (reports / "_assets").iterdir()) == sorted(
        [bundle.name, "material-ui-icons.woff2"]
    )  # one copy for both pages
    assert shared.stat().st_size < alone.stat().st_size - bundle.stat().st_size + 200_000
    # put back inline, it is Evidently's self-contained page again (ids aside)
    whole = _html.self_contained_html(page, shared)
    assert "../_assets/" not in whole and bundle.read_text(encoding="utf-8") in whole
    assert abs(len(whole) - len(alone.read_text(encoding="utf-8"))) < 0.01 * len(whole)

    # over the cap: the drifted columns first, the others as far as they fit
    full = shared.stat().st_size
    capped = check_drift(reference, current)
    capped.save_html(reports / "batch-3" / "drift.html", assets=reports / "_assets",
                     max_bytes=full // 2)  # fmt: skip
    small = reports / "batch-3" / "drift.html"
    assert small.stat().st_size <= full // 2
    shown = capped.sampled["report"]["columns_shown"]
    assert set(capped.drifted_columns) <= set(shown) and len(shown) < len(capped.columns)
    # nothing fits: no page, and drift.json says why
    tiny = check_drift(reference, current)
    tiny.save(reports / "batch-4", assets=reports / "_assets", max_html_bytes=1000)
    assert not (reports / "batch-4" / "drift.html").exists()
    saved = json.loads((reports / "batch-4" / "drift.json").read_text())
    assert "over the 1,000-byte cap" in saved["sampled"]["report"]["skipped"]
