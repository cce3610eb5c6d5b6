"""Connecting to the registry (SQLite file or PostgreSQL), migrating it, and write sessions."""

from __future__ import annotations

import getpass
import os
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    SQLAlchemyError,
)

from halfcost.errors import BadInputError, HalfcostError
from halfcost.governance._audit import RegistrySession

T = TypeVar("T")
DEFAULT_URL = "sqlite:///halfcost-registry.db"
_MIGRATION_WAIT_S = 30.0  # how long a migration that lost a race waits for the winner
ENV_VAR = "HALFCOST_DB"


def resolve_url(url: str | None = None) -> str:
    """The registry URL: ``url``, else ``$HALFCOST_DB``, else ``sqlite:///halfcost-registry.db``."""
    return url or os.environ.get(ENV_VAR) or DEFAULT_URL


def describe_url(url: str | URL) -> str:
    """The URL as shown to users: the password hidden, a read-only SQLite file as its path."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return str(url)
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database.startswith("file:"):
        return f"sqlite:///{database.removeprefix('file:')}"
    return parsed.render_as_string(hide_password=True)


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise BadInputError(
            f"cannot read database URL {url!r}; use sqlite:///path/to/file.db or "
            "postgresql+psycopg://user@host:5432/dbname"
        ) from exc


def _sqlite_url(parsed: URL, read_only: bool) -> URL:
    database = parsed.database or ""
    if database in ("", ":memory:"):
        if read_only:
            raise BadInputError(
                "an in-memory SQLite registry cannot be opened read-only; "
                "use sqlite:///path/to/file.db"
            )
        return parsed
    path = Path(database).expanduser().resolve()
    _check_sqlite_file(path)
    if read_only:
        if not path.is_file():
            raise BadInputError(
                f"no registry at {path}; create it with `halfcost registry init --db "
                f"sqlite:///{path}` or `halfcost demo`"
            )
        return parsed.set(database=f"file:{path}", query={"mode": "ro", "uri": "true"})
    if not path.parent.is_dir():
        raise BadInputError(
            f"cannot create the registry {path}: folder {path.parent} does not exist; "
            "create it or choose another path"
        )
    return parsed.set(database=str(path))


_SQLITE_HEADER = b"SQLite format 3\x00"


def _check_sqlite_file(path: Path) -> None:
    """Refuse an existing file that is not a SQLite database (a CSV, a report) up front.

    SQLite itself opens any file and fails only at the first query, deep inside a command.
    """
    if path.is_dir():
        raise BadInputError(
            f"{path} is a folder, not a SQLite registry; give a file: sqlite:///{path}/registry.db"
        )
    if not path.is_file() or path.stat().st_size == 0:
        return  # a new (or empty) file becomes a registry
    with open(path, "rb") as handle:
        header = handle.read(len(_SQLITE_HEADER))
    if header != _SQLITE_HEADER:
        raise BadInputError(
            f"{path} is not a SQLite database; give the registry's file "
            "(sqlite:///path/to/registry.db; a new path creates one)"
        )


def _on_sqlite_connect(read_only: bool):
    def hook(dbapi_connection: Any, record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    return hook


def _on_postgres_connect(dbapi_connection: Any, record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    cursor.close()
    dbapi_connection.commit()


def connect(url: str | None = None, *, read_only: bool = False, **engine_kwargs: Any) -> Engine:
    """Open the registry and check it answers.

    Args:
        url: SQLAlchemy URL; default ``$HALFCOST_DB``, else ``sqlite:///halfcost-registry.db``.
        read_only: refuse every write. SQLite opens the file with ``mode=ro`` (and
            ``query_only``); PostgreSQL sessions are ``READ ONLY`` transactions (connect as a
            role with SELECT grants only for a hard guarantee, see ``registry init --reader-role``).
        **engine_kwargs: passed to :func:`sqlalchemy.create_engine` (e.g. ``connect_args``).

    Raises:
        BadInputError: the URL is unreadable or the database cannot be reached.
    """
    text = resolve_url(url)
    parsed = _parse(text)
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            engine = create_engine(_sqlite_url(parsed, read_only), **engine_kwargs)
            event.listen(engine, "connect", _on_sqlite_connect(read_only))
        elif backend == "postgresql":
            connect_args = dict(engine_kwargs.pop("connect_args", {}))
            connect_args.setdefault("connect_timeout", 5)
            engine = create_engine(
                parsed, connect_args=connect_args, pool_pre_ping=True, **engine_kwargs
            )
            if read_only:
                event.listen(engine, "connect", _on_postgres_connect)
        else:
            raise BadInputError(
                f"unsupported database {describe_url(parsed)!r}; use sqlite:///file.db or "
                "postgresql+psycopg://user@host:5432/dbname"
            )
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise BadInputError(
            f"no driver for {describe_url(parsed)!r} ({exc}); use sqlite:/// or postgresql+psycopg://"
        ) from exc
    try:
        with engine.connect():
            pass
    except (DBAPIError, SQLAlchemyError) as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise BadInputError(
            f"cannot reach database {describe_url(parsed)} ({reason}); "
            "check the URL or start the server"
        ) from exc
    return engine


def _alembic_config(engine: Engine | None, connection: Any) -> Any:
    from alembic.config import Config

    folder = resources.files("halfcost.governance") / "migrations"
    config = Config()
    config.set_main_option("script_location", str(folder))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest schema revision halfcost ships (read from the migration files' names).

    Migration files are named ``NNNN_<slug>.py`` with revision id ``NNNN_<slug>``, in
    order, so the head is the last name; a test checks this against Alembic's own answer.
    """
    return known_revisions()[-1]


def _stored_revision(connection: Any) -> str | None:
    """The revision in ``alembic_version`` (without importing Alembic), None if never migrated."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.scalar(text("SELECT version_num FROM alembic_version"))


def migrate(engine: Engine, revision: str = "head") -> str | None:
    """Upgrade the registry's schema to ``revision`` with Alembic; return the new revision.

    A registry already at the newest revision is left alone after a quick version check
    (without importing Alembic), so every writing command may call this first. Two
    commands migrating a new registry at the same moment both succeed: the one that loses
    the race finds the schema at the head revision and leaves it.
    """
    try:
        return _migrate(engine, revision)
    except DBAPIError:
        if revision != "head":
            raise
        # another process is migrating the same registry (SQLite runs DDL outside the
        # transaction, so its tables appear one by one): wait for it to reach the head
        deadline = time.monotonic() + _MIGRATION_WAIT_S
        while time.monotonic() < deadline:
            with suppress(DBAPIError):
                if current_revision(engine) == head_revision():
                    return head_revision()
            time.sleep(0.2)
        raise


def _migrate(engine: Engine, revision: str) -> str | None:
    with engine.begin() as connection:
        current = _stored_revision(connection)
        if revision == "head" and current is not None and current == head_revision():
            return current
        from alembic import command

        command.upgrade(_alembic_config(engine, connection), revision)
        return _stored_revision(connection)


def known_revisions() -> list[str]:
    """Every schema revision halfcost ships, oldest first."""
    folder = resources.files("halfcost.governance") / "migrations" / "versions"
    return sorted(
        p.name[: -len(".py")]
        for p in folder.iterdir()
        if p.name.endswith(".py") and p.name[:4].isdigit()
    )


def ensure_schema(engine: Engine) -> str | None:
    """Make sure the registry's schema is the one this halfcost writes; every writer calls it.

    SQLite (one user's file) is upgraded in place, as before. A shared PostgreSQL
    registry is only *created* here (an empty database gets the schema); an older schema
    is upgraded only by ``halfcost registry upgrade``, run once on purpose, so that one
    newer client never silently changes the schema every other client reads. A schema
    newer than this halfcost knows is refused on both.

    Raises:
        BadInputError: the schema is older (PostgreSQL) or newer than this halfcost's.
    """
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return current
    check_not_newer(engine, current)
    if current is not None and engine.dialect.name == "postgresql":
        raise BadInputError(
            f"the registry at {describe_url(engine.url)} has schema {current}, this halfcost "
            f"writes {head}; run `halfcost registry upgrade --db URL` once (every client "
            "sharing it then needs this halfcost version or newer)"
        )
    return migrate(engine)


def check_not_newer(engine: Engine, current: str | None) -> None:
    """Refuse a registry whose schema a newer halfcost wrote (this one cannot read it)."""
    if current is not None and current not in known_revisions():
        raise BadInputError(
            f"the registry at {describe_url(engine.url)} has schema {current}, newer than "
            f"this halfcost knows (newest {head_revision()}); upgrade halfcost "
            "(pip install -U halfcost) to use it"
        )


def upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """Upgrade the registry's schema to this halfcost's (``halfcost registry upgrade``).

    Returns:
        The revision before and after.

    Raises:
        BadInputError: the schema is newer than this halfcost knows.
    """
    before = current_revision(engine)
    check_not_newer(engine, before)
    return before, migrate(engine)


RETRY_ATTEMPTS = 6


def retry_writes(write: Callable[[], T], *, attempts: int = RETRY_ATTEMPTS) -> T:
    """Run ``write`` (one whole transaction) again when a concurrent writer got in first.

    PostgreSQL aborts a transaction that lost a race (a unique constraint another
    writer's row now holds, a serialization failure, a deadlock): run again from the
    start, it sees the other writer's rows. Waits grow (with jitter) between attempts.
    """
    for attempt in range(attempts):
        try:
            return write()
        except WriteConflictError:
            if attempt == attempts - 1:
                raise
            time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")


def current_revision(engine: Engine) -> str | None:
    """The registry's Alembic revision, or None when it was never initialised."""
    with engine.connect() as connection:
        return _stored_revision(connection)


def has_schema(engine: Engine) -> bool:
    """True when the registry's tables exist."""
    return inspect(engine).has_table("teams")


def require_schema(engine: Engine) -> None:
    """Raise a one-line error when the registry was never initialised."""
    if not has_schema(engine):
        raise BadInputError(
            f"the registry at {describe_url(engine.url)} has no tables; run "
            "`halfcost registry init` (or `halfcost demo`) first"
        )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "unknown"


class WriteConflictError(HalfcostError):
    """A write lost a race: another writer added the same row first, or PostgreSQL
    aborted it (serialization failure, deadlock). Running it again is safe."""


# SQLSTATEs of a transaction PostgreSQL aborted because of another one: run it again
_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def _lost_a_race(exc: DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return isinstance(exc, IntegrityError) or sqlstate in _RETRYABLE_SQLSTATES


@contextmanager
def write_session(engine: Engine, actor: str) -> Iterator[RegistrySession]:
    """One all-or-nothing transaction: committed on success, rolled back on any error.

    Its audit rows name the operating-system user and ``actor`` (what wrote).
    """
    who = f"{_user()}: {actor}"
    session = RegistrySession(engine, info={"actor": who}, expire_on_commit=False)
    try:
        with session, session.begin():
            yield session
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        error = WriteConflictError if _lost_a_race(exc) else HalfcostError
        raise error(
            f"the registry at {describe_url(engine.url)} refused the write ({reason}); "
            "nothing was written: check the input, or retry if another writer was busy"
        ) from exc


_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def create_reader_role(engine: Engine, role: str, *, password: str | None = None) -> str:
    """Create (or refresh) a PostgreSQL login role that can only read the registry.

    The role gets CONNECT on the database, USAGE on the registry's schema and SELECT on its
    tables (also on tables added later by migrations). Returns the URL to give the app.

    Raises:
        BadInputError: the registry is not PostgreSQL, or the role name is unusable.
    """
    if engine.dialect.name != "postgresql":
        raise BadInputError(
            "--reader-role needs PostgreSQL; a SQLite registry is opened read-only by the app"
        )
    if not _ROLE_NAME.match(role):
        raise BadInputError(
            f"role name {role!r} must be lower-case letters, digits and _ (e.g. halfcost_reader)"
        )
    with engine.begin() as connection:
        exists = connection.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
        if not exists:
            connection.execute(text(f"CREATE ROLE {role} LOGIN"))
        if password is not None:
            quoted = password.replace("'", "''")
            connection.execute(text(f"ALTER ROLE {role} PASSWORD '{quoted}'"))
        database = connection.scalar(text("SELECT current_database()"))
        schema = connection.scalar(text("SELECT current_schema()"))
        connection.execute(text(f'GRANT CONNECT ON DATABASE "{database}" TO {role}'))
        connection.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}'))
        connection.execute(text(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {role}'))
        connection.execute(
            text(f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" GRANT SELECT ON TABLES TO {role}')
        )
        connection.execute(text(f"ALTER ROLE {role} SET default_transaction_read_only = on"))
    url = engine.url.set(username=role, password=password)
    return url.render_as_string(hide_password=True)
