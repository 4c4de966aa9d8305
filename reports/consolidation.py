"""The consolidated view of a region or of the nation (pure, no Django import, ``Decimal``).

The execution tables of the Départements of a year, added up per thème and funder: budget of
the State (A+B), of the Départements (C+D), of other funders (E), executed, execution rate and
amounts to carry over; and, per Département, the state of its report (transmitted, late,
missing). The totals are the sums of the Départements' own tables — their sub-totals where the
official layout has them, else their fiches — so that the region adds up to its Départements.

At national scale a Département's table need not be built: its fiches added up by thème in the
database (``ThemeAmounts``) give the same thèmes and totals (:func:`execution_theme_totals`).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from reports.tables import Block, FinancialTable, RowKind

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


@dataclass(frozen=True)
class ThemeAmounts:
    """A thème of a year's execution table with the sums of its fiches' executed budgets."""

    key: str
    label: str
    block: Block
    position: int
    totals: Totals = field(default_factory=Totals)
    fiches: int = 0  # executed budgets in the thème


def execution_theme_totals(themes: Sequence[ThemeAmounts]) -> dict[str, tuple[str, Totals]]:
    """What :func:`theme_totals` reads from the execution table of these thèmes, without
    building it: the thèmes in the table's order (socle then initiative, by position), each
    socle thème (it has a sub-total row, with or without fiches), and an initiative thème when
    the block has several (sub-totals) or when it has fiches (its rows). A sub-total is the sum
    of its fiches, so the sums of the fiches are the thèmes' amounts."""
    order = {Block.SOCLE: 0, Block.INITIATIVE: 1}
    initiative = sum(1 for theme in themes if theme.block == Block.INITIATIVE)
    return {
        theme.key: (theme.label, theme.totals)
        for theme in sorted(themes, key=lambda t: (order[t.block], t.position, t.key))
        if theme.block == Block.SOCLE or initiative > 1 or theme.fiches
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
    # Instead of ``table``: its thèmes with their executed fiches added up (None: nothing
    # executed, or no exercice).
    themes: Sequence[ThemeAmounts] | None = None

    @property
    def executed(self) -> bool:
        return self.table is not None or self.themes is not None

    def theme_totals(self) -> dict[str, tuple[str, Totals]]:
        if self.table is not None:
            return theme_totals(self.table)
        return execution_theme_totals(self.themes or ())

    def total(self) -> Totals:
        if self.table is not None:
            return table_total(self.table)
        # « TOTAUX FINANCIERS » is the sum of every fiche, each in one thème.
        return sum((theme.totals for theme in self.themes or ()), Totals())


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
        if department.executed:
            totals = department.total()
            for key, (label, amounts) in department.theme_totals().items():
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
                missing=not department.executed,
            )
        )
    return Consolidation(
        year=year,
        scope=scope,
        themes=tuple(ThemeLine(key, label, totals) for key, (label, totals) in themes.items()),
        departments=tuple(lines),
        total=total,
    )
