"""Property: a random table in a random CSV / Excel dress, with a random defect or none, either
loads with exactly its values or is refused with the defect's exit-2 problem. Never an
exception, never a silently changed value."""

from __future__ import annotations

import math
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvm.data.loaders import load_tables
from cvm.data.problems import DataValidationError
from cvm.data.validate import validate_source

AS_OF = date(2024, 12, 31)
HEADERS = {
    "plain": ["customer_id", "visit_date", "amount"],
    "chinese": ["客户编号", "进厂日期", "结算金额"],
}
# defect → the check that must report it
DEFECTS = {
    "none": None,
    "garbage": "not_a_number",
    "inf": "not_finite",
    "huge": "implausible_value",
    "nul_id": "control_characters",
    "duplicate_header": "duplicate_header",
    "mixed_decimal": "mixed_decimal",
    "bad_date": "not_a_date",
    "empty_required": "missing_value",
}
EXCEL_DEFECTS = ["none", "garbage", "huge", "duplicate_header", "bad_date", "empty_required"]

ids = st.one_of(
    st.integers(1, 10**9).map(str),
    st.integers(0, 9999).map(lambda n: f"{n:04d}"),
    st.from_regex(r"[A-Z]{1,2}[0-9]{1,6}", fullmatch=True),
)
rows = st.lists(
    st.tuples(ids, st.integers(0, 3000), st.integers(0, 99_999_999)), min_size=2, max_size=12
)


def _amount_text(cents: int, style: str) -> str:
    whole, frac = divmod(cents, 100)
    if style == "point":
        return f"{whole}.{frac:02d}"
    if style == "thousands":
        return f"{whole:,}.{frac:02d}"
    return f"{whole:,}".replace(",", ".") + f",{frac:02d}"  # decimal comma


def _quote(cell: str, sep: str) -> str:
    return f'"{cell}"' if sep in cell else cell


CASES = [("csv", d) for d in DEFECTS] + [("xlsx", d) for d in EXCEL_DEFECTS]


@pytest.mark.parametrize("fmt, defect", CASES)
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=rows,
    sep=st.sampled_from([",", ";", "\t"]),
    enc=st.sampled_from(["utf-8", "gb18030"]),
    style=st.sampled_from(["point", "thousands", "comma"]),
    headers=st.sampled_from(list(HEADERS)),
    id_float=st.booleans(),
    where=st.integers(0, 11),
)
def test_random_tables_load_exactly_or_are_refused(
    fmt, defect, data, sep, enc, style, headers, id_float, where
) -> None:
    n = len(data)
    row = where % n
    cids = [c for c, _, _ in data]
    days = [date(2016, 1, 1) + timedelta(days=d) for _, d, _ in data]
    cents = [a for _, _, a in data]
    head = list(HEADERS[headers])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if fmt == "csv":
            id_cells = [
                f"{c}.0" if id_float and c.isdigit() and not c.startswith("0") else c for c in cids
            ]
            date_cells = [d.isoformat() for d in days]
            amount_cells = [_amount_text(a, style) for a in cents]
            if defect == "garbage":
                amount_cells[row] = "待定"
            elif defect == "inf":
                amount_cells[row] = "inf"
            elif defect == "huge":
                amount_cells[row] = "3000000.00"
            elif defect == "nul_id":
                id_cells[row] = id_cells[row][:1] + "\x00" + id_cells[row][1:]
            elif defect == "mixed_decimal":
                other = "point" if style == "comma" else "comma"
                amount_cells[row] = _amount_text(cents[row] + 100_000, other)
            elif defect == "bad_date":
                date_cells[row] = "2024-13-45"
            elif defect == "empty_required":
                date_cells[row] = ""
            cols = [id_cells, date_cells, amount_cells]
            if defect == "duplicate_header":
                head.append(head[2])
                cols.append(amount_cells)
            lines = [sep.join(head)] + [sep.join(_quote(c[i], sep) for c in cols) for i in range(n)]
            (folder / "visits.csv").write_bytes(("\n".join(lines) + "\n").encode(enc))
        else:
            amount = [a / 100 for a in cents]
            frame = pd.DataFrame(
                {
                    head[0]: [int(c) if c.isdigit() and not c.startswith("0") else c for c in cids],
                    head[1]: pd.to_datetime(days),
                    head[2]: amount,
                }
            )
            frame = frame.astype({head[1]: object, head[2]: object})
            if defect == "garbage":
                frame.loc[row, head[2]] = "待定"
            elif defect == "huge":
                frame.loc[row, head[2]] = 3_000_000.0
            elif defect == "bad_date":
                frame.loc[row, head[1]] = "2024-13-45"
            elif defect == "empty_required":
                frame.loc[row, head[1]] = None
            if defect == "duplicate_header":
                frame = pd.concat([frame, frame[[head[2]]]], axis=1)
            frame.to_excel(folder / "visits.xlsx", index=False)

        report = validate_source(folder, as_of=AS_OF)  # never raises
        expected = DEFECTS[defect]
        if expected is None:
            assert report.ok, report.render()
            v = load_tables(folder, as_of=AS_OF)["visits"]
            assert v["customer_id"].tolist() == cids
            assert [d.date() for d in v["visit_date"]] == days
            for got, want in zip(v["amount"], cents, strict=True):
                assert math.isclose(got, want / 100, rel_tol=1e-12, abs_tol=1e-9)
        else:
            assert expected in {p.check for p in report.errors}, (defect, report.render())
            with pytest.raises(DataValidationError):
                load_tables(folder, as_of=AS_OF)
