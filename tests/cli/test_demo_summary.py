"""The demo's closing summary speaks plainly: target, model against it (CV and held-out),
N× cheaper than LightGBM defaults, what drift did and why, and that the history is seeded."""

from __future__ import annotations

from halfcost.cli.demo import summary_lines


def _steps(*, holdout: float, holdout_met: bool, ratio: float, outcome: str) -> dict:
    return {
        "search": {
            "metric": "roc_auc",
            "min_score": 0.79,
            "met": True,
            "chosen_family": "lightgbm",
            "chosen_cv_score": 0.7949,
            "chosen_holdout_score": holdout,
            "holdout_met": holdout_met,
            "baseline_cv_score": 0.8012,
            "latency_ratio_vs_lightgbm_defaults": ratio,
            "html": "/demo/search/report.html",
        },
        "clean": {
            "rows_in": 12000,
            "rows_clean": 11488,
            "rows_repaired": 88,
            "rows_quarantined": 512,
            "out": "/demo/clean",
        },
        "drift": {
            "project": "/demo/project",
            "champion": "v0002",
            "normal_batch": {"outcome": "no_alert", "reason": "no policy rule fired."},
            "drifted_batch": {
                "outcome": outcome,
                "reason": "challenger roc_auc 0.83 vs champion 0.70 on held-out data",
                "drifted_columns": ["age", "plan"],
                "scores": {"champion_batch": 0.6612, "target": 0.75},
            },
        },
        "registry": {"db": "sqlite:///demo/registry.db", "seeded": {"teams": 5, "projects": 12}},
    }


def test_a_target_missed_on_held_out_data_is_said_plainly():
    text = "\n".join(summary_lines(_steps(holdout=0.7687, holdout_met=False, ratio=0.25,
                                         outcome="promoted")))  # fmt: skip
    assert "ROC AUC of at least 0.79" in text
    assert "meets it in cross-validation (0.7949)" in text
    assert "NOT on the held-out 20% of the rows (0.7687 < 0.79)" in text
    assert "4.0x cheaper to run than LightGBM with default settings" in text
    assert (
        "2 columns moved (age, plan)" in text
        and "scored 0.6612 on it (below the target 0.75)" in text
    )
    assert "promoted v0002" in text and "Why: challenger roc_auc" in text
    assert "SEEDED history of 5 teams and 12 projects" in text
    assert "12,000 new rows" in text


def test_a_target_met_on_held_out_data_and_a_refusal():
    text = "\n".join(summary_lines(_steps(holdout=0.801, holdout_met=True, ratio=1.5,
                                         outcome="refused")))  # fmt: skip
    assert "and on the held-out 20% of the rows (0.8010)" in text and "NOT" not in text
    assert "1.5x the inference time of LightGBM" in text  # not called cheaper
    assert "the champion stays" in text
