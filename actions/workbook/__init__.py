"""Reading the official workbooks of the CALPAE (import of legacy spreadsheets), without Django.

    from actions.workbook import read_workbook, WorkbookError

    try:
        parsed = read_workbook(data, "tableau-2022.xlsx")
    except WorkbookError as error:
        ...  # the file is refused: str(error) says why, in French
    parsed.layout, parsed.themes, parsed.actions, parsed.printed_totals, parsed.problems

- ``files.open_workbook`` checks the file (size, type by content, zip bombs, XML entities)
  and opens it as grids of cells (``grid.Sheet``, merged ranges resolved);
- ``layouts.find_header`` recognises the table by its header texts;
- ``parse.parse_workbook`` reads the financial table and the indicator matrix into the frozen
  dataclasses of ``model``, and ``checks`` compares the printed totals with the rows;
- ``text.match_theme`` matches a printed thème to the national catalogue.

Nothing here touches the database: the writer (import command, upload page) does.
"""

from actions.workbook.amounts import AmountReading, read_amount
from actions.workbook.files import Book, Limits, open_workbook
from actions.workbook.layouts import AMENDMENT_TABLE_KEYS, Layout
from actions.workbook.model import (
    Block,
    MatrixPeriod,
    MatrixRow,
    MatrixRowKind,
    MatrixValue,
    ParsedAction,
    ParsedAmount,
    ParsedMatrix,
    ParsedTheme,
    ParsedWorkbook,
    PlaceholderKind,
    PlaceholderRow,
    PrintedTotal,
    SharedAmount,
    TotalKind,
)
from actions.workbook.parse import parse_workbook
from actions.workbook.problems import Problem, ProblemCode, Severity, WorkbookError
from actions.workbook.text import Chorus, chorus_code, match_theme, normalize, parse_chorus


def read_workbook(data: bytes, filename: str, *, limits: Limits | None = None) -> ParsedWorkbook:
    """Open and parse an uploaded file; raises :class:`WorkbookError` if it is refused."""
    return parse_workbook(open_workbook(data, filename, limits=limits))


__all__ = [
    "AMENDMENT_TABLE_KEYS",
    "AmountReading",
    "Block",
    "Book",
    "Chorus",
    "Layout",
    "Limits",
    "MatrixPeriod",
    "MatrixRow",
    "MatrixRowKind",
    "MatrixValue",
    "ParsedAction",
    "ParsedAmount",
    "ParsedMatrix",
    "ParsedTheme",
    "ParsedWorkbook",
    "PlaceholderKind",
    "PlaceholderRow",
    "PrintedTotal",
    "Problem",
    "ProblemCode",
    "Severity",
    "SharedAmount",
    "TotalKind",
    "WorkbookError",
    "chorus_code",
    "match_theme",
    "normalize",
    "open_workbook",
    "parse_chorus",
    "parse_workbook",
    "read_amount",
    "read_workbook",
]
