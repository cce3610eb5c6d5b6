"""Atomic JSON writing shared by every command that leaves a report behind."""

from __future__ import annotations

import json
import math
import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np


def _default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if math.isnan(float(value)) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _finite(value: Any) -> Any:
    """Replace NaN and infinities (not valid JSON) with None, recursively."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def to_json(data: Any, *, indent: int | None = 2) -> str:
    """Serialize ``data`` to strict JSON.

    Accepts numpy scalars and arrays, Decimals, dates and Paths; NaN and infinities
    become ``null`` so that every JSON parser can read the result.
    """
    return json.dumps(_finite(data), indent=indent, default=_default, allow_nan=False)


def write_json(data: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``data`` as JSON to ``path`` atomically (temporary file, then one rename)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    tmp.write_text(to_json(data) + "\n", encoding="utf-8")
    os.replace(tmp, p)
    return p
