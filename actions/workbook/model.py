"""What a parsed workbook holds: frozen dataclasses, for the writer to import (no database).

Rows are the sheet's row numbers (1-based), cells references like "H12". Amounts are
``Decimal`` to the cent; ``None`` means an empty cell, distinct from a written 0,00 €.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from actions.workbook.layouts import HeaderMatch, Layout
from actions.workbook.problems import Problem, Severity
from actions.workbook.text import Chorus


class Block(StrEnum):
    """Bloc d'engagements: the same values as ``conventions.choices.Block``."""

    SOCLE = "socle"
    INITIATIVE = "initiative"


class TotalKind(StrEnum):
    THEME = "theme"  # "Sous total" of a thème
    BLOCK = "block"  # "Sous-total engagements de mesures socle", "… à l'initiative du département"
    GRAND = "grand"  # "TOTAUX FINANCIERS"


class PlaceholderKind(StrEnum):
    NO_ACTION = "no_action"  # "Aucune action programmée"
    TEMPLATE = "template"  # the template's "intitulé de l'action n°1"
    EMPTY = "empty"  # a row with the thème (or a fiche number) and nothing else


@dataclass(frozen=True)
class ParsedAmount:
    """One amount cell.

    - ``value``: the amount to the cent, ``None`` for an empty cell or text that is not an
      amount (a problem says which);
    - ``raw``: the cell as written ("" when empty) — "31 850,00 € (report)";
    - ``cell``: its reference, "H12";
    - ``is_report``: the text said "(report)";
    - ``note``: the rest of the text ("Avance") or how it was read ("non chiffré",
      "arrondi au centime", "somme calculée");
    - ``shared``: on an action, the merged range ("H12:H14") whose single amount belongs to the
      thème (see :attr:`ParsedTheme.amounts`): the action's own ``value`` is then ``None``.
    """

    value: Decimal | None
    raw: str
    cell: str
    is_report: bool = False
    note: str = ""
    shared: str = ""

    @property
    def is_empty(self) -> bool:
        return self.raw == ""


@dataclass(frozen=True)
class SharedAmount:
    """An amount known only for a group of rows: printed once, in a cell merged over the rows
    of a thème (a "Crédits Etat pré-notifiés" envelope, a "Report 2019"), or in the avenant's
    "Crédits Etat pré-notifiés" column, which is always per thème.

    ``theme_labels`` are the thèmes whose rows it covers (one, except an envelope printed over
    a whole Chorus line); ``action_rows`` the action rows it covers.
    """

    key: str
    amount: ParsedAmount
    cell_range: str
    first_row: int
    last_row: int
    theme_labels: tuple[str, ...]
    action_rows: tuple[int, ...]


@dataclass(frozen=True)
class PlaceholderRow:
    """A row of a thème that is not an action: "Aucune action programmée", the template's
    "intitulé de l'action n°1", or the thème alone."""

    row: int
    kind: PlaceholderKind
    text: str
    number: str = ""


@dataclass(frozen=True)
class ParsedTheme:
    """A thème as printed, before it is matched to the catalogue (``text.match_theme``).

    - ``label``: the thème cell as printed;
    - ``block``: what the sheet says of its block, ``None`` if nothing does;
    - ``chorus``: the Chorus cell taken apart (code "0304 50 19 19 07", description, note);
    - ``cell``: the thème cell ("A12"); ``cell_range``: its merged range or the span of its
      rows ("A12:A15"); ``first_row``/``last_row``: its rows, sub-total included;
    - ``amounts``: amounts known for the thème only, by column key (:class:`SharedAmount`);
    - ``placeholders``: its rows that are not actions; ``action_rows``: its actions' rows.
    """

    label: str
    block: Block | None
    chorus: Chorus | None
    cell: str
    cell_range: str
    first_row: int
    last_row: int
    amounts: Mapping[str, SharedAmount] = field(default_factory=dict)
    placeholders: tuple[PlaceholderRow, ...] = ()
    action_rows: tuple[int, ...] = ()

    @property
    def chorus_code(self) -> str | None:
        return self.chorus.code if self.chorus else None

    @property
    def chorus_text(self) -> str:
        return self.chorus.text if self.chorus else ""

    @property
    def has_no_action(self) -> bool:
        """No action row: "Aucune action programmée", or placeholders only."""
        return not self.action_rows


@dataclass(frozen=True)
class ParsedAction:
    """One action row (fiche-action de l'exercice).

    - ``number``: the "Fiche action N°" cell ("5.1"; "2.1." read "2.1"), "" if empty;
    - ``title``: the "Intitulé de l'action" cell as printed ("Fiche 12 : Structurer …");
      ``fiche_number`` ("12") and ``short_title`` ("Structurer …") when it starts with
      "Fiche N :", otherwise "" and the title;
    - ``theme_label``: the label of its :class:`ParsedTheme` (``None`` if the row has none);
    - ``amounts``: every amount column of the sheet, by key, empty cells included (a cell
      merged over several rows: ``value`` ``None`` and ``shared`` set, see
      :class:`ParsedAmount`);
    - ``comment``: the "Commentaire" cell.
    """

    row: int
    number: str
    title: str
    fiche_number: str
    short_title: str
    theme_label: str | None
    block: Block | None
    chorus_code: str | None
    amounts: Mapping[str, ParsedAmount]
    comment: str = ""

    def value(self, key: str) -> Decimal | None:
        amount = self.amounts.get(key)
        return amount.value if amount else None


@dataclass(frozen=True)
class PrintedTotal:
    """A sub-total or total row: not an action, checked against the action rows.

    ``amounts`` as printed; ``computed`` the sums of the rows it covers (for the columns that
    could be summed), so that the writer can show both.
    """

    kind: TotalKind
    label: str
    row: int
    amounts: Mapping[str, ParsedAmount]
    computed: Mapping[str, Decimal] = field(default_factory=dict)
    block: Block | None = None
    theme_label: str | None = None


@dataclass(frozen=True)
class MatrixPeriod:
    """A period column of the indicator matrix, header as printed ("Résultat atteint en 2021
    (1/01/21 au 31/12/21)"), in the order of the sheet."""

    header: str
    column: str  # the sheet's column letter
    year: int | None = None  # the last year the header names, if any
    is_target: bool = False  # "Résultat attendu … (objectif fixé)"


@dataclass(frozen=True)
class MatrixValue:
    """One value cell: the text as written, and the number and status it carries
    (``indicators.parsing.parse_indicator_value``: "number", "projection", "text",
    "not_contracted"…)."""

    period: str
    cell: str
    raw: str
    number: Decimal | None
    status: str
    # A number cell: ``raw`` is only the number formatted the French way, not a printed text.
    is_number_cell: bool = False


class MatrixRowKind(StrEnum):
    GROUP = "group"  # "1. Enfants et jeunes"
    MEASURE = "measure"  # "1.1 Maraudes mixtes…", a heading row (the measure column's text)
    INDICATOR = "indicator"


@dataclass(frozen=True)
class MatrixRow:
    """A row of the matrix: a group heading or an indicator.

    ``measure`` is the measure cell (merged over its indicators) and ``group`` the current
    group heading; ``is_sub`` marks a "dont …" sub-indicator (by its "dont" prefix or its
    indentation), ``parent`` the indicator it details.
    """

    row: int
    kind: MatrixRowKind
    label: str
    group: str = ""
    measure: str = ""
    definition: str = ""
    is_sub: bool = False
    parent: str = ""
    values: tuple[MatrixValue, ...] = ()
    comment: str = ""


@dataclass(frozen=True)
class ParsedMatrix:
    sheet: str
    header: HeaderMatch
    periods: tuple[MatrixPeriod, ...]
    rows: tuple[MatrixRow, ...]

    @property
    def indicators(self) -> tuple[MatrixRow, ...]:
        return tuple(row for row in self.rows if row.kind == MatrixRowKind.INDICATOR)


@dataclass(frozen=True)
class ParsedWorkbook:
    """Everything read from one file.

    The financial table (first sheet holding one): ``layout``, ``sheet``, ``header`` (where
    each column is), the title's year and département, ``themes`` (in order), ``actions`` (in
    order), ``shared_amounts`` (all amounts known per group of rows, also listed on their thème
    when they cover one), ``printed_totals``. The indicator matrix (first sheet holding one):
    ``matrix``. ``problems``: every problem, placed (sheet, row, column letter), in French.

    ``layout`` is ``None`` when no financial table was recognised (then an ``ERROR`` problem
    says what was found, unless the file holds a matrix).
    """

    filename: str
    file_format: str
    sheet_names: tuple[str, ...]
    layout: Layout | None = None
    sheet: str | None = None
    header: HeaderMatch | None = None
    title_lines: tuple[str, ...] = ()
    year_in_title: int | None = None
    year_in_headers: int | None = None
    department_in_title: str | None = None
    department_code_in_title: str | None = None
    themes: tuple[ParsedTheme, ...] = ()
    actions: tuple[ParsedAction, ...] = ()
    shared_amounts: tuple[SharedAmount, ...] = ()
    printed_totals: tuple[PrintedTotal, ...] = ()
    matrix: ParsedMatrix | None = None
    problems: tuple[Problem, ...] = ()

    @property
    def amount_keys(self) -> tuple[str, ...]:
        """The amount columns present in the sheet, in sheet order."""
        return tuple(m.key for m in self.header.amount_columns) if self.header else ()

    def theme(self, label: str) -> ParsedTheme | None:
        return next((theme for theme in self.themes if theme.label == label), None)

    def problems_of(self, *severities: Severity) -> tuple[Problem, ...]:
        return tuple(problem for problem in self.problems if problem.severity in severities)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return self.problems_of(Severity.ERROR)

    @property
    def mismatches(self) -> tuple[Problem, ...]:
        return self.problems_of(Severity.MISMATCH)

    def can_import(self, *, accept_printed_mismatch: bool = False) -> bool:
        """No error, and no printed figure disagreeing with the rows unless accepted."""
        if self.errors:
            return False
        return accept_printed_mismatch or not self.mismatches
