"""Reading and writing the tables users hand to halfcost (.csv and .parquet).

Every command reads its data through :func:`read_table`, so a missing, empty or
unsupported file gives the same clear error everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from halfcost.errors import BadInputError

SUPPORTED_SUFFIXES = (".csv", ".parquet")


def table_suffix(path: str | os.PathLike[str]) -> str:
    """Return the table format of ``path`` ('.csv' or '.parquet') or raise BadInputError."""
    suffix = Path(path).suffix.lower()
    if suffix == ".pq":
        suffix = ".parquet"
    if suffix not in SUPPORTED_SUFFIXES:
        raise BadInputError(
            f"{path}: unsupported file type {suffix or '(none)'!r}; give a .csv or .parquet file."
        )
    return suffix


def read_table(
    path: str | os.PathLike[str], *, allow_empty: bool = False, as_text: bool = False
) -> pd.DataFrame:
    """Read a .csv or .parquet file into a DataFrame.

    Args:
        path: the file to read.
        allow_empty: accept a file with a header but no rows.
        as_text: read a CSV's cells as the text they are (``dtype=str``, no missing-value
            guessing): ``02134`` keeps its zero and ``35233`` does not become ``35233.0``.
            A Parquet file is read as it is either way.

    Raises:
        BadInputError: the file is missing, unreadable, of another type, or empty.
    """
    p = Path(path)
    suffix = table_suffix(p)
    if not p.exists():
        raise BadInputError(f"{p}: no such file; check the path.")
    if p.is_dir():
        raise BadInputError(f"{p}: is a folder; give a .csv or .parquet file.")
    if p.stat().st_size == 0:
        raise BadInputError(f"{p}: the file is empty; give a table with a header and rows.")
    try:
        if suffix == ".csv":
            text_options = {"dtype": str, "keep_default_na": False} if as_text else {}
            frame = pd.read_csv(p, low_memory=False, **text_options)
        else:
            frame = pd.read_parquet(p)
    except Exception as exc:  # pandas and pyarrow raise many types for unreadable files
        text = str(exc).strip()
        reason = text.splitlines()[0] if text else type(exc).__name__
        raise BadInputError(f"{p}: cannot read it as {suffix[1:]} ({reason}).") from exc
    if frame.shape[1] == 0:
        raise BadInputError(f"{p}: no columns found; give a table with a header row.")
    if len(frame) == 0 and not allow_empty:
        raise BadInputError(f"{p}: the table has a header but no rows; give at least one row.")
    return frame


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``frame`` to ``path`` as .csv or .parquet (by suffix), creating parent folders.

    The write goes to a temporary file first and is renamed into place, so a crash
    never leaves a half-written table behind.
    """
    p = Path(path)
    suffix = table_suffix(p)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    if suffix == ".csv":
        frame.to_csv(tmp, index=False)
    else:
        frame.to_parquet(tmp, index=False)
    os.replace(tmp, p)
    return p


def column_difference(missing: Sequence[str], unexpected: Sequence[str]) -> str | None:
    """Name what differs between two column sets ('missing a, b; unexpected c'), or None.

    Every command that compares a batch with a reference says it the same way.
    """
    parts = []
    if missing:
        parts.append(f"missing {', '.join(map(str, missing))}")
    if unexpected:
        parts.append(f"unexpected {', '.join(map(str, unexpected))}")
    return "; ".join(parts) or None
