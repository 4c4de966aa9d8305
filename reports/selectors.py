"""Reads for the official tables: database rows → the plain inputs of ``reports.tables``.

A fixed number of queries per table, whatever the number of actions.
"""

from django.db.models import Sum

from actions.choices import BudgetKind
from actions.models import Budget
from conventions.models import ConventionYear, StateEnvelope, ThemeYear
from reports.tables import (
    CENT,
    Block,
    BudgetLine,
    Envelope,
    FinancialTable,
    TableHeading,
    ThemeInput,
    build_execution_table,
    build_planned_table,
    printed_title,
)


def theme_inputs(convention_year: ConventionYear) -> list[ThemeInput]:
    inputs = []
    for theme_year in ThemeYear.objects.filter(convention_year=convention_year).select_related(
        "theme__chorus_code"
    ):
        theme = theme_year.theme
        chorus = str(theme.chorus_code) if theme.chorus_code else ""
        if theme_year.chorus_note:
            chorus = f"{chorus} {theme_year.chorus_note}".strip()
        inputs.append(
            ThemeInput(
                key=theme.code,
                label=theme_year.label,
                block=Block(theme.block),
                position=theme_year.position,
                chorus=chorus,
                placeholders=tuple(tuple(row) for row in theme_year.placeholder_rows),
            )
        )
    return inputs


def budget_lines(convention_year: ConventionYear, kind: BudgetKind) -> list[BudgetLine]:
    budgets = (
        Budget.objects.filter(action_year__convention_year=convention_year, kind=kind)
        .select_related("action_year__action", "action_year__theme")
        .annotate(other_total=Sum("other_fundings__amount"))
    )
    return [
        BudgetLine(
            action_key=budget.action_year.action.code,
            theme_key=budget.action_year.theme.code,
            number=budget.action_year.number,
            title=printed_title(
                title=budget.action_year.title, sequence_number=budget.action_year.sequence_number
            ),
            state_new=budget.state_new,
            state_carried_over=budget.state_carried_over,
            cd_new=budget.cd_new,
            valorisation=budget.valorisation,
            cd_carried_over=budget.cd_carried_over,
            # SQLite sums decimals with extra digits: bring them back to cents.
            other_funding=None if budget.other_total is None else budget.other_total.quantize(CENT),
            declared_total=budget.declared_total,
            realised=budget.realised,
            carry_over_state=budget.carry_over_state,
            carry_over_cd=budget.carry_over_cd,
            carry_over_unallocated=budget.carry_over_unallocated,
            comment=budget.comment,
        )
        for budget in budgets
    ]


def envelopes(convention_year: ConventionYear) -> list[Envelope]:
    return [
        Envelope(
            theme_keys=frozenset(theme.code for theme in envelope.themes.all()),
            amount=envelope.amount,
            label=envelope.note or f"Enveloppe {envelope.get_kind_display().lower()}",
        )
        for envelope in StateEnvelope.objects.filter(
            convention_year=convention_year
        ).prefetch_related("themes")
    ]


def heading(convention_year: ConventionYear) -> TableHeading:
    department = convention_year.convention.department
    return TableHeading(
        year=convention_year.year,
        department_code=department.code,
        department_of_name=department.of_name,
        region_name=department.region.name,
    )


def _sibling_year(convention_year: ConventionYear, year: int) -> ConventionYear | None:
    """The year ``year`` of the same Département and programme, in whichever convention."""
    convention = convention_year.convention
    return ConventionYear.objects.filter(
        convention__department_id=convention.department_id,
        convention__programme_id=convention.programme_id,
        year=year,
    ).first()


def _load(convention_year: ConventionYear) -> ConventionYear:
    return ConventionYear.objects.select_related("convention__department__region").get(
        pk=convention_year.pk
    )


def _year_inputs(convention_year: ConventionYear, kind: BudgetKind) -> dict:
    """What both tables read of their own year."""
    return {
        "heading": heading(convention_year),
        "themes": theme_inputs(convention_year),
        "lines": budget_lines(convention_year, kind),
        "state_credit": convention_year.state_credit,
        "envelopes": envelopes(convention_year),
    }


def _lines_of_year(convention_year: ConventionYear, year: int, kind: BudgetKind):
    """The budgets of another year of the same Département, or ``None`` when it is not here."""
    sibling = _sibling_year(convention_year, year)
    return budget_lines(sibling, kind) if sibling else None


def execution_table(convention_year: ConventionYear) -> FinancialTable:
    """Tableau financier récapitulatif — exécution, with its findings."""
    convention_year = _load(convention_year)
    year = convention_year.year
    return build_execution_table(
        **_year_inputs(convention_year, BudgetKind.EXECUTED),
        previous_lines=_lines_of_year(convention_year, year - 1, BudgetKind.EXECUTED),
        next_planned_lines=_lines_of_year(convention_year, year + 1, BudgetKind.PLANNED),
    )


def planned_table(convention_year: ConventionYear) -> FinancialTable:
    """Tableau financier récapitulatif prévisionnel, with its findings."""
    convention_year = _load(convention_year)
    return build_planned_table(
        **_year_inputs(convention_year, BudgetKind.PLANNED),
        previous_lines=_lines_of_year(
            convention_year, convention_year.year - 1, BudgetKind.EXECUTED
        ),
    )
