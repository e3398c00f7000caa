"""Render an executed report notebook to one self-contained HTML file without code cells."""

from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans SC","PingFang SC","Microsoft YaHei",
 "Helvetica Neue",Arial,sans-serif;margin:0;background:#f4f6f9;color:#1f2933}
main{max-width:1100px;margin:0 auto;padding:24px 32px 64px;background:#fff}
header.cvm{background:#17324d;color:#fff;padding:18px 32px}
header.cvm h1{margin:0;font-size:24px} header.cvm p{margin:4px 0 0;opacity:.8}
h2{border-bottom:2px solid #17324d;padding-bottom:4px;margin-top:40px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #d9dee5;padding:4px 8px;text-align:right}
th{background:#eef2f6} td:first-child,th:first-child{text-align:left}
img{max-width:100%;height:auto}
.kpis{display:flex;flex-wrap:wrap;gap:12px}
.kpi{flex:1 1 150px;border:1px solid #d9dee5;border-radius:6px;padding:10px 14px}
.kpi .v{font-size:24px;font-weight:600} .kpi .l{color:#52606d;font-size:13px}
.kpi .d.good{color:#1a7f37} .kpi .d.bad{color:#b42318}
.note{color:#52606d;font-size:13px} .warn{color:#b54708}
.jp-OutputPrompt,.jp-InputPrompt,.prompt{display:none}
"""


def notebook_to_html(notebook: Path, out: Path, title: str, subtitle: str, lang: str) -> Path:
    """Write ``out`` from the executed ``notebook``: outputs only, images inline, no scripts."""
    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:  # library warnings on stderr are for the run log, not for managers
        if cell.get("cell_type") == "code":
            cell.outputs = [o for o in cell.get("outputs", [])
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = (
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        f'<meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        f'<header class="cvm"><h1>{html.escape(title)}</h1>'
        f"<p>{html.escape(subtitle)} · {stamp}</p></header><main>{body}</main></body></html>\n"
    )
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out
