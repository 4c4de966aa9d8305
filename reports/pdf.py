"""The official financial tables as PDF (WeasyPrint), from the computed table.

The renderer only lays out what :mod:`reports.tables` computed: it turns a
:class:`~reports.tables.FinancialTable` into plain values (strings, row spans), renders them with
``templates/reports/pdf/financial_table.html`` — which is also the staff's HTML preview — and
hands that HTML to WeasyPrint. No query, no arithmetic: the PDF and the XLSX read the same
object and cannot disagree (CALPAE.md §5.1, §5.2).
"""

from __future__ import annotations

import contextlib
import datetime
import gc
from dataclasses import dataclass, replace

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from reports.formatting import format_euros
from reports.matrix import IndicatorMatrix, MatrixCell, MatrixRowKind
from reports.tables import (
    BLOCK_LABELS,
    TEXT_HEADERS,
    TITLE_SUBCAPTION_EXECUTION,
    Block,
    Column,
    FinancialTable,
    RowKind,
    TableKind,
    TableRow,
)

TEMPLATE = "reports/pdf/financial_table.html"


@dataclass(frozen=True)
class HeaderCell:
    """An amount column's header: its letter (A to F, set in bold) and the rest, verbatim."""

    letter: str
    text: str


@dataclass(frozen=True)
class AmountCell:
    text: str
    rowspan: int = 1  # 0: merged from a row above; more than 1: an amount for a group of rows


@dataclass(frozen=True)
class BlockCell:
    """The avenant template's block column, one cell per group of rows that stays on a page;
    the label is printed in the block's first cell, the next ones continue it without a border."""

    label: str
    rowspan: int
    continued: bool


@dataclass(frozen=True)
class RowView:
    """One printed row, as the template shows it: only strings and row spans."""

    kind: str
    theme_rowspan: int  # 0: the thème and Chorus cells are merged from a row above
    theme_label: str
    chorus: str
    number: str
    title: str
    amounts: tuple[AmountCell, ...]
    comment: str
    block: str = ""  # the block of an action or placeholder row, for the block column
    block_cell: BlockCell | None = None

    @property
    def is_total(self) -> bool:
        return self.kind in (RowKind.THEME_SUBTOTAL, RowKind.BLOCK_SUBTOTAL, RowKind.GRAND_TOTAL)

    @property
    def spans_text_columns(self) -> bool:
        """Block sub-totals and TOTAUX FINANCIERS print their label across the text columns."""
        return self.kind in (RowKind.BLOCK_SUBTOTAL, RowKind.GRAND_TOTAL)


def _header_cell(column: Column) -> HeaderCell:
    prefix = f"{column.letter} " if column.letter else ""
    if prefix and column.header.startswith(prefix):
        return HeaderCell(letter=column.letter or "", text=column.header[len(prefix) :])
    return HeaderCell(letter="", text=column.header)


def _theme_rowspans(rows: tuple[TableRow, ...]) -> list[int]:
    """How many rows the thème cell of each row spans (0 when merged from above).

    A thème's rows are its consecutive rows: placeholders, actions and its "Sous total", as the
    official document merges the thème and Chorus cells down to the sub-total.
    """
    spans = [0] * len(rows)
    start = None
    for index, row in enumerate(rows):
        spanned = row.theme_key is not None
        if start is not None and spanned and rows[start].theme_key == row.theme_key:
            spans[start] += 1
            continue
        start = index if spanned else None
        spans[index] = 1 if spanned else 0
    return spans


def _amount_cells(table: FinancialTable) -> list[list[AmountCell]]:
    keys = table.amount_keys
    cells = [[AmountCell(format_euros(row.amounts.get(key))) for key in keys] for row in table.rows]
    for merged in table.merged_amounts:
        column = keys.index(merged.column)
        span = merged.last_row - merged.first_row + 1
        cells[merged.first_row][column] = AmountCell(format_euros(merged.amount), span)
        for index in range(merged.first_row + 1, merged.last_row + 1):
            cells[index][column] = AmountCell("", 0)
    return cells


def _row_views(table: FinancialTable) -> list[RowView]:
    return [
        RowView(
            kind=row.kind.value,
            theme_rowspan=span,
            theme_label=row.theme_label,
            chorus=row.chorus,
            number=row.number,
            title=row.title,
            amounts=tuple(amounts),
            comment=row.comment,
            block=row.block.value if row.block and not row.is_total else "",
        )
        for row, span, amounts in zip(
            table.rows, _theme_rowspans(table.rows), _amount_cells(table), strict=True
        )
    ]


def _row_groups(rows: list[RowView], *, block_column: bool = False) -> list[list[RowView]]:
    """The rows cut into the groups a page break should not split: the rows that merged cells
    span (a thème with its sub-total, an envelope over several thèmes), or a single row.

    With a block column, the first row of each group carries the block cell of the group."""
    groups: list[list[RowView]] = []
    reach = -1  # the last row the current group must include
    for index, row in enumerate(rows):
        if index > reach:
            groups.append([])
        groups[-1].append(row)
        spans = [row.theme_rowspan, *(cell.rowspan for cell in row.amounts)]
        reach = max(reach, index + max(spans) - 1)
    if block_column:
        previous = ""
        for number, group in enumerate(groups):
            block = group[0].block
            if block:
                cell = BlockCell(BLOCK_LABELS[Block(block)], len(group), block == previous)
                groups[number] = [replace(group[0], block_cell=cell), *group[1:]]
            previous = block
    return groups


def css_string(value: str) -> SafeString:
    """``value`` as the inside of a CSS string: every character but ASCII letters and digits
    escaped, so that nothing can end the string or the ``<style>`` element."""
    # Safe: every character that could matter to CSS or HTML is escaped below.
    return mark_safe(
        "".join(
            # The space after a hex escape ends it and is not printed.
            char if char.isalnum() and char.isascii() else f"\\{ord(char):06x} "
            for char in value
        )
    )


def running_header(table: FinancialTable) -> str:
    """The page header: « Département de Seine-et-Marne (77) — Exécution budgétaire 2022 »."""
    lines = table.title_lines
    convention = lines[1] if len(lines) > 1 else ""
    _, separator, department = convention.rpartition(" - ")
    parts = [department if separator else convention]
    if len(lines) > 2:
        parts.append(lines[2])
    return " — ".join(part for part in parts if part)


def financial_table_context(
    table: FinancialTable, *, generated_on: datetime.date | None = None
) -> dict:
    """Everything the template shows, as plain values."""
    generated_on = generated_on or timezone.localdate()
    header = running_header(table)
    return {
        "kind": table.layout.value,
        "title_lines": table.title_lines,
        "document_title": f"{table.title_lines[0]} — {header}" if table.title_lines else header,
        "running_header_css": css_string(header),
        "footer_css": css_string(f"CALPAE — édité le {generated_on:%d/%m/%Y}"),
        "generated_on": generated_on.isoformat(),
        "text_headers": TEXT_HEADERS,
        "title_subcaption": (
            TITLE_SUBCAPTION_EXECUTION if table.kind == TableKind.EXECUTION else ""
        ),
        "block_column": "block" in table.text_columns_before,
        "comment_column": "comment" in table.text_columns_after,
        # TOTAUX FINANCIERS spans the text columns, a block sub-total those but the block's.
        "label_colspan": len(table.text_columns_before),
        "amount_headers": [_header_cell(column) for column in table.columns],
        "row_groups": _row_groups(
            _row_views(table), block_column="block" in table.text_columns_before
        ),
    }


def financial_table_html(
    table: FinancialTable, *, generated_on: datetime.date | None = None
) -> str:
    """The table as a standalone HTML page (print CSS inlined): the PDF's source and preview."""
    return render_to_string(TEMPLATE, financial_table_context(table, generated_on=generated_on))


def financial_table_pdf(
    table: FinancialTable, *, generated_on: datetime.date | None = None
) -> bytes:
    """The table as an A4 landscape PDF, laid out as the official document."""
    return html_to_pdf(financial_table_html(table, generated_on=generated_on))


@contextlib.contextmanager
def _cyclic_gc_paused():
    """Python's cyclic garbage collector paused while WeasyPrint lays out a document.

    The layout allocates hundreds of thousands of boxes that all stay alive until the PDF is
    written, and the collector walks them again at each of its passes for nothing: a quarter of
    the time of the full report (``make bench``). Reference counting still frees what it can; the
    boxes, which form cycles, are collected by the next pass of the collector after the render
    (the peak memory of the report grows by a few tens of Mio) — or after the whole job, when
    the caller runs it in ``collected_after``.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def collected_after():
    """A job that prints documents with the cyclic collector paused, and collected once the job
    is done: after the document is stored and marked ready (``reports.tasks``), not before.

    WeasyPrint's boxes form cycles: freeing those of the Rapport d'exécution is a pass of the
    collector of about 0.4 s (``make bench`` prints it apart), which the user waiting for the
    document need not wait for. The worker does it before its next job.
    """
    was_enabled = gc.isenabled()
    with _cyclic_gc_paused():
        yield
        if was_enabled:
            # Still paused, so that no automatic pass comes first. The render's objects are all
            # young: the collector paused, none was promoted.
            gc.collect(0)


def html_to_pdf(html: str) -> bytes:
    """One of our standalone HTML documents, printed by WeasyPrint."""
    # Imported here: WeasyPrint loads Pango and fonts, which pages that never print need not.
    import weasyprint

    # The page references no external resource: base_url only anchors relative URLs.
    with _cyclic_gc_paused():
        return weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


# --- Indicator matrix (« Tableau des indicateurs », CALPAE.md §5.3) ----------------------------

MATRIX_TEMPLATE = "reports/pdf/indicator_matrix.html"


@dataclass(frozen=True)
class MatrixRowView:
    """One printed row of the matrix: a heading (group, measure) or an indicator's strings."""

    kind: str
    label: str
    definition: str = ""
    footnote: str = ""
    values: tuple[str, ...] = ()  # the periods, then the target
    degree: str = ""
    degree_is_text: bool = False
    is_sub_indicator: bool = False

    @property
    def is_heading(self) -> bool:
        return self.kind != MatrixRowKind.INDICATOR


def _matrix_value(cell: MatrixCell) -> str:
    return cell.raw


def _matrix_row_views(matrix: IndicatorMatrix) -> list[MatrixRowView]:
    return [
        MatrixRowView(
            kind=row.kind.value,
            label=row.label,
            definition=row.definition,
            footnote=row.footnote,
            values=tuple(_matrix_value(cell) for cell in (*row.cells, row.target)),
            degree=row.degree.printed,
            degree_is_text=row.degree.percent is None and bool(row.degree.text),
            is_sub_indicator=row.is_sub_indicator,
        )
        for row in matrix.rows
    ]


def indicator_matrix_context(
    matrix: IndicatorMatrix, *, generated_on: datetime.date | None = None
) -> dict:
    """Everything the matrix template shows, as plain values."""
    generated_on = generated_on or timezone.localdate()
    header = running_header(matrix)  # type: ignore[arg-type]  # reads only title_lines
    columns = matrix.columns
    return {
        "title_lines": matrix.title_lines,
        "document_title": f"{matrix.title_lines[0]} — {header}",
        "running_header_css": css_string(header),
        "footer_css": css_string(f"CALPAE — édité le {generated_on:%d/%m/%Y}"),
        "generated_on": generated_on.isoformat(),
        "indicator_header": columns[0].header,
        "definition_header": columns[1].header,
        "value_headers": [column.header for column in columns[2:-1]],
        "degree_header": columns[-1].header,
        "column_count": len(columns),
        "rows": _matrix_row_views(matrix),
    }


def indicator_matrix_html(
    matrix: IndicatorMatrix, *, generated_on: datetime.date | None = None
) -> str:
    """The matrix as a standalone HTML page (print CSS inlined): the PDF's source and preview."""
    return render_to_string(
        MATRIX_TEMPLATE, indicator_matrix_context(matrix, generated_on=generated_on)
    )


def indicator_matrix_pdf(
    matrix: IndicatorMatrix, *, generated_on: datetime.date | None = None
) -> bytes:
    """The matrix as an A4 landscape PDF: headers repeated on every page, page X / Y."""
    return html_to_pdf(indicator_matrix_html(matrix, generated_on=generated_on))
