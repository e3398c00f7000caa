"""Validation findings: one :class:`Problem` per (table, column, check), gathered in a report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from cvm.config import CvmError

Severity = Literal["error", "warning"]
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Problem:
    """One finding: where, how many rows, a few example rows (1-based data rows), and the fix.

    ``examples`` holds row numbers as they appear in the file (first data row = 1); ``message``
    may quote example values, but never values of personal-data (pii) columns.
    """

    table: str
    column: str
    check: str
    n_rows: int
    examples: tuple[int, ...]
    message: str
    fix: str
    severity: Severity = "error"
    file: str = ""

    def render(self) -> str:
        """One human-readable line (plus the fix)."""
        where = f"{self.table}.{self.column}" if self.column else self.table
        rows = ""
        if self.n_rows:
            rows = f" — {self.n_rows} row{'s' if self.n_rows != 1 else ''}"
            if self.examples:
                word = "rows" if len(self.examples) > 1 else "row"
                rows += f" (e.g. {word} {', '.join(str(r) for r in self.examples)})"
        src = f" [{self.file}]" if self.file else ""
        return f"{self.severity.upper():7s} {where}: {self.message}{rows}{src}\n        fix: {self.fix}"


@dataclass
class ValidationReport:
    """Everything found in one data source; ``ok`` when there are no errors."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)  # table → rows read
    source: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, problem: Problem) -> None:
        (self.errors if problem.severity == "error" else self.warnings).append(problem)

    def extend(self, problems: list[Problem]) -> None:
        for p in problems:
            self.add(p)

    def render(self) -> str:
        """The report as text: a summary line, then every error and warning with its fix."""
        head = f"data: {self.source}" if self.source else "data"
        found = ", ".join(f"{t} ({n} rows)" for t, n in self.tables.items()) or "none"
        lines = [head, f"tables: {found}"]
        if not self.errors and not self.warnings:
            lines.append("no problems found: the data meets the contract.")
            return "\n".join(lines)
        lines.append(
            f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
            + ("" if self.errors else ": no errors, the data is usable.")
        )
        lines += [p.render() for p in self.errors + self.warnings]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (for ``metrics.json``'s data quality)."""
        return {
            "ok": self.ok,
            "tables": dict(self.tables),
            "errors": [asdict(p) for p in self.errors],
            "warnings": [asdict(p) for p in self.warnings],
        }


class DataValidationError(CvmError):
    """Raised by ``load_tables(validate=True)`` when the data has errors; carries the report."""

    def __init__(self, report: ValidationReport) -> None:
        super().__init__(report.render())
        self.report = report


def examples(mask_or_index: Any, limit: int = MAX_EXAMPLES) -> tuple[int, ...]:
    """The first few 1-based data-row numbers of a boolean mask or an index of 0-based rows."""
    import numpy as np

    arr = np.asarray(mask_or_index)
    pos = np.flatnonzero(arr) if arr.dtype == bool else np.sort(arr.astype("int64"))
    return tuple(int(p) + 1 for p in pos[:limit])
