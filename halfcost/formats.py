"""Money for people, the one way every page and report shows it.

The registry and the reports keep exact decimals; these functions are where they are
rounded, for display only: ``$1,234,567.89``, and a per-prediction cost in the unit that
makes it read as cents or more (``$0.30 per 1M``, ``$3.40 per 1B``). Shared by the
manager's app and the search's ``report.html``.
"""

from __future__ import annotations

from decimal import Decimal

PREDICTION_UNITS = ("1k", "1M", "1B")
CENT = Decimal("0.01")


def money_text(value: Decimal | float | int | str) -> str:
    """``$1,234,567.89``: thousands separators and two decimals (``-$3.20`` below zero)."""
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    text = f"${abs(amount):,.2f}"
    return f"-{text}" if amount < 0 and text != "$0.00" else text


def per_predictions_text(value: Decimal | float | str, unit: str = "1M") -> str:
    """Money per ``unit`` predictions, moved to a larger unit until it reads as cents or
    more: ``0.0000034`` per 1k → ``$0.0034`` per 1M → ``$3.40 per 1B``; below a cent per
    billion, ``< $0.01 per 1B``.

    Raises:
        ValueError: ``unit`` is not one of ``1k``, ``1M``, ``1B``.
    """
    if unit not in PREDICTION_UNITS:
        raise ValueError(f"unknown unit {unit!r}; choose one of {', '.join(PREDICTION_UNITS)}")
    amount = Decimal(str(value))
    index = PREDICTION_UNITS.index(unit)
    while amount != 0 and abs(amount) < CENT and index < len(PREDICTION_UNITS) - 1:
        amount, index = amount * 1000, index + 1
    if amount != 0 and abs(amount) < CENT:
        return f"< $0.01 per {PREDICTION_UNITS[index]}"
    return f"{money_text(amount)} per {PREDICTION_UNITS[index]}"
