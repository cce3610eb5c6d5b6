"""The registry's arithmetic, in one place: ROI, payback, unit cost and the savings levers.

Every money figure is a :class:`~decimal.Decimal` and nothing is rounded here: rounding is
for display only. A figure that is undefined (ROI of a project that cost nothing, cost per
prediction of a project that served none, payback of a project not yet paid back) is
``None``, never 0 or infinity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from halfcost.records import Lever

ZERO = Decimal(0)
PER_MILLION = Decimal(1_000_000)
PER_THOUSAND = Decimal(1_000)
SECONDS_PER_HOUR = Decimal(3600)

MIN_SPEND_FOR_ROI = Decimal("100")
"""Below this spend (in the registry's currency) ROI and payback are not shown ("n/a"): a
project that booked a few cents of compute against a month of value would show an ROI of
millions of percent, a ratio no controller would sign."""

FORMULAS = {
    Lever.CHEAPER_MODELS: (
        "(baseline cost per 1M predictions − champion's cost per 1M) × predictions served"
        " ÷ 1,000,000, per project and month"
    ),
    Lever.DATASET_REUSE: (
        "(collect cost + label cost) of a dataset version × each team other than its owner"
        " that used it (counted once per team, in the month of its first use)"
    ),
    Lever.FEWER_LABELS: (
        "labels not bought (against random sampling to the same score) × the price per label"
    ),
    Lever.LESS_CLEANING: (
        "rows repaired or quarantined automatically × what reviewing one by hand costs"
    ),
    "search_compute": (
        "(search + baseline + finalists + refit seconds) ÷ 3,600 × the price per core-hour"
        " given to the search"
    ),
    "retrain_compute": (
        "`dvc repro` seconds of the retrain ÷ 3,600 × the project's price per core-hour"
        " (from its latest search report)"
    ),
}
"""Each estimate's formula, as the app and the docs state it beside the figure."""


def roi(value: Decimal, cost: Decimal) -> Decimal | None:
    """Return on investment, ``(value - cost) / cost``; None when nothing was spent.

    Example: value 150, cost 100 → 0.5 (50 %).
    """
    if cost == 0:
        return None
    return (value - cost) / cost


def roi_note(spend: Decimal, *, min_spend: Decimal = MIN_SPEND_FOR_ROI) -> str | None:
    """Why ROI and payback are not shown for ``spend`` ("n/a"), or None when they are.

    Example: spend 0 → "nothing was spent"; spend 0.02 → "spend $0.02 is below $100.00 …".
    """
    if spend == 0:
        return "n/a: nothing was spent, so there is no return to measure"
    if abs(spend) < min_spend:
        return (
            f"n/a: spend ${spend:,.2f} is below ${min_spend:,.2f}, too little for a "
            "meaningful return on it"
        )
    return None


def compute_cost(seconds: float | Decimal, price_per_hour: float | Decimal) -> Decimal:
    """What ``seconds`` of one core cost at ``price_per_hour``: ``seconds / 3600 × price``."""
    return Decimal(str(seconds)) / SECONDS_PER_HOUR * Decimal(str(price_per_hour))


def cost_per_1k_predictions(cost: Decimal, predictions: int | None) -> Decimal | None:
    """What 1,000 predictions cost: ``cost / predictions * 1000``; None without predictions."""
    if not predictions:
        return None
    return cost / Decimal(predictions) * PER_THOUSAND


def saving_per_1m(baseline_cost_per_1m: Decimal | None, cost_per_1m: Decimal | None) -> Decimal:
    """What the chosen model saves per million predictions against its baseline (0 if unknown)."""
    if baseline_cost_per_1m is None or cost_per_1m is None:
        return ZERO
    return baseline_cost_per_1m - cost_per_1m


def cheaper_model_saving(
    baseline_cost_per_1m: Decimal | None, cost_per_1m: Decimal | None, predictions: int | None
) -> Decimal:
    """Savings from the cheaper model: ``(baseline − chosen) per 1M × predictions / 1M``."""
    if not predictions:
        return ZERO
    return saving_per_1m(baseline_cost_per_1m, cost_per_1m) * Decimal(predictions) / PER_MILLION


def reuse_avoided_cost(collect_cost: Decimal, label_cost: Decimal, reusing_teams: int) -> Decimal:
    """Cost avoided by reuse: each other team that reused a dataset did not buy it again."""
    return (collect_cost + label_cost) * reusing_teams


def labeling_saved(labels_saved: int, cost_per_label: Decimal) -> Decimal:
    """Labels not bought (against random sampling to the same score) times their price."""
    return Decimal(labels_saved) * cost_per_label


def cleaning_saved(rows_handled: int, review_cost_per_row: Decimal) -> Decimal:
    """Rows repaired or quarantined automatically times what reviewing one by hand costs."""
    return Decimal(rows_handled) * review_cost_per_row


def month_start(day: date | datetime) -> date:
    """The first day of ``day``'s month."""
    return date(day.year, day.month, 1)


def month_key(day: date | datetime) -> str:
    """``YYYY-MM`` of ``day`` (the key monthly tables use)."""
    return f"{day.year:04d}-{day.month:02d}"


def months_between(first: date, last: date) -> int:
    """Whole calendar months from ``first``'s month to ``last``'s month (same month → 0)."""
    return (last.year - first.year) * 12 + (last.month - first.month)


def _parse_month(key: str | date) -> date:
    if isinstance(key, date):
        return month_start(key)
    year, month = key.split("-")[:2]
    return date(int(year), int(month), 1)


def payback_months(
    monthly_cost: Mapping[str | date, Decimal], monthly_value: Mapping[str | date, Decimal]
) -> int | None:
    """Months until a project paid for itself, counting its first month of cost as month 1.

    The cumulative value is compared with the cumulative cost month by month, from the
    month of the first cost; the answer is the first month where value exceeds cost
    (first cost in January, value overtakes in March → 3). None when the project has no
    cost, or has not paid back yet.
    """
    costs = {_parse_month(k): v for k, v in monthly_cost.items() if v}
    values: dict[date, Decimal] = {}
    for key, amount in monthly_value.items():
        month = _parse_month(key)
        values[month] = values.get(month, ZERO) + amount
    if not costs:
        return None
    first = min(costs)
    last = max([*costs, *values])
    cumulative_cost = ZERO
    cumulative_value = sum((v for m, v in values.items() if m < first), ZERO)
    month = first
    while month <= last:
        cumulative_cost += costs.get(month, ZERO)
        cumulative_value += values.get(month, ZERO)
        if cumulative_value > cumulative_cost:
            return months_between(first, month) + 1
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return None


@dataclass(frozen=True)
class Figures:
    """Spend and value of one group (a project, a team, a month) and what follows from them."""

    spend: Decimal = ZERO
    value: Decimal = ZERO
    predictions: int = 0

    @property
    def roi(self) -> Decimal | None:
        """``(value − spend) / spend``; None when spend is zero or below the minimum."""
        if self.roi_note is not None:
            return None
        return roi(self.value, self.spend)

    @property
    def roi_note(self) -> str | None:
        """Why the ROI is not shown (see :func:`roi_note`), or None."""
        return roi_note(self.spend)

    @property
    def net(self) -> Decimal:
        """Value minus spend."""
        return self.value - self.spend

    @property
    def cost_per_1k_predictions(self) -> Decimal | None:
        """Spend per 1,000 predictions served; None when none were served."""
        return cost_per_1k_predictions(self.spend, self.predictions)

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.spend + other.spend, self.value + other.value, self.predictions + other.predictions
        )


def total(figures: Iterable[Figures]) -> Figures:
    """The sum of several groups' figures."""
    result = Figures()
    for item in figures:
        result = result + item
    return result
