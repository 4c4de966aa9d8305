"""Which official table a sheet holds, recognised by its header texts, not by positions.

The header is looked for in the first rows of the sheet (title rows may stand above it), on one
row or spread over two (a "Montant à reporter en 2023" cell merged over two columns above
"Part Etat" and "Part CD"; letters "A" … "F" on their own row). Texts are compared normalised
(accents, case, spaces, line breaks do not count) and by meaning, so that the years they print
may vary ("Crédits Etats versés en 2022", "Participation État 2020") and the letter in front of
a funder column ("A Crédits…", "A - Crédits…") is optional.

Layouts (CALPAE.md §5):

- ``execution`` — tableau financier récapitulatif, exécution (§5.1);
- ``planned`` — tableau financier récapitulatif prévisionnel (§5.2);
- ``amendment_2020`` — annexe financière des avenants, modèle national 2020 (§5.6);
- ``indicator_matrix`` — tableau (matrice) des indicateurs (§5.3).

The amount column keys are those of ``reports.tables``: ``A`` … ``F``, ``valorisation``,
``realised``, ``carry_over_state``, ``carry_over_cd``; for the avenant ``budget_global``,
``pre_notified``, ``state``, ``cd``, ``valorisation``, ``carried_over``, ``other``
(:data:`AMENDMENT_TABLE_KEYS` gives their names in ``reports.tables.amendment_columns``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from itertools import islice

from actions.workbook.grid import Sheet, column_letter
from actions.workbook.text import clean, normalize

# Rows searched for the header, and the widest sheet considered.
HEADER_SEARCH_ROWS = 40
MAX_COLUMNS = 200


class Layout(StrEnum):
    EXECUTION = "execution"
    PLANNED = "planned"
    AMENDMENT_2020 = "amendment_2020"
    INDICATOR_MATRIX = "indicator_matrix"

    @property
    def label(self) -> str:
        return LAYOUT_LABELS[self]

    @property
    def is_financial(self) -> bool:
        return self != Layout.INDICATOR_MATRIX


LAYOUT_LABELS = {
    Layout.EXECUTION: "tableau financier récapitulatif d'exécution",
    Layout.PLANNED: "tableau financier récapitulatif prévisionnel",
    Layout.AMENDMENT_2020: "tableau financier récapitulatif d'avenant (modèle 2020)",
    Layout.INDICATOR_MATRIX: "tableau des indicateurs",
}

# The avenant's keys under their names in reports.tables.amendment_columns.
AMENDMENT_TABLE_KEYS = {
    "budget_global": "F",
    "pre_notified": "pre_notified",
    "state": "A",
    "cd": "C",
    "valorisation": "valorisation",
    "carried_over": "report",
    "other": "E",
}


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    label: str  # how messages name the column
    pattern: re.Pattern
    exclude: re.Pattern | None = None
    amount: bool = False
    letter: str | None = None  # the funder letter printed in front of the header

    def matches(self, text: str) -> bool:
        return bool(self.pattern.search(text)) and not (
            self.exclude is not None and self.exclude.search(text)
        )


def _spec(key, label, pattern, exclude=None, *, amount=False, letter=None) -> ColumnSpec:
    return ColumnSpec(
        key=key,
        label=label,
        pattern=re.compile(pattern),
        exclude=re.compile(exclude) if exclude else None,
        amount=amount,
        letter=letter,
    )


@dataclass(frozen=True)
class LayoutSpec:
    layout: Layout
    columns: tuple[ColumnSpec, ...]
    required: frozenset[str]
    signature: frozenset[str]  # one of them at least identifies the layout

    @property
    def amount_keys(self) -> tuple[str, ...]:
        return tuple(spec.key for spec in self.columns if spec.amount)

    def spec(self, key: str) -> ColumnSpec | None:
        return next((spec for spec in self.columns if spec.key == key), None)


_CD = r"(?:cd|departement|conseil departemental|du departement|du cd)"
THEME = _spec("theme", "Thème de la contractualisation", r"\btheme")
CHORUS = _spec("chorus", "Imputation chorus", r"\bchorus\b|\bimputation\b")
NUMBER = _spec(
    "number",
    "Fiche action N°",
    r"\bfiche\b|^(?:n|no|numero)(?: de)?(?: la| l)? (?:fiche|action)\b",
    r"\bintitule\b",
)
TITLE = _spec("title", "Intitulé de l'action", r"\bintitule\b|^libelle\b|^actions?$")
COMMENT = _spec("comment", "Commentaire", r"\bcommentaires?\b|\bobservations?\b")
C = _spec("C", "C Crédits CD affectés", rf"\bcredits? {_CD}\b.*\baffecte", amount=True, letter="C")
B = _spec(
    "B",
    "B Crédits Etat reportés",
    r"\bcredits? etats?\b.*\breport",
    r"\ba reporter\b|\bpart etat\b",
    amount=True,
    letter="B",
)
E = _spec(
    "E",
    "E Participation d'autres financeurs",
    r"\bautres? (?:financeurs?|financements?|cofinanceurs?)\b",
    amount=True,
    letter="E",
)
F = _spec(
    "F",
    "F Budget global de l'action",
    r"\bbudget (?:global|total)\b",
    amount=True,
    letter="F",
)
VALORISATION = _spec("valorisation", "Dont valorisation", r"\bvalorisation\b", amount=True)

EXECUTION = LayoutSpec(
    layout=Layout.EXECUTION,
    columns=(
        THEME,
        CHORUS,
        NUMBER,
        TITLE,
        _spec(
            "A",
            "A Crédits Etats versés",
            r"\bcredits? etats?\b.*\bverse",
            amount=True,
            letter="A",
        ),
        B,
        C,
        _spec(
            "D",
            "D Crédits CD reprogrammés",
            rf"\bcredits? {_CD}\b.*\b(?:reprogramme|report)",
            r"\ba reporter\b",
            amount=True,
            letter="D",
        ),
        E,
        F,
        _spec("realised", "Montant total réalisé", r"\brealise", r"\ba reporter\b", amount=True),
        VALORISATION,
        _spec(
            "carry_over_state",
            "Montant à reporter - Part Etat",
            r"\ba reporter\b.*\betat\b|\breport\w* .*\bpart (?:de l )?etat\b",
            amount=True,
        ),
        _spec(
            "carry_over_cd",
            "Montant à reporter - Part CD",
            rf"\ba reporter\b.*\b{_CD}\b|\breport\w* .*\bpart {_CD}\b",
            amount=True,
        ),
        COMMENT,
    ),
    required=frozenset({"theme", "title", "A", "C", "F"}),
    signature=frozenset({"A", "realised", "carry_over_state", "carry_over_cd"}),
)

PLANNED = LayoutSpec(
    layout=Layout.PLANNED,
    columns=(
        THEME,
        CHORUS,
        NUMBER,
        TITLE,
        _spec(
            "A",
            "A Participation État notifiée",
            r"\bparticipation (?:de l )?etat\b.*\bnotifie|\bnouveaux credits etat\b"
            r"|\bcredits? etats? notifies?\b",
            amount=True,
            letter="A",
        ),
        B,
        C,
        VALORISATION,
        _spec(
            "D",
            "D Crédits CD reportés",
            rf"\bcredits? {_CD}\b.*\breport",
            r"\ba reporter\b",
            amount=True,
            letter="D",
        ),
        E,
        F,
        COMMENT,
    ),
    required=frozenset({"theme", "title", "A", "C", "F"}),
    signature=frozenset({"A"}),
)

AMENDMENT = LayoutSpec(
    layout=Layout.AMENDMENT_2020,
    columns=(
        THEME,
        CHORUS,
        NUMBER,
        TITLE,
        _spec("budget_global", "Budget global de l'action", r"\bbudget global\b", amount=True),
        _spec("pre_notified", "Crédits Etat pré-notifiés", r"\bpre ?notifie", amount=True),
        _spec(
            "state",
            "Participation État",
            r"\bparticipation (?:de l |de |des )?etat\b",
            r"\bnotifie|\bnouveaux\b",
            amount=True,
        ),
        _spec("cd", "Participation CD", rf"\bparticipation (?:du |des )?{_CD}\b", amount=True),
        VALORISATION,
        _spec(
            "carried_over",
            "Report N-1",
            r"^reports?\b|\breports? (?:n 1|\d{4})\b",
            r"\ba reporter\b|\breportes?\b",
            amount=True,
        ),
        _spec(
            "other",
            "Participation d'autres financeurs",
            r"\bautres? (?:financeurs?|financements?|cofinanceurs?)\b",
            amount=True,
        ),
        COMMENT,
    ),
    required=frozenset({"theme", "title", "budget_global", "state", "cd"}),
    signature=frozenset({"pre_notified", "state", "cd"}),
)

PERIOD = _spec(
    "period",
    "Période",
    r"\bsituation au\b|\bresultats? (?:atteint|attendu|obtenu)|\bobjectifs?\b|\bcibles?\b"
    r"|\bvaleur\b|^(?:annee )?(?:19|20)\d\d\b|\btrimestre\b|\bsemestre\b",
)
MATRIX = LayoutSpec(
    layout=Layout.INDICATOR_MATRIX,
    columns=(
        _spec("indicator", "Indicateurs", r"^indicateurs?\b|\bintitule de l indicateur\b"),
        _spec("definition", "Commentaires et éléments de définition", r"\bdefinition\b"),
        _spec("measure", "Mesures", r"^(?:mesures?|actions?|themes?|fiches? actions?)\b"),
        PERIOD,
        _spec("comment", "Commentaires", r"^commentaires?\b"),
    ),
    required=frozenset({"indicator", "period"}),
    signature=frozenset({"indicator"}),
)

LAYOUT_SPECS = (EXECUTION, PLANNED, AMENDMENT, MATRIX)
SPECS_BY_LAYOUT = {spec.layout: spec for spec in LAYOUT_SPECS}


@dataclass(frozen=True)
class ColumnMatch:
    """A recognised column: its key, its number (1-based) and its header as printed."""

    key: str
    column: int
    header: str
    printed_letter: str | None = None  # "A" when the header reads "A Crédits…"

    @property
    def letter(self) -> str:
        """The sheet's column letter ("H")."""
        return column_letter(self.column)


@dataclass(frozen=True)
class HeaderMatch:
    """Where the header of a recognised table is and what each column holds.

    ``first_row``/``last_row``: the header's rows (equal for a one-row header); the table's
    rows follow. ``columns`` in sheet order; a matrix has one ``period`` column per period.
    ``missing_required`` is not empty when the table was recognised but lacks a column it
    cannot do without; ``missing`` lists the other expected columns that are absent.
    """

    layout: Layout
    first_row: int
    last_row: int
    columns: tuple[ColumnMatch, ...]
    recognised_by_text: int = 0  # columns recognised by their text (not by a letter alone)
    missing_required: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    ignored: tuple[tuple[int, str], ...] = ()
    letter_mismatches: tuple[ColumnMatch, ...] = ()
    duplicates: tuple[ColumnMatch, ...] = ()

    def column(self, key: str) -> int | None:
        match = next((match for match in self.columns if match.key == key), None)
        return match.column if match else None

    def match(self, key: str) -> ColumnMatch | None:
        return next((match for match in self.columns if match.key == key), None)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(match.key for match in self.columns)

    @property
    def spec(self) -> LayoutSpec:
        return SPECS_BY_LAYOUT[self.layout]

    @property
    def amount_columns(self) -> tuple[ColumnMatch, ...]:
        amount_keys = set(self.spec.amount_keys)
        return tuple(match for match in self.columns if match.key in amount_keys)

    @property
    def is_complete(self) -> bool:
        return not self.missing_required

    def label(self, key: str) -> str:
        """The column as printed, for messages: "A Crédits Etats versés en 2022"."""
        match = self.match(key)
        if match and match.header:
            return match.header
        spec = self.spec.spec(key)
        return spec.label if spec else key


_LETTER_PREFIX = re.compile(r"^\(?([A-F])\)?(?:\s*[-–—:.)]\s*|\s+)(?=[A-ZÀ-Ý0-9(])(.*)$", re.S)
_LETTER_ONLY = re.compile(r"^\(?([A-F])\)?\.?$")


def split_letter(text: str) -> tuple[str | None, str]:
    """``"A Crédits Etats versés en 2022"`` → ``("A", "Crédits Etats versés en 2022")``;
    ``"A"`` → ``("A", "")``; ``"Montant à reporter"`` → ``(None, "Montant à reporter")``."""
    text = clean(text)
    only = _LETTER_ONLY.match(text)
    if only:
        return only.group(1), ""
    prefix = _LETTER_PREFIX.match(text)
    if prefix:
        return prefix.group(1), prefix.group(2)
    return None, text


def _header_texts(sheet: Sheet, first: int, height: int) -> dict[int, list[str]]:
    """The texts of the header cells of rows ``first`` … ``first + height - 1``, per column, a
    text merged over two rows counted once."""
    texts: dict[int, list[str]] = {}
    for column in range(1, min(sheet.max_col, MAX_COLUMNS) + 1):
        parts: list[str] = []
        for row in range(first, first + height):
            text = sheet.text(row, column)
            if text and (not parts or parts[-1] != text):
                parts.append(text)
        if parts:
            texts[column] = parts
    return texts


@dataclass(frozen=True)
class _HeaderCell:
    column: int
    header: str  # as printed, both rows joined
    letter: str | None
    text: str  # normalised, letter removed


def _prepare(texts: dict[int, list[str]]) -> list[_HeaderCell]:
    cells = []
    for column, parts in sorted(texts.items()):
        letter = None
        words = []
        for part in parts:
            part_letter, rest = split_letter(part)
            letter = letter or part_letter
            if rest:
                words.append(rest)
        cells.append(
            _HeaderCell(column, clean(" ".join(parts)), letter, normalize(" ".join(words)))
        )
    return cells


def _match_layout(spec: LayoutSpec, cells: list[_HeaderCell]):
    matched: dict[str, ColumnMatch] = {}
    periods: list[ColumnMatch] = []
    ignored: list[tuple[int, str]] = []
    duplicates: list[ColumnMatch] = []
    letters: dict[int, str] = {}
    headers = {cell.column: cell.header for cell in cells}
    for cell in cells:
        column, header, letter, text = cell.column, cell.header, cell.letter, cell.text
        if letter:
            letters[column] = letter
        if not text:
            if not letter:
                ignored.append((column, header))
            continue
        for column_spec in spec.columns:
            if not column_spec.matches(text):
                continue
            found = ColumnMatch(column_spec.key, column, header, letter)
            if column_spec.key == "period":
                periods.append(found)
            elif column_spec.key in matched:
                duplicates.append(found)
            else:
                matched[column_spec.key] = found
            break
        else:
            ignored.append((column, header))
    by_text = set(matched) | ({"period"} if periods else set())
    # A funder column known only by its letter ("A" above a header read elsewhere).
    used = {match.column for match in (*matched.values(), *periods)}
    for column, letter in letters.items():
        column_spec = next((s for s in spec.columns if s.letter == letter), None)
        if column_spec and column_spec.key not in matched and column not in used:
            header = headers[column]
            matched[column_spec.key] = ColumnMatch(column_spec.key, column, header, letter)
            used.add(column)
            ignored = [(c, h) for c, h in ignored if c != column]
    return matched, periods, ignored, duplicates, by_text


def _neighbour_columns(spec: LayoutSpec, matched: dict[str, ColumnMatch], ignored):
    """Unlabelled columns that the layout knows by position: the block column left of the
    thème (avenant template), the measure column left of the indicators (its header is blank
    in the 2022 report, or holds the préfecture's stamp)."""
    anchor, key = ("theme", "block") if spec.layout.is_financial else ("indicator", "measure")
    if anchor not in matched or key in matched:
        return
    left = matched[anchor].column - 1
    if left < 1 or any(match.column == left for match in matched.values()):
        return
    header = next((h for c, h in ignored if c == left), "")
    if spec.layout.is_financial and header:
        return
    matched[key] = ColumnMatch(key, left, header)
    ignored[:] = [(c, h) for c, h in ignored if c != left]


def _candidate(
    spec: LayoutSpec, cells: list[_HeaderCell], first: int, height: int
) -> HeaderMatch | None:
    matched, periods, ignored, duplicates, by_text = _match_layout(spec, cells)
    # The layout is told by the texts, never by letters alone ("A" is in every template).
    if not spec.signature & by_text:
        return None
    if len(matched) + len(periods) < 3:
        return None
    _neighbour_columns(spec, matched, ignored)
    present = set(matched) | ({"period"} if periods else set())
    missing_required = tuple(key for key in sorted(spec.required) if key not in present)
    missing = tuple(
        column_spec.key
        for column_spec in spec.columns
        if column_spec.key not in present and column_spec.key not in spec.required
    )
    columns = tuple(sorted((*matched.values(), *periods), key=lambda match: match.column))
    mismatched = tuple(
        match
        for match in columns
        if match.printed_letter
        and (spec.spec(match.key) is None or spec.spec(match.key).letter != match.printed_letter)
    )
    return HeaderMatch(
        layout=spec.layout,
        recognised_by_text=len(by_text),
        first_row=first,
        last_row=first + height - 1,
        columns=columns,
        missing_required=missing_required,
        missing=tuple(key for key in missing if key != "comment" or spec.layout.is_financial),
        ignored=tuple(ignored),
        letter_mismatches=mismatched,
        duplicates=tuple(duplicates),
    )


def find_header(sheet: Sheet, layouts: tuple[Layout, ...] | None = None) -> HeaderMatch | None:
    """The best header found in the first rows of ``sheet`` (see :class:`HeaderMatch`), or
    ``None`` if no layout is recognised. A complete match wins over an incomplete one, then the
    one that recognises more columns by their text, then a one-row header, then the highest."""
    best: tuple | None = None
    rows = list(islice(sheet.row_numbers(), HEADER_SEARCH_ROWS))
    specs = [spec for spec in LAYOUT_SPECS if layouts is None or spec.layout in layouts]
    for first in rows:
        for height in (1, 2):
            texts = _header_texts(sheet, first, height)
            if len(texts) < 3:
                continue
            cells = _prepare(texts)
            for spec in specs:
                candidate = _candidate(spec, cells, first, height)
                if candidate is None:
                    continue
                score = (
                    candidate.is_complete,
                    candidate.recognised_by_text,
                    len(candidate.columns),
                    -height,
                    -first,
                )
                if best is None or score > best[0]:
                    best = (score, candidate)
    return best[1] if best else None


def header_texts_found(sheet: Sheet, *, limit: int = 15) -> list[str]:
    """The texts of the row that looks most like a header (the one with the most text cells
    among the first rows), to tell the user what was found instead of a known table."""
    best: list[str] = []
    for row in islice(sheet.row_numbers(), HEADER_SEARCH_ROWS):
        texts = [
            clean(value)
            for value in sheet.row_cells(row).values()
            if isinstance(value, str) and clean(value)
        ]
        if len(texts) > len(best):
            best = texts
    return [text if len(text) <= 60 else text[:57] + "…" for text in best[:limit]]


# --- Title rows --------------------------------------------------------------------------------

_TITLE_YEARS = (
    re.compile(
        r"\b(?:execution(?: budgetaire)?|previsionnel(?:le)?|annee|exercice)\b\D{0,20}?"
        r"\b((?:19|20)\d\d)\b"
    ),
    re.compile(
        r"\b(?:avenant|contractualisation|convention|rapport)\b\D{0,40}?\b((?:19|20)\d\d)\b"
    ),
)
_ANY_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")
_DEPARTMENT = re.compile(r"\bD[ée]partement\s+(?P<rest>.+?)(?:\s+[-–—]\s+|$)", re.IGNORECASE)
_DEPARTMENT_CODE = re.compile(r"\((?P<code>\d{2,3}|2[AB])\)")
_ARTICLE = re.compile(r"^(?:de la |de l['’]\s*|du |des |de |d['’]\s*)", re.IGNORECASE)


def title_year(lines: list[str]) -> int | None:
    """The year a title announces: "Exécution budgétaire 2022", "Prévisionnel Année 2023",
    "Avenant … – Année 2020"."""
    for pattern in _TITLE_YEARS:
        for line in lines:
            match = pattern.search(normalize(line))
            if match:
                return int(match.group(1))
    for line in lines:
        years = _ANY_YEAR.findall(normalize(line))
        if len(years) == 1:
            return int(years[0])
    return None


def title_department(lines: list[str]) -> tuple[str | None, str | None]:
    """(name, code) of the département a title names: "Département de Seine-et-Marne (77)" →
    ("Seine-et-Marne", "77"); "Département de l'Allier" → ("Allier", None)."""
    for line in lines:
        for match in _DEPARTMENT.finditer(line):
            rest = match.group("rest").strip()
            code_match = _DEPARTMENT_CODE.search(rest)
            code = code_match.group("code") if code_match else None
            name = clean(_DEPARTMENT_CODE.sub(" ", rest))
            name = _ARTICLE.sub("", name).strip(" -–—:,.")
            if name and not normalize(name).startswith(("a l initiative", "initiative")):
                return name, code
    return None, None


def header_year(match: HeaderMatch) -> int | None:
    """The year the headers print: "A Crédits Etats versés en 2022", "Participation État
    2020", "F Budget global de l'action prévu en 2023"."""
    for key in ("A", "state", "C", "cd", "F", "budget_global"):
        column = match.match(key)
        if column:
            years = _ANY_YEAR.findall(column.header)
            if years:
                return int(years[-1]) if key == "A" else int(years[0])
    return None
