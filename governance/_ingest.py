"""Feeding the registry from what the other commands write, idempotently and all-or-nothing.

Known files (a folder is walked for them):

- ``report.json`` of kind ``search`` → a model (+ its Pareto front, training cost, the
  dataset it was trained on); kind ``clean`` → a "less cleaning" saving and a dataset use;
  kind ``labeling`` → the labels bought (a labeling cost) and the labels saved (a
  simulation, which buys none, books neither);
- ``events.jsonl`` (the drift event log) → drift events; promotions update model statuses;
- ``.halfcost/champion.json`` (the champion pointer) → which model is the champion;
- ``dvc.lock`` and ``*.dvc`` → dataset versions (the DVC md5) used by the project.

A file's identity is the SHA-256 of its bytes: ingesting it again adds nothing. A drift
event's identity is its ``event_id``, so a grown event log adds only its new lines. One
call is one transaction: an error in any file leaves the registry as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from sqlalchemy import Engine, select

from halfcost.errors import BadInputError
from halfcost.governance._db import (
    connect,
    describe_url,
    ensure_schema,
    retry_writes,
    write_session,
)
from halfcost.governance._models import (
    ESTIMATED,
    MEASURED,
    CostEntry,
    Dataset,
    DatasetUse,
    DriftEvent,
    IngestedFile,
    Model,
    ModelDataset,
    ParetoPoint,
    Project,
    Saving,
    Team,
    utc_now,
)
from halfcost.records import (
    CleanReport,
    CostCategory,
    DataLineage,
    Event,
    EventKind,
    LabelingReport,
    Lever,
    ModelEntry,
    ModelStatus,
    ReportKind,
    SearchReport,
    money_to_json,
    parse_time,
    read_jsonl,
)

REVIEW_COST_PER_ROW_USD = Decimal("0.10")
"""Default cost of reviewing one bad row by hand (the "less cleaning" lever); see docs."""

_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", "cache", "tmp"}
_DATA_SUFFIXES = {".csv", ".parquet", ".tsv", ".jsonl", ".feather", ".pq", ".zip", ".gz"}
_VERSION_DIR = re.compile(r"^v\d+$")
# state folders of a drift project whose files are not the project's: batches a watch set
# aside (refused or failed: never training data) and half-staged batches
_STATE_SKIP = {".halfcost": {"set_aside", "staging"}}


@dataclass
class IngestResult:
    """What one ingest call did: per file, its kind, hash, status and records added."""

    project: str
    db: str
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def added(self) -> int:
        """Records added over all files."""
        return sum(f["records"] for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data (what ``registry ingest --json`` prints)."""
        return {
            "project": self.project,
            "db": self.db,
            "added": self.added,
            "files_added": sum(f["status"] == "added" for f in self.files),
            "files_skipped": sum(f["status"] != "added" for f in self.files),
            "files": self.files,
        }


# --- finding and reading files -----------------------------------------------------------------


def _known(path: Path) -> bool:
    return (
        path.name in ("report.json", "events.jsonl", "dvc.lock")
        or path.suffix == ".dvc"
        or (path.name == "champion.json" and path.parent.name == ".halfcost")
    )


def find_files(path: Path) -> list[Path]:
    """The known files at ``path`` (a file, or a folder walked recursively), in ingest order."""
    if not path.exists():
        raise BadInputError(
            f"{path}: no such file or folder; pass a report.json, events.jsonl, "
            "dvc.lock, *.dvc file or a folder holding them"
        )
    if path.is_file():
        if not _known(path) and path.suffix != ".json":
            raise BadInputError(
                f"{path}: not a file the registry knows; pass a report.json, events.jsonl, "
                "dvc.lock or *.dvc file (or a folder holding them)"
            )
        return [path]
    found = []
    for root, dirs, files in os.walk(path):
        skip = _SKIP_DIRS | _STATE_SKIP.get(Path(root).name, set())
        dirs[:] = sorted(d for d in dirs if d not in skip and not d.startswith(".incoming"))
        found.extend(Path(root) / name for name in sorted(files) if _known(Path(root) / name))
    return sorted(found, key=_order)


def _order(path: Path) -> tuple[int, str]:
    """Datasets first, then reports (models), then events and the champion pointer."""
    if path.name == "dvc.lock" or path.suffix == ".dvc":
        rank = 0
    elif path.name == "report.json" or (path.suffix == ".json" and path.name != "champion.json"):
        rank = 1
    elif path.name == "events.jsonl":
        rank = 2
    else:
        rank = 3
    return rank, str(path)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read it ({exc.strerror}); check the path") from exc


def _load_json(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputError(
            f"{path}: not valid JSON ({exc}); re-run the command that wrote it"
        ) from exc
    if not isinstance(data, dict):
        raise BadInputError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def _load_yaml(path: Path, raw: bytes) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0]
        raise BadInputError(f"{path}: not valid YAML ({first}); restore it with DVC") from exc
    if not isinstance(data, dict):
        raise BadInputError(f"{path}: expected a YAML mapping as DVC writes it")
    return data


def _time(value: Any, where: str) -> datetime:
    return parse_time(value, where)


def _key(*parts: str) -> str:
    """A 64-character identity for a record derived from a file (its hash plus a label)."""
    return hashlib.sha256(":".join(parts).encode()).hexdigest()


def _count(data: dict[str, Any], key: str, where: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadInputError(f"{where}: {key} must be a whole number ≥ 0, but got {value!r}")
    return value


# --- the ingest context -------------------------------------------------------------------------


@dataclass
class IngestContext:
    """What a reader writes into: the open session (one transaction) and the project."""

    session: Any
    project: Project
    review_cost_per_row: Decimal
    readers: Sequence[ReportReader] = ()
    pointer: tuple[datetime, str] | None = None
    price_per_hour: Decimal | None = None  # from this ingest's search reports, for retrains

    @property
    def team_id(self) -> int:
        """The project's team."""
        return self.project.team_id


def ensure_team(session: Any, name: str) -> Team:
    """Team ``name``, created when new."""
    if not name or not name.strip():
        raise BadInputError("a team needs a name; got an empty one")
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name)
        session.add(team)
        session.flush()
    return team


def ensure_project(session: Any, project: str, team: str | None) -> Project:
    """The registry's project ``project``, created under ``team`` when new."""
    if not project or not project.strip():
        raise BadInputError("--project must name the project; got an empty name")
    found = session.scalar(select(Project).where(Project.name == project))
    if found is not None:
        if team is not None:
            owner = session.get(Team, found.team_id)
            if owner.name != team:
                raise BadInputError(
                    f"project {project!r} belongs to team {owner.name!r}, not {team!r}; "
                    f"pass --team {owner.name!r} or another project name"
                )
        return found
    if team is None:
        raise BadInputError(
            f"project {project!r} is not in the registry yet; pass --team TEAM to create it"
        )
    created = Project(name=project, team_id=ensure_team(session, team).id)
    session.add(created)
    session.flush()
    return created


def _dataset(
    ctx: IngestContext, name: str, version: str, rows: int | None = None, path: str | None = None
) -> Dataset:
    """The dataset with this content hash (under any name), or a new one owned by this team."""
    found = ctx.session.scalar(
        select(Dataset).where(Dataset.version == version).order_by(Dataset.id).limit(1)
    )
    if found is not None:
        if found.rows is None and rows is not None:
            found.rows = rows
        return found
    dataset = Dataset(name=name, version=version, rows=rows, owner_team_id=ctx.team_id, path=path)
    ctx.session.add(dataset)
    ctx.session.flush()
    return dataset


def _use(ctx: IngestContext, dataset: Dataset, used_at: datetime, identity: str) -> int:
    if ctx.session.scalar(select(DatasetUse.id).where(DatasetUse.identity == identity)):
        return 0
    ctx.session.add(
        DatasetUse(
            dataset_id=dataset.id,
            project_id=ctx.project.id,
            team_id=ctx.team_id,
            used_at=used_at,
            identity=identity,
        )
    )
    return 1


def _md5_of(path: Path) -> str | None:
    """The DVC version (md5 of the bytes) of a data file, when it is readable."""
    if not path.is_file():
        return None
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _input_dataset(ctx: IngestContext, data: DataLineage | None, where: Path) -> Dataset | None:
    """The dataset a report's lineage names (md5 when the file is here, else sha256)."""
    if data is None:
        return None
    raw_path = data.path
    version = None
    if raw_path:
        candidate = Path(raw_path)
        bases = [] if candidate.is_absolute() else [*list(where.parents)[:4], Path.cwd()]
        for found in [candidate] if not bases else [base / candidate for base in bases]:
            version = _md5_of(found)
            if version is not None:
                break
    if version is None and data.sha256:
        version = f"sha256:{data.sha256}"
    if version is None:
        return None
    name = Path(raw_path).name if raw_path else f"data-{version[-8:]}"
    return _dataset(ctx, name, version, rows=data.rows, path=raw_path)


# --- one reader per kind -----------------------------------------------------------------------


def _model_version(path: Path, sha: str) -> str:
    for folder in (path.parent, path.parent.parent):
        if _VERSION_DIR.match(folder.name):
            return folder.name
    return f"s-{sha[:10]}"


def _chosen_point(point: dict[str, Any], chosen: ModelEntry) -> bool:
    return point.get("family") == chosen.family and point.get("params") == chosen.params


def _ingest_search(ctx: IngestContext, path: Path, report: dict[str, Any], sha: str) -> int:
    record = SearchReport.from_dict(report, where=str(path))
    chosen = record.chosen
    assert chosen is not None  # from_dict refuses a report without one
    baseline = record.baseline or ModelEntry(family="", cv_score=None)
    created = record.created_at
    version = _model_version(path, sha)
    clash = ctx.session.scalar(
        select(Model).where(Model.project_id == ctx.project.id, Model.version == version)
    )
    if clash is not None:
        raise BadInputError(
            f"{path}: project {ctx.project.name!r} already has a different model {version}; "
            "ingest it under its own project"
        )
    model = Model(
        project_id=ctx.project.id,
        version=version,
        family=chosen.family,
        metric=record.metric,
        cv_score=chosen.cv_score,
        holdout_score=chosen.holdout_score,
        latency_ms_per_1k=chosen.latency_ms_per_1k,
        size_bytes=chosen.size_bytes,
        train_seconds=chosen.train_seconds,
        cost_per_1m=chosen.cost_per_1m_predictions_usd,
        train_cost=chosen.train_cost_usd,
        baseline_family=baseline.family or None,
        baseline_score=baseline.cv_score,
        baseline_latency_ms_per_1k=baseline.latency_ms_per_1k,
        baseline_cost_per_1m=baseline.cost_per_1m_predictions_usd,
        status=ModelStatus.CANDIDATE,
        created_at=created,
        identity=sha,
        provenance=MEASURED,
        min_score=_float(record.min_score),
        holdout_met=_holdout_met(record),
        report_html=_evidence(path.parent / "report.html"),
        price_per_hour=_float(record.price_per_hour),
        search_seconds=record.total_seconds,
        n_trials=record.n_trials if isinstance(record.n_trials, int) else None,
    )
    ctx.session.add(model)
    ctx.session.flush()
    price = record.price_per_hour if (record.price_per_hour or 0) >= 0 else None
    if price is not None:
        ctx.price_per_hour = price
    records = 1
    for point in record.pareto:
        ctx.session.add(
            ParetoPoint(
                model_id=model.id,
                family=str(point.get("family")),
                score=point.get("cv_score"),
                latency_ms_per_1k=point.get("latency_ms_per_1k"),
                size_bytes=point.get("size_bytes"),
                chosen=_chosen_point(point, chosen),
            )
        )
        records += 1
    search_cost = _search_cost(path, record, model, price)
    if search_cost is not None:
        amount, details = search_cost
        ctx.session.add(
            _cost(ctx, created.date(), CostCategory.COMPUTE, amount, path, sha, details=details)
        )
        records += 1
    dataset = _input_dataset(ctx, record.data, path)
    if dataset is not None:
        ctx.session.add(ModelDataset(model_id=model.id, dataset_id=dataset.id))
        records += _use(ctx, dataset, created, _key(sha, "use"))
    return records


def _float(value: Any) -> float | None:
    """A number from a report (schema v2 writes money as decimal strings), else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _holdout_met(record: SearchReport) -> bool | None:
    """The search's ``holdout_met``; for reports written before it, held-out ≥ target."""
    if isinstance(record.holdout_met, bool):
        return record.holdout_met
    target, holdout = _float(record.min_score), record.chosen.holdout_score
    if target is not None and isinstance(holdout, int | float):
        return bool(holdout >= target)
    return None


def _evidence(path: Path) -> str | None:
    """The absolute path of a run's HTML report when it is there (the app serves it)."""
    return str(path.resolve())[:1000] if path.is_file() else None


def _search_cost(
    path: Path, record: SearchReport, model: Model, price: Decimal | None
) -> tuple[Decimal, dict[str, Any]] | None:
    """The whole search's compute cost and how it was computed, or None without a price.

    A report inside a drift project's ``.halfcost/`` folder was written by a retrain's
    ``dvc repro``: that run's cost is booked from its ``retrain`` event, not twice.
    """
    from halfcost.governance._roi import FORMULAS, compute_cost

    if ".halfcost" in path.parts:
        return None
    seconds = record.total_seconds
    if price is None or seconds is None:
        if model.train_cost is None:
            return None
        return model.train_cost, {"formula": "the final refit's train_cost_usd", "inputs": {}}
    inputs: dict[str, Any] = {key: getattr(record, key) for key in record.SECONDS_KEYS}
    inputs.update(price_per_hour=money_to_json(price), n_trials=record.n_trials)
    return compute_cost(seconds, price), {"formula": FORMULAS["search_compute"], "inputs": inputs}


def _cost(
    ctx: IngestContext,
    day: date,
    category: str,
    amount: Decimal,
    path: Path,
    sha: str,
    *,
    details: dict[str, Any] | None = None,
    provenance: str = MEASURED,
):
    return CostEntry(
        incurred_on=day,
        project_id=ctx.project.id,
        team_id=ctx.team_id,
        category=category,
        amount=amount,
        currency="USD",
        source=f"{path.name} {sha[:12]}",
        identity=_key(sha, category),
        provenance=provenance,
        details=details,
    )


def _ingest_clean(ctx: IngestContext, path: Path, report: dict[str, Any], sha: str) -> int:
    record = CleanReport.from_dict(report, where=str(path))
    handled = record.rows_repaired + record.rows_quarantined
    rate = record.review_cost_per_row_usd
    rate = ctx.review_cost_per_row if rate is None else rate
    created = record.created_at
    from halfcost.governance._roi import cleaning_saved

    ctx.session.add(
        Saving(
            saved_on=created.date(),
            project_id=ctx.project.id,
            lever=Lever.LESS_CLEANING,
            provenance=ESTIMATED,
            amount=cleaning_saved(handled, rate),
            source=f"{path.name} {sha[:12]}",
            details={
                "rows_in": record.rows_in,
                "rows_repaired": record.rows_repaired,
                "rows_quarantined": record.rows_quarantined,
                "review_cost_per_row_usd": money_to_json(rate),
            },
            identity=sha,
        )
    )
    records = 1
    dataset = _input_dataset(ctx, record.data, path)
    if dataset is not None:
        records += _use(ctx, dataset, created, _key(sha, "use"))
    return records


def _ingest_labeling(ctx: IngestContext, path: Path, report: dict[str, Any], sha: str) -> int:
    """Labels bought → a labeling cost and a "fewer labels" saving; a plan books no money.

    A simulation (``halfcost label simulate``) buys nothing: with no labels bought it books
    neither cost nor saving (its ``labels_planned`` is a plan), whether or not it names a
    price. Labels actually bought need their price.
    """
    record = LabelingReport.from_dict(report, where=str(path))
    price = record.cost_per_label_usd
    bought, saved = record.labels_bought, record.labels_saved_vs_random
    records = 0
    created = record.created_at
    if bought > 0:
        if price is None or price < 0:
            raise BadInputError(f"{path}: a labeling report needs cost_per_label_usd ≥ 0")
        from halfcost.governance._roi import labeling_saved

        labeling = CostCategory.LABELING
        ctx.session.add(_cost(ctx, created.date(), labeling, Decimal(bought) * price, path, sha))
        ctx.session.add(
            Saving(
                saved_on=created.date(),
                project_id=ctx.project.id,
                lever=Lever.FEWER_LABELS,
                provenance=ESTIMATED,
                amount=labeling_saved(saved, price),
                source=f"{path.name} {sha[:12]}",
                details={"labels_bought": bought, "labels_saved_vs_random": saved},
                identity=sha,
            )
        )
        records = 2
    dataset = _input_dataset(ctx, record.data, path)
    if dataset is not None:
        records += _use(ctx, dataset, created, _key(sha, "use"))
    return records


class ReportReader(ABC):
    """Turns one kind of ``report.json`` (its ``"kind"``) into registry records.

    The extension point for new commands: subclass, set ``kind``, implement :meth:`read`,
    and pass an instance in ``ingest_into(..., readers=[*DEFAULT_READERS, MyReader()])``.
    """

    kind: ClassVar[str]

    @abstractmethod
    def read(self, ctx: IngestContext, path: Path, report: dict[str, Any], sha: str) -> int:
        """Add the report's records through ``ctx.session``; return how many were added.

        ``sha`` is the SHA-256 of the file: derive record identities from it. Raise
        :class:`~halfcost.errors.BadInputError` (naming ``path``) for unusable content.
        """


class SearchReader(ReportReader):
    """``halfcost search``: a model, its Pareto front, its training cost, its data."""

    kind = ReportKind.SEARCH

    def read(self, ctx: IngestContext, path: Path, report: dict[str, Any], sha: str) -> int:
        return _ingest_search(ctx, path, report, sha)


class CleanReader(ReportReader):
    """``halfcost clean``: the rows fixed automatically (the "less cleaning" lever)."""

    kind = ReportKind.CLEAN

    def read(self, ctx: IngestContext, path: Path, report: dict[str, Any], sha: str) -> int:
        return _ingest_clean(ctx, path, report, sha)


class LabelingReader(ReportReader):
    """Active-learning labelling: the labels bought and those saved against random picks."""

    kind = ReportKind.LABELING

    def read(self, ctx: IngestContext, path: Path, report: dict[str, Any], sha: str) -> int:
        return _ingest_labeling(ctx, path, report, sha)


DEFAULT_READERS: tuple[ReportReader, ...] = (SearchReader(), CleanReader(), LabelingReader())


def _ingest_report(ctx: IngestContext, path: Path, raw: bytes, sha: str) -> tuple[str, int]:
    report = _load_json(path, raw)
    kind = report.get("kind")
    readers = {reader.kind: reader for reader in ctx.readers}
    reader = readers.get(kind)
    if reader is None:
        raise BadInputError(
            f"{path}: unknown report kind {kind!r}; choose one of {', '.join(readers)}"
        )
    return kind, reader.read(ctx, path, report, sha)


def _ingest_events(ctx: IngestContext, path: Path, raw: bytes, sha: str) -> tuple[str, int]:
    records = 0
    for number, line in read_jsonl(raw, name=str(path)):
        event = Event.from_dict(line, where=f"{path}:{number}")
        if ctx.session.scalar(select(DriftEvent.id).where(DriftEvent.event_id == event.event_id)):
            continue
        ctx.session.add(_event_row(ctx, event, path))
        records += 1 + _retrain_cost(ctx, event)
    return "events", records


def _project_price(ctx: IngestContext) -> Decimal | None:
    """The price per core-hour of this ingest's search, else of the project's latest model."""
    if ctx.price_per_hour is not None:
        return ctx.price_per_hour
    price = ctx.session.scalar(
        select(Model.price_per_hour)
        .where(Model.project_id == ctx.project.id, Model.price_per_hour.is_not(None))
        .order_by(Model.created_at.desc())
        .limit(1)
    )
    return None if price is None else Decimal(str(price))


def _retrain_cost(ctx: IngestContext, event: Event) -> int:
    """Book a retrain's whole ``dvc repro`` run (failed ones too) as an estimated compute cost."""
    from halfcost.governance._roi import FORMULAS, compute_cost

    details = event.details if isinstance(event.details, dict) else {}
    seconds = _float(details.get("repro_seconds"))
    if event.kind not in (EventKind.RETRAIN, EventKind.RETRAIN_FAILED) or seconds is None:
        return 0
    price = _project_price(ctx)
    if price is None:
        return 0
    ctx.session.add(
        CostEntry(
            incurred_on=event.time.date(),
            project_id=ctx.project.id,
            team_id=ctx.team_id,
            category=CostCategory.COMPUTE,
            amount=compute_cost(seconds, price),
            currency="USD",
            source=f"{event.kind} event {event.event_id[:12]}",
            identity=_key(event.event_id, "retrain_compute"),
            provenance=ESTIMATED,
            details={
                "formula": FORMULAS["retrain_compute"],
                "inputs": {"repro_seconds": seconds, "price_per_hour": str(price)},
            },
        )
    )
    return 1


def _event_report(event: Event, log_path: Path) -> str | None:
    """The drift.html a check event names (relative paths are from the project folder)."""
    details = event.details if isinstance(event.details, dict) else {}
    named = details.get("report_html")
    if not named:
        return None
    candidate = Path(str(named))
    if not candidate.is_absolute():
        candidate = log_path.resolve().parent.parent / candidate  # .halfcost/events.jsonl
    return _evidence(candidate)


def _event_row(ctx: IngestContext, event: Event, log_path: Path) -> DriftEvent:
    def text(value: Any, limit: int = 300) -> str | None:
        return None if value is None else str(value)[:limit]

    return DriftEvent(
        event_id=event.event_id,
        time=event.time,
        project_id=ctx.project.id,
        kind=str(event.kind),
        decision=text(event.decision, 100),
        reason=None if event.reason is None else str(event.reason),
        batch=text(event.batch),
        batch_rows=event.batch_rows if isinstance(event.batch_rows, int) else None,
        data_version=text(event.data_version, 64),
        champion=text(event.champion, 64),
        challenger=text(event.challenger, 64),
        scores=event.scores if isinstance(event.scores, dict) else None,
        details=event.details if isinstance(event.details, dict) else None,
        provenance=MEASURED,
        report_html=_event_report(event, log_path),
    )


def _promotions(ctx: IngestContext) -> list[tuple[datetime, str]]:
    """(time, promoted version) of the project's promotions, oldest first."""
    rows = ctx.session.execute(
        select(DriftEvent.time, DriftEvent.challenger, DriftEvent.champion)
        .where(DriftEvent.project_id == ctx.project.id, DriftEvent.kind == EventKind.PROMOTION)
        .order_by(DriftEvent.time)
    )
    found = [(moment, challenger or champion) for moment, challenger, champion in rows]
    if ctx.pointer is not None:
        found.append(ctx.pointer)
        found.sort(key=lambda item: item[0])
    return [(moment, str(version)) for moment, version in found if version]


def reconcile_statuses(ctx: IngestContext) -> None:
    """Set champion/retired statuses from the promotions, whatever order files came in.

    Each promoted model is champion from its (last) promotion until the next promotion of
    another version, then retired. Only models whose status or times differ are updated
    (so the audit log records real changes only).
    """
    ctx.session.flush()
    promotions = _promotions(ctx)
    models = {
        m.version: m
        for m in ctx.session.scalars(select(Model).where(Model.project_id == ctx.project.id))
    }
    wanted: dict[str, tuple[datetime, datetime | None]] = {}
    for index, (moment, version) in enumerate(promotions):
        later = [t for t, v in promotions[index + 1 :] if v != version]
        wanted[version] = (moment, later[0] if later else None)
    for version, (promoted_at, retired_at) in wanted.items():
        model = models.get(version)
        if model is None:
            continue
        status = "champion" if retired_at is None else "retired"
        if (model.status, model.promoted_at, model.retired_at) != (status, promoted_at, retired_at):
            model.status, model.promoted_at, model.retired_at = status, promoted_at, retired_at


def _adopt_version(ctx: IngestContext, path: Path, sha: str) -> int:
    """A report seen before under a hash name, now in a ``vNNNN`` folder, takes that name."""
    version = _model_version(path, sha)
    if version.startswith("s-"):
        return 0
    model = ctx.session.scalar(
        select(Model).where(Model.identity == sha, Model.project_id == ctx.project.id)
    )
    if model is None or model.version == version:
        return 0
    model.version = version
    return 1


def _ingest_pointer(ctx: IngestContext, path: Path, raw: bytes, sha: str) -> tuple[str, int]:
    data = _load_json(path, raw)
    version = data.get("version")
    if not version:
        raise BadInputError(f"{path}: the champion pointer names no version")
    moment = _time(data.get("promoted_at") or utc_now(), str(path))
    ctx.pointer = (moment, str(version))
    return "champion", 1


def _lock_inputs(data: dict[str, Any], where: Path) -> list[dict[str, Any]]:
    """The deps of a dvc.lock's stages that no stage produces: the pipeline's input data."""
    stages = data.get("stages")
    if not isinstance(stages, dict):
        raise BadInputError(f"{where}: no 'stages' mapping; is this a DVC 3 dvc.lock?")
    stages = {k: v for k, v in stages.items() if isinstance(v, dict)}
    produced = [
        PurePosixPath(str(out.get("path")))
        for stage in stages.values()
        for out in stage.get("outs") or []
        if isinstance(out, dict)
    ]
    inputs = []
    for stage in stages.values():
        for dep in stage.get("deps") or []:
            if not isinstance(dep, dict):
                continue
            dep_path = PurePosixPath(str(dep.get("path")))
            if not any(dep_path == out or out in dep_path.parents for out in produced):
                inputs.append(dep)
    return inputs


def _dvc_outs(data: dict[str, Any], where: Path) -> Iterator[tuple[str, str, int | None]]:
    """(path, md5, size) of the data a dvc.lock's pipeline reads, or a .dvc file tracks.

    Data are data files (``.csv``, ``.parquet``, ...) and folders (md5 ending ``.dir``)
    whose path names no model; code, params and intermediate outputs are not datasets.
    """
    if where.name == "dvc.lock":
        entries = _lock_inputs(data, where)
    else:
        entries = [e for e in data.get("outs") or [] if isinstance(e, dict)]
        if not entries:
            raise BadInputError(f"{where}: no 'outs' with an md5; is this a DVC .dvc file?")
    seen = set()
    for entry in entries:
        name, md5 = str(entry.get("path") or ""), str(entry.get("md5") or "")
        folder = md5.endswith(".dir") and not any("model" in p for p in Path(name).parts)
        is_data = Path(name).suffix in _DATA_SUFFIXES or folder
        if name and md5 and is_data and (name, md5) not in seen:
            seen.add((name, md5))
            size = entry.get("size")
            yield name, md5.removesuffix(".dir"), size if isinstance(size, int) else None


def _ingest_dvc(ctx: IngestContext, path: Path, raw: bytes, sha: str) -> tuple[str, int]:
    data = _load_yaml(path, raw)
    moment = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    records = 0
    for name, md5, _size in _dvc_outs(data, path):
        dataset = _dataset(ctx, name, md5, path=name)
        records += _use(ctx, dataset, moment, _key(sha, name, md5))
    return "dvc", records


def _ingest_file(ctx: IngestContext, path: Path) -> dict[str, Any]:
    raw = _read_bytes(path)
    sha = hashlib.sha256(raw).hexdigest()
    entry = {"path": str(path), "sha256": sha}
    if ctx.session.scalar(select(IngestedFile.id).where(IngestedFile.sha256 == sha)):
        renamed = _adopt_version(ctx, path, sha) if path.name == "report.json" else 0
        return {**entry, "kind": None, "status": "already ingested", "records": renamed}
    if path.name == "events.jsonl":
        kind, records = _ingest_events(ctx, path, raw, sha)
    elif path.name == "dvc.lock" or path.suffix == ".dvc":
        kind, records = _ingest_dvc(ctx, path, raw, sha)
    elif path.name == "champion.json" and path.parent.name == ".halfcost":
        kind, records = _ingest_pointer(ctx, path, raw, sha)
    else:
        kind, records = _ingest_report(ctx, path, raw, sha)
    ctx.session.add(
        IngestedFile(
            sha256=sha, kind=kind, path=str(path)[:1000], project_id=ctx.project.id, records=records
        )
    )
    ctx.session.flush()
    return {**entry, "kind": kind, "status": "added", "records": records}


def ingest_into(
    engine: Engine,
    path: str | os.PathLike[str],
    *,
    project: str,
    team: str | None = None,
    review_cost_per_row_usd: Decimal = REVIEW_COST_PER_ROW_USD,
    readers: Sequence[ReportReader] | None = None,
) -> IngestResult:
    """Ingest ``path`` (a file or a folder) into the registry behind ``engine``, atomically.

    ``readers`` handle the ``report.json`` kinds (default :data:`DEFAULT_READERS`).
    """
    files = find_files(Path(path))
    result = IngestResult(project=project, db=describe_url(engine.url))
    if not files:  # nothing found: nothing written, not even the team or the project
        return result
    ensure_schema(engine)

    def attempt() -> IngestResult:
        # a retry after another ingest committed the same rows first (a team, a project,
        # a file) runs in a fresh transaction and finds them there
        result.files.clear()
        return _ingest_files(engine, files, result, project, team, review_cost_per_row_usd, readers)

    return retry_writes(attempt)


def _ingest_files(
    engine: Engine,
    files: list[Path],
    result: IngestResult,
    project: str,
    team: str | None,
    review_cost_per_row_usd: Decimal,
    readers: Sequence[ReportReader] | None,
) -> IngestResult:
    with write_session(engine, actor=f"ingest {project}") as session:
        ctx = IngestContext(
            session,
            ensure_project(session, project, team),
            review_cost_per_row_usd,
            readers=tuple(DEFAULT_READERS if readers is None else readers),
        )
        for file in files:
            result.files.append(_ingest_file(ctx, file))
        reconcile_statuses(ctx)
    return result


def ingest(
    path: str | os.PathLike[str],
    *,
    project: str,
    team: str | None = None,
    db: str | None = None,
    review_cost_per_row_usd: Decimal = REVIEW_COST_PER_ROW_USD,
) -> dict[str, Any]:
    """Ingest what a halfcost command wrote into the registry; return what was added.

    Idempotent (a file's identity is the SHA-256 of its bytes) and all-or-nothing (one
    transaction). Other commands call this when ``--db`` or ``$HALFCOST_DB`` is set.

    Args:
        path: a ``report.json``, ``events.jsonl``, ``dvc.lock``, ``*.dvc`` file, or a folder.
        project: the registry project the records belong to.
        team: the project's team (needed when the project is new).
        db: registry URL (default ``$HALFCOST_DB``, else ``sqlite:///halfcost-registry.db``).
        review_cost_per_row_usd: what reviewing one bad row by hand costs (less-cleaning lever).

    Returns:
        ``{"project", "db", "added", "files_added", "files_skipped", "files": [...]}``.
    """
    engine = connect(db)
    try:
        return ingest_into(
            engine,
            path,
            project=project,
            team=team,
            review_cost_per_row_usd=review_cost_per_row_usd,
        ).to_dict()
    finally:
        engine.dispose()
