"""Chinese chart text renders with the packaged CJK font alone (system fonts hidden)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json, sys, warnings
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import font_manager as fm
    mode = sys.argv[1]
    # hide every system font: keep only matplotlib's own DejaVu files
    fm.fontManager.ttflist = [f for f in fm.fontManager.ttflist
                              if f.fname.startswith(matplotlib.get_data_path())]
    hidden = fm.fontManager
    fm._load_fontmanager = lambda try_read_cache=True: hidden   # the rescan sees the same
    if mode == "no-package":
        sys.modules["noto_cjk_sans_otc"] = None                 # as if it were not installed
    family = None
    if mode != "plain":
        import logging
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        from cvm.reporting.fonts import cjk_font_warning, use_cjk_font
        family = use_cjk_font()
    import matplotlib.pyplot as plt
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plt.subplots()
        ax.set_title("客户生命周期:销售线索 → 潜在用户 → 订单用户 → 现实用户 → 流失用户")
        ax.bar(["既成价值", "潜在价值"], [1, 2])
        fig.canvas.draw()
    used = fm.findfont(fm.FontProperties(family=plt.rcParams["font.sans-serif"][0]),
                       fallback_to_default=True)
    print(json.dumps({"family": family, "used": used,
                      "missing": [str(w.message) for w in caught if "missing from font" in str(w.message)],
                      "warning": None if mode == "plain" else cjk_font_warning("zh")}))
""")


def _run(mode: str) -> tuple[dict, str]:
    res = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(res.stdout.strip().splitlines()[-1]), res.stderr


def test_packaged_font_renders_chinese_with_system_fonts_hidden():
    out, _ = _run("package")
    assert out["family"] == "Noto Sans CJK SC"
    assert "noto_cjk_sans_otc" in out["used"], out["used"]
    assert out["missing"] == []
    assert out["warning"] is None


def test_without_any_cjk_font_glyphs_go_missing_and_the_run_warns():
    plain, _ = _run("plain")  # the check above can fail: DejaVu alone lacks the glyphs
    assert plain["missing"], "expected missing-glyph warnings with DejaVu only"
    out, stderr = _run("no-package")
    assert out["family"] is None
    assert "no CJK font found" in stderr
    assert out["warning"] and "中文字体" in out["warning"]
