"""Command groups (`halfcost drift check`, `halfcost registry ingest`, ...).

A group ``G`` is a module ``halfcost/cli/G.py`` whose sub-commands live in private
modules ``halfcost/cli/_G_<name>.py``, each with the same ``HELP``/``register``/``run``
trio as a top-level command. Sub-commands are discovered, so two people can add
sub-commands to one group without editing the same file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from types import ModuleType

from halfcost import cli


def register_group(parser: argparse.ArgumentParser, group: str, order: tuple[str, ...]) -> None:
    """Add every ``_<group>_<name>`` module under ``halfcost.cli`` as a sub-command."""
    prefix = f"_{group}_"
    found = {
        m.name[len(prefix) :]
        for m in pkgutil.iter_modules(cli.__path__)
        if m.name.startswith(prefix)
    }
    names = [n for n in order if n in found] + sorted(found - set(order))
    sub = parser.add_subparsers(dest=f"{group}_command", metavar="COMMAND", required=True)
    for name in names:
        add_command(sub, name, importlib.import_module(f"halfcost.cli.{prefix}{name}"))


def add_command(sub: argparse._SubParsersAction, name: str, module: ModuleType) -> None:
    """Add ``module`` (its HELP/DESCRIPTION/register/run) as sub-command ``name``."""
    command = sub.add_parser(
        name.replace("_", "-"),
        help=module.HELP,
        description=getattr(module, "DESCRIPTION", module.HELP),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    module.register(command)
    command.set_defaults(_run=module.run)
