"""French formatting of amounts, shared by the web pages, the PDF and the tests.

Pure Python: no Django import, so that the official tables can use it.
"""

from decimal import ROUND_HALF_UP, Decimal

NBSP = "\u00a0"
CENT = Decimal("0.01")


def format_amount(value: Decimal | None) -> str:
    """``Decimal("1234567.5")`` → ``"1 234 567,50"`` (no-break spaces); ``None`` → ``""``."""
    if value is None:
        return ""
    quantized = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if quantized < 0 else ""
    units, cents = f"{abs(quantized):.2f}".split(".")
    groups = []
    while units:
        groups.insert(0, units[-3:])
        units = units[:-3]
    return f"{sign}{NBSP.join(groups)},{cents}"


def format_euros(value: Decimal | None) -> str:
    """``Decimal("11178230")`` → ``"11 178 230,00 €"`` as printed in the official tables."""
    if value is None:
        return ""
    return f"{format_amount(value)}{NBSP}€"
