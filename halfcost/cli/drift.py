"""`halfcost drift`: check batches for drift, keep reference profiles, retrain on alert."""

from __future__ import annotations

import argparse

from halfcost.cli._groups import register_group

HELP = "drift checks with Evidently, retraining through DVC on alert, and their history"
DESCRIPTION = (
    "Watch new batches for drift. `check` compares a batch with a reference (a table or a "
    "saved profile); `profile` saves reference statistics once, at training time; `watch` "
    "checks a batch and, when the alert policy in params.yaml says so, retrains through "
    "`dvc repro` and promotes the challenger only if it is good enough; `history` lists "
    "every alert, retrain and promotion with its reason."
)


def register(parser: argparse.ArgumentParser) -> None:
    register_group(parser, "drift", ("check", "profile", "watch", "history"))


def run(args: argparse.Namespace) -> int:  # pragma: no cover - dispatched per sub-command
    raise AssertionError("sub-commands set their own _run")
