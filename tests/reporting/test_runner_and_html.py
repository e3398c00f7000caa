"""Publishing is atomic and refuses to overwrite; the report HTML is self-contained."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from cvm.config import CvmError
from cvm.publishing import publish, work_dir_for
from cvm.reporting.html import notebook_to_html


def test_publish_refuses_a_published_month_without_force(tmp_path: Path):
    final = tmp_path / "reports" / "2026-09"
    work = work_dir_for(final)
    (work / "report.html").write_text("v1")
    publish(work, final, force=False)
    assert (final / "report.html").read_text() == "v1"
    again = work_dir_for(final)
    (again / "report.html").write_text("v2")
    with pytest.raises(CvmError, match="--force"):
        publish(again, final, force=False)
    assert (final / "report.html").read_text() == "v1"
    publish(again, final, force=True)
    assert (final / "report.html").read_text() == "v2"
    assert sorted(p.name for p in final.parent.iterdir()) == ["2026-09"]


def test_report_html_has_outputs_only_and_no_scripts_or_stderr(tmp_path: Path):
    cell = new_code_cell("secret_code_line = 1")
    cell.outputs = [
        new_output(
            "display_data", data={"text/html": "<section id='kpis'><h2>核心指标</h2></section>"}
        ),
        new_output("stream", name="stderr", text="SomeWarning: noisy library"),
    ]
    nb = new_notebook(cells=[cell])
    src = tmp_path / "r.ipynb"
    nbformat.write(nb, str(src))
    out = notebook_to_html(src, tmp_path / "report.html", "标题", "sub", "zh")
    html = out.read_text(encoding="utf-8")
    assert "核心指标" in html and 'lang="zh-CN"' in html
    assert "secret_code_line" not in html
    assert "SomeWarning" not in html
    assert "<script" not in html.lower()
    assert "http://" not in html and "https://" not in html.replace("https://www.w3.org", "")
