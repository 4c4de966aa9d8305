"""Reads for the indicator pages: the indicator table of a fiche-action for its year.

The table of a fiche (« tableau des indicateurs » of the fiche) has one row per indicator — those
placed in the year's matrix for the fiche, then the fiche's own indicators — and the columns
« Objectif N » and one per measuring period of the Département in year N. It is read in a
constant number of queries whatever the number of rows and columns.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Q

from actions.models import ActionYear
from actions.selectors import HistoryEntry, changes_since, history_entries
from indicators.choices import PeriodKind, Unit, ValueStatus
from indicators.models import (
    Indicator,
    IndicatorTarget,
    IndicatorValue,
    MatrixEntry,
    Period,
)
from reports.formatting import NBSP, format_number

UNIT_SUFFIXES = {
    Unit.PERCENT: f"{NBSP}%",
    Unit.DAYS: f"{NBSP}jours",
    Unit.EUROS: f"{NBSP}€",
}


def interpretation(saved: IndicatorTarget | IndicatorValue | None, unit: str) -> str:
    """How a saved cell was read: its number in French, or the label of its status."""
    if saved is None:
        return ""
    if saved.status in (ValueStatus.NUMBER, ValueStatus.PROJECTION) and saved.number is not None:
        number = format_number(saved.number) + UNIT_SUFFIXES.get(unit, "")
        if saved.status == ValueStatus.PROJECTION:
            return f"Projection : {number}"
        return number
    if saved.status == ValueStatus.TEXT:
        return "Texte, sans nombre"
    return str(ValueStatus(saved.status).label)


def target_key(indicator_id: int) -> str:
    return f"objectif-{indicator_id}"


def value_key(indicator_id: int, period_id: int) -> str:
    return f"valeur-{indicator_id}-{period_id}"


@dataclass
class Cell:
    """One cell of the table: the target of the year or the value of a period."""

    key: str
    label: str  # names the cell in labels and error messages: « Objectif 2023 — … »
    indicator: Indicator
    saved: IndicatorTarget | IndicatorValue | None
    period: Period | None = None

    @property
    def raw(self) -> str:
        return self.saved.raw if self.saved is not None else ""

    @property
    def interpretation(self) -> str:
        return interpretation(self.saved, self.indicator.unit)


@dataclass
class IndicatorRow:
    indicator: Indicator
    label: str
    target: Cell
    values: list[Cell]
    matrix_entry: MatrixEntry | None = None

    @property
    def cells(self) -> list[Cell]:
        return [self.target, *self.values]

    @property
    def unit_label(self) -> str:
        return str(Unit(self.indicator.unit).label)


@dataclass
class IndicatorSheet:
    """Tableau des indicateurs d'une fiche-action pour un exercice."""

    action_year: ActionYear
    year: int
    periods: list[Period]
    rows: list[IndicatorRow] = field(default_factory=list)

    @property
    def cells(self) -> list[Cell]:
        return [cell for row in self.rows for cell in row.cells]

    @property
    def has_annual_period(self) -> bool:
        """Whether a column gives the result of the whole year (« Au 31/12/N »)."""
        year_end = datetime.date(self.year, 12, 31)
        return any(
            period.kind == PeriodKind.YEAR and period.end_date == year_end
            for period in self.periods
        )


def year_periods(department_id: int, year: int) -> list[Period]:
    return list(
        Period.objects.filter(department_id=department_id, year=year).order_by(
            "end_date", "start_date", "pk"
        )
    )


def action_indicator_sheet(action_year: ActionYear) -> IndicatorSheet:
    """The indicators of a fiche for its year, with their target and values: five queries.

    ``action_year`` comes from ``actions.selectors.action_year_for_user`` (convention and
    Département already joined).
    """
    convention_year = action_year.convention_year
    year = convention_year.year
    # The rows of the year's matrix placed on this fiche, then the rows of its thème placed on no
    # fiche: the national template lists indicators by measure (thème), not by fiche, so those
    # are shared by the fiches of the thème (CALPAE.md §7).
    entries = sorted(
        MatrixEntry.objects.filter(
            Q(action_year=action_year)
            | Q(
                convention_year=convention_year,
                action_year__isnull=True,
                indicator__theme_id=action_year.theme_id,
            )
        ).select_related("indicator"),
        key=lambda entry: (entry.action_year_id is None, entry.position),
    )
    placed = {entry.indicator_id for entry in entries}
    own = [
        indicator
        for indicator in Indicator.objects.filter(action_id=action_year.action_id).order_by(
            "code", "pk"
        )
        if indicator.pk not in placed
    ]
    periods = year_periods(convention_year.convention.department_id, year)
    indicator_ids = [entry.indicator_id for entry in entries] + [i.pk for i in own]
    targets = {
        target.indicator_id: target
        for target in IndicatorTarget.objects.filter(
            indicator_id__in=indicator_ids, convention_year=convention_year
        )
    }
    values = {
        (value.indicator_id, value.period_id): value
        for value in IndicatorValue.objects.filter(
            indicator_id__in=indicator_ids, period__in=periods
        )
    }
    sheet = IndicatorSheet(action_year=action_year, year=year, periods=periods)
    lines = [(entry.indicator, entry.printed_label, entry) for entry in entries]
    lines += [(indicator, "", None) for indicator in own]
    for indicator, printed_label, entry in lines:
        label = printed_label or indicator.label
        sheet.rows.append(
            IndicatorRow(
                indicator=indicator,
                label=label,
                matrix_entry=entry,
                target=Cell(
                    key=target_key(indicator.pk),
                    label=f"Objectif {year} — {label}",
                    indicator=indicator,
                    saved=targets.get(indicator.pk),
                ),
                values=[
                    Cell(
                        key=value_key(indicator.pk, period.pk),
                        label=f"{period.label} — {label}",
                        indicator=indicator,
                        saved=values.get((indicator.pk, period.pk)),
                        period=period,
                    )
                    for period in periods
                ],
            )
        )
    return sheet


def _saved_since(action_year: ActionYear, version: int) -> datetime.datetime | None:
    """When the fiche was first saved after ``version`` (as ``changes_since`` reads it)."""
    return (
        ActionYear.history.filter(id=action_year.pk, version__gt=version)
        .order_by("history_date")
        .values_list("history_date", flat=True)
        .first()
    )


def _cell_history(sheet: IndicatorSheet):
    indicator_ids = [row.indicator.pk for row in sheet.rows]
    targets = IndicatorTarget.history.filter(
        indicator_id__in=indicator_ids, convention_year_id=sheet.action_year.convention_year_id
    )
    values = IndicatorValue.history.filter(indicator_id__in=indicator_ids, period__in=sheet.periods)
    return targets, values


def entry_changes_since(sheet: IndicatorSheet, version: int) -> list[HistoryEntry]:
    """What was saved on the fiche and on its indicator cells after it was read at ``version``.

    ``actions.selectors.changes_since`` knows the fiche and its budgets; the indicator cells
    saved by another person are what matters most on this page.
    """
    changes = changes_since(sheet.action_year, version)
    since = _saved_since(sheet.action_year, version)
    if since is None:
        return changes
    entries = [entry for entry in indicator_history(sheet) if entry.date >= since]
    return sorted(changes + entries, key=lambda entry: entry.date, reverse=True)


def indicator_history(sheet: IndicatorSheet) -> list[HistoryEntry]:
    """Every change of the fiche's indicator cells (targets of the year, values of its periods)."""
    labels = {row.indicator.pk: row.label for row in sheet.rows}
    period_labels = {period.pk: period.label for period in sheet.periods}
    targets, values = _cell_history(sheet)
    entries = history_entries(
        targets.select_related("history_user"),
        lambda record: f"Objectif {sheet.year} — {labels[record.indicator_id]}",
        {},
    ) + history_entries(
        values.select_related("history_user"),
        lambda record: f"{period_labels[record.period_id]} — {labels[record.indicator_id]}",
        {(Period, pk): label for pk, label in period_labels.items()},
    )
    return entries


def cells_saved_since(sheet: IndicatorSheet, version: int) -> set[str]:
    """The keys of the cells written or emptied after the fiche was read at ``version``."""
    since = _saved_since(sheet.action_year, version)
    if since is None:
        return set()
    targets, values = _cell_history(sheet)
    keys = {
        target_key(indicator_id)
        for indicator_id in targets.filter(history_date__gte=since).values_list(
            "indicator_id", flat=True
        )
    }
    keys |= {
        value_key(indicator_id, period_id)
        for indicator_id, period_id in values.filter(history_date__gte=since).values_list(
            "indicator_id", "period_id"
        )
    }
    return keys


@dataclass(frozen=True)
class IndicatorChart:
    label: str
    svg: str
    description: str


def indicator_charts(sheet: IndicatorSheet) -> list[IndicatorChart]:
    """For each indicator of the sheet with numbers, its values over every period of the
    Département (all years) against the year's target: one query whatever the number of rows."""
    from reports.charts import SeriesPoint, description, has_chart, indicator_chart_svg

    department_id = sheet.action_year.convention_year.convention.department_id
    indicator_ids = [row.indicator.pk for row in sheet.rows]
    series: dict[int, list[SeriesPoint]] = {pk: [] for pk in indicator_ids}
    for value in (
        IndicatorValue.objects.filter(
            indicator_id__in=indicator_ids, period__department_id=department_id
        )
        .select_related("period")
        .order_by("period__end_date", "period__start_date", "period_id")
    ):
        series[value.indicator_id].append(SeriesPoint(value.period.label, value.number))
    charts = []
    target_label = f"Objectif {sheet.year}"
    for row in sheet.rows:
        points = series[row.indicator.pk]
        saved_target = row.target.saved
        target = saved_target.number if saved_target is not None else None
        if not has_chart(points, target):
            continue
        charts.append(
            IndicatorChart(
                label=row.label,
                svg=indicator_chart_svg(
                    title=row.label, points=points, target=target, target_label=target_label
                ),
                description=description(points, target, target_label),
            )
        )
    return charts
