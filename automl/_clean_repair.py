"""Repairs that need no guessing, applied to a column before Great Expectations sees it.

Each repair is a :class:`ColumnRepair`: given the raw column, its profile from the suite
and the column's policy, it returns the parsed/repaired values plus which cells it changed
and which it could not parse. Parsing numbers and dates first matters for GX too: one
garbage string makes pandas hold a whole numeric column as text, and GX's range checks
then give no per-row results.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from halfcost.automl._clean_policy import ColumnPolicy
from halfcost.automl._clean_profile import NUMERIC_KINDS, as_kind
from halfcost.automl._clean_text import missing_mask, split_measure, unit_key, with_missing

# More distinct unknown values than this in one column are not worth matching one by one.
MAX_UNKNOWN_VALUES = 10_000


@dataclass
class RepairOutcome:
    """The result of preparing one column.

    Attributes:
        values: the column as validated and written (parsed numbers, repaired spelling).
        repaired: cells whose value was changed by a repair.
        unparseable: cells holding a value that could not be parsed (a finding of its own).
        how: per repaired cell, a short description ('case/whitespace', 'close match', ...).
        problem: the words for an unparseable value ('is not a number').
    """

    values: pd.Series
    repaired: np.ndarray
    unparseable: np.ndarray
    how: pd.Series | None = None
    problem: str = "cannot be parsed"


def _unchanged(raw: pd.Series) -> RepairOutcome:
    none = np.zeros(len(raw), dtype=bool)
    return RepairOutcome(values=raw, repaired=none, unparseable=none)


class ColumnRepair(ABC):
    """A repair for the columns of one kind; subclass and pass instances to ``clean_frame``."""

    @abstractmethod
    def applies(self, profile: dict[str, Any]) -> bool:
        """Whether this repair handles a column with this suite profile."""

    @abstractmethod
    def repair(
        self, raw: pd.Series, profile: dict[str, Any], policy: ColumnPolicy, known: list[Any]
    ) -> RepairOutcome:
        """Prepare ``raw``; ``known`` is the allowed value set from the suite (may be empty)."""


class NumberFromText(ColumnRepair):
    """Parse numbers stored as text; a value that is not a number is unparseable.

    A cell counts as repaired only when the column mixes real numbers and text (a number
    typed as text among numbers). When every value is text (a CSV column that one garbage
    value turned into text), parsing is the file format's doing, not a repair.
    """

    def applies(self, profile: dict[str, Any]) -> bool:
        return profile.get("kind") in NUMERIC_KINDS

    def repair(
        self, raw: pd.Series, profile: dict[str, Any], policy: ColumnPolicy, known: list[Any]
    ) -> RepairOutcome:
        if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
            return _unchanged(raw)
        raw = with_missing(raw)
        values = pd.to_numeric(raw, errors="coerce")
        present = raw.notna().to_numpy()
        failed = np.flatnonzero(present & values.isna().to_numpy())
        if len(failed):  # a second chance without surrounding spaces, for the few that failed
            stripped = raw.iloc[failed].map(lambda v: v.strip() if isinstance(v, str) else v)
            values.iloc[failed] = pd.to_numeric(stripped, errors="coerce").to_numpy()
        parsed = values.notna().to_numpy()
        unparseable = present & ~parsed
        # A real number equals its parsed value; text (even '12.5') does not.
        is_number = np.asarray(raw.to_numpy(dtype=object) == values.to_numpy(), dtype=bool)
        mixed = bool(is_number.any())
        repaired = parsed & ~is_number if mixed else np.zeros(len(raw), dtype=bool)
        how = pd.Series("number stored as text", index=raw.index) if repaired.any() else None
        return RepairOutcome(values, repaired, unparseable, how, problem="is not a number")


class DateFromText(ColumnRepair):
    """Parse dates with the suite's format; a value that is not a date is unparseable."""

    def applies(self, profile: dict[str, Any]) -> bool:
        return profile.get("kind") == "datetime"

    def repair(
        self, raw: pd.Series, profile: dict[str, Any], policy: ColumnPolicy, known: list[Any]
    ) -> RepairOutcome:
        if pd.api.types.is_datetime64_any_dtype(raw):
            values = raw
        else:
            fmt = profile.get("format") or "ISO8601"
            present = pd.Series(~missing_mask(raw), index=raw.index)
            values = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
            parsed = pd.to_datetime(raw[present].astype(str), format=fmt, errors="coerce")
            values = parsed.reindex(raw.index) if len(parsed) else values
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        unparseable = ~missing_mask(raw) & values.isna().to_numpy()
        none = np.zeros(len(raw), dtype=bool)
        fmt_words = profile.get("format") or "ISO 8601"
        return RepairOutcome(values, none, unparseable, None, problem=f"is not a {fmt_words} date")


def _key(value: str) -> str:
    return " ".join(value.split()).casefold()


def match_category(value: Any, known: list[Any], cutoff: float) -> tuple[Any, str] | None:
    """The one known category ``value`` is a spelling of, with how it matched; else None.

    First case and whitespace; then the closest match by rapidfuzz's ``fuzz.ratio`` (the
    normalised Indel similarity, difflib's ``ratio`` formula ``2 * matches / total``
    with ``matches`` the longest common subsequence) at ``cutoff`` or above, kept only
    when it is strictly better than the runner-up (no guessing between two).
    """
    if not isinstance(value, str):
        return None
    texts = [k for k in known if isinstance(k, str)]
    key = _key(value)
    keys = [_key(k) for k in texts]
    same = [k for k, k_key in zip(texts, keys, strict=True) if k_key == key]
    if len(same) == 1:
        return same[0], "case/whitespace"
    if same:
        return None
    best = process.extract(
        key, keys, scorer=fuzz.ratio, processor=None, score_cutoff=100 * cutoff, limit=2
    )
    if not best or (len(best) > 1 and best[1][1] == best[0][1]):
        return None
    return texts[best[0][2]], "close match"


class CategorySpelling(ColumnRepair):
    """Map misspelt categories ('Basic ', 'premum') to the one known category they mean."""

    def applies(self, profile: dict[str, Any]) -> bool:
        # an open vocabulary's close spelling may be a new name: only a dependency repairs it
        return profile.get("kind") == "categorical" and profile.get("vocabulary") != "open"

    def repair(
        self, raw: pd.Series, profile: dict[str, Any], policy: ColumnPolicy, known: list[Any]
    ) -> RepairOutcome:
        raw = with_missing(raw)
        if not policy.repairs or not known:
            return _unchanged(raw)
        unknown_mask = raw.notna() & ~raw.isin(known)
        if not unknown_mask.any():
            return _unchanged(raw)
        unknown_values = pd.unique(raw[unknown_mask])
        if len(unknown_values) > MAX_UNKNOWN_VALUES:
            return _unchanged(raw)
        mapping: dict[Any, Any] = {}
        hows: dict[Any, str] = {}
        for value in unknown_values:
            match = match_category(value, known, policy.close_match_cutoff)
            if match is not None:
                mapping[value], hows[value] = match
        if not mapping:
            return _unchanged(raw)
        repaired_mask = unknown_mask & raw.isin(list(mapping))
        values = raw.copy()
        values[repaired_mask] = raw[repaired_mask].map(mapping)
        how = raw[repaired_mask].map(hows)
        none = np.zeros(len(raw), dtype=bool)
        return RepairOutcome(values, repaired_mask.to_numpy(), none, how)


class MeasureFromText(ColumnRepair):
    """Parse ``84%`` / ``37 patients`` to its number; a value without the unit is unparseable.

    The number is what the range check sees; the unit must be the reference's (case and
    spacing aside): ``3x patients`` or ``37 kg`` in a 'patients' column is a finding.
    """

    def applies(self, profile: dict[str, Any]) -> bool:
        return profile.get("kind") == "measure"

    def repair(
        self, raw: pd.Series, profile: dict[str, Any], policy: ColumnPolicy, known: list[Any]
    ) -> RepairOutcome:
        present = ~missing_mask(raw)
        parts = split_measure(raw.astype(str))
        unit = unit_key(str(profile.get("unit", "")))
        prefix = str(profile.get("prefix", ""))
        fits = (parts["unit"].map(unit_key) == unit) & (parts["prefix"] == prefix)
        values = parts["number"].where(fits & present)
        unparseable = present & values.isna().to_numpy()
        shown = (prefix + " " + str(profile.get("unit", ""))).strip()
        none = np.zeros(len(raw), dtype=bool)
        return RepairOutcome(values, none, unparseable, None, problem=f"is not a number in {shown}")


class CodeAsText(ColumnRepair):
    """Codes are compared as the strings they are (an integer column's codes as digits)."""

    def applies(self, profile: dict[str, Any]) -> bool:
        return profile.get("kind") in ("code", "empty")

    def repair(
        self, raw: pd.Series, profile: dict[str, Any], policy: ColumnPolicy, known: list[Any]
    ) -> RepairOutcome:
        none = np.zeros(len(raw), dtype=bool)
        return RepairOutcome(as_kind(raw, "code"), none, none)


def default_repairs() -> list[ColumnRepair]:
    """The repairs ``clean_frame`` applies unless told otherwise."""
    return [NumberFromText(), DateFromText(), MeasureFromText(), CodeAsText(), CategorySpelling()]
