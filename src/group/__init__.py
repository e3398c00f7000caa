"""Dealer groups: many stores in one run (budgets by store, plans by store, the league table).

Used only when the data have more than one store (``cvm.features.stores.is_multi_store``);
one store's run never enters here. See docs/dealer-groups.md.
"""
