"""The indicator matrix of a year (« Tableau des indicateurs », CALPAE.md §5.3), computed.

Second step of a report (STYLE.md habit 9): the selector (:mod:`reports.matrix_selectors`)
reads the rows, this module lays out the official table and computes the « Degré de
réalisation », the renderers (``reports.xlsx``, ``reports.pdf``) only print it.

Layout: the title block; the columns « Indicateurs », « Commentaires et Eléments de
définition », one column per period in chronological order (the matrix is cumulative: one
column is added per year), « Résultat attendu en N (objectif fixé) » and « Degré de
réalisation »; the rows in the year's order, under their group heading ("1. Enfants et
jeunes") and measure sub-heading ("1.1 Maraudes mixtes…"), each printed once when it changes.

Degree of realisation (« degré de réalisation ») of an indicator, from its direction (« sens »):
- higher is better: value / target, as a percentage;
- lower is better (a delay, a share of notifications without support): target / value;
- neutral, no target, a target or value that is not a number, a zero divisor: no degree;
- a value that is a status ("Non contractualisé", "Données non disponibles"…): the status text;
  a value in words (status "text") is already printed in its column: no degree.
The value compared is the result of the year N: the value of the latest period of year N that
has one (the year's total rather than its first semester).

Decimal arithmetic only. This module imports nothing from Django.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from reports.formatting import NBSP, format_decimal
from reports.tables import CONVENTION_TITLE, TableHeading

MATRIX_TITLE = "TABLEAU DES INDICATEURS"
INDICATOR_HEADER = "Indicateurs"
DEFINITION_HEADER = "Commentaires et Eléments de définition"
DEGREE_HEADER = "Degré de réalisation"
PERCENT = Decimal("100")
DEGREE_QUANTUM = Decimal("0.1")

# Statuses as stored by ``indicators.choices.ValueStatus`` (values only: no Django import).
STATUS_NUMBER = "number"
STATUS_PROJECTION = "projection"
STATUS_TEXT = "text"  # a value in words: already printed in its column, no degree
# Statuses that carry a number but are not a result: no degree of realisation, no number cell.
NUMBER_STATUSES = (STATUS_NUMBER,)


class Direction(StrEnum):
    """Sens de lecture d'un indicateur (the values of ``indicators.choices.Direction``)."""

    HIGHER = "higher"
    LOWER = "lower"
    NEUTRAL = "neutral"


class MatrixRowKind(StrEnum):
    GROUP = "group"  # "1. Enfants et jeunes"
    MEASURE = "measure"  # "1.1 Maraudes mixtes État/CD pour les enfants à la rue"
    INDICATOR = "indicator"


# --- Input -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueInput:
    """A value or a target as entered: the raw text, its number if any, its status."""

    raw: str
    number: Decimal | None = None
    status: str = STATUS_NUMBER
    status_label: str = ""  # "Non contractualisé", shown as the degree of a status value

    @property
    def is_number(self) -> bool:
        return self.status in NUMBER_STATUSES and self.number is not None


@dataclass(frozen=True)
class PeriodInput:
    """A period column of the matrix: its key, its printed header, its dates."""

    key: str
    header: str
    year: int
    end_date: datetime.date
    start_date: datetime.date | None = None

    @property
    def sort_key(self) -> tuple:
        return (self.end_date, self.start_date or self.end_date, self.key)


@dataclass(frozen=True)
class MatrixInput:
    """One indicator row of the year's matrix, in the year's order."""

    group_label: str
    measure_label: str
    indicator_label: str
    definition: str = ""
    unit: str = "count"
    direction: str = Direction.HIGHER
    target: ValueInput | None = None
    values: dict[str, ValueInput] | None = None  # by period key
    is_sub_indicator: bool = False  # « dont … » rows, printed indented
    footnote: str = ""


# --- Output ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatrixColumn:
    key: str  # "indicator", "definition", a period key, "target", "degree"
    header: str


@dataclass(frozen=True)
class MatrixCell:
    """A printed value: the raw text, and the number when the cell is only that number.

    ``number`` is set when the raw text is the number as printed ("10 941", "47,5", "95 %"), so
    that a spreadsheet can hold it as a number; "147 (au 31/10/2022)" keeps its text.
    """

    raw: str = ""
    number: Decimal | None = None
    decimals: int = 0
    is_percent: bool = False
    status: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.raw


@dataclass(frozen=True)
class Degree:
    """Degré de réalisation: a percentage, or a text (a status), or nothing."""

    percent: Decimal | None = None
    text: str = ""

    @property
    def printed(self) -> str:
        if self.percent is not None:
            return f"{format_decimal(self.percent, 1)}{NBSP}%"
        return self.text


@dataclass(frozen=True)
class MatrixRow:
    kind: MatrixRowKind
    label: str
    definition: str = ""
    cells: tuple[MatrixCell, ...] = ()  # one per period column
    target: MatrixCell = MatrixCell()
    degree: Degree = Degree()
    is_sub_indicator: bool = False
    footnote: str = ""


@dataclass(frozen=True)
class IndicatorMatrix:
    year: int
    title_lines: tuple[str, ...]
    columns: tuple[MatrixColumn, ...]
    period_columns: tuple[MatrixColumn, ...]
    rows: tuple[MatrixRow, ...]

    @property
    def indicator_rows(self) -> tuple[MatrixRow, ...]:
        return tuple(row for row in self.rows if row.kind == MatrixRowKind.INDICATOR)

    @property
    def heading_rows(self) -> tuple[MatrixRow, ...]:
        return tuple(row for row in self.rows if row.kind != MatrixRowKind.INDICATOR)


# --- Computation -------------------------------------------------------------------------------


_PLAIN_NUMBER = re.compile(
    r"^-?\d{1,3}(?:[ \u00a0\u202f]\d{3})*(?:[.,](\d+))?$|^-?\d+(?:[.,](\d+))?$"
)


def plain_number(raw: str) -> tuple[Decimal, int, bool] | None:
    """The number a raw text is, and nothing else: ``"10 941"`` → (10941, 0, False),
    ``"47,63%"`` → (47.63, 2, True); ``"147 (au 31/10/2022)"``, ``"1 2"`` (two fused cells
    would read as 12: only groups of three digits are thousands) → ``None``."""
    text = raw.strip()
    is_percent = text.endswith("%")
    if is_percent:
        text = text[:-1].rstrip(" \u00a0\u202f")
    match = _PLAIN_NUMBER.match(text)
    if not match:
        return None
    fraction = match.group(1) or match.group(2) or ""
    digits = re.sub(r"[ \u00a0\u202f]", "", text).replace(",", ".")
    try:
        return Decimal(digits), len(fraction), is_percent
    except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
        return None


def value_cell(value: ValueInput | None) -> MatrixCell:
    """The printed cell of a value: its raw text, and its number when the text is only that."""
    if value is None:
        return MatrixCell()
    if value.is_number:
        parsed = plain_number(value.raw)
        if parsed is not None and parsed[0] == value.number:
            number, decimals, is_percent = parsed
            return MatrixCell(
                raw=value.raw,
                number=number,
                decimals=decimals,
                is_percent=is_percent,
                status=value.status,
            )
    return MatrixCell(raw=value.raw, status=value.status)


def degree_of_realisation(
    value: ValueInput | None, target: ValueInput | None, direction: str
) -> Degree:
    """Degré de réalisation of a result against its target (see the module's docstring)."""
    if value is None:
        return Degree()
    if value.status == STATUS_TEXT:
        return Degree()
    if value.status not in (STATUS_NUMBER, STATUS_PROJECTION):
        return Degree(text=value.status_label or value.raw)
    if direction not in (Direction.HIGHER, Direction.LOWER):
        return Degree()
    if target is None or not value.is_number or not target.is_number:
        return Degree()
    assert value.number is not None and target.number is not None  # is_number says so
    numerator, denominator = (
        (value.number, target.number)
        if direction == Direction.HIGHER
        else (target.number, value.number)
    )
    if denominator <= 0 or numerator < 0:
        return Degree()
    percent = (numerator * PERCENT / denominator).quantize(DEGREE_QUANTUM, rounding=ROUND_HALF_UP)
    return Degree(percent=percent)


def result_of_year(
    values: dict[str, ValueInput], periods: Sequence[PeriodInput], year: int
) -> ValueInput | None:
    """The value of the latest period of ``year`` that has one (``periods`` in order)."""
    for period in reversed(periods):
        if period.year == year and period.key in values:
            return values[period.key]
    return None


def target_header(year: int) -> str:
    return f"Résultat attendu en {year} (objectif fixé)"


def matrix_title_lines(heading: TableHeading) -> tuple[str, ...]:
    return (
        MATRIX_TITLE,
        f"{CONVENTION_TITLE} - Région {heading.region_name} - "
        f"Département {heading.department_of_name} ({heading.department_code})",
        f"Année {heading.year}",
    )


def build_indicator_matrix(
    *, heading: TableHeading, periods: Iterable[PeriodInput], rows: Iterable[MatrixInput]
) -> IndicatorMatrix:
    """The year's indicator matrix: headings, values per period, target and degree.

    ``rows`` come in the year's order (``MatrixEntry.position``); a group or measure heading is
    printed each time it differs from the row above.
    """
    ordered = sorted(periods, key=lambda period: period.sort_key)
    period_columns = tuple(MatrixColumn(period.key, period.header) for period in ordered)
    columns = (
        MatrixColumn("indicator", INDICATOR_HEADER),
        MatrixColumn("definition", DEFINITION_HEADER),
        *period_columns,
        MatrixColumn("target", target_header(heading.year)),
        MatrixColumn("degree", DEGREE_HEADER),
    )
    out: list[MatrixRow] = []
    group = measure = None
    for row in rows:
        if row.group_label != group:
            group, measure = row.group_label, None
            if group:
                out.append(MatrixRow(kind=MatrixRowKind.GROUP, label=group))
        if row.measure_label != measure:
            measure = row.measure_label
            if measure:
                out.append(MatrixRow(kind=MatrixRowKind.MEASURE, label=measure))
        values = row.values or {}
        out.append(
            MatrixRow(
                kind=MatrixRowKind.INDICATOR,
                label=row.indicator_label,
                definition=row.definition,
                cells=tuple(value_cell(values.get(period.key)) for period in ordered),
                target=value_cell(row.target),
                degree=degree_of_realisation(
                    result_of_year(values, ordered, heading.year), row.target, row.direction
                ),
                is_sub_indicator=row.is_sub_indicator,
                footnote=row.footnote,
            )
        )
    return IndicatorMatrix(
        year=heading.year,
        title_lines=matrix_title_lines(heading),
        columns=columns,
        period_columns=period_columns,
        rows=tuple(out),
    )
