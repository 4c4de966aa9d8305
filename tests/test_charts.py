"""Charts: SVG drawn by pygal, static, the same bytes for the same data; the indicator charts of
the fiche's page and the chart by thème of an execution table."""

import base64
import datetime
import html
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from actions.models import ActionYear
from conventions.models import ConventionYear
from reports.charts import (
    SeriesPoint,
    description,
    execution_theme_budgets,
    execution_themes_chart_svg,
    has_chart,
    indicator_chart,
    indicator_chart_svg,
    period_axis_label,
)
from reports.selectors import execution_table

POINTS = [
    SeriesPoint("2020", Decimal("10941")),
    SeriesPoint("2021 </script><script>alert(1)</script>", None),
    SeriesPoint("2022", Decimal("12000.5")),
]


def chart(**changes):
    arguments = {
        "points": POINTS,
        "target": Decimal("15000"),
        "target_label": "Objectif <b>2022</b>",
    }
    return indicator_chart_svg(**{**arguments, **changes})


def test_chart_is_static_svg_with_user_text_escaped():
    svg = chart()
    assert svg.startswith("<svg")
    assert "<script" not in svg  # pygal's configuration script is removed
    assert "<b>" not in svg and "Objectif &lt;b&gt;2022&lt;/b&gt;" in svg
    assert "10\u00a0941" in svg  # values printed the French way


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


# --- Axis labels, chart view-model --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "year", "start", "end", "expected"),
    [
        ("year", 2022, datetime.date(2022, 1, 1), datetime.date(2022, 12, 31), "2022"),
        ("semester", 2022, datetime.date(2022, 1, 1), datetime.date(2022, 5, 30), "1er sem. 2022"),
        ("semester", 2022, datetime.date(2022, 7, 1), datetime.date(2022, 12, 31), "2e sem. 2022"),
        ("quarter", 2023, datetime.date(2023, 1, 1), datetime.date(2023, 3, 31), "T1 2023"),
        ("quarter", 2023, datetime.date(2023, 10, 1), datetime.date(2023, 12, 31), "T4 2023"),
        ("baseline", 2018, None, datetime.date(2018, 12, 31), "31/12/2018"),
        ("partial", 2022, datetime.date(2022, 1, 1), datetime.date(2022, 10, 31), "31/10/2022"),
    ],
)
def test_period_axis_label_is_short(kind, year, start, end, expected):
    label = period_axis_label(kind=kind, year=year, start_date=start, end_date=end)
    assert label == expected


def test_axis_shows_short_labels_and_description_the_printed_ones():
    points = [
        SeriesPoint("Résultat atteint au 1er semestre 2022 (1/01 au 30/05/22)", Decimal(4), "S1"),
        SeriesPoint("Résultat atteint en 2022 (Total)", Decimal(8), "2022"),
    ]
    result = indicator_chart(label="Nombre", points=points, target=None, target_label="Objectif")
    assert ">S1<" in result.svg and ">2022<" in result.svg
    assert "1/01 au 30/05/22" not in result.svg
    assert result.description.startswith("Résultat atteint au 1er semestre 2022 (1/01 au 30/05/22)")
    assert result.label == "Nombre"


def test_indicator_chart_is_none_without_two_numbers():
    one = [SeriesPoint("2022", Decimal(3)), SeriesPoint("2021", None)]
    assert indicator_chart(label="x", points=one, target=None, target_label="Objectif") is None
    chart_with_target = indicator_chart(
        label="x", points=one, target=Decimal(5), target_label="Objectif 2022"
    )
    assert chart_with_target is not None
    assert chart_with_target.description.endswith("Objectif 2022 : 5.")


def test_chart_defines_no_id():
    """Two charts in one page must not define the same id (pygal's random id scoped its style
    sheet, its legend ids served its script)."""
    svg = chart()
    assert " id=" not in svg


def element_with_text(root, text):
    return next(element for element in root.iter() if (element.text or "").strip() == text)


def test_chart_keeps_only_what_is_drawn():
    """No tooltip nor title of its own, and no style sheet: pygal's rules are the elements'
    attributes (WeasyPrint matched the sheet against each element of each chart of a report)."""
    svg = chart()
    for absent in (
        "<desc",
        "tooltip-overlay",
        "<title>",
        "plot_title",
        "<style",
        ":hover",
        "transition",
    ):
        assert absent not in svg, absent
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    # The target's series, in the second colour and dashed (.color-1 {stroke: #c9191e},
    # .series.serie-1 {stroke-dasharray: 8,4}).
    target = next(g for g in root.iter(f"{ns}g") if "serie-1" in (g.get("class") or "").split())
    assert target.get("stroke") == "#c9191e" and target.get("stroke-dasharray") == "8,4"
    # « .axis.x text {text-anchor: middle} », « .axis.y text {text-anchor: end} », and the
    # important rule « text {stroke: none !important} ».
    x_label = element_with_text(root, "2022")
    assert x_label.get("text-anchor") == "middle" and x_label.get("stroke") == "none"
    y_label = element_with_text(root, "0")
    assert y_label.get("text-anchor") == "end" and y_label.get("font-size") == "11px"
    # A guide of the x axis is hidden (.vertical .axis.x .guide.line {opacity: 0}); the y axis
    # ones are shown (.vertical .axis.always_show .guide.line {opacity: 1 !important}).
    opacities = {
        path.get("opacity")
        for path in root.iter(f"{ns}path")
        if (path.get("class") or "").split()[-2:] == ["guide", "line"]
    }
    assert opacities == {"0", "1"}


def test_chart_data_uri_holds_the_same_svg():
    result = indicator_chart(label="x", points=POINTS, target=None, target_label="Objectif")
    prefix = "data:image/svg+xml;base64,"
    assert result.data_uri.startswith(prefix)
    assert base64.b64decode(result.data_uri[len(prefix) :]).decode() == result.svg


# --- Charts by thème of the execution table -----------------------------------------------------


@pytest.mark.django_db
def test_execution_theme_budgets_add_up_to_the_totals_with_the_initiative_theme():
    """The initiative block has no thème sub-total in the official layout: its thème is
    summed from its fiches, so that the chart shows every euro of « TOTAUX FINANCIERS »."""
    convention_year = ConventionYear.objects.get(convention__department__code="77", year=2022)
    table = execution_table(convention_year)
    themes = execution_theme_budgets(table, {"initiative-departement": "Initiative CD"})
    grand_total = table.grand_total.amounts
    assert sum(theme.state + theme.cd + theme.other for theme in themes) == grand_total["F"]
    assert sum(theme.realised for theme in themes) == Decimal("8195325.07")
    initiative = next(theme for theme in themes if theme.label == "Initiative CD")
    assert initiative.state + initiative.cd + initiative.other == Decimal("1745425.00")
    assert "Initiative CD" in execution_themes_chart_svg(
        table, {"initiative-departement": "Initiative CD"}
    )


# --- The fiche's indicator page -----------------------------------------------------------------


def _indicator_page(client, year: int, number: str) -> str:
    client.force_login(get_user_model().objects.get(username="prefecture77"))
    fiche = ActionYear.objects.get(
        convention_year__convention__department__code="77",
        convention_year__year=year,
        number=number,
    )
    response = client.get(reverse("indicators:action_indicators", args=[fiche.pk]))
    return html.unescape(response.content.decode())


@pytest.mark.django_db
def test_indicator_page_charts_stop_at_the_year_of_the_fiche(client):
    """The 2022 page of a fiche does not draw the 1st quarter of 2023; the 2023 page does,
    against the 2023 target."""
    label = "Nombre de bénéficiaires en cours d'accompagnement par l'accompagnement global"
    page_2022 = _indicator_page(client, 2022, "5.1")
    assert label in page_2022
    assert "Résultat atteint en 2022 (Total) : 729" in page_2022
    assert "1er trimestre 2023" not in page_2022.split("Évolution des indicateurs")[1]
    page_2023 = _indicator_page(client, 2023, "5.1")
    assert (
        "Résultat atteint sur le 1er trimestre 2023 (conventions en année glissante) : 729 ; "
        "Objectif 2023 : 709." in page_2023
    )
