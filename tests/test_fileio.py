"""The one atomic write and the one JSON encoder (cvm.fileio)."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from cvm.fileio import dumps, write_atomic, write_json, write_text


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = write_text(tmp_path / "a.txt", "old")

    def boom(tmp):
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomic(path, boom)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_json_rule_nan_is_null_numpy_and_dates_are_plain():
    obj = {
        "nan": float("nan"),
        "inf": np.float64("inf"),
        "i": np.int64(3),
        "b": np.bool_(True),
        "arr": np.array([1.5, np.nan]),
        "ts": pd.Timestamp("2026-09-30 13:00"),
        "d": date(2026, 1, 2),
        4: ("x", None),
        "other": pd.Period("2026-09", "M"),
    }
    text = dumps(obj)
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {
        "nan": None,
        "inf": None,
        "i": 3,
        "b": True,
        "arr": [1.5, None],
        "ts": "2026-09-30",
        "d": "2026-01-02",
        "4": ["x", None],
        "other": "2026-09",
    }
    assert "中文" in dumps({"t": "中文"})  # not escaped


def test_write_json_sorted_keys(tmp_path):
    p = write_json(tmp_path / "m.json", {"b": 1, "a": float("nan")}, sort_keys=True)
    assert p.read_text(encoding="utf-8") == '{\n  "a": null,\n  "b": 1\n}'
