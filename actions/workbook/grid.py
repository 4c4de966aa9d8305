"""A sheet as a grid of cells, with its merged ranges resolved.

Rows and columns are numbered from 1, as a spreadsheet shows them; ``cell_ref(12, 2)`` is
"B12". A merged range keeps its value in its top-left cell only (that is how every format
stores it); :meth:`Sheet.value` gives that value to every cell of the range, and
:meth:`Sheet.merge_at` the range itself, so that an amount merged over a thème's three rows is
recognised as one amount spanning them, not three.

The grid is sparse: only non-empty cells are stored, so a stray cell at row 1 000 000 costs
nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from actions.workbook.amounts import raw_text
from actions.workbook.problems import WorkbookError

CellValue = str | int | float | Decimal | bool | datetime.date | datetime.time | datetime.timedelta

# Cells of merged ranges indexed at most (ranges are clipped to the used area first).
MAX_MERGED_CELLS = 2_000_000


def column_letter(column: int) -> str:
    """1 → "A", 27 → "AA"."""
    letters = ""
    while column > 0:
        column, remainder = divmod(column - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def cell_ref(row: int, column: int) -> str:
    return f"{column_letter(column)}{row}"


@dataclass(frozen=True, order=True)
class CellRange:
    """A rectangle of cells, bounds included (a merged range)."""

    min_row: int
    min_col: int
    max_row: int
    max_col: int

    @property
    def ref(self) -> str:
        """ "H12:H14", or "H12" for a single cell."""
        start = cell_ref(self.min_row, self.min_col)
        if (self.min_row, self.min_col) == (self.max_row, self.max_col):
            return start
        return f"{start}:{cell_ref(self.max_row, self.max_col)}"

    @property
    def height(self) -> int:
        return self.max_row - self.min_row + 1

    @property
    def width(self) -> int:
        return self.max_col - self.min_col + 1

    def contains(self, row: int, column: int) -> bool:
        return self.min_row <= row <= self.max_row and self.min_col <= column <= self.max_col


@dataclass
class Sheet:
    """One sheet: its non-empty cells, its merged ranges and a few cell properties.

    - ``cells``: ``{(row, column): value}`` for non-empty cells only;
    - ``merged``: the merged ranges;
    - ``indents``: indentation of a text cell (the spreadsheet's indent, or leading spaces),
      which marks the "dont …" sub-indicators of the indicator matrix;
    - ``percent``: numeric cells shown as a percentage (0.95 shown "95 %");
    - ``formulas_without_value``: formula cells saved without their computed value (a file
      written by a program that does not calculate): the reader sees them empty.
    """

    name: str
    cells: Mapping[tuple[int, int], CellValue]
    merged: tuple[CellRange, ...] = ()
    indents: Mapping[tuple[int, int], int] = field(default_factory=dict)
    percent: frozenset[tuple[int, int]] = frozenset()
    formulas_without_value: frozenset[tuple[int, int]] = frozenset()

    def __post_init__(self) -> None:
        self.max_row = max((row for row, _column in self.cells), default=0)
        self.max_col = max((column for _row, column in self.cells), default=0)
        self._by_row: dict[int, dict[int, CellValue]] = {}
        for (row, column), value in self.cells.items():
            self._by_row.setdefault(row, {})[column] = value
        self._rows = sorted(self._by_row)
        self._merge_index: dict[tuple[int, int], CellRange] = {}
        budget = MAX_MERGED_CELLS
        for merged in self.merged:
            # A range beyond the used area covers nothing that is read.
            max_row = min(merged.max_row, self.max_row)
            max_col = min(merged.max_col, self.max_col)
            budget -= max(0, max_row - merged.min_row + 1) * max(0, max_col - merged.min_col + 1)
            if budget < 0:
                raise WorkbookError(
                    f"La feuille « {self.name} » contient des fusions de cellules trop étendues "
                    "pour être lues."
                )
            for row in range(merged.min_row, max_row + 1):
                for column in range(merged.min_col, max_col + 1):
                    self._merge_index[(row, column)] = merged

    # --- reading ---

    def raw(self, row: int, column: int) -> CellValue | None:
        """The value stored in this very cell (``None`` for the hidden cells of a merge)."""
        return self.cells.get((row, column))

    def merge_at(self, row: int, column: int) -> CellRange | None:
        return self._merge_index.get((row, column))

    def value(self, row: int, column: int) -> CellValue | None:
        """The value shown in this cell: that of the top-left cell of its merged range."""
        merged = self._merge_index.get((row, column))
        if merged is not None:
            return self.cells.get((merged.min_row, merged.min_col))
        return self.cells.get((row, column))

    def text(self, row: int, column: int) -> str:
        """The value shown, as cleaned text ("" for an empty cell)."""
        return raw_text(self.value(row, column))

    def own_text(self, row: int, column: int) -> str:
        """The text of this very cell; a merged range's text only in its top-left cell."""
        return raw_text(self.raw(row, column))

    def is_hidden_by_merge(self, row: int, column: int) -> bool:
        merged = self._merge_index.get((row, column))
        return merged is not None and (merged.min_row, merged.min_col) != (row, column)

    def row_numbers(self, start: int = 1) -> Iterable[int]:
        """The rows holding at least one non-empty cell, from ``start``, in order."""
        return (row for row in self._rows if row >= start)

    def row_cells(self, row: int) -> dict[int, CellValue]:
        """The non-empty cells of ``row``: ``{column: value}``, in column order."""
        return dict(sorted(self._by_row.get(row, {}).items()))

    def indent(self, row: int, column: int) -> int:
        return self.indents.get((row, column), 0)

    def is_percent(self, row: int, column: int) -> bool:
        return (row, column) in self.percent


def is_empty_value(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def leading_spaces(text: str) -> int:
    return len(text) - len(text.lstrip(" \u00a0\t"))
