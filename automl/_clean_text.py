"""Reading values the way a CSV holds them: missing cells, codes, numbers with units.

Tables are read as text (``dtype=str, keep_default_na=False``) so that what halfcost
writes back is what it read; this module holds the few vectorised helpers that parse a
*copy* of that text for validation: which cells are missing, what shape a code has
(``99999`` for a ZIP, ``(999) 999-9999`` for a phone), and the number and unit of
``84%`` or ``37 patients``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd

# A number with an optional currency sign before it and an optional unit after it.
_MEASURE = r"^\s*([$€£]?)\s*([-+]?\d+(?:[.,]\d+)?)\s*([^\d\s](?:.*[^\s])?)?\s*$"
_CODE_NAME_TOKENS = frozenset(
    {"zip", "zipcode", "postal", "postcode", "phone", "tel", "telephone", "fax", "mobile"}
    | {"code", "account", "acct", "iban", "sku", "ssn", "npi", "card", "isbn", "ean", "upc"}
    | {"gtin", "routing", "swift", "bic"}
)
_CODE_NAME_LAST = frozenset({"number", "no", "nr", "num"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


#: Longer values are cut in reasons (the row itself, beside its reason, holds them whole).
SHOWN_CHARS = 80


def readable(value: Any) -> str:
    """A cell as a reader writes it in a reason: ``Springfield``, ``84%``, ``12.5``, ``null``.

    Text is shown as it is, without quotes, unless it would be misread: text with
    leading or trailing spaces, or holding the ``; `` that joins reasons, is shown in
    double quotes (JSON-escaped). Empty text is ``null``, as missing as a null is. Long
    values are cut with ``...``.
    """
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return "null"
    if isinstance(value, str) and not value:
        return "null"  # a CSV's empty cell is a missing value, as cleaning treats it
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    text = str(value)
    if len(text) > SHOWN_CHARS:
        text = text[: SHOWN_CHARS - 3] + "..."
    if isinstance(value, str) and (value != value.strip() or "; " in value):
        return json.dumps(text, ensure_ascii=False)
    return text


def is_text(series: pd.Series) -> bool:
    """Whether ``series`` holds text (object or string dtype)."""
    return pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)


def missing_mask(series: pd.Series) -> np.ndarray:
    """Cells that hold no value: nulls and empty text (a CSV's empty cell).

    Blank text (``"  "``) is a value, checked like any other: finding it would cost a
    Python call per cell, and a not-null or in-set check flags it anyway.
    """
    mask = series.isna().to_numpy()
    if is_text(series):
        mask = mask | series.eq("").to_numpy()
    return mask


def with_missing(series: pd.Series) -> pd.Series:
    """A copy of a text column with its empty and blank cells as None (for validation)."""
    if not is_text(series):
        return series
    mask = missing_mask(series)
    if not mask.any():
        return series
    out = series.astype(object).copy()
    out[mask] = None
    return out


def name_tokens(name: str) -> list[str]:
    """``ProviderNumber`` / ``provider_number`` / ``Provider Number`` -> provider, number."""
    spaced = _CAMEL.sub(" ", name)
    return [t for t in re.split(r"[^0-9a-zA-Z]+", spaced.lower()) if t]


def named_like_code(name: str) -> bool:
    """A column name that says 'code' (zip, phone, account, ..._number, ..._no)."""
    tokens = name_tokens(name)
    if not tokens or "of" in tokens:  # "number of beds" is a count
        return False
    return bool(_CODE_NAME_TOKENS & set(tokens)) or (
        len(tokens) > 1 and tokens[-1] in _CODE_NAME_LAST
    )


def shapes(values: pd.Series) -> pd.Series:
    """Each string's shape: digits -> 9, letters -> A, anything else kept (``02134`` -> 99999).

    The replacements run once per distinct value (``str.replace`` is a Python call per
    cell; codes repeat over an entity's rows).
    """
    codes, uniques = pd.factorize(values.astype(str))
    text = pd.Series(uniques, dtype=object)
    distinct = text.str.replace(r"\d", "9", regex=True).str.replace(r"[A-Za-z]", "A", regex=True)
    return pd.Series(
        distinct.to_numpy(dtype=object)[codes], index=values.index, dtype=object, name=values.name
    )


def shape_regex(shape_list: list[str]) -> str:
    """A regex matching exactly the given shapes: ``['99999']`` -> ``^(?:\\d{5})$``."""

    def one(shape: str) -> str:
        parts = []
        for match in re.finditer(r"9+|A+|[^9A]", shape):
            run = match.group()
            if run[0] == "9":
                parts.append(rf"\d{{{len(run)}}}")
            elif run[0] == "A":
                parts.append(rf"[A-Za-z]{{{len(run)}}}")
            else:
                parts.append(re.escape(run))
        return "".join(parts)

    return "^(?:" + "|".join(one(s) for s in sorted(shape_list)) + ")$"


def split_measure(values: pd.Series) -> pd.DataFrame:
    """``prefix``, ``number`` (float, NaN when it does not parse) and ``unit`` of each value.

    The regular expression runs once per distinct value (pandas' ``str.extract`` is a
    Python call per cell; a measure column repeats few values over many rows).
    """
    codes, uniques = pd.factorize(values.astype(str))
    parts = pd.Series(uniques, dtype=object).str.extract(_MEASURE)
    parts.columns = ["prefix", "number", "unit"]
    number = pd.to_numeric(parts["number"].str.replace(",", ".", regex=False), errors="coerce")
    distinct = pd.DataFrame(
        {
            "prefix": parts["prefix"].fillna(""),
            "number": number,
            "unit": parts["unit"].fillna(""),
        }
    )
    out = distinct.take(codes)
    out.index = values.index
    return out


def unit_key(unit: str) -> str:
    """Units compare without case or inner spaces ('Patients' == 'patients')."""
    return "".join(unit.split()).casefold()
