"""Value as the store earns it: every payer's revenue x the margin of its payer and visit type;
a bad margin table stops the run with exit 2 naming the key."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cvm.cli import app
from cvm.config import CvmError, load_config
from cvm.features.margin import future_margin, margin_table, visit_margin


def test_every_payer_counts_at_its_margin():
    t = margin_table()
    v = pd.DataFrame(
        {
            "customer_id": ["A", "A", "B", "B", "C"],
            "visit_date": pd.to_datetime(
                ["2024-01-05", "2024-02-01", "2024-01-10", "2024-03-01", "2024-01-20"]
            ),
            "amount": [1000.0, 8000.0, 500.0, 0.0, 300.0],
            "visit_type": ["maintenance", "accident", "warranty", "first_service", None],
            "payer": ["customer", "insurer", "warranty", "free", None],
        }
    )
    m = visit_margin(v)
    assert np.allclose(
        m,
        [
            1000 * t["customer"]["maintenance"],
            8000 * t["insurer"]["accident"],
            500 * t["warranty"]["warranty"],
            0.0,
            300 * t["customer"]["unknown"],
        ],
    )
    y = future_margin(v, "2024-01-01", 1, customers=pd.Index(["A", "B", "C", "D"]))
    assert y["D"] == 0.0  # (2024-01-01, 2024-02-01]: A's two visits, B's first, C's
    assert np.isclose(y["A"], m[0] + m[1]) and np.isclose(y["B"], m[2]) and np.isclose(y["C"], m[4])
    # visits-only data: no payer column, no type -> the unknown type's margin blended over the
    # assumed revenue mix by payer (value.unknown_payer_mix), not the customer-paid one
    only = v[["customer_id", "visit_date", "amount"]]
    mix = load_config("value")["unknown_payer_mix"]
    blend = sum(mix[p] * t[p]["unknown"] for p in ("customer", "insurer", "warranty"))
    assert blend < t["customer"]["unknown"]
    assert np.allclose(visit_margin(only), v["amount"] * blend)
    typed = v[["customer_id", "visit_date", "amount", "visit_type"]]
    assert np.isclose(
        visit_margin(typed)[0],
        1000 * sum(mix[p] * t[p]["maintenance"] for p in ("customer", "insurer", "warranty")),
    )


@pytest.mark.parametrize(
    "mix, key",
    [
        ({"customer": 0.5, "insurer": 0.3, "warranty": 0.1}, "sum to 0.9"),
        ({"customer": 1.2, "insurer": -0.1, "warranty": -0.1}, "unknown_payer_mix.customer"),
        ({"customer": 0.6, "insurer": 0.3, "warranty": 0.05, "free": 0.05}, "every payer"),
    ],
)
def test_bad_unknown_payer_mix_names_the_key(mix, key):
    from cvm.data.margin import unknown_payer_rates

    with pytest.raises(CvmError, match=key):
        unknown_payer_rates({"value": {"unknown_payer_mix": mix}})


@pytest.mark.parametrize(
    "override, key",
    [
        (
            {"margin": {"insurer": {"accident": 1.5}}},
            "margin.insurer.accident = 1.5 is outside [0, 1]",
        ),
        ({"margin": {"warranty": {"repair": -0.1}}}, "margin.warranty.repair = -0.1 is outside"),
        (
            {"margin": {"customer": {"other": "high"}}},
            "margin.customer.other = 'high' is not a number",
        ),
    ],
)
def test_bad_margin_names_the_key(override, key):
    with pytest.raises(
        CvmError, match=key.replace(".", r"\.").replace("[", r"\[").replace("(", r"\(")
    ):
        margin_table({"value": override})


@pytest.mark.parametrize(
    "overlay, words",
    [
        ("insurer: {accident: 3.5}", "margin.insurer.accident = 3.5 is outside [0, 1]"),
        ("customer: {other: high}", "'margin.customer.other' in"),
    ],
)
def test_monthly_refuses_a_bad_margin_table_before_any_work(tmp_path, monkeypatch, overlay, words):
    """As a user would: a ``configs/value.yaml`` overlay in the home folder (``--home``)."""
    home = tmp_path / "store"
    # --home sets CVM_HOME and moves into the home: both are put back after the test
    monkeypatch.setenv("CVM_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    (home / "configs").mkdir(parents=True)
    (home / "configs" / "value.yaml").write_text(f"margin:\n  {overlay}\n", encoding="utf-8")
    data = home / "data"
    data.mkdir()
    (data / "visits.csv").write_text(
        "customer_id,visit_date,amount\nC1,2024-01-05,100\n", encoding="utf-8"
    )
    out = home / "reports"
    res = CliRunner().invoke(
        app,
        ["--home", str(home), "monthly", "--data", str(data), "--as-of", "2024-01-31"],
    )
    assert res.exit_code == 2, res.output
    assert words in res.output and "configs/value.yaml" in res.output
    assert "Traceback" not in res.output and not out.exists()


def test_visit_margin_by_codes_equals_the_rule_cell_by_cell() -> None:
    """The rates looked up by integer codes equal amount × margin[payer][type] visit by visit:
    a missing payer is the customer, a missing or unknown type the payer's ``unknown`` rate,
    a payer outside the table earns nothing; without a payer column, the blended rates."""
    import numpy as np
    import pandas as pd

    from cvm.config import load_config
    from cvm.data.margin import MARGIN_TYPES, margin_table, unknown_payer_rates
    from cvm.features.margin import visit_margin

    cfg = load_config()
    t = margin_table(cfg)
    rng = np.random.default_rng(3)
    payers = [*t, None, "martian"]
    types = [*MARGIN_TYPES, None, "teleport"]
    v = pd.DataFrame(
        {
            "amount": rng.uniform(-50, 3000, 400),
            "payer": pd.array(rng.choice(np.array(payers, dtype=object), 400), dtype="str"),
            "visit_type": pd.array(rng.choice(np.array(types, dtype=object), 400), dtype="str"),
        }
    )

    def rule(payer, vt, table):
        p = "customer" if payer is None or payer is pd.NA or payer != payer else payer
        x = "unknown" if vt is None or vt is pd.NA or vt != vt else vt
        if p not in table:
            return 0.0
        return table[p][x] if x in MARGIN_TYPES else table[p]["unknown"]

    want = [
        max(a, 0.0) * rule(p, x, t)
        for a, p, x in zip(v["amount"], v["payer"], v["visit_type"], strict=True)
    ]
    np.testing.assert_array_equal(visit_margin(v, cfg), np.array(want))
    blend = {"blend": unknown_payer_rates(cfg)}
    want = [
        max(a, 0.0) * rule("blend", x, blend)
        for a, x in zip(v["amount"], v["visit_type"], strict=True)
    ]
    np.testing.assert_array_equal(visit_margin(v.drop(columns="payer"), cfg), np.array(want))
    assert len(visit_margin(v.iloc[:0], cfg)) == 0
