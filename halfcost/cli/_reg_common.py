"""Flags and printing shared by the `halfcost registry` sub-commands (standard library only)."""

from __future__ import annotations

import argparse
from datetime import date
from decimal import Decimal, InvalidOperation


def add_db_flag(parser: argparse.ArgumentParser) -> None:
    """Add ``--db URL`` (default $HALFCOST_DB, else sqlite:///halfcost-registry.db)."""
    parser.add_argument(
        "--db",
        default=argparse.SUPPRESS,  # given before or after the sub-command, either counts
        metavar="URL",
        help="the registry: sqlite:///file.db or postgresql+psycopg://user@host/db "
        "(default $HALFCOST_DB, else sqlite:///halfcost-registry.db)",
    )


def db_of(args: argparse.Namespace) -> str | None:
    """The ``--db`` value wherever it was given, else None (then $HALFCOST_DB or the default)."""
    return getattr(args, "db", None)


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    """Add ``--json`` (machine-readable output on stdout)."""
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def money(text: str) -> Decimal:
    """An argparse type: an exact decimal amount (never through a float)."""
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount like 1234.50") from exc
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite amount")
    return value


def day(text: str) -> date:
    """An argparse type: a date YYYY-MM-DD (or a month YYYY-MM, its first day)."""
    try:
        return date.fromisoformat(text if len(text) > 7 else f"{text}-01")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-03-31") from exc


def fmt_money(value: Decimal | None) -> str:
    """Money for people: two decimals with thousands separators (display only)."""
    return "-" if value is None else f"{value:,.2f}"


def fmt_ratio(value: Decimal | None) -> str:
    """A ratio as a percentage for people, or "n/a" when undefined."""
    return "n/a" if value is None else f"{value * 100:.1f}%"
