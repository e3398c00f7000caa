"""Writing files safely, once for the whole package: atomic writes and the one JSON encoder.

Every file cvm writes for someone else to read (artifacts, published files, lists, bundles'
JSON, exports) goes through :func:`write_atomic`: the content is written to a temporary file in
the target's folder and renamed over the target, so a reader sees the old file or the new one,
never half of one, and a failure leaves no temporary file behind.

JSON is written by :func:`dumps`: numpy scalars and arrays become plain numbers and lists,
timestamps and dates ISO dates (``YYYY-MM-DD``), other objects their ``str``; **NaN and
infinities become ``null``** (the strict JSON every reader parses; readers treat ``null`` as
"not available", as they treat NaN).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def write_atomic(path: str | Path, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | Path, text: str) -> Path:
    """``text`` (UTF-8) to ``path``, atomically."""
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes(path: str | Path, data: bytes) -> Path:
    """``data`` to ``path``, atomically."""
    return write_atomic(path, lambda tmp: tmp.write_bytes(data))


def jsonable(x: Any) -> Any:
    """``x`` as plain JSON values (the rule in the module docstring)."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, set)):
        return [jsonable(v) for v in (sorted(x) if isinstance(x, set) else x)]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if x is None or isinstance(x, (bool, int, str)):
        return x
    if isinstance(x, (pd.Timestamp, date)):
        return x.isoformat()[:10]
    return str(x)


def dumps(obj: Any, *, indent: int | None = 2, sort_keys: bool = False) -> str:
    """The one JSON encoder of cvm: UTF-8 text (not escaped), NaN as ``null``."""
    return json.dumps(
        jsonable(obj), ensure_ascii=False, indent=indent, sort_keys=sort_keys, allow_nan=False
    )


def write_json(
    path: str | Path, obj: Any, *, indent: int | None = 2, sort_keys: bool = False
) -> Path:
    """``obj`` as JSON (:func:`dumps`) to ``path``, atomically."""
    return write_text(path, dumps(obj, indent=indent, sort_keys=sort_keys))
