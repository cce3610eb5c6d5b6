"""`halfcost app`: serve the Streamlit app for managers over a registry, read-only."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HELP = "open the app for managers: costs, value, ROI, reuse, models, drift (read-only)"
DESCRIPTION = """\
Serve halfcost's Streamlit app over a registry: spend, value, ROI and savings by
lever, projects with payback, dataset reuse, the model inventory and the drift and
retraining timeline. The app only reads the registry.

It listens on 127.0.0.1 unless --host says otherwise. To serve it beyond this
machine, configure Streamlit's OIDC login ([auth] in secrets.toml, see docs/app.md)
and pass that file with --secrets.

examples:
  halfcost app                                   # $HALFCOST_DB or ./halfcost-registry.db
  halfcost app --db sqlite:///demo/registry.db --port 8502
  halfcost app --db postgresql+psycopg://reader@db:5432/halfcost --host 0.0.0.0 \\
      --secrets /etc/halfcost/secrets.toml
"""


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=None,
        help="registry URL (default: $HALFCOST_DB, else sqlite:///halfcost-registry.db)",
    )
    parser.add_argument("--port", type=int, default=8501, help="port to listen on (default 8501)")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0 for every interface)",
    )
    parser.add_argument(
        "--secrets",
        default=None,
        help="a secrets.toml whose [auth] section turns on the OIDC login (see docs/app.md)",
    )


def app_script() -> Path:
    """The installed app's entry page (``halfcost/app/main.py``)."""
    import halfcost.app

    return Path(halfcost.app.__file__).resolve().parent / "main.py"


def streamlit_command(
    script: Path, *, db_url: str | None, port: int, host: str, secrets: Path | None = None
) -> list[str]:
    """The ``python -m streamlit run`` argv serving ``script`` over ``db_url``.

    ``db_url=None`` leaves the URL out of the argv (the app then reads ``$HALFCOST_DB``).
    """
    secrets_flags = ["--secrets.files", str(secrets)] if secrets else []
    script_args = ["--", "--db", db_url] if db_url is not None else []
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
        *secrets_flags,
        *script_args,
    ]


def check_registry(db_url: str) -> None:
    """Fail fast, before the server starts, when the registry cannot be read.

    Raises:
        BadInputError: the database is unreachable or is not a halfcost registry.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from halfcost.errors import BadInputError, HalfcostError
    from halfcost.governance import connect, registry_is_empty

    safe_url = _redact(db_url)
    try:
        engine = connect(db_url, read_only=True)
        try:
            registry_is_empty(engine)
        finally:
            engine.dispose()
    except HalfcostError:
        raise
    except (SQLAlchemyError, OSError) as error:
        reason = " ".join(str(error).split("\n")[0].split())[:200]
        raise BadInputError(
            f"cannot read the registry at {safe_url} ({reason}); start the database, "
            "or pass a working --db URL (create a registry with `halfcost registry init`)"
        ) from error


def _redact(db_url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except ArgumentError:
        return db_url


def run(args: argparse.Namespace) -> int:
    from halfcost.errors import BadInputError

    if not 0 < args.port < 65536:
        raise BadInputError(f"--port must be in 1..65535, but got {args.port}")
    from halfcost.governance import resolve_url

    db_url = resolve_url(args.db)
    secrets = Path(args.secrets).expanduser().resolve() if args.secrets else None
    if secrets is not None and not secrets.is_file():
        raise BadInputError(f"--secrets {args.secrets}: no such file; pass a secrets.toml")
    check_registry(db_url)
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    in_argv = _redact(db_url) == db_url  # a URL with a password goes by environment, not argv
    if not in_argv:
        env["HALFCOST_DB"] = db_url  # process lists show argv to every user of the machine
    command = streamlit_command(
        app_script(),
        db_url=db_url if in_argv else None,
        port=args.port,
        host=args.host,
        secrets=secrets,
    )
    shown_host = "localhost" if args.host in ("127.0.0.1", "localhost") else args.host
    print(f"halfcost app: serving {_redact(db_url)} at http://{shown_host}:{args.port}", flush=True)
    if os.name == "posix":
        # Become the server: signals (Ctrl+C, a supervisor's SIGTERM) reach it directly.
        os.execve(sys.executable, command, env)
    return subprocess.run(command, env=env, check=False).returncode
