"""The report opened in a real headless Chromium: sections, images, no error text, a screenshot."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cvm.reporting.report import SECTION_IDS

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_report_renders_in_headless_chromium(monthly_run: Path, tmp_path: Path):
    assert CHROMIUM, "Debian's chromium is required (make sysdeps installs it)"
    from playwright.sync_api import sync_playwright

    report = monthly_run / "report.html"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        failed: list[str] = []
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(report.as_uri(), wait_until="load")
        for sid in SECTION_IDS:
            assert page.locator(f"section#{sid} h2").count() == 1, f"section {sid} missing"
        images = page.evaluate(
            "Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth > 0])")
        assert len(images) >= 8
        broken = [alt for alt, ok in images if not ok]
        assert not broken, f"images that did not load: {broken}"
        text = page.inner_text("body")
        for bad in ("Traceback", "Error", "Exception", "NaN%", "不可用"):
            assert bad not in text, f"{bad!r} in the report text"
        # no code cells
        assert page.locator(".jp-InputArea, .input_area").count() == 0
        # the page asks for nothing over the network: it is self-contained
        assert not failed, failed
        shot = monthly_run / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert shot.stat().st_size > 50_000
    shutil.copy(shot, tmp_path / "report.png")


def test_no_names_or_phone_numbers_leak(monthly_run: Path, sim_dir: Path):
    customers = pd.read_parquet(sim_dir / "customers.parquet", columns=["name", "phone"])
    names = set(customers["name"].dropna())
    phones = set(customers["phone"].dropna())
    assert names and phones
    files = [monthly_run / "report.html", *sorted((monthly_run / "notebooks").glob("*.ipynb"))]
    for f in files:
        text = f.read_text(encoding="utf-8")
        found_names = set(re.findall(r"[\u4e00-\u9fff]{2,4}", text)) & names
        found_phones = set(re.findall(r"1[3-9]\d{9}", text)) & phones
        assert not found_names, f"{f.name} shows customer names, e.g. {sorted(found_names)[:1]}"
        assert not found_phones, f"{f.name} shows phone numbers"
