"""Importing FOCUS billing CSVs: amounts, attribution by tags, unallocated rows, bad rows."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import func, select

from halfcost.errors import BadInputError
from halfcost.governance import import_costs_into, migrate
from halfcost.governance._costs import TagKeys
from halfcost.governance._models import CostEntry, Project, Team

COLUMNS = [
    "BilledCost",
    "EffectiveCost",
    "BillingCurrency",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ServiceName",
    "Tags",
]


def _bill(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in COLUMNS})
    return path


def _row(billed: str, effective: str, start: str, tags: dict | None) -> dict:
    return {
        "BilledCost": billed,
        "EffectiveCost": effective,
        "BillingCurrency": "USD",
        "ChargePeriodStart": start,
        "ChargePeriodEnd": start,
        "ChargeCategory": "Usage",
        "ServiceName": "Compute Engine",
        "Tags": json.dumps(tags) if tags is not None else "",
    }


def test_amounts_days_and_attribution(engine, tmp_path):
    bill = _bill(
        tmp_path / "bill.csv",
        [
            _row(
                "12.50",
                "10.0000000001",
                "2026-03-01T00:00:00Z",
                {"owner": "Risk", "app": "fraud", "kind": "compute"},
            ),
            _row(
                "7.25",
                "",
                "2026-03-02T23:30:00-02:00",
                {"owner": "Risk", "app": "fraud", "kind": "storage"},
            ),
            _row("3.00", "2.75", "2026-03-03T00:00:00Z", {"owner": "Risk"}),
            _row("1.10", "1.00", "2026-03-04T00:00:00Z", None),
        ],
    )
    result = import_costs_into(
        engine, bill, tags=TagKeys(team="owner", project="app", category="kind")
    )
    assert (result["added"], result["unallocated_rows"]) == (4, 2)
    assert result["unallocated_amount"] == D("3.75")
    assert result["total_amount"] == D("10.0000000001") + D("7.25") + D("3.75")
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                CostEntry.incurred_on, CostEntry.category, CostEntry.amount, CostEntry.project_id
            ).order_by(CostEntry.incurred_on)
        ).all()
        fraud = connection.scalar(select(Project.id).where(Project.name == "fraud"))
        assert connection.scalar(select(Team.name)) == "Risk"
    assert rows == [
        (date(2026, 3, 1), "compute", D("10.000000000"), fraud),  # EffectiveCost, to 1e-9
        (date(2026, 3, 3), "storage", D("7.25"), fraud),  # BilledCost fallback; day in UTC
        (date(2026, 3, 3), "unallocated", D("2.75"), None),
        (date(2026, 3, 4), "unallocated", D("1.00"), None),
    ]


def test_importing_the_same_bill_twice_adds_nothing(engine, tmp_path):
    bill = _bill(tmp_path / "bill.csv", [_row("1", "1", "2026-03-01", None)])
    import_costs_into(engine, bill)
    again = import_costs_into(engine, bill)
    assert again["status"] == "already imported" and again["added"] == 0
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(CostEntry)) == 1


BAD_ROWS = [
    (_row("abc", "", "2026-03-01", None), r"row 2: cost 'abc' is not a number"),
    (_row("", "", "2026-03-01", None), "row 2: neither EffectiveCost nor BilledCost"),
    (_row("1", "1", "yesterday", None), "row 2: ChargePeriodStart 'yesterday'"),
    (
        _row("1", "1", "2026-03-01", None) | {"Tags": "{oops"},
        "row 2: Tags is not a JSON object",
    ),
    (
        _row("1", "1", "2026-03-01", {"project": "p", "team": "t", "category": "snacks"}),
        "row 2: tag 'category' is snacks; choose one of compute, labeling, storage, people",
    ),
    (
        _row("1", "1", "2026-03-01", {"project": "ghost", "category": "compute"}),
        "row 2: project 'ghost' is not in the registry",
    ),
    (_row("1", "1", "2026-03-01", None) | {"BillingCurrency": "EUR"}, "row 2: BillingCurrency"),
]


def test_a_malformed_row_is_named_and_nothing_is_written(engine, tmp_path):
    migrate(engine)
    good = _row("5", "5", "2026-03-01", {"project": "p", "team": "t", "category": "compute"})
    for index, (row, message) in enumerate(BAD_ROWS):
        bill = _bill(tmp_path / f"bill{index}.csv", [good, row])
        with pytest.raises(BadInputError, match=message) as caught:
            import_costs_into(engine, bill)
        assert "\n" not in str(caught.value)
        with engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(CostEntry)) == 0
            assert connection.scalar(select(func.count()).select_from(Project)) == 0


def test_a_row_with_too_many_fields_and_missing_columns(engine, tmp_path):
    broken = tmp_path / "broken.csv"
    broken.write_text(",".join(COLUMNS) + "\n1,1,USD,2026-03-01,2026-03-02,Usage,S,,extra\n")
    with pytest.raises(BadInputError, match=r"broken\.csv: row 1: has 8 columns expected"):
        import_costs_into(engine, broken)
    headless = tmp_path / "headless.csv"
    headless.write_text("Cost,Day\n1,2026-03-01\n")
    with pytest.raises(BadInputError, match=r"missing FOCUS column.*ChargePeriodStart"):
        import_costs_into(engine, headless)
