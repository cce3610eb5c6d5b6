"""The ``halfcost`` console script: one subcommand per module in this package.

Each module ``halfcost/cli/<name>.py`` defines::

    HELP: str                                   # one line for `halfcost --help`
    def register(parser: argparse.ArgumentParser) -> None   # add its flags
    def run(args: argparse.Namespace) -> int                # do the work, return exit code

Modules here import only the standard library at import time, so `halfcost --help`
answers instantly; the heavy libraries are imported inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

from halfcost import __version__
from halfcost.errors import HalfcostError, flag_for

# The order commands appear in `halfcost --help`; modules not listed follow, sorted.
_ORDER = ("demo", "search", "predict", "clean", "drift", "init", "registry", "app")


def _command_modules() -> list[str]:
    found = {m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")}
    ordered = [name for name in _ORDER if name in found]
    return ordered + sorted(found - set(ordered))


def build_parser() -> argparse.ArgumentParser:
    """Build the full argument parser (one subparser per command module)."""
    from halfcost.cli._groups import add_command

    parser = argparse.ArgumentParser(
        prog="halfcost",
        description=(
            "Cut the cost of ML projects, measurably: search for the cheapest model that "
            "meets a target score, clean data with Great Expectations, watch for drift "
            "with Evidently and retrain through DVC, and keep a registry of what ML costs "
            "and returns."
        ),
    )
    parser.add_argument("--version", action="version", version=f"halfcost {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _command_modules():
        add_command(sub, name, importlib.import_module(f"{__name__}.{name}"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the console script; returns (and exits with) the command's exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    try:
        code = int(args._run(args) or 0)
    except HalfcostError as exc:
        # The library names parameters; the user typed flags.
        message = exc.render(flag_for(exc.param)) if exc.param else str(exc)
        print(f"halfcost {args.command}: error: {message}", file=sys.stderr)
        code = exc.exit_code
    except KeyboardInterrupt:
        print(f"halfcost {args.command}: interrupted.", file=sys.stderr)
        code = 130
    except BrokenPipeError:
        # The reader went away (`halfcost ... | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 141
    if argv is None:  # called as the console script
        sys.exit(code)
    return code


if __name__ == "__main__":  # pragma: no cover
    main()
