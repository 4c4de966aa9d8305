"""The official documents a year produces, and how each is rendered.

One registry for the download views and the ``export_document`` command: a document is read by
its selector into a computed object (``reports.tables``), then rendered to PDF or XLSX from that
same object, so the two formats never disagree.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from conventions.models import ConventionYear
from reports.selectors import execution_table, planned_table
from reports.tables import FinancialTable


class DocumentError(Exception):
    """A document that cannot be produced (unknown, or not available in this format)."""


@dataclass(frozen=True)
class Document:
    slug: str
    label: str
    read: Callable[[ConventionYear], object]  # the selector: database → computed object
    renderers: dict[str, Callable[..., bytes]]  # format → computed object → bytes

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(self.renderers)

    def filename(self, convention_year: ConventionYear, fmt: str) -> str:
        department = convention_year.convention.department.code
        return f"CALPAE-{department}-{convention_year.year}-{self.slug}.{fmt}"


def _xlsx_table(table: FinancialTable, generated_on=None) -> bytes:
    from reports.xlsx import financial_table_xlsx

    return financial_table_xlsx(table, generated_on=generated_on)


def _pdf_table(table: FinancialTable, generated_on=None) -> bytes:
    from reports.pdf import financial_table_pdf

    return financial_table_pdf(table, generated_on=generated_on)


def _html_table(table: FinancialTable, generated_on=None) -> bytes:
    from reports.pdf import financial_table_html

    return financial_table_html(table, generated_on=generated_on).encode()


def _read_matrix(convention_year: ConventionYear):
    from reports.matrix_selectors import indicator_matrix

    return indicator_matrix(convention_year)


def _xlsx_matrix(matrix, generated_on=None) -> bytes:
    from reports.xlsx import indicator_matrix_xlsx

    return indicator_matrix_xlsx(matrix, generated_on=generated_on)


def _pdf_matrix(matrix, generated_on=None) -> bytes:
    from reports.pdf import indicator_matrix_pdf

    return indicator_matrix_pdf(matrix, generated_on=generated_on)


def _html_matrix(matrix, generated_on=None) -> bytes:
    from reports.pdf import indicator_matrix_html

    return indicator_matrix_html(matrix, generated_on=generated_on).encode()


def _read_report(convention_year: ConventionYear):
    from reports.report_selectors import execution_report

    return execution_report(convention_year)


def _pdf_report(report, generated_on=None) -> bytes:
    from reports.report_pdf import execution_report_pdf

    return execution_report_pdf(report)


def _html_report(report, generated_on=None) -> bytes:
    from reports.report_pdf import execution_report_html

    return execution_report_html(report).encode()


TABLE_RENDERERS = {"pdf": _pdf_table, "xlsx": _xlsx_table, "html": _html_table}

DOCUMENTS = {
    document.slug: document
    for document in (
        Document(
            "financial-table",
            "Tableau financier récapitulatif — exécution",
            execution_table,
            TABLE_RENDERERS,
        ),
        Document(
            "previsionnel-table",
            "Tableau financier récapitulatif prévisionnel",
            planned_table,
            TABLE_RENDERERS,
        ),
        Document(
            "execution-report",
            "Rapport d'exécution",
            _read_report,
            {"pdf": _pdf_report, "html": _html_report},
        ),
        Document(
            "indicators",
            "Tableau des indicateurs",
            _read_matrix,
            {"pdf": _pdf_matrix, "xlsx": _xlsx_matrix, "html": _html_matrix},
        ),
    )
}
# Documents announced but not produced yet: asked for, they give a clear message.
PLANNED_DOCUMENTS: dict[str, str] = {}

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}


def get_document(slug: str, fmt: str) -> Document:
    if slug in PLANNED_DOCUMENTS:
        raise DocumentError(
            f"Le document « {PLANNED_DOCUMENTS[slug]} » n'est pas encore disponible."
        )
    document = DOCUMENTS.get(slug)
    if document is None:
        known = ", ".join(sorted(DOCUMENTS))
        raise DocumentError(f"Document inconnu : « {slug} » (documents : {known}).")
    if fmt not in document.formats:
        raise DocumentError(
            f"Format inconnu : « {fmt} » (formats : {', '.join(document.formats)})."
        )
    return document


def render(
    document: Document,
    convention_year: ConventionYear,
    fmt: str,
    *,
    generated_on: datetime.date | None = None,
) -> bytes:
    """The document of the year in the format: selector → computed object → renderer."""
    return document.renderers[fmt](document.read(convention_year), generated_on=generated_on)
