"""The financial tables as PDF: the official layout (CALPAE.md §5.1, §5.2) rendered by WeasyPrint.

HTML tests check the structure the template builds from the computed table (merged thème cells,
sub-totals, escaping); PDF tests check what a reader of the printed document finds in it (every
action, the verbatim headers, the totals written the French way, landscape pages).
"""

import datetime
import io
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

from conventions.models import ConventionYear
from reports.formatting import format_euros
from reports.pdf import financial_table_html, financial_table_pdf, running_header
from reports.selectors import execution_table, planned_table
from reports.tables import (
    GRAND_TOTAL_LABEL,
    TEXT_HEADERS,
    THEME_SUBTOTAL_LABEL,
    Block,
    BudgetLine,
    RowKind,
    TableHeading,
    ThemeInput,
    build_execution_table,
)

GENERATED_ON = datetime.date(2025, 1, 15)


def _year(code: str, year: int) -> ConventionYear:
    return ConventionYear.objects.get(convention__department__code=code, year=year)


def _squash(text: str) -> str:
    """Text without any whitespace: titles wrap over several lines in the PDF."""
    return re.sub(r"\s+", "", text)


def _spaced(text: str) -> str:
    """Whitespace runs (no-break spaces included, however the PDF renders them) as one space."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip()


def _pdf_text(pdf: bytes) -> tuple[PdfReader, list[str]]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, [page.extract_text() for page in reader.pages]


# --- HTML ---------------------------------------------------------------------------------------


class _TableParser(HTMLParser):
    """The header cells and the body rows of the page's table, cell by cell."""

    def __init__(self):
        super().__init__()
        self.headers: list[str] = []
        self.rows: list[list[dict]] = []
        self._section = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("thead", "tbody"):
            self._section = tag
        elif tag == "tr" and self._section == "tbody":
            self.rows.append([])
        elif tag in ("td", "th") and self._section:
            self._cell = {
                "tag": tag,
                "class": attributes.get("class") or "",
                "rowspan": int(attributes.get("rowspan") or 1),
                "colspan": int(attributes.get("colspan") or 1),
                "text": "",
            }

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._cell["text"] = _spaced(self._cell["text"])
            if self._section == "thead":
                self.headers.append(self._cell["text"])
            else:
                self.rows[-1].append(self._cell)
            self._cell = None
        elif tag in ("thead", "tbody"):
            self._section = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data


def _parse(html: str) -> _TableParser:
    parser = _TableParser()
    parser.feed(html)
    parser.close()
    return parser


def _cells(row: list[dict], css_class: str) -> list[dict]:
    return [cell for cell in row if css_class in cell["class"].split()]


TABLES = {
    "execution-2022": lambda: execution_table(_year("77", 2022)),
    "planned-2023": lambda: planned_table(_year("77", 2023)),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", TABLES)
def test_html_headers_are_verbatim_in_the_official_order(name):
    table = TABLES[name]()
    parsed = _parse(financial_table_html(table, generated_on=GENERATED_ON))

    title_header = TEXT_HEADERS["title"]
    if name.startswith("execution"):
        title_header += " une ligne par action financée"
    assert parsed.headers == [
        TEXT_HEADERS["theme"],
        TEXT_HEADERS["chorus"],
        TEXT_HEADERS["number"],
        title_header,
        *(column.header for column in table.columns),
        TEXT_HEADERS["comment"],
    ]
    assert len(parsed.headers) == (15 if name.startswith("execution") else 12)


@pytest.mark.django_db
@pytest.mark.parametrize("name", TABLES)
def test_html_theme_cells_span_the_rows_of_their_theme(name):
    table = TABLES[name]()
    parsed = _parse(financial_table_html(table, generated_on=GENERATED_ON))

    assert len(parsed.rows) == len(table.rows)
    rows_of_theme: dict[str, int] = {}
    for row in table.rows:
        if row.theme_key is not None:
            rows_of_theme[row.theme_key] = rows_of_theme.get(row.theme_key, 0) + 1
    spans = {}
    for row, cells in zip(table.rows, parsed.rows, strict=True):
        themes, choruses = _cells(cells, "theme"), _cells(cells, "chorus")
        if themes:
            (theme,), (chorus,) = themes, choruses
            assert theme["text"] == _spaced(row.theme_label)
            assert chorus["text"] == _spaced(row.chorus)
            assert chorus["rowspan"] == theme["rowspan"]
            assert row.theme_key not in spans, f"thème {row.theme_key} fusionné deux fois"
            spans[row.theme_key] = theme["rowspan"]
    assert spans == rows_of_theme


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "data_file"),
    [
        ("execution-2022", "seine-et-marne-2022-execution.json"),
        ("planned-2023", "seine-et-marne-2023-previsionnel.json"),
    ],
)
def test_html_one_sous_total_per_theme_and_totaux_last(name, data_file, shared_data):
    table = TABLES[name]()
    printed = shared_data(data_file)
    parsed = _parse(financial_table_html(table, generated_on=GENERATED_ON))

    subtotals = [
        (row.theme_key, cells)
        for row, cells in zip(table.rows, parsed.rows, strict=True)
        if any(cell["text"] == THEME_SUBTOTAL_LABEL for cell in cells)
    ]
    assert len(subtotals) == sum(
        1 for record in printed["rows"] if record["record_type"] == "theme_subtotal"
    )
    themes_with_actions = {row.theme_key for row in table.rows_of_kind(RowKind.ACTION)}
    socle_themes = {row.theme_key for row in table.rows if row.block == Block.SOCLE} - {None}
    subtotal_themes = [theme_key for theme_key, _ in subtotals]
    assert len(subtotal_themes) == len(set(subtotal_themes))
    # Every socle thème has its sub-total, and so has every thème with actions except in an
    # initiative block of a single thème (which the block's sub-total closes).
    assert socle_themes <= set(subtotal_themes)
    initiative = {row.theme_key for row in table.rows if row.block == Block.INITIATIVE} - {None}
    if len(initiative) > 1:
        assert themes_with_actions <= set(subtotal_themes)

    # A sub-total prints every amount column, zeros included.
    for _, cells in subtotals:
        assert all(cell["text"] for cell in _cells(cells, "amount"))

    last = parsed.rows[-1]
    assert last[0]["text"] == GRAND_TOTAL_LABEL
    assert last[0]["colspan"] == 4
    assert [cell["text"] for cell in _cells(last, "amount")] == [
        _spaced(format_euros(table.grand_total.amounts[key])) for key in table.amount_keys
    ]


@pytest.mark.django_db
def test_html_empty_cells_stay_empty():
    table = execution_table(_year("77", 2022))
    parsed = _parse(financial_table_html(table, generated_on=GENERATED_ON))

    for row, cells in zip(table.rows, parsed.rows, strict=True):
        amounts = _cells(cells, "amount")
        expected = [_spaced(format_euros(row.amounts[key])) for key in table.amount_keys]
        assert [cell["text"] for cell in amounts] == expected
        if row.kind == RowKind.PLACEHOLDER:
            assert not any(cell["text"] for cell in amounts)


def _table_with_text(*, title: str, theme_label: str, department_of_name: str):
    return build_execution_table(
        heading=TableHeading(
            year=2024,
            department_code="77",
            department_of_name=department_of_name,
            region_name="Île-de-France",
        ),
        themes=[
            ThemeInput(key="T1", label=theme_label, block=Block.SOCLE, position=1, chorus="01")
        ],
        lines=[
            BudgetLine(
                action_key="X",
                theme_key="T1",
                number="1.1",
                title=title,
                state_new=Decimal("1000.00"),
                cd_new=Decimal("1000.00"),
                comment="<b>gras</b> & fin",
            )
        ],
    )


def test_html_escapes_user_text():
    table = _table_with_text(
        title="<script>alert('x')</script> Fiche",
        theme_label="Thème <i>italique</i>",
        department_of_name='de "Test"; } </style><script>alert(1)</script>',
    )

    html = financial_table_html(table, generated_on=GENERATED_ON)

    assert "<script>" not in html
    assert "<i>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Fiche" in html
    assert "&lt;b&gt;gras&lt;/b&gt; &amp; fin" in html
    # The running header is a CSS string: the Département's name cannot end it or the style.
    assert html.count("</style>") == 1
    parsed = _parse(html)
    assert _cells(parsed.rows[0], "title")[0]["text"] == "<script>alert('x')</script> Fiche"
    assert _cells(parsed.rows[0], "theme")[0]["text"] == "Thème <i>italique</i>"


def test_running_header_names_the_departement_and_the_year():
    table = _table_with_text(title="Fiche", theme_label="Thème", department_of_name="de l'Allier")

    assert running_header(table) == "Département de l'Allier (77) — Exécution budgétaire 2024"


# --- PDF ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_execution_2022_pdf(shared_data):
    printed = shared_data("seine-et-marne-2022-execution.json")
    table = execution_table(_year("77", 2022))

    pdf = financial_table_pdf(table, generated_on=GENERATED_ON)

    assert pdf.startswith(b"%PDF-")
    reader, pages = _pdf_text(pdf)
    assert len(reader.pages) >= 1
    for page in reader.pages:
        assert page.mediabox.width > page.mediabox.height  # A4 landscape
        assert round(float(page.mediabox.width)) == 842
    text = "\n".join(pages)
    squashed = _squash(text)
    for record in printed["rows"]:
        if record["record_type"] in ("action", "placeholder"):
            assert _squash(record["intitule_printed"]) in squashed, record["source"]
    for line in table.title_lines:
        assert _squash(line) in squashed
    for header in [*TEXT_HEADERS.values(), *(column.header for column in table.columns)]:
        assert _squash(header) in squashed, header
    for label in (
        "Sous total",
        "Sous-total engagements de mesures socle",
        "Sous total engagements à l'initiative du département",
        "TOTAUX FINANCIERS",
    ):
        assert label in text
    spaced = _spaced(text)
    assert "TOTAUX FINANCIERS 2 554 959,00 € 0,00 € 6 420 224,45 €" in spaced
    assert "11 178 230,00 €" in spaced
    assert "8 195 325,07 €" in spaced
    # Running footer and header.
    count = len(pages)
    for number, page_text in enumerate(pages, start=1):
        assert f"page {number} / {count}" in _spaced(page_text)
        assert "édité le 15/01/2025" in _spaced(page_text)
    for page_text in pages[1:]:
        assert "Département de Seine-et-Marne (77) — Exécution budgétaire 2022" in _spaced(
            page_text
        )


@pytest.mark.django_db
def test_planned_2023_pdf(shared_data):
    printed = shared_data("seine-et-marne-2023-previsionnel.json")
    table = planned_table(_year("77", 2023))

    pdf = financial_table_pdf(table, generated_on=GENERATED_ON)

    reader, pages = _pdf_text(pdf)
    assert all(page.mediabox.width > page.mediabox.height for page in reader.pages)
    text = "\n".join(pages)
    squashed = _squash(text)
    for record in printed["rows"]:
        if record["record_type"] == "action":
            assert _squash(record["intitule"]) in squashed, record["source"]
    for header in [*TEXT_HEADERS.values(), *(column.header for column in table.columns)]:
        assert _squash(header) in squashed, header
    assert "Prévisionnel Année 2023" in text
    assert "Sous-total engagements des mesures socle" in text
    spaced = _spaced(text)
    assert "5 441 300,00 €" in spaced
    assert "TOTAUX FINANCIERS 1 186 729,00 € 475 694,00 € 976 729,00 €" in spaced
