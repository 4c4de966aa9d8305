"""The official financial tables, computed from plain data.

This module imports nothing from Django: it takes frozen dataclasses and returns frozen
dataclasses, with ``Decimal`` amounts, so that the web page, the PDF and the XLSX all read the
same computed object and can never disagree (CALPAE.md §5).

- :func:`build_execution_table`: *Tableau financier récapitulatif — exécution N* (§5.1);
- :func:`build_planned_table`: *Tableau financier récapitulatif prévisionnel N* (§5.2);
- both return the reconciliation findings a reviewer would raise (§9.1).

``None`` is an empty cell, distinct from a printed ``0,00 €``: action rows keep the cells as
entered, sub-total and total rows print every amount column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from reports.formatting import format_euros

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


class Block(StrEnum):
    SOCLE = "socle"
    INITIATIVE = "initiative"


class TableKind(StrEnum):
    EXECUTION = "execution"
    PLANNED = "planned"


class Template(StrEnum):
    """The official template a table is laid out in.

    A prévisionnel table follows the template of the document it is annexed to: the annual
    conventions (2022 onwards) print §5.2, the 2020 avenants the national "Annexe 3" (§5.6).
    """

    EXECUTION = "execution"  # Tableau financier récapitulatif — exécution (§5.1)
    PLANNED = "planned"  # Tableau financier récapitulatif prévisionnel (§5.2)
    AMENDMENT_2020 = "amendment_2020"  # Annexe 3 d'avenant, modèle national 2020 (§5.6)


class RowKind(StrEnum):
    ACTION = "action"
    PLACEHOLDER = "placeholder"
    THEME_SUBTOTAL = "theme_subtotal"
    BLOCK_SUBTOTAL = "block_subtotal"
    GRAND_TOTAL = "grand_total"


class Severity(StrEnum):
    ERROR = "error"  # arithmetic that cannot be right
    WARNING = "warning"  # a rule of the convention, which a written explanation may justify


class Rule(StrEnum):
    F_FORMULA = "f_formula"
    STATE_TOTAL = "state_total"
    REALISED_OVER_BUDGET = "realised_over_budget"
    CARRY_OVER_BALANCE = "carry_over_balance"
    CARRY_OVER_STATE_EXCEEDS = "carry_over_state_exceeds"
    CARRY_OVER_CD_EXCEEDS = "carry_over_cd_exceeds"
    PARITY_ACTION = "parity_action"
    PARITY_TOTAL = "parity_total"
    ENVELOPE_EXCEEDED = "envelope_exceeded"
    CARRY_OVER_MISMATCH = "carry_over_mismatch"
    CARRY_OVER_TOTAL_MISMATCH = "carry_over_total_mismatch"
    PRINTED_MISMATCH = "printed_mismatch"


RULE_LABELS: Mapping[Rule, str] = {
    Rule.F_FORMULA: "F = A+B+C+D+E",
    Rule.STATE_TOTAL: "Total A = crédit État notifié",
    Rule.REALISED_OVER_BUDGET: "Réalisé ≤ budget global",
    Rule.CARRY_OVER_BALANCE: "Reports = budget global − réalisé",
    Rule.CARRY_OVER_STATE_EXCEEDS: "Report part État ≤ crédits État (A+B)",
    Rule.CARRY_OVER_CD_EXCEEDS: "Report part CD ≤ crédits CD (C+D)",
    Rule.PARITY_ACTION: "Parité : crédits CD ≥ crédits État (par action)",
    Rule.PARITY_TOTAL: "Parité : crédits CD ≥ crédits État (total)",
    Rule.ENVELOPE_EXCEEDED: "Crédits État ≤ enveloppe notifiée du thème",
    Rule.CARRY_OVER_MISMATCH: "Reports N-1 = montants à reporter de l'année précédente",
    Rule.CARRY_OVER_TOTAL_MISMATCH: "Total des reports = total à reporter de l'année précédente",
    Rule.PRINTED_MISMATCH: "Montant imprimé = montant recalculé",
}


# --- Input -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableHeading:
    """What the title block of a table names."""

    year: int
    department_code: str
    department_of_name: str  # "de Seine-et-Marne", "de l'Allier"
    region_name: str


@dataclass(frozen=True)
class ThemeInput:
    """A thème as laid out in the year's table (position, printed label, Chorus cell)."""

    key: str
    label: str
    block: Block
    position: int
    chorus: str = ""
    placeholders: tuple[tuple[str, str], ...] = ()
    # Reports N-1 known only for the whole thème (one merged cell in the document).
    carried_over_state: Decimal | None = None
    carried_over_cd: Decimal | None = None
    # Whether the year has fiches in this thème, budgeted or not: a thème without any prints
    # "Aucune action programmée" in the avenant template.
    has_actions: bool = True


@dataclass(frozen=True)
class BudgetLine:
    """The budget of one action for one year, prévisionnel or exécuté.

    A = ``state_new``, B = ``state_carried_over``, C = ``cd_new``, D = ``cd_carried_over``,
    E = ``other_funding``.
    """

    action_key: str
    theme_key: str
    number: str
    title: str
    state_new: Decimal | None = None
    state_carried_over: Decimal | None = None
    cd_new: Decimal | None = None
    valorisation: Decimal | None = None
    cd_carried_over: Decimal | None = None
    other_funding: Decimal | None = None
    declared_total: Decimal | None = None
    realised: Decimal | None = None
    carry_over_state: Decimal | None = None
    carry_over_cd: Decimal | None = None
    carry_over_unallocated: Decimal | None = None
    comment: str = ""

    @property
    def has_funding_split(self) -> bool:
        """Whether any of A to E is filled in (some documents give only a budget global)."""
        return any(
            value is not None
            for value in (
                self.state_new,
                self.state_carried_over,
                self.cd_new,
                self.cd_carried_over,
                self.other_funding,
            )
        )

    @property
    def total(self) -> Decimal:
        """F = A+B+C+D+E, an empty cell counting as zero."""
        return _sum(
            (
                self.state_new,
                self.state_carried_over,
                self.cd_new,
                self.cd_carried_over,
                self.other_funding,
            )
        )

    @property
    def budget_global(self) -> Decimal:
        """F; the declared budget global when the document gives no split by funder."""
        if self.declared_total is not None and not self.has_funding_split:
            return self.declared_total
        return self.total

    @property
    def state_available(self) -> Decimal:
        return _sum((self.state_new, self.state_carried_over))

    @property
    def cd_available(self) -> Decimal:
        return _sum((self.cd_new, self.cd_carried_over))


@dataclass(frozen=True)
class Envelope:
    """An envelope of State credits covering one or more thèmes."""

    theme_keys: frozenset[str]
    amount: Decimal
    label: str


# --- Output ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    letter: str | None
    header: str


@dataclass(frozen=True)
class Finding:
    """A reconciliation finding, as a reviewer would write it (in French)."""

    rule: Rule
    severity: Severity
    message: str
    action_key: str | None = None
    action_number: str | None = None
    column: str | None = None
    expected: Decimal | None = None
    actual: Decimal | None = None
    # What else tells two findings of the same rule, action and column apart: the pair of years
    # of a carry-over ("2022-2023"), since an execution table checks both N-1 → N and N → N+1.
    subject: str = ""

    @property
    def rule_label(self) -> str:
        return RULE_LABELS[self.rule]

    def key(self, table: str) -> str:
        """The identity of the finding within its year, stable when the amounts change."""
        return ":".join((table, self.rule, self.action_key or "", self.column or "", self.subject))


@dataclass(frozen=True)
class TableRow:
    kind: RowKind
    block: Block | None
    theme_key: str | None
    theme_label: str
    chorus: str
    number: str
    title: str
    amounts: Mapping[str, Decimal | None]
    comment: str = ""
    action_key: str | None = None

    @property
    def is_total(self) -> bool:
        return self.kind in (RowKind.THEME_SUBTOTAL, RowKind.BLOCK_SUBTOTAL, RowKind.GRAND_TOTAL)


@dataclass(frozen=True)
class MergedAmount:
    """An amount known only for a group of rows, printed once in a cell merged over them.

    In the avenant template (§5.6) the "Crédits Etat pré-notifiés" are an envelope per thème (or
    per Chorus line over several thèmes) and a "Report 2019" may be given for a whole thème.
    ``first_row`` and ``last_row`` index ``FinancialTable.rows``; the rows in between leave the
    column empty, and the total counts the amount once.
    """

    column: str
    first_row: int
    last_row: int
    amount: Decimal


@dataclass(frozen=True)
class FinancialTable:
    kind: TableKind
    year: int
    title_lines: tuple[str, ...]
    columns: tuple[Column, ...]
    rows: tuple[TableRow, ...]
    findings: tuple[Finding, ...] = field(default=())
    template: Template | None = None  # None: the template of ``kind``
    merged_amounts: tuple[MergedAmount, ...] = ()

    @property
    def layout(self) -> Template:
        return self.template or Template(self.kind.value)

    @property
    def text_columns_before(self) -> tuple[str, ...]:
        """The text columns left of the amounts: the avenant template starts with the block."""
        if self.layout == Template.AMENDMENT_2020:
            return ("block", "theme", "chorus", "number", "title")
        return ("theme", "chorus", "number", "title")

    @property
    def text_columns_after(self) -> tuple[str, ...]:
        """The avenant template has no "Commentaire" column."""
        return () if self.layout == Template.AMENDMENT_2020 else ("comment",)

    @property
    def amount_keys(self) -> tuple[str, ...]:
        return tuple(column.key for column in self.columns)

    @property
    def grand_total(self) -> TableRow:
        return self.rows[-1]

    def rows_of_kind(self, kind: RowKind) -> tuple[TableRow, ...]:
        return tuple(row for row in self.rows if row.kind == kind)


# --- Columns and labels --------------------------------------------------------------------

TEXT_HEADERS = {
    "block": "",
    "theme": "Thème de la contractualisation",
    "chorus": "Imputation chorus (code chorus - description longue)",
    "number": "Fiche action N°",
    "title": "Intitulé de l'action",
    "comment": "Commentaire",
}
TITLE_SUBCAPTION_EXECUTION = "une ligne par action financée"

THEME_SUBTOTAL_LABEL = "Sous total"
GRAND_TOTAL_LABEL = "TOTAUX FINANCIERS"
BLOCK_SUBTOTAL_LABELS = {
    (TableKind.EXECUTION, Block.SOCLE): "Sous-total engagements de mesures socle",
    (TableKind.PLANNED, Block.SOCLE): "Sous-total engagements des mesures socle",
    (TableKind.EXECUTION, Block.INITIATIVE): "Sous total engagements à l'initiative du département",
    (TableKind.PLANNED, Block.INITIATIVE): "Sous total engagements à l'initiative du département",
}
CONVENTION_TITLE = "CONVENTION D'APPUI À LA LUTTE CONTRE LA PAUVRETÉ ET D'ACCÈS À L'EMPLOI"
BLOCK_LABELS = {
    Block.SOCLE: "Engagements du socle",
    Block.INITIATIVE: "Engagements à l'initiative du département",
}
NO_ACTION_LABEL = "Aucune action programmée"
NO_BUDGET_LABEL = "Montants non saisis"


def execution_columns(year: int) -> tuple[Column, ...]:
    """Amount columns of the execution table, headers verbatim (CALPAE.md §5.1)."""
    previous, before = year - 1, year - 2
    return (
        Column("A", "A", f"A Crédits Etats versés en {year}"),
        Column(
            "B",
            "B",
            f"B Crédits Etat {previous} (le cas échéant {before}) reportés sur {year} "
            "(le cas échéant)",
        ),
        Column("C", "C", f"C Crédits CD affectés en {year}"),
        Column(
            "D",
            "D",
            f"D Crédits CD {previous} (le cas échéant {before}) reprogrammés sur {year} "
            "(le cas échéant)",
        ),
        Column("E", "E", "E Participation d'autres financeurs le cas échéant"),
        Column("F", "F", f"F Budget global de l'action prévu en {year} A+B+C+D+E"),
        Column("realised", None, f"Montant total réalisé au 31/12/{year}"),
        Column("valorisation", None, "Dont valorisation de dépenses du CD"),
        Column("carry_over_state", None, f"Montant à reporter en {year + 1} - Part Etat"),
        Column("carry_over_cd", None, f"Montant à reporter en {year + 1} - Part CD"),
    )


def planned_columns(year: int) -> tuple[Column, ...]:
    """Amount columns of the prévisionnel table, headers verbatim (CALPAE.md §5.2)."""
    previous = year - 1
    return (
        Column(
            "A",
            "A",
            f"A Participation État notifiée pour la convention {year} "
            f"(nouveaux crédits Etat {year})",
        ),
        Column("B", "B", f"B Crédits Etat {previous} reportés sur {year} (le cas échéant)"),
        Column("C", "C", f"C Crédits CD affectés pour la convention {year}"),
        Column("valorisation", None, "Dont valorisation CD"),
        Column("D", "D", f"D Crédits CD {previous} reportés sur {year} (le cas échéant)"),
        Column("E", "E", "E Participation d'autres financeurs le cas échéant"),
        Column("F", "F", f"F Budget global de l'action prévu en {year} (A+B+C+D+E)"),
    )


def amendment_columns(year: int) -> tuple[Column, ...]:
    """Amount columns of the 2020 avenant annex, headers verbatim (CALPAE.md §5.6).

    The keys are those of the other tables where the meaning is the same: "Participation État"
    is A, "Participation CD" is C, the budget global is F; "Report N-1" is B + D.
    """
    return (
        Column("F", None, "Budget global de l'action"),
        Column("pre_notified", None, "Crédits Etat pré-notifiés"),
        Column("A", None, f"Participation État {year}"),
        Column("C", None, f"Participation CD {year}"),
        Column("valorisation", None, "dont valorisation"),
        Column("report", None, f"Report {year - 1}"),
        Column("E", None, "Participation d'autres financeurs le cas échéant"),
    )


def amendment_title_lines(heading: TableHeading) -> tuple[str, ...]:
    return (
        "Annexe 3 - Tableau financier récapitulatif",
        "Avenant Convention d'appui à la lutte contre la pauvreté et d'accès à l'emploi – "
        f"Année {heading.year}",
        f"Région {heading.region_name} - Département {heading.department_of_name}",
    )


def title_lines(kind: TableKind, heading: TableHeading) -> tuple[str, ...]:
    convention = (
        f"{CONVENTION_TITLE} - Région {heading.region_name} - "
        f"Département {heading.department_of_name} ({heading.department_code})"
    )
    if kind == TableKind.EXECUTION:
        return (
            "TABLEAU FINANCIER RECAPITULATIF",
            convention,
            f"Exécution budgétaire {heading.year}",
        )
    return (
        "TABLEAU FINANCIER RECAPITULATIF PREVISIONNEL",
        convention,
        f"Prévisionnel Année {heading.year}",
    )


def printed_title(*, title: str, sequence_number: str = "") -> str:
    """The "Intitulé de l'action" cell: "Fiche 12 : Structurer…" when the fiche has a number."""
    return f"Fiche {sequence_number} : {title}" if sequence_number else title


def number_sort_key(number: str) -> tuple:
    """Natural order of fiche numbers: 5.2 < 5.10 < 6.1; "2.1." sorts as 2.1."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"[.\s]+", number.strip())
        if part
    )


# --- Computation -------------------------------------------------------------------------------


def _sum(values: Iterable[Decimal | None]) -> Decimal:
    return sum((value for value in values if value is not None), ZERO)


def _line_amounts(line: BudgetLine) -> dict[str, Decimal | None]:
    """Every amount column of the tables; each table keeps the keys of its own columns."""
    reports = (line.state_carried_over, line.cd_carried_over)
    return {
        "pre_notified": None,
        "report": None if all(value is None for value in reports) else _sum(reports),
        "A": line.state_new,
        "B": line.state_carried_over,
        "C": line.cd_new,
        "valorisation": line.valorisation,
        "D": line.cd_carried_over,
        "E": line.other_funding,
        "F": line.budget_global,
        "realised": line.realised,
        "carry_over_state": line.carry_over_state,
        "carry_over_cd": line.carry_over_cd,
    }


def _pick(amounts: Mapping[str, Decimal | None], keys: Sequence[str]) -> dict:
    return {key: amounts[key] for key in keys}


def _total_row(
    *,
    kind: RowKind,
    label: str,
    block: Block | None,
    theme: ThemeInput | None,
    keys: Sequence[str],
    rows: Sequence[TableRow],
) -> TableRow:
    return TableRow(
        kind=kind,
        block=block,
        theme_key=theme.key if theme else None,
        theme_label=theme.label if theme else "",
        chorus=theme.chorus if theme else "",
        number="",
        title=label,
        amounts={key: _sum(row.amounts[key] for row in rows) for key in keys},
    )


def _sorted_themes(themes: Iterable[ThemeInput]) -> list[ThemeInput]:
    block_order = {Block.SOCLE: 0, Block.INITIATIVE: 1}
    return sorted(themes, key=lambda t: (block_order[t.block], t.position, t.key))


def _sorted_lines(lines: Iterable[BudgetLine]) -> list[BudgetLine]:
    return sorted(lines, key=lambda line: (number_sort_key(line.number), line.action_key))


def _lines_by_theme(
    themes: Sequence[ThemeInput], lines: Sequence[BudgetLine]
) -> dict[str, list[BudgetLine]]:
    theme_keys = {theme.key for theme in themes}
    if len(theme_keys) != len(themes):
        raise ValueError("Un thème figure deux fois dans le tableau.")
    unknown = sorted({line.theme_key for line in lines} - theme_keys)
    if unknown:
        raise ValueError(f"Thème absent du tableau de l'exercice : {', '.join(unknown)}.")
    lines_by_theme: dict[str, list[BudgetLine]] = {}
    for line in _sorted_lines(lines):
        lines_by_theme.setdefault(line.theme_key, []).append(line)
    return lines_by_theme


def _build_rows(
    kind: TableKind,
    columns: Sequence[Column],
    themes: Sequence[ThemeInput],
    lines: Sequence[BudgetLine],
) -> tuple[TableRow, ...]:
    keys = [column.key for column in columns]
    lines_by_theme = _lines_by_theme(themes, lines)
    ordered = _sorted_themes(themes)
    rows: list[TableRow] = []
    block_totals: list[TableRow] = []
    for block in (Block.SOCLE, Block.INITIATIVE):
        block_themes = [theme for theme in ordered if theme.block == block]
        if not block_themes:
            continue
        # The initiative block prints no sub-total per thème when it has a single thème.
        theme_subtotals = block == Block.SOCLE or len(block_themes) > 1
        block_subtotals: list[TableRow] = []
        block_action_rows: list[TableRow] = []
        for theme in block_themes:
            action_rows = [
                _action_row(block, theme, line, keys) for line in lines_by_theme.get(theme.key, [])
            ]
            if not action_rows:
                rows.extend(
                    _placeholder_row(block, theme, number, title, keys)
                    for number, title in theme.placeholders
                )
            rows.extend(action_rows)
            block_action_rows.extend(action_rows)
            if theme_subtotals:
                subtotal = _total_row(
                    kind=RowKind.THEME_SUBTOTAL,
                    label=THEME_SUBTOTAL_LABEL,
                    block=block,
                    theme=theme,
                    keys=keys,
                    rows=action_rows,
                )
                rows.append(subtotal)
                block_subtotals.append(subtotal)
        block_total = _total_row(
            kind=RowKind.BLOCK_SUBTOTAL,
            label=BLOCK_SUBTOTAL_LABELS[(kind, block)],
            block=block,
            theme=None,
            keys=keys,
            rows=block_subtotals if theme_subtotals else block_action_rows,
        )
        rows.append(block_total)
        block_totals.append(block_total)
    rows.append(
        _total_row(
            kind=RowKind.GRAND_TOTAL,
            label=GRAND_TOTAL_LABEL,
            block=None,
            theme=None,
            keys=keys,
            rows=block_totals,
        )
    )
    return tuple(rows)


def _action_row(block: Block, theme: ThemeInput, line: BudgetLine, keys: Sequence[str]):
    return TableRow(
        kind=RowKind.ACTION,
        block=block,
        theme_key=theme.key,
        theme_label=theme.label,
        chorus=theme.chorus,
        number=line.number,
        title=line.title,
        amounts=_pick(_line_amounts(line), keys),
        comment=line.comment,
        action_key=line.action_key,
    )


def _placeholder_row(block: Block, theme: ThemeInput, number: str, title: str, keys):
    return TableRow(
        kind=RowKind.PLACEHOLDER,
        block=block,
        theme_key=theme.key,
        theme_label=theme.label,
        chorus=theme.chorus,
        number=number,
        title=title,
        amounts={key: None for key in keys},
    )


def _contiguous_runs(indices: Sequence[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for index in sorted(indices):
        if runs and runs[-1][1] == index - 1:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    return runs


def _build_amendment_rows(
    columns: Sequence[Column],
    themes: Sequence[ThemeInput],
    lines: Sequence[BudgetLine],
    envelopes: Sequence[Envelope],
) -> tuple[tuple[TableRow, ...], tuple[MergedAmount, ...]]:
    """The rows of the 2020 avenant annex (§5.6): no sub-totals, only "TOTAUX FINANCIERS";
    thème-level amounts (pre-notified envelopes, reports N-1) as merged cells."""
    keys = [column.key for column in columns]
    lines_by_theme = _lines_by_theme(themes, lines)
    rows: list[TableRow] = []
    theme_rows: dict[str, list[int]] = {}
    merged: list[MergedAmount] = []
    for theme in _sorted_themes(themes):
        block = theme.block
        first = len(rows)
        theme_lines = lines_by_theme.get(theme.key, [])
        if theme_lines:
            # "Budget global de l'action" is a column of its own here, not the formula F: the
            # budget global as printed when there is one (it may include a share of the
            # thème's report), A+B+C+D+E otherwise.
            rows.extend(
                replace(row, amounts={**row.amounts, "F": line.declared_total})
                if line.declared_total is not None
                else row
                for line, row in (
                    (line, _action_row(block, theme, line, keys)) for line in theme_lines
                )
            )
        elif theme.placeholders:
            rows.extend(
                _placeholder_row(block, theme, number, title, keys)
                for number, title in theme.placeholders
            )
        else:
            label = NO_BUDGET_LABEL if theme.has_actions else NO_ACTION_LABEL
            rows.append(_placeholder_row(block, theme, "", label, keys))
        theme_rows[theme.key] = list(range(first, len(rows)))
        report = (theme.carried_over_state, theme.carried_over_cd)
        if any(value is not None for value in report):
            # The thème's own report, with any report entered on its actions, in one cell.
            indices = theme_rows[theme.key]
            action_reports = _sum(rows[index].amounts["report"] for index in indices)
            for index in indices:
                rows[index] = _without(rows[index], "report")
            last = len(rows) - 1
            merged.append(MergedAmount("report", first, last, _sum(report) + action_reports))
            if not all(line.declared_total is not None for line in theme_lines):
                # The report is not shared out among the fiches: the thème's budget global,
                # report included, in one cell as well (budget global = État + CD + report +
                # autres financeurs, §5.6).
                budget = _sum(rows[index].amounts["F"] for index in indices) + _sum(report)
                for index in indices:
                    rows[index] = _without(rows[index], "F")
                merged.append(MergedAmount("F", first, last, budget))
    for envelope in sorted(envelopes, key=lambda e: (sorted(e.theme_keys), e.label)):
        indices = [i for key in envelope.theme_keys for i in theme_rows.get(key, [])]
        if indices:
            # A Chorus line over several thèmes in a row: one cell over all of them.
            first, last = _contiguous_runs(indices)[0]
            merged.append(MergedAmount("pre_notified", first, last, envelope.amount))
    total = {
        key: _sum(row.amounts[key] for row in rows)
        + _sum(item.amount for item in merged if item.column == key)
        for key in keys
    }
    rows.append(
        TableRow(
            kind=RowKind.GRAND_TOTAL,
            block=None,
            theme_key=None,
            theme_label="",
            chorus="",
            number="",
            title=GRAND_TOTAL_LABEL,
            amounts=total,
        )
    )
    return tuple(rows), tuple(sorted(merged, key=lambda m: (m.first_row, keys.index(m.column))))


def _without(row: TableRow, key: str) -> TableRow:
    return replace(row, amounts={**row.amounts, key: None})


def _build_table(
    *,
    kind: TableKind,
    columns: tuple[Column, ...],
    heading: TableHeading,
    themes: Sequence[ThemeInput],
    lines: Sequence[BudgetLine],
    state_credit: Decimal | None,
    envelopes: Sequence[Envelope],
    carry_overs: Sequence[tuple[int, Sequence[BudgetLine], int, Sequence[BudgetLine]]],
    template: Template | None = None,
) -> FinancialTable:
    merged: tuple[MergedAmount, ...] = ()
    if template == Template.AMENDMENT_2020:
        rows, merged = _build_amendment_rows(columns, themes, lines, envelopes)
        titles = amendment_title_lines(heading)
    else:
        rows = _build_rows(kind, columns, themes, lines)
        titles = title_lines(kind, heading)
    findings = [
        *_line_findings(
            lines,
            execution=kind == TableKind.EXECUTION,
            # A budget global printed over a share of its thème's report is not A+B+C+D+E.
            shared_reports=frozenset(
                theme.key
                for theme in themes
                if theme.carried_over_state is not None or theme.carried_over_cd is not None
            )
            if template == Template.AMENDMENT_2020
            else frozenset(),
        ),
        *_state_total_findings(kind, heading.year, rows[-1], state_credit),
        *_parity_findings(lines, rows[-1]),
        *_envelope_findings(lines, envelopes),
    ]
    for previous_year, previous, current_year, current in carry_overs:
        findings += carry_over_findings(
            previous_year=previous_year,
            previous=previous,
            current_year=current_year,
            current=current,
        )
    return FinancialTable(
        kind=kind,
        year=heading.year,
        title_lines=titles,
        columns=columns,
        rows=rows,
        findings=tuple(findings),
        template=template,
        merged_amounts=merged,
    )


def build_execution_table(
    *,
    heading: TableHeading,
    themes: Sequence[ThemeInput],
    lines: Sequence[BudgetLine],
    state_credit: Decimal | None = None,
    envelopes: Sequence[Envelope] = (),
    previous_lines: Sequence[BudgetLine] | None = None,
    next_planned_lines: Sequence[BudgetLine] | None = None,
) -> FinancialTable:
    """Tableau financier récapitulatif — exécution of ``heading.year``.

    ``previous_lines`` are the executed budgets of N-1 (their "à reporter" must equal B and D of
    N); ``next_planned_lines`` the prévisionnel of N+1 (its B and D must equal the "à reporter"
    of N). Either may be ``None`` when that year is not in the application.
    """
    year = heading.year
    carry_overs = []
    if previous_lines is not None:
        carry_overs.append((year - 1, previous_lines, year, lines))
    if next_planned_lines is not None:
        carry_overs.append((year, lines, year + 1, next_planned_lines))
    return _build_table(
        kind=TableKind.EXECUTION,
        columns=execution_columns(year),
        heading=heading,
        themes=themes,
        lines=lines,
        state_credit=state_credit,
        envelopes=envelopes,
        carry_overs=carry_overs,
    )


def build_planned_table(
    *,
    heading: TableHeading,
    themes: Sequence[ThemeInput],
    lines: Sequence[BudgetLine],
    state_credit: Decimal | None = None,
    envelopes: Sequence[Envelope] = (),
    previous_lines: Sequence[BudgetLine] | None = None,
    template: Template = Template.PLANNED,
) -> FinancialTable:
    """Tableau financier récapitulatif prévisionnel of ``heading.year``, in ``template``: the
    annex of an annual convention (§5.2) or the national avenant annex of 2020 (§5.6).

    ``previous_lines`` are the executed budgets of N-1, whose "à reporter" amounts must equal
    B and D of this table.
    """
    year = heading.year
    amendment = template == Template.AMENDMENT_2020
    return _build_table(
        kind=TableKind.PLANNED,
        columns=amendment_columns(year) if amendment else planned_columns(year),
        template=template,
        heading=heading,
        themes=themes,
        lines=lines,
        state_credit=state_credit,
        envelopes=envelopes,
        carry_overs=[] if previous_lines is None else [(year - 1, previous_lines, year, lines)],
    )


# --- Findings ------------------------------------------------------------------------------


def _euros(value: Decimal | None) -> str:
    return format_euros(value if value is not None else ZERO)


def _gap(first: Decimal, second: Decimal) -> str:
    """The gap between two amounts, always positive: the message names both amounts."""
    return _euros(abs(first - second))


def _fiche(line: BudgetLine) -> str:
    return f"Fiche {line.number}"


def _line_findings(
    lines: Sequence[BudgetLine], *, execution: bool, shared_reports: frozenset[str] = frozenset()
) -> list[Finding]:
    findings: list[Finding] = []
    for line in _sorted_lines(lines):
        total = line.budget_global
        declared = line.declared_total
        if declared is not None and declared != total and line.theme_key not in shared_reports:
            findings.append(
                Finding(
                    rule=Rule.F_FORMULA,
                    severity=Severity.ERROR,
                    message=(
                        f"{_fiche(line)} — colonne F : le budget global déclaré "
                        f"({_euros(line.declared_total)}) diffère de A+B+C+D+E ({_euros(total)})."
                    ),
                    action_key=line.action_key,
                    action_number=line.number,
                    column="F",
                    expected=total,
                    actual=line.declared_total,
                )
            )
        if not execution:
            continue
        realised = line.realised if line.realised is not None else ZERO
        if realised > total:
            findings.append(
                Finding(
                    rule=Rule.REALISED_OVER_BUDGET,
                    severity=Severity.WARNING,
                    message=(
                        f"{_fiche(line)} — le montant réalisé ({_euros(realised)}) dépasse le "
                        f"budget global de l'action ({_euros(total)})."
                    ),
                    action_key=line.action_key,
                    action_number=line.number,
                    column="realised",
                    expected=total,
                    actual=realised,
                )
            )
        carry_overs = (line.carry_over_state, line.carry_over_cd, line.carry_over_unallocated)
        has_execution = line.realised is not None or any(v is not None for v in carry_overs)
        carried = _sum(carry_overs)
        remaining = total - realised
        if has_execution and carried != remaining:
            explanation = f" Commentaire : « {line.comment} »" if line.comment else ""
            findings.append(
                Finding(
                    rule=Rule.CARRY_OVER_BALANCE,
                    severity=Severity.WARNING,
                    message=(
                        f"{_fiche(line)} — les montants à reporter ({_euros(carried)}) "
                        f"diffèrent du budget global moins le réalisé "
                        f"({_euros(total)} − {_euros(realised)} = {_euros(remaining)}), "
                        f"écart {_gap(remaining, carried)}.{explanation}"
                    ),
                    action_key=line.action_key,
                    action_number=line.number,
                    column="carry_over",
                    expected=remaining,
                    actual=carried,
                )
            )
        if line.carry_over_state is not None and line.carry_over_state > line.state_available:
            findings.append(
                Finding(
                    rule=Rule.CARRY_OVER_STATE_EXCEEDS,
                    severity=Severity.ERROR,
                    message=(
                        f"{_fiche(line)} — le report part État ({_euros(line.carry_over_state)}) "
                        f"dépasse les crédits État de l'action (A+B = "
                        f"{_euros(line.state_available)})."
                    ),
                    action_key=line.action_key,
                    action_number=line.number,
                    column="carry_over_state",
                    expected=line.state_available,
                    actual=line.carry_over_state,
                )
            )
        if line.carry_over_cd is not None and line.carry_over_cd > line.cd_available:
            findings.append(
                Finding(
                    rule=Rule.CARRY_OVER_CD_EXCEEDS,
                    severity=Severity.ERROR,
                    message=(
                        f"{_fiche(line)} — le report part CD ({_euros(line.carry_over_cd)}) "
                        f"dépasse les crédits CD de l'action (C+D = {_euros(line.cd_available)})."
                    ),
                    action_key=line.action_key,
                    action_number=line.number,
                    column="carry_over_cd",
                    expected=line.cd_available,
                    actual=line.carry_over_cd,
                )
            )
    return findings


def _state_total_findings(
    kind: TableKind, year: int, grand_total: TableRow, state_credit: Decimal | None
) -> list[Finding]:
    if state_credit is None:
        return []
    total_a = grand_total.amounts["A"] or ZERO
    if total_a == state_credit:
        return []
    what = "le crédit État notifié" if kind == TableKind.PLANNED else "le crédit État de l'exercice"
    return [
        Finding(
            rule=Rule.STATE_TOTAL,
            severity=Severity.WARNING,
            message=(
                f"{GRAND_TOTAL_LABEL} — colonne A : {_euros(total_a)} alors que {what} {year} "
                f"est de {_euros(state_credit)} (écart {_gap(state_credit, total_a)})."
            ),
            column="A",
            expected=state_credit,
            actual=total_a,
        )
    ]


def _parity_findings(lines: Sequence[BudgetLine], grand_total: TableRow) -> list[Finding]:
    """Parity of new credits: CD (C, valorisation included) at least equal to the State's (A)."""
    findings = []
    for line in _sorted_lines(lines):
        state, cd = line.state_new or ZERO, line.cd_new or ZERO
        if cd < state:
            findings.append(
                Finding(
                    rule=Rule.PARITY_ACTION,
                    severity=Severity.WARNING,
                    message=(
                        f"{_fiche(line)} — parité : crédits CD de l'année ({_euros(cd)}) "
                        f"inférieurs aux crédits État ({_euros(state)})."
                    ),
                    action_key=line.action_key,
                    action_number=line.number,
                    column="C",
                    expected=state,
                    actual=cd,
                )
            )
    state, cd = grand_total.amounts["A"] or ZERO, grand_total.amounts["C"] or ZERO
    if cd < state:
        findings.append(
            Finding(
                rule=Rule.PARITY_TOTAL,
                severity=Severity.WARNING,
                message=(
                    f"{GRAND_TOTAL_LABEL} — parité : crédits CD de l'année ({_euros(cd)}) "
                    f"inférieurs aux crédits État ({_euros(state)})."
                ),
                column="C",
                expected=state,
                actual=cd,
            )
        )
    return findings


def _envelope_findings(lines: Sequence[BudgetLine], envelopes: Sequence[Envelope]) -> list[Finding]:
    findings = []
    for envelope in sorted(envelopes, key=lambda e: (sorted(e.theme_keys), e.label)):
        used = _sum(line.state_new for line in lines if line.theme_key in envelope.theme_keys)
        if used > envelope.amount:
            findings.append(
                Finding(
                    rule=Rule.ENVELOPE_EXCEEDED,
                    severity=Severity.WARNING,
                    message=(
                        f"{envelope.label} — crédits État de l'année ({_euros(used)}) supérieurs "
                        f"à l'enveloppe notifiée ({_euros(envelope.amount)}), "
                        f"dépassement {_euros(used - envelope.amount)}."
                    ),
                    column="A",
                    expected=envelope.amount,
                    actual=used,
                )
            )
    return findings


def carry_over_findings(
    *,
    previous_year: int,
    previous: Sequence[BudgetLine],
    current_year: int,
    current: Sequence[BudgetLine],
) -> list[Finding]:
    """This year's B and D, action by action and in total, against last year's "à reporter".

    Actions are matched by their stable identity, never by number: numbers change every year.
    """
    findings: list[Finding] = []
    current_by_key = {line.action_key: line for line in current}
    previous_by_key = {line.action_key: line for line in previous}
    pairs = [
        ("carry_over_state", "state_carried_over", "B", "part État"),
        ("carry_over_cd", "cd_carried_over", "D", "part CD"),
    ]
    for key in sorted(set(current_by_key) | set(previous_by_key)):
        before, now = previous_by_key.get(key), current_by_key.get(key)
        for previous_field, current_field, letter, part in pairs:
            expected = getattr(before, previous_field) if before else None
            actual = getattr(now, current_field) if now else None
            if (expected or ZERO) == (actual or ZERO):
                continue
            if now is None:
                where = f"Fiche {before.number} ({previous_year})"
                detail = (
                    f"n'a pas de budget en {current_year} pour recevoir son report ({part}, "
                    f"{_euros(expected)})"
                )
            else:
                where = f"Fiche {now.number}"
                if before is not None and before.number != now.number:
                    where += f" (fiche {before.number} en {previous_year})"
                detail = (
                    f"colonne {letter} {current_year} : {_euros(actual)} alors que le montant à "
                    f"reporter en {current_year} ({part}) était de {_euros(expected)} en "
                    f"{previous_year}, écart {_gap(actual or ZERO, expected or ZERO)}"
                )
            findings.append(
                Finding(
                    rule=Rule.CARRY_OVER_MISMATCH,
                    severity=Severity.WARNING,
                    message=f"{where} — {detail}.",
                    action_key=key,
                    action_number=now.number if now else before.number,
                    column=letter,
                    expected=expected or ZERO,
                    actual=actual or ZERO,
                    subject=f"{previous_year}-{current_year}",
                )
            )
    for previous_field, current_field, letter, part in pairs:
        expected = _sum(getattr(line, previous_field) for line in previous)
        actual = _sum(getattr(line, current_field) for line in current)
        if expected != actual:
            findings.append(
                Finding(
                    rule=Rule.CARRY_OVER_TOTAL_MISMATCH,
                    severity=Severity.WARNING,
                    message=(
                        f"{GRAND_TOTAL_LABEL} — colonne {letter} {current_year} : {_euros(actual)} "
                        f"alors que le total à reporter en {current_year} ({part}) était de "
                        f"{_euros(expected)} en {previous_year}, "
                        f"écart {_gap(actual, expected)}."
                    ),
                    column=letter,
                    expected=expected,
                    actual=actual,
                    subject=f"{previous_year}-{current_year}",
                )
            )
    return findings


@dataclass(frozen=True)
class PrintedAmount:
    """An amount printed on a sub-total or total row of a document (an imported workbook)."""

    kind: RowKind  # THEME_SUBTOTAL, BLOCK_SUBTOTAL or GRAND_TOTAL
    key: str | None  # the thème key, the block, or None for the grand total
    column: str
    amount: Decimal
    where: str = ""  # "feuille 1, ligne 12"


def printed_total_findings(
    table: FinancialTable, printed: Iterable[PrintedAmount]
) -> list[Finding]:
    """Sub-totals and totals as printed against the same totals recomputed from the rows."""
    computed: dict[tuple[RowKind, str | None], TableRow] = {}
    for row in table.rows:
        if row.kind == RowKind.THEME_SUBTOTAL:
            computed[(row.kind, row.theme_key)] = row
        elif row.kind == RowKind.BLOCK_SUBTOTAL:
            computed[(row.kind, row.block.value if row.block else None)] = row
        elif row.kind == RowKind.GRAND_TOTAL:
            computed[(row.kind, None)] = row
    headers = {column.key: column.letter or column.header for column in table.columns}
    findings = []
    for item in printed:
        row = computed.get((item.kind, item.key))
        if row is None:
            raise ValueError(f"Ligne de total inconnue : {item.kind} {item.key}.")
        expected = row.amounts[item.column]
        if expected != item.amount:
            where = f" ({item.where})" if item.where else ""
            label = (
                row.title if row.kind != RowKind.THEME_SUBTOTAL else f"Sous total {row.theme_label}"
            )
            findings.append(
                Finding(
                    rule=Rule.PRINTED_MISMATCH,
                    severity=Severity.ERROR,
                    message=(
                        f"{label}{where} — colonne {headers[item.column]} : montant imprimé "
                        f"{_euros(item.amount)}, somme des lignes {_euros(expected)}, "
                        f"écart {_gap(item.amount, expected)}."
                    ),
                    column=item.column,
                    expected=expected,
                    actual=item.amount,
                )
            )
    return findings
