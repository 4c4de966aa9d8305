"""Rapport d'exécution N: the narrative report of a year, computed from plain inputs.

Pure (no Django import), like :mod:`reports.tables`: the selector
(:mod:`reports.report_selectors`) reads the database into :class:`FicheInput` values, this module
orders and numbers them as the national template does (CALPAE.md §6) and computes what the
template only displays — budget splits (État = A+B, CD = C+D, total F) and the « degré de
réalisation » of each indicator — and the renderer (:mod:`reports.report_pdf`) lays it out.

Layout of the national template, followed here::

    1. Mesures socle
      1.x <thème>
        1.x.y <fiche>
          .1 Description de l'action   .2 Date de mise en place de l'action
          .3 Partenaires et co-financeurs   .4 Durée de l'action
          .5 Budget: .5.1 prévisionnel figurant dans la convention / .5.2 exécuté
          .6 Indicateurs (table, then the chart of each indicator with numbers)
          .7 Bilan d'exécution   .8 Perspectives futures
    2. Mesures à l'initiative du Département (same blocks)
    3. Synthèse financière (not in the template, asked by issue 4: the totals of Annexe 2 in a
       sentence, and the budget by funder against the amount realised by thème, as a chart)
    Annexe 1. Tableau des indicateurs / Annexe 2. Tableau financier N

The charts are the SVG of :mod:`reports.charts`, the very function the web pages call.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from reports.charts import (
    Chart,
    SeriesPoint,
    execution_themes_chart_svg,
    indicator_chart,
    objective_label,
    svg_data_uri,
)
from reports.formatting import format_euros
from reports.tables import Block, FinancialTable, RowKind, number_sort_key

REPORT_TITLE = (
    "Rapport d'exécution de la convention d'appui à la lutte contre la pauvreté "
    "et d'accès à l'emploi"
)
BLOCK_TITLES = {
    Block.SOCLE: "Mesures socle",
    Block.INITIATIVE: "Mesures à l'initiative du Département",
}
BLOCK_ORDER = (Block.SOCLE, Block.INITIATIVE)

FRENCH_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
HUNDRED = Decimal(100)


class Direction(StrEnum):
    """Sens de lecture of an indicator (the values of ``indicators.choices.Direction``)."""

    HIGHER = "higher"
    LOWER = "lower"
    NEUTRAL = "neutral"


# --- Inputs (read by the selector) --------------------------------------------------------------


@dataclass(frozen=True)
class BudgetInput:
    """One budget of a fiche (prévisionnel or exécuté): the columns of the financial table."""

    state_new: Decimal | None = None  # A
    state_carried_over: Decimal | None = None  # B
    cd_new: Decimal | None = None  # C
    cd_carried_over: Decimal | None = None  # D
    other: Decimal | None = None  # E
    realised: Decimal | None = None


@dataclass(frozen=True)
class Measure:
    """A target or a value as entered: its raw text, its number when it has one, and the label
    of its status when it is a status (« Non contractualisé », « Données non disponibles »…)."""

    raw: str
    number: Decimal | None = None
    status_label: str = ""


@dataclass(frozen=True)
class IndicatorInput:
    label: str
    direction: str = Direction.HIGHER
    previous: Measure | None = None  # value of N-1
    current: Measure | None = None  # value of N
    target: Measure | None = None  # objectif N
    series: tuple[SeriesPoint, ...] = ()  # the values of every period up to N, for the chart


@dataclass(frozen=True)
class FicheInput:
    """Fiche-action de l'exercice, as read from the database."""

    key: str
    block: str
    theme_key: str
    theme_label: str
    number: str
    title: str
    printed_title: str  # as in the financial table: « Fiche 12 : Structurer… »
    retired: bool = False
    description: str = ""
    start_date: datetime.date | None = None
    start_date_text: str = ""
    partners: str = ""
    duration: str = ""
    planned: BudgetInput | None = None
    executed: BudgetInput | None = None
    indicators: tuple[IndicatorInput, ...] = ()
    execution_review: str = ""
    outlook: str = ""


@dataclass(frozen=True)
class Cover:
    department_name: str  # « Département de Seine-et-Marne »
    department_code: str
    region_name: str
    convention_title: str
    year: int
    generated_on: datetime.date

    @property
    def title(self) -> str:
        return REPORT_TITLE

    @property
    def heading(self) -> str:
        return f"Rapport d'exécution pour la convention {self.year}"

    @property
    def month(self) -> str:
        """« Janvier 2025 »: the date line of the national template (« Mars 2023 »)."""
        month = FRENCH_MONTHS[self.generated_on.month - 1]
        return f"{month.capitalize()} {self.generated_on.year}"

    @property
    def running_header(self) -> str:
        return f"{self.department_name} ({self.department_code}) — Rapport d'exécution {self.year}"

    @property
    def preamble(self) -> tuple[str, ...]:
        """The standard preamble of the national template."""
        return (
            "La stratégie nationale de prévention et de lutte contre la pauvreté repose sur une "
            "mise en œuvre à partir des territoires, en appui de la gouvernance nationale dont "
            "elle fait l'objet. La contractualisation exigeante entre l'État et les départements "
            "lancée le 21 février 2019 en constitue un levier essentiel.",
            "Une évaluation est réalisée chaque année sur la mise en œuvre des actions de la "
            "contractualisation et conditionne le versement des crédits de la contractualisation "
            f"pour l'année suivante. Le présent rapport d'exécution permet, pour l'année "
            f"{self.year + 1}, une nouvelle évaluation des actions contractualisées dans la "
            f"convention {self.year}.",
            "Le rapport a pour but de rendre compte de l'exécution des crédits versés au titre "
            "de la convention signée par le préfet de département et le président du conseil "
            "départemental. À l'aune des fiches-actions annexées à la convention, le rapport "
            "rappelle, action par action, les engagements et le cadre financier initial, rend "
            "compte de son exécution et des résultats atteints.",
        )


# --- Output -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetSplit:
    """A budget as the report prints it: État = A+B, Département = C+D, autres = E,
    total F = A+B+C+D+E, and the amount realised (exécuté only). ``None``: nothing entered."""

    state: Decimal | None
    cd: Decimal | None
    other: Decimal | None
    total: Decimal | None
    realised: Decimal | None = None

    @property
    def cells(self) -> dict[str, str]:
        """The amounts as printed: « 110 000,00 € », empty when not entered."""
        return {
            "state": format_euros(self.state),
            "cd": format_euros(self.cd),
            "other": format_euros(self.other),
            "total": format_euros(self.total),
            "realised": format_euros(self.realised),
        }


@dataclass(frozen=True)
class Paragraph:
    """A line of a narrative text: the texts keep one paragraph or bullet per line."""

    text: str
    bullet: bool = False


BULLET_MARKERS = "-–•❖*▪"


def paragraphs(text: str) -> tuple[Paragraph, ...]:
    """``text`` cut into its lines; a line opened by bullet markers (« - ❖ d'inscrire… ») is a
    bullet, printed without its markers."""
    result = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        stripped = line.lstrip(BULLET_MARKERS + " \t")
        bullet = stripped != line and line[0] in BULLET_MARKERS and line[1:2] in (" ", "\t", "❖")
        result.append(Paragraph(stripped if bullet else line, bullet=bullet))
    return tuple(result)


@dataclass(frozen=True)
class IndicatorLine:
    label: str
    previous: str
    current: str
    target: str
    degree: str


@dataclass(frozen=True)
class ChartReference:
    """Where the charts of indicators shared with an earlier fiche (the indicators of a thème
    are listed under each of its fiches) are printed, instead of printing them again."""

    anchor: str  # of the earlier fiche's charts
    path: str
    printed_title: str
    count: int
    of_all: bool  # every indicator of the fiche is charted there

    @property
    def text(self) -> str:
        if self.of_all:
            if self.count == 1:
                return "Le graphique de cet indicateur figure au"
            return "Les graphiques de ces indicateurs figurent au"
        if self.count == 1:
            return "Le graphique d'un de ces indicateurs figure au"
        return f"Les graphiques de {self.count} de ces indicateurs figurent au"


@dataclass(frozen=True)
class FicheSection:
    anchor: str
    path: str  # « 1.1.1 »: the section number in the report
    number: str  # the fiche's number of the year: « 2.1 »
    title: str
    printed_title: str
    theme_label: str
    description: tuple[Paragraph, ...]
    start_date: tuple[Paragraph, ...]
    partners: tuple[Paragraph, ...]
    duration: tuple[Paragraph, ...]
    planned: BudgetSplit | None
    executed: BudgetSplit | None
    indicators: tuple[IndicatorLine, ...]
    execution_review: tuple[Paragraph, ...]
    outlook: tuple[Paragraph, ...]
    charts: tuple[Chart, ...] = ()  # the indicators with numbers, in the table's order
    charts_elsewhere: tuple[ChartReference, ...] = ()  # printed under an earlier fiche

    @property
    def charts_anchor(self) -> str:
        return f"{self.anchor}-graphiques"


@dataclass(frozen=True)
class ThemeSection:
    path: str  # « 1.1 »
    label: str
    fiches: tuple[FicheSection, ...]


@dataclass(frozen=True)
class BlockSection:
    path: str  # « 1 »
    title: str
    themes: tuple[ThemeSection, ...]

    @property
    def fiches(self) -> tuple[FicheSection, ...]:
        return tuple(fiche for theme in self.themes for fiche in theme.fiches)


@dataclass(frozen=True)
class FinancialSynthesis:
    """Synthèse financière: after the fiches, the year's totals (those of Annexe 2) in a
    sentence and the budget by funder against the amount realised, by thème, as a chart."""

    path: str  # « 3 »
    title: str
    summary: str
    chart_svg: str = ""  # nothing to draw before an executed budget is entered

    @property
    def chart_data_uri(self) -> str:
        return svg_data_uri(self.chart_svg) if self.chart_svg else ""

    @property
    def anchor(self) -> str:
        return "synthese-financiere"


@dataclass(frozen=True)
class ExecutionReport:
    cover: Cover
    blocks: tuple[BlockSection, ...]
    previous_label: str  # header of the N-1 value column
    current_label: str  # header of the N value column
    financial_table: FinancialTable
    synthesis: FinancialSynthesis | None = None
    indicator_matrix: object | None = None  # reports.matrix.IndicatorMatrix, for Annexe 1

    @property
    def fiches(self) -> tuple[FicheSection, ...]:
        return tuple(fiche for block in self.blocks for fiche in block.fiches)


# --- Computation --------------------------------------------------------------------------------


def _sum(*amounts: Decimal | None) -> Decimal | None:
    present = [amount for amount in amounts if amount is not None]
    return sum(present, Decimal(0)) if present else None


def budget_split(budget: BudgetInput | None) -> BudgetSplit | None:
    if budget is None:
        return None
    state = _sum(budget.state_new, budget.state_carried_over)
    cd = _sum(budget.cd_new, budget.cd_carried_over)
    return BudgetSplit(
        state=state,
        cd=cd,
        other=budget.other,
        total=_sum(state, cd, budget.other),
        realised=budget.realised,
    )


def realisation_rate(
    direction: str, value: Decimal | None, target: Decimal | None
) -> Decimal | None:
    """Degré de réalisation as a percentage: value / target when a higher value is better,
    target / value when a lower one is (a délai of 19 days for a target of 21 is 111 %).
    ``None`` when it cannot be computed: no direction, a missing or zero operand."""
    if value is None or target is None or direction not in (Direction.HIGHER, Direction.LOWER):
        return None
    numerator, denominator = (value, target) if direction == Direction.HIGHER else (target, value)
    if denominator == 0 or numerator < 0 or denominator < 0:
        return None
    return (numerator / denominator * HUNDRED).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def degree_of_realisation(direction: str, current: Measure | None, target: Measure | None) -> str:
    """The « Degré de réalisation » cell: « 95 % », or the status that prevents computing it
    (the value's, then the target's: « Non contractualisé »), or nothing."""
    rate = realisation_rate(
        direction,
        current.number if current is not None else None,
        target.number if target is not None else None,
    )
    if rate is not None:
        return f"{rate}\u00a0%"
    for measure in (current, target):
        if measure is not None and measure.number is None and measure.status_label:
            return measure.status_label
    return ""


def format_date(value: datetime.date) -> str:
    return f"{value:%d/%m/%Y}"


def _raw(measure: Measure | None) -> str:
    return measure.raw if measure is not None else ""


def percentage(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part / whole * HUNDRED).quantize(Decimal(1), rounding=ROUND_HALF_UP)


SYNTHESIS_TITLE = "Synthèse financière"


def financial_synthesis(
    table: FinancialTable, *, path: str, short_labels: dict[str, str] | None = None
) -> FinancialSynthesis:
    """The synthesis of the execution table: the grand total's budget F by funder (État =
    A+B, Département = C+D, autres = E) and the amount realised, in a sentence."""
    year = table.year
    if not table.rows_of_kind(RowKind.ACTION):
        return FinancialSynthesis(
            path=path,
            title=SYNTHESIS_TITLE,
            summary=f"Aucun budget exécuté n'est saisi pour {year}.",
        )

    def amount(*keys: str) -> Decimal:
        return sum((table.grand_total.amounts.get(key) or Decimal(0) for key in keys), Decimal(0))

    total, realised = amount("F"), amount("realised")
    rate = percentage(realised, total)
    summary = (
        f"En {year}, le budget global des actions s'élève à {format_euros(total)} : "
        f"{format_euros(amount('A', 'B'))} de crédits de l'État (A+B), "
        f"{format_euros(amount('C', 'D'))} de crédits du Département (C+D) et "
        f"{format_euros(amount('E'))} d'autres financeurs (E). "
        f"Le montant réalisé au 31/12/{year} est de {format_euros(realised)}"
        + (f", soit {rate}\u00a0% du budget global" if rate is not None else "")
        + ". Le graphique compare, par thème, le budget de chaque financeur au montant "
        "réalisé ; le détail par fiche-action figure à l'annexe 2."
    )
    return FinancialSynthesis(
        path=path,
        title=SYNTHESIS_TITLE,
        summary=summary,
        chart_svg=execution_themes_chart_svg(table, short_labels),
    )


def _fiche_section(fiche: FicheInput, path: str, year: int) -> FicheSection:
    start = fiche.start_date_text.strip()
    if not start and fiche.start_date is not None:
        start = format_date(fiche.start_date)
    return FicheSection(
        anchor=f"fiche-{fiche.key}",
        path=path,
        number=fiche.number,
        title=fiche.title,
        printed_title=fiche.printed_title,
        theme_label=fiche.theme_label,
        description=paragraphs(fiche.description),
        start_date=paragraphs(start),
        partners=paragraphs(fiche.partners),
        duration=paragraphs(fiche.duration),
        planned=budget_split(fiche.planned),
        executed=budget_split(fiche.executed),
        indicators=tuple(
            IndicatorLine(
                label=indicator.label,
                previous=_raw(indicator.previous),
                current=_raw(indicator.current),
                target=_raw(indicator.target),
                degree=degree_of_realisation(
                    indicator.direction, indicator.current, indicator.target
                ),
            )
            for indicator in fiche.indicators
        ),
        execution_review=paragraphs(fiche.execution_review),
        outlook=paragraphs(fiche.outlook),
        charts=tuple(
            chart
            for indicator in fiche.indicators
            if (
                chart := indicator_chart(
                    label=indicator.label,
                    points=list(indicator.series),
                    target=indicator.target.number if indicator.target is not None else None,
                    target_label=objective_label(year),
                )
            )
            is not None
        ),
    )


def _without_repeated_charts(blocks: list[BlockSection]) -> list[BlockSection]:
    """Each chart printed once, under the first fiche that shows it; the later fiches refer to
    it (« Les graphiques de 6 de ces indicateurs figurent au 1.4.1 … »)."""
    first: dict[Chart, FicheSection] = {}

    def fiche_charts(fiche: FicheSection) -> FicheSection:
        new = tuple(chart for chart in fiche.charts if chart not in first)
        earlier: dict[str, tuple[FicheSection, int]] = {}  # by anchor: the fiche, its charts
        for chart in fiche.charts:
            if chart in first:
                section = first[chart]
                _, count = earlier.get(section.anchor, (section, 0))
                earlier[section.anchor] = (section, count + 1)
        for chart in new:
            first[chart] = fiche
        return dataclasses.replace(
            fiche,
            charts=new,
            charts_elsewhere=tuple(
                ChartReference(
                    anchor=section.charts_anchor,
                    path=section.path,
                    printed_title=section.printed_title,
                    count=count,
                    of_all=count == len(fiche.indicators),
                )
                for section, count in earlier.values()
            ),
        )

    return [
        dataclasses.replace(
            block,
            themes=tuple(
                dataclasses.replace(theme, fiches=tuple(fiche_charts(f) for f in theme.fiches))
                for theme in block.themes
            ),
        )
        for block in blocks
    ]


def build_execution_report(
    *,
    cover: Cover,
    fiches: Iterable[FicheInput],
    financial_table: FinancialTable,
    previous_label: str = "",
    current_label: str = "",
    theme_short_labels: dict[str, str] | None = None,
) -> ExecutionReport:
    """The report: retired fiches left out, the others by block (socle, then initiative, as the
    convention classes them) and by number of the year, the consecutive fiches of a thème
    under one thème heading; sections numbered 1, 1.1, 1.1.1 as in the national template.
    A chart is printed once: a fiche sharing indicators with an earlier one refers to it.

    The numbers of the year follow the convention's order, which the official report follows
    (premier accueil, référent de parcours, insertion…); the financial table orders thèmes
    differently (CALPAE.md §4.2).

    The synthesis follows the blocks (« 3. Synthèse financière » after the two blocks); its
    chart names the thèmes by ``theme_short_labels`` (by thème key) when given.
    """
    active = [fiche for fiche in fiches if not fiche.retired]
    blocks = []
    for block in BLOCK_ORDER:
        in_block = sorted(
            (fiche for fiche in active if fiche.block == block),
            key=lambda fiche: number_sort_key(fiche.number),
        )
        if not in_block:
            continue
        block_path = str(len(blocks) + 1)
        themes: list[ThemeSection] = []
        grouped: list[list[FicheInput]] = []
        for fiche in in_block:
            if grouped and grouped[-1][0].theme_key == fiche.theme_key:
                grouped[-1].append(fiche)
            else:
                grouped.append([fiche])
        for theme_index, group in enumerate(grouped, start=1):
            theme_path = f"{block_path}.{theme_index}"
            themes.append(
                ThemeSection(
                    path=theme_path,
                    label=group[0].theme_label,
                    fiches=tuple(
                        _fiche_section(fiche, f"{theme_path}.{index}", cover.year)
                        for index, fiche in enumerate(group, start=1)
                    ),
                )
            )
        blocks.append(
            BlockSection(path=block_path, title=BLOCK_TITLES[block], themes=tuple(themes))
        )
    year = cover.year
    return ExecutionReport(
        cover=cover,
        blocks=tuple(_without_repeated_charts(blocks)),
        previous_label=previous_label or f"Valeur au 31/12/{year - 1}",
        current_label=current_label or f"Valeur au 31/12/{year}",
        financial_table=financial_table,
        synthesis=None
        if financial_table is None
        else financial_synthesis(
            financial_table, path=str(len(blocks) + 1), short_labels=theme_short_labels
        ),
    )
