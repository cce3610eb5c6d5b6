"""The search report: schema v2 (decimal money, lineage, holdout_met) and report.html."""

from __future__ import annotations

import hashlib
import json
import warnings
from decimal import Decimal

import pytest

from halfcost.automl import CheapestModelSearch, SearchWarning, save_model, write_report
from halfcost.automl._report import _money, render_html
from halfcost.automl._search_report import SCHEMA_VERSION, data_lineage

WARNING_TEXT = "below the target on held-out data"


@pytest.fixture(scope="module")
def wine_search(wine):
    search = CheapestModelSearch(min_score=0.85, n_trials=4, seed=0, price_per_hour=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SearchWarning)
        return search.fit(wine.drop(columns=["cultivar"]), wine["cultivar"])


def test_lineage_of_a_file_is_its_path_and_the_sha256_of_its_bytes(wine, tmp_path):
    path = tmp_path / "wine.csv"
    wine.to_csv(path, index=False)
    data = data_lineage(wine.drop(columns=["cultivar"]), path)
    assert data == {
        "path": str(path.resolve()),
        "rows": len(wine),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "sha256_of": "file",
    }


def test_lineage_of_a_frame_changes_with_its_content(wine):
    x = wine.drop(columns=["cultivar"])
    same, other = data_lineage(x.copy()), data_lineage(x.assign(alcohol=x["alcohol"] + 1))
    assert data_lineage(x) == same and same["sha256"] != other["sha256"]
    assert same["path"] is None and same["sha256_of"] == "frame"


def test_fit_with_a_source_records_that_file(wine, tmp_path):
    path = tmp_path / "wine.csv"
    wine.to_csv(path, index=False)
    search = CheapestModelSearch(min_score=0.85, n_trials=2, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SearchWarning)
        search.fit(wine.drop(columns=["cultivar"]), wine["cultivar"], source=path)
    assert search.report_["data"] == data_lineage(wine, path)


def test_written_report_round_trips_money_exactly_and_records_the_model_size(wine_search, tmp_path):
    folder = save_model(wine_search.best_model_, tmp_path / "model")
    json_path, _ = write_report(wine_search.report_, tmp_path, model_folder=folder)
    written = json.loads(json_path.read_text())
    assert written["schema_version"] == SCHEMA_VERSION == 2
    assert written["model_folder_bytes"] == sum(p.stat().st_size for p in folder.iterdir())
    assert wine_search.report_["model_folder_bytes"] is None  # the fitted report is unchanged
    for key in ("cost_per_1m_predictions_usd", "train_cost_usd"):
        value = written["chosen"][key]
        assert isinstance(value, str) and Decimal(value) == Decimal(
            wine_search.report_["chosen"][key]
        )
    assert written["price_per_hour"] == "0.05"


def test_html_warns_visibly_only_when_the_holdout_misses_the_target(wine_search):
    report = wine_search.report_
    assert report["holdout_met"] is (report["chosen"]["holdout_score"] >= report["min_score"])
    missed = {
        **report,
        "holdout_met": False,
        "chosen": {**report["chosen"], "holdout_score": report["min_score"] - 0.05},
    }
    met = {**report, "holdout_met": True}
    page = render_html(missed)
    assert WARNING_TEXT in page and "role='alert'" in page
    assert f"{report['min_score'] - 0.05:.4f}" in page
    assert WARNING_TEXT not in render_html(met)


def test_html_money_is_plain_decimal_notation():
    assert _money("0.000003014083333") == "0.000003014"
    assert _money("1234.5") == "1,234.50"
    assert _money("0") == "0.00"
    assert _money(None) == "—"


def test_html_numbers_are_plain_notation(wine_search):
    import re

    report = wine_search.report_
    extreme = {
        **report,
        "savings": {**report["savings"], "latency_ratio": 0.0000312, "size_ratio": 12345.6},
        "chosen": {**report["chosen"], "train_seconds": 12345.6, "latency_ms_per_1k": 0.00004},
    }
    page = render_html(extreme)
    text = re.sub(r"<script.*?</script>", "", page, flags=re.S)  # plotly's own code aside
    text = re.sub(r"<div id=\"[^\"]*\" class=\"plotly-graph-div\".*?</div>", "", text, flags=re.S)
    assert not re.search(r"\d(?:\.\d+)?e[+-]?\d", text), "scientific notation on the page"
    assert "<b>0.000031×</b> the inference latency" in text
    assert "<b>12000×</b> the size" in text
    assert "<td>12350</td>" in text and "<td>0.00004</td>" in text
    if report.get("price_per_hour") is not None:  # per-prediction money in a readable unit
        assert re.search(r"USD per core-hour: (< )?\$[\d,.]+ per 1[kMB] predictions vs", text)
