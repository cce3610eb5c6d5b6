"""Flags several commands share, defined once so that their help and choices agree."""

from __future__ import annotations

import argparse

ON_BAD_VALUES = ("error", "null", "impute")


def add_on_bad_values_flag(
    parser: argparse.ArgumentParser, *, counted_in: str = "the output"
) -> None:
    """Add ``--on-bad-values``: what a value a numeric or date feature cannot read does.

    Args:
        parser: the command's parser.
        counted_in: where the command counts the replaced cells (for the help text).
    """
    parser.add_argument(
        "--on-bad-values",
        choices=ON_BAD_VALUES,
        default="error",
        help="values a numeric or date feature cannot read: error (exit 2, the default), "
        "null (treat them as missing) or impute (as the model imputes a missing value); "
        f"replaced cells are counted in {counted_in}",
    )


def add_mlflow_flag(parser: argparse.ArgumentParser, *, what: str) -> None:
    """Add ``--mlflow URI``: where to log ``what`` in MLflow ($MLFLOW_TRACKING_URI when unset).

    Args:
        parser: the command's parser.
        what: what the command logs (for the help text).
    """
    parser.add_argument(
        "--mlflow",
        metavar="URI",
        help=f"MLflow tracking URI to log {what} to (default $MLFLOW_TRACKING_URI when set; "
        "a local sqlite:///mlflow.db needs no server; needs `pip install 'halfcost[mlflow]'`)",
    )
