"""The consolidated view of a region or of the nation (pure, no Django import, ``Decimal``).

The execution tables of the Départements of a year, added up per thème and funder: budget of
the State (A+B), of the Départements (C+D), of other funders (E), executed, execution rate and
amounts to carry over; and, per Département, the state of its report (transmitted, late,
missing). The totals are the sums of the Départements' own tables — their sub-totals where the
official layout has them, else their fiches — so that the region adds up to its Départements.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from reports.tables import FinancialTable, RowKind

ZERO = Decimal("0.00")
FUNDS = ("state", "cd", "other", "budget", "realised", "carry_over")


@dataclass(frozen=True)
class Totals:
    """Amounts of one thème, one Département or everything."""

    state: Decimal = ZERO  # A + B
    cd: Decimal = ZERO  # C + D
    other: Decimal = ZERO  # E
    budget: Decimal = ZERO  # F
    realised: Decimal = ZERO
    carry_over: Decimal = ZERO  # à reporter, parts État et CD

    def __add__(self, other: Totals) -> Totals:
        return Totals(*(getattr(self, name) + getattr(other, name) for name in FUNDS))

    @property
    def rate(self) -> Decimal | None:
        """Executed / budget, in percent (one decimal), or ``None`` without a budget."""
        if not self.budget:
            return None
        return (self.realised * 100 / self.budget).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _amount(row, *keys: str) -> Decimal:
    return sum((row.amounts.get(key) or ZERO for key in keys), ZERO)


def row_totals(row) -> Totals:
    return Totals(
        state=_amount(row, "A", "B"),
        cd=_amount(row, "C", "D"),
        other=_amount(row, "E"),
        budget=_amount(row, "F"),
        realised=_amount(row, "realised"),
        carry_over=_amount(row, "carry_over_state", "carry_over_cd"),
    )


def theme_totals(table: FinancialTable) -> dict[str, tuple[str, Totals]]:
    """``{thème key: (label, totals)}`` of an execution table: its sub-total row, or the sum of
    its fiches where the official layout prints none (the initiative block's thème)."""
    labels: dict[str, str] = {}
    subtotals: dict[str, Totals] = {}
    actions: dict[str, Totals] = {}
    for row in table.rows:
        if row.theme_key is None or row.kind not in (RowKind.ACTION, RowKind.THEME_SUBTOTAL):
            continue
        labels.setdefault(row.theme_key, row.theme_label)
        if row.kind == RowKind.THEME_SUBTOTAL:
            subtotals[row.theme_key] = row_totals(row)
        elif row.kind == RowKind.ACTION:
            actions[row.theme_key] = actions.get(row.theme_key, Totals()) + row_totals(row)
    return {
        key: (label, subtotals[key] if key in subtotals else actions.get(key, Totals()))
        for key, label in labels.items()
    }


def table_total(table: FinancialTable) -> Totals:
    """The « TOTAUX FINANCIERS » row of the table."""
    for row in table.rows:
        if row.kind == RowKind.GRAND_TOTAL:
            return row_totals(row)
    return Totals()


@dataclass(frozen=True)
class DepartmentInput:
    code: str
    name: str
    table: FinancialTable | None  # None: no exercice of the year, or nothing executed yet
    report_state: str  # label of the review's state (« Brouillon », « Transmis »…)
    transmitted: bool
    due_date: datetime.date | None


@dataclass(frozen=True)
class DepartmentLine:
    code: str
    name: str
    totals: Totals
    report_state: str
    due_date: datetime.date | None
    late: bool  # due date passed, not transmitted
    missing: bool  # no execution table


@dataclass(frozen=True)
class ThemeLine:
    key: str
    label: str
    totals: Totals


@dataclass(frozen=True)
class Consolidation:
    year: int
    scope: str  # « Île-de-France », « France entière »
    themes: tuple[ThemeLine, ...]
    departments: tuple[DepartmentLine, ...]
    total: Totals = field(default_factory=Totals)

    @property
    def late(self) -> tuple[DepartmentLine, ...]:
        return tuple(line for line in self.departments if line.late)

    @property
    def missing(self) -> tuple[DepartmentLine, ...]:
        return tuple(line for line in self.departments if line.missing)


def consolidate(
    *, year: int, scope: str, departments: list[DepartmentInput], today: datetime.date
) -> Consolidation:
    themes: dict[str, list] = {}  # key → [label, totals], in the order first met
    lines = []
    total = Totals()
    for department in departments:
        totals = Totals()
        if department.table is not None:
            totals = table_total(department.table)
            for key, (label, amounts) in theme_totals(department.table).items():
                entry = themes.setdefault(key, [label, Totals()])
                entry[1] = entry[1] + amounts
        total = total + totals
        late = (
            not department.transmitted
            and department.due_date is not None
            and department.due_date < today
        )
        lines.append(
            DepartmentLine(
                code=department.code,
                name=department.name,
                totals=totals,
                report_state=department.report_state,
                due_date=department.due_date,
                late=late,
                missing=department.table is None,
            )
        )
    return Consolidation(
        year=year,
        scope=scope,
        themes=tuple(ThemeLine(key, label, totals) for key, (label, totals) in themes.items()),
        departments=tuple(lines),
        total=total,
    )
