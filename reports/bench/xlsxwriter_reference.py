"""The financial table written by XlsxWriter: a reference for ``bench_documents``, never served.

XlsxWriter is the fastest XLSX writer for Python; writing the same table with it tells how far
our openpyxl renderer (:func:`reports.xlsx.financial_table_xlsx`) is from the limit. To be a fair
comparison it writes, from the same computed :class:`~reports.tables.FinancialTable`, the same
cells with the same values, merges, fonts, fills, borders, number formats, row heights, column
widths and page setup, and reuses the layout helpers of ``reports.xlsx`` (column positions,
groups of rows, estimated heights), so that only the writing differs.
``tests/test_bench_load.py`` reopens both workbooks and compares them cell by cell.

XlsxWriter is a development dependency (``pip install -e '.[dev]'``): it is imported when a
workbook is written, not when this module is.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from io import BytesIO

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from reports.tables import (
    BLOCK_LABELS,
    CENT,
    TITLE_SUBCAPTION_EXECUTION,
    FinancialTable,
    RowKind,
    TableKind,
)
from reports.xlsx import (
    DEFAULT_TIMESTAMP,
    EURO_FORMAT,
    FONT_NAME,
    FONT_SIZE,
    MAX_CELL_TEXT,
    _block_groups,
    _column_widths,
    _estimated_lines,
    _header_texts,
    _height,
    _Layout,
    _theme_groups,
    sheet_title,
)

HEADER_FILL = "#D9D9D9"
FILLS = {
    RowKind.THEME_SUBTOTAL: "#F2F2F2",
    RowKind.BLOCK_SUBTOTAL: "#D9D9D9",
    RowKind.GRAND_TOTAL: "#BFBFBF",
}
A4 = 9  # XlsxWriter's paper code


def _text(text: str) -> str:
    """The text as ``reports.xlsx.write_text`` writes it: line feeds, no character XML cannot
    hold, cut to Excel's limit for one cell."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if len(text) > MAX_CELL_TEXT:
        text = text[: MAX_CELL_TEXT - 1] + "…"
    return text


def _write_text(sheet, row: int, column: int, text: str, cell_format) -> None:
    """A string cell, never a formula; an empty text leaves a formatted blank, as openpyxl saves
    an empty string."""
    text = _text(text)
    if text:
        sheet.write_string(row, column, text, cell_format)
    else:
        sheet.write_blank(row, column, None, cell_format)


class _Formats:
    """XlsxWriter formats, one per combination of properties (a workbook holds each once)."""

    def __init__(self, workbook):
        self.workbook = workbook
        self.cache: dict[tuple, object] = {}

    def get(
        self,
        *,
        bold: bool = False,
        italic: bool = False,
        size: float = FONT_SIZE,
        align: str | None = None,
        wrap: bool = True,
        border: bool = False,
        fill: str | None = None,
        num_format: str | None = None,
    ):
        key = (bold, italic, size, align, wrap, border, fill, num_format)
        found = self.cache.get(key)
        if found is None:
            properties = {"font_name": FONT_NAME, "font_size": size, "valign": "vcenter"}
            if bold:
                properties["bold"] = True
            if italic:
                properties["italic"] = True
            if align:
                properties["align"] = align
            if wrap:
                properties["text_wrap"] = True
            if border:
                properties["border"] = 1
            if fill:
                properties["bg_color"] = fill
                properties["pattern"] = 1
            if num_format:
                properties["num_format"] = num_format
            found = self.cache[key] = self.workbook.add_format(properties)
        return found


def financial_table_xlsxwriter(
    table: FinancialTable, *, generated_on: datetime.date | None = None
) -> bytes:
    """The table as ``reports.xlsx.financial_table_xlsx`` lays it out, written by XlsxWriter."""
    import xlsxwriter

    layout = _Layout(
        text_before=table.text_columns_before,
        amount_keys=table.amount_keys,
        text_after=table.text_columns_after,
        header_row=len(table.title_lines) + 2,
    )
    buffer = BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    sheet = workbook.add_worksheet(sheet_title(table))
    formats = _Formats(workbook)
    widths = _column_widths(layout)
    last_column = layout.width - 1

    # Title block, merged across the sheet.
    for index, line in enumerate(table.title_lines):
        title_format = formats.get(bold=True, size=12 if index == 0 else 10, align="center")
        sheet.merge_range(index, 0, index, last_column, "", title_format)
        _write_text(sheet, index, 0, line, title_format)
        sheet.set_row(index, 18 if index == 0 else 15)

    # Headers.
    header_row = layout.header_row - 1
    header_format = formats.get(bold=True, align="center", border=True, fill=HEADER_FILL)
    headers = _header_texts(table, layout)
    lines = 1
    for key in layout.keys:
        column = layout.column(key) - 1
        sheet.set_column(column, column, widths[key])
        header = headers[key]
        if key == "title" and table.kind == TableKind.EXECUTION:
            sheet.write_rich_string(
                header_row,
                column,
                formats.get(bold=True),
                f"{header}\n",
                formats.get(bold=True, italic=True),
                TITLE_SUBCAPTION_EXECUTION,
                header_format,
            )
            header = f"{header}\n{TITLE_SUBCAPTION_EXECUTION}"
        else:
            _write_text(sheet, header_row, column, header, header_format)
        lines = max(lines, _estimated_lines(header, widths[key], bold=True))
    sheet.set_row(header_row, _height(lines))

    # Body: every cell of a row bordered, in the row's font and fill.
    first = layout.first_body_row - 1
    rows = table.rows
    amount_columns = [(key, layout.column(key) - 1) for key in layout.amount_keys]
    number_column = layout.column("number") - 1
    title_column = layout.column("title") - 1
    comment_column = layout.column("comment") - 1 if "comment" in layout.keys else None
    heights: list[float] = []
    row_formats = []
    for offset, row in enumerate(rows):
        number = first + offset
        style = {"bold": row.is_total, "border": True, "fill": FILLS.get(row.kind)}
        row_formats.append(style)
        base = formats.get(**style)
        amount_format = formats.get(**style, align="right", wrap=False, num_format=EURO_FORMAT)
        for column in range(layout.width):
            sheet.write_blank(number, column, None, base)
        lines = 1
        if row.is_total:
            # "TOTAUX FINANCIERS" spans the text columns; the sub-totals sit under "Fiche
            # action N°", over the intitulé.
            label_from = 0 if row.kind == RowKind.GRAND_TOTAL else number_column
            label_format = formats.get(**style, align="left")
            sheet.merge_range(number, label_from, number, title_column, "", label_format)
            _write_text(sheet, number, label_from, row.title, label_format)
            span = sum(widths[key] for key in layout.keys[label_from : title_column + 1])
            lines = _estimated_lines(row.title, span, bold=True)
        else:
            number_format = formats.get(**style, align="center")
            _write_text(sheet, number, number_column, row.number, number_format)
            if row.number:
                lines = max(lines, _estimated_lines(row.number, widths["number"]))
            if row.title:
                title_format = (
                    formats.get(**style, italic=True) if row.kind == RowKind.PLACEHOLDER else base
                )
                _write_text(sheet, number, title_column, row.title, title_format)
                lines = max(lines, _estimated_lines(row.title, widths["title"]))
        for key, column in amount_columns:
            amount = row.amounts.get(key)
            if amount is None:
                sheet.write_blank(number, column, None, amount_format)
            else:
                sheet.write_number(number, column, Decimal(amount).quantize(CENT), amount_format)
        if row.comment and comment_column is not None:
            _write_text(sheet, number, comment_column, row.comment, base)
            lines = max(lines, _estimated_lines(row.comment, widths["comment"]))
        heights.append(_height(lines))

    # The avenant template's block label, merged over the block's rows.
    if "block" in layout.keys:
        column = layout.column("block") - 1
        for start, end in _block_groups(rows):
            block_format = formats.get(**{**row_formats[start], "bold": True}, align="center")
            if end > start:
                sheet.merge_range(first + start, column, first + end, column, "", block_format)
            _write_text(sheet, first + start, column, BLOCK_LABELS[rows[start].block], block_format)

    # Thème and Chorus cells, written on the thème's first row and merged over its rows.
    for start, end in _theme_groups(rows):
        row = rows[start]
        theme_format = formats.get(**row_formats[start], align="left")
        needed = 1
        for key, text in (("theme", row.theme_label), ("chorus", row.chorus)):
            column = layout.column(key) - 1
            if end > start:
                sheet.merge_range(first + start, column, first + end, column, "", theme_format)
            _write_text(sheet, first + start, column, text, theme_format)
            if text:
                needed = max(needed, _estimated_lines(text, widths[key]))
        missing = _height(needed) - sum(heights[start : end + 1])
        if missing > 0:
            for index in range(start, end + 1):
                heights[index] += missing / (end - start + 1)

    # Amounts known for a group of rows only, in one cell merged over the group.
    for merged in table.merged_amounts:
        column = layout.column(merged.column) - 1
        merged_format = formats.get(
            **row_formats[merged.first_row], align="right", wrap=False, num_format=EURO_FORMAT
        )
        if merged.last_row > merged.first_row:
            sheet.merge_range(
                first + merged.first_row, column, first + merged.last_row, column, "", merged_format
            )
        sheet.write_number(
            first + merged.first_row, column, Decimal(merged.amount).quantize(CENT), merged_format
        )

    for offset, height in enumerate(heights):
        sheet.set_row(first + offset, round(height, 2))

    # Page: A4 landscape, one page wide, title block and headers repeated, footer.
    last_row = layout.header_row + len(rows) - 1
    sheet.freeze_panes(first, 0)
    sheet.print_area(0, 0, last_row, last_column)
    sheet.repeat_rows(0, header_row)
    sheet.set_landscape()
    sheet.set_paper(A4)
    sheet.fit_to_pages(1, 0)
    sheet.center_horizontally()
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    footer = "&L&8&A&C&8Page &P sur &N"
    if generated_on is not None:
        footer += f"&R&8CALPAE — édité le {generated_on:%d/%m/%Y}"
    sheet.set_footer(footer, {"margin": 0.3})
    sheet.set_zoom(90)

    timestamp = (
        datetime.datetime.combine(generated_on, datetime.time())
        if generated_on is not None
        else DEFAULT_TIMESTAMP
    )
    workbook.set_properties(
        {
            "title": f"{table.title_lines[0]} — {table.title_lines[-1]}",
            "author": "CALPAE",
            "created": timestamp,
        }
    )
    workbook.close()
    return buffer.getvalue()
