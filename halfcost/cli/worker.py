"""`halfcost worker`: join a running search's study from another host or terminal."""

from __future__ import annotations

import argparse

HELP = "join a running `halfcost search` study and run its trials"
DESCRIPTION = """\
Join the study that `halfcost search ... --storage URL` started, and run trials until the
study's shared budget (--budget-s of the search) or trial limit is spent. The worker reads
the search's data file (the path the study recorded, or --data PATH) and refuses a file
whose content differs. The search that started the study re-measures the finalists and
saves the model; a worker only runs trials.

exit status: 0 done; 2 bad input (no such study, other data), or the database went away.

example:
  halfcost worker --storage postgresql+psycopg://me@db/halfcost --study halfcost-search-1a2b3c4d5e6f
"""


def register(parser: argparse.ArgumentParser) -> None:
    """Add the worker flags."""
    parser.add_argument("--storage", required=True, metavar="URL", help="the study's storage")
    parser.add_argument(
        "--study", required=True, metavar="NAME", help="the study's name (in the search report)"
    )
    parser.add_argument(
        "--data", metavar="PATH", help="the search's data file, if mounted at another path here"
    )


def run(args: argparse.Namespace) -> int:
    """Run trials until the study is done; print how many this worker ran."""
    import optuna

    from halfcost.automl import run_worker
    from halfcost.cli.search import quiet_storage_threads

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with quiet_storage_threads():
        n = run_worker(args.storage, args.study, data=args.data)
    print(f"worker done: ran {n} trial(s) of study {args.study}")
    return 0
