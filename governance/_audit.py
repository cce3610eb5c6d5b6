"""The append-only audit log: every row written to the registry writes an audit row too.

Rows added through a :class:`~sqlalchemy.orm.Session` are logged by a flush hook in the
same transaction; bulk writes go through :func:`bulk_insert`, which logs them itself.
The audit table refuses updates and deletes (database triggers, see the migration).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from halfcost.governance._models import AuditEntry, Base, utc_now

_SUMMARY_KEYS = ("name", "version", "project_id", "category", "amount", "kind", "lever", "sha256")


def _summary(values: dict[str, Any]) -> dict[str, Any]:
    """A small JSON-safe picture of a row for the audit log."""
    return {k: str(values[k]) for k in _SUMMARY_KEYS if values.get(k) is not None}


def _actor(session: Session) -> str:
    return str(session.info.get("actor", "halfcost"))


def _row(action: str, table: str, row_id: Any, actor: str, details: dict[str, Any]) -> dict:
    return {
        "at": utc_now(),
        "action": action,
        "table_name": table,
        "row_id": str(row_id),
        "actor": actor,
        "details": details or None,
    }


def _identity(obj: Base) -> str:
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    return ",".join(str(part) for part in key)


class RegistrySession(Session):
    """A session on the registry: every flush writes audit rows in the same transaction.

    ``session.info["actor"]`` names who writes (the command, the seeder, ...).
    """


@event.listens_for(RegistrySession, "after_flush")
def _log_flush(session: Session, flush_context: Any) -> None:
    """Write one audit row per inserted, updated or deleted object of this flush."""
    actor = _actor(session)
    rows: list[dict] = []
    for obj in session.new:
        if isinstance(obj, Base) and not isinstance(obj, AuditEntry):
            values = {c.key: getattr(obj, c.key, None) for c in inspect(obj).mapper.column_attrs}
            rows.append(_row("insert", obj.__tablename__, _identity(obj), actor, _summary(values)))
    for obj in session.dirty:
        if isinstance(obj, Base) and session.is_modified(obj, include_collections=False):
            state = inspect(obj)
            changed = {
                attr.key: str(attr.value)
                for attr in state.attrs
                if attr.history.has_changes() and attr.key in state.mapper.column_attrs
            }
            rows.append(_row("update", obj.__tablename__, _identity(obj), actor, changed))
    for obj in session.deleted:
        if isinstance(obj, Base):
            rows.append(_row("delete", obj.__tablename__, _identity(obj), actor, {}))
    if rows:
        session.connection().execute(insert(AuditEntry.__table__), rows)


def _insert_returning_ids(connection: Any, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` and return their new ids in the rows' order.

    PostgreSQL returns them from one batched ``INSERT ... RETURNING``. SQLite would insert
    row by row to keep that order, so there the first row is inserted alone (which takes
    the database's write lock) and the others get the next ids explicitly.
    """
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    if connection.dialect.name != "sqlite":
        return list(connection.scalars(statement, rows))
    first = connection.scalar(insert(table).returning(table.c.id), rows[0])
    ids = list(range(first, first + len(rows)))
    if len(rows) > 1:
        connection.execute(
            insert(table), [{**row, "id": i} for i, row in zip(ids[1:], rows[1:], strict=True)]
        )
    return ids


def bulk_insert(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> list[Any]:
    """Insert ``rows`` into ``model``'s table in one statement and log each; return their keys.

    Used by the seeder and big ingests, where one ORM object per row would be slow. The
    keys are the new ids, or for a table keyed by several columns (a link table) the
    ``"a,b"`` text of each row's key.
    """
    if not rows:
        return []
    table = model.__table__
    if "id" in table.c:
        keys: list[Any] = _insert_returning_ids(session.connection(), table, list(rows))
    else:
        session.connection().execute(insert(table), list(rows))
        columns = [c.name for c in table.primary_key.columns]
        keys = [",".join(str(row[c]) for c in columns) for row in rows]
    actor = _actor(session)
    audit = [
        _row("insert", model.__tablename__, key, actor, _summary(values))
        for key, values in zip(keys, rows, strict=True)
    ]
    session.connection().execute(insert(AuditEntry.__table__), audit)
    return keys
