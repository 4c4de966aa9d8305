"""Reading the official financial tables out of an opened workbook (no database).

``parse_workbook(book)`` finds, sheet by sheet, the layout of each table by its header
(``layouts.find_header``), reads the financial table row by row and the indicator matrix
(``matrix.parse_matrix``), checks the printed totals (``checks.check_table``) and returns a
:class:`~actions.workbook.model.ParsedWorkbook`.

How the rows of a financial table are understood:

- blank rows are skipped; a row repeating the header (page 2 of a printed table) is skipped;
- a row whose label reads "Sous total", "Sous-total engagements … socle / … initiative …" or
  "TOTAUX FINANCIERS" is a printed total, checked against the action rows it covers;
- "Engagements du socle" / "Engagements à l'initiative du département" in a block column or
  on a row of their own set the block of the following rows;
- the thème cell, merged over the thème's rows or written on its first row only, gives the
  thème of the rows below it until the thème's "Sous total";
- "Aucune action programmée", the template's "intitulé de l'action n°1" and rows holding only
  the thème (or a fiche number) are placeholder rows of their thème, not actions;
- any other row with a title, a fiche number or an amount is an action;
- an amount cell merged over several rows is one amount for the group of rows (stored on the
  thème, never spread over its actions); in the avenant template the "Crédits Etat
  pré-notifiés" are always a thème's envelope, merged or not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal

from actions.workbook.amounts import AmountReading, read_amount
from actions.workbook.checks import check_table
from actions.workbook.files import Book
from actions.workbook.grid import CellRange, Sheet, cell_ref, column_letter, is_empty_value
from actions.workbook.layouts import (
    HeaderMatch,
    Layout,
    find_header,
    header_texts_found,
    header_year,
    title_department,
    title_year,
)
from actions.workbook.matrix import parse_matrix
from actions.workbook.model import (
    Block,
    ParsedAction,
    ParsedAmount,
    ParsedTheme,
    ParsedWorkbook,
    PlaceholderKind,
    PlaceholderRow,
    PrintedTotal,
    SharedAmount,
    TotalKind,
)
from actions.workbook.problems import Problem, ProblemCode, Severity
from actions.workbook.text import Chorus, clean, normalize, parse_chorus
from reports.formatting import format_euros

TEXT_KEYS = ("block", "theme", "chorus", "number", "title", "comment")

_GRAND_TOTAL = re.compile(
    r"^(?:tota(?:l|ux)|montant total|total general|totaux generaux)(?: financiers?)?$"
    r"|^tota(?:l|ux) (?:financiers?|generaux?|general|des engagements)\b"
)
_BLOCK_TOTAL = re.compile(r"^(?:sous ?)?tota(?:l|ux)\b.*\b(?P<block>socle|initiative)\b")
_THEME_TOTAL = re.compile(r"^sous ?tota(?:l|ux)\b")
_BLOCK_LABEL = re.compile(
    r"^(?:engagements?|mesures?)(?: des| du| de)? (?:(?P<socle>socle)|(?:a l )?(?P<initiative>"
    r"initiative))\b"
)
_INITIATIVE_THEME = re.compile(r"\ba l initiative du departement\b|\binitiatives? locales?\b")
_NO_ACTION = re.compile(r"^(?:aucune action|pas d action|neant$|sans action)")
# The template's filler rows, and the application's own "Montants non saisis" (reports.tables).
_TEMPLATE_TITLE = re.compile(
    r"^intitule de l action(?: n ?\d+)?$|^action n ?\d+$|^montants? non saisis?$"
)
_FICHE_PREFIX = re.compile(
    r"^\s*fiche(?:[- ]action)?\s*(?:n\s*°|n°|no\.?|n\.)?\s*(?P<number>\d+(?:\.\d+)*)\s*[:\-–—.]\s*"
    r"(?P<title>.+)$",
    re.IGNORECASE | re.S,
)


def fiche_number_text(value: object) -> str:
    """The "Fiche action N°" cell as text: ``5.1`` (a number cell) → "5.1", "2.1." → "2.1"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return format(Decimal(str(value)).normalize(), "f")
    return clean(str(value)).rstrip(".").strip()


def split_fiche_title(title: str) -> tuple[str, str]:
    """``"Fiche 12 : Structurer…"`` → ``("12", "Structurer…")``; otherwise ``("", title)``."""
    match = _FICHE_PREFIX.match(title)
    if match:
        return match.group("number"), clean(match.group("title"))
    return "", title


def block_of_label(text: str) -> Block | None:
    match = _BLOCK_LABEL.match(normalize(text))
    if not match:
        return None
    return Block.SOCLE if match.group("socle") else Block.INITIATIVE


@dataclass
class _Theme:
    label: str
    key: str
    block: Block | None
    cell: str
    first_row: int
    last_row: int
    merged: CellRange | None
    column: int
    chorus: Chorus | None = None
    chorus_codes_reported: set = field(default_factory=set)
    placeholders: list[PlaceholderRow] = field(default_factory=list)
    action_rows: list[int] = field(default_factory=list)
    amounts: dict[str, SharedAmount] = field(default_factory=dict)
    own_amounts: dict[str, list[tuple[int, ParsedAmount]]] = field(default_factory=dict)


@dataclass
class _Action:
    row: int
    number: str
    title: str
    theme: _Theme | None
    block: Block | None
    chorus_code: str | None
    amounts: dict[str, ParsedAmount]
    comment: str


class FinancialParser:
    def __init__(self, sheet: Sheet, header: HeaderMatch):
        self.sheet = sheet
        self.header = header
        self.layout = header.layout
        self.columns = {key: header.column(key) for key in TEXT_KEYS}
        self.amount_columns = [(match.key, match.column) for match in header.amount_columns]
        self.amount_set = {column for _key, column in self.amount_columns}
        self.problems: list[Problem] = []
        self.themes: dict[str, _Theme] = {}
        self.theme_order: list[_Theme] = []
        self.actions: list[_Action] = []
        self.totals: list[PrintedTotal] = []
        self.shared_candidates: list[tuple[str, CellRange, ParsedAmount]] = []
        self.current: _Theme | None = None
        self.closed = True
        self.block: Block | None = None
        self.row_themes: dict[int, _Theme] = {}

    # --- problems ---

    def problem(self, severity, code, message, *, row=None, column=None, **amounts) -> None:
        self.problems.append(
            Problem(
                severity=severity,
                code=code,
                message=message,
                sheet=self.sheet.name,
                row=row,
                column=column_letter(column) if column else None,
                cell=cell_ref(row, column) if row and column else None,
                **amounts,
            )
        )

    # --- rows ---

    def parse(self) -> None:
        for row in self.sheet.row_numbers(self.header.last_row + 1):
            self.parse_row(row)
        self.resolve_shared()
        if self.layout == Layout.AMENDMENT_2020:
            self.envelopes_per_theme()
        self.fill_blocks()
        self.check_numbers()

    def own_texts(self, row: int) -> list[tuple[int, str]]:
        """Texts written in this row's own cells outside the amount columns."""
        return [
            (column, text)
            for column in self.sheet.row_cells(row)
            if column not in self.amount_set and (text := self.sheet.own_text(row, column))
        ]

    def label_texts(self, texts: list[tuple[int, str]]) -> list[tuple[int, str]]:
        """The texts of the label columns, left of the amounts (not the comment)."""
        first_amount = min(self.amount_set, default=0)
        return [(column, text) for column, text in texts if column < first_amount]

    def is_repeated_header(self, row: int) -> bool:
        own = {
            column: normalize(text)
            for column, value in self.sheet.row_cells(row).items()
            if (text := self.sheet.own_text(row, column))
        }
        if len(own) < 2:
            return False
        hits = 0
        for match in self.header.columns:
            text = own.get(match.column)
            if not text:
                continue
            header = normalize(match.header)
            if text == header or header.startswith(text + " ") or header.endswith(" " + text):
                hits += 1
        return hits >= 2 and hits * 2 >= len(own)

    def total_kind(
        self, texts: list[tuple[int, str]]
    ) -> tuple[TotalKind | None, str, Block | None]:
        """Whether the row is a sub-total or total row, by its label."""
        for _column, text in texts:
            plain = normalize(text)
            block_total = _BLOCK_TOTAL.match(plain)
            if block_total:
                block = Block.SOCLE if block_total.group("block") == "socle" else Block.INITIATIVE
                return TotalKind.BLOCK, text, block
            if _THEME_TOTAL.match(plain):
                return TotalKind.THEME, text, None
            if _GRAND_TOTAL.match(plain):
                return TotalKind.GRAND, text, None
        return None, "", None

    def read_cell(self, row: int, key: str, column: int) -> ParsedAmount:
        """Read one amount cell, reporting what is wrong with it."""
        ref = cell_ref(row, column)
        if (row, column) in self.sheet.formulas_without_value:
            self.problem(
                Severity.ERROR,
                ProblemCode.FORMULA_WITHOUT_VALUE,
                f"La formule de la colonne « {self.header.label(key)} » n'a pas de valeur "
                "calculée : ouvrez le fichier dans votre tableur, enregistrez-le, puis "
                "recommencez.",
                row=row,
                column=column,
            )
            return ParsedAmount(value=None, raw="", cell=ref)
        reading = read_amount(self.sheet.raw(row, column))
        self.report_reading(reading, row, key, column)
        value = reading.value
        if value is not None and value < 0:
            value = None
        return ParsedAmount(
            value=value,
            raw=reading.raw,
            cell=ref,
            is_report=reading.is_report,
            note=reading.note,
        )

    def report_reading(self, reading: AmountReading, row: int, key: str, column: int) -> None:
        label = self.header.label(key)
        if reading.error:
            self.problem(
                Severity.ERROR,
                ProblemCode.AMOUNT_UNREADABLE,
                f"Colonne « {label} » : {reading.error}.",
                row=row,
                column=column,
            )
        elif reading.value is not None and reading.value < 0:
            self.problem(
                Severity.ERROR,
                ProblemCode.AMOUNT_NEGATIVE,
                f"Colonne « {label} » : le montant {format_euros(reading.value)} est négatif.",
                row=row,
                column=column,
            )
        elif reading.not_quantified:
            self.problem(
                Severity.INFO,
                ProblemCode.AMOUNT_NOT_QUANTIFIED,
                f"Colonne « {label} » : « {reading.raw} » ({reading.note}) est lu comme une "
                "case vide.",
                row=row,
                column=column,
            )
        elif reading.computed or reading.rounded:
            self.problem(
                Severity.WARNING,
                ProblemCode.AMOUNT_COMPUTED if reading.computed else ProblemCode.AMOUNT_ROUNDED,
                f"Colonne « {label} » : « {reading.raw} » est lu "
                f"{format_euros(reading.value)} ({reading.note}).",
                row=row,
                column=column,
            )
        elif reading.note:
            self.problem(
                Severity.INFO,
                ProblemCode.AMOUNT_NOTE,
                f"Colonne « {label} » : « {reading.raw} » est lu "
                f"{format_euros(reading.value)} ; la mention « {reading.note} » est conservée.",
                row=row,
                column=column,
            )

    def row_amounts(self, row: int) -> tuple[dict[str, ParsedAmount], bool]:
        """The row's amounts by key, and whether it holds an amount of its own."""
        amounts: dict[str, ParsedAmount] = {}
        own = False
        for key, column in self.amount_columns:
            merged = self.sheet.merge_at(row, column)
            ref = cell_ref(row, column)
            if merged is not None and merged.height > 1:
                # One amount for the rows of the range: resolved once all rows are read.
                shared = ""
                if not is_empty_value(self.sheet.raw(merged.min_row, merged.min_col)):
                    shared = merged.ref
                if (merged.min_row, merged.min_col) == (row, column) and shared:
                    self.shared_candidates.append((key, merged, self.read_cell(row, key, column)))
                amounts[key] = ParsedAmount(value=None, raw="", cell=ref, shared=shared)
                continue
            if merged is not None and (merged.min_row, merged.min_col) != (row, column):
                amounts[key] = ParsedAmount(value=None, raw="", cell=ref)
                continue
            amount = self.read_cell(row, key, column)
            amounts[key] = amount
            own = own or not amount.is_empty
        return amounts, own

    def parse_row(self, row: int) -> None:
        sheet = self.sheet
        if self.is_repeated_header(row):
            self.problem(
                Severity.INFO,
                ProblemCode.REPEATED_HEADER,
                "En-tête répété (saut de page) : ligne ignorée.",
                row=row,
            )
            return
        texts = self.own_texts(row)
        kind, label, total_block = self.total_kind(self.label_texts(texts))
        if kind is not None:
            self.read_total(row, kind, label, total_block)
            return

        theme_column = self.columns["theme"]
        block_column = self.columns["block"]
        amounts_present = any(
            self.sheet.raw(row, column) is not None for _key, column in self.amount_columns
        )
        # A block heading on a row of its own: "Engagements du socle".
        if not amounts_present and texts:
            blocks = {
                block_of_label(text)
                for column, text in texts
                if column != theme_column or self.spans_columns(row, column)
            }
            blocks.discard(None)
            others = [
                text
                for column, text in texts
                if column != block_column and block_of_label(text) is None
            ]
            if len(blocks) == 1 and not others:
                self.block = blocks.pop()
                return

        block = self.block
        if block_column:
            block = block_of_label(sheet.text(row, block_column)) or block
        theme = self.theme_for(row, block)
        if theme is not None:
            self.row_themes[row] = theme
            if theme.block is None and block is not None:
                theme.block = block
            block = theme.block or block
            theme.last_row = max(theme.last_row, row)
        chorus_code = self.read_chorus(row, theme)

        number_column, title_column = self.columns["number"], self.columns["title"]
        number = (
            fiche_number_text(sheet.raw(row, number_column))
            if number_column and not sheet.is_hidden_by_merge(row, number_column)
            else ""
        )
        title = sheet.own_text(row, title_column) if title_column else ""
        comment = sheet.own_text(row, self.columns["comment"]) if self.columns["comment"] else ""
        amounts, own_amounts = self.row_amounts(row)

        plain_title = normalize(title)
        placeholder = None
        if _NO_ACTION.match(plain_title):
            placeholder = PlaceholderKind.NO_ACTION
        elif _TEMPLATE_TITLE.match(plain_title):
            placeholder = PlaceholderKind.TEMPLATE
        elif not title and not own_amounts and not comment:
            placeholder = PlaceholderKind.EMPTY
        if placeholder is not None:
            self.read_placeholder(row, placeholder, title, number, theme, amounts, texts)
            return

        if theme is None:
            self.problem(
                Severity.ERROR,
                ProblemCode.ACTION_WITHOUT_THEME,
                "Action sans thème : indiquez son thème dans la colonne « Thème de la "
                "contractualisation ».",
                row=row,
                column=theme_column,
            )
        if not title:
            self.problem(
                Severity.ERROR,
                ProblemCode.ACTION_WITHOUT_TITLE,
                "Action sans intitulé"
                + (f" (fiche {number})" if number else "")
                + " : indiquez-le dans la colonne « Intitulé de l'action ».",
                row=row,
                column=title_column,
            )
        if theme is not None:
            theme.action_rows.append(row)
            for key, amount in amounts.items():
                if not amount.is_empty:
                    theme.own_amounts.setdefault(key, []).append((row, amount))
        self.actions.append(
            _Action(
                row=row,
                number=number,
                title=title,
                theme=theme,
                block=block,
                chorus_code=chorus_code,
                amounts=amounts,
                comment=comment,
            )
        )

    def spans_columns(self, row: int, column: int) -> bool:
        merged = self.sheet.merge_at(row, column)
        return merged is not None and merged.width > 1

    def theme_for(self, row: int, block: Block | None) -> _Theme | None:
        column = self.columns["theme"]
        if column is None:
            return None if self.closed else self.current
        label = self.sheet.text(row, column)
        if not label:
            return None if self.closed else self.current
        merged = self.sheet.merge_at(row, column)
        current = self.current
        if (
            current is not None
            and not self.closed
            and normalize(current.label) == normalize(label)
            and (merged is None or current.merged is None or merged == current.merged)
        ):
            return current
        if _INITIATIVE_THEME.search(normalize(label)):
            block = Block.INITIATIVE
        key = f"{normalize(label)}|{block or ''}"
        theme = self.themes.get(key)
        if theme is None:
            top = (merged.min_row, merged.min_col) if merged else (row, column)
            theme = _Theme(
                label=label,
                key=key,
                block=block,
                cell=cell_ref(*top),
                first_row=row,
                last_row=row,
                merged=merged,
                column=column,
            )
            self.themes[key] = theme
            self.theme_order.append(theme)
        else:
            theme.merged = merged or theme.merged
        self.current, self.closed = theme, False
        return theme

    def read_chorus(self, row: int, theme: _Theme | None) -> str | None:
        column = self.columns["chorus"]
        if column is None:
            return theme.chorus.code if theme and theme.chorus else None
        text = self.sheet.text(row, column)
        if not text:
            return theme.chorus.code if theme and theme.chorus else None
        chorus = parse_chorus(text)
        if theme is not None:
            if theme.chorus is None:
                theme.chorus = chorus
            elif chorus.code not in (None, theme.chorus.code, *theme.chorus_codes_reported):
                theme.chorus_codes_reported.add(chorus.code)
                if theme.chorus.code:
                    self.problem(
                        Severity.WARNING,
                        ProblemCode.CHORUS_CONFLICT,
                        f"Le thème « {theme.label} » porte deux imputations Chorus : "
                        f"{theme.chorus.code} et {chorus.code} ; la première est retenue pour "
                        "le thème.",
                        row=row,
                        column=column,
                    )
        return chorus.code or (theme.chorus.code if theme and theme.chorus else None)

    def read_placeholder(self, row, kind, title, number, theme, amounts, texts) -> None:
        if theme is None:
            if texts:
                shown = " ; ".join(f"« {text} »" for _column, text in texts[:3])
                self.problem(
                    Severity.WARNING,
                    ProblemCode.ROW_NOT_UNDERSTOOD,
                    f"Ligne non reconnue, ignorée : {shown}.",
                    row=row,
                )
            return
        theme.placeholders.append(PlaceholderRow(row=row, kind=kind, text=title, number=number))
        for key, amount in amounts.items():
            envelope = self.layout == Layout.AMENDMENT_2020 and key == "pre_notified"
            if amount.value and not envelope:
                self.problem(
                    Severity.WARNING,
                    ProblemCode.AMOUNT_ON_PLACEHOLDER,
                    f"Un montant ({format_euros(amount.value)}) figure sur une ligne sans "
                    f"action (« {title or theme.label} ») : il n'est pas importé.",
                    row=row,
                    column=self.header.column(key),
                )
            if not amount.is_empty:
                theme.own_amounts.setdefault(key, []).append((row, amount))

    def read_total(self, row: int, kind: TotalKind, label: str, block: Block | None) -> None:
        amounts = {}
        for key, column in self.amount_columns:
            if self.sheet.is_hidden_by_merge(row, column):
                amounts[key] = ParsedAmount(value=None, raw="", cell=cell_ref(row, column))
                continue
            reading = read_amount(self.sheet.raw(row, column))
            if reading.error:
                self.problem(
                    Severity.WARNING,
                    ProblemCode.AMOUNT_UNREADABLE,
                    f"Colonne « {self.header.label(key)} » : {reading.error} ; ce total n'est "
                    "pas vérifié.",
                    row=row,
                    column=column,
                )
            amounts[key] = ParsedAmount(
                value=reading.value,
                raw=reading.raw,
                cell=cell_ref(row, column),
                is_report=reading.is_report,
                note=reading.note,
            )
        theme_label = None
        if kind == TotalKind.THEME and self.current is not None and not self.closed:
            theme_label = self.current.label
            self.current.last_row = row
        if kind == TotalKind.BLOCK:
            self.block = Block.INITIATIVE if block == Block.SOCLE else None
        self.closed = True
        self.totals.append(
            PrintedTotal(
                kind=kind,
                label=label,
                row=row,
                amounts=amounts,
                block=block,
                theme_label=theme_label,
            )
        )

    # --- after the rows ---

    def themes_of_rows(self, first: int, last: int) -> list[_Theme]:
        found: list[_Theme] = []
        for row in range(first, last + 1):
            theme = self.row_themes.get(row)
            if theme is not None and theme not in found:
                found.append(theme)
        return found

    def resolve_shared(self) -> None:
        """Amounts merged over several rows: one amount for the group, kept on the thème;
        over a single action row (merged with blank rows) simply that action's amount."""
        self.shared: list[SharedAmount] = []
        by_row = {action.row: action for action in self.actions}
        for key, merged, amount in self.shared_candidates:
            action_rows = tuple(
                row for row in range(merged.min_row, merged.max_row + 1) if row in by_row
            )
            themes = self.themes_of_rows(merged.min_row, merged.max_row)
            placeholders = [
                p.row
                for theme in themes
                for p in theme.placeholders
                if merged.min_row <= p.row <= merged.max_row
            ]
            if (
                len(action_rows) == 1
                and not placeholders
                and not (self.layout == Layout.AMENDMENT_2020 and key == "pre_notified")
            ):
                by_row[action_rows[0]].amounts[key] = amount
                continue
            shared = SharedAmount(
                key=key,
                amount=replace(amount, shared=merged.ref),
                cell_range=merged.ref,
                first_row=merged.min_row,
                last_row=merged.max_row,
                theme_labels=tuple(theme.label for theme in themes),
                action_rows=action_rows,
            )
            self.shared.append(shared)
            if len(themes) == 1:
                theme = themes[0]
                if key in theme.amounts:
                    self.problem(
                        Severity.WARNING,
                        ProblemCode.SHARED_AMOUNT,
                        f"Le thème « {theme.label} » a deux montants fusionnés dans la colonne "
                        f"« {self.header.label(key)} » ; seul le premier est retenu pour le "
                        "thème.",
                        row=merged.min_row,
                        column=merged.min_col,
                    )
                else:
                    theme.amounts[key] = shared
            elif len(themes) > 1:
                names = ", ".join(f"« {theme.label} »" for theme in themes)
                self.problem(
                    Severity.INFO,
                    ProblemCode.SHARED_AMOUNT,
                    f"Le montant {format_euros(amount.value)} de la colonne "
                    f"« {self.header.label(key)} » est commun aux thèmes {names} (cellule "
                    f"fusionnée {merged.ref}).",
                    row=merged.min_row,
                    column=merged.min_col,
                )

    def envelopes_per_theme(self) -> None:
        """In the avenant template "Crédits Etat pré-notifiés" is an envelope per thème even
        when its cell is not merged: the values written on the thème's rows are the
        thème's."""
        key = "pre_notified"
        column = self.header.column(key)
        if column is None:
            return
        for theme in self.theme_order:
            found = [
                (row, amount) for row, amount in theme.own_amounts.get(key, []) if amount.value
            ]
            envelope = theme.amounts.get(key)
            if envelope is not None and found:
                self.problem(
                    Severity.WARNING,
                    ProblemCode.SHARED_AMOUNT,
                    f"Le thème « {theme.label} » a déjà une enveloppe de crédits Etat "
                    f"pré-notifiés ({envelope.cell_range}) : ce montant est ignoré.",
                    row=found[0][0],
                    column=column,
                )
            elif found:
                envelope = self.envelope(theme, found, column)
                theme.amounts[key] = envelope
                self.shared.append(envelope)
            # What was written on the thème's rows is its envelope, not the actions'.
            for action in self.actions:
                amount = action.amounts.get(key)
                if action.theme is theme and amount is not None and not amount.shared:
                    action.amounts[key] = ParsedAmount(
                        value=None,
                        raw="",
                        cell=amount.cell,
                        shared=envelope.cell_range if envelope else "",
                    )
        self.shared.sort(key=lambda shared: (shared.first_row, shared.key))

    def envelope(self, theme: _Theme, found, column: int) -> SharedAmount:
        values = [amount.value for _row, amount in found]
        first_row, first = found[0]
        value = values[0]
        if len(set(values)) == 1 and len(found) > 1:
            self.problem(
                Severity.INFO,
                ProblemCode.SHARED_AMOUNT_REPEATED,
                f"Les crédits Etat pré-notifiés du thème « {theme.label} » "
                f"({format_euros(value)}) sont répétés sur {len(found)} lignes : ils sont "
                "comptés une fois.",
                row=first_row,
                column=column,
            )
        elif len(set(values)) > 1:
            value = sum(values, Decimal("0.00"))
            self.problem(
                Severity.WARNING,
                ProblemCode.SHARED_AMOUNT,
                f"Le thème « {theme.label} » a plusieurs montants de crédits Etat pré-notifiés "
                f": leur somme, {format_euros(value)}, est retenue comme enveloppe du thème.",
                row=first_row,
                column=column,
            )
        ref = theme_range(theme, column)
        return SharedAmount(
            key="pre_notified",
            amount=replace(first, value=value, shared=ref),
            cell_range=ref,
            first_row=theme.first_row,
            last_row=theme.last_row,
            theme_labels=(theme.label,),
            action_rows=tuple(theme.action_rows),
        )

    def fill_blocks(self) -> None:
        """Rows whose block nothing said: before the socle sub-total, socle; after, initiative."""
        socle_end = next(
            (t.row for t in self.totals if t.kind == TotalKind.BLOCK and t.block == Block.SOCLE),
            None,
        )
        if socle_end is None:
            return
        for theme in self.theme_order:
            if theme.block is None:
                theme.block = Block.SOCLE if theme.first_row < socle_end else Block.INITIATIVE
        for action in self.actions:
            if action.block is None:
                if action.theme is not None:
                    action.block = action.theme.block
                else:
                    action.block = Block.SOCLE if action.row < socle_end else Block.INITIATIVE

    def check_numbers(self) -> None:
        seen: dict[str, int] = {}
        column = self.columns["number"]
        for action in self.actions:
            if not action.number:
                continue
            if action.number in seen:
                self.problem(
                    Severity.WARNING,
                    ProblemCode.NUMBER_DUPLICATED,
                    f"Le numéro de fiche {action.number} figure déjà ligne {seen[action.number]}.",
                    row=action.row,
                    column=column,
                )
            else:
                seen[action.number] = action.row

    # --- result ---

    def frozen_themes(self) -> tuple[ParsedTheme, ...]:
        themes = []
        for theme in self.theme_order:
            if theme.merged is not None:
                cell_range = theme.merged.ref
            else:
                cell_range = CellRange(theme.first_row, theme.column, theme.last_row, theme.column)
                cell_range = cell_range.ref
            themes.append(
                ParsedTheme(
                    label=theme.label,
                    block=theme.block,
                    chorus=theme.chorus,
                    cell=theme.cell,
                    cell_range=cell_range,
                    first_row=theme.first_row,
                    last_row=theme.last_row,
                    amounts=dict(theme.amounts),
                    placeholders=tuple(theme.placeholders),
                    action_rows=tuple(theme.action_rows),
                )
            )
        return tuple(themes)

    def frozen_actions(self) -> tuple[ParsedAction, ...]:
        actions = []
        for action in self.actions:
            fiche_number, short_title = split_fiche_title(action.title)
            actions.append(
                ParsedAction(
                    row=action.row,
                    number=action.number,
                    title=action.title,
                    fiche_number=fiche_number,
                    short_title=short_title,
                    theme_label=action.theme.label if action.theme else None,
                    block=action.block,
                    chorus_code=action.chorus_code,
                    amounts=dict(action.amounts),
                    comment=action.comment,
                )
            )
        return tuple(actions)


def theme_range(theme: _Theme, column: int) -> str:
    return CellRange(theme.first_row, column, theme.last_row, column).ref


def _header_problems(sheet: Sheet, header: HeaderMatch) -> list[Problem]:
    problems = []
    spec = header.spec

    def place(column: int) -> dict:
        return {
            "sheet": sheet.name,
            "row": header.first_row,
            "column": column_letter(column),
            "cell": cell_ref(header.first_row, column),
        }

    for key in header.missing:
        column_spec = spec.spec(key)
        label = column_spec.label if column_spec else key
        is_amount = bool(column_spec and column_spec.amount)
        problems.append(
            Problem(
                severity=Severity.WARNING if is_amount else Severity.INFO,
                code=ProblemCode.COLUMN_MISSING,
                message=f"La colonne « {label} » est absente de l'en-tête"
                + (
                    " : ses montants ne sont pas lus (à l'import, ceux déjà enregistrés sont "
                    "conservés)."
                    if is_amount
                    else "."
                ),
                sheet=sheet.name,
                row=header.first_row,
            )
        )
    for column, text in header.ignored:
        if not text:
            continue
        problems.append(
            Problem(
                severity=Severity.INFO,
                code=ProblemCode.COLUMN_IGNORED,
                message=f"Colonne « {text} » non reconnue : elle est ignorée.",
                **place(column),
            )
        )
    for match in header.duplicates:
        problems.append(
            Problem(
                severity=Severity.WARNING,
                code=ProblemCode.COLUMN_DUPLICATED,
                message=f"La colonne « {match.header} » répète une colonne déjà lue (colonne "
                f"{header.match(match.key).letter}) : elle est ignorée.",
                **place(match.column),
            )
        )
    for match in header.letter_mismatches:
        problems.append(
            Problem(
                severity=Severity.WARNING,
                code=ProblemCode.HEADER_LETTER,
                message=f"L'en-tête « {match.header} » porte la lettre {match.printed_letter} "
                f"mais son texte désigne la colonne « {spec.spec(match.key).label} » : le "
                "texte est suivi.",
                **place(match.column),
            )
        )
    return problems


def _missing_problem(sheet: Sheet, header: HeaderMatch) -> Problem:
    spec = header.spec
    missing = ", ".join(f"« {spec.spec(key).label} »" for key in header.missing_required)
    found = ", ".join(f"« {match.header} »" for match in header.columns)
    return Problem(
        severity=Severity.ERROR,
        code=ProblemCode.COLUMN_MISSING,
        message=f"Le {header.layout.label} est reconnu mais il lui manque : {missing}. "
        f"Colonnes reconnues : {found}.",
        sheet=sheet.name,
        row=header.first_row,
    )


def _unknown_problem(sheet: Sheet) -> Problem:
    found = header_texts_found(sheet)
    if found:
        listed = ", ".join(f"« {text} »" for text in found)
        detail = f"En-têtes trouvés : {listed}."
    else:
        detail = "La feuille ne contient aucun texte."
    return Problem(
        severity=Severity.ERROR,
        code=ProblemCode.LAYOUT_UNKNOWN,
        message="Aucun tableau reconnu (tableau financier récapitulatif d'exécution ou "
        "prévisionnel, tableau d'avenant modèle 2020, tableau des indicateurs). " + detail,
        sheet=sheet.name,
    )


def _title_lines(sheet: Sheet, header: HeaderMatch) -> tuple[str, ...]:
    lines: list[str] = []
    for row in sheet.row_numbers():
        if row >= header.first_row:
            break
        for column in sorted(sheet.row_cells(row)):
            text = sheet.own_text(row, column)
            if text and text not in lines:
                lines.append(text)
    return tuple(lines)


def parse_workbook(book: Book) -> ParsedWorkbook:
    """Read the financial table and the indicator matrix of ``book`` (see module docstring)."""
    problems: list[Problem] = []
    financial: tuple[Sheet, HeaderMatch] | None = None
    matrix_found: tuple[Sheet, HeaderMatch] | None = None
    unknown: list[Sheet] = []
    for sheet in book.sheets:
        header = find_header(sheet)
        if header is None:
            unknown.append(sheet)
        elif header.layout.is_financial and financial is None:
            financial = (sheet, header)
        elif header.layout == Layout.INDICATOR_MATRIX and matrix_found is None:
            matrix_found = (sheet, header)
        else:
            problems.append(
                Problem(
                    severity=Severity.INFO,
                    code=ProblemCode.SHEET_IGNORED,
                    message=f"La feuille contient un autre {header.layout.label} : seul le "
                    "premier du classeur est lu.",
                    sheet=sheet.name,
                )
            )
    if financial is None and matrix_found is None:
        problems.extend(_unknown_problem(sheet) for sheet in book.sheets)
    else:
        for sheet in unknown:
            if sheet.cells:
                problems.append(
                    Problem(
                        severity=Severity.INFO,
                        code=ProblemCode.SHEET_IGNORED,
                        message="Aucun tableau reconnu dans cette feuille : elle est ignorée.",
                        sheet=sheet.name,
                    )
                )

    result: dict = {}
    if financial is not None:
        sheet, header = financial
        lines = _title_lines(sheet, header)
        department, code = title_department(list(lines))
        result.update(
            layout=header.layout,
            sheet=sheet.name,
            header=header,
            title_lines=lines,
            year_in_title=title_year(list(lines)),
            year_in_headers=header_year(header),
            department_in_title=department,
            department_code_in_title=code,
        )
        if not header.is_complete:
            problems.append(_missing_problem(sheet, header))
        else:
            problems.extend(_header_problems(sheet, header))
            parser = FinancialParser(sheet, header)
            parser.parse()
            actions = parser.frozen_actions()
            totals, check_problems = check_table(
                sheet=sheet.name,
                header=header,
                actions=actions,
                shared=parser.shared,
                totals=parser.totals,
            )
            problems.extend(parser.problems)
            problems.extend(check_problems)
            result.update(
                themes=parser.frozen_themes(),
                actions=actions,
                shared_amounts=tuple(parser.shared),
                printed_totals=tuple(totals),
            )
    if matrix_found is not None:
        sheet, header = matrix_found
        if not header.is_complete:
            problems.append(_missing_problem(sheet, header))
        else:
            problems.extend(_header_problems(sheet, header))
            matrix, matrix_problems = parse_matrix(sheet, header)
            result["matrix"] = matrix
            problems.extend(matrix_problems)
    return ParsedWorkbook(
        filename=book.filename,
        file_format=book.file_format,
        sheet_names=tuple(sheet.name for sheet in book.sheets),
        problems=tuple(_sorted(problems, [sheet.name for sheet in book.sheets])),
        **result,
    )


_ORDER = {Severity.ERROR: 0, Severity.MISMATCH: 1, Severity.WARNING: 2, Severity.INFO: 3}


def _sorted(problems: list[Problem], sheets: list[str]) -> list[Problem]:
    """In the order of the file and of each sheet (a reader goes down the table), the problems
    of a whole sheet first."""
    order = {name: index for index, name in enumerate(sheets)}
    return sorted(
        problems,
        key=lambda p: (
            order.get(p.sheet or "", -1),
            p.row or 0,
            len(p.column or ""),
            p.column or "",
            _ORDER[p.severity],
        ),
    )
