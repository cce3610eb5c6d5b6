"""The formats halfcost's packages exchange: typed report and event records.

Producers (``automl``, ``drift``) write their ``report.json`` files and event lines
through these records, and ``governance`` reads them back through the same records, the
way Optuna owns ``FrozenTrial``: one definition of every kind, lever, status and key.

Schema versions:

- reports, v2: money crosses JSON as decimal strings (``"0.0123"``, never a float), and
  the library (not the CLI) records the data lineage (``data``: path, sha256, rows).
  Reports of v1 (money as floats, lineage only from the CLI) are still read.
- events, v1: see ``docs/events.md``.

Every record round-trips: ``Record.from_dict(r.to_dict()) == r``, and keys a record
does not know are kept in ``extra`` and written back unchanged.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Self

from halfcost.errors import BadInputError

__all__ = [
    "EVENT_FIELDS",
    "EVENT_SCHEMA_VERSION",
    "REPORT_SCHEMA_VERSION",
    "CleanReport",
    "CostCategory",
    "DataLineage",
    "Decision",
    "Event",
    "EventKind",
    "LabelingReport",
    "Lever",
    "ModelEntry",
    "ModelStatus",
    "Outcome",
    "Provenance",
    "Report",
    "ReportKind",
    "SearchReport",
    "file_lineage",
    "money_from_json",
    "money_to_json",
    "read_jsonl",
    "read_report",
]

REPORT_SCHEMA_VERSION = 2
EVENT_SCHEMA_VERSION = 1


class ReportKind(StrEnum):
    """The ``kind`` of a ``report.json``."""

    SEARCH = "search"
    CLEAN = "clean"
    LABELING = "labeling"


class EventKind(StrEnum):
    """The ``kind`` of a line of ``.halfcost/events.jsonl``."""

    CHECK = "check"
    ALERT = "alert"
    RETRAIN_STARTED = "retrain_started"
    RETRAIN = "retrain"
    RETRAIN_FAILED = "retrain_failed"
    PROMOTION = "promotion"
    REFUSAL = "refusal"
    LOG_REPAIRED = "log_repaired"
    LABELS_REQUESTED = "labels_requested"


class Decision(StrEnum):
    """What the watch decided, recorded in an event's ``decision``."""

    NONE = ""
    ALERT_ONLY = "alert_only"
    RETRAIN = "retrain"
    RETRAIN_SKIPPED = "retrain_skipped"
    CHALLENGER_READY = "challenger_ready"
    PROMOTED = "promoted"
    CHAMPION_KEPT = "champion_kept"
    TORN_LINE_MOVED = "torn_line_moved"  # log_repaired: a torn last line moved aside
    NEWLINE_ADDED = "newline_added"  # log_repaired: a whole last event lacked its newline


class Outcome(StrEnum):
    """How one ``drift watch`` of a batch ended."""

    NO_ALERT = "no_alert"
    ALERT_ONLY = "alert_only"
    PROMOTED = "promoted"
    REFUSED = "refused"
    RETRAIN_FAILED = "retrain_failed"
    RETRAIN_SKIPPED = "retrain_skipped"


class Lever(StrEnum):
    """The saving levers the registry books and the app shows."""

    CHEAPER_MODELS = "cheaper_models"
    DATASET_REUSE = "dataset_reuse"
    FEWER_LABELS = "fewer_labels"
    LESS_CLEANING = "less_cleaning"


class Provenance(StrEnum):
    """Where a registry row came from."""

    MEASURED = "measured"  # by a halfcost run (a search, a clean, a drift watch)
    IMPORTED = "imported"  # from outside halfcost (a billing export, a figure a person entered)
    ESTIMATED = "estimated"  # by a stated formula (its inputs are kept beside it)
    SEEDED = "seeded"  # demo history


class ModelStatus(StrEnum):
    """A registered model's place in its project."""

    CANDIDATE = "candidate"
    CHAMPION = "champion"
    RETIRED = "retired"


class CostCategory(StrEnum):
    """What a cost entry paid for."""

    COMPUTE = "compute"
    LABELING = "labeling"
    STORAGE = "storage"
    PEOPLE = "people"
    UNALLOCATED = "unallocated"


# --- money ---------------------------------------------------------------------------------


def money_to_json(value: Decimal | None) -> str | None:
    """Money as JSON carries it: a plain decimal string (``"0.000123"``), or null."""
    if value is None:
        return None
    if not isinstance(value, Decimal):
        raise TypeError(f"money must be a Decimal, but got {type(value).__name__}")
    return format(value, "f")


def money_from_json(value: Any, *, where: str = "", key: str = "amount") -> Decimal | None:
    """Read money written by any schema version: a decimal string (v2) or a number (v1).

    Raises:
        BadInputError: the value is not a number (names ``where`` and ``key``).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadInputError(f"{where}: {key} must be a number, but got {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise BadInputError(f"{where}: {key} must be a number, but got {value!r}") from exc
    if not amount.is_finite():
        raise BadInputError(f"{where}: {key} must be a finite number, but got {value!r}")
    return amount


# --- JSON lines ----------------------------------------------------------------------------


def read_jsonl(
    source: str | os.PathLike[str] | bytes, *, name: str | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The JSON objects of a JSON-lines file, with their 1-based line numbers.

    Every writer ends its lines with a newline, so the piece after the last newline is
    empty or a line a writer was killed in the middle of: it is skipped, unless it parses
    as a whole JSON object (a file whose last newline is missing), which is read. The
    event log's writer does the same before it appends: it keeps a whole last object
    (adding the newline) and moves a fragment aside. Blank lines are skipped.

    Args:
        source: a path, or the file's bytes.
        name: how messages name the file (default: the path).

    Raises:
        BadInputError: the file is not UTF-8, or a complete line is not a JSON object
            (names the line and the fix).
    """
    if isinstance(source, bytes):
        raw, where = source, name or "<jsonl>"
    else:
        path = Path(source)
        where = name or str(path)
        if not path.exists():
            return
        raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{where}: not UTF-8 text; restore the file from a backup") from exc
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            if number == len(lines):  # after the last newline: a torn line, skipped
                continue
            raise BadInputError(
                f"{where}:{number}: not a JSON object ({exc.args[0]}); fix or remove that line"
            ) from exc
        if not isinstance(record, dict):
            if number == len(lines):
                continue
            raise BadInputError(f"{where}:{number}: not a JSON object; fix or remove that line")
        yield number, record


# --- events ----------------------------------------------------------------------------------

# field -> default factory; every event line carries every field
EVENT_FIELDS: dict[str, Any] = {
    "project": lambda: None,
    "batch": lambda: None,
    "batch_rows": lambda: None,
    "data_version": lambda: None,
    "champion": lambda: None,
    "challenger": lambda: None,
    "scores": dict,
    "decision": lambda: "",
    "reason": lambda: "",
    "details": dict,
}


@dataclass(frozen=True)
class Event:
    """One line of the event log (schema in ``docs/events.md``)."""

    kind: EventKind
    time: datetime
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    project: str | None = None
    batch: str | None = None
    batch_rows: int | None = None
    data_version: str | None = None
    champion: str | None = None
    challenger: str | None = None
    scores: dict[str, Any] = field(default_factory=dict)
    decision: str = ""
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    schema_version: int = EVENT_SCHEMA_VERSION

    @classmethod
    def make(cls, kind: str, *, time: datetime | None = None, **values: Any) -> Event:
        """A new event of ``kind`` happening now (or at ``time``); ``None`` means default.

        Raises:
            ValueError: an unknown kind or field (a programming error, not user input).
        """
        unknown = sorted(set(values) - set(EVENT_FIELDS))
        if unknown:
            raise ValueError(
                f"unknown event field(s) {', '.join(unknown)}; "
                f"choose from {', '.join(EVENT_FIELDS)}"
            )
        given = {k: v for k, v in values.items() if v is not None}
        return cls(
            kind=_enum(EventKind, kind, "event kind"),
            time=(time or datetime.now(UTC)).astimezone(UTC),
            **given,
        )

    def to_dict(self) -> dict[str, Any]:
        """The event as one JSON object of the log (every field present)."""
        out: dict[str, Any] = {
            "schema_version": self.schema_version,
            "event_id": self.event_id,
            "time": self.time.isoformat(),
            "kind": str(self.kind),
        }
        for name in EVENT_FIELDS:
            out[name] = getattr(self, name)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "event") -> Event:
        """Read an event line; missing optional fields get their defaults.

        Raises:
            BadInputError: no ``event_id``, an unknown ``kind`` or a bad ``time``.
        """
        event_id, kind = data.get("event_id"), data.get("kind")
        if not event_id or kind not in set(EventKind):
            raise BadInputError(
                f"{where}: an event needs an event_id and a kind among "
                f"{', '.join(EventKind)}; fix or remove that line"
            )
        values = {
            name: data[name] if data.get(name) is not None else default()
            for name, default in EVENT_FIELDS.items()
        }
        return cls(
            kind=EventKind(kind),
            time=parse_time(data.get("time"), where),
            event_id=str(event_id),
            schema_version=int(data.get("schema_version") or EVENT_SCHEMA_VERSION),
            **values,
        )


def parse_time(value: Any, where: str = "") -> datetime:
    """An ISO-8601 time as an aware UTC datetime (a naive one is taken as UTC).

    Raises:
        BadInputError: ``value`` is not an ISO-8601 time.
    """
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError as exc:
            raise BadInputError(
                f"{where}: time {value!r} is not ISO-8601; write it like 2026-01-31T12:00:00+00:00"
            ) from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- reports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataLineage:
    """Which table a report was computed from: where it was read, its hash, its rows."""

    path: str | None = None
    sha256: str | None = None
    rows: int | None = None
    sha256_of: str | None = None  # "file" (its bytes) or "frame" (its rows' content)

    def to_dict(self) -> dict[str, Any]:
        """Path, hash and rows (null when unknown), and what the hash covers when known."""
        parts: dict[str, Any] = {"path": self.path, "sha256": self.sha256, "rows": self.rows}
        if self.sha256_of is not None:
            parts["sha256_of"] = self.sha256_of
        return parts

    @classmethod
    def from_dict(cls, data: Any) -> DataLineage | None:
        """Read a report's ``data`` section (``None`` when it has none)."""
        if not isinstance(data, dict):
            return None
        rows = data.get("rows")
        return cls(
            path=data.get("path"),
            sha256=data.get("sha256"),
            rows=rows if isinstance(rows, int) and not isinstance(rows, bool) else None,
            sha256_of=data.get("sha256_of"),
        )


def file_lineage(path: str | os.PathLike[str], rows: int | None = None) -> DataLineage:
    """The lineage of a table file: its path as given, the SHA-256 of its bytes, its rows."""
    import hashlib

    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return DataLineage(path=str(path), sha256=digest.hexdigest(), rows=rows)


def _enum(kind: type[StrEnum], value: Any, what: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"unknown {what} {value!r}; choose one of {', '.join(kind)}") from None


_MONEY_KEYS_OF_ENTRY = ("cost_per_1m_predictions_usd", "train_cost_usd")


@dataclass(frozen=True)
class ModelEntry:
    """One model of a search report (the chosen one, the baseline, a finalist)."""

    family: str
    params: dict[str, Any] = field(default_factory=dict)
    cv_score: float | None = None
    holdout_score: float | None = None
    latency_ms_per_1k: float | None = None
    size_bytes: int | None = None
    train_seconds: float | None = None
    cost_per_1m_predictions_usd: Decimal | None = None
    train_cost_usd: Decimal | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The entry as the report writes it (money as decimal strings)."""
        out = {name: getattr(self, name) for name in _field_names(self) if name != "extra"}
        for key in _MONEY_KEYS_OF_ENTRY:
            out[key] = money_to_json(out[key])
        return {**out, **self.extra}

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "model") -> ModelEntry:
        """Read an entry of any report schema version.

        Raises:
            BadInputError: no ``family``, or money that is not a number.
        """
        if not isinstance(data, dict) or "family" not in data:
            raise BadInputError(f"{where}: a model entry needs its 'family'")
        known = {name for name in _field_names(cls) if name != "extra"}
        values = {k: v for k, v in data.items() if k in known}
        for key in _MONEY_KEYS_OF_ENTRY:
            values[key] = money_from_json(data.get(key), where=where, key=key)
        values["params"] = dict(data.get("params") or {})
        values["family"] = str(data["family"])
        return cls(**values, extra={k: v for k, v in data.items() if k not in known})


def _field_names(record: Any) -> list[str]:
    return [f.name for f in fields(record)]


@dataclass(frozen=True)
class Report:
    """What every ``report.json`` shares; subclasses add what their kind's readers use.

    ``extra`` holds every other key of the report, written back unchanged.
    """

    KIND: ClassVar[ReportKind]
    MONEY_KEYS: ClassVar[tuple[str, ...]] = ()

    created_at: datetime
    halfcost_version: str | None = None
    data: DataLineage | None = None
    schema_version: int = REPORT_SCHEMA_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> ReportKind:
        """The report's kind."""
        return self.KIND

    def to_dict(self) -> dict[str, Any]:
        """The report as ``report.json`` holds it, at the current schema version."""
        out: dict[str, Any] = {
            "kind": str(self.KIND),
            "schema_version": REPORT_SCHEMA_VERSION,
            "created_at": self.created_at.isoformat(),
            "halfcost_version": self.halfcost_version,
        }
        if self.data is not None:
            out["data"] = self.data.to_dict()
        for name in self._own_fields():
            value = getattr(self, name)
            if isinstance(value, ModelEntry):
                value = value.to_dict()
            elif name in self.MONEY_KEYS:
                value = money_to_json(value)
            out[name] = value
        return {**out, **self.extra}

    @classmethod
    def _own_fields(cls) -> list[str]:
        shared = {f.name for f in fields(Report)}
        return [f.name for f in fields(cls) if f.name not in shared]

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "report") -> Self:
        """Read a report of any schema version (v1 money as floats is converted).

        Raises:
            BadInputError: another kind, or a known key holding an unusable value.
        """
        if data.get("kind") != cls.KIND:
            raise BadInputError(
                f"{where}: expected a {cls.KIND} report, got kind {data.get('kind')!r}"
            )
        shared = {"kind", "schema_version", "created_at", "halfcost_version", "data"}
        own = cls._own_fields()
        values: dict[str, Any] = {}
        for name in own:
            if name in data:
                values[name] = cls._read_field(name, data[name], where)
        version = data.get("schema_version")
        return cls(
            created_at=parse_time(data.get("created_at") or datetime.now(UTC), where),
            halfcost_version=data.get("halfcost_version"),
            data=DataLineage.from_dict(data.get("data")),
            schema_version=int(version) if isinstance(version, int) else 1,
            extra={k: v for k, v in data.items() if k not in shared and k not in own},
            **values,
        )

    @classmethod
    def _read_field(cls, name: str, value: Any, where: str) -> Any:
        if name in cls.MONEY_KEYS:
            return money_from_json(value, where=where, key=name)
        return value


def _count(value: Any, where: str, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadInputError(f"{where}: {key} must be a whole number ≥ 0, but got {value!r}")
    return value


@dataclass(frozen=True)
class SearchReport(Report):
    """``halfcost search``'s report: the chosen model, the baseline, the Pareto front."""

    KIND: ClassVar[ReportKind] = ReportKind.SEARCH
    MONEY_KEYS: ClassVar[tuple[str, ...]] = ("price_per_hour",)
    SECONDS_KEYS: ClassVar[tuple[str, ...]] = (
        "search_seconds",
        "baseline_seconds",
        "finalize_seconds",
        "refit_seconds",
    )

    chosen: ModelEntry | None = None
    baseline: ModelEntry | None = None
    metric: str | None = None
    min_score: float | None = None
    met: bool | None = None
    holdout_met: bool | None = None
    pareto: list[dict[str, Any]] = field(default_factory=list)
    price_per_hour: Decimal | None = None
    n_trials: int | None = None
    search_seconds: float | None = None
    baseline_seconds: float | None = None
    finalize_seconds: float | None = None
    refit_seconds: float | None = None

    @property
    def total_seconds(self) -> float | None:
        """The search's whole wall time: trials, baseline, finalists re-measured, refit."""
        found = [getattr(self, key) for key in self.SECONDS_KEYS]
        found = [seconds for seconds in found if isinstance(seconds, int | float)]
        return float(sum(found)) if found else None

    @classmethod
    def _read_field(cls, name: str, value: Any, where: str) -> Any:
        if name in ("chosen", "baseline"):
            return ModelEntry.from_dict(value, where=f"{where}: {name}") if value else None
        if name == "pareto":
            return [p for p in value or [] if isinstance(p, dict)]
        return super()._read_field(name, value, where)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "report") -> SearchReport:
        """Read a search report; one without a chosen model is refused.

        Raises:
            BadInputError: no ``chosen`` model with its ``family``.
        """
        if not isinstance(data.get("chosen"), dict) or "family" not in data["chosen"]:
            raise BadInputError(
                f"{where}: a search report needs a 'chosen' model with its 'family'"
            )
        return super().from_dict(data, where=where)


@dataclass(frozen=True)
class CleanReport(Report):
    """``halfcost clean``'s report: rows in, clean, repaired and quarantined."""

    KIND: ClassVar[ReportKind] = ReportKind.CLEAN
    MONEY_KEYS: ClassVar[tuple[str, ...]] = ("review_cost_per_row_usd",)

    rows_in: int = 0
    rows_clean: int = 0
    rows_repaired: int = 0
    rows_quarantined: int = 0
    review_cost_per_row_usd: Decimal | None = None

    @classmethod
    def _read_field(cls, name: str, value: Any, where: str) -> Any:
        if name.startswith("rows_"):
            return _count(value, where, name)
        return super()._read_field(name, value, where)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "report") -> CleanReport:
        """Read a clean report; its repaired and quarantined counts are required.

        Raises:
            BadInputError: a count missing or not a whole number ≥ 0.
        """
        for key in ("rows_repaired", "rows_quarantined"):
            _count(data.get(key), where, key)
        return super().from_dict(data, where=where)


@dataclass(frozen=True)
class LabelingReport(Report):
    """An active-learning report: labels bought, and saved against random picks.

    ``labels_planned`` is what a simulation (``halfcost label simulate``) says the best
    strategy needs: a plan, not a purchase, so a report with no labels bought books no
    cost.
    """

    KIND: ClassVar[ReportKind] = ReportKind.LABELING
    MONEY_KEYS: ClassVar[tuple[str, ...]] = ("cost_per_label_usd",)

    labels_bought: int = 0
    labels_saved_vs_random: int = 0
    cost_per_label_usd: Decimal | None = None
    labels_planned: int | None = None

    @classmethod
    def _read_field(cls, name: str, value: Any, where: str) -> Any:
        if name == "labels_planned" and value is None:
            return None
        if name.startswith("labels_"):
            return _count(value, where, name)
        return super()._read_field(name, value, where)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "report") -> LabelingReport:
        """Read a labelling report (v1 reports may name the price ``cost_per_label``)."""
        if "cost_per_label_usd" not in data and "cost_per_label" in data:
            data = {**data, "cost_per_label_usd": data["cost_per_label"]}
            data.pop("cost_per_label")
        for key in ("labels_bought", "labels_saved_vs_random"):
            _count(data.get(key), where, key)
        return super().from_dict(data, where=where)


_REPORTS: dict[str, type[Report]] = {
    ReportKind.SEARCH: SearchReport,
    ReportKind.CLEAN: CleanReport,
    ReportKind.LABELING: LabelingReport,
}


def read_report(data: dict[str, Any], *, where: str = "report") -> Report:
    """The typed record of a report of any known kind.

    Raises:
        BadInputError: an unknown kind (the message lists the known ones).
    """
    record = _REPORTS.get(data.get("kind"))  # type: ignore[arg-type]
    if record is None:
        raise BadInputError(
            f"{where}: unknown report kind {data.get('kind')!r}; "
            f"choose one of {', '.join(_REPORTS)}"
        )
    return record.from_dict(data, where=where)
