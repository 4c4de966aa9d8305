"""Golden tests: the official tables computed from the demo data equal, row by row and cent by
cent, the tables printed in the official documents (``../shared/domain/data``)."""

from decimal import Decimal

import pytest

from conventions.models import ConventionYear
from reports.formatting import format_euros
from reports.selectors import execution_table, planned_table
from reports.tables import PrintedAmount, RowKind, Rule, printed_total_findings

KINDS = {
    "placeholder": RowKind.PLACEHOLDER,
    "theme_header_only": RowKind.PLACEHOLDER,
    "action": RowKind.ACTION,
    "theme_subtotal": RowKind.THEME_SUBTOTAL,
    "socle_subtotal": RowKind.BLOCK_SUBTOTAL,
    "initiative_subtotal": RowKind.BLOCK_SUBTOTAL,
    "grand_total": RowKind.GRAND_TOTAL,
}
EXECUTION_COLUMNS = {
    "A": "A",
    "B": "B",
    "C": "C",
    "D": "D",
    "E": "E",
    "F": "F",
    "realise": "realised",
    "dont_valorisation": "valorisation",
    "report_etat": "carry_over_state",
    "report_cd": "carry_over_cd",
}
PLANNED_COLUMNS = {
    "A": "A",
    "B": "B",
    "C": "C",
    "dont_valorisation_cd": "valorisation",
    "D": "D",
    "E": "E",
    "F": "F",
}

pytestmark = pytest.mark.django_db


def _year(code: str, year: int) -> ConventionYear:
    return ConventionYear.objects.get(convention__department__code=code, year=year)


def _printed(value: str | None, *, total: bool) -> Decimal | None:
    # Sub-total rows print every amount column; the extraction left a few of them empty.
    if value is None:
        return Decimal("0.00") if total else None
    return Decimal(value)


def _assert_rows_match(table, printed_rows, columns, title_key):
    assert len(table.rows) == len(printed_rows), [row.title for row in table.rows]
    for row, printed in zip(table.rows, printed_rows, strict=True):
        where = f"{printed['source']} ({printed['record_type']} {printed.get('fiche_action_no')})"
        assert row.kind == KINDS[printed["record_type"]], where
        if row.kind == RowKind.ACTION:
            number = printed.get("fiche_action_no_normalized") or printed["fiche_action_no"]
            assert row.number == number.rstrip("."), where
            assert row.title == printed[title_key], where
            assert row.theme_label == printed["theme_label"], where
            assert row.chorus == (printed.get("chorus_printed") or ""), where
            assert row.comment == (printed.get("commentaire") or ""), where
        for theirs, ours in columns.items():
            expected = _printed(printed[theirs], total=row.is_total)
            assert row.amounts[ours] == expected, f"{where} colonne {ours}"


def test_execution_2022_reproduces_the_printed_table(shared_data):
    printed = shared_data("seine-et-marne-2022-execution.json")
    table = execution_table(_year("77", 2022))

    _assert_rows_match(table, printed["rows"], EXECUTION_COLUMNS, "intitule_printed")
    assert table.title_lines == (
        "TABLEAU FINANCIER RECAPITULATIF",
        "CONVENTION D'APPUI À LA LUTTE CONTRE LA PAUVRETÉ ET D'ACCÈS À L'EMPLOI - "
        "Région Île-de-France - Département de Seine-et-Marne (77)",
        "Exécution budgétaire 2022",
    )
    assert [column.header for column in table.columns] == [
        column["header"] for column in printed["columns"][4:14]
    ]
    totals = {key: format_euros(value) for key, value in table.grand_total.amounts.items()}
    assert {key: value.replace("\u00a0", " ") for key, value in totals.items()} == {
        "A": "2 554 959,00 €",
        "B": "0,00 €",
        "C": "6 420 224,45 €",
        "D": "0,00 €",
        "E": "2 203 046,55 €",
        "F": "11 178 230,00 €",
        "realised": "8 195 325,07 €",
        "valorisation": "0,00 €",
        "carry_over_state": "475 694,00 €",
        "carry_over_cd": "540 156,00 €",
    }


def test_planned_2023_reproduces_the_printed_table(shared_data):
    printed = shared_data("seine-et-marne-2023-previsionnel.json")
    table = planned_table(_year("77", 2023))

    _assert_rows_match(table, printed["rows"], PLANNED_COLUMNS, "intitule")
    assert table.title_lines[0] == "TABLEAU FINANCIER RECAPITULATIF PREVISIONNEL"
    assert table.title_lines[2] == "Prévisionnel Année 2023"
    assert [column.header for column in table.columns] == [
        column["header"] for column in printed["columns"][4:11]
    ]
    assert table.grand_total.amounts["F"] == Decimal("5441300.00")
    assert table.grand_total.amounts["A"] == _year("77", 2023).state_credit


def test_findings_2022_are_those_a_reviewer_raises():
    table = execution_table(_year("77", 2022))
    by_rule = {}
    for finding in table.findings:
        by_rule.setdefault(finding.rule, []).append(finding)

    # Budget − réalisé ≠ reports on exactly the three rows explained by their comment.
    balance = by_rule[Rule.CARRY_OVER_BALANCE]
    assert [f.action_number for f in balance] == ["5.1", "5.2", "5.5"]
    assert [(f.expected, f.actual) for f in balance] == [
        (Decimal("1208188.18"), Decimal("0.00")),
        (Decimal("83866.75"), Decimal("0.00")),
        (Decimal("975000.00"), Decimal("300000.00")),
    ]
    # Convention 2 574 959 € vs column A 2 554 959 € (CALPAE.md §9.3).
    (state,) = by_rule[Rule.STATE_TOTAL]
    assert (state.expected, state.actual) == (Decimal("2574959.00"), Decimal("2554959.00"))
    # AVIP: report CD 102 000 € in 2022, D 88 000 € in 2023 (fiche 8.1 became 7.5).
    (avip,) = by_rule[Rule.CARRY_OVER_MISMATCH]
    assert (avip.action_number, avip.column) == ("7.5", "D")
    assert (avip.expected, avip.actual) == (Decimal("102000.00"), Decimal("88000.00"))
    assert "fiche 8.1 en 2022" in avip.message
    (total,) = by_rule[Rule.CARRY_OVER_TOTAL_MISMATCH]
    assert (total.expected, total.actual) == (Decimal("540156.00"), Decimal("526156.00"))
    # The State carry-overs match (475 694 €): no finding on column B.
    assert all(f.column != "B" for f in table.findings)


def test_planned_2023_has_no_state_total_finding_and_flags_parity():
    table = planned_table(_year("77", 2023))
    rules = {finding.rule for finding in table.findings}
    assert Rule.STATE_TOTAL not in rules
    assert Rule.ENVELOPE_EXCEEDED not in rules  # 782 504 ≤ 791 055, 349 225 ≤ 350 813
    assert Rule.PARITY_TOTAL in rules  # A 1 186 729 > C 976 729 (CALPAE.md §9.3)


def test_allier_2019_totals(shared_data):
    printed = shared_data("allier-2019-execution.json")
    table = execution_table(_year("03", 2019))
    total = table.grand_total.amounts
    assert total["F"] == Decimal(printed["total"]["montant_convention_2019"])
    assert total["realised"] == Decimal(printed["total"]["montant_realise_31_12_2019"])
    overrun = [f for f in table.findings if f.rule == Rule.REALISED_OVER_BUDGET]
    assert {f.actual for f in overrun} >= {Decimal("26400.00")}  # plateforme: 20 000 planned


def _printed_totals(table, printed_rows, columns):
    """The amounts printed on the sub-total and total rows, keyed as the table keys them."""
    amounts = []
    for row, printed in zip(table.rows, printed_rows, strict=True):
        if not row.is_total:
            continue
        key = {
            RowKind.THEME_SUBTOTAL: row.theme_key,
            RowKind.BLOCK_SUBTOTAL: row.block and row.block.value,
            RowKind.GRAND_TOTAL: None,
        }[row.kind]
        for theirs, ours in columns.items():
            if printed[theirs] is not None:
                amounts.append(
                    PrintedAmount(row.kind, key, ours, Decimal(printed[theirs]), printed["source"])
                )
    return amounts


def test_every_printed_total_of_2022_and_2023_reconciles(shared_data):
    for name, build, columns, year in (
        ("seine-et-marne-2022-execution.json", execution_table, EXECUTION_COLUMNS, 2022),
        ("seine-et-marne-2023-previsionnel.json", planned_table, PLANNED_COLUMNS, 2023),
    ):
        table = build(_year("77", year))
        printed = _printed_totals(table, shared_data(name)["rows"], columns)
        assert len(printed) > 50
        assert printed_total_findings(table, printed) == []


def test_a_wrong_printed_total_is_reported_with_both_amounts(shared_data):
    table = execution_table(_year("77", 2022))
    wrong = PrintedAmount(
        RowKind.GRAND_TOTAL, None, "F", Decimal("11178230.01"), "Annexe 2, TOTAUX FINANCIERS"
    )
    (finding,) = printed_total_findings(table, [wrong])
    assert finding.rule == Rule.PRINTED_MISMATCH
    assert finding.message.replace("\u00a0", " ") == (
        "TOTAUX FINANCIERS (Annexe 2, TOTAUX FINANCIERS) — colonne F : montant imprimé "
        "11 178 230,01 €, somme des lignes 11 178 230,00 €, écart 0,01 €."
    )
