"""Render an executed report notebook to one self-contained HTML file without code cells,
and print it to ``report.pdf`` (A4) with headless Chromium when Chromium is installed.

The HTML is the contract; the PDF is for printing and forwarding. Without Chromium the run
logs that it skipped the PDF and goes on.
"""

from __future__ import annotations

import html
import logging
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from cvm.fileio import write_text

log = logging.getLogger(__name__)

CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans SC","PingFang SC","Microsoft YaHei",
 "Helvetica Neue",Arial,sans-serif;margin:0;background:#f4f6f9;color:#1f2933;line-height:1.5}
main{max-width:1100px;margin:0 auto;padding:24px 32px 64px;background:#fff;box-sizing:border-box}
header.cvm{background:#17324d;color:#fff;padding:18px 32px}
header.cvm h1{margin:0;font-size:24px} header.cvm p{margin:4px 0 0;opacity:.8}
h2{border-bottom:2px solid #17324d;padding-bottom:4px;margin-top:40px}
h3{margin:24px 0 6px;font-size:16px;color:#17324d}
table{border-collapse:collapse;margin:8px 0;font-size:13px;max-width:100%}
th,td{border:1px solid #d9dee5;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef2f6;font-weight:600} th.n,td.n{text-align:right;white-space:nowrap}
td.w{min-width:200px} table.tbl{table-layout:auto} table.tbl td:first-child{min-width:7em}
td.t{min-width:5em}
img{max-width:100%;height:auto;display:block;margin:8px 0}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(120px,1fr));gap:10px}
.kpi{border:1px solid #d9dee5;border-radius:6px;padding:8px 12px}
.kpi .v{font-size:24px;font-weight:600} .kpi .l{color:#52606d;font-size:13px}
.kpi .d{font-size:12px} .kpi .d.good{color:#1a7f37} .kpi .d.bad{color:#b42318}
ol.summary{font-size:15px;padding-left:22px} ol.summary li{margin:6px 0}
.take{background:#f4f8fb;border-left:4px solid #3e7cb1;padding:8px 14px;margin:12px 0;font-size:14px}
.take p{margin:4px 0} .take b{display:inline-block;min-width:5em;margin-right:10px;color:#17324d}
.row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.row img{max-width:560px}
.tech{font-size:13px;color:#3e4c59}
.note{color:#52606d;font-size:13px} .warn{color:#b54708;font-weight:600}
.jp-OutputPrompt,.jp-InputPrompt,.prompt{display:none}
@page{size:A4;margin:12mm 10mm}
@media print{body{background:#fff} main{max-width:none;padding:0 4mm}
 header.cvm{padding:10px 4mm;-webkit-print-color-adjust:exact;print-color-adjust:exact}
 section{break-before:page} section#summary{break-before:auto}
 img,table,.take,.kpis{break-inside:avoid} h2,h3{break-after:avoid}
 table{font-size:10px} th,td{padding:2px 4px} td.n{white-space:normal} td.w{min-width:140px}
 .take,th,.kpi{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""


def notebook_to_html(notebook: Path, out: Path, title: str, subtitle: str, lang: str) -> Path:
    """Write ``out`` from the executed ``notebook``: outputs only, images inline, no scripts."""
    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:  # library warnings on stderr are for the run log, not for managers
        if cell.get("cell_type") == "code":
            cell.outputs = [
                o
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = (
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        f'<meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        f'<header class="cvm"><h1>{html.escape(title)}</h1>'
        f"<p>{html.escape(subtitle)} · {stamp}</p></header><main>{body}</main></body></html>\n"
    )
    write_text(out, page)
    _maybe_pdf(out)
    return out


def chromium() -> str | None:
    """Debian's ``chromium`` (or ``chromium-browser``) on the PATH, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-pdf-header-footer",
    "--run-all-compositor-stages-before-draw",
)


def _fontconfig_with_packaged_font(tmpdir: Path) -> dict[str, str]:
    """Environment for Chromium whose fontconfig also sees the packaged CJK font: the
    current configuration (``FONTCONFIG_FILE`` or the system's) plus the package's folder.
    System fonts stay first; a machine without CJK fonts still prints Chinese."""
    import os

    from cvm.reporting.fonts import packaged_font

    env = dict(os.environ)
    font = packaged_font()
    if font is None:
        return env
    base = env.get("FONTCONFIG_FILE") or "/etc/fonts/fonts.conf"
    conf = tmpdir / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>'
        f'<include ignore_missing="yes">{html.escape(base)}</include>'
        f"<dir>{html.escape(str(font.parent))}</dir>"
        f"<cachedir>{html.escape(str(tmpdir / 'fc-cache'))}</cachedir></fontconfig>\n",
        encoding="utf-8",
    )
    env["FONTCONFIG_FILE"] = str(conf)
    return env


def _maybe_pdf(report_html: Path) -> Path | None:
    from cvm.settings import run_settings

    pdf = run_settings().report.pdf
    if not pdf.enabled:
        log.info("report.pdf: disabled (report.pdf.enabled: false)")
        return None
    return print_pdf(report_html, report_html.with_suffix(".pdf"), pdf.timeout_seconds)


def print_pdf(report_html: Path, out: Path, timeout_seconds: float) -> Path | None:
    """Print ``report_html`` to ``out`` (A4, page breaks between sections) with headless
    Chromium; None, logged, when Chromium is absent or fails (the HTML stays the contract).

    Chromium's fontconfig also sees the packaged CJK font (``fonts.packaged_font``), so the
    PDF shows Chinese on a machine without system CJK fonts too.
    """
    exe = chromium()
    if exe is None:
        log.warning(
            "report.pdf skipped: chromium is not installed (apt-get install chromium); "
            "report.html is complete"
        )
        return None
    with tempfile.TemporaryDirectory(prefix="cvm-pdf-") as tmpdir:
        env = _fontconfig_with_packaged_font(Path(tmpdir))
        tmp = out.with_name(f".{out.name}.tmp")
        cmd = [
            exe,
            *CHROMIUM_ARGS,
            f"--user-data-dir={tmpdir}/profile",
            f"--print-to-pdf={tmp}",
            Path(report_html).resolve().as_uri(),
        ]
        try:
            res = subprocess.run(
                cmd, capture_output=True, timeout=timeout_seconds, check=False, env=env
            )
        except subprocess.TimeoutExpired:
            log.warning("report.pdf skipped: chromium did not finish in %.0f s", timeout_seconds)
            tmp.unlink(missing_ok=True)
            return None
        if res.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
            log.warning(
                "report.pdf skipped: chromium exited %s: %s",
                res.returncode,
                res.stderr.decode("utf-8", "replace").strip()[-300:],
            )
            tmp.unlink(missing_ok=True)
            return None
        tmp.replace(out)
    log.info("report.pdf written (%.0f kB)", out.stat().st_size / 1024)
    return out
