"""Indicator cells as printed in the reports (CALPAE.md §7 "Value forms seen")."""

from decimal import Decimal

import pytest

from indicators.parsing import parse_indicator_value


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("10 941", Decimal("10941")),
        ("10\u00a0941", Decimal("10941")),
        ("95%", Decimal("95")),
        ("47.63%", Decimal("47.63")),
        ("49.40 %", Decimal("49.40")),
        ("39,5", Decimal("39.5")),
        ("70,9", Decimal("70.9")),
        ("35 jours", Decimal("35")),
        ("5265 (au 31/10/2022)", Decimal("5265")),
        ("Au 30-06-2022 6 334", Decimal("6334")),
        ("675 dont 212 finalisés", Decimal("675")),
        ("143 (données transmises par PE)", Decimal("143")),
    ],
)
def test_numbers(raw, number):
    parsed = parse_indicator_value(raw)
    assert parsed is not None
    assert parsed.status == "number"
    assert parsed.number == number
    assert parsed.raw == " ".join(raw.split())


def test_projection_takes_the_projected_value():
    raw = "5008 (de janvier à octobre 2022) – projection sur l'année 2022 : 6009"
    parsed = parse_indicator_value(raw)
    assert parsed is not None
    assert parsed.status == "projection"
    assert parsed.number == Decimal("6009")
    assert parsed.raw == raw


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("Non contractualisé", "not_contracted"),
        ("Non contractuel", "not_contracted"),
        ("Non contractualisé l'an dernier, nouvelle fiche action", "not_contracted"),
        ("Données en cours de compilation (cyberattaque)", "not_available"),
        ("Données non consolidées sur ce millésime", "not_available"),
        ("ND", "not_available"),
        ("NC", "not_available"),
        ("#VALEUR!", "not_available"),
        (
            "Pas de données disponibles en raison de la reconstruction du SI décisionnel",
            "not_available",
        ),
        ("En cours de construction", "in_progress"),
        ("Non évalué", "not_evaluated"),
        ("Non chiffré", "not_evaluated"),
        ("Pas d'indicateur prévu pour cette action", "no_indicator"),
        ("Pas d\u2019indicateur prévu pour cette action", "no_indicator"),  # PDF apostrophe
        ("En moyenne 58", "text"),
        ("2 mois", "text"),  # a duration in months: no number of days is guessed
        ("3 semaines", "text"),
    ],
)
def test_statuses(raw, status):
    parsed = parse_indicator_value(raw)
    assert parsed is not None
    assert parsed.status == status
    assert parsed.number is None
    assert parsed.raw == raw


@pytest.mark.parametrize("raw", ["", "   ", "\u00a0\t\n"])
def test_empty_cell_is_none(raw):
    assert parse_indicator_value(raw) is None


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  10   941 ", "10 941"),
        (
            "Données en cours\nde compilation  (cyberattaque)",
            "Données en cours de compilation (cyberattaque)",
        ),
        ("\tND ", "ND"),
    ],
)
def test_raw_is_whitespace_normalised(raw, normalised):
    parsed = parse_indicator_value(raw)
    assert parsed is not None
    assert parsed.raw == normalised


def test_short_status_codes_are_matched_whole_only():
    # "nd"/"nc" are statuses only as the whole cell, never as a prefix of a word.
    parsed = parse_indicator_value("Ndiaye")
    assert parsed is not None
    assert parsed.status == "text"
