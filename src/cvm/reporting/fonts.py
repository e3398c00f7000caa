"""Matplotlib set up for Chinese glyphs (Debian's fonts-noto-cjk) and a headless backend."""

from __future__ import annotations

import logging
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

log = logging.getLogger(__name__)

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "WenQuanYi Zen Hei",
                "SimHei", "Microsoft YaHei", "PingFang SC")


@lru_cache(maxsize=1)
def use_cjk_font() -> str | None:
    """Put the first installed CJK font family first in matplotlib's sans-serif list."""
    family = _find(CJK_FAMILIES)
    if family is None:  # fonts installed after matplotlib cached its list: rescan once
        font_manager.fontManager = font_manager._load_fontmanager(try_read_cache=False)
        family = _find(CJK_FAMILIES)
    if family is None:
        log.warning("no CJK font found: Chinese text in charts will not render; "
                    "install fonts-noto-cjk (Debian) or set lang=en")
    else:
        plt.rcParams["font.sans-serif"] = [family, *plt.rcParams["font.sans-serif"]]
        plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False
    return family


def _find(families: tuple[str, ...]) -> str | None:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in families if f in installed), None)
