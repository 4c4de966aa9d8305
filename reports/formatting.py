"""French formatting of numbers and amounts, shared by the web pages, the PDF and the tests.

Pure Python: no Django import, so that the official tables can use it.
"""

from decimal import ROUND_HALF_UP, Decimal

NBSP = "\u00a0"
CENT = Decimal("0.01")


def format_decimal(value: Decimal, decimals: int) -> str:
    """``Decimal("1234.5"), 1`` → ``"1 234,5"`` (no-break spaces, decimal comma, rounded half
    up); with 0 decimals, no comma."""
    quantized = Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    sign = "-" if quantized < 0 else ""
    units, _, fraction = f"{abs(quantized):.{decimals}f}".partition(".")
    groups = []
    while units:
        groups.insert(0, units[-3:])
        units = units[:-3]
    text = NBSP.join(groups) or "0"
    return f"{sign}{text},{fraction}" if fraction else f"{sign}{text}"


def format_number(value: Decimal) -> str:
    """``Decimal("1234.5000")`` → ``"1 234,5"``: as many decimals as the number has, no more."""
    normalized = Decimal(value).normalize()
    return format_decimal(normalized, max(0, -normalized.as_tuple().exponent))


def format_amount(value: Decimal | None) -> str:
    """``Decimal("1234567.5")`` → ``"1 234 567,50"`` (no-break spaces); ``None`` → ``""``."""
    if value is None:
        return ""
    return format_decimal(value, 2)


def format_euros(value: Decimal | None) -> str:
    """``Decimal("11178230")`` → ``"11 178 230,00 €"`` as printed in the official tables."""
    if value is None:
        return ""
    return f"{format_amount(value)}{NBSP}€"
