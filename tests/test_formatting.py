"""French formatting of amounts: "1 234,56 €" with no-break spaces (U+00A0)."""

from decimal import Decimal

import pytest

from reports.formatting import format_amount, format_euros

NBSP = "\u00a0"


def test_format_euros_groups_thousands_with_no_break_spaces():
    assert format_euros(Decimal("11178230")) == "11\u00a0178\u00a0230,00\u00a0€"


def test_format_euros_of_zero_prints_the_cents():
    assert format_euros(Decimal("0")) == "0,00\u00a0€"
    assert format_euros(Decimal("0.00")) == "0,00\u00a0€"


def test_format_euros_of_none_is_an_empty_cell():
    assert format_euros(None) == ""
    assert format_amount(None) == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("-14000"), "-14\u00a0000,00\u00a0€"),
        (Decimal("-1208188.18"), "-1\u00a0208\u00a0188,18\u00a0€"),
        (Decimal("-0.5"), "-0,50\u00a0€"),
    ],
)
def test_format_euros_of_a_negative_amount(value, expected):
    assert format_euros(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("0.005"), "0,01"),
        (Decimal("2.675"), "2,68"),
        (Decimal("1234.565"), "1\u00a0234,57"),
        (Decimal("1234.564"), "1\u00a0234,56"),
        (Decimal("-2.675"), "-2,68"),
        (Decimal("999.995"), "1\u00a0000,00"),
    ],
)
def test_format_amount_rounds_half_up_on_the_third_decimal(value, expected):
    assert format_amount(value) == expected


def test_format_amount_has_no_euro_sign():
    assert format_amount(Decimal("1234567.5")) == "1\u00a0234\u00a0567,50"
    assert "€" not in format_amount(Decimal("1234567.5"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("999.99"), "999,99"),
        (Decimal("1000"), "1\u00a0000,00"),
        (Decimal("100000"), "100\u00a0000,00"),
        (Decimal("1000000"), "1\u00a0000\u00a0000,00"),
    ],
)
def test_format_amount_group_separator_only_from_a_thousand(value, expected):
    assert format_amount(value) == expected


def test_format_amount_uses_only_no_break_spaces():
    text = format_euros(Decimal("2554959"))
    assert " " not in text
    assert text.replace(NBSP, " ") == "2 554 959,00 €"
