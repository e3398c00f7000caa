"""Calendar of a simulation: month indices, the data window and date helpers.

Months are counted from the first simulated month (burn-in included) so every array of the
simulator can use small integers; dates are produced only when tables are built.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

import numpy as np

from cvm.config import CvmError


def default_end(reference: date) -> date:
    """Last day of the month before ``reference`` (fixed in the config, not today)."""
    first = reference.replace(day=1)
    prev_year, prev_month = (
        (first.year, first.month - 1) if first.month > 1 else (first.year - 1, 12)
    )
    return date(prev_year, prev_month, calendar.monthrange(prev_year, prev_month)[1])


@dataclass(frozen=True)
class Timeline:
    """Month grid: burn-in, the data window (``years`` up to ``end``) and the horizon."""

    end: date
    window_months: int
    burn_in: int
    horizon: int

    @classmethod
    def build(cls, end: date, years: float, burn_in: int, horizon: int) -> Timeline:
        if end.day != calendar.monthrange(end.year, end.month)[1]:
            raise CvmError(f"--end {end} must be the last day of a month (e.g. 2026-09-30)")
        if years <= 0 or horizon < 1:
            raise CvmError("--years must be > 0 and --horizon-months >= 1")
        return cls(
            end=end, window_months=max(1, round(years * 12)), burn_in=burn_in, horizon=horizon
        )

    @property
    def start_month(self) -> int:
        """Index of the first month of the data window."""
        return self.burn_in

    @property
    def end_month(self) -> int:
        """Index of the month that contains ``end`` (last month of the data)."""
        return self.burn_in + self.window_months - 1

    @property
    def n_months(self) -> int:
        """All simulated months: burn-in, window and horizon."""
        return self.end_month + 1 + self.horizon

    @property
    def _abs_end(self) -> int:
        return self.end.year * 12 + self.end.month - 1

    def abs_month(self, m: int | np.ndarray) -> np.ndarray:
        """Months since 1970-01 of simulation month ``m`` (numpy datetime64[M] integer)."""
        return np.asarray(m) - self.end_month + self._abs_end - 1970 * 12

    def month_start(self, m: int | np.ndarray) -> np.ndarray:
        """First day of simulation month ``m`` as datetime64[D]."""
        return self.abs_month(m).astype("datetime64[M]").astype("datetime64[D]")

    def days_in(self, m: int | np.ndarray) -> np.ndarray:
        """Number of days of simulation month ``m``."""
        a = self.abs_month(m)
        return (
            (a + 1).astype("datetime64[M]").astype("datetime64[D]")
            - a.astype("datetime64[M]").astype("datetime64[D]")
        ).astype(np.int64)

    def day_in_month(self, m: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A date in month ``m`` chosen by uniform ``u`` in [0, 1)."""
        return self.month_start(m) + (u * self.days_in(m)).astype(np.int64)

    def month_of(self, days: np.ndarray) -> np.ndarray:
        """Simulation month index of dates (datetime64[D])."""
        a = days.astype("datetime64[M]").astype(np.int64)
        return (a - (self._abs_end - 1970 * 12) + self.end_month).astype(np.int32)

    def u_of(self, days: np.ndarray) -> np.ndarray:
        """Uniform in [0, 1) that ``day_in_month`` maps back to the same date."""
        m = self.month_of(days)
        off = (days - self.month_start(m)).astype(np.int64)
        return (off + 0.5) / self.days_in(m)

    @property
    def end_day(self) -> np.datetime64:
        return np.datetime64(self.end, "D")

    @property
    def start_day(self) -> np.ndarray:  # a 0-d datetime64[D] array
        return self.month_start(self.start_month)
