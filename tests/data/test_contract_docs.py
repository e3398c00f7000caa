"""data/README.md is generated from the contract; the committed file must be up to date."""

from __future__ import annotations

from cvm.data.contract import TABLES
from cvm.data.docs import README, contract_markdown


def test_committed_readme_matches_the_contract() -> None:
    assert README.read_text(encoding="utf-8") == contract_markdown(), (
        "data/README.md is stale: run `python -m cvm.data.docs` and commit it"
    )


def test_readme_documents_every_table_and_column() -> None:
    text = contract_markdown()
    for spec in TABLES.values():
        assert f"## `{spec.name}`" in text
        for col in spec.columns:
            assert f"| `{col.name}` |" in text
