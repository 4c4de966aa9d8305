"""Reads for the indicator pages: the indicator table of a fiche-action for its year.

The table of a fiche (« tableau des indicateurs » of the fiche) has one row per indicator — those
placed in the year's matrix for the fiche, then the fiche's own indicators — and the columns
« Objectif N » and one per measuring period of the Département in year N. It is read in a
constant number of queries whatever the number of rows and columns.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

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
from reports.charts import Chart, SeriesPoint, indicator_chart, objective_label, period_axis_label
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


def fiche_indicator_lines(
    action_year: ActionYear, entries: Iterable[MatrixEntry], own: Iterable[Indicator]
) -> list[tuple[Indicator, str, MatrixEntry | None]]:
    """The rows of a fiche's indicator table, as (indicator, printed label, matrix entry): the
    rows of the year's matrix placed on the fiche, then the rows of its thème placed on no
    fiche — the national template lists indicators by measure (thème), not by fiche, so those
    are shared by the fiches of the thème (CALPAE.md §7) — then the fiche's own indicators not
    listed yet. ``entries``: matrix entries of the year in position order (any fiche's, with
    their indicator); ``own``: the fiche's own indicators, in order."""
    entries = list(entries)
    placed = [entry for entry in entries if entry.action_year_id == action_year.pk]
    shared = [
        entry
        for entry in entries
        if entry.action_year_id is None and entry.indicator.theme_id == action_year.theme_id
    ]
    listed = {entry.indicator_id for entry in placed + shared}
    return [(entry.indicator, entry.printed_label, entry) for entry in placed + shared] + [
        (indicator, "", None) for indicator in own if indicator.pk not in listed
    ]


def action_indicator_sheet(action_year: ActionYear) -> IndicatorSheet:
    """The indicators of a fiche for its year, with their target and values: five queries.

    ``action_year`` comes from ``actions.selectors.action_year_for_user`` (convention and
    Département already joined).
    """
    convention_year = action_year.convention_year
    year = convention_year.year
    # Only the matrix rows this fiche lists (``fiche_indicator_lines``).
    entries = (
        MatrixEntry.objects.filter(
            Q(action_year=action_year)
            | Q(
                convention_year=convention_year,
                action_year__isnull=True,
                indicator__theme_id=action_year.theme_id,
            )
        )
        .select_related("indicator")
        .order_by("position", "pk")
    )
    lines = fiche_indicator_lines(
        action_year,
        entries,
        Indicator.objects.filter(action_id=action_year.action_id).order_by("code", "pk"),
    )
    periods = year_periods(convention_year.convention.department_id, year)
    indicator_ids = [indicator.pk for indicator, _, _ in lines]
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


NUMERIC_STATUSES = (ValueStatus.NUMBER, ValueStatus.PROJECTION)


def measured_number(saved: IndicatorTarget | IndicatorValue | None) -> Decimal | None:
    """The number a saved target or value counts for: a number or a projection, not a status."""
    if saved is None or saved.status not in NUMERIC_STATUSES:
        return None
    return saved.number


@dataclass(frozen=True)
class IndicatorSeries:
    """The values of indicators over the periods of their Département, read in one query: the
    report takes its columns N-1 and N from it, the charts their points."""

    values: dict[tuple[int, int], IndicatorValue]  # by (indicator, period)
    by_indicator: dict[int, list[IndicatorValue]]  # in period order

    def value(self, indicator_id: int, period_id: int) -> IndicatorValue | None:
        return self.values.get((indicator_id, period_id))

    def points(self, indicator_id: int) -> list[SeriesPoint]:
        """What the chart draws: each period with a value (a status gives a point without a
        number, so that its period still shows on the axis)."""
        return [
            SeriesPoint(
                label=value.period.label,
                value=measured_number(value),
                axis_label=period_axis_label(
                    kind=value.period.kind,
                    year=value.period.year,
                    start_date=value.period.start_date,
                    end_date=value.period.end_date,
                ),
            )
            for value in self.by_indicator.get(indicator_id, [])
        ]


def indicator_series(
    indicator_ids: Iterable[int], *, department_id: int, until_year: int
) -> IndicatorSeries:
    """The values of ``indicator_ids`` for every period of the Département up to
    ``until_year`` (the periods of later years are not part of the year's account): one query."""
    values: dict[tuple[int, int], IndicatorValue] = {}
    by_indicator: dict[int, list[IndicatorValue]] = defaultdict(list)
    for value in (
        IndicatorValue.objects.filter(
            indicator_id__in=list(indicator_ids),
            period__department_id=department_id,
            period__year__lte=until_year,
        )
        .select_related("period")
        .order_by("period__end_date", "period__start_date", "period_id")
    ):
        values[(value.indicator_id, value.period_id)] = value
        by_indicator[value.indicator_id].append(value)
    return IndicatorSeries(values=values, by_indicator=dict(by_indicator))


def indicator_charts(sheet: IndicatorSheet) -> list[Chart]:
    """For each indicator of the sheet with numbers, its values over the periods of the
    Département up to the sheet's year against the year's target: one query whatever the
    number of rows. The Rapport d'exécution draws the same charts (``reports.report``)."""
    series = indicator_series(
        [row.indicator.pk for row in sheet.rows],
        department_id=sheet.action_year.convention_year.convention.department_id,
        until_year=sheet.year,
    )
    charts = [
        indicator_chart(
            label=row.label,
            points=series.points(row.indicator.pk),
            target=measured_number(row.target.saved),
            target_label=objective_label(sheet.year),
        )
        for row in sheet.rows
    ]
    return [chart for chart in charts if chart is not None]
