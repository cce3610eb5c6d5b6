"""The read API on a small registry whose figures are computed by hand, and on a seeded one."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from halfcost.errors import BadInputError
from halfcost.governance import (
    Filters,
    add_cost,
    add_dataset,
    add_project,
    add_use,
    add_value,
    change_marker,
    dataset_usage,
    dataset_usage_by_team,
    datasets_reuse,
    date_bounds,
    drift_timeline,
    import_costs_into,
    ingest_into,
    lever_estimate,
    list_teams,
    models_inventory,
    overview,
    pareto_points,
    project_detail,
    projects_table,
    registry_is_empty,
    seed_history,
)


def _search_report(path: Path, created: str) -> None:
    entry = {
        "family": "lightgbm",
        "params": {"n": 5},
        "cv_score": 0.9,
        "latency_ms_per_1k": 1.0,
        "size_bytes": 10,
        "train_seconds": 1.0,
        "cost_per_1m_predictions_usd": 0.5,
    }
    baseline = {**entry, "params": {}, "cost_per_1m_predictions_usd": 1.5, "latency_ms_per_1k": 3.0}
    report = {
        "kind": "search",
        "created_at": created,
        "metric": "roc_auc",
        "chosen": entry,
        "baseline": baseline,
        "pareto": [
            entry,
            {**entry, "params": {"n": 50}, "cv_score": 0.92, "latency_ms_per_1k": 4.0},
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report))


@pytest.fixture(scope="module")
def small(module_db_url, tmp_path_factory):
    """Two teams, two projects; every figure below is worked out by hand in the tests."""
    from halfcost.governance import connect

    engine = connect(module_db_url)
    _fill(engine, tmp_path_factory.mktemp("small"))
    yield engine
    engine.dispose()


def _fill(engine, tmp_path: Path) -> None:
    add_project(engine, "pa", team="A", value_per_month=D("1000"))
    add_project(
        engine, "pb", team="B", value_per_prediction=D("0.01"), predictions_per_month=50_000
    )
    add_cost(engine, project="pa", day=date(2026, 1, 10), category="compute", amount=D("800"))
    add_cost(engine, project="pa", day=date(2026, 2, 10), category="people", amount=D("300"))
    add_cost(engine, project="pb", day=date(2026, 2, 5), category="storage", amount=D("200"))
    add_value(engine, project="pa", month=date(2026, 1, 1), amount=D("500"))
    add_value(engine, project="pa", month=date(2026, 2, 1))  # its value per month: 1000
    add_value(engine, project="pb", month=date(2026, 2, 1))  # 50,000 × 0.01 = 500
    add_dataset(
        engine,
        "customers",
        version="a" * 32,
        owner_team="A",
        collect_cost=D("100"),
        label_cost=D("50"),
    )
    add_use(engine, version="a" * 32, project="pa")
    add_use(engine, version="a" * 32, project="pb")  # B reuses A's data: 150 avoided
    add_use(engine, version="a" * 32, project="pb")  # a second use by B is not a second reuse
    run = tmp_path / "pb-run" / ".halfcost"
    _search_report(run / "champions" / "v0001" / "report.json", "2026-01-20T00:00:00+00:00")
    event = {
        "event_id": "p1",
        "time": "2026-01-25T00:00:00+00:00",
        "kind": "promotion",
        "challenger": "v0001",
        "decision": "promoted",
        "reason": "first champion",
    }
    alert = {
        "event_id": "a1",
        "time": "2026-02-15T00:00:00+00:00",
        "kind": "alert",
        "decision": "alert",
        "reason": "3 columns drifted",
    }
    check = {"event_id": "c1", "time": "2026-02-16T00:00:00+00:00", "kind": "check"}
    (run / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in (event, alert, check)))
    ingest_into(engine, run.parent, project="pb")
    bill = tmp_path / "bill.csv"
    bill.write_text(
        "EffectiveCost,ChargePeriodStart,Tags\n70,2026-02-01T00:00:00Z,{}\n"
        '9,2026-02-02T00:00:00Z,"{""team"": ""A""}"\n'  # A's, but no project
    )
    import_costs_into(engine, bill)


def test_overview_totals_and_levers(small):
    view = overview(small, Filters())
    assert view.spend == D("1379")  # 800 + 300 + 200 + 70 + 9 unallocated
    assert view.unallocated_spend == D("79")
    assert view.value == D("2000")  # 500 + 1000 + 500
    assert view.roi == D(621) / D(1379)
    assert view.savings_by_lever == {
        "cheaper_models": D("0.05"),  # (1.5 − 0.5) per 1M × 50,000 predictions in February
        "dataset_reuse": D("150"),
        "fewer_labels": D("0"),
        "less_cleaning": D("0"),
    }
    monthly = view.monthly.set_index("month")
    assert (monthly.loc["2026-01", "spend"], monthly.loc["2026-01", "value"]) == (800, 500)
    assert (monthly.loc["2026-02", "spend"], monthly.loc["2026-02", "value"]) == (579, 1500)
    assert monthly.loc["2026-01", "roi"] == D("-0.375")


def test_team_and_date_filters(small):
    only_a = overview(small, Filters(teams=("A",)))
    assert (only_a.spend, only_a.value, only_a.unallocated_spend) == (D("1109"), D("1500"), D(9))
    only_b = overview(small, Filters(teams=("B",)))
    assert (only_b.spend, only_b.unallocated_spend) == (D("200"), 0)
    assert only_a.savings_by_lever["dataset_reuse"] == 0  # the reuse was B's saving
    february = overview(small, Filters(start=date(2026, 2, 1), end=date(2026, 2, 28)))
    assert (february.spend, february.value) == (D("579"), D("1500"))
    with pytest.raises(BadInputError, match="starts after it ends"):
        Filters(start=date(2026, 3, 1), end=date(2026, 2, 1))


def test_projects_table_roi_payback_and_unit_cost(small):
    table = projects_table(small, Filters()).set_index("project")
    assert table.loc["pa", "spend"] == D("1100") and table.loc["pa", "value"] == D("1500")
    assert table.loc["pa", "roi"] == D(400) / D(1100)
    assert table.loc["pa", "payback_months"] == 2  # Jan: 800 vs 500; Feb: 1100 vs 1500
    assert table.loc["pb", "roi"] == D("1.5")
    assert table.loc["pb", "payback_months"] == 1
    assert table.loc["pb", "cost_per_1k_predictions"] == D("4")  # 200 / 50,000 × 1000
    assert table.loc["pa", "cost_per_1k_predictions"] is None  # pa served no counted predictions
    january = projects_table(small, Filters(end=date(2026, 1, 31))).set_index("project")
    assert january.loc["pa", "payback_months"] is pd_na()


def pd_na():
    import pandas as pd

    return pd.NA


def test_datasets_reuse_and_usage(small):
    table = datasets_reuse(small, Filters())
    row = table.iloc[0]
    assert (row["owner_team"], row["teams_using"], row["uses"]) == ("A", "A, B", 3)
    assert (row["reuse_count"], row["avoided_cost"]) == (1, D("150"))
    usage = dataset_usage(small, Filters(teams=("B",)))
    assert usage["project"].tolist() == ["pb", "pb"]
    assert datasets_reuse(small, Filters(teams=("A",)))["reuse_count"].tolist() == [0]
    grouped = dataset_usage_by_team(small, Filters())
    assert grouped[["team", "project", "uses"]].values.tolist() == [["A", "pa", 1], ["B", "pb", 2]]
    assert (grouped["first_used"] <= grouped["last_used"]).all()
    assert grouped["uses"].sum() == len(dataset_usage(small, Filters()))


def test_lever_estimate_is_the_overviews_figure(small):
    for filters in (Filters(), Filters(teams=("B",)), Filters(end=date(2026, 1, 31))):
        summary = overview(small, filters)
        for lever, saved in summary.savings_by_lever.items():
            found = lever_estimate(small, lever, filters)
            assert found["saved"] == saved
            assert (found["formula"], found["inputs"]) == (
                summary.estimates[lever]["formula"],
                summary.estimates[lever]["inputs"],
            )
    with pytest.raises(BadInputError, match="unknown lever 'speed'; choose one of"):
        lever_estimate(small, "speed")


def test_teams_table_sums_the_projects_table(small):
    from halfcost.governance import teams_table

    for filters in (Filters(), Filters(teams=("B",)), Filters(start=date(2026, 2, 1))):
        alone = teams_table(small, filters)
        from_projects = teams_table(small, filters, projects=projects_table(small, filters))
        assert alone.equals(from_projects), (alone, from_projects)
        assert not alone.empty


def test_change_marker_moves_with_every_write(engine):
    before = change_marker(engine)
    assert before is not None
    add_project(engine, "marker-project", team="marker-team")
    after = change_marker(engine)
    assert after > before
    assert change_marker(engine) == after  # reading moves nothing


def test_models_pareto_timeline_and_detail(small):
    models = models_inventory(small, Filters())
    assert models[["project", "version", "status"]].values.tolist() == [["pb", "v0001", "champion"]]
    assert models.loc[0, "saving_per_1m"] == D("1.0")
    points = pareto_points(small, "pb")
    assert points["chosen"].tolist() == [True, False]
    timeline = drift_timeline(small, Filters())
    assert timeline["kind"].tolist() == ["promotion", "alert"]  # routine checks left out
    assert drift_timeline(small, Filters(), include_checks=True)["kind"].tolist()[-1] == "check"
    detail = project_detail(small, "pa", Filters())
    assert set(detail) == {"models", "costs", "values", "alerts"}
    assert detail["costs"]["amount"].tolist() == [D("800"), D("300")]
    with pytest.raises(BadInputError, match="no project 'ghost'"):
        project_detail(small, "ghost", Filters())


def test_the_same_month_cannot_be_booked_twice_by_mistake(small):
    with pytest.raises(BadInputError, match="already has a value of 500 for 2026-01"):
        add_value(small, project="pa", month=date(2026, 1, 15), amount=D("500"))


def test_lookups(small):
    assert list_teams(small) == ["A", "B"]
    assert date_bounds(small) == (date(2026, 1, 1), date(2026, 2, 16))
    assert not registry_is_empty(small)


def test_an_empty_registry_says_so(db_url):
    from halfcost.governance import connect

    engine = connect(db_url)
    assert registry_is_empty(engine) and date_bounds(engine) is None
    assert projects_table(engine, Filters()).empty
    assert overview(engine, Filters()).spend == 0
    engine.dispose()


def test_seeded_history_is_consistent_and_reproducible(engine, tmp_path):
    counts = seed_history(
        engine, teams=4, projects=6, datasets=10, events=600, seed=3, end=date(2026, 6, 30)
    )
    assert counts["teams"] == 4 and counts["cost_entries"] == 300
    view = overview(engine, Filters())
    table = projects_table(engine, Filters())
    assert sum(table["spend"], D(0)) + view.unallocated_spend == view.spend
    assert sum(table["value"], D(0)) == view.value
    assert view.monthly["month"].iloc[-1] == "2026-06"
    reuse = datasets_reuse(engine, Filters())
    assert sum(reuse["avoided_cost"], D(0)) == view.savings_by_lever["dataset_reuse"]
    assert set(models_inventory(engine, Filters())["status"]) <= {
        "candidate",
        "champion",
        "retired",
    }
    from halfcost.governance import connect

    other = connect(f"sqlite:///{tmp_path / 'again.db'}")
    seed_history(other, teams=4, projects=6, datasets=10, events=600, seed=3, end=date(2026, 6, 30))
    assert overview(other, Filters()).spend == view.spend  # same seed, same history
    other.dispose()
    with pytest.raises(BadInputError, match="already holds teams"):
        seed_history(engine, seed=3)
