"""What cleaning does with each column's failures: repair, quarantine, impute or ignore.

A policy is read from ``POLICY.yaml``::

    default:                  # applies to every column not listed below
      action: repair          # repair | quarantine | impute | ignore
      close_match_cutoff: 0.85
    columns:
      age:
        action: impute
        impute: median        # median | mean | mode | a constant (default: median
                              # for numbers, mode for categories)
      city:
        new_values: accept    # accept | quarantine (values never seen in the reference;
                              # default: accept in open vocabularies, quarantine in closed)
      notes:
        action: ignore
      tenure:
        out_of_range: report  # quarantine (default) | report: count values outside the
                              # reference's range, keep the row
    duplicates: quarantine    # quarantine | ignore (exact duplicate rows)

``repair`` (the default) fixes what needs no guessing (category case and spacing, a close
match to one known category, numbers stored as text) and quarantines the rest;
``quarantine`` repairs nothing; ``impute`` repairs, then replaces each remaining bad value
with a statistic of the reference; ``ignore`` reports failures but keeps the rows.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from halfcost.errors import BadInputError

ACTIONS = ("repair", "quarantine", "impute", "ignore")
IMPUTE_STATISTICS = ("median", "mean", "mode")
DUPLICATE_ACTIONS = ("quarantine", "ignore")
OUT_OF_RANGE_ACTIONS = ("quarantine", "report")
NEW_VALUE_ACTIONS = ("accept", "quarantine")
_COLUMN_KEYS = ("action", "impute", "close_match_cutoff", "out_of_range", "new_values")
_TOP_KEYS = ("default", "columns", "duplicates")


def _choice(value: Any, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        raise BadInputError(f"unknown {what} {value!r}; choose one of {', '.join(choices)}.")
    return str(value)


@dataclass(frozen=True)
class ColumnPolicy:
    """The treatment of one column's failures.

    Attributes:
        action: one of :data:`ACTIONS`.
        impute: for ``action: impute``: 'median', 'mean', 'mode' (of the reference) or a
            constant used as is; None (the default) means the median for numbers and the
            mode for categories.
        close_match_cutoff: minimum similarity (0..1: rapidfuzz's ``fuzz.ratio`` / 100)
            for a misspelt category to be mapped to a known one; the best match must
            also be unique.
        out_of_range: what a value outside the reference's range does: 'quarantine' its
            row (the default, after ``action`` had its say), or 'report' it (counted in
            the report, the row kept): a drifted batch keeps its new values.
        new_values: what a value never seen in the reference does: 'accept' (reported as
            new, the row stays clean) or 'quarantine'; None (the default) accepts them in
            open vocabularies (names, addresses, cities) and follows ``action`` in closed
            ones. Overrides ``action`` for unseen values only.
    """

    action: str = "repair"
    impute: Any = None
    close_match_cutoff: float = 0.85
    out_of_range: str = "quarantine"
    new_values: str | None = None

    def __post_init__(self) -> None:
        _choice(self.action, ACTIONS, "action")
        _choice(self.out_of_range, OUT_OF_RANGE_ACTIONS, "out_of_range action")
        if self.new_values is not None:
            _choice(self.new_values, NEW_VALUE_ACTIONS, "new_values action")
        cutoff = self.close_match_cutoff
        if isinstance(cutoff, bool) or not isinstance(cutoff, int | float) or not 0 < cutoff <= 1:
            raise BadInputError(f"close_match_cutoff must be in (0, 1], but got {cutoff!r}.")

    def accepts_new_values(self, vocabulary: str | None) -> bool:
        """Whether an unseen value of a column with this vocabulary ('open'/'closed') passes."""
        if self.new_values is not None:
            return self.new_values == "accept"
        return vocabulary == "open" or self.action == "ignore"

    @property
    def repairs(self) -> bool:
        """Whether spelling and number-from-text repairs are allowed."""
        return self.action != "quarantine"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base: ColumnPolicy | None = None) -> ColumnPolicy:
        """Build from a YAML mapping; keys not given come from ``base``."""
        if not isinstance(data, Mapping):
            raise BadInputError(
                f"a column policy must be a mapping with keys {', '.join(_COLUMN_KEYS)}, "
                f"but got {data!r}."
            )
        unknown = sorted(set(map(str, data)) - set(_COLUMN_KEYS))
        if unknown:
            raise BadInputError(
                f"unknown policy key {unknown[0]!r}; choose one of {', '.join(_COLUMN_KEYS)}."
            )
        return replace(base or cls(), **{str(k): v for k, v in data.items()})


@dataclass(frozen=True)
class CleaningPolicy:
    """Per-column cleaning actions plus the treatment of exact duplicate rows.

    Attributes:
        default: the policy of every column not named in ``columns``.
        columns: column name -> its own :class:`ColumnPolicy`.
        duplicates: 'quarantine' (later copies of an exact duplicate row) or 'ignore'.
    """

    default: ColumnPolicy = field(default_factory=ColumnPolicy)
    columns: Mapping[str, ColumnPolicy] = field(default_factory=dict)
    duplicates: str = "quarantine"

    def __post_init__(self) -> None:
        _choice(self.duplicates, DUPLICATE_ACTIONS, "duplicates action")

    def for_column(self, column: str) -> ColumnPolicy:
        """The policy applying to ``column``."""
        return self.columns.get(column, self.default)

    def check_columns(self, columns: list[str]) -> None:
        """Raise BadInputError when the policy names a column that is not in ``columns``."""
        for name in self.columns:
            if name not in columns:
                raise BadInputError(
                    f"the policy names column {name!r}, which is not in the data; "
                    f"choose one of {', '.join(map(str, columns))}."
                )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> CleaningPolicy:
        """Build from the parsed POLICY.yaml mapping (None or {} gives the default policy)."""
        data = data or {}
        if not isinstance(data, Mapping):
            raise BadInputError("a cleaning policy must be a YAML mapping; see docs/clean.md.")
        unknown = sorted(set(map(str, data)) - set(_TOP_KEYS))
        if unknown:
            raise BadInputError(
                f"unknown policy section {unknown[0]!r}; choose one of {', '.join(_TOP_KEYS)}."
            )
        default = ColumnPolicy.from_dict(data.get("default") or {})
        columns_data = data.get("columns") or {}
        if not isinstance(columns_data, Mapping):
            raise BadInputError("policy 'columns' must map column names to policies.")
        columns = {
            str(name): ColumnPolicy.from_dict(spec or {}, default)
            for name, spec in columns_data.items()
        }
        return cls(
            default=default, columns=columns, duplicates=data.get("duplicates", "quarantine")
        )

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> CleaningPolicy:
        """Read a POLICY.yaml file.

        Raises:
            BadInputError: the file is missing, not YAML, or names an unknown action or key.
        """
        import yaml

        p = Path(path)
        if not p.is_file():
            raise BadInputError(f"{p}: no such policy file; check the path.")
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            first = str(exc).strip().splitlines()[0]
            raise BadInputError(f"{p}: not valid YAML ({first}); fix the policy file.") from exc
        try:
            return cls.from_dict(data)
        except BadInputError as exc:
            raise BadInputError(f"{p}: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """The policy as the mapping POLICY.yaml holds (for the report)."""

        def one(policy: ColumnPolicy) -> dict[str, Any]:
            return {
                "action": policy.action,
                "impute": policy.impute,
                "close_match_cutoff": policy.close_match_cutoff,
                "out_of_range": policy.out_of_range,
                "new_values": policy.new_values,
            }

        return {
            "default": one(self.default),
            "columns": {name: one(p) for name, p in self.columns.items()},
            "duplicates": self.duplicates,
        }
