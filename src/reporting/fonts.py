"""Matplotlib set up for Chinese glyphs on any machine, and a headless backend.

The CJK font comes with the Python environment: the ``noto-cjk-sans-otc`` package ships
Noto Sans CJK (Regular, SIL Open Font License 1.1, byte-identical to Debian's
``fonts-noto-cjk`` file) inside its wheel and downloads nothing. It is registered with
matplotlib when this module is imported, so charts show Chinese after ``make setup`` alone,
with no apt step. Installed system families are the fallback. When no CJK font can be found
the run logs a warning and the report shows one (``cjk_font_warning``).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

log = logging.getLogger(__name__)

CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Noto Sans CJK JP",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)
"""Families tried in order; the packaged font provides the first."""


def packaged_font() -> Path | None:
    """The CJK font file shipped by the ``noto-cjk-sans-otc`` package, if installed."""
    try:
        import noto_cjk_sans_otc
    except ImportError:
        return None
    path = Path(str(noto_cjk_sans_otc.FONT_PATH))
    return path if path.is_file() else None


def register_packaged_font() -> Path | None:
    """Add the packaged font's faces (SC, TC, JP, KR …) to matplotlib's font list once."""
    path = packaged_font()
    if path is None:
        return None
    known = {Path(f.fname).resolve() for f in font_manager.fontManager.ttflist}
    if path.resolve() not in known:
        font_manager.fontManager.addfont(str(path))
    return path


@lru_cache(maxsize=1)
def use_cjk_font() -> str | None:
    """Put the first available CJK family first in matplotlib's sans-serif list.

    Returns the family, or None (logged as a warning) when no CJK font is available.
    """
    register_packaged_font()
    family = _find(CJK_FAMILIES)
    if family is None:  # fonts installed after matplotlib cached its list: rescan once
        font_manager.fontManager = font_manager._load_fontmanager(  # type: ignore[attr-defined]
            try_read_cache=False
        )
        register_packaged_font()
        family = _find(CJK_FAMILIES)
    if family is None:
        log.warning(
            "no CJK font found: Chinese text in charts will show as empty boxes; "
            "reinstall the package (`make setup` brings noto-cjk-sans-otc) or "
            "install fonts-noto-cjk"
        )
    else:
        plt.rcParams["font.sans-serif"] = [
            family,
            *[f for f in plt.rcParams["font.sans-serif"] if f != family],
        ]
        plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False
    return family


def cjk_font_warning(lang: str) -> str | None:
    """The report's warning text when charts cannot show Chinese, else None."""
    if use_cjk_font() is not None:
        return None
    return (
        "警告:未找到中文字体,图表中的中文可能显示为方框。请重新安装(make setup)。"
        if lang == "zh"
        else "Warning: no CJK font was found; Chinese text in charts may show as boxes. "
        "Reinstall with `make setup`."
    )


def _find(families: tuple[str, ...]) -> str | None:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in families if f in installed), None)


use_cjk_font()  # registered at import: every chart of the run uses it
