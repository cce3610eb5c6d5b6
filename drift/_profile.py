"""Reference profiles: the statistics of a training table that drift checks need, saved once.

Evidently re-reads the whole reference table on every check. A profile keeps, per column,
what its default tests use — value counts, a distribution summary and the standard
deviation, or the values themselves for a small column — plus a seeded row sample for the
Evidently HTML report. A profile is a folder::

    PROFILE/profile.json    column statistics (readable JSON, no pickle)
    PROFILE/sample.parquet  a uniform sample of reference rows (for the report and text columns)
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from halfcost import __version__
from halfcost.drift import _stats
from halfcost.errors import BadInputError
from halfcost.jsonio import write_json

PROFILE_FORMAT = "halfcost-drift-profile"
PROFILE_VERSION = 1
PROFILE_FILE = "profile.json"
SAMPLE_FILE = "sample.parquet"
DEFAULT_PROFILE_SAMPLE_ROWS = 50_000
CATEGORY_COUNTS_LIMIT = 200_000  # distinct values beyond which text-like columns keep no counts
RESERVED_PREFIX = "halfcost_"  # columns halfcost adds (e.g. halfcost_row) are never checked


@dataclass
class ColumnProfile:
    """What the drift tests need to know about one reference column.

    Attributes:
        name: column name.
        dtype: pandas dtype name in the reference.
        kind: the column type Evidently infers on the reference (numerical, categorical, text...).
        numeric: whether the column holds numbers.
        count: non-missing, finite values.
        n_unique: distinct values among them.
        counts: value -> count, when the column has at most a manageable number of values.
        numbers: for numeric columns, ``std`` plus a sorted (value, weight) summary.
        raw: every value, when the column has at most 1,000 values (Evidently then runs
            p-value tests, which need the values themselves).
    """

    name: str
    dtype: str
    kind: str
    numeric: bool
    count: int
    n_unique: int
    counts: pd.Series | None = None
    numbers: dict[str, Any] | None = None
    raw: pd.Series | None = None

    @property
    def exact(self) -> bool:
        """True when distances from this profile equal those from the full column."""
        return self.raw is not None or self.numbers is None or bool(self.numbers.get("exact"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (values as plain lists)."""
        data: dict[str, Any] = {
            "dtype": self.dtype,
            "kind": self.kind,
            "numeric": self.numeric,
            "count": self.count,
            "n_unique": self.n_unique,
        }
        if self.counts is not None and not self.numeric:
            data["counts"] = {
                "values": _plain(self.counts.index),
                "counts": self.counts.to_numpy(dtype=np.int64).tolist(),
            }
        if self.numbers is not None:
            data["numbers"] = {
                "std": self.numbers["std"],
                "exact": bool(self.numbers["exact"]),
                "values": np.asarray(self.numbers["values"], dtype=float).tolist(),
                "weights": np.asarray(self.numbers["weights"], dtype=float).tolist(),
            }
        if self.raw is not None:
            data["raw"] = _plain(self.raw)
        return data

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any]) -> ColumnProfile:
        """Inverse of :meth:`to_dict`."""
        counts = None
        if data.get("counts") is not None:
            counts = pd.Series(
                data["counts"]["counts"],
                index=pd.Index(data["counts"]["values"], dtype=object),
                dtype=np.int64,
            )
        numbers = None
        if data.get("numbers") is not None:
            numbers = {
                "std": float(data["numbers"]["std"]),
                "exact": bool(data["numbers"]["exact"]),
                "values": np.asarray(data["numbers"]["values"], dtype=float),
                "weights": np.asarray(data["numbers"]["weights"], dtype=float),
                "n_unique": int(data["n_unique"]),
            }
            if numbers["exact"]:
                counts = pd.Series(numbers["weights"].astype(np.int64), index=numbers["values"])
        raw = None
        if data.get("raw") is not None:
            raw = pd.Series(data["raw"], dtype=float if data["numeric"] else object)
        return cls(
            name=name,
            dtype=data["dtype"],
            kind=data["kind"],
            numeric=bool(data["numeric"]),
            count=int(data["count"]),
            n_unique=int(data["n_unique"]),
            counts=counts,
            numbers=numbers,
            raw=raw,
        )


def _plain(values: Any) -> list[Any]:
    """Python scalars (JSON-ready) from a pandas/numpy sequence."""
    return [v.item() if isinstance(v, np.generic) else v for v in list(values)]


@dataclass
class ReferenceProfile:
    """Reference statistics for drift checks, built once from the training table.

    Use :func:`build_profile` to make one and :func:`load_profile` to read a saved one;
    pass it to :func:`halfcost.drift.check_drift` in place of the reference table.

    Attributes:
        columns: column name -> :class:`ColumnProfile`, in the table's order.
        rows: rows in the reference table.
        sample: a seeded uniform sample of reference rows (for the HTML report).
        target: the label column, if named (a batch without labels skips it).
        created_at: UTC time the profile was built.
        source: where the reference came from (a path), if known.
    """

    columns: dict[str, ColumnProfile]
    rows: int
    sample: pd.DataFrame
    target: str | None = None
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    source: str | None = None

    @property
    def column_names(self) -> list[str]:
        """Reference columns the checks compare (halfcost's own ``halfcost_*`` columns excluded)."""
        return list(self.columns)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document saved as ``profile.json``."""
        return {
            "format": PROFILE_FORMAT,
            "version": PROFILE_VERSION,
            "created_at": self.created_at,
            "halfcost_version": __version__,
            "evidently_version": _evidently_version(),
            "source": self.source,
            "rows": self.rows,
            "target": self.target,
            "sample_rows": len(self.sample),
            "columns": {name: column.to_dict() for name, column in self.columns.items()},
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the profile folder (``profile.json`` + ``sample.parquet``) atomically.

        The folder is written beside ``path`` and renamed into place, so a crash never
        leaves a half-written profile; an existing profile at ``path`` is replaced.
        """
        target = Path(path)
        foreign = target.exists() and not (target / PROFILE_FILE).exists()
        if foreign and (target.is_file() or any(target.iterdir())):
            raise BadInputError(
                f"{target}: exists and is not a drift profile; choose a new --out path."
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        write_json(self.to_dict(), staging / PROFILE_FILE)
        try:
            self.sample.to_parquet(staging / SAMPLE_FILE, index=False)
        except (
            TypeError,
            ValueError,
            ImportError,
            OSError,
        ) as exc:  # pyarrow's errors subclass these
            shutil.rmtree(staging, ignore_errors=True)
            raise BadInputError(
                f"cannot store the reference sample as parquet ({exc}); make each column hold "
                "one type (e.g. all text or all numbers)."
            ) from exc
        old = target.with_name(f".{target.name}.old")
        if target.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
        return target


def _evidently_version() -> str | None:
    try:
        return metadata.version("evidently")
    except metadata.PackageNotFoundError:  # pragma: no cover - it is a dependency
        return None


def is_profile(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a saved profile folder (or its ``profile.json``)."""
    p = Path(path)
    return (p.is_dir() and (p / PROFILE_FILE).is_file()) or (p.name == PROFILE_FILE and p.is_file())


def load_reference(path: str | os.PathLike[str]) -> ReferenceProfile | pd.DataFrame:
    """A drift check's reference: a saved profile folder, or a .csv/.parquet table.

    Raises:
        BadInputError: no such profile or table (named), or an unreadable one.
    """
    from halfcost.tables import SUPPORTED_SUFFIXES, read_table

    p = Path(path)
    if is_profile(p) or p.is_dir():
        return load_profile(p)  # a folder that is not a profile: its own message
    if p.suffix.lower() in SUPPORTED_SUFFIXES or p.exists():
        return read_table(p)
    raise BadInputError(
        f"{p}: no such profile; give a folder written by `halfcost drift profile REF --out "
        "PROFILE` (e.g. a project's models/profile) or a .csv/.parquet reference table."
    )


def build_profile(
    frame: pd.DataFrame,
    *,
    target: str | None = None,
    sample_rows: int = DEFAULT_PROFILE_SAMPLE_ROWS,
    seed: int = 0,
    source: str | None = None,
) -> ReferenceProfile:
    """Summarise a reference (training) table for later drift checks.

    Args:
        frame: the reference table.
        target: the label column; batches without it are still checked on the rest.
        sample_rows: rows kept as a uniform sample for the HTML report.
        seed: seed of that sample.
        source: where the table came from, recorded in the profile.

    Raises:
        BadInputError: the table is empty, or ``target`` is not one of its columns.
    """
    if len(frame) == 0:
        raise BadInputError("the reference table has no rows; give the training data.")
    if target is not None and target not in frame.columns:
        raise BadInputError(
            f"target column {target!r} is not in the reference table; "
            f"choose one of {', '.join(map(str, frame.columns))}."
        )
    if sample_rows < 1:
        raise BadInputError(f"sample_rows must be at least 1, but got {sample_rows}.")
    names = [str(c) for c in frame.columns if not str(c).startswith(RESERVED_PREFIX)]
    columns = {name: profile_column(frame[name], name) for name in names}
    return ReferenceProfile(
        columns=columns,
        rows=len(frame),
        sample=sample_frame(frame[names], sample_rows, seed),
        target=target,
        source=source,
    )


def profile_column(series: pd.Series, name: str) -> ColumnProfile:
    """The statistics of one reference column (see :class:`ColumnProfile`)."""
    numeric = bool(pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))
    counts = None
    numbers = None
    if numeric:
        numbers = _stats.summarize_numbers(_stats.clean_numbers(series))
        n_unique, count = int(numbers["n_unique"]), int(numbers["weights"].sum())
        if numbers["exact"]:
            counts = pd.Series(numbers["weights"].astype(np.int64), index=numbers["values"])
    else:
        value_counts = series.value_counts(sort=False)  # missing values are not counted
        value_counts = value_counts[value_counts > 0]
        n_unique, count = len(value_counts), int(value_counts.sum())
        if n_unique <= CATEGORY_COUNTS_LIMIT:
            counts = value_counts.astype(np.int64)
            counts.index = pd.Index(_plain(counts.index), dtype=object)
    small = count <= _stats.SMALL_REFERENCE_VALUES
    return ColumnProfile(
        name=name,
        dtype=series.dtype.name,
        kind=_stats.infer_kind(series, n_unique=n_unique, count=count),
        numeric=numeric,
        count=count,
        n_unique=n_unique,
        counts=counts,
        numbers=numbers,
        raw=_stats.clean_values(series) if small else None,
    )


def sample_frame(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """A seeded uniform sample of ``rows`` rows (all rows when the table is smaller), in order."""
    if len(frame) <= rows:
        return frame.reset_index(drop=True)
    picked = np.sort(np.random.default_rng(seed).choice(len(frame), size=rows, replace=False))
    return frame.iloc[picked].reset_index(drop=True)


def load_profile(path: str | os.PathLike[str]) -> ReferenceProfile:
    """Read a profile saved by :meth:`ReferenceProfile.save`.

    Raises:
        BadInputError: ``path`` is not a readable profile of a supported version.
    """
    import json

    p = Path(path)
    folder = p.parent if p.name == PROFILE_FILE else p
    meta_path = folder / PROFILE_FILE
    if not meta_path.is_file():
        raise BadInputError(
            f"{p}: not a drift profile (no {PROFILE_FILE}); make one with "
            "`halfcost drift profile REF --out PROFILE`."
        )
    try:
        data = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInputError(f"{meta_path}: cannot read the profile ({exc}); rebuild it.") from exc
    if data.get("format") != PROFILE_FORMAT or data.get("version") != PROFILE_VERSION:
        raise BadInputError(
            f"{meta_path}: profile format {data.get('format')!r} version {data.get('version')!r} "
            f"is not {PROFILE_FORMAT!r} version {PROFILE_VERSION}; rebuild it with "
            "`halfcost drift profile`."
        )
    sample_path = folder / SAMPLE_FILE
    try:
        sample = pd.read_parquet(sample_path)
    except Exception as exc:  # pyarrow raises several types for a missing or broken file
        raise BadInputError(f"{sample_path}: cannot read the profile's sample ({exc}).") from exc
    columns = {name: ColumnProfile.from_dict(name, col) for name, col in data["columns"].items()}
    return ReferenceProfile(
        columns=columns,
        rows=int(data["rows"]),
        sample=sample,
        target=data.get("target"),
        created_at=data.get("created_at", ""),
        source=data.get("source"),
    )
