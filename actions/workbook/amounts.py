"""Amounts as hand-filled workbooks hold them: numbers, or text typed the French way.

``read_amount`` accepts a cell's value as the reader gives it (``int``, ``float``, ``Decimal``,
``str``, a date, ``None``) and returns the amount in euros to the cent, or why there is none.
An empty cell and a written zero stay distinct (``None`` and ``Decimal("0.00")``).

Text seen in real files (CALPAE.md §5.5, §5.6, §8): "170 000 €", "274 993,43",
"31 850,00 € (report)", "1.234.567,89", no-break and narrow no-break spaces, "-", "NC",
"Non chiffré", "83 694 + 52 000€ (mobilité territoires ruraux)".
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from actions.workbook.text import clean, normalize

CENT = Decimal("0.01")
# Below this, the difference between a float cell and its amount to the cent is the float's own
# imprecision (76564.20000000001), not a figure typed with more than two decimals.
FLOAT_NOISE = Decimal("0.000001")
# The largest amount the application stores (MoneyField: 999 999 999 999,99 €).
MAX_AMOUNT = Decimal("999999999999.99")
TOO_LARGE = "ce montant dépasse 999 999 999 999,99 €"

# Written instead of an amount when there is none to give (status texts of CALPAE.md §7).
NOT_QUANTIFIED = {
    "nc",
    "n c",
    "nd",
    "n d",
    "non chiffre",
    "non chiffree",
    "non communique",
    "non connu",
    "non disponible",
    "neant",
    "sans objet",
    "so",
    "s o",
}
_DASHES_ONLY = re.compile(r"^[-–—/]+$")
_REPORT = re.compile(r"\(\s*reports?\b[^()]*\)", re.IGNORECASE)
_PARENTHESES = re.compile(r"\(([^()]*)\)")
_CURRENCY = re.compile(r"€|\beuros?\b|\beur\b", re.IGNORECASE)
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007']+")
_PLAIN = re.compile(r"^-?\d+(?:\.\d+)?$", re.ASCII)


@dataclass(frozen=True)
class AmountReading:
    """What one cell says as an amount.

    - ``value``: the amount to the cent; ``None`` for an empty cell, a "non chiffré" text or
      text that is not an amount (then ``error`` says why);
    - ``raw``: the cell as written ("" for an empty cell);
    - ``is_report``: the text carried "(report)" (carried-over credits, CALPAE.md §5.5);
    - ``note``: what else the text said ("non chiffré", "Avance"), or how it was read
      ("arrondi au centime", "somme calculée");
    - ``error``: a French sentence when the cell is not an amount.
    """

    value: Decimal | None
    raw: str
    is_report: bool = False
    note: str = ""
    error: str = ""
    rounded: bool = False
    computed: bool = False
    not_quantified: bool = False

    @property
    def is_empty(self) -> bool:
        return self.raw == ""


def _quantize(number: Decimal) -> tuple[Decimal, bool]:
    amount = number.quantize(CENT, rounding=ROUND_HALF_UP)
    return amount, abs(amount - number) > FLOAT_NOISE


def raw_text(value: object) -> str:
    """The cell as a person reads it: text cleaned of its spacing, numbers without exponent."""
    if value is None:
        return ""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, float) and math.isfinite(value):
        return format(Decimal(str(value)).normalize(), "f")
    if isinstance(value, Decimal) and value.is_finite():
        return format(value.normalize(), "f")
    if isinstance(value, datetime.datetime) and not value.time():
        return value.date().isoformat()
    if isinstance(value, datetime.date | datetime.time | datetime.datetime):
        return value.isoformat()
    return str(value)


def _text_number(text: str) -> Decimal | None:
    """One number written the French (or English) way, or ``None`` if ``text`` is not one."""
    text = _SPACES.sub("", text)
    negative = False
    if text.startswith("(") and text.endswith(")"):  # accounting notation
        negative, text = True, text[1:-1]
    if text.startswith(("-", "−")):
        negative, text = not negative, text[1:]
    text = text.lstrip("+")
    if not text or not re.fullmatch(r"[0-9.,]+", text) or not text[0].isdigit():
        return None
    commas, dots = text.count(","), text.count(".")
    if commas and dots:
        # The last separator is the decimal one: "1.234.567,89" or "1,234,567.89".
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        whole, _, fraction = text.rpartition(decimal_mark)
        if not re.fullmatch(rf"\d{{1,3}}(?:\{thousands}\d{{3}})*", whole, re.ASCII):
            return None
        text = whole.replace(thousands, "") + "." + fraction
    elif commas > 1 or dots > 1:
        mark = "," if commas else "."
        if not re.fullmatch(rf"\d{{1,3}}(?:\{mark}\d{{3}})+", text, re.ASCII):
            return None
        text = text.replace(mark, "")
    elif dots == 1 and re.fullmatch(r"\d{1,3}\.\d{3}", text):
        # "170.000": in a French amount a dot before three digits groups thousands (no euro
        # amount has three decimals).
        text = text.replace(".", "")
    elif commas == 1 and re.fullmatch(r"\d{1,3},\d{3}", text):
        return None  # "1,234": thousands (English) or decimals (French)? Not guessed.
    else:
        text = text.replace(",", ".")
    if not _PLAIN.match(text):
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern already excludes it
        return None
    return -number if negative else number


def read_amount(value: object) -> AmountReading:
    """The amount a cell holds; see :class:`AmountReading`."""
    raw = raw_text(value)
    if value is None or (isinstance(value, str) and not raw):
        return AmountReading(value=None, raw="")
    if isinstance(value, bool):
        return AmountReading(value=None, raw=raw, error="une valeur VRAI/FAUX n'est pas un montant")
    if isinstance(value, datetime.date | datetime.time | datetime.datetime | datetime.timedelta):
        return AmountReading(value=None, raw=raw, error="une date n'est pas un montant")
    if isinstance(value, int):
        if abs(value) > MAX_AMOUNT:
            return AmountReading(value=None, raw=raw, error=TOO_LARGE)
        return AmountReading(value=Decimal(value).quantize(CENT), raw=raw)
    if isinstance(value, float | Decimal):
        if isinstance(value, float) and not math.isfinite(value):
            return AmountReading(value=None, raw=raw, error="ce nombre n'est pas un montant")
        if isinstance(value, Decimal) and not value.is_finite():
            return AmountReading(value=None, raw=raw, error="ce nombre n'est pas un montant")
        number = Decimal(str(value))
        if abs(number) > MAX_AMOUNT:
            return AmountReading(value=None, raw=raw, error=TOO_LARGE)
        amount, rounded = _quantize(number)
        return AmountReading(
            value=amount, raw=raw, rounded=rounded, note="arrondi au centime" if rounded else ""
        )
    if not isinstance(value, str):
        return AmountReading(value=None, raw=raw, error="cette valeur n'est pas un montant")
    return _read_text(raw)


def _read_text(raw: str) -> AmountReading:
    text = raw
    is_report = bool(_REPORT.search(text))
    text = _REPORT.sub(" ", text)
    notes = [clean(note) for note in _PARENTHESES.findall(text) if clean(note)]
    # Only a note after the figures: "(1 234)" alone is the accounting notation of a negative.
    if notes and not re.fullmatch(r"\s*\([^()]*\)\s*", text):
        text = _PARENTHESES.sub(" ", text)
    else:
        notes = []
    text = clean(_CURRENCY.sub(" ", text))
    note = " ; ".join(notes)
    plain = normalize(text)
    if (plain and plain in NOT_QUANTIFIED) or _DASHES_ONLY.match(text) or (not text and is_report):
        return AmountReading(
            value=None,
            raw=raw,
            is_report=is_report,
            note=note or ("report sans montant" if not text else "non chiffré"),
            not_quantified=True,
        )
    parts = [part for part in re.split(r"\s\+\s|\+", text)]
    numbers = [_text_number(part) for part in parts]
    if any(number is None for number in numbers) or not numbers:
        return AmountReading(
            value=None,
            raw=raw,
            is_report=is_report,
            note=note,
            error=f"« {raw} » n'est pas un montant lisible",
        )
    total = sum(numbers, Decimal(0))
    if abs(total) > MAX_AMOUNT:
        return AmountReading(value=None, raw=raw, is_report=is_report, note=note, error=TOO_LARGE)
    amount, rounded = _quantize(total)
    how = []
    if len(numbers) > 1:
        how.append("somme calculée")
    if rounded:
        how.append("arrondi au centime")
    return AmountReading(
        value=amount,
        raw=raw,
        is_report=is_report,
        note=" ; ".join([*how, *([note] if note else [])]),
        rounded=rounded,
        computed=len(numbers) > 1,
    )
