"""Reads for the indicator matrix: database rows → the plain inputs of ``reports.matrix``.

:func:`indicator_matrix` runs four queries whatever the number of indicators and periods.

Which periods the matrix of year N shows: the matrix is cumulative (CALPAE.md §5.3: "one period
column is added per year"; the 2022 report prints 2018 to 2022), so its columns are the
Département's periods **of a year up to N** that hold **at least one value of the year's
indicators**. A period with no value of these indicators is left out (the 2023 Q1 period holds
values of 2023 indicators only), and so is any later period (ANNEXE 8 of 2023 copied 2022
results one period later: they must not print in the 2022 matrix, §9.3). ``first_year``
narrows the columns, e.g. to N-1 and N.
"""

from collections import defaultdict

from conventions.models import ConventionYear
from indicators.models import IndicatorTarget, IndicatorValue, MatrixEntry
from reports.matrix import (
    IndicatorMatrix,
    MatrixInput,
    PeriodInput,
    ValueInput,
    build_indicator_matrix,
)
from reports.selectors import heading


def _value_input(value) -> ValueInput:
    return ValueInput(
        raw=value.raw,
        number=value.number,
        status=value.status,
        status_label=value.get_status_display(),
    )


def indicator_matrix(
    convention_year: ConventionYear, *, first_year: int | None = None
) -> IndicatorMatrix:
    """Tableau des indicateurs of a year: its MatrixEntry rows, in order, with their values for
    the Département's periods (see the module's docstring) and the targets of the year."""
    year = ConventionYear.objects.select_related("convention__department__region").get(
        pk=convention_year.pk
    )
    department_id = year.convention.department_id
    entries = list(
        MatrixEntry.objects.filter(convention_year=year)
        .select_related("indicator")
        .order_by("position")
    )
    indicator_ids = [entry.indicator_id for entry in entries]
    in_matrix = set(indicator_ids)

    values_filter = {
        "indicator_id__in": indicator_ids,
        "period__department_id": department_id,
        "period__year__lte": year.year,
    }
    if first_year is not None:
        values_filter["period__year__gte"] = first_year
    values: dict[int, dict[str, ValueInput]] = defaultdict(dict)
    periods: dict[str, PeriodInput] = {}
    for value in IndicatorValue.objects.filter(**values_filter).select_related("period"):
        period = value.period
        key = str(period.pk)
        periods.setdefault(
            key,
            PeriodInput(
                key=key,
                header=period.label,
                year=period.year,
                end_date=period.end_date,
                start_date=period.start_date,
            ),
        )
        values[value.indicator_id][key] = _value_input(value)

    targets = {
        target.indicator_id: _value_input(target)
        for target in IndicatorTarget.objects.filter(
            convention_year=year, indicator_id__in=indicator_ids
        )
    }

    rows = [
        MatrixInput(
            group_label=entry.group_label,
            measure_label=entry.measure_label,
            indicator_label=entry.printed_label or entry.indicator.label,
            definition=entry.indicator.definition,
            unit=entry.indicator.unit,
            direction=entry.indicator.direction,
            target=targets.get(entry.indicator_id),
            values=values.get(entry.indicator_id, {}),
            is_sub_indicator=entry.indicator.parent_id in in_matrix,
            footnote=entry.footnote,
        )
        for entry in entries
    ]
    return build_indicator_matrix(heading=heading(year), periods=periods.values(), rows=rows)
