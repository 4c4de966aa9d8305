"""Rapport d'exécution N as PDF (WeasyPrint): one HTML document, so page numbers run on.

The cover and the fiches are A4 portrait; Annexe 2 (the financial table) is set on the named
page ``annex`` (A4 landscape) and is the very table of ``reports.pdf``: its template is rendered
once and its body placed in the report, so the two documents cannot differ.
"""

from __future__ import annotations

import re

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from reports.pdf import css_string, financial_table_html, html_to_pdf
from reports.report import ExecutionReport

TEMPLATE = "reports/pdf/execution_report.html"
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.DOTALL)


def _body(html: str, document: str) -> SafeString:
    """The body of one of our standalone documents, to place it as an annex of the report."""
    match = _BODY.search(html)
    if match is None:  # pragma: no cover - the template is ours
        raise ValueError(f"Le gabarit {document} n'a pas de <body>.")
    # Safe: rendered by Django's template engine, which escaped every value.
    return mark_safe(match.group(1))


def _financial_table_body(report: ExecutionReport) -> SafeString:
    """Annexe 2: the body of the financial table's own document (``reports.pdf``)."""
    html = financial_table_html(report.financial_table, generated_on=report.cover.generated_on)
    return _body(html, "du tableau financier")


def _matrix_body(report: ExecutionReport) -> SafeString:
    """Annexe 1: the body of the indicator matrix's own document (``reports.pdf``)."""
    from reports.pdf import indicator_matrix_html

    if report.indicator_matrix is None:
        return mark_safe("")
    html = indicator_matrix_html(report.indicator_matrix, generated_on=report.cover.generated_on)
    return _body(html, "du tableau des indicateurs")


def execution_report_context(report: ExecutionReport) -> dict:
    cover = report.cover
    return {
        "report": report,
        "cover": cover,
        "document_title": f"{cover.title} — {cover.department_name} — {cover.year}",
        "running_header_css": css_string(cover.running_header),
        "footer_css": css_string(f"CALPAE — édité le {cover.generated_on:%d/%m/%Y}"),
        "financial_table_body": _financial_table_body(report),
        "matrix_body": _matrix_body(report),
    }


def execution_report_html(report: ExecutionReport) -> str:
    """The report as one standalone HTML page (print CSS inlined): the PDF's source and preview."""
    return render_to_string(TEMPLATE, execution_report_context(report))


def execution_report_pdf(report: ExecutionReport) -> bytes:
    """The report as PDF: A4 portrait, the annexes in A4 landscape."""
    return html_to_pdf(execution_report_html(report))
