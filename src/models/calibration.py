"""Probability calibration (isotonic, Platt or beta), fitted out of time; JSON-serializable.

Shared by the churn and lead models: each fits a :class:`Calibrator` on its tuning half of the
out-of-time fold and saves it beside the booster in its bundle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from cvm.config import CvmError

_EPS = 1e-6


@dataclass
class Calibrator:
    """Maps raw model probabilities to calibrated ones; JSON-serializable."""

    method: str = "identity"  # isotonic, platt, beta or identity
    x: list[float] = field(default_factory=list)  # isotonic thresholds
    y: list[float] = field(default_factory=list)
    a: float = 1.0  # platt: sigmoid(a * logit(p) + b)
    b: float = 0.0
    c: float = 0.0  # beta: sigmoid(a * ln p + c * -ln(1 - p) + b)
    shift: float = 0.0  # added to the logit of the calibrated probability (churn.drift)

    @classmethod
    def fit(
        cls,
        p_raw: np.ndarray,
        y: np.ndarray,
        method: str = "isotonic",
        lr_threshold: float | None = None,
    ) -> Calibrator:
        """``auto``: beta when it fits the rows significantly better than Platt, which it
        nests (a likelihood-ratio statistic above ``lr_threshold``, e.g. 3.84 = χ²₁ at 5 %);
        Platt otherwise, so the extra parameter is paid for only where Platt's shape fails."""
        p_raw, y = np.asarray(p_raw, float), np.asarray(y, float)
        if method == "auto":
            if lr_threshold is None:
                raise CvmError("calibration auto needs its likelihood-ratio threshold")
            platt, beta = cls.fit(p_raw, y, "platt"), cls.fit(p_raw, y, "beta")
            lr = 2.0 * (_log_lik(beta(p_raw), y) - _log_lik(platt(p_raw), y))
            return beta if lr > lr_threshold else platt
        if method == "isotonic":
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p_raw, y)
            return cls("isotonic", iso.X_thresholds_.tolist(), iso.y_thresholds_.tolist())
        if method == "platt":
            lr = LogisticRegression().fit(logit(p_raw)[:, None], y)
            return cls("platt", a=float(lr.coef_[0, 0]), b=float(lr.intercept_[0]))
        if method == "beta":
            lr = LogisticRegression().fit(_beta_terms(p_raw), y)
            a, c = (float(v) for v in lr.coef_[0])
            return cls("beta", a=a, b=float(lr.intercept_[0]), c=c)
        raise CvmError(f"calibration must be isotonic, platt, beta or auto, not {method!r}")

    def shifted(self, shift: float) -> Calibrator:
        """The same calibrator with ``shift`` added to the logit of its output (a drift
        correction, ``cvm.models.drift.fold_shift``); 0 returns it unchanged."""
        if shift == 0.0:
            return self
        return Calibrator(self.method, list(self.x), list(self.y), self.a, self.b, self.c, shift)

    def __call__(self, p_raw: np.ndarray) -> np.ndarray:
        p = self._calibrated(p_raw)
        if self.shift == 0.0:
            return p
        return 1.0 / (1.0 + np.exp(-(logit(p) + self.shift)))

    def _calibrated(self, p_raw: np.ndarray) -> np.ndarray:
        p_raw = np.asarray(p_raw, float)
        if self.method == "isotonic":
            return np.interp(p_raw, self.x, self.y)
        if self.method == "platt":
            return 1.0 / (1.0 + np.exp(-(self.a * logit(p_raw) + self.b)))
        if self.method == "beta":
            z = _beta_terms(p_raw) @ np.array([self.a, self.c]) + self.b
            return 1.0 / (1.0 + np.exp(-z))
        return p_raw

    def to_dict(self) -> dict[str, Any]:
        d = {
            "method": self.method,
            "x": list(self.x),
            "y": list(self.y),
            "a": self.a,
            "b": self.b,
            "c": self.c,
        }
        if self.shift != 0.0:  # written only when set: bundles without drift are unchanged
            d["shift"] = self.shift
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibrator:
        """The calibrator :meth:`to_dict` wrote (every key but ``shift`` is always there)."""
        return cls(
            d["method"],
            list(d["x"]),
            list(d["y"]),
            float(d["a"]),
            float(d["b"]),
            float(d.get("c", 0.0)),
            float(d.get("shift", 0.0)),
        )


def _log_lik(p: np.ndarray, y: np.ndarray) -> float:
    """Bernoulli log-likelihood of ``y`` under probabilities ``p`` (clipped)."""
    p = np.clip(p, _EPS, 1 - _EPS)
    return float(np.sum(y * np.log(p) + (1 - y) * np.log1p(-p)))


def _beta_terms(p: np.ndarray) -> np.ndarray:
    """(ln p, −ln(1 − p)): beta calibration's two inputs (Kull et al. 2017), p clipped."""
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.column_stack([np.log(p), -np.log1p(-p)])


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)), with p clipped away from 0 and 1."""
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))
