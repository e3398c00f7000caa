"""A tiny hand-made dealer data set (independent of the simulator) and a writer for it.

Imported by the tests in this folder (``from dealer_fixture import ...``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

AS_OF = "2024-06-30"


def dealer_tables() -> dict[str, pd.DataFrame]:
    """Four customers, three vehicles, eight visits, two surveys: clean contract data."""
    customers = pd.DataFrame(
        {
            "customer_id": ["C001", "C002", "C003", "C004"],
            "created_date": pd.to_datetime(
                ["2019-03-02", "2020-07-15", "2021-01-09", "2022-11-30"]
            ),
            "name": ["张伟", "李娜", "王芳", "刘洋"],
            "phone": ["13800000001", "13800000002", None, "13800000004"],
            "gender": ["M", "F", "F", "M"],
            "birth_year": pd.array([1980, 1990, None, 1975], dtype="Int64"),
            "has_children": pd.array([True, False, None, True], dtype="boolean"),
            "city": ["广州", "深圳", "广州", None],
        }
    )
    vehicles = pd.DataFrame(
        {
            "vehicle_id": ["LSV0001", "LSV0002", "LSV0003"],
            "customer_id": ["C001", "C002", "C003"],
            "model": ["朗逸", "帕萨特", "途观"],
            "purchase_date": pd.to_datetime(["2019-03-01", "2020-07-10", "2021-01-05"]),
            "sold_by_store": pd.array([True, True, False], dtype="boolean"),
            "warranty_km": [100000.0, 100000.0, 100000.0],
        }
    )
    visits = pd.DataFrame(
        {
            "visit_id": [f"RO{i:04d}" for i in range(1, 9)],
            "customer_id": ["C001", "C001", "C002", "C002", "C003", "C004", "C001", "C003"],
            "vehicle_id": [
                "LSV0001",
                "LSV0001",
                "LSV0002",
                "LSV0002",
                "LSV0003",
                None,
                "LSV0001",
                "LSV0003",
            ],
            "visit_date": pd.to_datetime(
                [
                    "2019-09-01",
                    "2020-03-15",
                    "2020-12-20",
                    "2021-06-30",
                    "2022-02-02",
                    "2023-01-10",
                    "2023-08-08",
                    "2024-05-31",
                ]
            ),
            "amount": [0.0, 680.5, 1200.0, 450.0, 8800.0, 399.0, 720.0, 1530.25],
            "visit_type": [
                "first_service",
                "maintenance",
                "repair",
                "maintenance",
                "accident",
                "maintenance",
                "maintenance",
                "repair",
            ],
            "mileage_km": [5000.0, 12000.0, 20500.0, 31000.0, 15000.0, None, 41000.0, 30010.0],
            "quote_items_offered": pd.array([1, 3, 2, 2, 5, 1, 3, 4], dtype="Int64"),
        }
    )
    surveys = pd.DataFrame(
        {
            "survey_id": ["S1", "S2"],
            "customer_id": ["C001", "C002"],
            "visit_id": ["RO0002", "RO0003"],
            "survey_date": pd.to_datetime(["2020-03-20", "2020-12-28"]),
            "satisfaction": [5.0, 4.0],
        }
    )
    return {"customers": customers, "vehicles": vehicles, "visits": visits, "surveys": surveys}


def write_tables(
    tables: dict[str, pd.DataFrame], folder: Path, fmt: str = "csv", encoding: str = "utf-8"
) -> Path:
    """Write ``tables`` to ``folder`` as csv / parquet / xlsx (one file per table)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if fmt == "csv":
            frame.to_csv(folder / f"{name}.csv", index=False, encoding=encoding)
        elif fmt == "parquet":
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        elif fmt == "xlsx":
            frame.to_excel(folder / f"{name}.xlsx", index=False)
        else:
            raise ValueError(fmt)
    return folder
