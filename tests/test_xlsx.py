"""The XLSX tables, reopened with openpyxl, against the tables printed in the official documents
(``../shared/domain/data``, CALPAE.md §5.1 and §5.2): same headers in the same order, same rows,
same amounts to the cent, as numbers with the euro format."""

import datetime
from decimal import Decimal
from io import BytesIO
from zipfile import ZipFile

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from conventions.models import ConventionYear
from reports.selectors import execution_table, planned_table
from reports.tables import (
    Block,
    BudgetLine,
    TableHeading,
    ThemeInput,
    build_execution_table,
    build_planned_table,
)
from reports.xlsx import EURO_FORMAT, financial_table_xlsx

CENT = Decimal("0.01")
# The text columns of the extracted documents; their other columns hold amounts.
TEXT_KEYS = {"theme_label", "chorus", "fiche_action_no", "intitule", "commentaire"}


def _year(code: str, year: int) -> ConventionYear:
    return ConventionYear.objects.get(convention__department__code=code, year=year)


def _open(content: bytes) -> Worksheet:
    return load_workbook(BytesIO(content)).active


def _header_row(sheet: Worksheet) -> int:
    for (cell,) in sheet.iter_rows(min_col=1, max_col=1):
        if cell.value == "Thème de la contractualisation":
            return cell.row
    raise AssertionError("Ligne d'en-tête introuvable.")


def _printed_header(column: dict) -> str:
    subcaption = column.get("header_subcaption_italic")
    return f"{column['header']}\n{subcaption}" if subcaption else column["header"]


def _amount(cell) -> Decimal | None:
    if cell.value is None:
        return None
    assert cell.data_type == "n", f"{cell.coordinate} : {cell.value!r} n'est pas un nombre"
    assert not isinstance(cell.value, str)
    assert cell.number_format == EURO_FORMAT, cell.coordinate
    return Decimal(str(cell.value)).quantize(CENT)


def _merged_value(sheet: Worksheet, row: int, column: int):
    """The value shown in a cell: the top-left cell's when the cell is merged."""
    for merged in sheet.merged_cells.ranges:
        if merged.min_row <= row <= merged.max_row and merged.min_col <= column <= merged.max_col:
            return sheet.cell(row=merged.min_row, column=merged.min_col).value
    return sheet.cell(row=row, column=column).value


def _check_against_printed(sheet: Worksheet, printed: dict, *, title_key: str) -> dict:
    """Every row of the sheet against the printed rows; returns the column of each printed key."""
    header = _header_row(sheet)
    headers = [cell.value for cell in sheet[header] if cell.value is not None]
    # Headers verbatim, in the official order (thème … intitulé, amounts, commentaire).
    assert headers == [_printed_header(column) for column in printed["columns"]]
    position = {column["key"]: index for index, column in enumerate(printed["columns"], 1)}
    amount_keys = [key for key in position if key not in TEXT_KEYS]

    body = list(sheet.iter_rows(min_row=header + 1))
    assert len(body) == len(printed["rows"])
    for cells, row in zip(body, printed["rows"], strict=True):
        number = cells[0].row
        where = f"ligne {number} ({row['source']}, {row['record_type']})"
        total = row["record_type"] not in ("action", "placeholder", "theme_header_only")
        for key in amount_keys:
            expected = row[key]
            if expected is None and total:
                expected = "0.00"  # sub-totals print every column; the extraction lost a few
            expected = None if expected is None else Decimal(expected)
            assert _amount(cells[position[key] - 1]) == expected, f"{where}, colonne {key}"
        if row["record_type"] == "action":
            fiche = (row.get("fiche_action_no_normalized") or row["fiche_action_no"]).rstrip(".")
            assert cells[position["fiche_action_no"] - 1].value == fiche, where
            assert cells[position["intitule"] - 1].value == row[title_key], where
            assert cells[position["commentaire"] - 1].value == row.get("commentaire"), where
            assert _merged_value(sheet, number, position["theme_label"]) == row["theme_label"]
            assert _merged_value(sheet, number, position["chorus"]) == row.get("chorus_printed")
        elif row["record_type"] == "grand_total":
            assert cells[0].value == "TOTAUX FINANCIERS", where
        elif total:
            assert cells[position["fiche_action_no"] - 1].value == row["label"], where
        if total:
            assert all(cell.font.b for cell in cells if cell.value is not None), where
            assert cells[-1].fill.fgColor.rgb != "00000000", where
    return position


def _rows_by_fiche(sheet: Worksheet, column: int) -> dict[str, int]:
    header = _header_row(sheet)
    return {
        cell.value: cell.row
        for (cell,) in sheet.iter_rows(min_row=header + 1, min_col=column, max_col=column)
        if cell.value and cell.value[0].isdigit()
    }


def _check_page_setup(sheet: Worksheet, header: int) -> None:
    assert sheet.freeze_panes == f"A{header + 1}"
    assert sheet.page_setup.orientation == "landscape"
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert int(sheet.page_setup.fitToWidth) == 1
    assert int(sheet.page_setup.fitToHeight) == 0
    assert sheet.print_title_rows.replace("$", "") == f"1:{header}"
    assert "&P" in sheet.oddFooter.center.text
    assert "&N" in sheet.oddFooter.center.text
    # The intitulé column is the widest of the fiche columns and wraps its text.
    widths = {letter: dimension.width for letter, dimension in sheet.column_dimensions.items()}
    assert widths["D"] > widths["C"] and widths["D"] >= 30
    assert sheet.cell(row=header + 1, column=4).alignment.wrap_text


def _check_title_block(sheet: Worksheet, title_lines: tuple[str, ...]) -> None:
    last = get_column_letter(sheet.max_column)
    for index, line in enumerate(title_lines, start=1):
        cell = sheet.cell(row=index, column=1)
        assert cell.value == line
        assert cell.font.b
        assert f"A{index}:{last}{index}" in {str(merged) for merged in sheet.merged_cells.ranges}


@pytest.mark.django_db
def test_execution_2022_workbook_holds_the_printed_table(shared_data):
    printed = shared_data("seine-et-marne-2022-execution.json")
    table = execution_table(_year("77", 2022))
    sheet = _open(financial_table_xlsx(table))

    assert sheet.title == "Exécution 2022"
    _check_title_block(sheet, table.title_lines)
    position = _check_against_printed(sheet, printed, title_key="intitule_printed")

    # Every action of the document, found by its fiche number, with its printed amounts.
    by_fiche = _rows_by_fiche(sheet, position["fiche_action_no"])
    actions = [row for row in printed["rows"] if row["record_type"] == "action"]
    assert len(actions) == 16
    for row in actions:
        number = by_fiche[row["fiche_action_no"]]
        for key in ("A", "C", "E", "F", "realise", "report_etat", "report_cd"):
            cell = sheet.cell(row=number, column=position[key])
            expected = None if row[key] is None else Decimal(row[key])
            assert _amount(cell) == expected, f"fiche {row['fiche_action_no']} colonne {key}"

    # TOTAUX FINANCIERS as printed (CALPAE.md §5.1).
    (total_row,) = [
        cell.row
        for (cell,) in sheet.iter_rows(min_col=1, max_col=1)
        if cell.value == "TOTAUX FINANCIERS"
    ]
    totals = {
        key: _amount(sheet.cell(row=total_row, column=position[key]))
        for key in position
        if key not in TEXT_KEYS
    }
    assert totals == {
        "A": Decimal("2554959.00"),
        "B": Decimal("0.00"),
        "C": Decimal("6420224.45"),
        "D": Decimal("0.00"),
        "E": Decimal("2203046.55"),
        "F": Decimal("11178230.00"),
        "realise": Decimal("8195325.07"),
        "dont_valorisation": Decimal("0.00"),
        "report_etat": Decimal("475694.00"),
        "report_cd": Decimal("540156.00"),
    }

    # Thème and Chorus cells merged over the thème's rows: garantie d'activité has five actions
    # and its "Sous total".
    first, last = by_fiche["5.1"], by_fiche["5.5"] + 1
    merged = {str(cell_range) for cell_range in sheet.merged_cells.ranges}
    assert f"A{first}:A{last}" in merged
    assert f"B{first}:B{last}" in merged
    assert sheet.cell(row=last, column=position["fiche_action_no"]).value == "Sous total"
    # The template's unused Maraudes rows, "intitulé de l'action n°1 / n°2", in italics.
    placeholder = sheet.cell(row=_header_row(sheet) + 1, column=position["intitule"])
    assert placeholder.value == "intitulé de l'action n°1"
    assert placeholder.font.i

    _check_page_setup(sheet, _header_row(sheet))


@pytest.mark.django_db
def test_planned_2023_workbook_holds_the_printed_table(shared_data):
    printed = shared_data("seine-et-marne-2023-previsionnel.json")
    table = planned_table(_year("77", 2023))
    sheet = _open(financial_table_xlsx(table))

    assert sheet.title == "Prévisionnel 2023"
    _check_title_block(sheet, table.title_lines)
    position = _check_against_printed(sheet, printed, title_key="intitule")

    by_fiche = _rows_by_fiche(sheet, position["fiche_action_no"])
    for row in printed["rows"]:
        if row["record_type"] != "action":
            continue
        number = by_fiche[row["fiche_action_no_normalized"]]
        cell = sheet.cell(row=number, column=position["F"])
        assert _amount(cell) == Decimal(row["F"]), row["fiche_action_no"]

    last = sheet.max_row
    assert sheet.cell(row=last, column=1).value == "TOTAUX FINANCIERS"
    assert _amount(sheet.cell(row=last, column=position["F"])) == Decimal("5441300.00")
    assert _amount(sheet.cell(row=last, column=position["A"])) == Decimal("1186729.00")
    # The un-lettered "Dont valorisation CD" sits between C and D (CALPAE.md §5.2).
    assert position["C"] < position["dont_valorisation_cd"] < position["D"]
    _check_page_setup(sheet, _header_row(sheet))


# --- Without the database ----------------------------------------------------------------------

HEADING = TableHeading(
    year=2022, department_code="77", department_of_name="de Seine-et-Marne", region_name="IDF"
)
HOSTILE = [
    '=HYPERLINK("http://x")',
    "+1",
    "-2",
    "@SUM(A1)",
    "=1+1",
    "\t=1+1",
    "  =1+1",
]


def _hostile_table(builder=build_execution_table):
    themes = [
        ThemeInput(
            key="t",
            label="=cmd|' /C calc'!A0",
            block=Block.SOCLE,
            position=1,
            chorus="@SUM(1+1)*cmd",
        ),
        ThemeInput(key="i", label="+Thème", block=Block.INITIATIVE, position=1, chorus="-1+1"),
    ]
    lines = [
        BudgetLine(
            action_key=f"a{index}",
            theme_key="t" if index % 2 else "i",
            number=f"{index}.1" if index % 3 else "=1",
            title=text,
            state_new=Decimal("100.00"),
            cd_new=Decimal("-0.01"),
            comment=text,
        )
        for index, text in enumerate([*HOSTILE, "\r=1+1"], start=1)
    ]
    return builder(heading=HEADING, themes=themes, lines=lines)


@pytest.mark.parametrize("builder", [build_execution_table, build_planned_table])
def test_text_that_looks_like_a_formula_stays_text(builder):
    table = _hostile_table(builder)
    content = financial_table_xlsx(table)
    sheet = _open(content)

    texts = {
        (cell.row, cell.column): cell
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None and cell.data_type != "n"
    }
    assert all(cell.data_type == "s" for cell in texts.values())
    values = [cell.value for cell in texts.values()]
    for text in HOSTILE:
        assert values.count(text) == 2, text  # the intitulé and the commentaire
    assert "=cmd|' /C calc'!A0" in values
    assert "@SUM(1+1)*cmd" in values
    assert "+Thème" in values
    assert "=1" in values
    # A carriage return is a line break, written as the "\n" a cell shows.
    assert values.count("\n=1+1") == 2
    # No formula anywhere in the sheet's XML.
    with ZipFile(BytesIO(content)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml


def test_characters_xml_cannot_hold_are_dropped():
    themes = [ThemeInput(key="t", label="Thème", block=Block.SOCLE, position=1)]
    line = BudgetLine(
        action_key="a", theme_key="t", number="1.1", title="Bip\x07 bip", comment="x" * 40_000
    )
    sheet = _open(
        financial_table_xlsx(build_execution_table(heading=HEADING, themes=themes, lines=[line]))
    )
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "Bip bip" in values
    (comment,) = [value for value in values if isinstance(value, str) and value.startswith("xxx")]
    assert len(comment) == 32_767


def test_amounts_are_numbers_to_the_cent_and_empty_cells_stay_empty():
    table = _hostile_table()
    sheet = _open(financial_table_xlsx(table))
    header = _header_row(sheet)
    columns = {cell.value: cell.column for cell in sheet[header]}
    column_a = columns["A Crédits Etats versés en 2022"]
    column_b = next(value for key, value in columns.items() if key and key.startswith("B "))
    column_c = columns["C Crédits CD affectés en 2022"]
    first = sheet.cell(row=header + 1, column=column_a)
    assert first.data_type == "n" and Decimal(str(first.value)) == Decimal("100")
    assert _amount(sheet.cell(row=header + 1, column=column_c)) == Decimal("-0.01")
    assert sheet.cell(row=header + 1, column=column_b).value is None  # empty, not 0,00 €
    total = sheet.cell(row=sheet.max_row, column=column_b)
    assert _amount(total) == Decimal("0.00")  # totals print every column


def test_the_same_table_gives_the_same_bytes():
    table = _hostile_table()
    first = financial_table_xlsx(table)
    second = financial_table_xlsx(table)
    assert first == second
    with ZipFile(BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    workbook = load_workbook(BytesIO(first))
    assert workbook.properties.created == workbook.properties.modified


def test_the_edition_date_is_printed_in_the_footer():
    table = _hostile_table()
    content = financial_table_xlsx(table, generated_on=datetime.date(2024, 3, 5))
    assert content == financial_table_xlsx(table, generated_on=datetime.date(2024, 3, 5))
    workbook = load_workbook(BytesIO(content))
    assert workbook.properties.created == datetime.datetime(2024, 3, 5)
    assert "05/03/2024" in workbook.active.oddFooter.right.text
