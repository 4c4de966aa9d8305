"""Reading official workbooks (issue 5, part 2): ``actions.workbook``, without a database.

Each quirk of hand-filled files (CALPAE.md §5.1, §5.2, §5.3, §5.6, §8) is built here with
openpyxl, then read back: title rows, headers over two rows, blank rows, merged thème and block
cells, an amount merged over a thème's rows, amounts typed as text, empty cells against written
zeros, "Aucune action programmée", sub-totals right and wrong, Chorus codes with their
description. The golden tests rebuild the printed 2022 execution table and 2023 prévisionnel of
Seine-et-Marne from ``../shared/domain/data`` and read every amount back to the cent. The
last tests feed damaged, hostile and wrong files: the reader must refuse them with a French
message (``WorkbookError``) or report problems, never fail otherwise.
"""

from __future__ import annotations

import functools
import io
import json
import os
import random
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from actions.workbook import (
    Block,
    Layout,
    MatrixRowKind,
    PlaceholderKind,
    ProblemCode,
    Severity,
    TotalKind,
    WorkbookError,
    chorus_code,
    match_theme,
    open_workbook,
    parse_chorus,
    read_amount,
    read_workbook,
)
from actions.workbook.files import Limits

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "domain" / "data"
CATALOGUE = Path(__file__).resolve().parents[1] / "fixtures" / "reference" / "catalogue.json"

EXECUTION_HEADERS = [
    "Thème de la contractualisation",
    "Imputation chorus (code chorus - description longue)",
    "Fiche action N°",
    "Intitulé de l'action\nune ligne par action financée",
    "A Crédits Etats versés en 2022",
    "B Crédits Etat 2021 (le cas échéant 2020) reportés sur 2022 (le cas échéant)",
    "C Crédits CD affectés en 2022",
    "D Crédits CD 2021 (le cas échéant 2020) reprogrammés sur 2022 (le cas échéant)",
    "E Participation d'autres financeurs le cas échéant",
    "F Budget global de l'action prévu en 2022 A+B+C+D+E",
    "Montant total réalisé au 31/12/2022",
    "Dont valorisation de dépenses du CD",
    "Montant à reporter en 2023 - Part Etat",
    "Montant à reporter en 2023 - Part CD",
    "Commentaire",
]
AMENDMENT_HEADERS = [
    None,  # the block column ("Engagements du socle"), no header
    "Thème de la contractualisation",
    "Imputation chorus (code chorus – description longue)",
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
GA = "Insertion des allocataires du RSA – Garantie d'activité"
GA_CHORUS = "0304 50 19 19 07 - Garantie d'activité et insertion des BRSA"


def xlsx(rows, merges=(), *, title="Tableau", styles=None) -> bytes:
    """A workbook of one sheet: ``rows`` from row 1 (``None`` leaves a cell empty)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row_number, values in enumerate(rows, start=1):
        for column, value in enumerate(values, start=1):
            if value is not None:
                sheet.cell(row_number, column, value)
    for ref in merges:
        sheet.merge_cells(ref)
    for ref, style in (styles or {}).items():
        for name, value in style.items():
            setattr(sheet[ref], name, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def kinds(parsed, severity=None) -> list[ProblemCode]:
    return [p.code for p in parsed.problems if severity is None or p.severity == severity]


def not_info(parsed, *, but=()) -> list[str]:
    return [str(p) for p in parsed.problems if p.severity != Severity.INFO and p.code not in but]


def action(parsed, number):
    return next(a for a in parsed.actions if a.number == number)


def D(text: str) -> Decimal:
    return Decimal(text)


# --- Amounts, Chorus, thèmes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "amount", "is_report"),
    [
        ("170 000 €", "170000.00", False),
        ("274 993,43", "274993.43", False),
        ("31 850,00 € (report)", "31850.00", True),
        ("12\u202f345,6\u00a0€", "12345.60", False),
        ("1.234.567,89", "1234567.89", False),
        ("1,234,567.89", "1234567.89", False),
        ("170.000", "170000.00", False),
        ("1234.5", "1234.50", False),
        ("0,00 €", "0.00", False),
        ("0", "0.00", False),
        (0, "0.00", False),
        (274993.43, "274993.43", False),
        (76564.20000000001, "76564.20", False),
        (Decimal("12.5"), "12.50", False),
        ("83 694 + 52 000€ (mobilité territoires ruraux)", "135694.00", False),
    ],
)
def test_amounts_typed_as_numbers_or_text(value, amount, is_report):
    reading = read_amount(value)
    assert reading.value == Decimal(amount)
    assert reading.is_report is is_report
    assert not reading.error


@pytest.mark.parametrize("value", [None, "", "   ", "\u00a0"])
def test_empty_cells_stay_empty_and_differ_from_zero(value):
    reading = read_amount(value)
    assert reading.value is None and reading.is_empty
    assert read_amount(0).value == Decimal("0.00") and not read_amount(0).is_empty


@pytest.mark.parametrize("value", ["-", "NC", "Non chiffré", "n.c.", "—"])
def test_not_quantified_texts_are_empty_with_a_note(value):
    reading = read_amount(value)
    assert reading.value is None and reading.not_quantified and not reading.error
    assert reading.note == "non chiffré"


@pytest.mark.parametrize("value", ["abc", "1,234", "12 €/mois", "١٢", "1e5", True, "9" * 40])
def test_text_that_is_no_amount_is_an_error(value):
    reading = read_amount(value)
    assert reading.value is None and reading.error


def test_chorus_code_with_its_description_and_note():
    chorus = parse_chorus(f"{GA_CHORUS} (montant CALPAE : 791 055€ au total avec mobilité)")
    assert chorus.code == "0304 50 19 19 07"
    assert chorus.description == "Garantie d'activité et insertion des BRSA"
    assert chorus.note == "montant CALPAE : 791 055€ au total avec mobilité"
    assert chorus.note_amount == Decimal("791055.00")
    assert chorus_code("030450191910 Initiatives locales") == "0304 50 19 19 10"
    assert chorus_code("0304-50-19-19-02") == "0304 50 19 19 02"
    assert parse_chorus("Initiatives locales").code is None


@functools.cache
def catalogue() -> list[tuple[str, str, str | None]]:
    themes = json.loads(CATALOGUE.read_text(encoding="utf-8"))["themes"]
    return [(theme["code"], theme["label"], theme["chorus"]) for theme in themes]


@pytest.mark.parametrize(
    ("label", "chorus", "key"),
    [
        ("Maraudes mixtes (le cas échéant)", None, "maraudes-mixtes"),
        (
            "Inscription des allocataires du RSA – Garantie d'activité",
            GA_CHORUS,
            "garantie-activite",
        ),
        ("Développer la mobilité des demandeurs d'emploi", GA_CHORUS, "mobilite"),
        (
            "Inscription des allocataires du RSA – Orientation et parcours des allocataires",
            None,
            "orientation-rsa",
        ),
        (
            "Refonder et revaloriser le travail social au service de toutes les familles – "
            "Référent de parcours (le cas échéant)",
            "0304 50 19 19 04 - Référents de parcours",
            "referent-parcours",
        ),
        (
            "Engagements à l'initiative du département = Accès aux droits",
            "0304 50 19 19 10 - Initiatives locales (montant CALPE : 350 813€)",
            "initiative-departement",
        ),
        ("PREVENTION SPECIALISEE", None, "prevention-specialisee"),
        ("Lutte contre l'illettrisme", None, None),
        ("Lutte contre l'illettrisme", "0304 50 19 19 99", None),
    ],
)
def test_themes_matched_to_the_catalogue(label, chorus, key):
    assert match_theme(label, chorus, catalogue()) == key


# --- Golden: the printed Seine-et-Marne tables -------------------------------------------------


def _shared(name: str) -> dict:
    path = SHARED_DATA / name
    if not path.exists():
        pytest.fail(f"Données de référence introuvables : {path}")
    return json.loads(path.read_text(encoding="utf-8"))


TEXT_COLUMNS = ("theme_label", "chorus", "fiche_action_no", "intitule", "commentaire")


def printed_table(document: dict, *, sheet_title: str) -> tuple[bytes, dict[int, dict]]:
    """The table as printed: title lines, verbatim headers, thème and Chorus cells merged over
    the thème's rows and its "Sous total", the header repeated at the top of page 2, block
    sub-totals and "TOTAUX FINANCIERS" over the text columns. Returns the bytes and, for each
    sheet row, the JSON record printed there."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = sheet_title
    columns = document["columns"]
    keys = [column["key"] for column in columns]
    position = {key: index for index, key in enumerate(keys, start=1)}
    amount_keys = [key for key in keys if key not in TEXT_COLUMNS]
    titles = document["document"]["title"].split(" — ")
    for number, title in enumerate(titles, start=1):
        sheet.cell(number, 1, title)
        sheet.merge_cells(start_row=number, start_column=1, end_row=number, end_column=len(keys))

    def header(row: int) -> None:
        for column in columns:
            text = column["header"]
            if column.get("header_subcaption_italic"):
                text += "\n" + column["header_subcaption_italic"]
            sheet.cell(row, position[column["key"]], text)

    row = len(titles) + 2  # a blank row under the titles
    header(row)
    row += 1
    records: dict[int, dict] = {}
    theme, theme_start = None, None

    def close(end: int) -> None:
        if theme_start is not None and end > theme_start:
            for key in ("theme_label", "chorus"):
                column = position[key]
                sheet.merge_cells(
                    start_row=theme_start, start_column=column, end_row=end, end_column=column
                )

    for record in document["rows"]:
        kind = record["record_type"]
        if kind in ("placeholder", "action", "theme_header_only"):
            if record["theme_label"] != theme:
                close(row - 1)
                theme, theme_start = record["theme_label"], row
                sheet.cell(row, position["theme_label"], record["theme_label"])
                if record.get("chorus_printed"):
                    sheet.cell(row, position["chorus"], record["chorus_printed"])
            if record.get("fiche_action_no"):
                sheet.cell(row, position["fiche_action_no"], record["fiche_action_no"])
            title = record.get("intitule_printed") or record.get("intitule")
            if title:
                sheet.cell(row, position["intitule"], title)
        elif kind == "theme_subtotal":
            sheet.cell(row, position["intitule"], record["label"])
        else:
            close(row - 1)
            theme, theme_start = None, None
            sheet.cell(row, 1, record["label"])
            sheet.merge_cells(
                start_row=row, start_column=1, end_row=row, end_column=position["intitule"]
            )
        for key in amount_keys:
            if record.get(key) is not None:
                sheet.cell(row, position[key], Decimal(record[key])).number_format = '#,##0.00 "€"'
        if record.get("commentaire"):
            sheet.cell(row, position["commentaire"], record["commentaire"])
        records[row] = record
        if kind == "theme_subtotal":
            close(row)
            theme, theme_start = None, None
        row += 1
        if kind == "socle_subtotal":
            header(row)  # page 2 starts with the header again
            row += 1
    close(row - 1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), records


def _amount(record: dict, key: str) -> Decimal | None:
    return None if record.get(key) is None else Decimal(record[key])


def _assert_golden(parsed, records, key_map, document):
    # Nothing to report but the header repeated on page 2.
    assert not_info(parsed) == []
    assert set(kinds(parsed)) == {ProblemCode.REPEATED_HEADER}

    actions = [(row, r) for row, r in records.items() if r["record_type"] == "action"]
    assert [a.row for a in parsed.actions] == [row for row, _record in actions]
    for (row, record), parsed_action in zip(actions, parsed.actions, strict=True):
        assert parsed_action.number == record["fiche_action_no"].rstrip(".")
        assert parsed_action.title == (record.get("intitule_printed") or record["intitule"])
        assert parsed_action.theme_label == record["theme_label"]
        assert parsed_action.block == Block(record["section"])
        assert parsed_action.chorus_code == record.get("chorus_code")
        assert parsed_action.comment == (record.get("commentaire") or "")
        for json_key, key in key_map.items():
            assert parsed_action.value(key) == _amount(record, json_key), (row, key)
            # An empty cell is read empty, a printed 0,00 € as zero.
            assert parsed_action.amounts[key].is_empty == (record.get(json_key) is None)

    totals = [(row, r) for row, r in records.items() if r["record_type"].endswith("total")]
    assert [t.row for t in parsed.printed_totals] == [row for row, _record in totals]
    expected_kind = {
        "theme_subtotal": TotalKind.THEME,
        "socle_subtotal": TotalKind.BLOCK,
        "initiative_subtotal": TotalKind.BLOCK,
        "grand_total": TotalKind.GRAND,
    }
    for (_row, record), total in zip(totals, parsed.printed_totals, strict=True):
        assert total.kind == expected_kind[record["record_type"]]
        for json_key, key in key_map.items():
            assert total.amounts[key].value == _amount(record, json_key)
            if record.get(json_key) is not None:
                assert total.computed[key] == Decimal(record[json_key])

    themes = []
    for record in document["rows"]:
        label = record.get("theme_label")
        if label and record["record_type"] != "theme_subtotal" and label not in themes:
            themes.append(label)
    assert [theme.label for theme in parsed.themes] == themes


def test_golden_execution_2022_read_back_to_the_cent():
    document = _shared("seine-et-marne-2022-execution.json")
    data, records = printed_table(document, sheet_title="Exécution 2022")
    parsed = read_workbook(data, "tableau-financier-2022.xlsx")

    assert parsed.layout == Layout.EXECUTION
    assert (parsed.year_in_title, parsed.year_in_headers) == (2022, 2022)
    assert (parsed.department_in_title, parsed.department_code_in_title) == (
        "Seine-et-Marne",
        "77",
    )
    key_map = {
        **{key: key for key in "ABCDEF"},
        "realise": "realised",
        "dont_valorisation": "valorisation",
        "report_etat": "carry_over_state",
        "report_cd": "carry_over_cd",
    }
    _assert_golden(parsed, records, key_map, document)
    grand = parsed.printed_totals[-1]
    assert grand.label == "TOTAUX FINANCIERS"
    assert grand.amounts["F"].value == Decimal("11178230.00")
    assert grand.amounts["realised"].value == Decimal("8195325.07")
    assert sum(a.value("A") for a in parsed.actions) == Decimal("2554959.00")

    maraudes = parsed.themes[0]
    assert maraudes.chorus_code == "0304 50 19 19 05"
    assert maraudes.has_no_action
    assert [p.kind for p in maraudes.placeholders] == [PlaceholderKind.TEMPLATE] * 2
    orientation = parsed.theme(
        "Insertion des allocataires du RSA – Orientation et parcours des allocataires"
    )
    assert orientation.chorus is None and orientation.block == Block.SOCLE
    assert action(parsed, "1.1").fiche_number == "12"
    assert action(parsed, "1.1").short_title == (
        "Structurer l'animation du dispositif départemental de prévention spécialisée"
    )
    assert parsed.can_import()


def test_golden_planned_2023_read_back_to_the_cent():
    document = _shared("seine-et-marne-2023-previsionnel.json")
    data, records = printed_table(document, sheet_title="Prévisionnel 2023")
    parsed = read_workbook(data, "annexe-4-2023.xlsx")

    assert parsed.layout == Layout.PLANNED
    assert (parsed.year_in_title, parsed.year_in_headers) == (2023, 2023)
    assert parsed.department_code_in_title == "77"
    key_map = {**{key: key for key in "ABCDEF"}, "dont_valorisation_cd": "valorisation"}
    _assert_golden(parsed, records, key_map, document)
    assert parsed.printed_totals[-1].amounts["A"].value == Decimal("1186729.00")
    assert parsed.printed_totals[-1].amounts["F"].value == Decimal("5441300.00")

    # Thèmes printed without action: the thème alone, or fiche numbers without a title.
    assert [p.kind for p in parsed.themes[0].placeholders] == [PlaceholderKind.EMPTY]
    referent = parsed.themes[3]
    assert [p.number for p in referent.placeholders] == ["3.1", "3.2"]
    # The Chorus cells carry amount notes (CALPAE.md §4.1).
    garantie = parsed.theme("Inscription des allocataires du RSA – Garantie d'activité")
    assert garantie.chorus.note_amount == Decimal("791055.00")
    assert match_theme(garantie.label, garantie.chorus_text, catalogue()) == "garantie-activite"
    assert action(parsed, "2.1").number == "2.1"  # printed "2.1."
    initiative = parsed.themes[-1]
    assert initiative.block == Block.INITIATIVE
    assert [a.block for a in parsed.actions if a.theme_label == initiative.label] == [
        Block.INITIATIVE
    ] * 3


# --- Layout quirks -----------------------------------------------------------------------------


def test_title_rows_two_row_header_and_blank_rows():
    """Letters on their own row, "Montant à reporter" merged over two columns above "Part
    Etat" / "Part CD", blank rows inside the table."""
    letters = [None, None, None, None, "A", "B", "C", "D", "E", "F", None, None, None, None]
    texts = [
        "Thème de la\ncontractualisation",
        "Imputation chorus",
        "Fiche action N°",
        "Intitulé de l'action",
        "Crédits Etats versés en 2021",
        "Crédits Etat 2020 reportés sur 2021",
        "Crédits CD affectés en 2021",
        "Crédits CD 2020 reprogrammés sur 2021",
        "Participation d'autres financeurs",
        "Budget global de l'action prévu en 2021",
        "Montant total réalisé au 31/12/2021",
        "Dont valorisation",
        "Montant à reporter en 2022",
        None,
    ]
    parts = [None] * 12 + ["Part Etat", "Part CD"]
    rows = [
        ["TABLEAU FINANCIER RECAPITULATIF"],
        ["CONVENTION D'APPUI À LA LUTTE CONTRE LA PAUVRETÉ - Département de l'Allier"],
        ["Exécution budgétaire 2021"],
        [],
        letters,
        texts,
        parts,
        [],
        [GA, GA_CHORUS, "5.1", "AAVE", 100, None, 150, None, None, 250, 200, None, 50, 0],
        [None, None, "5.2", "TNS", 50, None, 50, None, None, 100, 100, None, 0, 0],
        [],
        [None, None, None, "Sous total", 150, 0, 200, 0, 0, 350, 300, 0, 50, 0],
    ]
    merges = ["A6:A7", "B6:B7", "C6:C7", "D6:D7", "M6:N6", "A9:A12", "B9:B12"]
    parsed = read_workbook(xlsx(rows, merges), "allier.xlsx")

    assert parsed.layout == Layout.EXECUTION
    assert (parsed.header.first_row, parsed.header.last_row) == (6, 7)
    assert parsed.header.column("carry_over_state") == 13
    assert parsed.header.column("carry_over_cd") == 14
    assert (parsed.year_in_title, parsed.department_in_title) == (2021, "Allier")
    assert parsed.department_code_in_title is None
    assert [a.row for a in parsed.actions] == [9, 10]
    assert action(parsed, "5.1").value("carry_over_state") == Decimal("50.00")
    assert action(parsed, "5.1").value("carry_over_cd") == Decimal("0.00")
    assert action(parsed, "5.2").theme_label == GA
    assert action(parsed, "5.2").chorus_code == "0304 50 19 19 07"
    assert not_info(parsed) == []


def test_funder_letters_only_and_header_repeated():
    """A header whose funder columns read only "A" … "F" over generic texts is still read."""
    rows = [
        ["Exécution budgétaire 2022"],
        ["Thème", "Intitulé de l'action", "A", "C", "F", "Montant total réalisé"],
        ["Maraudes mixtes", "Maraude", 10, 20, 30, 30],
        ["Thème", "Intitulé de l'action", "A", "C", "F", "Montant total réalisé"],
        [None, "Maraude 2", 1, 2, 3, 3],
    ]
    parsed = read_workbook(xlsx(rows), "t.xlsx")
    assert parsed.layout == Layout.EXECUTION
    assert [a.title for a in parsed.actions] == ["Maraude", "Maraude 2"]
    assert [a.theme_label for a in parsed.actions] == ["Maraudes mixtes"] * 2
    assert ProblemCode.REPEATED_HEADER in kinds(parsed)


def amendment_rows(*, total_state=260000):
    """An avenant 2020 annex as filled by hand (CALPAE.md §5.6): block and thème labels merged
    over their rows, a pre-notified envelope and a "Report 2019" merged over a thème's three
    rows, a thème without action, amounts as text, no sub-totals, the final total."""
    return [
        ["Annexe 3 - Tableau financier récapitulatif"],
        [
            "Avenant Convention d'appui à la lutte contre la pauvreté et d'accès à l'emploi – "
            "Année 2020"
        ],
        ["Région Auvergne-Rhône-Alpes - Département de l'Allier"],
        [],
        AMENDMENT_HEADERS,
        # row 6
        [
            "Engagements du socle",
            "Prévenir toute « sortie sèche » pour les jeunes sortants de l'ASE",
            "0304 50 19 19 01 - Accompagnement des jeunes sortant de l'ASE",
            "1.1",
            "Contrats jeunes majeurs",
            120000,
            "170 000 €",
            40000,
            60000,
            None,
            "30 000",
            None,
        ],
        [None, None, None, "1.2", "Parrainage", "46 000 €", None, 20000, 20000, None, None, None],
        [None, None, None, "1.3", "Logement", 24000, None, 10000, 10000, None, None, None],
        # row 9: a thème without action
        [
            None,
            "Maraudes mixtes (le cas échéant)",
            "0304 50 19 19 05 - Maraudes Etat (sans abri) / conseil départemental (ASE)",
            None,
            "Aucune action programmée",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ],
        # row 10: a pre-notified envelope written on the thème's row, not merged
        [
            None,
            "Refonder et revaloriser le travail social au service de toutes les familles – "
            "Premier accueil social inconditionnel de proximité",
            "0304 50 19 19 03 - 1er accueil social inconditionnel",
            "2.1",
            "Maillage territorial",
            "474 993,43",
            "300 000",
            "190 000",
            "274 993,43",
            "0",
            None,
            "10 000",
        ],
        # rows 11-12: the initiative block
        [
            "Engagements à l'initiative du département",
            "Engagements à l'initiative du département",
            "0304 50 19 19 10 - Initiatives locales",
            "3.1",
            "Crèches AVIP",
            20000,
            50000,
            0,
            20000,
            20000,
            None,
            None,
        ],
        [None, None, None, "3.2", "Aller-vers", 0, None, 0, 0, None, None, None],
        [],
        # row 14
        [
            None,
            "TOTAUX FINANCIERS",
            None,
            None,
            None,
            "684 993,43",
            520000,
            total_state,
            384993.43,
            20000,
            30000,
            10000,
        ],
    ]


AMENDMENT_MERGES = ["A6:A10", "B6:B8", "C6:C8", "G6:G8", "K6:K8", "A11:A12", "B11:B12", "C11:C12"]


def test_amendment_2020_merged_envelopes_stay_on_their_theme():
    parsed = read_workbook(xlsx(amendment_rows(), AMENDMENT_MERGES), "avenant.xlsx")

    assert parsed.layout == Layout.AMENDMENT_2020
    assert parsed.year_in_title == 2020 and parsed.year_in_headers == 2020
    assert parsed.department_in_title == "Allier"
    assert parsed.header.column("block") == 1
    assert not_info(parsed) == []

    sortie, maraudes, accueil, initiative = parsed.themes
    assert sortie.block == Block.SOCLE and sortie.chorus_code == "0304 50 19 19 01"
    assert sortie.cell_range == "B6:B8" and sortie.action_rows == (6, 7, 8)
    # One envelope and one report for the thème, not three per-action amounts.
    envelope = sortie.amounts["pre_notified"]
    assert envelope.amount.value == Decimal("170000.00") and envelope.cell_range == "G6:G8"
    assert envelope.amount.raw == "170 000 €"
    assert sortie.amounts["carried_over"].amount.value == Decimal("30000.00")
    first = action(parsed, "1.1")
    assert first.value("pre_notified") is None and first.amounts["pre_notified"].shared == "G6:G8"
    assert first.value("carried_over") is None and first.amounts["carried_over"].shared == "K6:K8"
    assert action(parsed, "1.2").value("budget_global") == Decimal("46000.00")

    assert maraudes.has_no_action
    assert [p.kind for p in maraudes.placeholders] == [PlaceholderKind.NO_ACTION]
    assert maraudes.block == Block.SOCLE and maraudes.amounts == {}

    # Typed as text; the envelope written on the row is still the thème's.
    maillage = action(parsed, "2.1")
    assert maillage.value("cd") == Decimal("274993.43")
    assert maillage.value("valorisation") == Decimal("0.00")
    assert maillage.value("carried_over") is None  # empty, not zero
    assert maillage.value("pre_notified") is None
    assert accueil.amounts["pre_notified"].amount.value == Decimal("300000.00")

    assert initiative.block == Block.INITIATIVE
    assert [a.block for a in parsed.actions] == [Block.SOCLE] * 4 + [Block.INITIATIVE] * 2
    grand = parsed.printed_totals[0]
    assert grand.kind == TotalKind.GRAND
    assert grand.computed["pre_notified"] == Decimal("520000.00")
    assert grand.computed["budget_global"] == Decimal("684993.43")
    assert parsed.can_import()


def test_mismatched_total_is_reported_with_both_amounts_and_its_cell():
    parsed = read_workbook(
        xlsx(amendment_rows(total_state=250000), AMENDMENT_MERGES), "avenant.xlsx"
    )
    row_sum, mismatch = parsed.mismatches
    # The printed total row no longer adds up either: budget global ≠ its parts.
    assert (row_sum.code, row_sum.cell) == (ProblemCode.ROW_SUM_MISMATCH, "F14")
    assert mismatch.code == ProblemCode.TOTAL_MISMATCH
    assert (mismatch.cell, mismatch.row, mismatch.column) == ("H14", 14, "H")
    assert mismatch.printed == Decimal("250000.00") and mismatch.computed == Decimal("260000.00")
    assert "250\u00a0000,00\u00a0€" in mismatch.message
    assert "260\u00a0000,00\u00a0€" in mismatch.message
    assert str(mismatch).startswith("Feuille « Tableau », cellule H14 : ")
    assert not parsed.can_import()
    assert parsed.can_import(accept_printed_mismatch=True)


def test_group_sum_checked_where_a_report_is_merged_over_rows():
    rows = amendment_rows()
    rows[6][5] = "56 000 €"  # budget global 1.2 now 10 000 too high for the group
    parsed = read_workbook(xlsx(rows, AMENDMENT_MERGES), "avenant.xlsx")
    codes = kinds(parsed, Severity.MISMATCH)
    assert ProblemCode.ROW_SUM_MISMATCH in codes  # 200 000 ≠ 160 000 + 30 000
    group = next(p for p in parsed.mismatches if p.code == ProblemCode.ROW_SUM_MISMATCH)
    assert (group.printed, group.computed) == (Decimal("200000.00"), Decimal("190000.00"))
    assert "lignes 6 à 8" in group.message


def execution_rows(*, subtotal_a=150, f_first=250):
    return [
        ["TABLEAU FINANCIER RECAPITULATIF"],
        ["Exécution budgétaire 2022"],
        EXECUTION_HEADERS,
        [
            GA,
            GA_CHORUS,
            "5.1",
            "Fiche 4 : AAVE",
            100,
            None,
            150,
            None,
            None,
            f_first,
            200,
            None,
            50,
            0,
            None,
        ],
        [
            None,
            None,
            "5.2",
            "Fiche 5 : TNS",
            "50",
            None,
            "50,00 €",
            None,
            None,
            "100",
            100,
            None,
            0,
            0,
            "Solde après CSF",
        ],
        [None, None, None, "Sous total", subtotal_a, 0, 200, 0, 0, 350, 300, 0, 50, 0],
        [
            "Sous-total engagements de mesures socle",
            None,
            None,
            None,
            150,
            0,
            200,
            0,
            0,
            350,
            300,
            0,
            50,
            0,
        ],
        ["TOTAUX FINANCIERS", None, None, None, 150, 0, 200, 0, 0, 350, 300, 0, 50, 0],
    ]


EXECUTION_MERGES = ["A4:A6", "B4:B6", "A7:D7", "A8:D8"]


def test_subtotals_right():
    parsed = read_workbook(xlsx(execution_rows(), EXECUTION_MERGES), "t.xlsx")
    assert not_info(parsed) == []
    assert [t.kind for t in parsed.printed_totals] == [
        TotalKind.THEME,
        TotalKind.BLOCK,
        TotalKind.GRAND,
    ]
    assert parsed.printed_totals[0].theme_label == GA
    assert parsed.printed_totals[1].block == Block.SOCLE
    assert action(parsed, "5.2").comment == "Solde après CSF"
    assert action(parsed, "5.2").value("C") == Decimal("50.00")


def test_subtotal_and_row_formula_wrong():
    parsed = read_workbook(
        xlsx(execution_rows(subtotal_a=160, f_first=260), EXECUTION_MERGES), "t.xlsx"
    )
    by_cell = {p.cell: p for p in parsed.mismatches}
    assert by_cell["E6"].code == ProblemCode.TOTAL_MISMATCH
    assert (by_cell["E6"].printed, by_cell["E6"].computed) == (D("160.00"), D("150.00"))
    assert "Sous-total du thème" in by_cell["E6"].message
    # F = A+B+C+D+E on the action row, and the sub-totals of F against the rows.
    assert by_cell["J4"].code == ProblemCode.ROW_SUM_MISMATCH
    assert (by_cell["J4"].printed, by_cell["J4"].computed) == (D("260.00"), D("250.00"))
    assert by_cell["J6"].computed == D("360.00")
    assert parsed.errors == ()
    assert not parsed.can_import() and parsed.can_import(accept_printed_mismatch=True)


def test_unreadable_negative_and_noted_amounts_are_placed():
    rows = execution_rows()
    rows[3][4] = "cent euros"
    rows[3][6] = -150
    rows[4][6] = "NC"
    rows[4][10] = "100 (Avance)"
    parsed = read_workbook(xlsx(rows, EXECUTION_MERGES), "t.xlsx")
    problems = {p.cell: p for p in parsed.problems}
    assert problems["E4"].code == ProblemCode.AMOUNT_UNREADABLE
    assert problems["E4"].severity == Severity.ERROR
    assert "« cent euros » n'est pas un montant lisible" in problems["E4"].message
    assert "A Crédits Etats versés en 2022" in problems["E4"].message
    assert problems["G4"].code == ProblemCode.AMOUNT_NEGATIVE
    assert problems["G5"].code == ProblemCode.AMOUNT_NOT_QUANTIFIED
    assert problems["K5"].code == ProblemCode.AMOUNT_NOTE
    assert action(parsed, "5.2").amounts["realised"].note == "Avance"
    assert action(parsed, "5.1").value("A") is None
    assert not parsed.can_import(accept_printed_mismatch=True)


def test_action_without_theme_or_title_is_an_error():
    rows = [
        [
            "Thème",
            "Fiche action N°",
            "Intitulé de l'action",
            "A Crédits Etats versés en 2022",
            "C Crédits CD affectés en 2022",
            "F Budget global",
        ],
        [None, "1.1", "Sans thème", 1, 1, 2],
        ["Maraudes mixtes", "1.2", None, 1, 1, 2],
        [None, None, "Stray text without amounts"],
    ]
    parsed = read_workbook(xlsx(rows), "t.xlsx")
    codes = {p.cell: p.code for p in parsed.errors}
    assert codes == {
        "A2": ProblemCode.ACTION_WITHOUT_THEME,
        "C3": ProblemCode.ACTION_WITHOUT_TITLE,
    }
    assert [a.row for a in parsed.actions] == [2, 3, 4]


def test_amount_merged_over_one_action_row_is_that_actions():
    rows = execution_rows()
    rows.insert(5, [])  # a blank row under 5.2, whose amount A is merged with it
    merges = ["A4:A7", "B4:B7", "E5:E6", "A8:D8", "A9:D9"]
    parsed = read_workbook(xlsx(rows, merges), "t.xlsx")
    assert action(parsed, "5.2").value("A") == Decimal("50.00")
    assert parsed.shared_amounts == ()
    assert not_info(parsed) == []


def test_formula_without_computed_value_is_an_error():
    rows = execution_rows()
    rows[3][9] = "=E4+G4"  # written by a program: no cached value
    parsed = read_workbook(xlsx(rows, EXECUTION_MERGES), "t.xlsx")
    (error,) = parsed.errors
    assert error.code == ProblemCode.FORMULA_WITHOUT_VALUE and error.cell == "J4"


def test_indicator_matrix():
    rows = [
        ["Annexe 1. Tableau des indicateurs"],
        [
            None,
            "Indicateurs",
            "Commentaires et Eléments de définition",
            "Situation au 31 déc. 2018",
            "Résultat atteint en 2021 (1/01/21 au 31/12/21)",
            "Résultat attendu en 2022 (objectif fixé)",
        ],
        ["1. Enfants et jeunes"],
        [
            "1.2 Prévention spécialisée",
            "Nombre d'ETP dédiés à la prévention spécialisée",
            None,
            "Non contractualisé",
            51,
            51,
        ],
        [
            None,
            "Nombre de jeunes touchés",
            "Depuis la dernière remontée",
            None,
            "10 941",
            "5265 (au 31/10/2022)",
        ],
        [None, "dont nombre de jeunes de 12 - 15 ans", None, None, 0.4763, None],
        [None, "jeunes de 15 - 18 ans", None, None, "ND", None],
        ["2. Insertion"],
    ]
    data = xlsx(
        rows,
        ["A3:F3", "A4:A7", "A8:F8"],
        styles={"E6": {"number_format": "0.00%"}, "B7": {"alignment": Alignment(indent=2)}},
    )
    parsed = read_workbook(data, "matrice.xlsx")
    assert parsed.layout is None and parsed.errors == ()
    matrix = parsed.matrix
    assert [p.header for p in matrix.periods] == rows[1][3:]
    assert [p.year for p in matrix.periods] == [2018, 2021, 2022]
    assert [p.is_target for p in matrix.periods] == [False, False, True]
    assert [r.kind for r in matrix.rows] == [
        MatrixRowKind.GROUP,
        *[MatrixRowKind.INDICATOR] * 4,
        MatrixRowKind.GROUP,
    ]
    etp, touched, young, indented = matrix.indicators
    assert etp.measure == "1.2 Prévention spécialisée" and etp.group == "1. Enfants et jeunes"
    assert [(v.raw, v.number, v.status) for v in etp.values] == [
        ("Non contractualisé", None, "not_contracted"),
        ("51", Decimal("51"), "number"),
        ("51", Decimal("51"), "number"),
    ]
    assert touched.definition == "Depuis la dernière remontée"
    assert touched.values[0].number == Decimal("10941")
    assert touched.values[1].number == Decimal("5265") and touched.values[1].cell == "F5"
    assert young.is_sub and young.parent == "Nombre de jeunes touchés"
    assert young.values[0].number == Decimal("47.63")
    assert indented.is_sub and indented.measure == "1.2 Prévention spécialisée"
    assert indented.values[0].status == "not_available"


def test_unknown_layout_lists_the_headers_found():
    parsed = read_workbook(xlsx([["Nom", "Prénom", "Adresse"], ["a", "b", "c"]]), "x.xlsx")
    (error,) = parsed.errors
    assert error.code == ProblemCode.LAYOUT_UNKNOWN
    assert "« Nom », « Prénom », « Adresse »" in error.message
    assert not parsed.can_import(accept_printed_mismatch=True)


def test_missing_required_column_is_named():
    headers = [h for h in EXECUTION_HEADERS if not h.startswith("C ")]
    parsed = read_workbook(xlsx([headers, ["x"] * len(headers)]), "x.xlsx")
    (error,) = parsed.errors
    assert error.code == ProblemCode.COLUMN_MISSING
    assert "« C Crédits CD affectés »" in error.message
    assert parsed.actions == ()


def test_swapped_headers_follow_the_text_and_say_so():
    headers = list(EXECUTION_HEADERS)
    headers[4], headers[6] = "A Crédits CD affectés en 2022", "C Crédits Etats versés en 2022"
    parsed = read_workbook(xlsx([headers]), "x.xlsx")
    assert parsed.header.column("C") == 5 and parsed.header.column("A") == 7
    assert kinds(parsed, Severity.WARNING).count(ProblemCode.HEADER_LETTER) == 2


def test_csv_export_with_semicolons_in_windows_1252():
    text = (
        "Tableau financier récapitulatif prévisionnel\n"
        + ";".join(
            [
                "Thème de la contractualisation",
                "Intitulé de l'action",
                "A Participation État notifiée pour la convention 2023",
                "C Crédits CD affectés pour la convention 2023",
                "F Budget global de l'action prévu en 2023 (A+B+C+D+E)",
            ]
        )
        + "\n"
        + f'{GA};Rallye Emploi;"76 564,20 €";"76 564,20";"153 128,40"\n'
    )
    parsed = read_workbook(text.encode("cp1252"), "export.csv")
    assert parsed.file_format == "csv" and parsed.layout == Layout.PLANNED
    assert action(parsed, "").value("F") == Decimal("153128.40")
    missing = [p.message for p in parsed.problems if p.severity == Severity.WARNING]
    assert len(missing) == 4  # B, valorisation, D, E
    assert missing[0] == (
        "La colonne « B Crédits Etat reportés » est absente de l'en-tête : ses montants ne sont "
        "pas lus (à l'import, ceux déjà enregistrés sont conservés)."
    )
    assert set(kinds(parsed, Severity.WARNING)) == {ProblemCode.COLUMN_MISSING}


def ods(rows: list[list], spans: dict[tuple[int, int], tuple[int, int]]) -> bytes:
    """A minimal .ods file (as LibreOffice writes it: merged cells carry their spans, the cells
    they hide are "covered")."""
    covered = {
        (row + r, column + c)
        for (row, column), (height, width) in spans.items()
        for r in range(height)
        for c in range(width)
        if (r, c) != (0, 0)
    }
    body = []
    for row, values in enumerate(rows):
        cells = []
        for column, value in enumerate(values):
            if (row, column) in covered:
                cells.append("<table:covered-table-cell/>")
                continue
            span = spans.get((row, column))
            attributes = (
                f' table:number-rows-spanned="{span[0]}" table:number-columns-spanned="{span[1]}"'
                if span
                else ""
            )
            if value is None:
                cells.append(f"<table:table-cell{attributes}/>")
            elif isinstance(value, int | float):
                cells.append(
                    f'<table:table-cell{attributes} office:value-type="float" '
                    f'office:value="{value}"><text:p>{value}</text:p></table:table-cell>'
                )
            else:
                cells.append(
                    f'<table:table-cell{attributes} office:value-type="string">'
                    f"<text:p>{value}</text:p></table:table-cell>"
                )
        body.append(f"<table:table-row>{''.join(cells)}</table:table-row>")
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Avenant">'
        + "".join(body)
        + '</table:table><table:table table:name="Vide"/></office:spreadsheet></office:body>'
        "</office:document-content>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )
        archive.writestr("content.xml", content)
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
            '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
            '<manifest:file-entry manifest:full-path="/" manifest:media-type='
            '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
            'manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
        )
    return buffer.getvalue()


def test_ods_merged_cells_are_read_from_its_content():
    rows = [[None if v is None else v for v in row] for row in amendment_rows()]
    spans = {}
    for ref in AMENDMENT_MERGES:
        start, end = ref.split(":")
        first = openpyxl.utils.cell.coordinate_to_tuple(start)
        last = openpyxl.utils.cell.coordinate_to_tuple(end)
        spans[(first[0] - 1, first[1] - 1)] = (last[0] - first[0] + 1, last[1] - first[1] + 1)
    width = len(AMENDMENT_HEADERS)
    rows = [row + [None] * (width - len(row)) for row in rows]
    parsed = read_workbook(ods(rows, spans), "avenant.ods")
    assert parsed.file_format == "ods" and parsed.layout == Layout.AMENDMENT_2020
    assert parsed.themes[0].amounts["pre_notified"].cell_range == "G6:G8"
    assert parsed.themes[0].amounts["carried_over"].amount.value == Decimal("30000.00")
    assert not_info(parsed) == []


def _soffice() -> str:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path:
        return path
    reason = "LibreOffice est absent : installez-le avec « make office-deps »."
    if os.environ.get("CALPAE_REQUIRE_OFFICE", "").strip().lower() in {"1", "true", "yes"}:
        pytest.fail(f"CALPAE_REQUIRE_OFFICE=1 mais {reason}")
    pytest.skip(reason)


@pytest.mark.slow
@pytest.mark.parametrize("target", ["xls", "ods"])
def test_xls_and_ods_saved_by_libreoffice(tmp_path, target):
    soffice = _soffice()
    source = tmp_path / "avenant.xlsx"
    source.write_bytes(xlsx(amendment_rows(), AMENDMENT_MERGES))
    subprocess.run(
        [
            soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--convert-to",
            target,
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    data = (tmp_path / f"avenant.{target}").read_bytes()
    parsed = read_workbook(data, f"avenant.{target}")
    assert parsed.file_format == target and parsed.layout == Layout.AMENDMENT_2020
    assert parsed.themes[0].amounts["pre_notified"].amount.value == Decimal("170000.00")
    assert parsed.themes[0].amounts["pre_notified"].cell_range == "G6:G8"
    assert action(parsed, "2.1").value("cd") == Decimal("274993.43")
    assert not_info(parsed) == []
    # Read as a dense grid: its extent is checked first (14 rows × 12 columns here).
    with pytest.raises(WorkbookError, match="feuille trop étendue"):
        read_workbook(data, f"avenant.{target}", limits=Limits(max_grid_cells=100))


def test_block_headings_on_rows_of_their_own():
    """A heading "ENGAGEMENTS DU SOCLE" spread over the row, not a thème: it sets the block."""
    rows = [
        [
            "Thème de la contractualisation",
            "Intitulé de l'action",
            "Budget global de l'action",
            "Crédits Etat pré-notifiés",
            "Participation État 2020",
            "Participation CD 2020",
        ],
        ["ENGAGEMENTS DU SOCLE"],
        ["Maraudes mixtes (le cas échéant)", "Maraude", 25, 10, 5, 20],
        ["Maraudes mixtes (le cas échéant)", "Maraude bis", 25, 10, 5, 20],
        ["Mesures à l'initiative du département"],
        ["Accès aux droits", "PIMMS", 40, 20, 20, 20],
    ]
    parsed = read_workbook(xlsx(rows, ["A2:F2", "A5:F5"]), "avenant.xlsx")
    assert [(t.label, t.block) for t in parsed.themes] == [
        ("Maraudes mixtes (le cas échéant)", Block.SOCLE),
        ("Accès aux droits", Block.INITIATIVE),
    ]
    # The envelope repeated on each row of the thème is counted once.
    maraudes = parsed.themes[0]
    assert maraudes.amounts["pre_notified"].amount.value == Decimal("10.00")
    assert maraudes.amounts["pre_notified"].cell_range == "D3:D4"
    assert ProblemCode.SHARED_AMOUNT_REPEATED in kinds(parsed, Severity.INFO)
    assert not_info(parsed, but=[ProblemCode.COLUMN_MISSING]) == []


def test_state_participation_above_its_envelope_is_a_warning():
    rows = [
        [
            "Thème",
            "Intitulé de l'action",
            "Budget global",
            "Crédits Etat pré-notifiés",
            "Participation État 2020",
            "Participation CD 2020",
        ],
        ["Maraudes mixtes", "Maraude", 60, 10, 30, 30],
    ]
    parsed = read_workbook(xlsx(rows), "avenant.xlsx")
    (warning,) = [
        p
        for p in parsed.problems
        if p.severity == Severity.WARNING and p.code != ProblemCode.COLUMN_MISSING
    ]
    assert warning.code == ProblemCode.ENVELOPE_EXCEEDED and warning.cell == "D2"
    assert (warning.printed, warning.computed) == (D("10.00"), D("30.00"))


@pytest.mark.parametrize("kind", ["execution", "planned"])
def test_tables_written_by_the_application_read_back(kind):
    """The workbooks the application exports (``reports.xlsx``) import without a problem."""
    from reports.tables import (
        Block as TableBlock,
    )
    from reports.tables import (
        BudgetLine,
        TableHeading,
        ThemeInput,
        build_execution_table,
        build_planned_table,
    )
    from reports.xlsx import financial_table_xlsx

    heading = TableHeading(
        year=2022, department_code="03", department_of_name="de l'Allier", region_name="ARA"
    )
    themes = [
        ThemeInput(
            key="mar",
            label="Maraudes mixtes (le cas échéant)",
            block=TableBlock.SOCLE,
            position=1,
            chorus="0304 50 19 19 05 - Maraudes",
            placeholders=(("1.1", "intitulé de l'action n°1"),),
        ),
        ThemeInput(key="ga", label=GA, block=TableBlock.SOCLE, position=2, chorus=GA_CHORUS),
        ThemeInput(
            key="ini",
            label="Engagements à l'initiative du département",
            block=TableBlock.INITIATIVE,
            position=3,
            chorus="0304 50 19 19 10 - Initiatives locales",
        ),
    ]
    lines = [
        BudgetLine(
            action_key="a",
            theme_key="ga",
            number="5.1",
            title="AAVE",
            state_new=D("855883"),
            cd_new=D("835580.45"),
            other_funding=D("966550.55"),
            realised=D("1449825.82"),
            carry_over_state=D("0"),
            comment="=SOMME(A1)",
        ),
        BudgetLine(
            action_key="b",
            theme_key="ga",
            number="5.2",
            title="TNS",
            state_new=D("107234"),
            cd_new=D("285080"),
            valorisation=D("0"),
        ),
        BudgetLine(
            action_key="c",
            theme_key="ini",
            number="8.1",
            title="Crèches AVIP",
            state_new=D("25000"),
            cd_carried_over=D("88000"),
        ),
    ]
    build = build_execution_table if kind == "execution" else build_planned_table
    table = build(heading=heading, themes=themes, lines=lines)
    parsed = read_workbook(financial_table_xlsx(table), "export.xlsx")

    assert parsed.layout == Layout(kind)
    assert (parsed.year_in_title, parsed.department_in_title) == (2022, "Allier")
    assert not_info(parsed) == []
    printed = [row for row in table.rows if row.kind == "action"]
    assert [a.number for a in parsed.actions] == [row.number for row in printed]
    for parsed_action, row in zip(parsed.actions, printed, strict=True):
        assert parsed_action.title == row.title
        for key, value in row.amounts.items():
            assert parsed_action.value(key) == (
                None if value is None else value.quantize(Decimal("0.01"))
            ), key
    assert action(parsed, "5.1").comment == "=SOMME(A1)"
    assert parsed.themes[0].placeholders[0].kind == PlaceholderKind.TEMPLATE
    assert [t.kind for t in parsed.printed_totals][-1] == TotalKind.GRAND


# --- Refused files -----------------------------------------------------------------------------


@functools.cache
def valid_xlsx() -> bytes:
    return xlsx(execution_rows(), EXECUTION_MERGES)


def zip_bomb(*, declared: int = 2_000_000_000) -> bytes:
    """A valid workbook plus an entry whose header declares a huge size for a few bytes."""
    buffer = io.BytesIO(valid_xlsx())
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/zeros.bin", b"\0" * 1000)
    data = bytearray(buffer.getvalue())
    # Patch the sizes of the last entry in the central directory (offset 24: uncompressed size).
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = declared.to_bytes(4, "little")
    return bytes(data)


def highly_compressed_bomb() -> bytes:
    buffer = io.BytesIO(valid_xlsx())
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/zeros.bin", b"\0" * (50 * 1024 * 1024))
    return buffer.getvalue()


def with_entry(name: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(valid_xlsx()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, content if item.filename == name else source.read(item))
    return buffer.getvalue()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b']>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    b"</sheetData></worksheet>"
)


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (b"", "vide.xlsx", "est vide"),
        (b"x", "tableau.pdf", "seuls les classeurs"),
        (b"Bonjour,\nci-joint le tableau.\n", "tableau.xlsx", "son contenu est du texte"),
        (b"<html><body>tableau</body></html>", "export.xls", "page web"),
        (bytes(range(256)) * 8, "hasard.xlsx", "contenu n'est pas reconnu"),
        (b"PK\x03\x04" + b"\0" * 100, "tronque.xlsx", "endommagé ou incomplet"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "ancien.xls", "illisible"),
    ],
)
def test_wrong_files_are_refused_in_french(data, filename, expected):
    with pytest.raises(WorkbookError, match=expected):
        read_workbook(data, filename)


def test_truncated_workbook_is_refused():
    with pytest.raises(WorkbookError, match="endommagé ou incomplet"):
        read_workbook(valid_xlsx()[: len(valid_xlsx()) // 2], "tableau.xlsx")


def test_word_document_is_refused():
    with pytest.raises(WorkbookError, match="document Word"):
        read_workbook(docx(), "tableau.xlsx")


def test_too_large_file_is_refused_before_anything():
    with pytest.raises(WorkbookError, match="pèse 0,1 Mo : la limite est de 0,0 Mo"):
        open_workbook(b"\0" * 100_000, "gros.xlsx", max_bytes=10_000)


def test_zip_bomb_refused_by_its_declared_size():
    with pytest.raises(WorkbookError, match="une fois décompressé"):
        read_workbook(zip_bomb(), "bombe.xlsx")


def test_zip_bomb_refused_by_its_ratio():
    with pytest.raises(WorkbookError, match=r"se décompresse \d+ fois plus gros"):
        read_workbook(highly_compressed_bomb(), "bombe.xlsx")


def test_lying_entry_size_fails_its_check():
    """An entry declaring fewer bytes than it holds stops at its declared size (CRC fails)."""
    with pytest.raises(WorkbookError, match="endommagé"):
        read_workbook(zip_bomb(declared=10), "bombe.xlsx")


def test_billion_laughs_refused_before_parsing():
    with pytest.raises(WorkbookError, match="DTD ou des entités"):
        read_workbook(with_entry("xl/worksheets/sheet1.xml", BILLION_LAUGHS), "rire.xlsx")


def test_ods_repeating_millions_of_cells_is_refused():
    data = ods([["Thème"]], {})
    content = (
        zipfile.ZipFile(io.BytesIO(data))
        .read("content.xml")
        .replace(
            b'<table:table-row><table:table-cell office:value-type="string">',
            b'<table:table-row table:number-rows-repeated="1000000">'
            b'<table:table-cell table:number-columns-repeated="1000" office:value-type="string">',
        )
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
    with pytest.raises(WorkbookError, match="cellules"):
        read_workbook(buffer.getvalue(), "repete.ods")


def test_ods_value_far_from_the_table_is_refused_before_reading():
    """One value at the far corner would make a dense grid of billions of cells."""
    content = (
        zipfile.ZipFile(io.BytesIO(ods([["Thème"]], {})))
        .read("content.xml")
        .replace(
            b"</table:table-row>",
            b'</table:table-row><table:table-row table:number-rows-repeated="1000000">'
            b'<table:table-cell table:number-columns-repeated="16000"/></table:table-row>'
            b'<table:table-row><table:table-cell table:number-columns-repeated="16000"/>'
            b'<table:table-cell office:value-type="string"><text:p>x</text:p>'
            b"</table:table-cell></table:table-row>",
            1,
        )
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
    with pytest.raises(WorkbookError, match="feuille trop étendue"):
        read_workbook(buffer.getvalue(), "loin.ods")


def test_openpyxl_parses_with_defusedxml():
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML


# --- Fuzz --------------------------------------------------------------------------------------


def _corrupt_sheet(operation: str, draw_index: int, text: str) -> bytes:
    workbook = openpyxl.load_workbook(io.BytesIO(valid_xlsx()))
    sheet = workbook.active
    column = draw_index % len(EXECUTION_HEADERS) + 1
    if operation == "delete_column":
        sheet.delete_cols(column)
    elif operation == "swap_headers":
        other = (column + draw_index // 7) % len(EXECUTION_HEADERS) + 1
        first, second = sheet.cell(3, column), sheet.cell(3, other)
        first.value, second.value = second.value, first.value
    elif operation == "text_in_amount":
        text = ILLEGAL_CHARACTERS_RE.sub("", text) or "?"
        sheet.cell(4 + draw_index % 5, 5 + draw_index % 10).value = text
    elif operation == "delete_row":
        sheet.delete_rows(1 + draw_index % 8)
    elif operation == "unmerge":
        for merged in list(sheet.merged_cells.ranges):
            sheet.unmerge_cells(str(merged))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@st.composite
def corrupted_files(draw) -> tuple[bytes, str]:
    operation = draw(
        st.sampled_from(
            [
                "delete_column",
                "swap_headers",
                "text_in_amount",
                "delete_row",
                "unmerge",
                "truncate",
                "flip_bytes",
                "random_bytes",
                "zip_bomb",
                "billion_laughs",
                "text_renamed",
            ]
        )
    )
    index = draw(st.integers(min_value=0, max_value=10_000))
    text = draw(st.text(max_size=30))
    valid = valid_xlsx()
    if operation == "truncate":
        return valid[: index % len(valid)], "tableau.xlsx"
    if operation == "flip_bytes":
        data = bytearray(valid)
        rng = random.Random(index)
        for _ in range(1 + index % 20):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data), "tableau.xlsx"
    if operation == "random_bytes":
        return draw(st.binary(max_size=2000)), draw(
            st.sampled_from(["x.xlsx", "x.ods", "x.xls", "x.csv"])
        )
    if operation == "zip_bomb":
        return zip_bomb(declared=index * 400_000 + 10), "bombe.xlsx"
    if operation == "billion_laughs":
        return with_entry("xl/worksheets/sheet1.xml", BILLION_LAUGHS), "rire.xlsx"
    if operation == "text_renamed":
        return (text or "texte").encode("utf-8"), "tableau.xlsx"
    return _corrupt_sheet(operation, index, text), "tableau.xlsx"


@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(corrupted_files())
def test_corrupted_workbooks_give_a_clear_message_never_a_crash(corrupted):
    data, filename = corrupted
    try:
        parsed = read_workbook(data, filename, limits=Limits(max_uncompressed_bytes=20_000_000))
    except WorkbookError as error:
        assert error.message and (
            "fichier" in error.message.lower() or "classeur" in error.message.lower()
        )
        return
    for problem in parsed.problems:
        assert problem.message and str(problem).startswith("Feuille « ")
        assert isinstance(problem.severity, Severity)
    if parsed.layout is None and parsed.matrix is None:
        assert parsed.errors


CELL_VALUES = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "Sous total",
            "TOTAUX FINANCIERS",
            "Sous-total engagements de mesures socle",
            "Aucune action programmée",
            "Engagements du socle",
            "Engagements à l'initiative du département",
            "intitulé de l'action n°1",
            "Fiche 3 : Mobilité",
            GA,
            GA_CHORUS,
            "170 000 €",
            "31 850,00 € (report)",
            "NC",
            "-",
            "1,234",
            "dont jeunes",
            "A",
        ]
    ),
    st.integers(min_value=-10, max_value=10**9),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet="abc 0123456789,.€-()+%", max_size=15),
)


@settings(max_examples=40, deadline=None, database=None)
@given(
    headers=st.sampled_from(
        [
            EXECUTION_HEADERS,
            AMENDMENT_HEADERS,
            [
                None,
                "Indicateurs",
                "Commentaires et Eléments de définition",
                "Résultat atteint en 2019",
                "Résultat attendu en 2022 (objectif fixé)",
            ],
        ]
    ),
    title_rows=st.integers(min_value=0, max_value=3),
    cells=st.lists(st.lists(CELL_VALUES, max_size=15), max_size=20),
    merges=st.lists(
        st.tuples(st.integers(1, 20), st.integers(1, 15), st.integers(0, 4), st.integers(0, 2)),
        max_size=6,
    ),
)
def test_any_cells_under_a_real_header_give_problems_never_a_crash(
    headers, title_rows, cells, merges
):
    top = title_rows + 1
    rows = [["Exécution budgétaire 2022"]] * title_rows + [headers]
    rows += [
        [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row]
        for row in cells
    ]
    workbook_merges = []
    taken: set[tuple[int, int]] = set()
    for row, column, height, width in merges:
        area = {
            (r, c)
            for r in range(top + row, top + row + height + 1)
            for c in range(column, column + width + 1)
        }
        if not area & taken:  # a spreadsheet never overlaps merged ranges
            taken |= area
            workbook_merges.append(
                f"{get_column_letter(column)}{top + row}:"
                f"{get_column_letter(column + width)}{top + row + height}"
            )
    parsed = read_workbook(xlsx(rows, workbook_merges), "t.xlsx")
    for problem in parsed.problems:
        assert str(problem).startswith("Feuille « Tableau »") and problem.message
    for parsed_action in parsed.actions:
        for amount in parsed_action.amounts.values():
            assert amount.value is None or amount.value >= 0


def test_an_archive_asking_for_an_unknown_zip_version_is_refused():
    """Found by the fuzzing above: zipfile raises NotImplementedError for it."""
    workbook = openpyxl.Workbook()
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = bytearray(buffer.getvalue())
    central = data.index(b"PK\x01\x02")
    data[central + 6 : central + 8] = (134).to_bytes(2, "little")  # "version 13.4 needed"
    with pytest.raises(WorkbookError, match="endommagé ou incomplet"):
        open_workbook(bytes(data), "tableau.xlsx")
