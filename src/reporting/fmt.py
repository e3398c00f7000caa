"""Numbers as a manager reads them: 万元, %, thousands separators, sensible decimals."""

from __future__ import annotations

import math
import re
from typing import Any

_ZH_PUNCT = (
    (re.compile(r"(?<!\d),|,(?!\d)"), "，"),  # not the thousands separator of 3,000
    (re.compile(r";"), "；"),
    (re.compile(r"(?<!\d):|:(?!\d)"), "："),  # not a time of day
    (re.compile(r"\("), "（"),
    (re.compile(r"\)"), "）"),
)


def _bad(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def count(v: Any) -> str:
    """``12345`` → ``12,345``."""
    return "–" if _bad(v) else f"{float(v):,.0f}"


def money(v: Any, lang: str = "zh") -> str:
    """An amount in CNY for a sentence: ``6.4 万元`` (zh, from 10,000 up) / ``CNY 64,095`` (en)."""
    if _bad(v):
        return "–"
    v = float(v)
    if lang == "zh":
        if abs(v) >= 10_000:
            w = v / 10_000
            return f"{w:,.1f} 万元" if abs(w) < 100 else f"{w:,.0f} 万元"
        return f"{v:,.0f} 元"
    return f"CNY {v:,.0f}"


def yuan(v: Any) -> str:
    """A whole-CNY amount for a table cell: ``1,234``."""
    return "–" if _bad(v) else f"{float(v):,.0f}"


def big(v: Any, lang: str = "zh") -> str:
    """A large amount for a table cell: 万元 with one decimal (zh), CNY thousand (en)."""
    if _bad(v):
        return "–"
    return f"{float(v) / 10_000:,.1f}" if lang == "zh" else f"{float(v) / 1000:,.0f}"


def scale(lang: str = "zh") -> float:
    """The divisor of :func:`big` (10,000 for 万元, 1,000 for CNY thousand)."""
    return 10_000.0 if lang == "zh" else 1000.0


def pct(v: Any, digits: int = 1) -> str:
    """``0.4097`` → ``41.0%``."""
    return "–" if _bad(v) else f"{float(v):.{digits}%}"


def points(v: Any, lang: str = "zh", digits: int = 1) -> str:
    """A change of a share in percentage points: ``+0.4 个百分点`` / ``+0.4 pts``."""
    if _bad(v):
        return "–"
    p = float(v) * 100
    return f"{p:+.{digits}f} 个百分点" if lang == "zh" else f"{p:+.{digits}f} pts"


def signed(v: Any) -> str:
    """``-12`` → ``-12``, ``12`` → ``+12`` (counts)."""
    return "–" if _bad(v) else f"{float(v):+,.0f}"


def num(v: Any, digits: int = 2) -> str:
    """A plain number with separators and ``digits`` decimals."""
    return "–" if _bad(v) else f"{float(v):,.{digits}f}"


def zh_punct(text: str) -> str:
    """Chinese sentence punctuation: ``,`` ``;`` ``:`` ``( )`` → ``，`` ``；`` ``：`` ``（ ）``,
    leaving thousands separators and times alone."""
    for pattern, repl in _ZH_PUNCT:
        text = pattern.sub(repl, text)
    return text
