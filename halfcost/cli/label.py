"""`halfcost label`: which rows to label next, and how many labels a target score needs."""

from __future__ import annotations

import argparse

from halfcost.cli._groups import register_group

HELP = "active learning: pick the rows worth labelling, and simulate the labels a score needs"
DESCRIPTION = (
    "Buy fewer labels. `select` picks the pool rows the model is least sure about (margin, "
    "entropy, diverse or random) for a person to label next; `simulate` hides the labels of "
    "a labelled table and replays labelling with every strategy, so you see on your own data "
    "how many labels each needs to reach a score, before you pay for any."
)


def register(parser: argparse.ArgumentParser) -> None:
    register_group(parser, "label", ("select", "simulate"))


def run(args: argparse.Namespace) -> int:  # pragma: no cover - dispatched per sub-command
    raise AssertionError("sub-commands set their own _run")
