"""Typos found inside the batch: rare values one edit away from a frequent value.

A misspelling is rare and close to something common: ``Sprngfield`` once beside
``Springfield`` forty times. That holds whether or not the reference ever saw either
value, so a batch's own frequencies are used together with the reference's values.
Letters read in place of digits (``S0298`` for ``50298``, OCR-like) count as no edit.
Matching uses rapidfuzz (C speed, the optimal-string-alignment distance, where a swap
of two neighbours is one edit) and runs only on the rare values, never on every cell.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: Values seen at most this often in the batch (and never in the reference) are "rare".
RARE_COUNT = 2
#: Values seen at least this often in the batch (or known from the reference) are "frequent".
FREQUENT_COUNT = 3
#: Shorter values are too ambiguous to call typos ('CT' / 'C').
MIN_LENGTH = 4
#: Columns with more distinct values than this are not searched (names of every entity).
MAX_DISTINCT = 20_000
_CHUNK = 512
_OCR = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "S": "5", "B": "8", "Z": "2"})


def _normal(value: str) -> str:
    return " ".join(value.split()).casefold()


def _ocr_normal(value: str) -> str:
    return " ".join(value.translate(_OCR).split()).casefold()


def find_batch_typos(values: pd.Series, known: list[Any]) -> dict[str, tuple[str, int]]:
    """Rare value -> (the one frequent value it is a close spelling of, that value's count).

    Args:
        values: the batch column (missing as None).
        known: the values the reference holds (they count as frequent).

    Returns:
        Only rare values whose closest frequent value is unique and one edit away (or
        equal but for case, spacing or OCR-like letter/digit confusions).
    """
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    counts = values.dropna().value_counts()
    if len(counts) > MAX_DISTINCT or not len(counts):
        return {}
    known_set = {k for k in known if isinstance(k, str)}
    is_text = np.array([isinstance(v, str) for v in counts.index])
    text_counts = counts[is_text]
    rare = [
        v
        for v, c in text_counts.items()
        if c <= RARE_COUNT and v not in known_set and len(v) >= MIN_LENGTH
    ]
    if not rare:
        return {}
    frequent = sorted(set(text_counts.index[text_counts.to_numpy() >= FREQUENT_COUNT]) | known_set)
    if not frequent:
        return {}
    seen = {v: int(text_counts.get(v, 0)) for v in frequent}
    choices = [_ocr_normal(v) for v in frequent]
    found: dict[str, tuple[str, int]] = {}
    for start in range(0, len(rare), _CHUNK):
        chunk = rare[start : start + _CHUNK]
        queries = [_ocr_normal(v) for v in chunk]
        distances = process.cdist(
            queries, choices, scorer=OSA.distance, score_cutoff=1, dtype=np.int8, workers=1
        )
        for i, value in enumerate(chunk):
            row = distances[i]
            best = row.min()
            if best > 1:
                continue
            at = np.flatnonzero(row == best)
            targets = {frequent[j] for j in at if frequent[j] != value}
            if len(targets) == 1:
                target = targets.pop()
                found[value] = (target, seen[target])
    return found


def same_but_for_spelling(a: str, b: str) -> bool:
    """Whether two values differ only in case and spacing (no real edit)."""
    return _normal(a) == _normal(b)
