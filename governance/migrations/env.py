"""Alembic environment of the registry: runs on the connection halfcost hands it.

halfcost calls Alembic programmatically (see ``halfcost.governance._db.migrate``) and passes
an open connection in ``config.attributes["connection"]``; there is no alembic.ini.
"""

from __future__ import annotations

from alembic import context

from halfcost.governance._models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run the migrations on the connection given by halfcost."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "run the registry's migrations through `halfcost registry init`, not the alembic CLI"
        )
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("the registry's migrations run online only (`halfcost registry init`)")
run_migrations_online()
