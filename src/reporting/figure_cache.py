"""A chart drawn once a run: the notebook that shows it first keeps its HTML in the run folder,
keyed by a hash of the artifacts it is drawn from, the language and the cvm version; a later
notebook (the report) asking for the same chart of the same inputs reuses it instead of drawing
it again (matplotlib's beeswarm and PNG encoding are most of a SHAP chart's cost)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from cvm.fileio import write_text

log = logging.getLogger(__name__)


def once(ctx: Any, name: str, inputs: tuple[str, ...], render: Callable[[], str]) -> str:
    """``render()``'s HTML, or the copy kept under artifact ``name`` when it was drawn from
    the same ``inputs`` (artifact files) in the same language by the same cvm version."""
    from cvm import __version__

    key = hashlib.sha256(f"{__version__}|{ctx.lang}".encode())
    for a in inputs:
        f = ctx.path(a)
        key.update(f.read_bytes() if f.exists() else b"-")
    tag = f"<!-- cvm figure {key.hexdigest()} -->"
    path = ctx.path(name)
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if text.startswith(tag):
            return text[len(tag) :]
    html = render()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, tag + html)
    except OSError as err:  # a read-only folder: the chart is still shown
        log.debug("figure %s not kept: %s", name, err)
    return html
