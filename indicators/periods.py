"""What a printed column header of the indicator matrix says of its period (pure, no Django).

Real headers (CALPAE.md §5.3, §9.3): "Situation au 31 déc. 2018", "Résultat atteint en 2019",
"Résultat atteint en 2020 et situation au 31 déc. 2020 pour la mesure mobilité", "Résultat
atteint en 2021 (1/01/21 au 31/12/21)", "Résultat atteint au 1er semestre 2022 (1/01 au
30/05/22)", "Résultat atteint en 2022 (Total)", "Résultat atteint sur le 1er trimestre 2023
(conventions en année glissante)", and the application's own "Au 31/12/2022".
"""

from __future__ import annotations

import calendar
import datetime
import re
import unicodedata
from dataclasses import dataclass

# The values of indicators.choices.PeriodKind (not imported: this module has no Django import).
BASELINE, YEAR, SEMESTER, QUARTER, PARTIAL = "baseline", "year", "semester", "quarter", "partial"

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_MONTHS = {
    "janv": 1,
    "jan": 1,
    "fevr": 2,
    "fev": 2,
    "mars": 3,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juil": 7,
    "aout": 8,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_DAY_MONTH_YEAR = re.compile(
    r"(?<!\d)(\d{1,2})(?:er)?\s+(" + "|".join(_MONTHS) + r")[a-z]*\.?\s+((?:19|20)\d\d)"
)
# "1/01/21 au 31/12/21", "1/01 au 30/05/22", "01/01/2022 au 31/12/2022"
_RANGE = re.compile(
    r"(?<!\d)(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\s*(?:au|a|-)\s*(\d{1,2})/(\d{1,2})/(\d{2,4})"
)
_DATE = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/(\d{2,4})(?!\d)")
_ORDINAL = {"1er": 1, "premier": 1, "1e": 1, "2e": 2, "2eme": 2, "second": 2, "deuxieme": 2}
_ORDINAL_Q = {**_ORDINAL, "3e": 3, "3eme": 3, "troisieme": 3, "4e": 4, "4eme": 4, "quatrieme": 4}


@dataclass(frozen=True)
class PeriodSpec:
    kind: str  # a value of indicators.choices.PeriodKind
    year: int
    start_date: datetime.date | None  # None for a stock at a date (« situation au … »)
    end_date: datetime.date


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("\u00a0", " "))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _full_year(text: str | None, default: int) -> int:
    if not text:
        return default
    value = int(text)
    return value + 2000 if value < 100 else value


def _date(day: int, month: int, year: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _ordinal(text: str, word: str, ordinals: dict[str, int]) -> int | None:
    match = re.search(r"(\w+)\s+" + word, text)
    return ordinals.get(match.group(1)) if match else None


def period_spec(header: str) -> PeriodSpec | None:
    """The kind, year and dates of the period a column header names, or ``None`` when it names
    no year (the caller says so, naming the column)."""
    text = _plain(header)
    years = [int(year) for year in _YEAR.findall(text)]
    if not years:
        return None
    year = years[-1]
    explicit = _RANGE.search(text)
    start = end = None
    if explicit:
        day1, month1, year1, day2, month2, year2 = explicit.groups()
        end_year = _full_year(year2, year)
        start = _date(int(day1), int(month1), _full_year(year1, end_year))
        end = _date(int(day2), int(month2), end_year)
        if start is None or end is None or end < start:
            start = end = None
        else:
            year = end.year
    if "semestre" in text:
        half = _ordinal(text, "semestre", _ORDINAL) or 1
        first_month = 1 if half == 1 else 7
        start = start or datetime.date(year, first_month, 1)
        end = end or datetime.date(year, first_month + 5, 30 if half == 1 else 31)
        return PeriodSpec(SEMESTER, year, start, end)
    if "trimestre" in text:
        quarter = _ordinal(text, "trimestre", _ORDINAL_Q) or 1
        first_month = 3 * (quarter - 1) + 1
        last_day = calendar.monthrange(year, first_month + 2)[1]
        start = start or datetime.date(year, first_month, 1)
        end = end or datetime.date(year, first_month + 2, last_day)
        return PeriodSpec(QUARTER, year, start, end)
    if explicit and start and end:
        whole_year = (start.month, start.day, end.month, end.day) == (1, 1, 12, 31)
        if whole_year and start.year == end.year:
            return PeriodSpec(YEAR, year, start, end)
        return PeriodSpec(PARTIAL, year, start, end)
    if "situation" in text and "atteint" not in text:
        at = _DAY_MONTH_YEAR.search(text)
        stock = at and _date(int(at.group(1)), _MONTHS[at.group(2)], int(at.group(3)))
        if not stock and (numeric := _DATE.search(text)):
            day, month, date_year = numeric.groups()
            stock = _date(int(day), int(month), _full_year(date_year, year))
        stock = stock or datetime.date(year, 12, 31)
        return PeriodSpec(BASELINE, stock.year, None, stock)
    return PeriodSpec(YEAR, year, datetime.date(year, 1, 1), datetime.date(year, 12, 31))
