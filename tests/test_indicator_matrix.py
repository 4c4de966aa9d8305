"""The indicator matrix of a year (« Tableau des indicateurs », CALPAE.md §5.3).

Layers: the pure computation (degree of realisation, layout) without a database; the selector
on the demo data (Seine-et-Marne 2022, golden against the 2022 report's matrix); the XLSX and
PDF renderers read back; the selector's query count.
"""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from conventions.models import ConventionYear
from indicators.models import IndicatorValue, MatrixEntry
from reports.matrix import (
    DEGREE_HEADER,
    Degree,
    MatrixInput,
    MatrixRowKind,
    PeriodInput,
    ValueInput,
    build_indicator_matrix,
    degree_of_realisation,
    plain_number,
    result_of_year,
    value_cell,
)
from reports.matrix_selectors import indicator_matrix
from reports.pdf import indicator_matrix_html, indicator_matrix_pdf
from reports.tables import TableHeading
from reports.xlsx import indicator_matrix_xlsx

HEADING = TableHeading(
    year=2022, department_code="77", department_of_name="de Seine-et-Marne", region_name="IDF"
)


def number(text: str) -> ValueInput:
    return ValueInput(raw=text, number=Decimal(text))


def status(raw: str, code: str = "not_contracted", label: str = "Non contractualisé"):
    return ValueInput(raw=raw, status=code, status_label=label)


# --- Degree of realisation (pure) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "target", "direction", "expected"),
    [
        ("75", "100", "higher", Decimal("75.0")),
        ("150", "100", "higher", Decimal("150.0")),
        ("2", "3", "higher", Decimal("66.7")),  # rounded half up to 0.1
        ("25", "20", "lower", Decimal("80.0")),  # a delay of 25 days for a target of 20
        ("10", "20", "lower", Decimal("200.0")),
        ("0", "100", "higher", Decimal("0.0")),
    ],
)
def test_degree_from_direction(value, target, direction, expected):
    degree = degree_of_realisation(number(value), number(target), direction)
    assert degree == Degree(percent=expected)
    assert isinstance(degree.percent, Decimal)


def test_degree_printed_in_french():
    assert Degree(percent=Decimal("1184.0")).printed == "1\u00a0184,0\u00a0%"
    assert Degree().printed == ""


def test_neutral_direction_has_no_degree():
    assert degree_of_realisation(number("75"), number("100"), "neutral") == Degree()


@pytest.mark.parametrize(
    ("value", "target", "direction"), [("5", "0", "higher"), ("0", "50", "lower")]
)
def test_zero_divisor_has_no_degree(value, target, direction):
    assert degree_of_realisation(number(value), number(target), direction) == Degree()


def test_status_value_gives_its_status_text():
    degree = degree_of_realisation(
        status("Non contractualisé l'an dernier"), number("10"), "higher"
    )
    assert degree == Degree(text="Non contractualisé")
    # Even without a target: the status explains the missing result.
    assert degree_of_realisation(
        status("ND", "not_available", "Données non disponibles"), None, "higher"
    ).text == ("Données non disponibles")


def test_text_value_projection_or_text_target_has_no_degree():
    text_value = ValueInput(raw="250 à 300", status="text", status_label="Valeur en texte")
    assert degree_of_realisation(text_value, number("100"), "higher") == Degree()
    projection = ValueInput(
        raw="5008 – projection : 6009", number=Decimal("6009"), status="projection"
    )
    assert degree_of_realisation(projection, number("100"), "higher") == Degree()
    text_target = ValueInput(raw="2 mois", status="text")
    assert degree_of_realisation(number("3"), text_target, "lower") == Degree()
    assert degree_of_realisation(number("3"), None, "higher") == Degree()
    assert degree_of_realisation(None, number("3"), "higher") == Degree()


# --- Cells and layout (pure) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10 941", (Decimal("10941"), 0, False)),
        ("10\u00a0941", (Decimal("10941"), 0, False)),
        ("70,9", (Decimal("70.9"), 1, False)),
        ("47.63%", (Decimal("47.63"), 2, True)),
        ("49,40 %", (Decimal("49.40"), 2, True)),
        ("147 (au 31/10/2022)", None),
        ("1 2", None),  # two fused cells, not twelve
        ("26342 26 211", None),
        ("Non contractualisé", None),
    ],
)
def test_plain_number(raw, expected):
    assert plain_number(raw) == expected


def test_value_cell_keeps_text_unless_it_is_only_the_number():
    assert value_cell(ValueInput(raw="10 941", number=Decimal("10941"))).number == Decimal("10941")
    dated = value_cell(ValueInput(raw="147 (au 31/10/2022)", number=Decimal("147")))
    assert (dated.raw, dated.number) == ("147 (au 31/10/2022)", None)
    assert value_cell(status("Non contractualisé")).number is None
    assert value_cell(None).is_empty


PERIODS = (
    PeriodInput(
        "total",
        "Résultat atteint en 2022 (Total)",
        2022,
        datetime.date(2022, 12, 31),
        datetime.date(2022, 1, 1),
    ),
    PeriodInput(
        "s1", "1er semestre 2022", 2022, datetime.date(2022, 5, 30), datetime.date(2022, 1, 1)
    ),
    PeriodInput("2018", "Situation au 31 déc. 2018", 2018, datetime.date(2018, 12, 31)),
    PeriodInput(
        "2021",
        "Résultat atteint en 2021",
        2021,
        datetime.date(2021, 12, 31),
        datetime.date(2021, 1, 1),
    ),
)


def test_result_of_year_is_the_latest_period_of_the_year():
    ordered = sorted(PERIODS, key=lambda period: period.sort_key)
    values = {"s1": number("10"), "2021": number("7")}
    assert result_of_year(values, ordered, 2022).raw == "10"
    values["total"] = number("30")
    assert result_of_year(values, ordered, 2022).raw == "30"
    assert result_of_year({"2021": number("7")}, ordered, 2022) is None


def test_build_matrix_columns_and_headings():
    rows = [
        MatrixInput(
            "1. Enfants", "1.1 Maraudes", "A", values={"s1": number("5")}, target=number("10")
        ),
        MatrixInput("1. Enfants", "1.1 Maraudes", "B", is_sub_indicator=True),
        MatrixInput(
            "1. Enfants",
            "1.2 Prévention",
            "C",
            direction="lower",
            values={"total": number("40")},
            target=number("20"),
        ),
        MatrixInput("2. Travail social", "", "D", values={"2018": status("Non contractualisé")}),
    ]
    matrix = build_indicator_matrix(heading=HEADING, periods=PERIODS, rows=rows)
    headers = [column.header for column in matrix.columns]
    assert headers == [
        "Indicateurs",
        "Commentaires et Eléments de définition",
        "Situation au 31 déc. 2018",
        "Résultat atteint en 2021",
        "1er semestre 2022",
        "Résultat atteint en 2022 (Total)",
        "Résultat attendu en 2022 (objectif fixé)",
        DEGREE_HEADER,
    ]
    assert [(row.kind, row.label) for row in matrix.rows] == [
        (MatrixRowKind.GROUP, "1. Enfants"),
        (MatrixRowKind.MEASURE, "1.1 Maraudes"),
        (MatrixRowKind.INDICATOR, "A"),
        (MatrixRowKind.INDICATOR, "B"),
        (MatrixRowKind.MEASURE, "1.2 Prévention"),
        (MatrixRowKind.INDICATOR, "C"),
        (MatrixRowKind.GROUP, "2. Travail social"),
        (MatrixRowKind.INDICATOR, "D"),
    ]
    a, b, c, d = matrix.indicator_rows
    assert [cell.raw for cell in a.cells] == ["", "", "5", ""]
    assert a.degree.percent == Decimal("50.0")
    assert b.is_sub_indicator and b.degree == Degree()
    assert c.degree.percent == Decimal("50.0")  # lower is better: 20 / 40
    # A status of 2018 is not the result of 2022: no degree.
    assert d.degree == Degree()
    assert matrix.title_lines[0] == "TABLEAU DES INDICATEURS"
    assert matrix.title_lines[-1] == "Année 2022"


def test_matrix_with_formula_like_label_stays_text():
    rows = [MatrixInput("=1+1", "", '=HYPERLINK("x")', values={"s1": number("5")})]
    matrix = build_indicator_matrix(heading=HEADING, periods=PERIODS, rows=rows)
    data = indicator_matrix_xlsx(matrix)
    assert data == indicator_matrix_xlsx(matrix)  # the same matrix, the same bytes
    sheet = load_workbook(io.BytesIO(data)).active
    values = [cell.value for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert '=HYPERLINK("x")' in values and "=1+1" in values
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


# --- Seine-et-Marne 2022 (demo data, golden against the 2022 report) -------------------------

PERIODS_2022 = (
    "Résultat atteint au 1er semestre 2022 (1/01 au 30/05/22)",
    "Résultat atteint en 2022 (Total)",
)


@pytest.fixture
def year_2022(db):
    return ConventionYear.objects.get(convention__department__code="77", year=2022)


@pytest.fixture
def report_2022(shared_data):
    return shared_data("seine-et-marne-indicators.json")["matrix_2022_report"]


def _indicator_rows(report):
    return [
        row
        for row in report["rows"]
        if row["record_type"] == "indicator" and (row.get("indicator") or "").strip()
    ]


def _sheet_rows(sheet):
    """(kind, label, {header: value}) for each body row: a heading row is merged across."""
    merged = {rng.min_row for rng in sheet.merged_cells.ranges if rng.min_col == 1}
    header_row = next(
        row for row in range(1, sheet.max_row + 1) if sheet.cell(row, 1).value == "Indicateurs"
    )
    headers = [sheet.cell(header_row, column).value for column in range(1, sheet.max_column + 1)]
    rows = []
    for number in range(header_row + 1, sheet.max_row + 1):
        label = sheet.cell(number, 1).value
        if number in merged:
            rows.append(("heading", label, {}))
        else:
            cells = {
                headers[c - 1]: sheet.cell(number, c).value for c in range(1, len(headers) + 1)
            }
            rows.append(("indicator", label, cells))
    return headers, rows


def test_matrix_2022_columns(year_2022):
    matrix = indicator_matrix(year_2022)
    assert [column.header for column in matrix.period_columns] == [
        "Situation au 31 déc. 2018",
        "Résultat atteint en 2019",
        "Résultat atteint en 2020 et situation au 31 déc. 2020 pour la mesure mobilité",
        "Résultat atteint en 2021 (1/01/21 au 31/12/21)",
        *PERIODS_2022,
    ]  # the 2022 report's columns; ANNEXE 8's first quarter of 2023 is not shown
    assert len(matrix.indicator_rows) == 61


def test_xlsx_2022_lists_every_indicator_under_its_group(year_2022, report_2022):
    sheet = load_workbook(io.BytesIO(indicator_matrix_xlsx(indicator_matrix(year_2022)))).active
    groups = {row["label"] for row in report_2022["rows"] if row["record_type"] == "group"}
    _headers, rows = _sheet_rows(sheet)
    printed = []
    group = None
    for kind, label, _cells in rows:
        if kind == "heading" and label in groups:
            group = label
        elif kind == "indicator":
            printed.append((group, label))
    expected = [(row["group"], row["indicator"].strip()) for row in _indicator_rows(report_2022)]
    assert printed == expected
    assert sheet.freeze_panes is not None
    assert sheet.page_setup.orientation == "landscape"
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4


def _same(cell_value, value: IndicatorValue) -> bool:
    if isinstance(cell_value, str):
        return cell_value == value.raw
    parsed = plain_number(value.raw)
    assert parsed is not None, value.raw
    amount, _decimals, is_percent = parsed
    return Decimal(str(cell_value)) == (amount / 100 if is_percent else amount)


def test_xlsx_2022_holds_the_values_of_2022_periods(year_2022, report_2022):
    sheet = load_workbook(io.BytesIO(indicator_matrix_xlsx(indicator_matrix(year_2022)))).active
    _headers, rows = _sheet_rows(sheet)
    indicator_rows = [cells for kind, _label, cells in rows if kind == "indicator"]
    entries = list(MatrixEntry.objects.filter(convention_year=year_2022).order_by("position"))
    assert len(indicator_rows) == len(entries)
    demo = {
        (value.indicator_id, value.period.label): value
        for value in IndicatorValue.objects.filter(
            period__department__code="77", period__year=2022
        ).select_related("period")
    }
    checked = 0
    for entry, cells in zip(entries, indicator_rows, strict=True):
        for header in PERIODS_2022:
            value = demo.get((entry.indicator_id, header))
            if value is None:
                assert cells[header] is None
            else:
                assert _same(cells[header], value), (entry, header, cells[header], value.raw)
                checked += 1
    in_matrix = {entry.indicator_id for entry in entries}
    # Every 2022 value of the year's indicators is printed (55 of the 66 of the two periods:
    # the others belong to indicators of the 2023 matrix only).
    assert checked == sum(1 for indicator, _header in demo if indicator in in_matrix) == 55

    # And they are the values the 2022 report prints (as extracted, or re-aligned).
    for row, cells in zip(_indicator_rows(report_2022), indicator_rows, strict=True):
        printed = row.get("values_by_period") or row.get("values_by_period_inferred") or {}
        for header in PERIODS_2022:
            raw = (printed.get(header) or "").strip()
            if raw and isinstance(cells[header], str):
                assert cells[header].strip() == raw


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "".join(page.extract_text() for page in reader.pages)


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_pdf_2022_shows_groups_and_indicators(year_2022, report_2022):
    matrix = indicator_matrix(year_2022)
    data = indicator_matrix_pdf(matrix, generated_on=datetime.date(2024, 1, 15))
    assert data.startswith(b"%PDF")
    text = _squeezed(_pdf_text(data))
    groups = [row["label"] for row in report_2022["rows"] if row["record_type"] == "group"]
    assert len(groups) == 5
    for group in groups:
        assert _squeezed(group) in text
    for label in (
        "Nombre de premiers contacts établis",
        "Nombre d'ETP dédiés à la prévention spécialisée",
        "Nombre de nouvelles structures partenaires",
        "Développement social",
    ):
        assert _squeezed(label) in text
    assert "page1/" in text
    assert _squeezed("TABLEAU DES INDICATEURS") in text


def test_html_preview_repeats_headers_and_escapes(year_2022):
    html = indicator_matrix_html(
        indicator_matrix(year_2022), generated_on=datetime.date(2024, 1, 15)
    )
    assert "<thead>" in html
    assert "A4 landscape" in html
    assert "Degré de réalisation" in html


# --- Queries -----------------------------------------------------------------------------------


def _queries(convention_year) -> int:
    with CaptureQueriesContext(connection) as context:
        indicator_matrix(convention_year)
    return len(context.captured_queries)


@pytest.mark.django_db
def test_selector_query_count_is_constant():
    years = {
        year.year: year for year in ConventionYear.objects.filter(convention__department__code="77")
    }
    counts = {year: _queries(years[year]) for year in (2020, 2022, 2023)}
    # 10, 61 and 80 rows: the year, its entries, their values, their targets.
    assert counts == {2020: 4, 2022: 4, 2023: 4}
