"""The cleaning policy: defaults, per-column overrides, YAML, and clear errors."""

from __future__ import annotations

import pytest

from halfcost.automl import CleaningPolicy
from halfcost.automl._clean_policy import ColumnPolicy
from halfcost.errors import BadInputError


def test_default_policy_repairs_everything_and_quarantines_duplicates() -> None:
    policy = CleaningPolicy()
    assert policy.for_column("anything").action == "repair"
    assert policy.for_column("anything").repairs
    assert policy.duplicates == "quarantine"


def test_columns_inherit_the_default_section() -> None:
    policy = CleaningPolicy.from_dict(
        {
            "default": {"action": "quarantine", "close_match_cutoff": 0.9},
            "columns": {"age": {"action": "impute", "impute": "median"}, "notes": None},
            "duplicates": "ignore",
        }
    )
    assert policy.for_column("age") == ColumnPolicy("impute", "median", 0.9)
    assert policy.for_column("notes") == ColumnPolicy("quarantine", None, 0.9)
    assert policy.for_column("other").action == "quarantine"
    assert not policy.for_column("other").repairs
    assert policy.duplicates == "ignore"
    assert CleaningPolicy.from_dict(policy.to_dict()) == policy


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"columns": {"a": {"action": "fix"}}}, "unknown action 'fix'; choose one of repair"),
        ({"columns": {"a": {"actoin": "repair"}}}, "unknown policy key 'actoin'"),
        ({"default": {"close_match_cutoff": 1.5}}, r"close_match_cutoff must be in \(0, 1\]"),
        ({"duplicates": "drop"}, "unknown duplicates action 'drop'"),
        ({"rules": {}}, "unknown policy section 'rules'"),
        ({"columns": ["a"]}, "must map column names"),
    ],
)
def test_bad_policies_name_the_problem(data: dict, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        CleaningPolicy.from_dict(data)


def test_policy_from_yaml(tmp_path) -> None:
    path = tmp_path / "POLICY.yaml"
    path.write_text("columns:\n  age:\n    action: impute\n    impute: 40\n")
    policy = CleaningPolicy.from_yaml(path)
    assert policy.for_column("age").impute == 40
    path.write_text("columns: [unclosed\n")
    with pytest.raises(BadInputError, match="not valid YAML"):
        CleaningPolicy.from_yaml(path)
    with pytest.raises(BadInputError, match="no such policy file"):
        CleaningPolicy.from_yaml(tmp_path / "missing.yaml")


def test_new_values_is_read_inherited_and_checked() -> None:
    policy = CleaningPolicy.from_dict(
        {"default": {"new_values": "quarantine"}, "columns": {"city": {"action": "repair"}}}
    )
    assert policy.for_column("city").new_values == "quarantine"
    assert not policy.for_column("city").accepts_new_values("open")
    assert CleaningPolicy().for_column("x").accepts_new_values("open")
    assert not CleaningPolicy().for_column("x").accepts_new_values("closed")
    with pytest.raises(BadInputError, match="choose one of accept, quarantine"):
        CleaningPolicy.from_dict({"default": {"new_values": "maybe"}})


def test_a_policy_naming_a_missing_column_lists_the_columns() -> None:
    policy = CleaningPolicy.from_dict({"columns": {"citty": {"action": "ignore"}}})
    with pytest.raises(BadInputError, match="'citty', which is not in the data; choose one of"):
        policy.check_columns(["city", "state"])
