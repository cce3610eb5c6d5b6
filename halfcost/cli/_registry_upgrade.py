"""`halfcost registry upgrade`: upgrade a registry's schema, on purpose, once for everyone."""

from __future__ import annotations

import argparse

from halfcost.cli._reg_common import add_db_flag, add_json_flag, db_of

HELP = "upgrade the registry's schema to this halfcost's (the only way on PostgreSQL)"
DESCRIPTION = """\
Upgrade the registry's tables to the schema this halfcost writes (Alembic migrations).
A shared PostgreSQL registry is never upgraded by other commands: they refuse an older
schema and name this command, so one newer client cannot change the schema under the
others. Upgrade when every client sharing the registry runs this halfcost version or
newer. A SQLite registry upgrades itself. A schema newer than this halfcost is refused.

example:
  halfcost registry upgrade --db postgresql+psycopg://postgres@db-host:5432/halfcost
"""


def register(parser: argparse.ArgumentParser) -> None:
    """Add the flags of `halfcost registry upgrade`."""
    add_db_flag(parser)
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    """Migrate the registry to the newest schema; say from which revision."""
    from halfcost.governance import connect, describe_url, upgrade
    from halfcost.jsonio import to_json

    engine = connect(db_of(args))
    try:
        before, after = upgrade(engine)
        result = {"db": describe_url(engine.url), "from": before, "revision": after}
    finally:
        engine.dispose()
    if args.json:
        print(to_json(result))
    elif before == after:
        print(f"registry at {result['db']} is up to date (schema {after})")
    else:
        print(f"registry at {result['db']} upgraded: schema {before or 'none'} -> {after}")
    return 0
