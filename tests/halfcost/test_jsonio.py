import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np

from halfcost.jsonio import to_json, write_json


def test_numpy_decimal_dates_and_nan_become_strict_json(tmp_path):
    data = {
        "i": np.int64(3),
        "f": np.float32(0.5),
        "nan": float("nan"),
        "np_nan": np.float64("nan"),
        "inf": float("inf"),
        "b": np.bool_(True),
        "arr": np.arange(3),
        "money": Decimal("0.10"),
        "when": datetime(2026, 1, 2, tzinfo=UTC),
        "path": Path("/x"),
        "nested": [{"v": float("nan")}],
    }
    text = to_json(data)
    back = json.loads(text)
    assert back["i"] == 3 and back["f"] == 0.5 and back["b"] is True
    assert back["nan"] is None and back["np_nan"] is None and back["inf"] is None
    assert back["arr"] == [0, 1, 2]
    assert back["money"] == "0.10"
    assert back["when"].startswith("2026-01-02T00:00:00")
    assert back["nested"] == [{"v": None}]
    path = write_json(data, tmp_path / "a" / "r.json")
    assert json.loads(path.read_text()) == back
