"""Provenance on every row, the evidence files of each run, the whole cost of a search.

Adds ``provenance`` (measured / imported / estimated / seeded) to the tables of figures,
``details`` (an estimate's formula and inputs) to cost entries, the path of each run's
``report.html`` / ``drift.html``, and to models the target, the held-out verdict and the search's
whole duration, trials and price. Rows written before this revision are classified from
their ``source``: seeded history, FOCUS imports, manual entries, measured runs.

Revision ID: 0002_provenance_evidence
Revises: 0001_initial
Create Date: 2026-12-01 09:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_provenance_evidence"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

_DEFAULTS = {
    "datasets": "measured",
    "dataset_uses": "measured",
    "models": "measured",
    "cost_entries": "imported",
    "value_entries": "imported",
    "savings": "estimated",
    "drift_events": "measured",
}


def _provenance(default: str) -> sa.Column:
    return sa.Column(
        "provenance", sa.String(length=16), nullable=False, server_default=sa.text(f"'{default}'")
    )


def upgrade() -> None:
    for table, default in _DEFAULTS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(_provenance(default))
    with op.batch_alter_table("cost_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))
    with op.batch_alter_table("drift_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("report_html", sa.String(length=1000), nullable=True))
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.add_column(sa.Column("min_score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("holdout_met", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("report_html", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("price_per_hour", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("search_seconds", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("n_trials", sa.Integer(), nullable=True))
    _classify_existing_rows()


def _classify_existing_rows() -> None:
    """Rows from before this revision: seeded history by its ``source``, the rest by kind."""
    for table in ("cost_entries", "value_entries", "savings"):
        op.execute(f"UPDATE {table} SET provenance = 'seeded' WHERE source LIKE 'seed%'")
    op.execute("UPDATE cost_entries SET provenance = 'measured' WHERE source LIKE '%report.json%'")
    op.execute("UPDATE value_entries SET provenance = 'imported' WHERE source = 'manual'")
    # seeded models and uses were written without an identity; ingested ones carry a hash
    op.execute("UPDATE models SET provenance = 'seeded' WHERE identity IS NULL")
    op.execute("UPDATE dataset_uses SET provenance = 'seeded' WHERE identity IS NULL")
    op.execute("UPDATE datasets SET provenance = 'seeded' WHERE path LIKE 'data/%.parquet'")
    op.execute("UPDATE drift_events SET provenance = 'seeded' WHERE batch LIKE 'batch-%.parquet'")


def downgrade() -> None:
    with op.batch_alter_table("models", schema=None) as batch_op:
        for column in ("n_trials", "search_seconds", "price_per_hour", "report_html"):
            batch_op.drop_column(column)
        batch_op.drop_column("holdout_met")
        batch_op.drop_column("min_score")
    with op.batch_alter_table("drift_events", schema=None) as batch_op:
        batch_op.drop_column("report_html")
    with op.batch_alter_table("cost_entries", schema=None) as batch_op:
        batch_op.drop_column("details")
    for table in _DEFAULTS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("provenance")
