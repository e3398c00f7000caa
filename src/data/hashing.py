"""The fingerprint of a data set: one sha256 of the loaded contract tables.

Bundles record it (which data trained them) and the run's table copy caches it, so both
compute it the same way, here in the data layer.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd


def tables_hash(tables: dict[str, pd.DataFrame]) -> str:
    """sha256 of the loaded contract tables' contents (names, columns, dtypes, values).

    Independent of the source format: the same rows read from CSV, Parquet or SQL with the
    same contract dtypes hash alike.
    """
    h = hashlib.sha256()
    for name in sorted(tables):
        df = tables[name]
        h.update(name.encode())
        h.update(json.dumps([[str(c), str(df[c].dtype)] for c in df.columns]).encode())
        h.update(str(len(df)).encode())
        for c in df.columns:
            h.update(_column_digest(df[c]))
    return h.hexdigest()


def _column_digest(s: pd.Series) -> bytes:
    """sha256 of one column's values: Arrow text straight from its buffers (a million-customer
    export's ids hash in seconds), anything else through pandas' value hash."""
    import pyarrow as pa

    arr = getattr(s.array, "_pa_array", None)
    if arr is None or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return pd.util.hash_pandas_object(s, index=False).to_numpy().tobytes()
    h = hashlib.sha256()
    # one contiguous array: the digest must not depend on how the reader chunked the column
    a = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if len(a) == 0:
        return h.digest()
    if a.null_count:
        h.update(np.asarray(a.is_null().to_numpy(zero_copy_only=False)).tobytes())
        a = a.fill_null("")
    width = np.int64 if pa.types.is_large_string(a.type) else np.int32
    bufs = a.buffers()
    offs = np.frombuffer(bufs[1], dtype=width)[a.offset : a.offset + len(a) + 1]
    h.update((offs - offs[0]).astype(np.int64).tobytes())
    if bufs[2] is not None:
        h.update(memoryview(bufs[2])[int(offs[0]) : int(offs[-1])])
    return h.digest()
