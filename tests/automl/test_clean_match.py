"""Category spelling (rapidfuzz) and the dependency check's integer-coded vote counting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from halfcost.automl._clean_fd import _count_pairs, _ReferenceVotes
from halfcost.automl._clean_repair import match_category

SPECIES = ["setosa", "versicolor", "virginica"]


@pytest.mark.parametrize(
    ("value", "cutoff", "expected"),
    [
        (" Setosa ", 0.85, ("setosa", "case/whitespace")),
        ("versicolr", 0.85, ("versicolor", "close match")),
        ("virgin", 0.85, None),  # similarity 2 * 6 / 15 = 0.8: below the cutoff
        ("virgin", 0.8, ("virginica", "close match")),  # the cutoff itself is enough
        (7, 0.5, None),
    ],
)
def test_a_misspelt_category_maps_to_its_known_value(value, cutoff, expected) -> None:
    assert match_category(value, SPECIES, cutoff) == expected


def test_two_equally_close_categories_are_not_guessed_between() -> None:
    assert match_category("ab", ["ac", "ad"], 0.5) is None
    assert match_category("ab", ["ac", "xd"], 0.5) == ("ac", "close match")
    assert match_category("a ", ["A", "a"], 0.5) is None  # two case/whitespace spellings


def test_pair_counts_equal_numpy_unique() -> None:
    rng = np.random.default_rng(3)
    pair = rng.integers(0, 50, size=2000)
    weights = rng.integers(1, 5, size=2000)
    pairs, counts = _count_pairs(pair)
    expected_pairs, expected_counts = np.unique(pair, return_counts=True)
    assert pairs.tolist() == expected_pairs.tolist()
    assert counts.tolist() == expected_counts.tolist()
    _, summed = _count_pairs(pair, weights.astype(float))
    assert summed.tolist() == [int(weights[pair == p].sum()) for p in expected_pairs]


def test_reference_votes_equal_a_groupby_in_first_seen_order() -> None:
    rng = np.random.default_rng(5)
    n = 300
    keys = rng.choice(["k1", "k2", "k3", "k4", None], size=n).tolist()
    values = rng.choice(["x", "y", "z", None], size=n).tolist()
    rows = rng.integers(1, 4, size=n).tolist()
    lookup = {"columns": ["key", "value"], "rows": rows, "values": {"key": keys, "value": values}}
    batch_keys = np.array(["k3", "k1", "k9"], dtype=object)  # k2 and k4 not in the batch
    got_keys, got_values, got_rows = _ReferenceVotes(lookup).for_dependency(
        "key", "value", batch_keys
    )
    table = pd.DataFrame({"k": keys, "v": values, "n": rows}).dropna()
    table = table[table["k"].isin(batch_keys)]
    table["k"] = pd.Index(batch_keys).get_indexer(table["k"])
    expected = table.groupby(["k", "v"], sort=False)["n"].sum()
    assert got_keys.tolist() == expected.index.get_level_values("k").tolist()
    assert got_values.tolist() == expected.index.get_level_values("v").tolist()
    assert got_rows.tolist() == expected.tolist()
    assert _ReferenceVotes({}).for_dependency("key", "value", batch_keys) is None
