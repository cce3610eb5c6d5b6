"""`select_rows` / `LabelSelector`: picks come from the pool, never repeat a labelled row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from halfcost.automl import STRATEGIES, LabelSelector, QueryStrategy, picks_as_read, select_rows
from halfcost.errors import BadInputError


def _table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Two classes with a clear boundary, a string column, missing values, a code column."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n).astype(object)
    logit = 2.5 * x + 1.5 * (colour == "red")
    label = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no").astype(object)
    frame = pd.DataFrame(
        {
            "x": x.round(4),
            "colour": colour,
            "zip": [f"{c:05d}" for c in rng.integers(0, 40, n)],
            "label": label,
        }
    )
    frame.loc[::19, "colour"] = None
    frame.loc[::23, "x"] = np.nan
    return frame


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return _table()


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_picks_are_pool_rows_best_first(table, strategy):
    labelled, pool = table.iloc[:150], table.iloc[150:].drop(columns="label")
    picks = select_rows(pool, labelled, "label", 40, strategy=strategy, seed=3)
    assert len(picks) == 40 and picks["halfcost_row"].is_unique
    assert picks["halfcost_row"].between(0, len(pool) - 1).all()
    original = pool.iloc[picks["halfcost_row"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(picks[list(pool.columns)], original)
    assert picks["halfcost_score"].is_monotonic_decreasing


def test_margin_picks_the_rows_nearest_the_boundary(table):
    labelled, pool = table.iloc[:300], table.iloc[300:].drop(columns="label")
    selector = LabelSelector(n=30).fit(labelled.drop(columns="label"), labelled["label"])
    proba = selector.model_.predict_proba(pool[selector.features_])
    gap = np.abs(proba[:, 1] - proba[:, 0])
    picks = selector.select(pool)
    chosen = gap[picks["halfcost_row"]]
    assert chosen.max() <= np.sort(gap)[29] + 1e-12  # the 30 smallest margins
    assert np.median(chosen) < np.median(gap)


def test_rows_already_labelled_are_never_picked(table):
    labelled = table.iloc[:200]
    pool = table.drop(columns="label")  # the whole table: the labelled rows are in it
    picks = select_rows(pool, labelled, "label", 100, strategy="margin")
    assert not set(picks["halfcost_row"]) & set(range(200))
    # rows identical to a labelled one count as labelled too (x missing, same colour, zip)
    duplicates = pool.iloc[200:].merge(pool.iloc[:200].drop_duplicates(), how="inner")
    left = 400 - len(duplicates)
    with pytest.raises(BadInputError, match=rf"labelled\) has only {left} rows"):
        select_rows(pool, labelled, "label", left + 1)
    assert len(select_rows(pool, labelled, "label", left)) == left


def test_diverse_does_not_pick_near_copies(table):
    labelled, pool = table.iloc[:300], table.iloc[300:].drop(columns="label")
    selector = LabelSelector(n=10).fit(labelled.drop(columns="label"), labelled["label"])
    proba = selector.model_.predict_proba(pool[selector.features_])
    unsure = int(np.argmin(np.abs(proba[:, 1] - proba[:, 0])))
    copies = pd.concat([pool, pd.concat([pool.iloc[[unsure]]] * 30)], ignore_index=True)
    copy_rows = {unsure, *range(len(pool), len(copies))}
    margin = select_rows(copies, labelled, "label", 10, strategy="margin")
    diverse = select_rows(copies, labelled, "label", 10, strategy="diverse")
    assert set(margin["halfcost_row"]) <= copy_rows  # ten copies of one row
    assert len(set(diverse["halfcost_row"]) & copy_rows) == 1


def test_a_plug_in_strategy_is_used_as_given(table):
    class LastRows(QueryStrategy):
        name = "last"

        def pick(self, proba, n, rng, features=None):
            chosen = np.arange(len(proba))[::-1][:n]
            return chosen, np.linspace(1, 0, n)

    labelled, pool = table.iloc[:100], table.iloc[100:].drop(columns="label")
    picks = select_rows(pool, labelled, "label", 5, strategy=LastRows())
    assert picks["halfcost_row"].tolist() == list(range(len(pool) - 1, len(pool) - 6, -1))


def test_same_seed_same_picks_and_a_family_learner(table):
    labelled, pool = table.iloc[:120], table.iloc[120:].drop(columns="label")
    first = select_rows(pool, labelled, "label", 25, strategy="diverse", seed=5)
    again = select_rows(pool, labelled, "label", 25, strategy="diverse", seed=5)
    pd.testing.assert_frame_equal(first, again)
    linear = select_rows(pool, labelled, "label", 25, learner="linear")
    assert linear["halfcost_row"].is_unique and len(linear) == 25


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p, lab: (p.drop(columns="zip"), lab), "different columns \\(missing zip\\)"),
        (lambda p, lab: (p.assign(extra=1), lab), "unexpected extra"),
        (lambda p, lab: (p.iloc[:0], lab), "the pool is empty"),
        (lambda p, lab: (p, lab.assign(label="yes")), "one class only"),
        (lambda p, lab: (p, lab.assign(label=np.linspace(0, 1, len(lab)))), "regression"),
    ],
    ids=["missing-column", "extra-column", "empty-pool", "one-class", "regression"],
)
def test_bad_inputs_are_one_line_errors(table, change, message):
    pool, labelled = change(table.iloc[100:].drop(columns="label"), table.iloc[:100])
    with pytest.raises(BadInputError, match=message) as caught:
        select_rows(pool, labelled, "label", 10)
    assert "\n" not in str(caught.value)


def test_n_and_strategy_are_checked(table):
    labelled, pool = table.iloc[:100], table.iloc[100:].drop(columns="label")
    with pytest.raises(BadInputError, match="n is 501 but the pool has only 500 rows") as big:
        select_rows(pool, labelled, "label", 501)
    assert big.value.render("--n").startswith("--n is 501")
    with pytest.raises(BadInputError, match="unknown strategy 'smart'; choose one of margin"):
        select_rows(pool, labelled, "label", 5, strategy="smart")
    with pytest.raises(BadInputError, match="unknown learner 'gpt'"):
        select_rows(pool, labelled, "label", 5, learner="gpt")


@pytest.mark.parametrize(
    "text",
    [
        'a,b\n1,"two\nlines"\n02,z\n3,"q,""r"""\n4.0,w\n',  # a quoted newline stays in its row
        "a,b\n1,x\n\n02,z\n3,w\n4.0,v\n",  # a blank line is no row (the file is read whole)
    ],
)
def test_picks_show_the_cells_of_the_file_as_written(tmp_path, text):
    path = tmp_path / "pool.csv"
    path.write_text(text)
    whole = pd.read_csv(path, dtype=str, keep_default_na=False)
    picks = pd.DataFrame({"halfcost_row": [3, 1], "halfcost_score": [0.9, 0.8]})
    out = picks_as_read(path, picks)
    assert out["a"].tolist() == whole["a"].iloc[[3, 1]].tolist() == ["4.0", "02"]
    assert out["b"].tolist() == whole["b"].iloc[[3, 1]].tolist()
    assert out["halfcost_row"].tolist() == [3, 1] and out["halfcost_score"].tolist() == [0.9, 0.8]
