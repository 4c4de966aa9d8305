"""What can go wrong when reading a workbook: a refused file, or problems found in its cells.

A file that cannot be read at all (wrong type, damaged, too large, a zip bomb, forbidden XML)
raises :class:`WorkbookError`. Everything else is a :class:`Problem` attached to the parsed
result, with its place in the sheet (sheet, row, column letter) and a message in French.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class WorkbookError(Exception):
    """The file is refused before any table is read; ``str(error)`` is the French message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Severity(StrEnum):
    """How a problem weighs on the import.

    - ``ERROR`` — the import cannot be done as is (unreadable amount, action without thème…);
    - ``MISMATCH`` — a printed figure disagrees with the rows (sub-total, total, F = A+…+E): the
      import goes on only if the user accepts it (``--accept-printed-mismatch``);
    - ``WARNING`` — to be read, does not stop the import;
    - ``INFO`` — how something was understood (ignored column, repeated header…).
    """

    ERROR = "error"
    MISMATCH = "mismatch"
    WARNING = "warning"
    INFO = "info"

    @property
    def label(self) -> str:
        return SEVERITY_LABELS[self]


SEVERITY_LABELS = {
    Severity.ERROR: "Erreur",
    Severity.MISMATCH: "Écart",
    Severity.WARNING: "Avertissement",
    Severity.INFO: "Information",
}


class ProblemCode(StrEnum):
    LAYOUT_UNKNOWN = "layout_unknown"
    COLUMN_MISSING = "column_missing"
    COLUMN_IGNORED = "column_ignored"
    COLUMN_DUPLICATED = "column_duplicated"
    HEADER_LETTER = "header_letter"
    SHEET_IGNORED = "sheet_ignored"
    REPEATED_HEADER = "repeated_header"
    ROW_NOT_UNDERSTOOD = "row_not_understood"
    AMOUNT_UNREADABLE = "amount_unreadable"
    AMOUNT_NEGATIVE = "amount_negative"
    AMOUNT_NOT_QUANTIFIED = "amount_not_quantified"
    AMOUNT_ROUNDED = "amount_rounded"
    AMOUNT_COMPUTED = "amount_computed"
    AMOUNT_NOTE = "amount_note"
    AMOUNT_ON_PLACEHOLDER = "amount_on_placeholder"
    FORMULA_WITHOUT_VALUE = "formula_without_value"
    ACTION_WITHOUT_TITLE = "action_without_title"
    ACTION_WITHOUT_THEME = "action_without_theme"
    NUMBER_DUPLICATED = "number_duplicated"
    CHORUS_CONFLICT = "chorus_conflict"
    SHARED_AMOUNT = "shared_amount"
    SHARED_AMOUNT_REPEATED = "shared_amount_repeated"
    TOTAL_MISMATCH = "total_mismatch"
    TOTAL_NOT_CHECKED = "total_not_checked"
    ROW_SUM_MISMATCH = "row_sum_mismatch"
    ROW_SUM_MISSING = "row_sum_missing"
    VALORISATION_EXCEEDS_CD = "valorisation_exceeds_cd"
    ENVELOPE_EXCEEDED = "envelope_exceeded"
    # For the writer, which matches thèmes against the catalogue with the database.
    THEME_UNKNOWN = "theme_unknown"


@dataclass(frozen=True)
class Problem:
    """One problem, placed in the sheet.

    ``row`` is the sheet's row number (1-based, as the spreadsheet shows it), ``column`` the
    column letter ("H"), ``cell`` the reference ("H12") when one cell is meant. ``printed`` and
    ``computed`` carry both amounts of a mismatch. ``message`` does not repeat the place:
    ``str(problem)`` gives "Feuille « Exécution 2022 », cellule H12 : <message>".
    """

    severity: Severity
    code: ProblemCode
    message: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    cell: str | None = None
    printed: Decimal | None = None
    computed: Decimal | None = None

    @property
    def location(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"Feuille « {self.sheet} »")
        if self.cell:
            parts.append(f"cellule {self.cell}")
        else:
            if self.row is not None:
                parts.append(f"ligne {self.row}")
            if self.column:
                parts.append(f"colonne {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.location} : {self.message}" if self.location else self.message
