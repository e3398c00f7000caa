"""The one i18n table (cvm.i18n): every entry in both languages, every caller's key in it."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from cvm.i18n import LABELS, LANGS, TEXT, t

SRC = Path(__file__).resolve().parents[1] / "src"
CALL = re.compile(r"""(?:\bt|\btext|\b_say)\(\s*(?:ctx,\s*)?["']([A-Za-z0-9_]+)["']""")
"""A literal key passed to ``t`` (``text`` where ``t`` is taken) or the report's ``_say``."""


def _fields(text: str) -> set[str]:
    return {f.split(".")[0] for _, f, _, _ in string.Formatter().parse(text) if f is not None}


def test_every_text_has_both_languages_with_the_same_placeholders():
    for key, entry in TEXT.items():
        assert set(entry) == set(LANGS), (key, set(entry))
        assert all(entry[lang].strip() or entry[lang] for lang in LANGS), key
        assert _fields(entry["zh"]) == _fields(entry["en"]), key
    for kind, table in LABELS.items():
        for code, pair in table.items():
            assert len(pair) == len(LANGS) and all(pair), (kind, code)


def test_a_missing_key_is_an_error_not_a_code_name_on_a_page():
    with pytest.raises(KeyError, match="no_such_key_here"):
        t("no_such_key_here", "zh")


def test_every_key_the_code_asks_for_is_in_the_table():
    asked = {
        (path.relative_to(SRC).as_posix(), key)
        for path in SRC.rglob("*.py")
        for key in CALL.findall(path.read_text(encoding="utf-8"))
    }
    assert len(asked) > 100  # the scan sees the callers (report, stores, leads, steps …)
    missing = sorted((where, key) for where, key in asked if key not in TEXT)
    assert not missing, missing


def test_keys_built_at_run_time_are_in_the_table():
    from cvm.campaigns.lists import _WORDS
    from cvm.reporting.report import SECTION_IDS

    built = [f"list_{w}" for w in _WORDS] + list(SECTION_IDS)
    built += [f"grade_verdict_{g}" for g in "ABCD"]
    built += [f"{m}_drivers{s}" for m in ("churn", "value") for s in ("", "_intro")]
    assert [k for k in built if k not in TEXT] == []


@pytest.mark.parametrize("lang", LANGS)
def test_placeholders_are_filled(lang):
    assert t("store_rank_of", lang, n=7).count("7") == 1
    assert "{" not in t("group_size", lang, n=2, customers=1200, active=800, ab_share=0.25)
