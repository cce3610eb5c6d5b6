"""`halfcost registry ...` as a user runs it: a round trip, and bad input as one line, exit 2."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest


def _ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def _run(cli, command: str, *extra: str) -> str:
    return _ok(cli([*command.split(), *extra]))


def test_round_trip(cli, db_url, tmp_path):
    db = ["--db", db_url]
    assert "schema 0002_provenance_evidence" in _run(cli, "registry init", *db)
    _run(cli, "registry add project churn --team Marketing --value-per-month 900", *db)
    _run(cli, "registry add value --project churn --month 2026-03", *db)
    _run(
        cli,
        "registry add cost --project churn --date 2026-03-04 --category people",
        "--amount",
        "600",
        *db,
    )
    clean = tmp_path / "run" / "clean" / "report.json"
    clean.parent.mkdir(parents=True)
    report = {
        "kind": "clean",
        "created_at": "2026-03-05T00:00:00+00:00",
        "rows_in": 50,
        "rows_repaired": 3,
        "rows_quarantined": 2,
    }
    clean.write_text(json.dumps(report))
    first = json.loads(_run(cli, "registry ingest --project churn --json", str(clean.parent), *db))
    again = json.loads(_run(cli, "registry ingest --project churn --json", str(clean), *db))
    assert (first["added"], again["added"], again["files_skipped"]) == (1, 0, 1)
    bill = tmp_path / "bill.csv"
    bill.write_text(
        "EffectiveCost,ChargePeriodStart,Tags\n"
        '100,2026-03-09T00:00:00Z,"{""project"": ""churn"", ""category"": ""compute""}"\n'
        "25.5,2026-03-09T00:00:00Z,\n"
    )
    imported = _run(cli, "registry import-costs", str(bill), *db)
    assert "2 cost rows" in imported and "1 unallocated (25.50 USD)" in imported
    # --db may also come before the sub-command
    totals = json.loads(_run(cli, "registry", *db, "report", "--json"))
    (project,) = totals["projects"]
    assert D(project["spend"]) == D("700") and D(project["value"]) == D("900")
    assert D(project["roi"]) == D(200) / D(700) and project["payback_months"] == 1
    assert D(totals["totals"]["spend"]) == D("725.5")
    assert D(totals["savings_by_lever"]["less_cleaning"]) == D("0.5")  # 5 rows × 0.10
    if db_url.startswith("sqlite"):  # the people's table (the same code on both backends)
        table = _run(cli, "registry report", *db)
        assert "churn" in table and "28.6%" in table and "unallocated 25.50" in table


def test_dead_database_is_one_line_and_exit_2(cli):
    result = cli(["registry", "report", "--db", "postgresql+psycopg://postgres@127.0.0.1:1/x"])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach database" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["registry", "ingest", "{tmp}/missing", "--project", "p", "--team", "t"], "no such file"),
        (["registry", "import-costs", "{tmp}/bad.csv"], "bad.csv: row 1: cost 'x'"),
        (["registry", "report"], "no registry at"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path, args, message):
    (tmp_path / "bad.csv").write_text("BilledCost,ChargePeriodStart\nx,2026-01-01\n")
    db = ["--db", f"sqlite:///{tmp_path / 'r.db'}"]
    result = cli([a.format(tmp=tmp_path) for a in args] + db)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
