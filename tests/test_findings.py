"""The reconciliation findings of the official tables (CALPAE.md §9.1), one rule at a time.

Each rule has an example where the finding appears, with its rule, fiche number, column, expected
and actual amounts and a French message, and an example where the data is right and it does not.
"""

from decimal import Decimal

import pytest

from reports.tables import (
    Block,
    BudgetLine,
    Envelope,
    RowKind,
    Rule,
    Severity,
    TableHeading,
    ThemeInput,
    build_execution_table,
    build_planned_table,
    carry_over_findings,
    number_sort_key,
    printed_title,
)

D = Decimal
HEADING_2022 = TableHeading(
    year=2022, department_code="77", department_of_name="de Seine-et-Marne", region_name="IDF"
)
HEADING_2023 = TableHeading(
    year=2023, department_code="77", department_of_name="de Seine-et-Marne", region_name="IdF"
)
THEMES = (
    ThemeInput(
        key="accueil", label="Premier accueil social inconditionnel", block=Block.SOCLE, position=2
    ),
    ThemeInput(key="garantie", label="Garantie d'activité", block=Block.SOCLE, position=5),
    ThemeInput(key="mobilite", label="Mobilité", block=Block.SOCLE, position=7),
    ThemeInput(
        key="initiative",
        label="Engagements à l'initiative du département",
        block=Block.INITIATIVE,
        position=8,
    ),
)
EXECUTION_ONLY_RULES = {
    Rule.REALISED_OVER_BUDGET,
    Rule.CARRY_OVER_BALANCE,
    Rule.CARRY_OVER_STATE_EXCEEDS,
    Rule.CARRY_OVER_CD_EXCEEDS,
}


def line(action_key="a", number="5.1", theme_key="garantie", **amounts) -> BudgetLine:
    return BudgetLine(
        action_key=action_key,
        theme_key=theme_key,
        number=number,
        title=f"Action {action_key}",
        **amounts,
    )


def execution(*lines, **kwargs):
    return build_execution_table(heading=HEADING_2022, themes=THEMES, lines=lines, **kwargs)


def planned(*lines, **kwargs):
    return build_planned_table(heading=HEADING_2023, themes=THEMES, lines=lines, **kwargs)


def of_rule(findings, rule):
    return [finding for finding in findings if finding.rule == rule]


def the_one(findings, rule):
    matching = of_rule(findings, rule)
    assert len(matching) == 1, findings
    return matching[0]


def text(message: str) -> str:
    return message.replace("\u00a0", " ")


# A balanced action: F = 100 000, realised 60 000, reports 10 000 + 30 000, parity held.
BALANCED = {
    "state_new": D("30000.00"),
    "cd_new": D("50000.00"),
    "other_funding": D("20000.00"),
    "realised": D("60000.00"),
    "carry_over_state": D("10000.00"),
    "carry_over_cd": D("30000.00"),
}


def test_balanced_action_has_no_finding():
    table = execution(line(declared_total=D("100000.00"), **BALANCED), state_credit=D("30000"))
    assert table.findings == ()


# --- F_FORMULA -----------------------------------------------------------------------------


@pytest.mark.parametrize("build", [execution, planned])
def test_f_formula_finding(build):
    table = build(
        line(
            number="5.1",
            state_new=D("855883.00"),
            cd_new=D("835580.45"),
            other_funding=D("966550.55"),
            declared_total=D("2658104.00"),
        )
    )
    finding = the_one(table.findings, Rule.F_FORMULA)
    assert finding.severity == Severity.ERROR
    assert finding.action_key == "a"
    assert finding.action_number == "5.1"
    assert finding.column == "F"
    assert finding.expected == D("2658014.00")
    assert finding.actual == D("2658104.00")
    message = text(finding.message)
    assert "Fiche 5.1" in message
    assert "2 658 104,00 €" in message
    assert "2 658 014,00 €" in message
    # The row prints the recomputed F.
    assert table.rows_of_kind(RowKind.ACTION)[0].amounts["F"] == D("2658014.00")


@pytest.mark.parametrize("build", [execution, planned])
def test_no_f_formula_finding_when_declared_total_is_right(build):
    table = build(
        line(
            state_new=D("855883.00"),
            cd_new=D("835580.45"),
            other_funding=D("966550.55"),
            declared_total=D("2658014.00"),
        )
    )
    assert of_rule(table.findings, Rule.F_FORMULA) == []


@pytest.mark.parametrize("build", [execution, planned])
def test_declared_total_without_split_is_the_budget_global(build):
    # Some documents give only a budget global, with no split between State and CD.
    table = build(line(number="4.1", theme_key="accueil", declared_total=D("500000.00")))
    assert of_rule(table.findings, Rule.F_FORMULA) == []
    (row,) = table.rows_of_kind(RowKind.ACTION)
    assert row.amounts["F"] == D("500000.00")
    assert [row.amounts[key] for key in "ABCDE"] == [None] * 5
    assert table.grand_total.amounts["F"] == D("500000.00")


# --- STATE_TOTAL ---------------------------------------------------------------------------


def test_state_total_finding_execution():
    # 77 2022: the convention says 2 574 959, the table's A totals 2 554 959.
    table = execution(
        line("a", "2.1", "accueil", state_new=D("2000000.00"), cd_new=D("3000000.00")),
        line("b", "5.1", "garantie", state_new=D("554959.00"), cd_new=D("600000.00")),
        state_credit=D("2574959.00"),
    )
    finding = the_one(table.findings, Rule.STATE_TOTAL)
    assert finding.severity == Severity.WARNING
    assert finding.action_number is None
    assert finding.column == "A"
    assert finding.expected == D("2574959.00")
    assert finding.actual == D("2554959.00")
    message = text(finding.message)
    assert "TOTAUX FINANCIERS" in message
    assert "2 554 959,00 €" in message
    assert "2 574 959,00 €" in message
    assert "20 000,00 €" in message
    assert "2022" in message


def test_state_total_finding_planned_names_the_notified_credit():
    table = planned(
        line(state_new=D("1000000.00"), cd_new=D("1000000.00")), state_credit=D("1186729.00")
    )
    finding = the_one(table.findings, Rule.STATE_TOTAL)
    assert finding.expected == D("1186729.00")
    assert finding.actual == D("1000000.00")
    message = text(finding.message)
    assert "crédit État notifié 2023" in message
    assert "1 186 729,00 €" in message
    assert "1 000 000,00 €" in message
    assert "186 729,00 €" in message


@pytest.mark.parametrize("build", [execution, planned])
def test_no_state_total_finding_when_total_a_is_the_credit(build):
    table = build(
        line("a", "2.1", "accueil", state_new=D("632504.00"), cd_new=D("700000.00")),
        line("b", "5.2", "garantie", state_new=D("554225.00"), cd_new=D("600000.00")),
        state_credit=D("1186729"),
    )
    assert of_rule(table.findings, Rule.STATE_TOTAL) == []


def test_no_state_total_finding_without_a_state_credit():
    assert (
        of_rule(execution(line(state_new=D("1.00"), cd_new=D("1.00"))).findings, Rule.STATE_TOTAL)
        == []
    )


# --- REALISED_OVER_BUDGET --------------------------------------------------------------------


def test_realised_over_budget_finding():
    # Allier platform: planned 20 000, realised 26 400.
    table = execution(
        line(
            number="7.2",
            theme_key="mobilite",
            state_new=D("10000.00"),
            cd_new=D("10000.00"),
            realised=D("26400.00"),
        )
    )
    finding = the_one(table.findings, Rule.REALISED_OVER_BUDGET)
    assert finding.severity == Severity.WARNING
    assert finding.action_number == "7.2"
    assert finding.column == "realised"
    assert finding.expected == D("20000.00")
    assert finding.actual == D("26400.00")
    message = text(finding.message)
    assert "Fiche 7.2" in message
    assert "26 400,00 €" in message
    assert "20 000,00 €" in message


def test_no_realised_over_budget_finding_when_realised_is_the_budget():
    table = execution(
        line(
            state_new=D("10000.00"),
            cd_new=D("10000.00"),
            realised=D("20000.00"),
            carry_over_state=D("0.00"),
            carry_over_cd=D("0.00"),
        )
    )
    assert table.findings == ()


# --- CARRY_OVER_BALANCE ----------------------------------------------------------------------

SEINE_ET_MARNE_5_1 = {
    "state_new": D("855883.00"),
    "cd_new": D("835580.45"),
    "other_funding": D("966550.55"),
    "declared_total": D("2658014.00"),
    "realised": D("1449825.82"),
    "carry_over_state": D("0.00"),
    "carry_over_cd": D("0.00"),
}
SOLDE_COMMENT = (
    "Il existe un solde de 1 208 188,18 € qui sera versé aux AAVE à l'issu du contrôle du "
    "service fait (modalité de paiement en 2 temps)."
)


def test_carry_over_balance_finding_on_the_real_row_5_1():
    table = execution(line(number="5.1", comment=SOLDE_COMMENT, **SEINE_ET_MARNE_5_1))
    finding = the_one(table.findings, Rule.CARRY_OVER_BALANCE)
    assert finding.severity == Severity.WARNING
    assert finding.action_number == "5.1"
    assert finding.column == "carry_over"
    assert finding.expected == D("1208188.18")
    assert finding.actual == D("0.00")
    message = text(finding.message)
    assert "Fiche 5.1" in message
    assert "2 658 014,00 €" in message
    assert "1 449 825,82 €" in message
    assert "écart 1 208 188,18 €" in message
    # The written explanation is quoted for the reviewer.
    assert SOLDE_COMMENT in message
    # F is right, realised is within the budget, reports within the credits; the real row
    # also breaks parity (A 855 883,00 > C 835 580,45).
    assert {f.rule for f in table.findings} == {
        Rule.CARRY_OVER_BALANCE,
        Rule.PARITY_ACTION,
        Rule.PARITY_TOTAL,
    }


def test_no_carry_over_balance_finding_when_reports_are_the_remainder():
    amounts = SEINE_ET_MARNE_5_1 | {
        "carry_over_state": D("600000.00"),
        "carry_over_cd": D("608188.18"),
    }
    table = execution(line(**amounts))
    assert of_rule(table.findings, Rule.CARRY_OVER_BALANCE) == []


def test_no_carry_over_balance_finding_without_execution_data():
    amounts = SEINE_ET_MARNE_5_1 | {
        "realised": None,
        "carry_over_state": None,
        "carry_over_cd": None,
    }
    assert of_rule(execution(line(**amounts)).findings, Rule.CARRY_OVER_BALANCE) == []


def test_carry_over_unallocated_counts_in_the_balance():
    amounts = SEINE_ET_MARNE_5_1 | {"carry_over_unallocated": D("1208188.18")}
    assert of_rule(execution(line(**amounts)).findings, Rule.CARRY_OVER_BALANCE) == []


# --- CARRY_OVER_STATE_EXCEEDS / CARRY_OVER_CD_EXCEEDS ---------------------------------------


def test_carry_over_state_exceeds_finding():
    table = execution(
        line(
            number="7.2",
            theme_key="mobilite",
            state_new=D("80000.00"),
            state_carried_over=D("5694.00"),
            cd_new=D("166306.00"),
            realised=D("100000.00"),
            carry_over_state=D("95694.00"),
            carry_over_cd=D("56306.00"),
        )
    )
    finding = the_one(table.findings, Rule.CARRY_OVER_STATE_EXCEEDS)
    assert finding.severity == Severity.ERROR
    assert finding.action_number == "7.2"
    assert finding.column == "carry_over_state"
    assert finding.expected == D("85694.00")
    assert finding.actual == D("95694.00")
    message = text(finding.message)
    assert "Fiche 7.2" in message
    assert "95 694,00 €" in message
    assert "85 694,00 €" in message
    assert of_rule(table.findings, Rule.CARRY_OVER_CD_EXCEEDS) == []


def test_no_carry_over_state_exceeds_finding_at_the_limit():
    table = execution(
        line(
            state_new=D("80000.00"),
            state_carried_over=D("5694.00"),
            cd_new=D("166306.00"),
            realised=D("100000.00"),
            carry_over_state=D("85694.00"),
            carry_over_cd=D("66306.00"),
        )
    )
    assert table.findings == ()


def test_carry_over_cd_exceeds_finding():
    table = execution(
        line(
            number="8.1",
            theme_key="initiative",
            state_new=D("25000.00"),
            cd_new=D("50000.00"),
            cd_carried_over=D("10000.00"),
            other_funding=D("100000.00"),
            realised=D("115000.00"),
            carry_over_state=D("0.00"),
            carry_over_cd=D("70000.00"),
        )
    )
    finding = the_one(table.findings, Rule.CARRY_OVER_CD_EXCEEDS)
    assert finding.severity == Severity.ERROR
    assert finding.action_number == "8.1"
    assert finding.column == "carry_over_cd"
    assert finding.expected == D("60000.00")
    assert finding.actual == D("70000.00")
    message = text(finding.message)
    assert "Fiche 8.1" in message
    assert "70 000,00 €" in message
    assert "60 000,00 €" in message
    assert of_rule(table.findings, Rule.CARRY_OVER_STATE_EXCEEDS) == []


def test_no_carry_over_cd_exceeds_finding_for_avip():
    # 77 2022 row 8.1 (AVIP): C 150 000, realised 73 000, report CD 102 000.
    table = execution(
        line(
            number="8.1",
            theme_key="initiative",
            state_new=D("25000.00"),
            cd_new=D("150000.00"),
            realised=D("73000.00"),
            carry_over_state=D("0.00"),
            carry_over_cd=D("102000.00"),
        )
    )
    assert table.findings == ()


# --- PARITY_ACTION / PARITY_TOTAL ----------------------------------------------------------


@pytest.mark.parametrize("build", [execution, planned])
def test_parity_action_finding(build):
    # 77 2023, action 5.2: CD 152 000 against État 608 000.
    table = build(line(number="5.2", state_new=D("608000.00"), cd_new=D("152000.00")))
    finding = the_one(table.findings, Rule.PARITY_ACTION)
    assert finding.severity == Severity.WARNING
    assert finding.action_number == "5.2"
    assert finding.column == "C"
    assert finding.expected == D("608000.00")
    assert finding.actual == D("152000.00")
    message = text(finding.message)
    assert "Fiche 5.2" in message
    assert "152 000,00 €" in message
    assert "608 000,00 €" in message


@pytest.mark.parametrize("build", [execution, planned])
def test_no_parity_action_finding_when_cd_matches_the_state(build):
    table = build(line(state_new=D("608000.00"), cd_new=D("608000.00")))
    assert of_rule(table.findings, Rule.PARITY_ACTION) == []
    assert of_rule(table.findings, Rule.PARITY_TOTAL) == []


@pytest.mark.parametrize("build", [execution, planned])
def test_parity_total_finding(build):
    # 77 2023 totals: A 1 186 729 > C 976 729.
    table = build(
        line("a", "5.2", "garantie", state_new=D("608000.00"), cd_new=D("152000.00")),
        line("b", "2.1", "accueil", state_new=D("578729.00"), cd_new=D("824729.00")),
    )
    finding = the_one(table.findings, Rule.PARITY_TOTAL)
    assert finding.severity == Severity.WARNING
    assert finding.action_number is None
    assert finding.action_key is None
    assert finding.column == "C"
    assert finding.expected == D("1186729.00")
    assert finding.actual == D("976729.00")
    message = text(finding.message)
    assert "TOTAUX FINANCIERS" in message
    assert "976 729,00 €" in message
    assert "1 186 729,00 €" in message


@pytest.mark.parametrize("build", [execution, planned])
def test_no_parity_total_finding_when_it_holds_globally(build):
    # 77 2022: 5.4 is 100 % État, yet parity holds in total.
    table = build(
        line("a", "5.4", "garantie", state_new=D("50000.00")),
        line("b", "2.1", "accueil", state_new=D("100000.00"), cd_new=D("500000.00")),
    )
    assert [f.action_number for f in of_rule(table.findings, Rule.PARITY_ACTION)] == ["5.4"]
    assert of_rule(table.findings, Rule.PARITY_TOTAL) == []


# --- ENVELOPE_EXCEEDED ---------------------------------------------------------------------

ENVELOPE = Envelope(
    theme_keys=frozenset({"garantie", "mobilite"}),
    amount=D("640399.24"),
    label="Insertion des allocataires du RSA",
)


@pytest.mark.parametrize("build", [execution, planned])
def test_envelope_exceeded_finding(build):
    table = build(
        line("a", "5.1", "garantie", state_new=D("500000.00"), cd_new=D("500000.00")),
        line("b", "7.2", "mobilite", state_new=D("326140.38"), cd_new=D("400000.00")),
        # Outside the envelope: not counted.
        line("c", "2.1", "accueil", state_new=D("900000.00"), cd_new=D("900000.00")),
        envelopes=[ENVELOPE],
    )
    finding = the_one(table.findings, Rule.ENVELOPE_EXCEEDED)
    assert finding.severity == Severity.WARNING
    assert finding.action_number is None
    assert finding.column == "A"
    assert finding.expected == D("640399.24")
    assert finding.actual == D("826140.38")
    message = text(finding.message)
    assert "Insertion des allocataires du RSA" in message
    assert "826 140,38 €" in message
    assert "640 399,24 €" in message
    assert "185 741,14 €" in message


@pytest.mark.parametrize("build", [execution, planned])
def test_no_envelope_exceeded_finding_at_the_envelope(build):
    table = build(
        line("a", "5.1", "garantie", state_new=D("314258.86"), cd_new=D("500000.00")),
        line("b", "7.2", "mobilite", state_new=D("326140.38"), cd_new=D("400000.00")),
        line("c", "2.1", "accueil", state_new=D("900000.00"), cd_new=D("900000.00")),
        envelopes=[ENVELOPE],
    )
    assert of_rule(table.findings, Rule.ENVELOPE_EXCEEDED) == []


# --- CARRY_OVER_MISMATCH / CARRY_OVER_TOTAL_MISMATCH ---------------------------------------

# 77: AVIP is fiche 8.1 in 2022 and 7.5 in 2023; report CD 102 000, then D 88 000.
AVIP_2022 = line(
    "avip",
    "8.1",
    "initiative",
    state_new=D("25000.00"),
    cd_new=D("150000.00"),
    realised=D("73000.00"),
    carry_over_state=D("0.00"),
    carry_over_cd=D("102000.00"),
)
MOBILITE_2022 = line(
    "mobilite",
    "7.2",
    "mobilite",
    state_new=D("85694.00"),
    cd_new=D("166306.00"),
    realised=D("100000.00"),
    carry_over_state=D("85694.00"),
    carry_over_cd=D("66306.00"),
)


def avip_2023(d: Decimal) -> BudgetLine:
    return line("avip", "7.5", "mobilite", cd_carried_over=d)


MOBILITE_2023 = line(
    "mobilite", "7.4", "mobilite", state_carried_over=D("85694.00"), cd_carried_over=D("66306.00")
)


def test_carry_over_mismatch_finding_matches_renumbered_actions_by_key():
    table = planned(
        avip_2023(D("88000.00")), MOBILITE_2023, previous_lines=[AVIP_2022, MOBILITE_2022]
    )
    finding = the_one(table.findings, Rule.CARRY_OVER_MISMATCH)
    assert finding.severity == Severity.WARNING
    assert finding.action_key == "avip"
    assert finding.action_number == "7.5"
    assert finding.column == "D"
    assert finding.expected == D("102000.00")
    assert finding.actual == D("88000.00")
    message = text(finding.message)
    assert "Fiche 7.5 (fiche 8.1 en 2022)" in message
    assert "88 000,00 €" in message
    assert "102 000,00 €" in message
    assert "écart" in message
    assert "14 000,00 €" in message


def test_carry_over_mismatch_seen_from_the_execution_table():
    table = execution(
        AVIP_2022, MOBILITE_2022, next_planned_lines=[avip_2023(D("88000.00")), MOBILITE_2023]
    )
    finding = the_one(table.findings, Rule.CARRY_OVER_MISMATCH)
    assert (finding.action_key, finding.action_number, finding.column) == ("avip", "7.5", "D")
    assert (finding.expected, finding.actual) == (D("102000.00"), D("88000.00"))


def test_no_carry_over_mismatch_when_reports_are_carried_despite_renumbering():
    table = planned(
        avip_2023(D("102000.00")), MOBILITE_2023, previous_lines=[AVIP_2022, MOBILITE_2022]
    )
    assert table.findings == ()


def test_carry_over_mismatch_when_the_action_has_no_fiche_the_next_year():
    findings = carry_over_findings(
        previous_year=2022, previous=[AVIP_2022], current_year=2023, current=[]
    )
    finding = the_one(findings, Rule.CARRY_OVER_MISMATCH)
    assert finding.action_key == "avip"
    assert finding.action_number == "8.1"
    assert finding.column == "D"
    assert finding.expected == D("102000.00")
    assert finding.actual == D("0.00")
    message = text(finding.message)
    assert "Fiche 8.1 (2022)" in message
    assert "2023" in message


def test_carry_over_total_mismatch_finding():
    # 77: report CD 2022 totals 540 156, D 2023 totals 526 156; State reports match (475 694).
    other_2022 = line(
        "other", "5.5", "garantie", carry_over_state=D("390000.00"), carry_over_cd=D("371850.00")
    )
    other_2023 = line(
        "other",
        "5.4",
        "garantie",
        state_carried_over=D("390000.00"),
        cd_carried_over=D("371850.00"),
    )
    findings = carry_over_findings(
        previous_year=2022,
        previous=[AVIP_2022, MOBILITE_2022, other_2022],
        current_year=2023,
        current=[avip_2023(D("88000.00")), MOBILITE_2023, other_2023],
    )
    finding = the_one(findings, Rule.CARRY_OVER_TOTAL_MISMATCH)
    assert finding.severity == Severity.WARNING
    assert finding.action_number is None
    assert finding.column == "D"
    assert finding.expected == D("540156.00")
    assert finding.actual == D("526156.00")
    message = text(finding.message)
    assert "TOTAUX FINANCIERS" in message
    assert "526 156,00 €" in message
    assert "540 156,00 €" in message
    assert "14 000,00 €" in message
    assert [f.column for f in findings] == ["D", "D"]  # one per action, one total; none for B


def test_no_carry_over_total_mismatch_when_differences_cancel_out():
    previous = [
        line("x", "1.1", carry_over_cd=D("1000.00")),
        line("y", "1.2", carry_over_cd=D("2000.00")),
    ]
    current = [
        line("x", "3.1", cd_carried_over=D("2000.00")),
        line("y", "3.2", cd_carried_over=D("1000.00")),
    ]
    findings = carry_over_findings(
        previous_year=2022, previous=previous, current_year=2023, current=current
    )
    assert {f.rule for f in findings} == {Rule.CARRY_OVER_MISMATCH}
    assert sorted(f.action_key for f in findings) == ["x", "y"]


# --- Planned tables, sort keys, titles -----------------------------------------------------


def test_planned_table_never_gives_execution_findings():
    table = planned(
        line(
            state_new=D("10000.00"),
            cd_new=D("10000.00"),
            realised=D("99999.00"),
            carry_over_state=D("50000.00"),
            carry_over_cd=D("50000.00"),
            carry_over_unallocated=D("1.00"),
        )
    )
    assert {f.rule for f in table.findings} & EXECUTION_ONLY_RULES == set()
    assert table.findings == ()
    assert "realised" not in table.grand_total.amounts


def test_same_data_gives_execution_findings_in_an_execution_table():
    table = execution(
        line(
            state_new=D("10000.00"),
            cd_new=D("10000.00"),
            realised=D("99999.00"),
            carry_over_state=D("50000.00"),
            carry_over_cd=D("50000.00"),
        )
    )
    assert {f.rule for f in table.findings} == EXECUTION_ONLY_RULES


def test_number_sort_key_is_natural():
    numbers = ["6.1", "5.10", "5.2", "10.1", "5.1"]
    assert sorted(numbers, key=number_sort_key) == ["5.1", "5.2", "5.10", "6.1", "10.1"]
    assert number_sort_key("5.2") < number_sort_key("5.10") < number_sort_key("6.1")


@pytest.mark.parametrize("number", ["2.1.", " 2.1 ", "2.1. "])
def test_number_sort_key_ignores_trailing_dots_and_spaces(number):
    assert number_sort_key(number) == number_sort_key("2.1")


def test_action_rows_follow_the_natural_number_order():
    table = planned(
        line("c", "5.10", cd_new=D("1.00")),
        line("a", "5.2", cd_new=D("1.00")),
        line("b", "5.1", cd_new=D("1.00")),
    )
    assert [row.number for row in table.rows_of_kind(RowKind.ACTION)] == ["5.1", "5.2", "5.10"]


def test_printed_title():
    assert printed_title(title="Soutien aux crèches AVIP", sequence_number="13") == (
        "Fiche 13 : Soutien aux crèches AVIP"
    )
    assert printed_title(title="Soutien aux crèches AVIP") == "Soutien aux crèches AVIP"
