"""The figures of a transmitted report, frozen, and the comparison of two versions (pure).

At each transmission the application keeps, beside the files, the figures they print: every
amount of the financial tables (by row and column) and every value of the indicator matrix (by
indicator and period). Stored as JSON (amounts as decimal strings, never floats), they let a
reviewer see what changed between two versions, figure by figure, without re-reading PDFs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

from reports.formatting import format_euros
from reports.matrix import IndicatorMatrix, MatrixRowKind
from reports.tables import FinancialTable

# Documents whose figures are kept, in the order of the comparison.
FIGURE_DOCUMENTS = ("financial-table", "previsionnel-table", "indicators")


def table_figures(table: FinancialTable) -> dict[str, dict[str, str]]:
    """``{row label: {column header: amount}}``: each row of the table by what it prints
    (« 4.1 Accompagnement… », « Sous-total Insertion… », « TOTAUX FINANCIERS »)."""
    headers = {column.key: _one_line(column.header) for column in table.columns}
    figures: dict[str, dict[str, str]] = {}
    for row in table.rows:
        label = " ".join(part for part in (row.number, row.title) if part) or " ".join(
            part for part in (row.theme_label, row.kind.value) if part
        )
        amounts = {
            headers.get(key, key): str(value)
            for key, value in row.amounts.items()
            if value is not None
        }
        figures[_unique(figures, label)] = amounts
    return figures


def matrix_figures(matrix: IndicatorMatrix) -> dict[str, dict[str, str]]:
    """``{indicator: {period or target header: value as printed}}``."""
    figures: dict[str, dict[str, str]] = {}
    for row in matrix.rows:
        if row.kind != MatrixRowKind.INDICATOR:
            continue
        values = {
            _one_line(column.header): cell.raw
            for column, cell in zip(matrix.period_columns, row.cells, strict=True)
            if cell.raw
        }
        if row.target.raw:
            values["Objectif"] = row.target.raw
        figures[_unique(figures, row.label)] = values
    return figures


def frozen_figures(computed: dict) -> dict:
    """The figures of a year's computed documents (``reports.documents.read_documents``), by
    document, as a version stores them (``stored``)."""
    figures = {
        slug: table_figures(computed[slug])
        for slug in ("financial-table", "previsionnel-table")
        if computed.get(slug) is not None
    }
    if computed.get("indicators") is not None:
        figures["indicators"] = matrix_figures(computed["indicators"])
    return stored(figures)


def canonical_json(figures: dict) -> str:
    return json.dumps(figures, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def figures_sha256(figures: dict) -> str:
    return hashlib.sha256(canonical_json(figures).encode()).hexdigest()


@dataclass(frozen=True)
class FigureChange:
    document: str
    row: str
    column: str
    before: str | None  # None: absent from the earlier version
    after: str | None

    @property
    def is_amount(self) -> bool:
        return self.document != "indicators"

    @property
    def difference(self) -> Decimal | None:
        """After − before, for an amount of a financial table."""
        if not self.is_amount:
            return None
        return Decimal(self.after or "0") - Decimal(self.before or "0")

    @property
    def before_text(self) -> str:
        return _printed(self.before, self.is_amount)

    @property
    def after_text(self) -> str:
        return _printed(self.after, self.is_amount)


def _printed(value: str | None, is_amount: bool) -> str:
    if value is None:
        return "—"
    return format_euros(Decimal(value)) if is_amount else value


def stored(figures: dict) -> dict:
    """The figures as stored: rows and columns as lists of pairs, since PostgreSQL's ``jsonb``
    does not keep the order of an object's keys (and the comparison lists rows in order)."""
    return {
        document: [[row, list(values.items())] for row, values in rows.items()]
        for document, rows in figures.items()
    }


def read_back(stored_figures: dict) -> dict:
    return {
        document: {row: dict(values) for row, values in rows}
        for document, rows in stored_figures.items()
    }


def compare(before: dict, after: dict) -> list[FigureChange]:
    """Every figure that differs between two versions' figures (as stored), in document and
    row order."""
    before, after = read_back(before), read_back(after)
    changes = []
    for document in FIGURE_DOCUMENTS:
        old_rows, new_rows = before.get(document, {}), after.get(document, {})
        for row in [*new_rows, *(r for r in old_rows if r not in new_rows)]:
            old, new = old_rows.get(row, {}), new_rows.get(row, {})
            for column in [*new, *(c for c in old if c not in new)]:
                if old.get(column) != new.get(column):
                    changes.append(
                        FigureChange(document, row, column, old.get(column), new.get(column))
                    )
    return changes


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _unique(existing: dict, label: str) -> str:
    """A label printed twice (two « Sous-total » of the same thème name) gets a rank."""
    if label not in existing:
        return label
    rank = 2
    while f"{label} ({rank})" in existing:
        rank += 1
    return f"{label} ({rank})"
