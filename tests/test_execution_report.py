"""Rapport d'exécution N (CALPAE.md §6): the computed report, its queries and its PDF.

Pure tests check the computation (degré de réalisation, budget splits, order and numbering);
database tests check that the selector reads a year in a fixed number of queries; PDF tests
check what a reader finds in the printed report of Seine-et-Marne 2022 (demo data).
"""

import datetime
import io
import re
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from actions.models import ActionYear
from conventions.models import ConventionYear
from reports.report import (
    BudgetInput,
    Cover,
    Direction,
    FicheInput,
    IndicatorInput,
    Measure,
    Paragraph,
    budget_split,
    build_execution_report,
    degree_of_realisation,
    paragraphs,
    realisation_rate,
)
from reports.report_pdf import execution_report_html, execution_report_pdf
from reports.report_selectors import execution_report
from reports.tables import RowKind

GENERATED_ON = datetime.date(2025, 1, 15)


def _year(code: str, year: int) -> ConventionYear:
    return ConventionYear.objects.get(convention__department__code=code, year=year)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _spaced(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip()


# --- Degré de réalisation (pure) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "value", "target", "expected"),
    [
        (Direction.HIGHER, "95", "100", Decimal(95)),
        (Direction.HIGHER, "1221", "722", Decimal(169)),
        (Direction.HIGHER, "2", "3", Decimal(67)),  # rounded half up
        (Direction.LOWER, "19", "21", Decimal(111)),  # a délai below its target
        (Direction.LOWER, "42", "21", Decimal(50)),
        (Direction.NEUTRAL, "10", "10", None),
        (Direction.HIGHER, None, "10", None),
        (Direction.HIGHER, "10", None, None),
        (Direction.HIGHER, "10", "0", None),
        (Direction.LOWER, "0", "21", None),
    ],
)
def test_realisation_rate(direction, value, target, expected):
    as_decimal = lambda text: None if text is None else Decimal(text)  # noqa: E731
    assert realisation_rate(direction, as_decimal(value), as_decimal(target)) == expected


def test_degree_of_realisation_prints_a_percentage():
    current = Measure("147 (au 31/10/2022)", Decimal(147))
    assert degree_of_realisation("higher", current, Measure("150", Decimal(150))) == "98\u00a0%"


def test_degree_of_realisation_falls_back_on_the_status():
    not_available = Measure("Données en cours de compilation", None, "Données non disponibles")
    target = Measure("95 %", Decimal(95))
    assert degree_of_realisation("higher", not_available, target) == "Données non disponibles"
    not_contracted = Measure("Non contractualisé", None, "Non contractualisé")
    assert degree_of_realisation("higher", Measure("20", Decimal(20)), not_contracted) == (
        "Non contractualisé"
    )


def test_degree_of_realisation_is_empty_without_a_reading():
    assert (
        degree_of_realisation("neutral", Measure("20", Decimal(20)), Measure("10", Decimal(10)))
        == ""
    )
    assert degree_of_realisation("higher", Measure("675 dont 212 finalisés"), None) == ""
    assert degree_of_realisation("higher", None, None) == ""


# --- Budgets, texts, order (pure) ---------------------------------------------------------------


def test_budget_split_adds_state_and_cd_credits():
    split = budget_split(
        BudgetInput(
            state_new=Decimal("110000"),
            state_carried_over=Decimal("5000"),
            cd_new=Decimal("305000"),
            other=Decimal("1000"),
            realised=Decimal("400000"),
        )
    )
    assert (split.state, split.cd, split.other, split.total, split.realised) == (
        Decimal("115000"),
        Decimal("305000"),
        Decimal("1000"),
        Decimal("421000"),
        Decimal("400000"),
    )
    assert split.cells["total"] == "421\u00a0000,00\u00a0€"
    empty = budget_split(BudgetInput())
    assert (empty.state, empty.total) == (None, None)
    assert empty.cells["state"] == ""
    assert budget_split(None) is None


def test_paragraphs_keep_lines_and_bullets():
    text = "Il est proposé :\n\n- ❖ d'inscrire la démarche,\n• de signer\n-10 % de coût"
    assert paragraphs(text) == (
        Paragraph("Il est proposé :"),
        Paragraph("d'inscrire la démarche,", bullet=True),
        Paragraph("de signer", bullet=True),
        Paragraph("-10 % de coût"),
    )


def _fiche(key, block, theme, number, **kwargs):
    return FicheInput(
        key=key,
        block=block,
        theme_key=theme,
        theme_label=f"Thème {theme}",
        number=number,
        title=f"Action {key}",
        printed_title=f"Action {key}",
        **kwargs,
    )


def test_report_orders_numbers_and_leaves_out_retired_fiches():
    cover = Cover("Département de Test", "99", "Région", "Convention", 2022, GENERATED_ON)
    report = build_execution_report(
        cover=cover,
        fiches=[
            _fiche("i", "initiative", "t9", "1.1"),
            _fiche("c", "socle", "t2", "5.10"),
            _fiche("b", "socle", "t2", "5.2"),
            _fiche("a", "socle", "t1", "2.1"),
            _fiche("r", "socle", "t1", "2.2", retired=True),
            _fiche(
                "x",
                "socle",
                "t1",
                "2.3",
                indicators=(IndicatorInput("Nb", "higher", None, Measure("5", Decimal(5))),),
            ),
        ],
        financial_table=None,
    )
    assert [(block.path, block.title) for block in report.blocks] == [
        ("1", "Mesures socle"),
        ("2", "Mesures à l'initiative du Département"),
    ]
    assert [(theme.path, theme.label) for theme in report.blocks[0].themes] == [
        ("1.1", "Thème t1"),
        ("1.2", "Thème t2"),
    ]
    assert [(fiche.path, fiche.number) for fiche in report.fiches] == [
        ("1.1.1", "2.1"),
        ("1.1.2", "2.3"),
        ("1.2.1", "5.2"),
        ("1.2.2", "5.10"),
        ("2.1.1", "1.1"),
    ]
    assert report.fiches[1].indicators[0].current == "5"
    assert report.previous_label == "Valeur au 31/12/2021"


# --- Selector -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_report_reads_a_year_in_a_fixed_number_of_queries():
    convention_year = _year("77", 2022)
    with CaptureQueriesContext(connection) as all_fiches:
        report = execution_report(convention_year, generated_on=GENERATED_ON)
    assert len(report.fiches) == 16
    kept = list(
        ActionYear.objects.filter(convention_year=convention_year)
        .order_by("number")
        .values_list("pk", flat=True)[:2]
    )
    ActionYear.objects.filter(convention_year=convention_year).exclude(pk__in=kept).delete()
    with CaptureQueriesContext(connection) as two_fiches:
        report = execution_report(convention_year, generated_on=GENERATED_ON)
    assert len(report.fiches) == 2
    assert len(two_fiches) == len(all_fiches) == 19  # 15, and 4 for the indicator matrix
    print(f"\nRapport d'exécution : {len(all_fiches)} requêtes")


@pytest.mark.django_db
def test_report_escapes_narrative_texts():
    convention_year = _year("77", 2022)
    action_year = ActionYear.objects.filter(convention_year=convention_year).order_by("number")[0]
    action_year.execution_review = "<script>alert(1)</script>\nSeconde ligne & fin"
    action_year.save()
    html = execution_report_html(execution_report(convention_year, generated_on=GENERATED_ON))
    assert "<script>alert(1)</script>" not in html
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>" in html
    assert "<p>Seconde ligne &amp; fin</p>" in html


@pytest.mark.django_db
def test_retired_fiches_are_left_out():
    convention_year = _year("77", 2022)
    action_year = ActionYear.objects.filter(convention_year=convention_year).order_by("number")[0]
    action_year.status = "retired"
    action_year.save()
    report = execution_report(convention_year, generated_on=GENERATED_ON)
    assert action_year.title not in [fiche.title for fiche in report.fiches]
    assert len(report.fiches) == 15


# --- PDF ----------------------------------------------------------------------------------------


# Tests reading the module fixture below are marked django_db: pytest-django then runs them before
# the transactional tests (browser, concurrency), which empty the database when they end.
@pytest.fixture(scope="module")
def report_pdf(django_db_blocker):
    with django_db_blocker.unblock():
        convention_year = _year("77", 2022)
        started = time.perf_counter()
        report = execution_report(convention_year, generated_on=GENERATED_ON)
        pdf = execution_report_pdf(report)
        elapsed = time.perf_counter() - started
    print(f"\nRapport d'exécution 77 2022 : {elapsed:.2f} s, {len(pdf)} octets")
    reader = PdfReader(io.BytesIO(pdf))
    return report, reader, [page.extract_text() for page in reader.pages]


@pytest.mark.django_db
def test_pdf_has_the_cover_fiches_and_annex_totals(report_pdf):
    report, _, pages = report_pdf
    first = _spaced(pages[0])
    assert "Rapport d'exécution de la convention d'appui à la lutte contre la pauvreté" in first
    assert "Département de Seine-et-Marne (77)" in first
    assert "Île-de-France" in first
    text = _squash("".join(pages))
    for row in report.financial_table.rows:
        if row.kind == RowKind.ACTION:
            assert _squash(row.title) in text, row.title
    assert _squash("Bilan d'exécution") in text
    assert _squash("Annexe 2. Tableau financier 2022") in text
    assert "11 178 230,00 €" in _spaced(pages[-1])
    assert "8 195 325,07 €" in _spaced(pages[-1])


@pytest.mark.django_db
def test_pdf_pages_are_portrait_then_landscape_for_the_annex(report_pdf):
    _, reader, pages = report_pdf
    first = reader.pages[0].mediabox
    assert first.width < first.height
    # The annexes (indicator matrix, then financial table) are landscape, the rest portrait.
    annex = [
        index
        for index, text in enumerate(pages)
        if index > 2 and ("TABLEAU DES INDICATEURS" in text or "TABLEAU FINANCIER" in text)
    ]
    assert annex
    assert "TOTAUX FINANCIERS" in pages[-1]
    for index in range(annex[0], len(pages)):
        box = reader.pages[index].mediabox
        assert box.width > box.height, index
    assert all(
        reader.pages[index].mediabox.width < reader.pages[index].mediabox.height
        for index in range(annex[0] - 1)
    )
    assert "page 1 / " not in pages[0]  # no header nor footer on the cover
    assert f"page 3 / {len(pages)}" in pages[2]


def _toc_entry(heading: str) -> re.Pattern:
    """A table of contents line: the heading (wrapped anywhere), the leader dots, the page."""
    letters = r"\s*".join(re.escape(char) for char in _squash(heading))
    return re.compile(letters + r"[\s.]*?\.{2,}\s*(\d+)[ \t]*$", re.MULTILINE)


@pytest.mark.django_db
def test_table_of_contents_gives_the_page_of_each_fiche(report_pdf):
    report, _, pages = report_pdf
    toc_pages = [index for index, text in enumerate(pages) if "Sommaire" in text]
    assert toc_pages
    for fiche in (report.fiches[0], report.fiches[6], report.fiches[-1]):
        heading = f"{fiche.path}. {fiche.printed_title}"
        entry = _toc_entry(heading)
        matches = [entry.search(text) for text in pages[toc_pages[0] : toc_pages[0] + 3]]
        found_in_toc = [match for match in matches if match]
        assert found_in_toc, heading
        page = int(found_in_toc[0].group(1))
        # The first page that prints the heading outside the table of contents (Annexe 1 prints
        # it again).
        printed = [
            number
            for number, text in enumerate(pages, start=1)
            if _squash(heading) in _squash(text) and not entry.search(text)
        ]
        assert printed and printed[0] == page, (heading, page, printed)


@pytest.mark.django_db
def test_annex_1_is_the_indicator_matrix_of_the_year(report_pdf):
    """Annexe 1 is the year's « Tableau des indicateurs », the same as its own document."""
    _, _, pages = report_pdf
    annex = " ".join(text for text in pages if "TABLEAU DES INDICATEURS" in text)
    assert "1. Enfants et jeunes" in annex
    assert "Nombre de premiers contacts établis" in annex
