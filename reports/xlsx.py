"""The official financial tables as XLSX workbooks (openpyxl), in the official layout.

Third step of a report (STYLE.md habit 9): the computed :class:`~reports.tables.FinancialTable`
is only laid out here, nothing is computed. The sheet reproduces the template of the
*Tableau financier récapitulatif* (CALPAE.md §5.1 exécution, §5.2 prévisionnel): the title
block, the verbatim headers, one row per action, the thème and Chorus cells merged over the
thème's rows, the "Sous total" rows, the block sub-totals and "TOTAUX FINANCIERS".

- Amounts are numbers (never text) to the cent, shown as « 1 234,56 € » by the number format;
  an empty cell (``None``) stays empty, distinct from a printed 0,00 €.
- Sub-total and total rows hold the values computed by ``reports.tables``, not formulas: a
  formula's cached value would be missing until a spreadsheet recalculates it, and the PDF, the
  page and the workbook must show the same amounts.
- User text is always written as a string cell, so that "=HYPERLINK(…)" stays text and never
  becomes a formula (formula injection).
- The same table gives the same bytes: fixed document dates and fixed dates in the ZIP archive.

This module imports nothing from Django.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from itertools import groupby
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from reports.matrix import IndicatorMatrix, MatrixCell, MatrixRow, MatrixRowKind
from reports.tables import (
    BLOCK_LABELS,
    CENT,
    TEXT_HEADERS,
    TITLE_SUBCAPTION_EXECUTION,
    FinancialTable,
    RowKind,
    TableKind,
    TableRow,
    Template,
)

EURO_FORMAT = '#,##0.00 "€"'
"""Shown « 1 234,56 € » in a French locale (the group and decimal separators are the locale's)."""

# The dates written in the workbook when none is given: the same data gives the same bytes.
DEFAULT_TIMESTAMP = datetime.datetime(2019, 1, 1)
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest date a ZIP archive can hold

MAX_CELL_TEXT = 32_767  # Excel's limit on the characters of one cell

SHEET_TITLES = {
    Template.EXECUTION: "Exécution",
    Template.PLANNED: "Prévisionnel",
    Template.AMENDMENT_2020: "Avenant",
}

FONT_NAME = "Arial"
FONT_SIZE = 9
LINE_HEIGHT = 12.0  # points, one line of FONT_SIZE text
# Average characters of FONT_SIZE text per unit of column width (a unit is the width of a "0"
# in the default 11-point font); kept low so that the estimated row heights err on the tall side.
CHARS_PER_WIDTH_UNIT = 1.5

TEXT_WIDTHS = {"block": 14, "theme": 24, "chorus": 20, "number": 8, "title": 40, "comment": 40}
AMOUNT_WIDTH = 14.5

THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
THEME_ROW_KINDS = (RowKind.ACTION, RowKind.PLACEHOLDER, RowKind.THEME_SUBTOTAL)
FILLS = {
    RowKind.THEME_SUBTOTAL: PatternFill("solid", fgColor="F2F2F2"),
    RowKind.BLOCK_SUBTOTAL: PatternFill("solid", fgColor="D9D9D9"),
    RowKind.GRAND_TOTAL: PatternFill("solid", fgColor="BFBFBF"),
}


@dataclass(frozen=True)
class _Layout:
    """Positions of the columns (1-based) and of the rows of one sheet."""

    text_before: tuple[str, ...]  # (block,) theme, chorus, number, title
    amount_keys: tuple[str, ...]
    text_after: tuple[str, ...]  # comment
    header_row: int

    @property
    def keys(self) -> tuple[str, ...]:
        return (*self.text_before, *self.amount_keys, *self.text_after)

    @property
    def width(self) -> int:
        return len(self.keys)

    def column(self, key: str) -> int:
        return self.keys.index(key) + 1

    @property
    def first_body_row(self) -> int:
        return self.header_row + 1


def sheet_title(table: FinancialTable) -> str:
    """The sheet's name, "Exécution 2022", "Prévisionnel 2023" or "Avenant 2020" (31 characters
    at most)."""
    return f"{SHEET_TITLES[table.layout]} {table.year}"[:31]


def financial_table_xlsx(
    table: FinancialTable, *, generated_on: datetime.date | None = None
) -> bytes:
    """The table as an XLSX workbook of one sheet, in the layout of the official template.

    ``generated_on`` is printed in the page footer and recorded as the document's date; without
    it the workbook carries a fixed date, so that the same table always gives the same bytes.
    """
    layout = _Layout(
        text_before=table.text_columns_before,
        amount_keys=table.amount_keys,
        text_after=table.text_columns_after,
        header_row=len(table.title_lines) + 2,  # the title block, a blank row, the headers
    )
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title(table)

    _write_title(sheet, table, layout)
    _write_headers(sheet, table, layout)
    _write_body(sheet, table.rows, layout)
    _write_merged_amounts(sheet, table, layout)
    _set_page(sheet, table, layout, generated_on)

    return _save(workbook, title_lines=table.title_lines, generated_on=generated_on)


# --- Cells -------------------------------------------------------------------------------------


def _font(*, bold: bool = False, italic: bool = False, size: float = FONT_SIZE) -> Font:
    return Font(name=FONT_NAME, size=size, bold=bold, italic=italic)


def write_text(cell: Cell, text: str) -> None:
    """Write user text as a string cell, whatever it starts with.

    openpyxl turns a string starting with "=" into a formula; forcing the type keeps it a
    string, identical for the reader ("+1", "@SUM(A1)", a leading tab stay text as well).
    Line breaks become line feeds, the only break a cell shows (XML would read a raw carriage
    return back as a line feed anyway, and forms send CR LF); characters that XML cannot hold
    are dropped, and the text is cut to Excel's limit for one cell.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if len(text) > MAX_CELL_TEXT:
        text = text[: MAX_CELL_TEXT - 1] + "…"
    cell.value = text
    cell.data_type = "s"


def write_amount(cell: Cell, amount: Decimal | None) -> None:
    """An amount as a number to the cent with the euro format; ``None`` leaves the cell empty."""
    cell.number_format = EURO_FORMAT
    cell.alignment = Alignment(horizontal="right", vertical="center")
    if amount is not None:
        cell.value = Decimal(amount).quantize(CENT)


def _estimated_lines(text: str, width: float, *, bold: bool = False) -> int:
    """Lines that ``text`` takes once wrapped in a column of ``width`` units (an estimate)."""
    per_line = max(1, int(width * CHARS_PER_WIDTH_UNIT * (0.9 if bold else 1.0)))
    return sum(max(1, math.ceil(len(paragraph) / per_line)) for paragraph in text.split("\n"))


def _height(lines: int) -> float:
    return lines * LINE_HEIGHT + 3


# --- Title and headers -------------------------------------------------------------------------


def _column_widths(layout: _Layout) -> dict[str, float]:
    return {key: TEXT_WIDTHS.get(key, AMOUNT_WIDTH) for key in layout.keys}


def _write_title(sheet: Worksheet, table: FinancialTable, layout: _Layout) -> None:
    last = get_column_letter(layout.width)
    for index, line in enumerate(table.title_lines, start=1):
        cell = sheet.cell(row=index, column=1)
        write_text(cell, line)
        cell.font = _font(bold=True, size=12 if index == 1 else 10)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.merge_cells(f"A{index}:{last}{index}")
        sheet.row_dimensions[index].height = 18 if index == 1 else 15


def _header_texts(table: FinancialTable, layout: _Layout) -> dict[str, str]:
    headers = {column.key: column.header for column in table.columns}
    headers.update({key: TEXT_HEADERS[key] for key in (*layout.text_before, *layout.text_after)})
    return headers


def _write_headers(sheet: Worksheet, table: FinancialTable, layout: _Layout) -> None:
    widths = _column_widths(layout)
    headers = _header_texts(table, layout)
    lines = 1
    for key in layout.keys:
        column = layout.column(key)
        sheet.column_dimensions[get_column_letter(column)].width = widths[key]
        cell = sheet.cell(row=layout.header_row, column=column)
        header = headers[key]
        if key == "title" and table.kind == TableKind.EXECUTION:
            # "Intitulé de l'action" and, below it in italics, "une ligne par action financée".
            cell.value = CellRichText(
                f"{header}\n",
                TextBlock(
                    InlineFont(rFont=FONT_NAME, sz=FONT_SIZE, b=True, i=True),
                    TITLE_SUBCAPTION_EXECUTION,
                ),
            )
            header = f"{header}\n{TITLE_SUBCAPTION_EXECUTION}"
        else:
            write_text(cell, header)
        cell.font = _font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        lines = max(lines, _estimated_lines(header, widths[key], bold=True))
    sheet.row_dimensions[layout.header_row].height = _height(lines)


# --- Body --------------------------------------------------------------------------------------


def _theme_groups(rows: Sequence[TableRow]) -> Iterator[tuple[int, int]]:
    """(first, last) indices of the runs of rows of one thème: its actions (or placeholder rows)
    and its "Sous total", over which the thème and Chorus cells are merged."""

    def theme_of(indexed: tuple[int, TableRow]) -> str | None:
        row = indexed[1]
        return row.theme_key if row.kind in THEME_ROW_KINDS else None

    for theme_key, run in groupby(enumerate(rows), key=theme_of):
        if theme_key is not None:
            indices = [index for index, _row in run]
            yield indices[0], indices[-1]


def _block_groups(rows: Sequence[TableRow]) -> Iterator[tuple[int, int]]:
    """(first, last) indices of the runs of rows of one block (the total row has none)."""
    for block, run in groupby(enumerate(rows), key=lambda indexed: indexed[1].block):
        if block is not None:
            indices = [index for index, _row in run]
            yield indices[0], indices[-1]


def _write_merged_amounts(sheet: Worksheet, table: FinancialTable, layout: _Layout) -> None:
    """Amounts known for a group of rows only, in one cell merged over the group (§5.6)."""
    first = layout.first_body_row
    for merged in table.merged_amounts:
        column = layout.column(merged.column)
        write_amount(sheet.cell(row=first + merged.first_row, column=column), merged.amount)
        if merged.last_row > merged.first_row:
            sheet.merge_cells(
                start_row=first + merged.first_row,
                start_column=column,
                end_row=first + merged.last_row,
                end_column=column,
            )


def _write_body(sheet: Worksheet, rows: Sequence[TableRow], layout: _Layout) -> None:
    widths = _column_widths(layout)
    first = layout.first_body_row
    heights: list[float] = []
    for offset, row in enumerate(rows):
        heights.append(_write_row(sheet, first + offset, row, layout, widths))

    # The avenant template's block label ("Engagements du socle"), merged over the block's rows.
    if "block" in layout.keys:
        column = layout.column("block")
        for start, end in _block_groups(rows):
            cell = sheet.cell(row=first + start, column=column)
            write_text(cell, BLOCK_LABELS[rows[start].block])
            cell.font = _font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            if end > start:
                letter = get_column_letter(column)
                sheet.merge_cells(f"{letter}{first + start}:{letter}{first + end}")

    # Thème and Chorus cells: written once, on the thème's first row, merged over its rows.
    for start, end in _theme_groups(rows):
        row = rows[start]
        needed = 1
        for key, text in (("theme", row.theme_label), ("chorus", row.chorus)):
            cell = sheet.cell(row=first + start, column=layout.column(key))
            if text:
                write_text(cell, text)
                needed = max(needed, _estimated_lines(text, widths[key]))
            cell.alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
            if end > start:
                letter = get_column_letter(layout.column(key))
                sheet.merge_cells(f"{letter}{first + start}:{letter}{first + end}")
        # A long thème label over few rows: share the missing height between the rows.
        missing = _height(needed) - sum(heights[start : end + 1])
        if missing > 0:
            for index in range(start, end + 1):
                heights[index] += missing / (end - start + 1)

    for offset, height in enumerate(heights):
        sheet.row_dimensions[first + offset].height = round(height, 2)


def _write_row(
    sheet: Worksheet, number: int, row: TableRow, layout: _Layout, widths: dict[str, float]
) -> float:
    """Write the cells of one row except the merged thème and Chorus; return its height."""
    bold = row.is_total
    fill = FILLS.get(row.kind)
    for column in range(1, layout.width + 1):
        cell = sheet.cell(row=number, column=column)
        cell.border = BORDER
        cell.font = _font(bold=bold)
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        if fill is not None:
            cell.fill = fill

    lines = 1
    if row.kind == RowKind.GRAND_TOTAL:
        # "TOTAUX FINANCIERS" spans the text columns.
        label_from, label_to = 1, layout.column("title")
    elif row.is_total:
        # "Sous total" and the block sub-totals sit under "Fiche action N°", over the intitulé.
        label_from, label_to = layout.column("number"), layout.column("title")
    else:
        label_from = label_to = None

    if label_from is not None:
        cell = sheet.cell(row=number, column=label_from)
        write_text(cell, row.title)
        cell.alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
        sheet.merge_cells(
            start_row=number, start_column=label_from, end_row=number, end_column=label_to
        )
        span = sum(widths[key] for key in layout.keys[label_from - 1 : label_to])
        lines = _estimated_lines(row.title, span, bold=True)
    else:
        for key, text in (("number", row.number), ("title", row.title)):
            if text:
                cell = sheet.cell(row=number, column=layout.column(key))
                write_text(cell, text)
                lines = max(lines, _estimated_lines(text, widths[key]))
        sheet.cell(row=number, column=layout.column("number")).alignment = Alignment(
            horizontal="center", vertical="center", wrap_text=True
        )
        if row.kind == RowKind.PLACEHOLDER:
            # The template's "intitulé de l'action n°1" rows are printed in italics.
            sheet.cell(row=number, column=layout.column("title")).font = _font(italic=True)

    for key in layout.amount_keys:
        write_amount(sheet.cell(row=number, column=layout.column(key)), row.amounts.get(key))

    if row.comment and "comment" in layout.keys:
        cell = sheet.cell(row=number, column=layout.column("comment"))
        write_text(cell, row.comment)
        lines = max(lines, _estimated_lines(row.comment, widths["comment"]))
    return _height(lines)


# --- Page and file -----------------------------------------------------------------------------


def _set_page(
    sheet: Worksheet,
    table: FinancialTable,
    layout: _Layout,
    generated_on: datetime.date | None,
) -> None:
    last_row = layout.header_row + len(table.rows)
    last_column = get_column_letter(layout.width)
    sheet.freeze_panes = f"A{layout.first_body_row}"
    sheet.print_area = f"A1:{last_column}{last_row}"
    # Like the official document, every printed page repeats the title block and the headers.
    sheet.print_title_rows = f"1:{layout.header_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages as needed down
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = 0.5
    sheet.page_margins.bottom = 0.6
    sheet.page_margins.footer = 0.3
    sheet.oddFooter.left.text = "&A"  # the sheet title
    sheet.oddFooter.center.text = "Page &P sur &N"
    if generated_on is not None:
        sheet.oddFooter.right.text = f"CALPAE — édité le {generated_on:%d/%m/%Y}"
    for part in (sheet.oddFooter.left, sheet.oddFooter.center, sheet.oddFooter.right):
        part.size = 8
    sheet.sheet_view.zoomScale = 90


class _ReproducibleZipFile(ZipFile):
    """A ZIP archive whose members all carry the same date, so that saving twice gives the
    same bytes (``ZipFile.writestr`` dates a member by the clock)."""

    def writestr(self, zinfo_or_arcname, data, *args, **kwargs):
        if not isinstance(zinfo_or_arcname, ZipInfo):
            zinfo_or_arcname = ZipInfo(zinfo_or_arcname, date_time=ZIP_TIMESTAMP)
            zinfo_or_arcname.compress_type = self.compression
            zinfo_or_arcname.external_attr = 0o600 << 16
        super().writestr(zinfo_or_arcname, data, *args, **kwargs)

    def write(self, filename, arcname=None, *args, **kwargs):
        # openpyxl writes each worksheet to a temporary file, dated by the clock as well.
        with open(filename, "rb") as source:
            self.writestr(arcname or Path(filename).name, source.read())


def _save(
    workbook: Workbook, *, title_lines: Sequence[str], generated_on: datetime.date | None
) -> bytes:
    """The workbook's bytes, with its properties, the same for the same data."""
    timestamp = (
        datetime.datetime.combine(generated_on, datetime.time())
        if generated_on is not None
        else DEFAULT_TIMESTAMP
    )
    properties = workbook.properties
    properties.title = f"{title_lines[0]} — {title_lines[-1]}"
    properties.creator = "CALPAE"
    properties.created = timestamp
    properties.modified = timestamp
    properties.lastModifiedBy = None
    # ``Workbook.save`` stamps the document with the current time: write it ourselves.
    buffer = BytesIO()
    archive = _ReproducibleZipFile(buffer, "w", compression=ZIP_DEFLATED)
    ExcelWriter(workbook, archive).save()
    return buffer.getvalue()


# --- Indicator matrix (« Tableau des indicateurs », CALPAE.md §5.3) ----------------------------

MATRIX_SHEET_TITLE = "Indicateurs"
MATRIX_WIDTHS = {"indicator": 42.0, "definition": 38.0, "target": 14.0, "degree": 12.0}
MATRIX_PERIOD_WIDTH = 14.0
MATRIX_FILLS = {
    MatrixRowKind.GROUP: PatternFill("solid", fgColor="BFBFBF"),
    MatrixRowKind.MEASURE: PatternFill("solid", fgColor="E7E6E6"),
}


def _matrix_number_format(cell: MatrixCell) -> str:
    decimals = f".{'0' * cell.decimals}" if cell.decimals else ""
    return f"0{decimals}%" if cell.is_percent else f"#,##0{decimals}"


def write_matrix_value(cell: Cell, value: MatrixCell) -> None:
    """A value of the matrix: a number when its text is only that number ("10 941", "95 %"),
    else its raw text ("Non contractualisé", "147 (au 31/10/2022)"); empty when none."""
    if value.number is not None:
        cell.value = value.number / 100 if value.is_percent else value.number
        cell.number_format = _matrix_number_format(value)
        cell.alignment = Alignment(horizontal="right", vertical="center")
    elif value.raw:
        write_text(cell, value.raw)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _matrix_definition(row: MatrixRow) -> str:
    if row.footnote:
        return f"{row.definition}\nNote : {row.footnote}".strip()
    return row.definition


def indicator_matrix_xlsx(
    matrix: IndicatorMatrix, *, generated_on: datetime.date | None = None
) -> bytes:
    """The indicator matrix as an XLSX workbook of one sheet: the title block, the headers
    (frozen, repeated on every printed page), the group and measure headings merged across the
    sheet in bold, one row per indicator; A4 landscape. The same matrix gives the same bytes."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"{MATRIX_SHEET_TITLE} {matrix.year}"
    keys = [column.key for column in matrix.columns]
    width = len(keys)
    last = get_column_letter(width)
    widths = [MATRIX_WIDTHS.get(key, MATRIX_PERIOD_WIDTH) for key in keys]

    for index, line in enumerate(matrix.title_lines, start=1):
        cell = sheet.cell(row=index, column=1)
        write_text(cell, line)
        cell.font = _font(bold=True, size=12 if index == 1 else 10)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.merge_cells(f"A{index}:{last}{index}")
        sheet.row_dimensions[index].height = 18 if index == 1 else 27 if index == 2 else 15

    header_row = len(matrix.title_lines) + 2
    lines = 1
    for column, (matrix_column, column_width) in enumerate(
        zip(matrix.columns, widths, strict=True), start=1
    ):
        sheet.column_dimensions[get_column_letter(column)].width = column_width
        cell = sheet.cell(row=header_row, column=column)
        write_text(cell, matrix_column.header)
        cell.font = _font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        lines = max(lines, _estimated_lines(matrix_column.header, column_width, bold=True))
    sheet.row_dimensions[header_row].height = _height(lines)

    number = header_row
    for row in matrix.rows:
        number += 1
        if row.kind != MatrixRowKind.INDICATOR:
            cell = sheet.cell(row=number, column=1)
            write_text(cell, row.label)
            for column in range(1, width + 1):
                other = sheet.cell(row=number, column=column)
                other.border = BORDER
                other.fill = MATRIX_FILLS[row.kind]
            cell.font = _font(bold=True, size=10 if row.kind == MatrixRowKind.GROUP else FONT_SIZE)
            cell.alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
            sheet.merge_cells(f"A{number}:{last}{number}")
            sheet.row_dimensions[number].height = _height(
                _estimated_lines(row.label, sum(widths), bold=True)
            )
            continue
        for column in range(1, width + 1):
            cell = sheet.cell(row=number, column=column)
            cell.border = BORDER
            cell.font = _font()
            cell.alignment = Alignment(vertical="center", wrap_text=True)
        label = sheet.cell(row=number, column=1)
        write_text(label, row.label)
        label.alignment = Alignment(
            vertical="center", wrap_text=True, indent=2 if row.is_sub_indicator else 0
        )
        definition = _matrix_definition(row)
        if definition:
            write_text(sheet.cell(row=number, column=2), definition)
        lines = max(_estimated_lines(row.label, widths[0]), _estimated_lines(definition, widths[1]))
        for offset, value in enumerate((*row.cells, row.target)):
            write_matrix_value(sheet.cell(row=number, column=3 + offset), value)
            if value.number is None and value.raw:
                lines = max(lines, _estimated_lines(value.raw, widths[2 + offset]))
        degree = sheet.cell(row=number, column=width)
        if row.degree.percent is not None:
            degree.value = row.degree.percent / 100
            degree.number_format = "0.0%"
            degree.alignment = Alignment(horizontal="right", vertical="center")
        elif row.degree.text:
            write_text(degree, row.degree.text)
            degree.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            degree.font = _font(italic=True)
            lines = max(lines, _estimated_lines(row.degree.text, widths[-1]))
        sheet.row_dimensions[number].height = _height(lines)

    sheet.freeze_panes = f"C{header_row + 1}"
    sheet.print_area = f"A1:{last}{number}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = 0.5
    sheet.page_margins.bottom = 0.6
    sheet.oddFooter.left.text = "&A"
    sheet.oddFooter.center.text = "Page &P sur &N"
    if generated_on is not None:
        sheet.oddFooter.right.text = f"CALPAE — édité le {generated_on:%d/%m/%Y}"
    for part in (sheet.oddFooter.left, sheet.oddFooter.center, sheet.oddFooter.right):
        part.size = 8
    sheet.sheet_view.zoomScale = 90

    return _save(workbook, title_lines=matrix.title_lines, generated_on=generated_on)


# --- Consolidated view (reports.consolidation) -------------------------------------------------

CONSOLIDATION_HEADERS = (
    "Budget État (A+B)",
    "Budget CD (C+D)",
    "Autres financeurs (E)",
    "Budget global (F)",
    "Réalisé au 31/12",
    "Taux d'exécution",
    "À reporter (État et CD)",
)


def _consolidation_row(sheet: Worksheet, row: int, label: str, totals, *, bold=False) -> None:
    write_text(sheet.cell(row, 1), label)
    sheet.cell(row, 1).font = _font(bold=bold)
    amounts = (totals.state, totals.cd, totals.other, totals.budget, totals.realised)
    for column, amount in enumerate(amounts, start=2):
        write_amount(sheet.cell(row, column), amount)
        sheet.cell(row, column).font = _font(bold=bold)
    rate = sheet.cell(row, 7)
    if totals.rate is not None:
        rate.value = totals.rate / 100
        rate.number_format = "0.0%"
    write_amount(sheet.cell(row, 8), totals.carry_over)
    sheet.cell(row, 8).font = _font(bold=bold)


def consolidation_xlsx(result) -> bytes:
    """The consolidated view as a workbook: per thème, then per Département with the state of
    its report; amounts as numbers to the cent."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Par thème"
    title = f"Exécution {result.year} — {result.scope}"
    write_text(sheet.cell(1, 1), title)
    sheet.cell(1, 1).font = _font(bold=True, size=12)
    for column, header in enumerate(("Thème", *CONSOLIDATION_HEADERS), start=1):
        write_text(sheet.cell(3, column), header)
        sheet.cell(3, column).font = _font(bold=True)
    row = 4
    for line in result.themes:
        _consolidation_row(sheet, row, line.label, line.totals)
        row += 1
    _consolidation_row(sheet, row, "TOTAL", result.total, bold=True)
    sheet.column_dimensions["A"].width = 60
    for letter in "BCDEFGH":
        sheet.column_dimensions[letter].width = 18
    sheet.freeze_panes = "B4"

    departments = workbook.create_sheet("Par Département")
    for column, header in enumerate(
        ("Département", *CONSOLIDATION_HEADERS, "État du rapport", "Échéance"), start=1
    ):
        write_text(departments.cell(1, column), header)
        departments.cell(1, column).font = _font(bold=True)
    for row, line in enumerate(result.departments, start=2):
        _consolidation_row(departments, row, f"{line.name} ({line.code})", line.totals)
        state = line.report_state + (" — en retard" if line.late else "")
        write_text(departments.cell(row, 9), state)
        if line.due_date:
            departments.cell(row, 10).value = line.due_date
            departments.cell(row, 10).number_format = "DD/MM/YYYY"
    departments.column_dimensions["A"].width = 40
    for letter in "BCDEFGHIJ":
        departments.column_dimensions[letter].width = 18
    departments.freeze_panes = "B2"
    return _save(workbook, title_lines=(title,), generated_on=None)
