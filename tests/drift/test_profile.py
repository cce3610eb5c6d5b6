"""Reference profiles: saved, loaded back, and giving the same decisions as the table."""

from __future__ import annotations

import json

import pytest

from halfcost.drift import build_profile, check_drift, load_profile
from halfcost.drift._profile import is_profile
from halfcost.errors import BadInputError


def test_round_trip_gives_identical_results(tmp_path, monitor_frame):
    reference = monitor_frame(3000, seed=1)
    reference.loc[::50, "plan"] = None
    current = monitor_frame(2000, seed=2, shift_std=0.6, swap_plans=True)
    profile = build_profile(reference, target="churned", sample_rows=500)
    path = profile.save(tmp_path / "ref.profile")
    assert is_profile(path) and is_profile(path / "profile.json")
    loaded = load_profile(path)
    assert loaded.to_dict() == json.loads((path / "profile.json").read_text())
    assert loaded.target == "churned" and loaded.rows == 3000 and len(loaded.sample) == 500
    from_table = check_drift(reference, current).to_dict()
    from_file = check_drift(loaded, current).to_dict()
    assert from_file["columns"] == from_table["columns"]
    assert from_file["columns"]["plan"]["drifted"] and from_file["columns"]["spend"]["drifted"]


def test_small_reference_keeps_its_values_for_p_value_tests(tmp_path, monitor_frame):
    reference = monitor_frame(600, seed=1)
    loaded = load_profile(build_profile(reference).save(tmp_path / "p"))
    assert len(loaded.columns["spend"].raw) == 600
    current = monitor_frame(400, seed=2, shift_std=1.0)
    assert check_drift(loaded, current).to_dict() | {"created_at": 0} == check_drift(
        reference, current
    ).to_dict() | {"created_at": 0}


def test_save_replaces_a_profile_but_not_other_folders(tmp_path, monitor_frame):
    profile = build_profile(monitor_frame(200, seed=1))
    target = tmp_path / "p"
    profile.save(target)
    build_profile(monitor_frame(300, seed=2)).save(target)
    assert load_profile(target).rows == 300
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(BadInputError, match="not a drift profile"):
        profile.save(other)
    assert (other / "keep.txt").read_text() == "mine"


def test_bad_profiles_and_inputs_are_refused(tmp_path, monitor_frame):
    with pytest.raises(BadInputError, match="not a drift profile"):
        load_profile(tmp_path)
    (tmp_path / "profile.json").write_text('{"format": "something else"}')
    with pytest.raises(BadInputError, match="rebuild it"):
        load_profile(tmp_path)
    frame = monitor_frame(100, seed=1)
    with pytest.raises(BadInputError, match="target column 'label'"):
        build_profile(frame, target="label")
    with pytest.raises(BadInputError, match="no rows"):
        build_profile(frame.iloc[:0])
