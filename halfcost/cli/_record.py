"""Recording a command's results in the registry directly (`--db URL` or `$HALFCOST_DB`).

`halfcost search`, `clean` and `drift watch` write their files first; with a registry
configured they also ingest those files, so nobody has to run `halfcost registry ingest`
by hand. The registry is checked before the work starts: a dead database is bad input
(exit 2) found in a second, not after a two-minute search. Standard library only at
import time.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def add_record_flags(parser: argparse.ArgumentParser, *, project_flag: str = "--project") -> None:
    """Add ``--db``, the registry project flag and ``--team`` (recording in the registry).

    Args:
        parser: the command's parser.
        project_flag: the flag naming the registry project; a command whose
            ``--project`` already means something else passes another name.
    """
    group = parser.add_argument_group(
        "registry",
        "record the results in the governance registry as well "
        "(only when --db or $HALFCOST_DB is set)",
    )
    group.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="registry URL: sqlite:///file.db or postgresql+psycopg://user@host/db "
        "(default $HALFCOST_DB; unset: nothing is recorded)",
    )
    group.add_argument(
        project_flag,
        dest="registry_project",
        metavar="NAME",
        default=None,
        help="registry project (default: the project's or the --out folder's name)",
    )
    group.add_argument(
        "--team", metavar="NAME", default=None, help="the project's team (needed for a new project)"
    )


def registry_url(args: argparse.Namespace) -> str | None:
    """The registry to record in, or None when recording is off."""
    return getattr(args, "db", None) or os.environ.get("HALFCOST_DB") or None


def check_registry(args: argparse.Namespace) -> None:
    """Fail fast (BadInputError, exit 2) when a registry is configured but unreachable."""
    url = registry_url(args)
    if url is None:
        return
    from halfcost.governance import connect, ensure_schema

    engine = connect(url)
    try:
        ensure_schema(engine)
    finally:
        engine.dispose()


def record(args: argparse.Namespace, path: str | os.PathLike[str], default_project: str) -> None:
    """Ingest ``path`` (a report or a folder) into the configured registry, if any."""
    url = registry_url(args)
    if url is None:
        return
    from halfcost.governance import ingest

    project = getattr(args, "registry_project", None) or default_project
    result = ingest(Path(path), project=project, team=getattr(args, "team", None), db=url)
    print(
        f"registry: {result['added']} records added for project {project!r} "
        f"({result['files_added']} new files, {result['files_skipped']} already recorded)",
        file=sys.stderr,
    )
