import pandas as pd

from halfcost.demo_data import ID_COLUMN, TARGET, make_customers


def test_same_seed_same_table():
    pd.testing.assert_frame_equal(make_customers(500, seed=3), make_customers(500, seed=3))
    assert not make_customers(500, seed=3).equals(make_customers(500, seed=4))


def test_looks_like_real_data():
    frame = make_customers(5_000, seed=0)
    assert len(frame) == 5_000
    assert frame[ID_COLUMN].is_unique
    assert frame[["age", "channel", "last_login_days"]].isna().any().all()
    assert frame["plan"].dtype == object
    share = (frame[TARGET] == "yes").mean()
    assert 0.1 < share < 0.6


def test_drift_moves_the_distribution_and_ids_continue():
    before = make_customers(5_000, seed=0)
    after = make_customers(5_000, seed=1, drift=1.0, id_start=5_000)
    assert after["monthly_spend"].mean() > before["monthly_spend"].mean() * 1.2
    assert (after["plan"] == "premium").mean() > (before["plan"] == "premium").mean() + 0.2
    assert set(before[ID_COLUMN]).isdisjoint(after[ID_COLUMN])
