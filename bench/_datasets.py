"""Offline benchmark data sets: two that scikit-learn ships and three seeded synthetic ones.

The synthetic sets are built to be as awkward as real tables, because a model search
tuned on ``make_classification`` learns nothing about real data: the signal hides in
non-linear interactions and in high-cardinality string columns, labels are noisy,
some columns are useless (numeric and string), values are missing and classes are
imbalanced. String columns stay raw strings (``object`` dtype): preprocessing is the
job of the model under test.

Every generator takes ``n_rows`` and ``seed``; the same arguments give the same table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Smallest size of a synthetic set (the benchmark's promise: >= 20k rows each).
MIN_SYNTHETIC_ROWS = 20_000


@dataclass(frozen=True)
class BenchDataset:
    """One benchmark table with what a search needs to know about it.

    Attributes:
        name: short name used on the command line (``--datasets``).
        frame: the features and the target column, raw (strings stay strings).
        target: name of the target column in ``frame``.
        task: ``"classification"`` or ``"regression"``.
        metric: the metric the search maximizes (a halfcost metric name).
        description: one line saying what makes the set hard.
        synthetic: True for the seeded generated sets.
    """

    name: str
    frame: pd.DataFrame = field(repr=False)
    target: str
    task: str
    metric: str
    description: str
    synthetic: bool

    @property
    def features(self) -> pd.DataFrame:
        """The feature columns (every column but the target)."""
        return self.frame.drop(columns=[self.target])

    @property
    def labels(self) -> pd.Series:
        """The target column."""
        return self.frame[self.target]


def _strings(prefix: str, codes: np.ndarray, width: int) -> np.ndarray:
    """Turn integer codes into zero-padded string labels such as ``M00042`` (object dtype)."""
    labels = np.array([f"{prefix}{i:0{width}d}" for i in range(int(codes.max()) + 1)], dtype=object)
    return labels[codes]


def _zipf_codes(rng: np.random.Generator, n_levels: int, n: int, exponent: float) -> np.ndarray:
    """Draw ``n`` level codes whose popularity falls off like real ids (a long tail)."""
    weights = 1.0 / np.arange(1, n_levels + 1) ** exponent
    return rng.choice(n_levels, size=n, p=weights / weights.sum())


def _with_missing(
    frame: pd.DataFrame, rng: np.random.Generator, shares: dict[str, float]
) -> pd.DataFrame:
    """Blank out a share of each named column (NaN for numbers, None for strings)."""
    for column, share in shares.items():
        mask = rng.random(len(frame)) < share
        if frame[column].dtype == object:
            frame.loc[mask, column] = None
        else:
            frame[column] = frame[column].astype(float)
            frame.loc[mask, column] = np.nan
    return frame


def make_fraud(n_rows: int = 40_000, seed: int = 0) -> BenchDataset:
    """Card transactions with ~5% fraud: an imbalanced binary task scored by ROC AUC.

    Fraud concentrates in a few of 1,500 merchants and 400 e-mail domains (high-cardinality
    strings), in foreign high amounts, and at night on new accounts (interactions). A
    5,000-level string column and four numeric columns carry no signal; 0.5% of labels flip.
    """
    rng = np.random.default_rng(seed)
    n = int(n_rows)
    n_merchants, n_domains = 1_500, 400
    merchant = _zipf_codes(rng, n_merchants, n, 0.8)
    merchant_risk = np.where(rng.random(n_merchants) < 0.06, rng.normal(3.5, 0.6, n_merchants), 0)
    merchant_category = rng.integers(0, 18, n_merchants)[merchant]
    category_risk = rng.normal(0, 0.5, 18)
    domain = _zipf_codes(rng, n_domains, n, 1.0)
    domain_risk = np.where(rng.random(n_domains) < 0.05, rng.normal(3.0, 0.5, n_domains), 0)
    card_country = rng.choice(
        10, size=n, p=[0.55, 0.1, 0.08, 0.07, 0.05, 0.05, 0.04, 0.03, 0.02, 0.01]
    )
    foreign = rng.random(n) < 0.12
    country = np.where(foreign, rng.integers(0, 40, n), card_country)
    foreign = country != card_country
    amount = rng.lognormal(3.3 + 0.08 * (merchant_category % 5), 1.1, n)
    hour = rng.choice(24, size=n, p=np.r_[np.full(6, 0.015), np.full(18, (1 - 0.09) / 18)])
    night = (hour < 6) | (hour == 23)
    account_age_days = rng.gamma(1.6, 300, n)
    tx_last_24h = rng.poisson(1.4 + 2.5 * (rng.random(n) < 0.05), n)
    distance_km = rng.lognormal(2.5 + 2.0 * foreign, 1.0, n)
    device = rng.choice(["ios", "android", "web", "pos"], size=n, p=[0.3, 0.3, 0.25, 0.15])

    logit = (
        -6.0
        + merchant_risk[merchant]
        + category_risk[merchant_category]
        + domain_risk[domain]
        + 3.2 * foreign * (amount > 150)
        + 3.0 * night * (account_age_days < 60)
        + 0.8 * np.sin(np.log1p(amount) * 1.7)
        + 1.2 * np.log1p(tx_last_24h) * (device == "web")
        + 0.3 * np.log1p(distance_km) * foreign
        - 1.0 * (device == "pos")
    )
    fraud = rng.random(n) < 1 / (1 + np.exp(-logit))
    fraud = np.where(rng.random(n) < 0.005, ~fraud, fraud)  # label noise

    frame = pd.DataFrame(
        {
            "amount": amount.round(2),
            "merchant": _strings("M", merchant, 5),
            "merchant_category": _strings("mcc_", merchant_category, 2),
            "email_domain": _strings("mail", domain, 3),
            "country": _strings("C", country, 2),
            "card_country": _strings("C", card_country, 2),
            "hour": hour,
            "account_age_days": account_age_days.round(),
            "tx_last_24h": tx_last_24h,
            "distance_km": distance_km.round(1),
            "device": device.astype(object),
            "batch_code": _strings("B", rng.integers(0, 5_000, n), 4),  # useless, 5k levels
            "noise_normal": rng.normal(0, 1, n).round(4),
            "noise_uniform": rng.random(n).round(4),
            "noise_count": rng.poisson(3, n),
            "noise_skewed": rng.lognormal(0, 1, n).round(3),
            "is_fraud": np.where(fraud, "fraud", "legit").astype(object),
        }
    )
    frame = _with_missing(
        frame,
        rng,
        {"distance_km": 0.08, "device": 0.05, "account_age_days": 0.03, "email_domain": 0.04},
    )
    return BenchDataset(
        name="fraud",
        frame=frame,
        target="is_fraud",
        task="classification",
        metric="roc_auc",
        description="imbalanced binary (~5% fraud); risk hides in 1.5k merchants and 400 domains",
        synthetic=True,
    )


def make_segments(n_rows: int = 30_000, seed: int = 0) -> BenchDataset:
    """Shoppers in five imbalanced segments (~35/23/21/15/6%), scored by accuracy.

    Each segment is a non-linear rule on several columns (discount x income, visits x
    recency, income x basket) plus an affinity of 800 cities (high-cardinality string);
    4% of labels are random and two columns (one numeric, one 3,000-level string) are useless.
    """
    rng = np.random.default_rng(seed)
    n = int(n_rows)
    n_cities = 800
    city = _zipf_codes(rng, n_cities, n, 0.7)
    city_affinity = rng.normal(0, 0.9, (n_cities, 5)) * (rng.random((n_cities, 1)) < 0.3)
    region = rng.integers(0, 12, n_cities)[city]
    age = rng.normal(41, 13, n).clip(18, 85)
    income = rng.lognormal(10.6 + 0.02 * (region % 4), 0.5, n)
    visits = rng.gamma(2.0, 2.0, n)
    basket = rng.lognormal(3.6 + 0.25 * (income > 60_000), 0.6, n)
    days_since_last = rng.exponential(25, n)
    discount_share = rng.beta(1.5, 5, n)
    favourite = rng.integers(0, 20, n)
    device = rng.choice(["app", "web", "store"], size=n, p=[0.45, 0.35, 0.2])

    log_income = np.log(income) - 10.6
    scores = np.column_stack(
        [
            np.zeros(n),  # casual
            3.0 * (discount_share > 0.3) * (log_income < 0.1) + 0.4 * (device == "app"),  # bargain
            1.6 * np.log1p(visits) * (days_since_last < 15) + 0.03 * (age - 40),  # loyal
            3.0 * (log_income > 0.3) * (basket > 50) + 0.3 * (favourite % 7 == 0),  # premium
            0.06 * (days_since_last - 45) - 1.0 * (visits > 6),  # drifting away
        ]
    )
    scores += city_affinity[city] + rng.gumbel(0, 0.6, (n, 5))
    scores += np.array([0.0, -1.3, -1.9, -1.4, -1.5])  # class priors: imbalance
    segment = scores.argmax(axis=1)
    relabel = rng.random(n) < 0.04  # label noise
    segment = np.where(relabel, rng.integers(0, 5, n), segment)
    names = np.array(["casual", "bargain", "loyal", "premium", "drifting"], dtype=object)

    frame = pd.DataFrame(
        {
            "age": age.round(),
            "income": income.round(-2),
            "visits_per_month": visits.round(2),
            "avg_basket": basket.round(2),
            "days_since_last": days_since_last.round(),
            "discount_share": discount_share.round(3),
            "city": _strings("city_", city, 3),
            "region": _strings("R", region, 2),
            "favourite_category": _strings("cat_", favourite, 2),
            "device": device.astype(object),
            "ref_code": _strings("ref", rng.integers(0, 3_000, n), 4),  # useless, 3k levels
            "noise": rng.normal(0, 1, n).round(4),
            "segment": names[segment],
        }
    )
    frame = _with_missing(
        frame, rng, {"income": 0.06, "device": 0.04, "city": 0.03, "avg_basket": 0.02}
    )
    return BenchDataset(
        name="segments",
        frame=frame,
        target="segment",
        task="classification",
        metric="accuracy",
        description="5 imbalanced classes (35..6%); rules on interactions + 800 cities",
        synthetic=True,
    )


def make_prices(n_rows: int = 25_000, seed: int = 0) -> BenchDataset:
    """House prices (in thousands) with skew and heteroscedastic noise, scored by R².

    Price follows size x neighbourhood quality (600 neighbourhoods, a high-cardinality
    string), age x condition and a pool that only pays in warm regions; noise grows with
    the price, and a 2,000-level agent column and two numeric columns are useless.
    """
    rng = np.random.default_rng(seed)
    n = int(n_rows)
    n_hoods = 600
    hood = _zipf_codes(rng, n_hoods, n, 0.6)
    hood_quality = rng.normal(0, 0.35, n_hoods)
    hood_region = rng.integers(0, 8, n_hoods)
    warm = np.isin(hood_region[hood], [5, 6, 7])
    sqft = rng.lognormal(7.4, 0.35, n)
    bedrooms = np.clip(np.round(sqft / 600 + rng.normal(0, 0.8, n)), 1, 8)
    bathrooms = np.clip(np.round(bedrooms * 0.6 + rng.normal(0, 0.6, n) * 2) / 2, 1, 6)
    year_built = rng.integers(1900, 2024, n)
    age = 2025 - year_built
    condition_code = rng.choice(5, size=n, p=[0.05, 0.15, 0.45, 0.25, 0.1])
    conditions = np.array(["poor", "fair", "average", "good", "excellent"], dtype=object)
    has_pool = rng.random(n) < 0.15
    garage = rng.choice(4, size=n, p=[0.2, 0.35, 0.35, 0.1])
    lot_size = rng.lognormal(8.5, 0.6, n)
    distance_center_km = rng.gamma(2.0, 6.0, n)

    log_price = (
        4.2
        + 0.9 * np.log(sqft / 1600) * (1 + 0.8 * hood_quality[hood])
        + hood_quality[hood] * 1.2
        - 0.004 * age * (condition_code <= 1)
        + 0.06 * (condition_code - 2)
        + 0.15 * has_pool * warm
        + 0.04 * garage
        + 0.08 * np.log(lot_size / 5000)
        - 0.25 * np.log1p(distance_center_km / 5)
        + 0.1 * np.sin(year_built / 9.0)
    )
    price = np.exp(log_price + rng.normal(0, 0.18, n))

    frame = pd.DataFrame(
        {
            "sqft": sqft.round(),
            "bedrooms": bedrooms.astype(int),
            "bathrooms": bathrooms,
            "year_built": year_built,
            "condition": conditions[condition_code],
            "neighbourhood": _strings("hood_", hood, 3),
            "region": _strings("region_", hood_region[hood], 1),
            "has_pool": np.where(has_pool, "yes", "no").astype(object),
            "garage_spaces": garage,
            "lot_size": lot_size.round(),
            "distance_center_km": distance_center_km.round(2),
            "listing_agent": _strings("agent", rng.integers(0, 2_000, n), 4),  # useless
            "noise_a": rng.normal(0, 1, n).round(4),
            "noise_b": rng.random(n).round(4),
            "price_k": price.round(1),
        }
    )
    frame = _with_missing(
        frame,
        rng,
        {"lot_size": 0.10, "year_built": 0.03, "garage_spaces": 0.05, "condition": 0.02},
    )
    return BenchDataset(
        name="prices",
        frame=frame,
        target="price_k",
        task="regression",
        metric="r2",
        description="skewed regression; size x 600 neighbourhoods, heteroscedastic noise",
        synthetic=True,
    )


def load_digits_set(n_rows: int | None = None, seed: int = 0) -> BenchDataset:
    """scikit-learn's handwritten digits: 1,797 rows, 64 pixel columns, 10 classes."""
    from sklearn.datasets import load_digits

    bunch = load_digits(as_frame=True)
    frame = bunch.frame.rename(columns={"target": "digit"})
    return BenchDataset(
        name="digits",
        frame=frame,
        target="digit",
        task="classification",
        metric="accuracy",
        description="sklearn digits: 10 classes, 64 pixel columns, 1,797 rows",
        synthetic=False,
    )


def load_breast_cancer_set(n_rows: int | None = None, seed: int = 0) -> BenchDataset:
    """scikit-learn's breast cancer (Wisconsin): 569 rows, 30 numeric columns, binary."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.rename(columns={"target": "malignant"})
    frame["malignant"] = np.where(frame["malignant"] == 0, "malignant", "benign").astype(object)
    return BenchDataset(
        name="breast_cancer",
        frame=frame,
        target="malignant",
        task="classification",
        metric="accuracy",
        description="sklearn breast cancer: binary, 30 numeric columns, 569 rows",
        synthetic=False,
    )


#: name -> loader(n_rows=None, seed=0); ``None`` rows means the set's default size.
DATASETS: dict[str, Callable[..., BenchDataset]] = {
    "digits": load_digits_set,
    "breast_cancer": load_breast_cancer_set,
    "fraud": make_fraud,
    "segments": make_segments,
    "prices": make_prices,
}

#: The seeded generated sets (>= 20k rows each).
SYNTHETIC = ("fraud", "segments", "prices")


def load_dataset(name: str, *, seed: int = 0, n_rows: int | None = None) -> BenchDataset:
    """Return the benchmark data set ``name`` (seeded; ``n_rows`` only for synthetic sets).

    Raises:
        ValueError: for an unknown name (the message lists the valid ones).
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    loader = DATASETS[name]
    if n_rows is None:
        return loader(seed=seed)
    return loader(n_rows=n_rows, seed=seed)
