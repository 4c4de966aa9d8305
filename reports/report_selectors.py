"""Reads for the Rapport d'exécution N: database rows → the plain inputs of ``reports.report``.

:func:`execution_report` reads the whole year in a fixed number of queries, whatever the number
of fiches and indicators: 9 for the fiches, their budgets and indicators (convention year,
fiches, budgets, thèmes of the year, matrix entries, the fiches' own indicators, periods,
targets, and the values of every period up to N, which give both the columns N-1 and N and the
charts), plus those of ``reports.selectors.execution_table`` (Annexe 2, the synthesis) and of
``reports.matrix_selectors.indicator_matrix`` (Annexe 1).

The values are read by ``indicators.selectors.indicator_series``, as for the fiche's indicator
page, so that its charts and the report's are drawn from the same numbers.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict

from django.db.models import Sum
from django.utils import timezone

from actions.choices import ActionStatus, BudgetKind
from actions.models import ActionYear, Budget
from conventions.models import ConventionYear, ThemeYear
from indicators.choices import PeriodKind, ValueStatus
from indicators.models import Indicator, IndicatorTarget, IndicatorValue, MatrixEntry, Period
from indicators.selectors import fiche_indicator_lines, indicator_series, measured_number
from reports.matrix_selectors import indicator_matrix
from reports.report import (
    BudgetInput,
    Cover,
    ExecutionReport,
    FicheInput,
    IndicatorInput,
    Measure,
    build_execution_report,
)
from reports.selectors import execution_table
from reports.tables import CENT, printed_title

# A number written as text, or a status explained by its own text: the raw text says it all.
SILENT_STATUSES = (ValueStatus.NUMBER, ValueStatus.PROJECTION, ValueStatus.TEXT)


def _measure(saved: IndicatorValue | IndicatorTarget | None) -> Measure | None:
    if saved is None:
        return None
    return Measure(
        raw=saved.raw,
        number=measured_number(saved),
        status_label=""
        if saved.status in SILENT_STATUSES
        else str(ValueStatus(saved.status).label),
    )


def _budget_input(budget: Budget | None) -> BudgetInput | None:
    if budget is None:
        return None
    return BudgetInput(
        state_new=budget.state_new,
        state_carried_over=budget.state_carried_over,
        cd_new=budget.cd_new,
        cd_carried_over=budget.cd_carried_over,
        # SQLite sums decimals with extra digits: bring them back to cents.
        other=None if budget.other_total is None else budget.other_total.quantize(CENT),
        realised=budget.realised,
    )


def year_period(periods: list[Period], year: int) -> Period | None:
    """The column giving the result of ``year``: the whole year if measured (« Résultat atteint
    en 2022 (Total) »), else the latest period of the year."""
    of_year = [period for period in periods if period.year == year]
    year_end = datetime.date(year, 12, 31)
    for period in of_year:
        if period.kind == PeriodKind.YEAR and period.end_date == year_end:
            return period
    return max(of_year, key=lambda period: (period.end_date, period.pk), default=None)


def execution_report(
    convention_year: ConventionYear, *, generated_on: datetime.date | None = None
) -> ExecutionReport:
    """Rapport d'exécution de l'exercice, read in a fixed number of queries."""
    convention_year = ConventionYear.objects.select_related("convention__department__region").get(
        pk=convention_year.pk
    )
    convention = convention_year.convention
    department = convention.department
    year = convention_year.year

    action_years = list(
        ActionYear.objects.filter(convention_year=convention_year).select_related("action", "theme")
    )
    budgets: dict[tuple[int, str], Budget] = {
        (budget.action_year_id, budget.kind): budget
        for budget in Budget.objects.filter(action_year__convention_year=convention_year).annotate(
            other_total=Sum("other_fundings__amount")
        )
    }
    theme_years = {
        theme_year.theme_id: theme_year
        for theme_year in ThemeYear.objects.filter(convention_year=convention_year).select_related(
            "theme"
        )
    }

    # The indicators of each fiche, by the rule of the fiche's indicator page
    # (``indicators.selectors.fiche_indicator_lines``), from the entries of the whole year.
    entries = list(
        MatrixEntry.objects.filter(convention_year=convention_year)
        .select_related("indicator")
        .order_by("position", "pk")
    )
    own_indicators: dict[int, list[Indicator]] = defaultdict(list)
    for indicator in Indicator.objects.filter(
        action_id__in=[action_year.action_id for action_year in action_years]
    ).order_by("code", "pk"):
        own_indicators[indicator.action_id].append(indicator)
    periods = list(
        Period.objects.filter(department=department, year__in=(year - 1, year)).order_by(
            "end_date", "start_date", "pk"
        )
    )
    previous_period = year_period(periods, year - 1)
    current_period = year_period(periods, year)
    indicator_ids = {entry.indicator_id for entry in entries} | {
        indicator.pk for indicators in own_indicators.values() for indicator in indicators
    }
    targets = {
        target.indicator_id: target
        for target in IndicatorTarget.objects.filter(
            convention_year=convention_year, indicator_id__in=indicator_ids
        )
    }
    series = indicator_series(indicator_ids, department_id=department.pk, until_year=year)

    def indicator_input(indicator: Indicator, label: str) -> IndicatorInput:
        def value(period: Period | None) -> Measure | None:
            return None if period is None else _measure(series.value(indicator.pk, period.pk))

        return IndicatorInput(
            label=label or indicator.label,
            direction=indicator.direction,
            previous=value(previous_period),
            current=value(current_period),
            target=_measure(targets.get(indicator.pk)),
            series=tuple(series.points(indicator.pk)),
        )

    def indicators_of(action_year: ActionYear) -> tuple[IndicatorInput, ...]:
        return tuple(
            indicator_input(indicator, printed_label)
            for indicator, printed_label, _ in fiche_indicator_lines(
                action_year, entries, own_indicators[action_year.action_id]
            )
        )

    fiches = []
    for action_year in action_years:
        theme = action_year.theme
        theme_year = theme_years.get(theme.pk)
        fiches.append(
            FicheInput(
                key=action_year.action.code,
                block=action_year.block,
                theme_key=theme.code,
                theme_label=(theme_year.label if theme_year else "") or theme.label,
                number=action_year.number,
                title=action_year.title,
                printed_title=printed_title(
                    title=action_year.title, sequence_number=action_year.sequence_number
                ),
                retired=action_year.status == ActionStatus.RETIRED,
                description=action_year.description,
                start_date=action_year.start_date,
                start_date_text=action_year.start_date_text,
                partners=action_year.partners,
                duration=action_year.duration,
                planned=_budget_input(budgets.get((action_year.pk, BudgetKind.PLANNED))),
                executed=_budget_input(budgets.get((action_year.pk, BudgetKind.EXECUTED))),
                indicators=indicators_of(action_year),
                execution_review=action_year.execution_review,
                outlook=action_year.outlook,
            )
        )
    cover = Cover(
        department_name=f"Département {department.of_name}".strip(),
        department_code=department.code,
        region_name=department.region.name,
        convention_title=convention.title,
        year=year,
        generated_on=generated_on or timezone.localdate(),
    )
    report = build_execution_report(
        cover=cover,
        fiches=fiches,
        financial_table=execution_table(convention_year),
        previous_label=previous_period.label if previous_period else "",
        current_label=current_period.label if current_period else "",
        theme_short_labels={
            theme_year.theme.code: theme_year.theme.short_label
            for theme_year in theme_years.values()
        },
    )
    return dataclasses.replace(report, indicator_matrix=indicator_matrix(convention_year))
