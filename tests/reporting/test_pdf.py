"""report.pdf: printed by headless Chromium, skipped (and logged) without it, Chinese even
on a machine with no system fonts."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from cvm.reporting import html as report_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PAGE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><style>body{font-size:30px}</style>"
    "</head><body><section id='a'><h2>本月摘要</h2><p>客户生命周期</p></section>"
    "<section id='b'><h2>客户价值</h2></section></body></html>"
)


def _notebook(tmp_path: Path) -> Path:
    cell = new_code_cell("x = 1")
    cell.outputs = [
        new_output("display_data", data={"text/html": "<section><h2>本月摘要</h2></section>"})
    ]
    src = tmp_path / "r.ipynb"
    nbformat.write(new_notebook(cells=[cell]), str(src))
    return src


def test_without_chromium_the_pdf_is_skipped_and_logged(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(report_html, "chromium", lambda: None)
    with caplog.at_level(logging.WARNING, logger="cvm.reporting.html"):
        out = report_html.notebook_to_html(
            _notebook(tmp_path), tmp_path / "report.html", "t", "s", "zh"
        )
    assert out.exists() and not (tmp_path / "report.pdf").exists()
    assert "report.pdf skipped: chromium is not installed" in caplog.text


def _fonts_in(pdf: Path) -> int:
    return len(re.findall(rb"/Type\s*/Font\b", pdf.read_bytes()))


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is required")
def test_pdf_shows_chinese_with_system_fonts_hidden(tmp_path, monkeypatch):
    conf = tmp_path / "fonts.conf"  # fontconfig with no font directory: no system fonts
    conf.write_text(
        f'<?xml version="1.0"?><fontconfig><dir>{tmp_path / "none"}</dir>'
        f"<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    src = tmp_path / "page.html"
    src.write_text(
        PAGE.replace("font-size:30px", "font-size:30px;font-family:'Noto Sans CJK SC'"),
        encoding="utf-8",
    )
    pdf = report_html.print_pdf(src, tmp_path / "page.pdf", 120)
    assert pdf is not None and pdf.read_bytes().startswith(b"%PDF")
    assert _fonts_in(pdf) >= 1, "no font embedded: the Chinese text did not render"
    # the check can fail: without the packaged font nothing renders on this machine
    monkeypatch.setattr("cvm.reporting.fonts.packaged_font", lambda: None)
    bare = report_html.print_pdf(src, tmp_path / "bare.pdf", 120)
    assert bare is not None and _fonts_in(bare) == 0
    assert not list(tmp_path.glob(".*.tmp"))
