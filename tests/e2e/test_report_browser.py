"""The zh and en reports opened in a real headless Chromium, as a manager would see them:
the stable headings, no code names, nothing wider than the window, no missing glyphs,
a printable PDF; full-page screenshots are kept with the run."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTH = 1280
HEADINGS = {  # the contract: stable, in this order
    "zh": [
        "本月摘要",
        "客户生命周期",
        "客户价值",
        "忠诚度",
        "客户需求",
        "本月营销计划",
        "上月活动效果",
        "销售线索",
        "附录：模型质量",
    ],
    "en": [
        "Summary",
        "Customer lifecycle",
        "Customer value",
        "Loyalty",
        "Customer needs",
        "This month's plan",
        "Last month's results",
        "Sales leads",
        "Appendix: model quality",
    ],
}
MASKED_ID = re.compile(r"\b[A-Za-z]\d*\*+\d*\b")


@pytest.fixture(scope="session")
def runs(monthly_run: Path, monthly_run_en: Path) -> dict[str, Path]:
    return {"zh": monthly_run, "en": monthly_run_en}


@pytest.fixture(scope="session")
def pages(runs) -> dict[str, dict]:
    """What the browser shows of each report: headings, text, width, images, failed requests."""
    assert CHROMIUM, "Debian's chromium is required (make sysdeps installs it)"
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for lang, run in runs.items():
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            failed: list[str] = []
            page.on("requestfailed", lambda r, f=failed: f.append(r.url))
            page.goto((run / "report.html").as_uri(), wait_until="load")
            shot = run / f"report-{lang}.png"
            page.screenshot(path=str(shot), full_page=True)
            out[lang] = {
                "headings": page.eval_on_selector_all(
                    "section > h2", "hs => hs.map(h => h.innerText)"
                ),
                "text": page.inner_text("body"),
                "scroll_width": page.evaluate("document.documentElement.scrollWidth"),
                "images": page.evaluate(
                    "Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth > 0])"
                ),
                "code": page.locator(".jp-InputArea, .input_area").count(),
                "failed": failed,
                "shot": shot,
            }
            page.close()
        browser.close()
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_shows_every_section_and_fits_the_window(pages, lang):
    pg = pages[lang]
    assert pg["headings"] == HEADINGS[lang]
    assert pg["scroll_width"] <= WIDTH, "something is wider than a 1280-px window"
    assert len(pg["images"]) >= 12
    assert not [alt for alt, ok in pg["images"] if not ok], "images that did not load"
    for bad in (
        "Traceback",
        "Error",
        "Exception",
        "NaN",
        "nan%",
        "本节生成失败",
        "could not be built",
        "不可用",
    ):
        assert bad not in pg["text"], f"{bad!r} in the {lang} report"
    assert pg["code"] == 0 and not pg["failed"]  # no code cells; self-contained
    assert pg["shot"].stat().st_size > 100_000


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_code_names_on_the_page(pages, lang):
    text = MASKED_ID.sub("", pages[lang]["text"])  # customer ids excepted
    tokens = sorted(set(re.findall(r"[a-z]+_[a-z]+", text)))
    assert not tokens, f"snake_case on the {lang} page: {tokens[:10]}"
    if lang == "zh":  # and the summary speaks the manager's units
        summary = text.split("客户生命周期")[0]
        assert "万元" in summary and "%" in summary and "个百分点" in summary


def test_summary_has_the_months_numbers(pages):
    text = pages["zh"]["text"]
    summary = text[text.index("本月摘要") : text.index("客户生命周期")]
    for phrase in (
        "基盘客户",
        "流失概率",
        "A+B",
        "目标",
        "本月计划联系",
        "95% 区间",
        "对照组",
        "数据质量",
    ):
        assert phrase in summary, phrase


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_missing_glyphs_in_executed_notebooks(runs, lang):
    for nb in sorted((runs[lang] / "notebooks").glob("*.ipynb")):
        doc = json.loads(nb.read_text(encoding="utf-8"))
        outputs = json.dumps([c.get("outputs", []) for c in doc["cells"]], ensure_ascii=False)
        assert "missing from font" not in outputs, f"missing glyphs in {nb.name}"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pdf_beside_the_html(runs, lang):
    pdf = runs[lang] / "report.pdf"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    assert pages > len(HEADINGS[lang]) - 1, f"{pages} pages: sections should start new pages"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_department_files_for_excel(runs, lang):
    from openpyxl import load_workbook

    from cvm.campaigns.lists import LIST_COLUMNS

    csvs = sorted((runs[lang] / "campaigns").glob("*.csv"))
    assert csvs
    for f in csvs:
        assert f.read_bytes().startswith(b"\xef\xbb\xbf"), f"{f.name} has no BOM"
        df = pd.read_csv(f, encoding="utf-8-sig")
        assert list(df.columns)[: len(LIST_COLUMNS)] == LIST_COLUMNS
        assert df["expected_incremental_value"].dtype.kind == "i"
        if lang == "zh":
            assert not df["reasons"].str.contains(r"[A-Za-z]{2,}").any(), f.name
        ws = load_workbook(f.with_suffix(".xlsx"), read_only=True).active
        head = [c.value for c in next(ws.iter_rows(max_row=1))]
        assert head[0] == ("客户编号" if lang == "zh" else "Customer")
    assert (runs[lang] / "leads" / "sales_leads.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_no_names_or_phone_numbers_leak(runs, sim_dir: Path):
    customers = pd.read_parquet(sim_dir / "customers.parquet", columns=["name", "phone"])
    names = set(customers["name"].dropna())
    phones = set(customers["phone"].dropna())
    assert names and phones
    for run in runs.values():
        files = [run / "report.html", *sorted((run / "notebooks").glob("*.ipynb"))]
        for f in files:
            text = f.read_text(encoding="utf-8")
            found_names = set(re.findall(r"[\u4e00-\u9fff]{2,4}", text)) & names
            found_phones = set(re.findall(r"1[3-9]\d{9}", text)) & phones
            assert not found_names, f"{f.name} shows customer names, e.g. {sorted(found_names)[:1]}"
            assert not found_phones, f"{f.name} shows phone numbers"
