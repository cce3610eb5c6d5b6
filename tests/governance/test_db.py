"""Connecting, migrating, read-only engines and the append-only audit log, on both backends."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError

from halfcost.errors import BadInputError
from halfcost.governance import connect, migrate
from halfcost.governance._db import current_revision, has_schema, write_session
from halfcost.governance._models import AuditEntry, Base, CostEntry, Team


def test_migrations_create_every_table_on_an_empty_database(empty_db_url):
    engine = connect(empty_db_url)
    assert current_revision(engine) is None and not has_schema(engine)
    assert migrate(engine) == "0002_provenance_evidence"
    assert migrate(engine) == "0002_provenance_evidence"  # running again changes nothing
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == [], f"the models and the migration disagree: {diff}"


def test_every_public_name_resolves():
    import halfcost.governance as governance

    assert {"connect", "ingest", "seed_history", "Filters", "overview"} <= set(governance.__all__)
    for name in governance.__all__:
        assert getattr(governance, name) is not None


def test_head_revision_matches_alembic():
    from alembic.script import ScriptDirectory

    from halfcost.governance._db import _alembic_config, head_revision

    assert (
        head_revision() == ScriptDirectory.from_config(_alembic_config(None, None)).get_heads()[0]
    )


def test_every_write_is_audited_in_the_same_transaction(engine):
    migrate(engine)
    with write_session(engine, actor="tester") as session:
        session.add(Team(name="Risk"))
    with engine.connect() as connection:
        rows = connection.execute(
            select(AuditEntry.action, AuditEntry.table_name, AuditEntry.actor)
        )
        ((action, table, actor),) = list(rows)
    assert (action, table) == ("insert", "teams") and actor.endswith(": tester")
    with pytest.raises(RuntimeError), write_session(engine, actor="tester") as session:
        session.add(Team(name="Pricing"))
        session.flush()
        raise RuntimeError("boom")
    with engine.connect() as connection:
        assert connection.scalar(select(AuditEntry.id).where(AuditEntry.id > 1)) is None
        assert [r[0] for r in connection.execute(select(Team.name))] == ["Risk"]


def test_a_refused_write_is_one_line_and_writes_nothing(engine):
    from halfcost.errors import HalfcostError

    refused = pytest.raises(HalfcostError, match="refused the write")
    with refused as caught, write_session(engine, actor="tester") as session:
        session.add(Team(name="Risk"))
        session.add(Team(name="Risk"))  # the unique name is the database's to enforce
    assert "nothing was written" in str(caught.value) and "\n" not in str(caught.value)
    with engine.connect() as connection:
        assert connection.scalar(select(Team.id)) is None
        assert connection.scalar(select(AuditEntry.id)) is None


def test_audit_log_refuses_updates_and_deletes(engine):
    migrate(engine)
    with write_session(engine, actor="tester") as session:
        session.add(Team(name="Risk"))
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))


def test_read_only_engine_refuses_writes(db_url):
    writer = connect(db_url)
    migrate(writer)
    writer.dispose()
    reader = connect(db_url, read_only=True)
    try:
        with reader.connect() as connection:
            assert connection.scalar(select(Team.id)) is None  # reading works
        with pytest.raises(DBAPIError), reader.begin() as connection:
            connection.execute(insert(Team).values(name="Intruder"))
        with pytest.raises(DBAPIError), reader.begin() as connection:
            connection.execute(
                insert(CostEntry).values(
                    incurred_on=date(2026, 1, 1), category="compute", amount=1, source="x"
                )
            )
    finally:
        reader.dispose()


def test_dead_database_url_is_one_line_bad_input():
    with pytest.raises(BadInputError) as caught:
        connect("postgresql+psycopg://postgres@127.0.0.1:1/none")
    message = str(caught.value)
    assert "cannot reach database" in message and "start the server" in message
    assert "\n" not in message


def test_unusable_urls_are_bad_input(tmp_path):
    with pytest.raises(BadInputError, match="cannot read database URL"):
        connect("not a url")
    with pytest.raises(BadInputError, match="unsupported database"):
        connect("mysql://x@localhost/db")
    with pytest.raises(BadInputError, match="no registry at"):
        connect(f"sqlite:///{tmp_path / 'missing.db'}", read_only=True)
    with pytest.raises(BadInputError, match="does not exist"):
        connect(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")


def test_default_url_comes_from_the_environment(monkeypatch, tmp_path):
    from halfcost.governance import resolve_url

    monkeypatch.setenv("HALFCOST_DB", f"sqlite:///{tmp_path / 'env.db'}")
    assert resolve_url() == f"sqlite:///{tmp_path / 'env.db'}"
    assert resolve_url("sqlite:///x.db") == "sqlite:///x.db"
    monkeypatch.delenv("HALFCOST_DB")
    assert resolve_url() == "sqlite:///halfcost-registry.db"


def test_reader_role_can_read_but_not_write(db_url):
    from halfcost.governance._db import create_reader_role

    writer = connect(db_url)
    try:
        if writer.dialect.name == "sqlite":
            with pytest.raises(BadInputError, match="needs PostgreSQL"):
                create_reader_role(writer, "halfcost_reader")
            return
        role = f"halfcost_reader_{uuid.uuid4().hex[:8]}"
        with write_session(writer, actor="tester") as session:
            session.add(Team(name="Risk"))
        reader_url = create_reader_role(writer, role)
        reader = connect(reader_url)  # not even asked to be read-only: the role is
        try:
            with reader.connect() as connection:
                assert connection.scalar(select(Team.name)) == "Risk"
            with pytest.raises(DBAPIError), reader.begin() as connection:
                connection.execute(insert(Team).values(name="Intruder"))
        finally:
            reader.dispose()
            with writer.begin() as connection:
                connection.execute(text(f"DROP OWNED BY {role}"))
                connection.execute(text(f"DROP ROLE {role}"))
    finally:
        writer.dispose()


def test_migration_0002_classifies_rows_written_before_it(empty_db_url):
    from sqlalchemy import text

    engine = connect(empty_db_url)
    try:
        assert migrate(engine, "0001_initial") == "0001_initial"
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO teams (id, name, created_at) VALUES (1, 'T', '2026-01-01')")
            )
            connection.execute(
                text(
                    "INSERT INTO projects (id, name, team_id, predictions_per_month, currency, "
                    "created_at) VALUES (1, 'p', 1, 0, 'USD', '2026-01-01')"
                )
            )
            for source in ("seed", "focus:bill.csv", "report.json 0123456789ab", "manual"):
                connection.execute(
                    text(
                        "INSERT INTO cost_entries (incurred_on, project_id, team_id, category, "
                        "amount, currency, source) VALUES ('2026-01-02', 1, 1, 'compute', 5, "
                        "'USD', :source)"
                    ),
                    {"source": source},
                )
        assert migrate(engine) == "0002_provenance_evidence"
        with engine.connect() as connection:
            found = dict(
                connection.execute(text("SELECT source, provenance FROM cost_entries")).all()
            )
    finally:
        engine.dispose()
    assert found == {
        "seed": "seeded",
        "focus:bill.csv": "imported",
        "report.json 0123456789ab": "measured",
        "manual": "imported",
    }


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize(
    "sqlstate", ["serialization_failure", "deadlock_detected"], ids=["40001", "40P01"]
)
def test_a_transaction_postgres_aborts_for_a_race_is_run_again_and_writes_once(db_url, sqlstate):
    """The server itself raises the SQLSTATE a lost race gives; the retry runs it again."""
    from halfcost.governance._db import retry_writes

    engine = connect(db_url)
    attempts: list[int] = []

    def write() -> None:
        with write_session(engine, actor="tester") as session:
            session.add(Team(name="Risk"))
            session.flush()
            attempts.append(1)
            if len(attempts) == 1:  # the first attempt loses the race, after its insert
                session.execute(
                    text(f"DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '{sqlstate}'; END $$")
                )

    retry_writes(write)
    with engine.connect() as connection:
        assert [r[0] for r in connection.execute(select(Team.name))] == ["Risk"]
        assert len(list(connection.execute(select(AuditEntry.id)))) == 1  # the retry's only
    assert len(attempts) == 2
    engine.dispose()
