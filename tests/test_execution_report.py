"""Rapport d'exécution N (CALPAE.md §6): the computed report, its queries and its PDF.

Pure tests check the computation (degré de réalisation, budget splits, order and numbering);
database tests check that the selector reads a year in a fixed number of queries; PDF tests
check what a reader finds in the printed report of Seine-et-Marne 2022 (demo data).
"""

import base64
import datetime
import io
import re
import time
from decimal import Decimal
from html import escape, unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from actions.models import ActionYear
from conventions.models import ConventionYear
from indicators.choices import PeriodKind, ValueStatus
from indicators.models import Indicator, IndicatorValue, Period
from indicators.selectors import action_indicator_sheet, indicator_charts
from reports.charts import SeriesPoint
from reports.matrix_selectors import indicator_matrix
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
    financial_synthesis,
    paragraphs,
    realisation_rate,
)
from reports.report_pdf import execution_report_html, execution_report_pdf
from reports.report_selectors import execution_report
from reports.selectors import execution_table
from reports.tables import Block, FinancialTable, RowKind, TableKind, TableRow

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


# --- Charts and synthesis (pure) ----------------------------------------------------------------

COVER = Cover("Département de Test", "99", "Région", "Convention", 2022, GENERATED_ON)
SERIES = (
    SeriesPoint("Résultat atteint en 2021", Decimal(40), "2021"),
    SeriesPoint("Résultat atteint en 2022", Decimal(55), "2022"),
)


TARGET = Measure("60", Decimal(60))


def _indicator(label, series=SERIES, target=TARGET):
    return IndicatorInput(label, "higher", None, None, target, series=series)


def test_each_indicator_with_numbers_has_its_chart_after_the_table():
    no_number = (SeriesPoint("Résultat atteint en 2022", None, "2022"),)
    report = build_execution_report(
        cover=COVER,
        fiches=[
            _fiche(
                "a",
                "socle",
                "t1",
                "1.1",
                indicators=(
                    _indicator("Nombre de jeunes accompagnés"),
                    _indicator("Données non disponibles", series=no_number, target=None),
                    _indicator("Délai moyen", target=None),
                ),
            )
        ],
        financial_table=None,
    )
    (fiche,) = report.fiches
    assert [chart.label for chart in fiche.charts] == [
        "Nombre de jeunes accompagnés",
        "Délai moyen",
    ]
    first = fiche.charts[0]
    assert "Objectif 2022" in first.svg
    assert first.description == (
        "Résultat atteint en 2021 : 40 ; Résultat atteint en 2022 : 55 ; Objectif 2022 : 60."
    )
    assert "Objectif" not in fiche.charts[1].description


def test_a_chart_shared_by_the_fiches_of_a_theme_is_printed_once():
    shared = (_indicator("Nombre de jeunes accompagnés"), _indicator("Délai moyen"))
    report = build_execution_report(
        cover=COVER,
        fiches=[
            _fiche("a", "socle", "t1", "1.1", indicators=shared),
            _fiche("b", "socle", "t1", "1.2", indicators=(*shared, _indicator("Propre à b"))),
            _fiche("c", "socle", "t1", "1.3", indicators=shared),
        ],
        financial_table=None,
    )
    first, second, third = report.fiches
    assert len(first.charts) == 2 and not first.charts_elsewhere
    assert [chart.label for chart in second.charts] == ["Propre à b"]
    (reference,) = second.charts_elsewhere
    assert (reference.path, reference.anchor, reference.count) == ("1.1.1", "fiche-a-graphiques", 2)
    assert reference.text == "Les graphiques de 2 de ces indicateurs figurent au"
    assert third.charts == ()
    assert third.charts_elsewhere[0].text == "Les graphiques de ces indicateurs figurent au"


def _table(rows, year=2022):
    return FinancialTable(
        kind=TableKind.EXECUTION, year=year, title_lines=(), columns=(), rows=tuple(rows)
    )


def _row(kind, theme_key, amounts):
    return TableRow(
        kind=kind,
        block=Block.SOCLE,
        theme_key=theme_key,
        theme_label=f"Thème {theme_key}",
        chorus="",
        number="",
        title="",
        amounts={key: Decimal(value) for key, value in amounts.items()},
    )


def test_financial_synthesis_gives_the_totals_in_a_sentence():
    amounts = {"A": "300", "B": "100", "C": "500", "D": "0", "E": "100", "F": "1000"}
    table = _table(
        [
            _row(RowKind.ACTION, "t1", {**amounts, "realised": "730"}),
            _row(RowKind.THEME_SUBTOTAL, "t1", {**amounts, "realised": "730"}),
            _row(RowKind.GRAND_TOTAL, None, {**amounts, "realised": "730"}),
        ]
    )
    synthesis = financial_synthesis(table, path="3", short_labels={"t1": "Court"})
    assert (synthesis.path, synthesis.title) == ("3", "Synthèse financière")
    assert _spaced(synthesis.summary).startswith(
        "En 2022, le budget global des actions s'élève à 1 000,00 € : 400,00 € de crédits de "
        "l'État (A+B), 500,00 € de crédits du Département (C+D) et 100,00 € d'autres financeurs "
        "(E). Le montant réalisé au 31/12/2022 est de 730,00 €, soit 73 % du budget global."
    )
    assert "Exécution 2022 par thème" in synthesis.chart_svg
    assert ">Court<" in synthesis.chart_svg


def test_financial_synthesis_without_executed_budget_has_no_chart():
    table = _table([_row(RowKind.GRAND_TOTAL, None, {"F": "0", "realised": "0"})])
    synthesis = financial_synthesis(table, path="2")
    assert synthesis.summary == "Aucun budget exécuté n'est saisi pour 2022."
    assert synthesis.chart_svg == "" and synthesis.chart_data_uri == ""


# --- Selector -----------------------------------------------------------------------------------


def _query_count(function, *args, **kwargs) -> int:
    with CaptureQueriesContext(connection) as queries:
        function(*args, **kwargs)
    return len(queries)


@pytest.mark.django_db
def test_report_reads_a_year_in_a_fixed_number_of_queries():
    """9 queries of its own (the values of every period, for the columns and the charts, in
    one), plus those of Annexe 2's table and Annexe 1's matrix: the same for 16 fiches with
    their charts as for 2 fiches, or with one more period of values."""
    convention_year = _year("77", 2022)
    annexes = _query_count(execution_table, convention_year) + _query_count(
        indicator_matrix, convention_year
    )
    with CaptureQueriesContext(connection) as all_fiches:
        report = execution_report(convention_year, generated_on=GENERATED_ON)
    assert len(report.fiches) == 16
    assert sum(len(fiche.charts) for fiche in report.fiches) >= 6
    assert len(all_fiches) == 9 + annexes
    kept = list(
        ActionYear.objects.filter(
            convention_year=convention_year, number__in=("1.1", "4.1")
        ).values_list("pk", flat=True)
    )
    ActionYear.objects.filter(convention_year=convention_year).exclude(pk__in=kept).delete()
    with CaptureQueriesContext(connection) as two_fiches:
        report = execution_report(convention_year, generated_on=GENERATED_ON)
    assert len(report.fiches) == 2
    assert len(two_fiches) == len(all_fiches)
    # One more period, with a value for each indicator: more points, not more queries.
    period = Period.objects.create(
        department=convention_year.convention.department,
        label="Situation au 31 déc. 2017",
        kind="baseline",
        year=2017,
        end_date=datetime.date(2017, 12, 31),
    )
    IndicatorValue.objects.bulk_create(
        IndicatorValue(indicator=indicator, period=period, raw="12", number=Decimal(12))
        for indicator in Indicator.objects.all()
    )
    with CaptureQueriesContext(connection) as more_values:
        report = execution_report(convention_year, generated_on=GENERATED_ON)
    assert len(more_values) == len(all_fiches)
    assert any(
        "Situation au 31 déc. 2017 : 12" in chart.description
        for fiche in report.fiches
        for chart in fiche.charts
    )
    print(f"\nRapport d'exécution : {len(all_fiches)} requêtes")


@pytest.mark.django_db
def test_report_charts_are_those_of_the_indicator_page():
    """The same function, fed from the same numbers: the report's charts of a fiche are the
    very SVG of its indicator page."""
    convention_year = _year("77", 2022)
    report = execution_report(convention_year, generated_on=GENERATED_ON)
    action_year = ActionYear.objects.select_related("convention_year__convention").get(
        convention_year=convention_year, number="4.1"
    )
    fiche = next(fiche for fiche in report.fiches if fiche.number == "4.1")
    page_charts = indicator_charts(action_indicator_sheet(action_year))
    assert len(page_charts) == 6
    assert list(fiche.charts) == page_charts


@pytest.mark.django_db
def test_report_charts_stop_at_its_year_and_draw_its_target():
    """The 2022 report leaves out the 1st quarter of 2023; the 2023 report draws it, against
    the 2023 target of the convention (ANNEXE 8)."""
    label = "Nombre de bénéficiaires en cours d'accompagnement par l'accompagnement global"

    def chart_of(year):
        report = execution_report(_year("77", year), generated_on=GENERATED_ON)
        return next(
            chart
            for fiche in report.fiches
            for chart in fiche.charts
            if chart.label.startswith(label)
        )

    assert "2023" not in chart_of(2022).description
    assert chart_of(2023).description.endswith(
        "Résultat atteint sur le 1er trimestre 2023 (conventions en année glissante) : 729 ; "
        "Objectif 2023 : 709."
    )


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
    return re.compile(letters + r"[\s.]*?(?:\.\s*){2,}(\d+)[ \t]*$", re.MULTILINE)


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


# --- Charts and synthesis in the printed report -------------------------------------------------

SVG_IMAGE = re.compile(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)" alt="([^"]*)"')


def _images(html: str) -> list[tuple[str, str]]:
    """The SVG images of some HTML: (the SVG, its alternative text)."""
    return [
        (base64.b64decode(data).decode(), unescape(alt)) for data, alt in SVG_IMAGE.findall(html)
    ]


@pytest.fixture(scope="module")
def report_html(report_pdf):
    report, _, _ = report_pdf
    return execution_report_html(report)


def _fiche_html(html: str, fiche) -> str:
    return html.split(f'<article class="fiche" id="{fiche.anchor}">')[1].split("</article>")[0]


@pytest.mark.django_db
def test_report_shows_the_charts_of_a_fiche_after_its_indicator_table(report_pdf, report_html):
    report, _, _ = report_pdf
    fiche = next(fiche for fiche in report.fiches if fiche.number == "4.1")
    section = _fiche_html(report_html, fiche)
    table_end = section.index("</table>", section.index('class="report-table indicator-table"'))
    review = section.index(f"{fiche.path}.7. Bilan d")
    assert table_end < section.index('class="report-charts"') < review
    images = _images(section)
    assert len(images) == 6
    title = "Nombre total de 1ers rendez-vous d'accompagnement fixés"
    # The indicator's label is printed above its chart, as text.
    assert f'<p class="report-chart-title">{escape(title)}</p>' in section
    svg, alt = next((svg, alt) for svg, alt in images if alt.startswith(f"{title} — "))
    assert svg.startswith("<svg")
    assert ">1er sem. 2022<" in svg  # the periods under the axis
    assert "5\u00a0265" in svg  # the value of 2022, printed on its point
    assert alt.startswith(f"{title} — Résultat atteint en 2019 : 4\u00a0767 ; ")


@pytest.mark.django_db
def test_report_refers_to_the_charts_of_the_theme_printed_under_its_first_fiche(
    report_pdf, report_html
):
    report, _, pages = report_pdf
    first, second = (fiche for fiche in report.fiches if fiche.number in ("5.1", "5.2"))
    assert len(_images(_fiche_html(report_html, first))) == 6
    section = _fiche_html(report_html, second)
    assert _images(section) == []
    assert (
        f'Les graphiques de ces indicateurs figurent au <a class="fiche-reference" '
        f'href="#{first.anchor}-graphiques">{first.path}.'
    ) in section
    # In the PDF, the reference is a link to the page that draws the charts.
    _, reader, pages = report_pdf
    text = _spaced(" ".join(pages))
    assert f"Les graphiques de ces indicateurs figurent au {first.path}. " in text
    referring = next(
        index for index, page in enumerate(pages) if f"figurent au {first.path}." in _spaced(page)
    )
    (target,) = {
        reader.get_destination_page_number(destination)
        for destination in _link_destinations(reader, referring)
        if destination.title == f"{first.anchor}-graphiques"
    }
    charts_page = _spaced(pages[target])
    assert "1er sem. 2022" in charts_page and "Valeur" in charts_page


def _link_destinations(reader: PdfReader, page_index: int):
    """The named destinations the links of a page lead to."""
    named = reader.named_destinations
    for annotation in reader.pages[page_index].get("/Annots") or []:
        annotation = annotation.get_object()
        action = annotation.get("/A")
        name = annotation.get("/Dest") or (action.get("/D") if action else None)
        if isinstance(name, str) and name in named:
            yield named[name]


@pytest.mark.django_db
def test_pdf_draws_the_charts(report_pdf):
    """WeasyPrint draws the SVG: its texts (axis, legend) are in the page, under the
    indicator's label."""
    _, _, pages = report_pdf
    drawn = [
        _spaced(text)
        for text in pages
        if "Nombre total de 1ers rendez-vous d'accompagnement fixés" in _spaced(text)
        and "1er sem. 2022" in _spaced(text)
    ]
    assert drawn
    assert "Valeur" in drawn[0] and "2021" in drawn[0]


@pytest.mark.django_db
def test_report_has_a_financial_synthesis_before_the_annexes(report_pdf, report_html):
    report, _, pages = report_pdf
    synthesis = report.synthesis
    assert (synthesis.path, synthesis.title) == ("3", "Synthèse financière")
    section = report_html.split('<section class="synthesis" id="synthese-financiere">')[1]
    section = section.split("</section>")[0]
    assert report_html.index('id="synthese-financiere"') < report_html.index('id="annexe-1"')
    assert report_html.index(f'id="{report.fiches[-1].anchor}"') < report_html.index(
        'id="synthese-financiere"'
    )
    text = _spaced(unescape(section))
    assert "3. Synthèse financière" in text
    assert "le budget global des actions s'élève à 11 178 230,00 €" in text
    assert "Le montant réalisé au 31/12/2022 est de 8 195 325,07 €, soit 73 % du budget global" in (
        text
    )
    ((svg, _),) = _images(section)
    assert ">Exécution 2022 par thème<" in svg
    assert ">Initiative du Département<" in svg  # the thème without sub-total row
    assert ">Réalisé au 31/12<" in svg
    # In the PDF: its own page, after the fiches and before Annexe 1, with the chart drawn.
    page = next(
        number
        for number, text in enumerate(pages, start=1)
        if "3. Synthèse financière" in text and "Sommaire" not in text
    )
    assert "Exécution 2022 par thème" in pages[page - 1]
    annex = next(
        number
        for number, text in enumerate(pages, start=1)
        if "Annexe 1." in text and number > page
    )
    assert page < annex


@pytest.mark.django_db
def test_table_of_contents_lists_the_synthesis_and_the_annexes_with_their_page(report_pdf):
    _, _, pages = report_pdf
    toc = " ".join(text for text in pages[:4] if "Sommaire" in text or "...." in text)
    for heading, printed in (
        ("3. Synthèse financière", "Exécution 2022 par thème"),
        ("Annexe 1. Tableau des indicateurs", "TABLEAU DES INDICATEURS"),
        ("Annexe 2. Tableau financier 2022", "TOTAUX FINANCIERS"),
    ):
        match = _toc_entry(heading).search(toc)
        assert match, heading
        page = pages[int(match.group(1)) - 1]
        assert _squash(heading) in _squash(page), heading
        assert printed in page or printed in pages[int(match.group(1))], heading


@pytest.mark.django_db
def test_a_cell_fusing_two_numbers_is_printed_but_not_charted(report_pdf, report_html):
    """« Nombre de nouveaux entrants » 2021 reads "2 478 724 812" in the 2022 report (two cells
    fused by the extraction, CALPAE.md §9.3): the tables print it as it is, the chart has no
    point for 2021 rather than a spike of two billion entrants."""
    _, _, pages = report_pdf
    value = IndicatorValue.objects.get(
        indicator__code="nombre-de-nouveaux-entrants",
        period__department__code="77",
        period__kind=PeriodKind.YEAR,
        period__year=2021,
    )
    assert (value.raw, value.number, value.status) == ("2 478 724 812", None, ValueStatus.TEXT)
    # Printed in the fiche's indicator table and in the matrix of Annexe 1.
    assert len(re.findall(r"2 478 724\s*812", _spaced(" ".join(pages)))) == 2
    (svg,) = [
        svg for svg, alt in _images(report_html) if alt.startswith("Nombre de nouveaux entrants — ")
    ]
    assert "724" not in svg and ">10\u00a0941<" in svg
