"""`halfcost registry`: the registry of teams, projects, datasets, models, costs and value."""

from __future__ import annotations

import argparse

from halfcost.cli._groups import register_group

HELP = "the registry of what ML costs and returns: init, ingest, add, import-costs, report"
DESCRIPTION = (
    "Keep one registry (SQLite by default, PostgreSQL for a shared install) of teams, "
    "projects, datasets and their reuse, models with their cost figures, costs, value, "
    "drift alerts and retrains. The database is --db URL, or $HALFCOST_DB, or "
    "sqlite:///halfcost-registry.db in the current folder."
)


def register(parser: argparse.ArgumentParser) -> None:
    from halfcost.cli._reg_common import add_db_flag

    add_db_flag(parser)  # `halfcost registry --db URL CMD` as well as `... CMD --db URL`
    register_group(
        parser, "registry", ("init", "upgrade", "ingest", "add", "import_costs", "report")
    )


def run(args: argparse.Namespace) -> int:  # pragma: no cover - dispatched per sub-command
    raise AssertionError("sub-commands set their own _run")
