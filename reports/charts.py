"""Charts as SVG, drawn by pygal: the same SVG in the web page and in the PDF.

Pure (no Django import). No script is embedded (``js=[]``): the chart is static, readable
without JavaScript, and its data are also given as text next to it (``description``).
"""

from __future__ import annotations

import base64
import datetime
import functools
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal

import cssselect2
import pygal
import tinycss2
from pygal.style import Style

from reports.consolidation import theme_totals
from reports.formatting import format_number
from reports.tables import FinancialTable

# pygal appends a legacy ``sys.meta_path`` finder for its map plugins (unused here); Python 3.11
# warns (ImportWarning) each time an import reaches it. Take it out.
sys.meta_path[:] = [
    finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"
]

SVG_NS = "http://www.w3.org/2000/svg"

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#161616",
    foreground_strong="#161616",
    foreground_subtle="#666666",
    colors=("#000091", "#c9191e"),
    font_family="Arial, sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=11,
    title_font_size=13,
    value_font_size=10,
    # Light solid guides, so that the target's dashed line stands out from them, on screen as
    # on paper.
    guide_stroke_color="#d0d0d0",
    major_guide_stroke_color="#d0d0d0",
    guide_stroke_dasharray="none",
    major_guide_stroke_dasharray="none",
    stroke_opacity=1,
)


@dataclass(frozen=True)
class SeriesPoint:
    label: str  # the period, as printed ("Résultat atteint en 2022")
    value: Decimal | None  # None: no number for that period (a status, or nothing entered)
    # Under the axis, where the printed label does not fit: « 2022 », « 1er sem. 2022 ».
    axis_label: str = ""


def period_axis_label(
    *, kind: str, year: int, start_date: datetime.date | None, end_date: datetime.date
) -> str:
    """A period named in a few characters, for a chart's axis: its printed label (« Résultat
    atteint en 2020 et situation au 31 déc. 2020 pour la mesure mobilité ») does not fit under
    one point. ``kind`` is a value of ``indicators.choices.PeriodKind``."""
    start_month = (start_date or end_date).month
    if kind == "year":
        return str(year)
    if kind == "semester":
        return f"{'1er' if start_month <= 6 else '2e'} sem. {year}"
    if kind == "quarter":
        return f"T{(start_month - 1) // 3 + 1} {year}"
    return f"{end_date:%d/%m/%Y}"  # a stock (« situation au 31 déc. 2018 ») or a partial value


def has_chart(points: list[SeriesPoint], target: Decimal | None) -> bool:
    """A chart says something with two numbers or more, counting the target."""
    numbers = [point.value for point in points if point.value is not None]
    return len(numbers) + (target is not None) >= 2


def objective_label(year: int) -> str:
    """The target's name in an indicator chart's legend."""
    return f"Objectif {year}"


@dataclass(frozen=True)
class Chart:
    """A chart as the web page and the report show it: its title, the SVG, its data as text."""

    label: str  # printed above the SVG, which has no title of its own
    svg: str
    description: str

    @property
    def data_uri(self) -> str:
        """The SVG as an image URL: the PDF prints it as an ``<img>``, a document of its own
        whose style sheet does not reach the report's (see ``svg_data_uri``)."""
        return svg_data_uri(self.svg)


def svg_data_uri(svg: str) -> str:
    """``data:image/svg+xml;base64,…``: WeasyPrint draws an ``<img>`` of it as it draws an
    inline ``<svg>``, but an inline chart would add pygal's style sheet to the cascade of the
    whole report, and its id to the report's (a chart shown twice would define it twice)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def indicator_chart(
    *, label: str, points: list[SeriesPoint], target: Decimal | None, target_label: str
) -> Chart | None:
    """The chart of an indicator (``None`` when it would say nothing, see ``has_chart``): the
    one function the fiche's indicator page and the Rapport d'exécution both call."""
    if not has_chart(points, target):
        return None
    return Chart(
        label=label,
        svg=_cached_indicator_svg(tuple(points), target, target_label),
        description=description(points, target, target_label),
    )


# A thème's indicators are printed under each of its fiches: draw each chart once.
@functools.lru_cache(maxsize=256)
def _cached_indicator_svg(
    points: tuple[SeriesPoint, ...], target: Decimal | None, target_label: str
) -> str:
    return indicator_chart_svg(points=list(points), target=target, target_label=target_label)


def indicator_chart_svg(
    *, points: list[SeriesPoint], target: Decimal | None, target_label: str
) -> str:
    """The values of an indicator over its periods, against its target, as an inline SVG.

    Without a title: the page prints the indicator's label above it (``Chart.label``), as HTML
    text. WeasyPrint sets an SVG text letter by letter, and the titles were half of the letters
    of a report's charts (``make bench``: 0.2 s of the Rapport d'exécution)."""
    chart = pygal.Line(
        style=STYLE,
        js=[],
        disable_xml_declaration=True,
        width=640,
        height=280,
        explicit_size=False,
        show_legend=True,
        legend_at_bottom=True,
        x_label_rotation=0,
        truncate_label=28,
        print_values=True,
        value_formatter=lambda value: format_number(Decimal(str(value))),
        include_x_axis=True,
        dots_size=4,
        max_scale=8,  # a few graduations, each labelled: a chart for print as for the screen
        margin=12,
        margin_left=48,
        margin_right=72,
    )
    chart.x_labels = [point.axis_label or point.label for point in points]
    chart.add("Valeur", [None if p.value is None else float(p.value) for p in points])
    if target is not None:
        chart.add(
            target_label,
            [float(target)] * len(points),
            show_dots=False,
            print_values=False,
            stroke_style={"dasharray": "8, 4", "width": 2.5},
        )
    return _static(chart.render(is_unicode=True))


# Elements for pygal's script only: tooltips (hidden), their data (``<desc>``), hover titles.
SCRIPT_ONLY_CLASSES = {"tooltip-overlay"}
# Declarations that draw nothing in a static SVG (animations, the browser's text selection), or
# that are no SVG attribute (the white background is a rectangle of the chart).
SCREEN_ONLY_DECLARATIONS = ("transition", "-webkit-", "-moz-", "user-select", "background-color")


def _static(svg: str) -> str:
    """The SVG without pygal's configuration script (it copies the labels, user text, into a
    ``<script>``), its generation comment, what serves the script only (tooltips, their data,
    the legends' ids) and its style sheet, applied to the elements as presentation attributes
    (``_presentation_attributes``): the same drawing, the same bytes for the same data."""
    root = ET.fromstring(svg)
    for parent in list(root.iter()):
        for child in list(parent):
            tag = child.tag.removeprefix(f"{{{SVG_NS}}}")
            if (
                tag in ("script", "desc")
                # pygal names a chart without title « Pygal » (a browser shows it on hover).
                or (tag == "title" and (parent is not root or child.text == "Pygal"))
                or SCRIPT_ONLY_CLASSES & set(child.get("class", "").split())
            ):
                parent.remove(child)
    _presentation_attributes(root)
    # No id is left: pygal's random one scoped its style sheet, the legends' ones
    # (« activate-serie-0 ») served its script, and a page of two charts would define them twice.
    for element in root.iter():
        element.attrib.pop("id", None)
    # Namespaces given here, not registered once: other libraries change the global registry.
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    return ET.tostring(root, encoding="unicode")


def _presentation_attributes(root: ET.Element) -> None:
    """pygal's style sheets applied to the elements they match, as presentation attributes
    (``fill="#161616"``), and removed.

    WeasyPrint matched each chart's style sheet against each of its elements, for each chart
    of a report (``make bench``: 0.07 s of the Rapport d'exécution); browsers read the
    attributes as they read the rules. The cascade is resolved here as in CSS: by importance,
    then specificity, then order (``cssselect2`` sorts the matching rules); the winning value
    replaces an attribute of the same name, as a rule would override it."""
    # pygal scopes its rules by the chart's random id: named the same for every chart, the
    # sheets of charts of the same style are the same text, parsed once (``_matchers``).
    chart_id = root.get("id", "")
    root.set("id", SCOPE_ID)
    sheets = []
    for parent in list(root.iter()):
        for style in parent.findall(f"{{{SVG_NS}}}style"):
            sheets.append(style.text or "")
            parent.remove(style)
    # One cascade over every sheet of the chart (pygal writes one).
    css = "\n".join(sheets)
    if chart_id:
        css = css.replace(chart_id, SCOPE_ID)
    matchers = _matchers(css)
    for wrapper in cssselect2.ElementWrapper.from_xml_root(root).iter_subtree():
        for matcher in matchers:
            for *_, values in matcher.match(wrapper):
                for name, value in values:
                    wrapper.etree_element.set(name, value)
    for defs in root.findall(f"{{{SVG_NS}}}defs"):
        if len(defs) == 0:
            root.remove(defs)


SCOPE_ID = "chart"


@functools.lru_cache(maxsize=32)
def _matchers(css: str) -> tuple[cssselect2.Matcher, cssselect2.Matcher]:
    """The rules of a style sheet, normal then important, ready to match elements."""
    matchers = (cssselect2.Matcher(), cssselect2.Matcher())
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type != "qualified-rule":
            continue  # pygal writes no at-rule
        declarations = [
            declaration
            for declaration in tinycss2.parse_blocks_contents(
                rule.content, skip_comments=True, skip_whitespace=True
            )
            if declaration.type == "declaration"
            and not declaration.lower_name.startswith(SCREEN_ONLY_DECLARATIONS)
        ]
        for important, matcher in enumerate(matchers):
            values = [
                (declaration.lower_name, tinycss2.serialize(declaration.value).strip())
                for declaration in declarations
                if declaration.important == bool(important)
            ]
            if values:
                for selector in cssselect2.compile_selector_list(rule.prelude):
                    if selector.pseudo_element is None:
                        matcher.add_selector(selector, values)
    return matchers


def description(points: list[SeriesPoint], target: Decimal | None, target_label: str) -> str:
    """The chart's data as a sentence, for screen readers and for the PDF's text layer."""
    parts = [
        f"{point.label} : {format_number(point.value)}"
        for point in points
        if point.value is not None
    ]
    if target is not None:
        parts.append(f"{target_label} : {format_number(target)}")
    return " ; ".join(parts) + "."


@dataclass(frozen=True)
class ThemeBudget:
    """A thème of the execution table: the budget by funder (État = A+B, CD = C+D, autres
    financeurs = E) and what was realised."""

    label: str
    state: Decimal
    cd: Decimal
    other: Decimal
    realised: Decimal


def themes_chart_svg(*, title: str, themes: list[ThemeBudget]) -> str:
    """Per thème, the planned budget by funder against the realised amount."""
    chart = pygal.HorizontalBar(
        style=Style(**{**STYLE.__dict__, "colors": ("#000091", "#6a6af4", "#b1b1f9", "#c9191e")}),
        js=[],
        disable_xml_declaration=True,
        width=760,
        height=max(260, 80 + 56 * len(themes)),
        explicit_size=False,
        legend_at_bottom=True,
        truncate_label=36,
        x_labels_major_count=6,
        show_minor_x_labels=False,
        value_formatter=lambda value: format_number(Decimal(str(value)).quantize(Decimal(1))),
        margin=12,
    )
    chart.title = title
    themes = list(reversed(themes))  # a horizontal chart draws the first label at the bottom
    chart.x_labels = [theme.label for theme in themes]
    chart.add("Budget État (A+B)", [float(theme.state) for theme in themes])
    chart.add("Budget CD (C+D)", [float(theme.cd) for theme in themes])
    chart.add("Autres financeurs (E)", [float(theme.other) for theme in themes])
    chart.add("Réalisé au 31/12", [float(theme.realised) for theme in themes])
    return _static(chart.render(is_unicode=True))


def execution_themes_chart_svg(
    table: FinancialTable, short_labels: dict[str, str] | None = None
) -> str:
    """The chart of an execution table by thème (``execution_theme_budgets``)."""
    return themes_chart_svg(
        title=f"Exécution {table.year} par thème",
        themes=execution_theme_budgets(table, short_labels),
    )


def execution_theme_budgets(
    table: FinancialTable, short_labels: dict[str, str] | None = None
) -> list[ThemeBudget]:
    """Every thème of an execution table, in its order: its sub-total row, or the sum of its
    fiches' rows where the official layout has no sub-total (the thème of the initiative
    block), so that the thèmes add up to the « TOTAUX FINANCIERS »."""
    short_labels = short_labels or {}
    return [
        ThemeBudget(
            label=short_labels.get(key) or label,
            state=totals.state,
            cd=totals.cd,
            other=totals.other,
            realised=totals.realised,
        )
        for key, (label, totals) in theme_totals(table).items()
    ]
