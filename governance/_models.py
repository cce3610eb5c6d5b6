"""The registry's tables as SQLAlchemy 2 typed models, and its two column types.

Money is stored as an integer count of nano-units (10⁻⁹ of the currency) so that it
is exact on SQLite and PostgreSQL alike and SQL ``SUM`` never rounds; it reads back
as :class:`~decimal.Decimal`. Times are stored in UTC and read back timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from halfcost.records import CostCategory, Lever, ModelStatus, Provenance

MONEY_SCALE = Decimal(10) ** 9
"""Money is stored as ``round(amount * MONEY_SCALE)``: exact to 10⁻⁹ of a currency unit."""

MODEL_STATUSES = tuple(str(status) for status in ModelStatus)
COST_CATEGORIES = tuple(str(category) for category in CostCategory)
SAVING_LEVERS = tuple(str(lever) for lever in Lever)
PROVENANCES = tuple(str(provenance) for provenance in Provenance)
"""Where a registry row came from: ``measured`` by a halfcost run (a search, a clean, a drift
watch), ``imported`` from outside halfcost (a billing export, a figure a person entered),
``estimated`` by a stated formula (its inputs are kept beside it), ``seeded`` demo history."""
MEASURED, IMPORTED, ESTIMATED, SEEDED = (
    Provenance.MEASURED,
    Provenance.IMPORTED,
    Provenance.ESTIMATED,
    Provenance.SEEDED,
)


def to_money(value: Any) -> Decimal:
    """Return ``value`` as a Decimal money amount (strings and ints are exact; floats via str)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


class Money(TypeDecorator):
    """A Decimal amount stored exactly as a BIGINT of nano-units."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        if value is None:
            return None
        scaled = (to_money(value) * MONEY_SCALE).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)) / MONEY_SCALE


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and read back as an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utc_now() -> datetime:
    """The current time in UTC (timezone-aware)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every registry table."""

    type_annotation_map = {Decimal: Money(), datetime: UTCDateTime(), date: Date()}  # noqa: RUF012


class Team(Base):
    """A team that owns projects and datasets."""

    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Project(Base):
    """An ML project: its owner team, what it is worth and how much it predicts."""

    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    value_per_month: Mapped[Decimal | None]
    value_per_prediction: Mapped[Decimal | None]
    predictions_per_month: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Dataset(Base):
    """One version of a dataset (version = its DVC md5 content hash) and what it cost."""

    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_datasets_name_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    version: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int | None] = mapped_column(BigInteger)
    owner_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    collect_cost: Mapped[Decimal] = mapped_column(default=Decimal(0))
    label_cost: Mapped[Decimal] = mapped_column(default=Decimal(0))
    path: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    provenance: Mapped[str] = mapped_column(String(16), default=MEASURED)


class DatasetUse(Base):
    """A project (of a team) used a dataset version; another team's use is a reuse."""

    __tablename__ = "dataset_uses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    used_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    identity: Mapped[str | None] = mapped_column(String(64), unique=True)
    provenance: Mapped[str] = mapped_column(String(16), default=MEASURED)


class Model(Base):
    """A trained model of a project with its cost figures and the baseline it beat."""

    __tablename__ = "models"
    __table_args__ = (UniqueConstraint("project_id", "version", name="uq_models_project_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    family: Mapped[str] = mapped_column(String(100))
    metric: Mapped[str | None] = mapped_column(String(50))
    cv_score: Mapped[float | None] = mapped_column(Float)
    holdout_score: Mapped[float | None] = mapped_column(Float)
    latency_ms_per_1k: Mapped[float | None] = mapped_column(Float)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    train_seconds: Mapped[float | None] = mapped_column(Float)
    cost_per_1m: Mapped[Decimal | None]
    train_cost: Mapped[Decimal | None]
    baseline_family: Mapped[str | None] = mapped_column(String(100))
    baseline_score: Mapped[float | None] = mapped_column(Float)
    baseline_latency_ms_per_1k: Mapped[float | None] = mapped_column(Float)
    baseline_cost_per_1m: Mapped[Decimal | None]
    status: Mapped[str] = mapped_column(String(16), default="candidate")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    promoted_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
    identity: Mapped[str | None] = mapped_column(String(64), unique=True)
    provenance: Mapped[str] = mapped_column(String(16), default=MEASURED)
    min_score: Mapped[float | None] = mapped_column(Float)
    holdout_met: Mapped[bool | None] = mapped_column(Boolean)
    report_html: Mapped[str | None] = mapped_column(String(1000))
    price_per_hour: Mapped[float | None] = mapped_column(Float)
    search_seconds: Mapped[float | None] = mapped_column(Float)
    n_trials: Mapped[int | None] = mapped_column(Integer)


class ModelDataset(Base):
    """A dataset version a model was trained on."""

    __tablename__ = "model_datasets"
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), primary_key=True)


class ParetoPoint(Base):
    """One point of a search's score-versus-latency Pareto front."""

    __tablename__ = "pareto_points"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), index=True)
    family: Mapped[str] = mapped_column(String(100))
    score: Mapped[float | None] = mapped_column(Float)
    latency_ms_per_1k: Mapped[float | None] = mapped_column(Float)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    chosen: Mapped[bool] = mapped_column(Boolean, default=False)


class CostEntry(Base):
    """Money spent on a day: by project (or unallocated), category and source."""

    __tablename__ = "cost_entries"
    __table_args__ = (Index("ix_cost_entries_team_date", "team_id", "incurred_on"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incurred_on: Mapped[date] = mapped_column(index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    category: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    source: Mapped[str] = mapped_column(String(300))
    identity: Mapped[str | None] = mapped_column(String(64), unique=True)
    provenance: Mapped[str] = mapped_column(String(16), default="imported")
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ValueEntry(Base):
    """Business value a project returned in a month, with the predictions it served."""

    __tablename__ = "value_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[date] = mapped_column(index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    amount: Mapped[Decimal]
    predictions: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    source: Mapped[str] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    identity: Mapped[str | None] = mapped_column(String(64), unique=True)
    provenance: Mapped[str] = mapped_column(String(16), default="imported")


class Saving(Base):
    """Money a halfcost lever saved (fewer labels bought, less manual cleaning)."""

    __tablename__ = "savings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    saved_on: Mapped[date] = mapped_column(index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    lever: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal]
    source: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    identity: Mapped[str | None] = mapped_column(String(64), unique=True)
    provenance: Mapped[str] = mapped_column(String(16), default="estimated")


class DriftEvent(Base):
    """A drift check, alert, retrain, promotion or refusal from a project's event log."""

    __tablename__ = "drift_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    time: Mapped[datetime] = mapped_column(index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    decision: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    batch: Mapped[str | None] = mapped_column(String(300))
    batch_rows: Mapped[int | None] = mapped_column(BigInteger)
    data_version: Mapped[str | None] = mapped_column(String(64))
    champion: Mapped[str | None] = mapped_column(String(64))
    challenger: Mapped[str | None] = mapped_column(String(64))
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    provenance: Mapped[str] = mapped_column(String(16), default=MEASURED)
    report_html: Mapped[str | None] = mapped_column(String(1000))


class IngestedFile(Base):
    """A file already ingested, by the SHA-256 of its bytes (ingest is idempotent)."""

    __tablename__ = "ingested_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(1000))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    records: Mapped[int] = mapped_column(Integer, default=0)
    ingested_at: Mapped[datetime] = mapped_column(default=utc_now)


class AuditEntry(Base):
    """One append-only line of the audit log: which row of which table changed, how, by whom."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utc_now)
    action: Mapped[str] = mapped_column(String(16))
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
