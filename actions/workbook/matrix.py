"""Reading the indicator matrix ("Tableau des indicateurs", CALPAE.md §5.3).

Columns: the measure (merged over its indicators; its header is blank in the 2022 report),
"Indicateurs", "Commentaires et Eléments de définition", then one column per period, printed
headers kept verbatim and in order ("Situation au 31 déc. 2018", …, "Résultat attendu en 2023
(objectif fixé)"). Group rows ("1. Enfants et jeunes") stand alone; "dont …" sub-indicators are
recognised by their prefix or their indentation. Values keep their text and the number and
status it carries (``indicators.parsing``).
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from actions.workbook.grid import Sheet, cell_ref, column_letter
from actions.workbook.layouts import HeaderMatch
from actions.workbook.model import (
    MatrixPeriod,
    MatrixRow,
    MatrixRowKind,
    MatrixValue,
    ParsedMatrix,
)
from actions.workbook.problems import Problem, ProblemCode, Severity
from actions.workbook.text import normalize
from indicators.parsing import parse_indicator_value
from reports.formatting import format_number

_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")
_TARGET = re.compile(r"\b(?:attendu|objectif|cible)")
_SUB = re.compile(r"^dont\b")
# A group heading is numbered with one level (« 1. Enfants et jeunes »); any other heading row
# spanning the table (« 1.1 Maraudes mixtes… », « Bach d'orientation des BRSA ») is a measure.
_GROUP_NUMBER = re.compile(r"^\d+\.?\s+\D")
# Beyond this a number cell is no indicator value (and would not format): kept as text.
MAX_NUMBER = Decimal(10) ** 15


def _period(match) -> MatrixPeriod:
    years = _YEAR.findall(match.header)
    return MatrixPeriod(
        header=match.header,
        column=match.letter,
        year=int(years[-1]) if years else None,
        is_target=bool(_TARGET.search(normalize(match.header))),
    )


def _value(sheet: Sheet, row: int, column: int, period: str) -> MatrixValue | None:
    value = sheet.raw(row, column)
    ref = cell_ref(row, column)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        number = Decimal(str(value))
        if not number.is_finite() or abs(number) >= MAX_NUMBER:
            return MatrixValue(period=period, cell=ref, raw=str(value), number=None, status="text")
        if sheet.is_percent(row, column):
            number *= 100
            return MatrixValue(
                period=period,
                cell=ref,
                raw=f"{format_number(number)}\u00a0%",
                number=number.normalize(),
                status="number",
                is_number_cell=True,
            )
        return MatrixValue(
            period=period,
            cell=ref,
            raw=format_number(number),
            number=number.normalize(),
            status="number",
            is_number_cell=True,
        )
    if isinstance(value, datetime.date | datetime.time | datetime.timedelta):
        text = value.strftime("%d/%m/%Y") if isinstance(value, datetime.date) else str(value)
        return MatrixValue(period=period, cell=ref, raw=text, number=None, status="text")
    parsed = parse_indicator_value(str(value))
    if parsed is None:
        return None
    return MatrixValue(
        period=period, cell=ref, raw=parsed.raw, number=parsed.number, status=parsed.status
    )


def parse_matrix(sheet: Sheet, header: HeaderMatch) -> tuple[ParsedMatrix, list[Problem]]:
    problems: list[Problem] = []
    period_matches = [match for match in header.columns if match.key == "period"]
    periods = tuple(_period(match) for match in period_matches)
    indicator_column = header.column("indicator")
    definition_column = header.column("definition")
    measure_column = header.column("measure")
    comment_column = header.column("comment")
    value_columns = {match.column for match in period_matches}
    rows: list[MatrixRow] = []
    group = ""
    measure = ""  # from a heading row, where the sheet has no measure column
    parent = ""
    widest = max(value_columns | {indicator_column})
    for row in sheet.row_numbers(header.last_row + 1):
        own = {
            column: text for column in sheet.row_cells(row) if (text := sheet.own_text(row, column))
        }
        if not own:
            continue
        headers = {match.column: normalize(match.header) for match in header.columns}
        if sum(1 for c, t in own.items() if headers.get(c) == normalize(t)) >= 2:
            continue  # the header repeated on a new page
        label = own.get(indicator_column, "")
        values = tuple(
            value
            for match, period in zip(period_matches, periods, strict=True)
            if (value := _value(sheet, row, match.column, period.header)) is not None
        )
        first_column = min(own)
        merged = sheet.merge_at(row, first_column)
        if (
            len(own) == 1
            and not values
            and merged is not None
            and merged.height == 1
            and merged.min_col <= indicator_column
            and merged.max_col >= widest
        ):
            # A heading row merged across the table (the layout of our own export).
            text = own[first_column]
            if _GROUP_NUMBER.match(text):
                group, measure = text, ""
                rows.append(MatrixRow(row=row, kind=MatrixRowKind.GROUP, label=text))
            else:
                measure = text
                rows.append(MatrixRow(row=row, kind=MatrixRowKind.MEASURE, label=text))
            continue
        if not label and not values:
            texts = [text for column, text in sorted(own.items()) if column not in value_columns]
            is_measure = first_column == measure_column and merged is not None and merged.height > 1
            if texts and not is_measure and len(set(texts)) == 1:
                group = texts[0]
                rows.append(MatrixRow(row=row, kind=MatrixRowKind.GROUP, label=group))
            continue
        if not label:
            problems.append(
                Problem(
                    severity=Severity.WARNING,
                    code=ProblemCode.ROW_NOT_UNDERSTOOD,
                    message="Des valeurs figurent sur une ligne sans indicateur : elles sont "
                    "ignorées.",
                    sheet=sheet.name,
                    row=row,
                    column=column_letter(indicator_column),
                )
            )
            continue
        is_sub = bool(_SUB.match(normalize(label))) or (
            bool(parent) and sheet.indent(row, indicator_column) > 0
        )
        if not is_sub:
            parent = label
        rows.append(
            MatrixRow(
                row=row,
                kind=MatrixRowKind.INDICATOR,
                label=label,
                group=group,
                measure=sheet.text(row, measure_column) if measure_column else measure,
                definition=sheet.text(row, definition_column) if definition_column else "",
                is_sub=is_sub,
                parent=parent if is_sub else "",
                values=values,
                comment=sheet.own_text(row, comment_column) if comment_column else "",
            )
        )
    matrix = ParsedMatrix(sheet=sheet.name, header=header, periods=periods, rows=tuple(rows))
    return matrix, problems
