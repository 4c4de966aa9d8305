"""Indicator charts: SVG drawn by pygal, static, the same bytes for the same data."""

import html
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from actions.models import ActionYear
from reports.charts import SeriesPoint, description, has_chart, indicator_chart_svg

POINTS = [
    SeriesPoint("2020", Decimal("10941")),
    SeriesPoint("2021 </script><script>alert(1)</script>", None),
    SeriesPoint("2022", Decimal("12000.5")),
]


def chart(**changes):
    arguments = {
        "title": "Nombre de <b>jeunes</b>",
        "points": POINTS,
        "target": Decimal("15000"),
        "target_label": "Objectif 2022",
    }
    return indicator_chart_svg(**{**arguments, **changes})


def test_chart_is_static_svg_with_user_text_escaped():
    svg = chart()
    assert svg.startswith("<svg")
    assert "<script" not in svg  # pygal's configuration script is removed
    assert "<b>" not in svg and "&lt;b&gt;jeunes&lt;/b&gt;" in svg
    assert "10\u00a0941" in svg  # values printed the French way
    assert "Objectif 2022" in svg


def test_same_data_same_svg():
    assert chart() == chart()
    assert chart() != chart(target=Decimal("16000"))


def test_a_chart_needs_two_numbers_counting_the_target():
    assert not has_chart([SeriesPoint("2022", Decimal("3"))], None)
    assert has_chart([SeriesPoint("2022", Decimal("3"))], Decimal("5"))
    assert not has_chart([SeriesPoint("2022", None)], Decimal("5"))


def test_description_gives_the_data_as_text():
    assert description(POINTS, Decimal("15000"), "Objectif 2022") == (
        "2020 : 10\u00a0941 ; 2022 : 12\u00a0000,5 ; Objectif 2022 : 15\u00a0000."
    )


@pytest.mark.django_db
def test_indicator_page_shows_the_evolution_of_its_indicators(client):
    client.force_login(get_user_model().objects.get(username="prefecture77"))
    fiche = ActionYear.objects.get(
        convention_year__convention__department__code="77",
        convention_year__year=2020,
        number="1.4",
    )
    content = html.unescape(
        client.get(reverse("indicators:action_indicators", args=[fiche.pk])).content.decode()
    )
    assert "Évolution des indicateurs" in content
    assert content.count('<figure class="chart">') >= 1
    assert "<script" not in content


def test_chart_svg_does_not_depend_on_other_libraries_namespace_prefixes():
    """Another library may register a prefix for the SVG namespace (ElementTree's registry is
    global): the chart must still be a plain ``<svg>`` element for inline HTML."""
    import xml.etree.ElementTree as ET

    ET.register_namespace("svg", "http://www.w3.org/2000/svg")
    assert chart().startswith("<svg ")
