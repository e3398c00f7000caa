"""A chart is drawn once a run and reused only for the same inputs, language and version."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from cvm.reporting.figure_cache import once


def _ctx(root: Path, lang: str = "zh") -> SimpleNamespace:
    return SimpleNamespace(lang=lang, path=lambda name: root / "artifacts" / f"{name}.bin")


def test_a_chart_is_reused_only_for_the_same_inputs_and_language(tmp_path: Path):
    calls: list[str] = []

    def draw(text: str):
        return lambda: calls.append(text) or f"<img {text}>"

    ctx = _ctx(tmp_path)
    (tmp_path / "artifacts").mkdir()
    ctx.path("vals").write_bytes(b"shap values v1")
    assert once(ctx, "fig", ("vals",), draw("a")) == "<img a>"
    assert once(ctx, "fig", ("vals",), draw("b")) == "<img a>"  # the kept copy, not drawn
    assert calls == ["a"]
    assert once(_ctx(tmp_path, "en"), "fig", ("vals",), draw("en")) == "<img en>"  # language
    ctx.path("vals").write_bytes(b"shap values v2")  # the model was retrained
    assert once(ctx, "fig", ("vals",), draw("c")) == "<img c>"
    assert calls == ["a", "en", "c"]
