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
    read: Callable[[ConventionYear], FinancialTable]
    formats: tuple[str, ...]

    def filename(self, convention_year: ConventionYear, fmt: str) -> str:
        department = convention_year.convention.department.code
        return f"CALPAE-{department}-{convention_year.year}-{self.slug}.{fmt}"


DOCUMENTS = {
    document.slug: document
    for document in (
        Document(
            "financial-table",
            "Tableau financier récapitulatif — exécution",
            execution_table,
            ("pdf", "xlsx", "html"),
        ),
        Document(
            "previsionnel-table",
            "Tableau financier récapitulatif prévisionnel",
            planned_table,
            ("pdf", "xlsx", "html"),
        ),
    )
}
# Listed by issue 4 and not produced yet: asked for, they give a clear message.
PLANNED_DOCUMENTS = {
    "execution-report": "Rapport d'exécution",
    "indicators": "Tableau des indicateurs",
}

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
    """The document of the year in the format: selector → computed table → renderer."""
    table = document.read(convention_year)
    if fmt == "xlsx":
        from reports.xlsx import financial_table_xlsx

        return financial_table_xlsx(table, generated_on=generated_on)
    from reports.pdf import financial_table_html, financial_table_pdf

    if fmt == "html":
        return financial_table_html(table, generated_on=generated_on).encode()
    return financial_table_pdf(table, generated_on=generated_on)
