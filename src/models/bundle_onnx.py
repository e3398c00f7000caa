"""LightGBM booster → ONNX (optional extra ``onnx``): the interchange format other systems load.

The ONNX model takes one float32 tensor ``input`` of shape (n, n_features), columns in the
feature spec's order, categorical features as their category codes (missing = NaN), and
returns the booster's raw output (binary: probabilities; Tweedie/Gamma: the mean). The
calibrator and the value combination are plain formulas in ``bundle.json`` (docs).
"""

from __future__ import annotations

from typing import Any

TARGET_OPSET = 15


def float32_thresholds(model_str: str) -> str:
    """The LightGBM text model with numerical split thresholds rounded *down* to float32.

    ONNX tree ensembles store thresholds as float32; rounding LightGBM's double threshold to
    nearest can flip ``x <= t`` for a float32 ``x`` one ulp away. For float32 inputs (the
    features are float32) ``x <= t`` ⇔ ``x <= floor32(t)``, so this copy predicts exactly
    like the original and converts without flips. Categorical splits are left alone.
    """
    import numpy as np

    lines = model_str.split("\n")
    pending: int | None = None  # index of this tree's threshold line
    for i, line in enumerate(lines):
        if line.startswith("Tree="):
            pending = None
        elif line.startswith("threshold="):
            pending = i
        elif line.startswith("decision_type=") and pending is not None:
            dtypes = [int(v) for v in line.split("=", 1)[1].split()]
            vals = lines[pending].split("=", 1)[1].split()
            out = []
            for v, dt in zip(vals, dtypes, strict=True):
                t = float(v)
                f = np.float32(t)
                if not dt & 1 and float(f) > t:  # categorical: an index, left alone
                    f = np.nextafter(f, np.float32(-np.inf))
                out.append(v if dt & 1 else repr(float(f)))
            lines[pending] = "threshold=" + " ".join(out)
            pending = None
    # tree_sizes (byte offsets for parallel loading) no longer match; LightGBM reads without
    return "\n".join(line for line in lines if not line.startswith("tree_sizes="))


def booster_to_onnx(booster: Any, n_features: int, name: str = "cvm_lightgbm") -> bytes:
    """Serialized ONNX model of ``booster`` (needs onnxmltools); same booster, same bytes."""
    try:
        from onnxmltools import convert_lightgbm
        from onnxmltools.convert.common.data_types import FloatTensorType
    except ImportError as exc:  # pragma: no cover - depends on the extra
        from cvm.config import CvmError

        raise CvmError("ONNX export needs the onnx extra: pip install -e '.[onnx]'") from exc
    import lightgbm as lgb

    booster = lgb.Booster(model_str=float32_thresholds(booster.model_to_string()))
    model = convert_lightgbm(
        booster,
        initial_types=[("input", FloatTensorType([None, n_features]))],
        target_opset=TARGET_OPSET,
        zipmap=False,
        name=name,
    )
    return model.SerializeToString()


def onnx_predict(model_bytes: bytes, matrix: Any) -> Any:
    """Raw booster output from an ONNX model with onnxruntime (binary: P(class 1))."""
    import numpy as np
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])
    out = sess.run(None, {"input": np.asarray(matrix, dtype=np.float32)})[-1]
    out = np.asarray(out, dtype=float)
    return out[:, 1] if out.ndim == 2 and out.shape[1] == 2 else out.ravel()
