"""Charts as SVG, drawn by pygal: the same SVG in the web page and in the PDF.

Pure (no Django import). No script is embedded (``js=[]``): the chart is static, readable
without JavaScript, and its data are also given as text next to it (``description``).
"""

from __future__ import annotations

import hashlib
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal

import pygal
from pygal.style import Style

from reports.formatting import format_number

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
)


@dataclass(frozen=True)
class SeriesPoint:
    label: str  # the period, as printed ("Résultat atteint en 2022")
    value: Decimal | None  # None: no number for that period (a status, or nothing entered)


def has_chart(points: list[SeriesPoint], target: Decimal | None) -> bool:
    """A chart says something with two numbers or more, counting the target."""
    numbers = [point.value for point in points if point.value is not None]
    return len(numbers) + (target is not None) >= 2


def indicator_chart_svg(
    *, title: str, points: list[SeriesPoint], target: Decimal | None, target_label: str
) -> str:
    """The values of an indicator over its periods, against its target, as an inline SVG."""
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
        margin=12,
        margin_left=48,
        margin_right=72,
    )
    chart.title = title
    chart.x_labels = [point.label for point in points]
    chart.add("Valeur", [None if p.value is None else float(p.value) for p in points])
    if target is not None:
        chart.add(
            target_label,
            [float(target)] * len(points),
            show_dots=False,
            print_values=False,
            stroke_style={"dasharray": "6, 4", "width": 2},
        )
    return _static(chart.render(is_unicode=True))


def _static(svg: str) -> str:
    """The SVG without pygal's configuration script (it copies the labels, user text, into a
    ``<script>``) nor its generation comment, with an id that depends on the content only."""
    root = ET.fromstring(svg)
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == f"{{{SVG_NS}}}script":
                parent.remove(child)
    # Namespaces given here, not registered once: other libraries change the global registry.
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    text = ET.tostring(root, encoding="unicode")
    old_id = root.get("id", "")
    if not old_id:
        return text
    neutral = text.replace(old_id, "CHART-ID")
    stable = "chart-" + hashlib.sha1(neutral.encode()).hexdigest()[:12]
    return neutral.replace("CHART-ID", stable)


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


def theme_budgets(rows, short_labels: dict[str, str] | None = None) -> list[ThemeBudget]:
    """From the thème sub-total rows of an execution table (``reports.tables.TableRow``);
    ``short_labels`` by thème key, since the printed labels are too long for a chart axis."""
    short_labels = short_labels or {}

    def amount(row, *keys):
        return sum((row.amounts.get(key) or Decimal(0) for key in keys), Decimal(0))

    return [
        ThemeBudget(
            label=short_labels.get(row.theme_key) or row.theme_label,
            state=amount(row, "A", "B"),
            cd=amount(row, "C", "D"),
            other=amount(row, "E"),
            realised=amount(row, "realised"),
        )
        for row in rows
    ]
