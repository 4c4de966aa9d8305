"""The 2020 avenant annex (« Annexe 3 - Tableau financier récapitulatif », CALPAE.md §5.6).

The national template of the 2020 avenants differs from the annual tables: a block column, the
"Crédits Etat pré-notifiés" as one merged cell per thème (or per Chorus line over several
thèmes), a "Report 2019" that may be known only for a whole thème, a row "Aucune action
programmée" for a thème without fiche, no sub-total, and "TOTAUX FINANCIERS" last.
"""

import datetime
import io
import re
from dataclasses import replace
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from conventions.choices import PlannedTableTemplate
from conventions.models import ConventionYear
from reports.documents import DOCUMENTS
from reports.pdf import financial_table_html, financial_table_pdf
from reports.selectors import planned_table
from reports.tables import (
    GRAND_TOTAL_LABEL,
    NO_ACTION_LABEL,
    NO_BUDGET_LABEL,
    Block,
    BudgetLine,
    Envelope,
    RowKind,
    Rule,
    TableHeading,
    Template,
    ThemeInput,
    build_planned_table,
)
from reports.xlsx import financial_table_xlsx

HEADING = TableHeading(
    year=2020,
    department_code="99",
    department_of_name="de Démonstration",
    region_name="Exemple",
)
THEMES = [
    ThemeInput(key="ase", label="Sorties sèches de l'ASE", block=Block.SOCLE, position=1,
               chorus="0304-50-19-19-01"),
    ThemeInput(key="accueil", label="Premier accueil", block=Block.SOCLE, position=2,
               chorus="0304-50-19-19-03", carried_over_state=Decimal("30000.00"),
               carried_over_cd=Decimal("1500.50")),
    ThemeInput(key="maraudes", label="Maraudes mixtes", block=Block.SOCLE, position=3,
               has_actions=False),
    ThemeInput(key="garantie", label="Garantie d'activité", block=Block.SOCLE, position=4),
    ThemeInput(key="mobilite", label="Mobilité", block=Block.SOCLE, position=5),
    ThemeInput(key="initiative", label="Initiatives locales", block=Block.INITIATIVE,
               position=1),
]  # fmt: skip
LINES = [
    BudgetLine(action_key="a1", theme_key="ase", number="1.1", title="Accompagnement",
               state_new=Decimal("66053.34"), cd_new=Decimal("75000.00")),
    BudgetLine(action_key="a2", theme_key="accueil", number="2.1", title="Accueil A",
               state_new=Decimal("50000.00"), cd_new=Decimal("60000.00"),
               valorisation=Decimal("10000.00")),
    BudgetLine(action_key="a3", theme_key="accueil", number="2.2", title="Accueil B",
               state_new=Decimal("40000.00"), cd_new=Decimal("40000.00")),
    BudgetLine(action_key="a4", theme_key="garantie", number="3.1", title="Garantie",
               state_new=Decimal("100000.00"), cd_new=Decimal("120000.00"),
               state_carried_over=Decimal("5000.00"), cd_carried_over=Decimal("2500.25"),
               other_funding=Decimal("12345.67")),
    BudgetLine(action_key="a5", theme_key="mobilite", number="3.2", title="Mobilité",
               state_new=Decimal("20000.00"), cd_new=Decimal("20000.00")),
]  # fmt: skip
ENVELOPES = [
    Envelope(theme_keys=frozenset({"accueil"}), amount=Decimal("110000.00"), label="Accueil"),
    # One Chorus line over two thèmes that follow each other: one cell over both.
    Envelope(
        theme_keys=frozenset({"garantie", "mobilite"}),
        amount=Decimal("204939.74"),
        label="Garantie et mobilité",
    ),
]
STATE_CREDIT = Decimal("276053.34")  # 66 053,34 + 50 000 + 40 000 + 100 000 + 20 000


def _table(state_credit=STATE_CREDIT):
    return build_planned_table(
        heading=HEADING,
        themes=THEMES,
        lines=LINES,
        envelopes=ENVELOPES,
        state_credit=state_credit,
        template=Template.AMENDMENT_2020,
    )


# --- The computed table -----------------------------------------------------------------------


def test_title_and_columns_are_those_of_the_national_template():
    table = _table()
    assert table.title_lines == (
        "Annexe 3 - Tableau financier récapitulatif",
        "Avenant Convention d'appui à la lutte contre la pauvreté et d'accès à l'emploi – "
        "Année 2020",
        "Région Exemple - Département de Démonstration",
    )
    assert [column.header for column in table.columns] == [
        "Budget global de l'action",
        "Crédits Etat pré-notifiés",
        "Participation État 2020",
        "Participation CD 2020",
        "dont valorisation",
        "Report 2019",
        "Participation d'autres financeurs le cas échéant",
    ]
    assert table.text_columns_before == ("block", "theme", "chorus", "number", "title")
    assert table.text_columns_after == ()


def test_rows_have_no_subtotal_and_end_with_the_financial_totals():
    table = _table()
    kinds = [row.kind for row in table.rows]
    assert RowKind.THEME_SUBTOTAL not in kinds and RowKind.BLOCK_SUBTOTAL not in kinds
    assert kinds[-1] == RowKind.GRAND_TOTAL and table.rows[-1].title == GRAND_TOTAL_LABEL
    titles = [row.title for row in table.rows[:-1]]
    assert titles == [
        "Accompagnement",
        "Accueil A",
        "Accueil B",
        NO_ACTION_LABEL,  # a thème with no fiche this year
        "Garantie",
        "Mobilité",
        NO_BUDGET_LABEL,  # fiches exist, but their prévisionnel is not entered
    ]


def test_theme_level_amounts_are_merged_cells_counted_once_in_the_total():
    table = _table()
    merged = {(m.column, m.first_row, m.last_row): m.amount for m in table.merged_amounts}
    assert merged == {
        # The thème's own report (30 000 + 1 500,50) over its two rows.
        ("report", 1, 2): Decimal("31500.50"),
        ("pre_notified", 1, 2): Decimal("110000.00"),
        # The report is not shared out among the fiches: the thème's budget global, report
        # included, in one cell (110 000 + 80 000 + 31 500,50).
        ("F", 1, 2): Decimal("221500.50"),
        # Garantie d'activité and Mobilité: rows 4 and 5, one envelope.
        ("pre_notified", 4, 5): Decimal("204939.74"),
    }
    # The thème's rows leave the report column to the merged cell.
    assert table.rows[1].amounts["report"] is None
    # An action's own reports (B + D) sit on its row.
    assert table.rows[4].amounts["report"] == Decimal("7500.25")
    total = table.grand_total.amounts
    assert total["pre_notified"] == Decimal("314939.74")
    assert total["report"] == Decimal("39000.75")  # 31 500,50 + 7 500,25
    assert total["A"] == STATE_CREDIT
    assert total["C"] == Decimal("315000.00")
    assert total["valorisation"] == Decimal("10000.00")
    assert total["E"] == Decimal("12345.67")
    # Budget global = État + CD + reports of the row + autres financeurs.
    assert table.rows[4].amounts["F"] == Decimal("239845.92")
    assert total["F"] == sum(
        (row.amounts["F"] or 0 for row in table.rows[:-1]), Decimal("221500.50")
    )


def test_budget_global_printed_with_a_share_of_the_themes_report_is_kept():
    """Filled in by hand: each fiche's budget global includes its unstated share of the
    thème's report; the printed amounts are shown, and the gap is no arithmetic error."""
    shares = [
        replace(line, declared_total=line.total + share) if line.theme_key == "accueil" else line
        for line, share in zip(
            LINES, (0, Decimal("20000.00"), Decimal("11500.50"), 0, 0), strict=True
        )
    ]
    table = build_planned_table(
        heading=HEADING, themes=THEMES, lines=shares, template=Template.AMENDMENT_2020
    )
    assert [row.amounts["F"] for row in table.rows[1:3]] == [
        Decimal("130000.00"),
        Decimal("91500.50"),
    ]
    assert "F" not in {merged.column for merged in table.merged_amounts}
    assert table.grand_total.amounts["F"] == Decimal("642399.76")
    assert Rule.F_FORMULA not in {finding.rule for finding in table.findings}


def test_findings_compare_participation_with_the_notified_credit_and_the_envelopes():
    table = _table(state_credit=Decimal("300000.00"))
    rules = {finding.rule for finding in table.findings}
    assert Rule.STATE_TOTAL in rules
    message = next(f.message for f in table.findings if f.rule == Rule.STATE_TOTAL)
    message = message.replace("\u00a0", " ")
    assert "276 053,34" in message and "300 000,00" in message
    # The Département asks for less than its envelopes: nothing to say.
    assert Rule.ENVELOPE_EXCEEDED not in rules
    small = [Envelope(theme_keys=frozenset({"accueil"}), amount=Decimal("80000.00"), label="X")]
    over = build_planned_table(
        heading=HEADING, themes=THEMES, lines=LINES, envelopes=small,
        template=Template.AMENDMENT_2020,
    )  # fmt: skip
    (finding,) = [f for f in over.findings if f.rule == Rule.ENVELOPE_EXCEEDED]
    message = finding.message.replace("\u00a0", " ")
    assert "90 000,00" in message and "80 000,00" in message


# --- XLSX -----------------------------------------------------------------------------------


def _amount(cell) -> Decimal:
    assert cell.data_type == "n", cell.coordinate
    return Decimal(str(cell.value)).quantize(Decimal("0.01"))


def _sheet(table):
    return load_workbook(BytesIO(financial_table_xlsx(table))).active


def test_xlsx_lays_out_the_national_template():
    sheet = _sheet(_table())
    assert sheet.title == "Avenant 2020"
    header_row = next(
        row for row in range(1, 10) if sheet.cell(row, 2).value == "Thème de la contractualisation"
    )
    headers = [sheet.cell(header_row, column).value for column in range(1, 13)]
    assert headers == [
        None,
        "Thème de la contractualisation",
        "Imputation chorus (code chorus - description longue)",
        "Fiche action N°",
        "Intitulé de l'action",
        "Budget global de l'action",
        "Crédits Etat pré-notifiés",
        "Participation État 2020",
        "Participation CD 2020",
        "dont valorisation",
        "Report 2019",
        "Participation d'autres financeurs le cas échéant",
    ]
    assert sheet.cell(header_row, 13).value is None  # no Commentaire column
    first = header_row + 1
    merged = {str(cell_range) for cell_range in sheet.merged_cells.ranges}
    # Block labels over their rows; envelopes and the thème's report over the thème's rows.
    assert f"A{first}:A{first + 5}" in merged
    assert sheet[f"A{first}"].value == "Engagements du socle"
    assert sheet[f"A{first + 6}"].value == "Engagements à l'initiative du département"
    assert f"G{first + 1}:G{first + 2}" in merged
    assert f"G{first + 4}:G{first + 5}" in merged
    assert f"K{first + 1}:K{first + 2}" in merged
    assert _amount(sheet[f"G{first + 4}"]) == Decimal("204939.74")
    assert _amount(sheet[f"K{first + 1}"]) == Decimal("31500.50")
    assert sheet[f"G{first + 4}"].number_format == '#,##0.00 "€"'
    # The totals row: label over the text columns, every amount a number.
    total = first + 7
    assert sheet[f"A{total}"].value == GRAND_TOTAL_LABEL
    assert f"A{total}:E{total}" in merged
    assert [_amount(sheet.cell(total, column)) for column in range(6, 13)] == [
        Decimal("642399.76"),
        Decimal("314939.74"),
        Decimal("276053.34"),
        Decimal("315000.00"),
        Decimal("10000.00"),
        Decimal("39000.75"),
        Decimal("12345.67"),
    ]
    assert sheet[f"E{first + 3}"].value == NO_ACTION_LABEL


# --- PDF ------------------------------------------------------------------------------------


def test_pdf_prints_the_merged_cells_once_and_the_totals():
    table = _table()
    html = financial_table_html(table, generated_on=datetime.date(2025, 1, 15))
    assert html.count('rowspan="2"') >= 3  # two envelopes and one report over two rows
    assert 'class="block">Engagements du socle<' in html
    assert "Commentaire" not in html
    pdf = financial_table_pdf(table, generated_on=datetime.date(2025, 1, 15))
    reader = PdfReader(io.BytesIO(pdf))
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    text = text.replace("\u202f", " ").replace("\u00a0", " ")
    for expected in (
        "Annexe 3 - Tableau financier récapitulatif",
        "Crédits Etat pré-notifiés",
        "Report 2019",
        "204 939,74 €",
        "31 500,50 €",
        "642 399,76 €",
        NO_ACTION_LABEL,
    ):
        assert expected in text, expected
    assert text.count("204 939,74 €") == 1  # one cell for the two thèmes


# --- The year in the database -------------------------------------------------------------------


@pytest.mark.django_db
def test_seine_et_marne_2020_prints_the_avenant_annex():
    convention_year = ConventionYear.objects.get(convention__department__code="77", year=2020)
    assert convention_year.planned_table_template == PlannedTableTemplate.AMENDMENT_2020
    table = planned_table(convention_year)
    assert table.title_lines[0] == "Annexe 3 - Tableau financier récapitulatif"
    assert table.title_lines[2] == "Région Île-de-France - Département de Seine-et-Marne"
    numbers = [row.number for row in table.rows if row.kind == RowKind.ACTION]
    assert numbers == ["1.1", "1.2", "1.3", "1.4"]
    # The socle's planned 2020 amounts of the 2020 report (État / Département).
    total = table.grand_total.amounts
    assert total["A"] == Decimal("1186840.38")
    assert total["C"] == Decimal("2104400.00")
    # The initiative fiches exist, but the report gives no prévisionnel 2020 for them.
    assert table.rows[-2].title == NO_BUDGET_LABEL
    # The avenant's 2 020 165,04 € is not reached by the amounts entered: a finding says so.
    assert any(f.rule == Rule.STATE_TOTAL for f in table.findings)
    content = DOCUMENTS["previsionnel-table"].renderers["xlsx"](table)
    assert load_workbook(BytesIO(content)).active.title == "Avenant 2020"


@pytest.mark.django_db
def test_other_years_keep_the_annual_template():
    convention_year = ConventionYear.objects.get(convention__department__code="77", year=2023)
    table = planned_table(convention_year)
    assert table.layout == Template.PLANNED
    assert table.title_lines[0] == "TABLEAU FINANCIER RECAPITULATIF PREVISIONNEL"
