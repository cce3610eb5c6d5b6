"""`halfcost registry init`: create or upgrade the registry's tables (Alembic migrations)."""

from __future__ import annotations

import argparse

from halfcost.cli._reg_common import add_db_flag, add_json_flag, db_of

HELP = "create or upgrade the registry's tables"
DESCRIPTION = """\
Create the registry (SQLite file or PostgreSQL database) or upgrade it to the newest
schema with its Alembic migrations. Safe to run again.

With PostgreSQL, --reader-role NAME also creates a login role that can only read the
registry: point `halfcost app --db` at it so the app cannot write.

examples:
  halfcost registry init
  halfcost registry init --db postgresql+psycopg://postgres@127.0.0.1:5432/halfcost \\
      --reader-role halfcost_reader
"""


def register(parser: argparse.ArgumentParser) -> None:
    """Add the flags of `halfcost registry init`."""
    add_db_flag(parser)
    parser.add_argument(
        "--reader-role",
        metavar="NAME",
        help="PostgreSQL only: also create a login role with read-only grants",
    )
    parser.add_argument(
        "--reader-password", metavar="PW", help="password of the reader role (default none)"
    )
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    """Migrate the registry to the newest schema."""
    from halfcost.governance import connect, create_reader_role, describe_url, migrate
    from halfcost.jsonio import to_json

    engine = connect(db_of(args))
    try:
        revision = migrate(engine)
        reader = None
        if args.reader_role:
            reader = create_reader_role(engine, args.reader_role, password=args.reader_password)
        result = {"db": describe_url(engine.url), "revision": revision, "reader_url": reader}
    finally:
        engine.dispose()
    if args.json:
        print(to_json(result))
    else:
        print(f"registry ready at {result['db']} (schema {revision})")
        if reader:
            print(f"read-only URL for the app: {reader}")
    return 0
