"""Seeded entity data that behaves like an operational table, and the errors such tables get.

Real batches are rarely independent rows: they are rows of *entities* (facilities,
customers, stores, suppliers) that keep arriving, each entity with several rows and
attributes that belong to it (its name, address, city, postcode, phone). Postcodes have
leading zeros, numbers carry units (``84%``, ``37 patients``), a few columns are closed
vocabularies (state, category), one column is always empty. :func:`make_entities` builds
such a table as text, exactly as ``pd.read_csv(dtype=str, keep_default_na=False)`` would
give it; :func:`dirty_entities` puts realistic errors into it and records each one, so a
cleaner's detection and repairs can be scored cell by cell.

The error mix (:data:`ENTITY_ERROR_MIX`) was fixed before the cleaner was tuned on it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ENTITY_KEY = "provider_id"
#: Error kind -> its share of the dirty rows (one error per dirty row).
ENTITY_ERROR_MIX = {
    "typo": 0.20,  # a substituted, deleted, doubled or swapped letter in a name/address/city
    "ocr": 0.10,  # a letter in a digit string (0->O, 1->l, 5->S, 8->B) in a code
    "swap_digits": 0.08,  # two adjacent digits swapped in a postcode, phone or account
    "wrong_city": 0.08,  # the city of another postcode
    "other_entity": 0.10,  # an attribute of another entity (its phone, address, name...)
    "missing": 0.10,  # a required cell left empty
    "category_typo": 0.08,  # a misspelt value of a closed column
    "unit": 0.08,  # a garbled number with a unit ('3x patients', '84 ptc')
    "outlier": 0.08,  # a quantity far outside its range
    "unseen_category": 0.04,  # a value of a closed column that does not exist
    "duplicate": 0.06,  # the row repeats another row exactly
}
TEXT_ATTRIBUTES = ("facility_name", "address", "city")
CODE_ATTRIBUTES = ("postcode", "phone", "account")
CLOSED_COLUMNS = ("state", "category", "condition")
REQUIRED_COLUMNS = (
    "provider_id",
    "facility_name",
    "address",
    "city",
    "state",
    "postcode",
    "phone",
    "category",
    "condition",
    "score",
    "sample",
    "visits",
    "cost_usd",
    "report_date",
)
_SYLLABLES = (
    *("bar", "ber", "bran", "cal", "dor", "el", "fen", "gar", "hal", "jor", "kel", "lan"),
    *("mar", "mor", "nel", "or", "pal", "quin", "ras", "sel", "tor", "val", "wen", "yor"),
    *("zan", "ash", "bel", "cor", "dun", "fal", "hol", "kir", "lor", "mel", "nor", "pen"),
    *("rod", "sil", "tam", "ver", "wil"),
)
_STREET_TYPES = ("Street", "Avenue", "Road", "Lane", "Drive", "Boulevard", "Way", "Court")
_FACILITY_TYPES = (
    "Medical Center",
    "Community Hospital",
    "Family Clinic",
    "Regional Hospital",
    "Health Center",
    "Memorial Hospital",
    "Care Center",
)
_CITY_SUFFIXES = ("", "", " Springs", " Falls", "ville", " City", "ton", " Heights")
_STATES = ("AL", "MA", "NJ", "CT", "TX", "CA", "NY", "OH", "GA", "WA", "ME", "VT")
# New England ZIPs start with 0: leading zeros that a float would lose.
_STATE_ZIP_PREFIX = (35, 2, 7, 6, 75, 90, 10, 43, 30, 98, 4, 5)
CATEGORIES = ("Acute Care", "Critical Access", "Childrens", "Psychiatric", "Rehabilitation")
CONDITIONS = (
    "Heart Attack",
    "Heart Failure",
    "Pneumonia",
    "Surgical Care",
    "Stroke Care",
    "Sepsis Care",
    "Asthma Care",
    "Diabetes Care",
)
_OCR = {"0": "O", "1": "l", "5": "S", "8": "B", "2": "Z", "6": "G"}


def _words(rng: np.random.Generator, n: int, parts: int) -> np.ndarray:
    """``n`` made-up capitalised words of ``parts`` syllables (names that look real)."""
    syllables = np.asarray(_SYLLABLES, dtype=object)
    picks = rng.integers(0, len(syllables), size=(n, parts))
    words = syllables[picks[:, 0]]
    for i in range(1, parts):
        words = words + syllables[picks[:, i]]
    return np.array([w.capitalize() for w in words], dtype=object)


def _unique_words(rng: np.random.Generator, n: int, parts: int) -> np.ndarray:
    """``n`` distinct words of at least ``parts`` syllables (more when needed for room)."""
    while len(_SYLLABLES) ** parts < 4 * n:
        parts += 1
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        for word in _words(rng, 2 * (n - len(out)) + 10, parts):
            if word not in seen:
                seen.add(word)
                out.append(word)
    return np.asarray(out[:n], dtype=object)


def _cities(rng: np.random.Generator, n_cities: int) -> pd.DataFrame:
    """Cities, each in one state, each with 1-3 postcodes of its own (postcode -> city)."""
    names = _unique_words(rng, n_cities, 2)
    suffix = np.asarray(_CITY_SUFFIXES, dtype=object)[
        rng.integers(0, len(_CITY_SUFFIXES), n_cities)
    ]
    state = rng.integers(0, len(_STATES), n_cities)
    rows = []
    used: set[str] = set()
    for i in range(n_cities):
        for _ in range(int(rng.integers(1, 4))):
            prefix = _STATE_ZIP_PREFIX[state[i]]
            while True:
                zip_code = f"{prefix * 1000 + int(rng.integers(0, 1000)):05d}"
                if zip_code not in used:
                    used.add(zip_code)
                    break
            rows.append((names[i] + suffix[i], _STATES[state[i]], zip_code))
    return pd.DataFrame(rows, columns=["city", "state", "postcode"])


def make_entities(
    n_entities: int = 2000, *, seed: int = 0, rows_per_entity: float = 6.0
) -> pd.DataFrame:
    """A clean entity table as text: facilities, each with several rows of measurements.

    Columns: ``provider_id`` (6-digit code, the entity key, leading zeros), the entity's
    ``facility_name``, ``address``, ``city``, ``state``, ``postcode`` (5 digits, leading
    zeros in New England), ``phone`` (10 digits), ``account`` (16 digits), ``category``
    (closed); per row: ``condition`` (closed), ``score`` (``84%``), ``sample``
    (``37 patients``), ``weight`` (``12.5 kg``, sometimes empty), ``visits`` (a count),
    ``cost_usd``, ``report_date`` and ``footnote`` (always empty). Every value is a
    string and missing values are ``""``, as a CSV read as text gives them.

    Args:
        n_entities: how many facilities.
        seed: the same seed gives the same table.
        rows_per_entity: mean rows per facility (at least one each).
    """
    rng = np.random.default_rng(seed)
    n = int(n_entities)
    # about six facilities a city, up to 3,000 cities (each state holds 1,000 postcodes)
    cities = _cities(rng, min(max(20, n // 6), 3000))
    place = cities.iloc[rng.integers(0, len(cities), n)].reset_index(drop=True)
    ids = rng.choice(1_000_000, size=n, replace=False)
    area = 200 + rng.integers(0, 780, n)
    entities = pd.DataFrame(
        {
            "provider_id": [f"{i:06d}" for i in ids],
            "facility_name": _unique_words(rng, n, 3)
            + " "
            + np.asarray(_FACILITY_TYPES, dtype=object)[rng.integers(0, len(_FACILITY_TYPES), n)],
            "address": [
                f"{number} {street} {kind}"
                for number, street, kind in zip(
                    rng.integers(1, 9999, n),
                    _words(rng, n, 2),
                    np.asarray(_STREET_TYPES)[rng.integers(0, len(_STREET_TYPES), n)],
                    strict=True,
                )
            ],
            "city": place["city"].to_numpy(),
            "state": place["state"].to_numpy(),
            "postcode": place["postcode"].to_numpy(),
            "phone": [
                f"{a}{b:07d}"
                for a, b in zip(area, rng.integers(2_000_000, 9_999_999, n), strict=True)
            ],
            "account": [
                f"{a:08d}{b:08d}"
                for a, b in zip(rng.integers(0, 10**8, n), rng.integers(0, 10**8, n), strict=True)
            ],
            "category": rng.choice(CATEGORIES, size=n, p=[0.5, 0.2, 0.1, 0.1, 0.1]),
        }
    )
    counts = 1 + rng.poisson(max(rows_per_entity - 1, 0.0), n)
    frame = entities.loc[np.repeat(np.arange(n), counts)].reset_index(drop=True)
    m = len(frame)
    weight = np.char.add(np.round(rng.gamma(4.0, 3.0, m), 1).astype(str), " kg").astype(object)
    weight[rng.random(m) < 0.05] = ""
    day = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 500, m), unit="D")
    frame["condition"] = rng.choice(CONDITIONS, size=m)
    frame["score"] = np.char.add(rng.integers(40, 101, m).astype(str), "%").astype(object)
    frame["sample"] = np.char.add(rng.integers(10, 600, m).astype(str), " patients").astype(object)
    frame["weight"] = weight
    frame["visits"] = rng.poisson(40, m).astype(str).astype(object)
    frame["cost_usd"] = np.round(rng.lognormal(7.0, 0.5, m), 2).astype(str).astype(object)
    frame["report_date"] = day.strftime("%Y-%m-%d").to_numpy(dtype=object)
    frame["footnote"] = ""
    # rows of one facility arrive in no particular order
    return frame.iloc[rng.permutation(m)].reset_index(drop=True).astype(object)


def _typo(value: str, rng: np.random.Generator) -> str:
    """One substituted, deleted, doubled or swapped letter (never the first one)."""
    if len(value) < 4:
        return value + value[-1]
    i = int(rng.integers(1, len(value) - 1))
    how = int(rng.integers(0, 4))
    if how == 0:
        letter = "abcdefghijklmnopqrstuvwxyz"[int(rng.integers(0, 26))]
        if letter == value[i].lower():
            letter = "x" if letter != "x" else "q"
        return value[:i] + letter + value[i + 1 :]
    if how == 1:
        return value[:i] + value[i + 1 :]
    if how == 2:
        return value[:i] + value[i] + value[i:]
    return value[: i - 1] + value[i] + value[i - 1] + value[i + 1 :]


def _ocr(value: str, rng: np.random.Generator) -> str:
    spots = [i for i, c in enumerate(value) if c in _OCR]
    if not spots:
        return value[:-1] + "O"
    i = spots[int(rng.integers(0, len(spots)))]
    return value[:i] + _OCR[value[i]] + value[i + 1 :]


def _swap(value: str, rng: np.random.Generator) -> str:
    spots = [i for i in range(len(value) - 1) if value[i] != value[i + 1]]
    if not spots:
        return _ocr(value, rng)
    i = spots[int(rng.integers(0, len(spots)))]
    return value[:i] + value[i + 1] + value[i] + value[i + 2 :]


def _unit(column: str, value: str, rng: np.random.Generator) -> str:
    number, _, unit = value.partition(" ") if column == "sample" else (value[:-1], "", "%")
    garbled = (
        number[:-1] + "x" if len(number) > 1 else number + "x",
        number + ("pts" if column == "sample" else " pct"),
        "approx. " + number,
    )[int(rng.integers(0, 3))]
    if garbled.endswith("x") or garbled.startswith("approx"):
        return f"{garbled} {unit}" if column == "sample" else garbled + "%"
    return garbled


def _outlier(column: str, value: str) -> str:
    if column == "score":
        return f"{int(value[:-1]) * 10}%"
    if column == "sample":
        number, _, unit = value.partition(" ")
        return f"{int(number) * 1000} {unit}"
    return f"{float(value) * 1000:.2f}"


def dirty_entities(
    frame: pd.DataFrame, *, share: float = 0.1, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(dirty, truth)``: errors of :data:`ENTITY_ERROR_MIX` in ``share`` of the rows.

    ``truth`` has one row per dirty row: ``row`` (0-based), ``kind``, ``column`` (None
    for a duplicate row), ``before`` (the correct value) and ``after`` (the value
    written; for a duplicate, the row number it repeats).
    """
    rng = np.random.default_rng(seed)
    dirty = frame.copy().reset_index(drop=True)
    n_rows = len(dirty)
    n_errors = min(round(share * n_rows), max(n_rows - 1, 0))
    rows = np.sort(rng.choice(np.arange(1, n_rows), size=n_errors, replace=False))
    kinds = np.array(list(ENTITY_ERROR_MIX), dtype=object)
    assigned = rng.choice(kinds, size=n_errors, p=list(ENTITY_ERROR_MIX.values()))
    clean_rows = np.setdiff1d(np.arange(n_rows), rows)
    values = {c: dirty[c].to_numpy(dtype=object).copy() for c in dirty.columns}
    # donors for "another entity's value" and "the city of another postcode"
    donors = rng.choice(clean_rows, size=max(n_errors, 1))
    all_cities = pd.unique(values["city"])
    records = []
    for i, (row, kind) in enumerate(zip(rows, assigned, strict=True)):
        row = int(row)
        column: str | None
        if kind == "duplicate":
            earlier = int(np.searchsorted(clean_rows, row))  # clean rows before this one
            source = int(clean_rows[rng.integers(0, earlier)]) if earlier else 0
            for c in dirty.columns:
                values[c][row] = values[c][source]
            records.append((row, kind, None, None, source))
            continue
        if kind == "typo":
            column = str(rng.choice(TEXT_ATTRIBUTES))
            new = _typo(values[column][row], rng)
        elif kind == "ocr":
            column = str(rng.choice((*CODE_ATTRIBUTES, ENTITY_KEY)))
            new = _ocr(values[column][row], rng)
        elif kind == "swap_digits":
            column = str(rng.choice(CODE_ATTRIBUTES))
            new = _swap(values[column][row], rng)
        elif kind == "wrong_city":
            column = "city"
            new = values[column][row]
            while new == values[column][row]:
                new = all_cities[int(rng.integers(0, len(all_cities)))]
        elif kind == "other_entity":
            column = str(rng.choice(("facility_name", "address", "phone", "postcode")))
            new = values[column][donors[i]]
            if new == values[column][row]:
                new = _typo(values[column][row], rng)
        elif kind == "missing":
            column = str(rng.choice(REQUIRED_COLUMNS))
            new = ""
        elif kind == "category_typo":
            column = str(rng.choice(CLOSED_COLUMNS))
            new = _typo(values[column][row], rng) if column != "state" else values[column][row][0]
        elif kind == "unit":
            column = str(rng.choice(("score", "sample")))
            new = _unit(column, values[column][row], rng)
        elif kind == "outlier":
            column = str(rng.choice(("score", "sample", "cost_usd")))
            new = _outlier(column, values[column][row])
        else:  # unseen_category
            column = str(rng.choice(("condition", "category")))
            new = "Unknown " + column.capitalize()
        before = values[column][row]
        if new == before:
            continue
        values[column][row] = new
        records.append((row, kind, column, before, new))
    out = pd.DataFrame(values, index=frame.index, columns=dirty.columns)
    truth = pd.DataFrame(records, columns=["row", "kind", "column", "before", "after"])
    return out, truth


def split_random(
    frame: pd.DataFrame, *, reference_share: float = 0.3, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(reference, batch)``: a random ``reference_share`` of the rows, and the rest."""
    rng = np.random.default_rng(seed)
    in_reference = rng.random(len(frame)) < reference_share
    return (
        frame[in_reference].reset_index(drop=True),
        frame[~in_reference].reset_index(drop=True),
    )


def split_new_entities(
    frame: pd.DataFrame, *, seed: int = 0, key: str = ENTITY_KEY
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(reference, batch)``: the rows of half of the entities, and those of the others.

    Every entity of the batch is new: none of its names, addresses or keys is in the
    reference, as in a month that brings new customers, stores or suppliers.
    """
    rng = np.random.default_rng(seed)
    entities = pd.unique(frame[key])
    known = set(rng.choice(entities, size=len(entities) // 2, replace=False).tolist())
    in_reference = frame[key].isin(known).to_numpy()
    return (
        frame[in_reference].reset_index(drop=True),
        frame[~in_reference].reset_index(drop=True),
    )
