"""Ingesting each kind of file, idempotently and all-or-nothing, on both backends."""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import func, select

from halfcost.errors import BadInputError
from halfcost.governance import ingest_into, migrate
from halfcost.governance._models import (
    AuditEntry,
    CostEntry,
    Dataset,
    DatasetUse,
    DriftEvent,
    Model,
    ParetoPoint,
    Saving,
)
from halfcost.records import (
    CleanReport,
    DataLineage,
    Event,
    LabelingReport,
    ModelEntry,
    SearchReport,
)


def _count(engine, model) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(model))


def _search_report(data_path: Path, *, chosen_cost: str = "0.5", train_cost: str = "0.02"):
    """A search report as the search writes it: built through the shared record."""
    digest = hashlib.sha256(data_path.read_bytes()).hexdigest()
    chosen = ModelEntry(
        family="lightgbm",
        params={"n_estimators": 20},
        cv_score=0.881,
        holdout_score=0.874,
        latency_ms_per_1k=0.9,
        size_bytes=41_000,
        train_seconds=2.5,
        cost_per_1m_predictions_usd=D(chosen_cost),
        train_cost_usd=D(train_cost),
    )
    baseline = replace(chosen, params={}, cost_per_1m_predictions_usd=D("1.5"))
    random_forest = replace(chosen, family="random_forest", params={"d": 3}, cv_score=0.89)
    return SearchReport(
        created_at=datetime(2026, 3, 1, 10, tzinfo=UTC),
        halfcost_version="0.1.0",
        data=DataLineage(path=data_path.name, rows=2, sha256=digest),
        chosen=chosen,
        baseline=baseline,
        metric="roc_auc",
        min_score=0.85,
        met=True,
        pareto=[chosen.to_dict(), random_forest.to_dict()],
        price_per_hour=D("0.1"),
        n_trials=57,
        search_seconds=40.0,
        baseline_seconds=1.5,
        finalize_seconds=1.0,
        refit_seconds=0.5,
    ).to_dict()


def _search_report_v1(data_path: Path) -> dict:
    """The same report as schema version 1 wrote it: money as floats, no schema_version."""
    report = _search_report(data_path)
    report.pop("schema_version")
    for entry in (report["chosen"], report["baseline"]):
        for key in ("cost_per_1m_predictions_usd", "train_cost_usd"):
            entry[key] = float(entry[key])
    report["price_per_hour"] = float(report["price_per_hour"])
    return report


def test_a_version_1_search_report_is_ingested_like_version_2(engine, tmp_path):
    data = _write(tmp_path / "customers.csv", "a,b\n1,2\n3,4\n")
    v1 = _write(tmp_path / "v1" / "report.json", _search_report_v1(data))
    v2 = _write(tmp_path / "v2" / "report.json", _search_report(data))
    ingest_into(engine, v1, project="one", team="Marketing")
    ingest_into(engine, v2, project="two", team="Marketing")
    with engine.connect() as connection:
        rows = connection.execute(
            select(Model.cost_per_1m, Model.train_cost, Model.price_per_hour).order_by(Model.id)
        ).all()
    assert rows[0] == rows[1]
    assert rows[1][0] == D("0.5") and rows[1][1] == D("0.02")


def _write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def _event(event_id: str, kind: str, **fields) -> dict:
    """An event line as `drift watch` writes it: built through the shared record."""
    values = {
        "project": "churn",
        "batch": "b1.csv",
        "batch_rows": 500,
        "data_version": "abc",
        "scores": {"roc_auc": 0.87},
        "decision": kind,
        "reason": f"reason of {event_id}",
        **fields,
    }
    when = datetime.fromisoformat(values.pop("time", "2026-03-05T08:00:00+00:00"))
    return replace(Event.make(kind, time=when, **values), event_id=event_id).to_dict()


@pytest.fixture
def run_folder(tmp_path: Path) -> Path:
    """A project folder as search, clean, drift and DVC leave it."""
    folder = tmp_path / "project"
    data = folder / "customers.csv"
    _write(data, "a,b\n1,2\n3,4\n")
    _write(folder / ".halfcost" / "champions" / "v0001" / "report.json", _search_report(data))
    _write(
        folder / "clean" / "report.json",
        CleanReport(
            created_at=datetime(2026, 3, 2, tzinfo=UTC),
            data=DataLineage(rows=100),
            rows_in=100,
            rows_clean=90,
            rows_repaired=7,
            rows_quarantined=10,
        ).to_dict(),
    )
    _write(
        folder / "labels" / "report.json",
        LabelingReport(
            created_at=datetime(2026, 3, 3, tzinfo=UTC),
            labels_bought=400,
            labels_saved_vs_random=1200,
            cost_per_label_usd=D("0.25"),
        ).to_dict(),
    )
    events = [
        _event("e1", "alert"),
        _event("e1b", "retrain", details={"repro_seconds": 36.0}),
        _event("e2", "promotion", challenger="v0001", time="2026-03-06T00:00:00+00:00"),
    ]
    _write(folder / ".halfcost" / "events.jsonl", "\n".join(json.dumps(e) for e in events) + "\n")
    _write(
        folder / "dvc.lock",
        "schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n    deps:\n"
        "    - path: customers.csv\n      hash: md5\n      md5: 11111111111111111111111111111111\n"
        "      size: 12\n    - path: train.py\n      md5: 2222\n    outs:\n    - path: model\n"
        "      md5: 3333.dir\n",
    )
    _write(
        folder / "raw.csv.dvc", "outs:\n- md5: 44444444444444444444444444444444\n  path: raw.csv\n"
    )
    return folder


def test_folder_ingest_reads_every_kind(engine, run_folder):
    result = ingest_into(engine, run_folder, project="churn", team="Marketing").to_dict()
    kinds = sorted(f["kind"] for f in result["files"])
    assert kinds == ["clean", "dvc", "dvc", "events", "labeling", "search"]
    assert result["files_added"] == 6 and result["files_skipped"] == 0
    with engine.connect() as connection:
        model = connection.execute(select(Model)).one()
        assert (model.version, model.status, model.family) == ("v0001", "champion", "lightgbm")
        assert model.cost_per_1m == D("0.5") and model.baseline_cost_per_1m == D("1.5")
        chosen = connection.execute(select(ParetoPoint.family, ParetoPoint.chosen)).all()
        assert sorted(chosen) == [("lightgbm", True), ("random_forest", False)]
        costs = dict(connection.execute(select(CostEntry.category, CostEntry.amount)).all())
        # the champion's search ran inside the retrain's `dvc repro`: booked once, from the
        # retrain event (36 s at the search's $0.10 per core-hour), not from its report too
        assert costs == {"compute": D("0.001"), "labeling": D("100")}  # 400 labels × 0.25
        savings = dict(connection.execute(select(Saving.lever, Saving.amount)).all())
        assert savings == {"fewer_labels": D("300"), "less_cleaning": D("1.7")}  # 1200×.25; 17×.1
        versions = {r[0] for r in connection.execute(select(Dataset.version))}
        md5 = hashlib.md5((run_folder / "customers.csv").read_bytes()).hexdigest()
        assert versions == {md5, "1" * 32, "4" * 32}
        events = connection.execute(select(DriftEvent.event_id, DriftEvent.kind)).all()
        assert sorted(events) == [("e1", "alert"), ("e1b", "retrain"), ("e2", "promotion")]
    assert _count(engine, DatasetUse) == 3
    assert _count(engine, AuditEntry) >= result["added"]
    with engine.connect() as connection:
        changes = connection.execute(
            select(AuditEntry.action, AuditEntry.details).where(AuditEntry.table_name == "models")
        ).all()
    assert [action for action, _ in changes] == ["insert", "update"]  # the promotion
    assert changes[1][1]["status"] == "champion"


def test_a_search_books_its_whole_cost_and_its_held_out_verdict(engine, tmp_path):
    data = _write(tmp_path / "customers.csv", "a,b\n1,2\n")
    report = {**_search_report(data), "holdout_met": False}  # as the search now writes it
    path = _write(tmp_path / "search" / "report.json", report)
    _write(tmp_path / "search" / "report.html", "<html>the search report</html>")
    ingest_into(engine, path, project="churn", team="Marketing")
    with engine.connect() as connection:
        model = connection.execute(select(Model)).one()
        cost = connection.execute(select(CostEntry)).one()
    # 40 + 1.5 + 1 + 0.5 = 43 s of search, baseline, finalists and refit at $0.10 per hour:
    # not only the 2.5 s final fit (train_cost_usd 0.02)
    assert cost.amount == (D(43) / D(3600) * D("0.1")).quantize(D("1e-9"))  # stored to 1e-9
    assert cost.provenance == "measured" and cost.details["inputs"]["n_trials"] == 57
    assert "3,600" in cost.details["formula"]
    assert model.holdout_met is False and model.min_score == 0.85
    assert model.search_seconds == 43.0 and model.n_trials == 57
    assert model.report_html == str((tmp_path / "search" / "report.html").resolve())
    assert model.provenance == "measured"


def test_holdout_met_is_derived_for_reports_written_before_the_key(engine, tmp_path):
    data = _write(tmp_path / "customers.csv", "a,b\n1,2\n")
    report = _search_report(data)
    report["chosen"] = {**report["chosen"], "holdout_score": 0.84}  # below min_score 0.85
    ingest_into(engine, _write(tmp_path / "s" / "report.json", report), project="p", team="T")
    with engine.connect() as connection:
        model = connection.execute(select(Model)).one()
    assert model.holdout_met is False and model.report_html is None


def test_a_drift_event_keeps_the_path_of_its_drift_html(engine, tmp_path):
    folder = tmp_path / "project"
    _write(folder / "reports" / "b1" / "drift.html", "<html>drift</html>")
    events = [_event("c1", "check", details={"report_html": "reports/b1/drift.html"})]
    _write(folder / ".halfcost" / "events.jsonl", json.dumps(events[0]) + "\n")
    ingest_into(engine, folder, project="churn", team="Marketing")
    with engine.connect() as connection:
        event = connection.execute(select(DriftEvent)).one()
    assert event.report_html == str((folder / "reports" / "b1" / "drift.html").resolve())


def test_ingesting_twice_adds_nothing(engine, run_folder):
    ingest_into(engine, run_folder, project="churn", team="Marketing")
    counts = [_count(engine, m) for m in (Model, CostEntry, Saving, DriftEvent, DatasetUse)]
    again = ingest_into(engine, run_folder, project="churn").to_dict()
    assert again["added"] == 0 and again["files_added"] == 0 and again["files_skipped"] == 6
    assert [_count(engine, m) for m in (Model, CostEntry, Saving, DriftEvent, DatasetUse)] == counts


def test_a_grown_event_log_adds_only_new_events(engine, run_folder):
    log = run_folder / ".halfcost" / "events.jsonl"
    ingest_into(engine, log, project="churn", team="Marketing")
    with log.open("a") as handle:
        handle.write(json.dumps(_event("e3", "refusal", challenger="v0002")) + "\n")
    result = ingest_into(engine, log, project="churn").to_dict()
    assert result["added"] == 1 and _count(engine, DriftEvent) == 4


def test_a_broken_file_leaves_the_registry_unchanged(engine, run_folder):
    migrate(engine)
    log = run_folder / ".halfcost" / "events.jsonl"
    log.write_text(log.read_text() + "{not json\n")
    audit_before = _count(engine, AuditEntry)
    with pytest.raises(BadInputError, match=r"events\.jsonl:4: not a JSON object"):
        ingest_into(engine, run_folder, project="churn", team="Marketing")
    for model in (Model, CostEntry, Saving, DriftEvent, DatasetUse, Dataset):
        assert _count(engine, model) == 0, model.__tablename__
    assert _count(engine, AuditEntry) == audit_before


BAD_REPORTS = [
    ({"kind": "forecast"}, "unknown report kind 'forecast'"),
    ({"kind": "labeling", "labels_bought": -1}, "labels_bought must be a whole number"),
    ({"kind": "search", "chosen": {}}, "needs a 'chosen' model"),
]


def test_bad_reports_are_one_line_errors(engine, tmp_path):
    for index, (content, message) in enumerate(BAD_REPORTS):
        path = _write(tmp_path / str(index) / "report.json", content)
        with pytest.raises(BadInputError, match=message) as caught:
            ingest_into(engine, path, project="churn", team="Marketing")
        assert "\n" not in str(caught.value)
    assert _count(engine, Model) == 0 and _count(engine, Saving) == 0


def test_dvc_lock_datasets_are_the_pipelines_input_data(engine, tmp_path):
    lock = _write(
        tmp_path / "dvc.lock",
        """schema: '2.0'
stages:
  prepare:
    cmd: halfcost drift prepare
    deps:
    - {path: data/customers.csv, md5: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, size: 10}
    - {path: data/batches, md5: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.dir, size: 20, nfiles: 2}
    outs:
    - {path: data/prepared, md5: cccccccccccccccccccccccccccccccc.dir}
  search:
    cmd: halfcost search data/prepared/train.csv
    deps:
    - {path: data/prepared/train.csv, md5: dddddddddddddddddddddddddddddddd}
    - {path: search.py, md5: eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee}
    outs:
    - {path: models/challenger, md5: ffffffffffffffffffffffffffffffff.dir}
  evaluate:
    cmd: halfcost evaluate --model models/challenger/model
    deps:
    - {path: models/challenger, md5: ffffffffffffffffffffffffffffffff.dir}
    - {path: external/model_zoo, md5: 99999999999999999999999999999999.dir}
""",
    )
    ingest_into(engine, lock, project="churn", team="Marketing")
    with engine.connect() as connection:
        found = sorted(connection.execute(select(Dataset.name, Dataset.version)).all())
    assert found == [("data/batches", "b" * 32), ("data/customers.csv", "a" * 32)]


def test_reuse_by_another_team_is_found_by_content_hash(engine, tmp_path):
    lock = "stages:\n  s:\n    cmd: x\n    deps:\n    - path: {name}\n      md5: {md5}\n"
    md5 = "5" * 32
    first = _write(tmp_path / "a" / "dvc.lock", lock.format(name="data/customers.csv", md5=md5))
    second = _write(tmp_path / "b" / "dvc.lock", lock.format(name="input/cust.csv", md5=md5) + "\n")
    ingest_into(engine, first, project="churn", team="Marketing")
    ingest_into(engine, second, project="fraud", team="Risk")
    from halfcost.governance import Filters, datasets_reuse

    table = datasets_reuse(engine, Filters())
    assert table["reuse_count"].tolist() == [1] and table["owner_team"].tolist() == ["Marketing"]
    assert table["teams_using"].tolist() == ["Marketing, Risk"]


def test_a_new_project_needs_a_team_and_an_existing_one_keeps_its_team(engine, run_folder):
    log = run_folder / ".halfcost" / "events.jsonl"
    with pytest.raises(BadInputError, match="pass --team"):
        ingest_into(engine, log, project="churn")
    ingest_into(engine, log, project="churn", team="Marketing")
    with pytest.raises(BadInputError, match="belongs to team 'Marketing'"):
        ingest_into(engine, log, project="churn", team="Risk")


def test_missing_path_is_bad_input(engine, tmp_path):
    with pytest.raises(BadInputError, match="no such file or folder"):
        ingest_into(engine, tmp_path / "nope", project="churn", team="T")


def test_demo_registry_is_seeded_once_and_holds_the_real_runs(db_url, run_folder):
    from halfcost.governance import fill_demo_registry

    first = fill_demo_registry(db_url, runs=[(run_folder, "demo-churn", "Demo")], seed=1)
    assert first["seeded"]["projects"] == 12 and first["ingested"][0]["files_added"] == 6
    again = fill_demo_registry(db_url, runs=[(run_folder, "demo-churn", "Demo")], seed=1)
    assert again["seeded"] is None and again["ingested"][0]["added"] == 0


def test_statuses_follow_promotions_across_ingests(engine, tmp_path):
    folder = tmp_path / "project"
    data = _write(folder / "customers.csv", "a,b\n1,2\n")
    report_a = json.dumps(_search_report(data, chosen_cost="0.4"))
    _write(folder / "models" / "challenger" / "report.json", report_a)
    ingest_into(engine, folder, project="churn", team="Marketing")
    with engine.connect() as connection:
        (version,) = connection.execute(select(Model.version)).scalars()
    assert version.startswith("s-")  # not promoted yet: named by its hash

    _write(folder / ".halfcost" / "champions" / "v0001" / "report.json", report_a)
    log = folder / ".halfcost" / "events.jsonl"
    first = _event(
        "p1", "promotion", champion="v0001", challenger="v0001", time="2026-03-06T00:00:00+00:00"
    )
    _write(log, json.dumps(first) + "\n")
    ingest_into(engine, folder, project="churn")
    report_b = json.dumps(_search_report(data, chosen_cost="0.3") | {"seed": 2})
    _write(folder / ".halfcost" / "champions" / "v0002" / "report.json", report_b)
    second = _event(
        "p2", "promotion", champion="v0002", challenger="v0002", time="2026-04-01T00:00:00+00:00"
    )
    _write(log, json.dumps(first) + "\n" + json.dumps(second) + "\n")
    ingest_into(engine, folder, project="churn")

    def statuses():
        with engine.connect() as connection:
            rows = connection.execute(
                select(Model.version, Model.status, Model.retired_at).order_by(Model.version)
            )
            return [(v, s, r and r.date().isoformat()) for v, s, r in rows]

    assert statuses() == [("v0001", "retired", "2026-04-01"), ("v0002", "champion", None)]
    audit = _count(engine, AuditEntry)
    ingest_into(engine, folder, project="churn")  # nothing new: no change, no audit row
    assert _count(engine, AuditEntry) == audit and len(statuses()) == 2


def test_a_new_report_kind_plugs_in_as_a_reader(engine, tmp_path):
    from halfcost.governance import DEFAULT_READERS, IngestContext, ReportReader

    class ServingReader(ReportReader):
        kind = "serving"

        def read(self, ctx: IngestContext, path, report, sha) -> int:
            ctx.session.add(
                CostEntry(
                    incurred_on=date(2026, 5, 1),
                    project_id=ctx.project.id,
                    team_id=ctx.team_id,
                    category="compute",
                    amount=D(str(report["bill_usd"])),
                    source=path.name,
                    identity=sha,
                )
            )
            return 1

    report = _write(tmp_path / "report.json", {"kind": "serving", "bill_usd": "12.5"})
    with pytest.raises(BadInputError, match="choose one of search, clean, labeling"):
        ingest_into(engine, report, project="churn", team="Marketing")
    result = ingest_into(
        engine,
        report,
        project="churn",
        team="Marketing",
        readers=[*DEFAULT_READERS, ServingReader()],
    )
    assert result.added == 1 and _count(engine, CostEntry) == 1


def test_set_aside_batches_are_not_datasets_the_project_used(engine, run_folder):
    aside = run_folder / ".halfcost" / "set_aside" / "b-0123456789abcdef-x.csv.dvc"
    _write(aside, "outs:\n- md5: 55555555555555555555555555555555\n  path: b-x.csv\n")
    result = ingest_into(engine, run_folder, project="churn", team="Marketing").to_dict()
    assert str(aside) not in [f["path"] for f in result["files"]]
    with engine.connect() as connection:
        versions = {r[0] for r in connection.execute(select(Dataset.version))}
    assert "5" * 32 not in versions and "4" * 32 in versions


def test_an_ingest_that_finds_nothing_writes_nothing(engine, tmp_path):
    from halfcost.governance._models import Project, Team

    (tmp_path / "nothing").mkdir()
    (tmp_path / "nothing" / "notes.txt").write_text("no halfcost files here")
    result = ingest_into(engine, tmp_path / "nothing", project="churn", team="Marketing")
    assert result.to_dict()["files"] == [] and result.added == 0
    assert _count(engine, Project) == 0 and _count(engine, Team) == 0


def test_identical_ingests_racing_all_succeed_once(empty_db_url, run_folder):
    db_url = empty_db_url  # a new registry: the migrations race too
    import subprocess

    from halfcost.governance import connect

    exe = Path(sys.executable).parent / "halfcost"  # started at once, not one by one
    args = ["registry", "ingest", str(run_folder), "--project", "churn", "--team", "Marketing"]
    procs = [
        subprocess.Popen(
            [str(exe), *args, "--db", db_url, "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 4, [err for _, err in outputs]
    added = [json.loads(out)["files_added"] for out, _ in outputs]
    assert sorted(added) == [0, 0, 0, 6]  # one ingest added the files; the others found them
    engine = connect(db_url)
    try:
        assert _count(engine, DriftEvent) == 3 and _count(engine, Model) == 1
    finally:
        engine.dispose()


def test_adding_an_existing_team_says_so(cli, db_url):
    first = cli(["registry", "add", "team", "Marketing", "--db", db_url])
    again = cli(["registry", "add", "team", "Marketing", "--db", db_url])
    assert first.returncode == 0 and again.returncode == 0, again.stderr
    assert first.stdout.startswith("added team")
    assert "'Marketing' already exists" in again.stdout
    assert not again.stdout.startswith("added")


@pytest.mark.postgres
def test_four_processes_ingesting_at_once_lose_no_row_and_add_no_duplicate(
    tmp_path, postgres_database
):
    """Four ingests race on one new team and project, each with its own runs and one shared."""
    import subprocess

    from halfcost.governance import connect
    from halfcost.governance._models import IngestedFile, Project, Team

    shared_data = _write(tmp_path / "shared.csv", "a,b\n0,0\n")
    shared = json.dumps(_search_report(shared_data))
    folders = []
    for i in range(4):
        folder = tmp_path / f"host{i}"
        for j in range(3):
            data = _write(folder / f"d{j}.csv", f"a,b\n{i},{j}\n")
            _write(folder / f"run{j}" / "report.json", _search_report(data))
        _write(folder / "shared" / "report.json", shared)
        folders.append(folder)
    exe = Path(sys.executable).parent / "halfcost"
    with postgres_database() as url:
        flags = ["--project", "churn", "--team", "Marketing", "--db", url, "--json"]
        init = subprocess.run([str(exe), "registry", "init", "--db", url], capture_output=True)
        assert init.returncode == 0, init.stderr
        procs = [
            subprocess.Popen(
                [str(exe), "registry", "ingest", str(folder), *flags],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for folder in folders
        ]
        outputs = [proc.communicate(timeout=300) for proc in procs]
        assert [proc.returncode for proc in procs] == [0] * 4, [err for _, err in outputs]
        added = sorted(json.loads(out)["files_added"] for out, _ in outputs)
        assert added == [3, 3, 3, 4]  # the shared report went in once, by one of them
        engine = connect(url)
        try:
            assert _count(engine, Model) == 13 and _count(engine, IngestedFile) == 13
            assert _count(engine, Team) == 1 and _count(engine, Project) == 1
        finally:
            engine.dispose()


@pytest.mark.postgres
def test_a_shared_postgres_is_upgraded_only_by_registry_upgrade(cli, tmp_path, postgres_database):
    from sqlalchemy import text

    from halfcost.governance._db import connect, current_revision, head_revision

    report = _write(
        tmp_path / "run" / "report.json", _search_report(_write(tmp_path / "d.csv", "a\n1\n"))
    )
    ingest = ["registry", "ingest", str(report), "--project", "p", "--team", "T"]
    with postgres_database() as url:
        engine = connect(url)
        try:
            migrate(engine, "0001_initial")
            refused = cli([*ingest, "--db", url])
            assert refused.returncode == 2
            assert "halfcost registry upgrade" in refused.stderr
            assert current_revision(engine) == "0001_initial"  # nothing changed it

            done = cli(["registry", "upgrade", "--db", url])
            assert done.returncode == 0, done.stderr
            assert "0001_initial -> " + head_revision() in done.stdout
            assert cli([*ingest, "--db", url]).returncode == 0

            with engine.begin() as connection:  # a newer halfcost upgraded it since
                connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
            newer = cli([*ingest, "--db", url])
            assert newer.returncode == 2 and "newer than this halfcost" in newer.stderr
            assert cli(["registry", "upgrade", "--db", url]).returncode == 2
        finally:
            engine.dispose()


def test_sqlite_registries_keep_upgrading_themselves(cli, tmp_path):
    from halfcost.governance._db import connect, current_revision, head_revision

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    engine = connect(url)
    migrate(engine, "0001_initial")
    report = _write(
        tmp_path / "run" / "report.json", _search_report(_write(tmp_path / "d.csv", "a\n1\n"))
    )
    done = cli(["registry", "ingest", str(report), "--project", "p", "--team", "T", "--db", url])
    assert done.returncode == 0, done.stderr
    assert current_revision(engine) == head_revision()
    engine.dispose()
