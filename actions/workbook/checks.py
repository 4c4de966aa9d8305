"""Printed figures checked against the action rows read (CALPAE.md §9.1, checks 1 and 2).

- every "Sous total", block sub-total and "TOTAUX FINANCIERS" = the sum of the action rows it
  covers (and of the amounts known per thème inside it), column by column;
- on every row F = A+B+C+D+E (execution and prévisionnel), budget global = participation État
  + participation CD + report N-1 + autres financeurs (avenant; "dont valorisation" is inside
  the CD share); where a report or an amount is known only for a group of rows, on the group;
- "dont valorisation" not above the CD credits; in the avenant, the État participation of a
  thème within its pre-notified envelope.

A disagreement is a ``MISMATCH`` problem carrying both amounts; an empty printed cell is not
checked (it claims nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from actions.workbook.layouts import HeaderMatch, Layout
from actions.workbook.model import (
    ParsedAction,
    ParsedAmount,
    PrintedTotal,
    SharedAmount,
    TotalKind,
)
from actions.workbook.problems import Problem, ProblemCode, Severity
from reports.formatting import format_euros

ZERO = Decimal("0.00")

ROW_SUMS = {
    Layout.EXECUTION: ("F", ("A", "B", "C", "D", "E")),
    Layout.PLANNED: ("F", ("A", "B", "C", "D", "E")),
    Layout.AMENDMENT_2020: ("budget_global", ("state", "cd", "carried_over", "other")),
}
CD_SHARE = {Layout.EXECUTION: "C", Layout.PLANNED: "C", Layout.AMENDMENT_2020: "cd"}
BLOCK_NAMES = {"socle": "engagements du socle", "initiative": "engagements à l'initiative"}


def _sum(values: Iterable[Decimal | None]) -> Decimal:
    return sum((value for value in values if value is not None), ZERO)


def _letter(cell: str) -> str:
    return "".join(c for c in cell if c.isalpha())


def _row(cell: str) -> int | None:
    digits = "".join(c for c in cell if c.isdigit())
    return int(digits) if digits else None


class Checker:
    def __init__(
        self,
        *,
        sheet: str,
        header: HeaderMatch,
        actions: Sequence[ParsedAction],
        shared: Sequence[SharedAmount],
    ):
        self.sheet = sheet
        self.header = header
        self.layout = header.layout
        self.actions = actions
        self.shared = shared
        self.problems: list[Problem] = []

    def _problem(self, severity, code, message, *, cell=None, row=None, column=None, **amounts):
        self.problems.append(
            Problem(
                severity=severity,
                code=code,
                message=message,
                sheet=self.sheet,
                row=row if row is not None else (_row(cell) if cell else None),
                column=column or (_letter(cell) if cell else None),
                cell=cell,
                **amounts,
            )
        )

    def _label(self, key: str) -> str:
        return self.header.label(key)

    # --- totals ---

    def totals(self, totals: Sequence[PrintedTotal]) -> list[PrintedTotal]:
        """Check each printed total; return them with the computed sums filled in."""
        checked = []
        previous_any = previous_block = self.header.last_row
        for total in sorted(totals, key=lambda total: total.row):
            if total.kind == TotalKind.THEME:
                start = previous_any
            elif total.kind == TotalKind.BLOCK:
                start = previous_block
                previous_block = total.row
            else:
                start = self.header.last_row
                previous_block = total.row
            previous_any = total.row
            checked.append(self._total(total, start, total.row))
        return checked

    def _total(self, total: PrintedTotal, start: int, end: int) -> PrintedTotal:
        actions = [action for action in self.actions if start < action.row < end]
        computed: dict[str, Decimal] = {}
        for key, printed in total.amounts.items():
            overlapping = [
                s for s in self.shared if s.key == key and s.first_row <= end and s.last_row > start
            ]
            inside = [s for s in overlapping if start < s.first_row and s.last_row <= end]
            if len(inside) < len(overlapping):
                self._problem(
                    Severity.INFO,
                    ProblemCode.TOTAL_NOT_CHECKED,
                    f"{self._total_name(total)} : la colonne « {self._label(key)} » n'est pas "
                    "vérifiée, un montant fusionné sur plusieurs lignes dépasse ses limites.",
                    cell=printed.cell,
                )
                continue
            value = _sum(action.value(key) for action in actions) + _sum(
                s.amount.value for s in inside
            )
            computed[key] = value
            if printed.value is not None and printed.value != value:
                self._problem(
                    Severity.MISMATCH,
                    ProblemCode.TOTAL_MISMATCH,
                    f"{self._total_name(total)}, colonne « {self._label(key)} » : montant "
                    f"imprimé {format_euros(printed.value)}, somme des lignes importées "
                    f"{format_euros(value)} (écart {format_euros(printed.value - value)}).",
                    cell=printed.cell,
                    printed=printed.value,
                    computed=value,
                )
        return PrintedTotal(
            kind=total.kind,
            label=total.label,
            row=total.row,
            amounts=total.amounts,
            computed=computed,
            block=total.block,
            theme_label=total.theme_label,
        )

    def _total_name(self, total: PrintedTotal) -> str:
        if total.kind == TotalKind.THEME:
            if total.theme_label:
                return f"Sous-total du thème « {total.theme_label} »"
            return "Sous-total"
        if total.kind == TotalKind.BLOCK:
            name = BLOCK_NAMES.get(total.block or "", "")
            return f"Sous-total des {name}" if name else f"Sous-total « {total.label} »"
        return f"Total « {total.label} »"

    # --- rows ---

    def row_sums(self, totals: Sequence[PrintedTotal]) -> None:
        if self.layout not in ROW_SUMS:
            return
        total_key, part_keys = ROW_SUMS[self.layout]
        if self.header.column(total_key) is None:
            return
        part_keys = tuple(key for key in part_keys if self.header.column(key) is not None)
        formula = self._formula(total_key, part_keys)
        for action in self.actions:
            amounts = action.amounts
            if any(amounts[key].shared for key in (total_key, *part_keys) if key in amounts):
                continue  # checked on its group below
            self._row_sum(amounts, total_key, part_keys, formula, is_action=True)
        for total in totals:
            if all(key in total.amounts for key in (total_key, *part_keys)):
                self._row_sum(total.amounts, total_key, part_keys, formula, is_action=False)
        self._group_sums(total_key, part_keys, formula)

    def _formula(self, total_key: str, part_keys: Sequence[str]) -> str:
        if self.layout == Layout.AMENDMENT_2020:
            names = {
                "state": "participation État",
                "cd": "participation CD",
                "carried_over": "report",
                "other": "autres financeurs",
            }
            return "budget global = " + " + ".join(names[key] for key in part_keys)
        return f"{total_key} = " + "+".join(part_keys)

    def _row_sum(self, amounts, total_key, part_keys, formula, *, is_action: bool) -> None:
        total: ParsedAmount = amounts[total_key]
        parts = [amounts[key].value for key in part_keys]
        computed = _sum(parts)
        if total.value is None:
            if is_action and total.is_empty and computed != ZERO:
                self._problem(
                    Severity.WARNING,
                    ProblemCode.ROW_SUM_MISSING,
                    f"« {self._label(total_key)} » est vide alors que la somme de ses parts "
                    f"vaut {format_euros(computed)} ({formula}).",
                    cell=total.cell,
                    computed=computed,
                )
            return
        if all(value is None for value in parts):
            return
        if total.value != computed:
            self._problem(
                Severity.MISMATCH,
                ProblemCode.ROW_SUM_MISMATCH,
                f"{formula} n'est pas vérifié : « {self._label(total_key)} » imprimé "
                f"{format_euros(total.value)}, somme des parts {format_euros(computed)} "
                f"(écart {format_euros(total.value - computed)}).",
                cell=total.cell,
                printed=total.value,
                computed=computed,
            )

    def _group_sums(self, total_key: str, part_keys: Sequence[str], formula: str) -> None:
        """Rows sharing a merged amount: the equation holds for the group as a whole (the
        budget global of each row includes an unstated share of the group's report)."""
        by_row = {action.row: action for action in self.actions}
        done: set[tuple[int, ...]] = set()
        for shared in self.shared:
            if shared.key not in (total_key, *part_keys) or not shared.action_rows:
                continue
            rows = shared.action_rows
            if rows in done:
                continue
            done.add(rows)
            group = [by_row[row] for row in rows if row in by_row]
            related = [
                s
                for s in self.shared
                if s.key in (total_key, *part_keys) and set(s.action_rows) & set(rows)
            ]
            if any(not set(s.action_rows) <= set(rows) for s in related):
                continue  # groups that overlap without nesting: no equation to check
            inside = related
            total = _sum(a.value(total_key) for a in group) + _sum(
                s.amount.value for s in inside if s.key == total_key
            )
            parts = _sum(a.value(key) for a in group for key in part_keys) + _sum(
                s.amount.value for s in inside if s.key in part_keys
            )
            if total != parts and total != ZERO:
                self._problem(
                    Severity.MISMATCH,
                    ProblemCode.ROW_SUM_MISMATCH,
                    f"{formula} n'est pas vérifié sur les lignes {rows[0]} à {rows[-1]}, qui "
                    f"partagent le montant fusionné {shared.cell_range} : "
                    f"« {self._label(total_key)} » {format_euros(total)}, somme des parts "
                    f"{format_euros(parts)} (écart {format_euros(total - parts)}).",
                    cell=shared.amount.cell,
                    printed=total,
                    computed=parts,
                )

    def valorisation(self) -> None:
        cd_key = CD_SHARE.get(self.layout)
        if cd_key is None or self.header.column("valorisation") is None:
            return
        for action in self.actions:
            valorisation = action.value("valorisation")
            cd = action.value(cd_key) or ZERO
            if valorisation is not None and valorisation > cd:
                self._problem(
                    Severity.WARNING,
                    ProblemCode.VALORISATION_EXCEEDS_CD,
                    f"La valorisation ({format_euros(valorisation)}) dépasse la part du "
                    f"Département (« {self._label(cd_key)} » : {format_euros(cd)}), qui "
                    "l'inclut.",
                    cell=action.amounts["valorisation"].cell,
                    printed=valorisation,
                    computed=cd,
                )

    def envelopes(self) -> None:
        if self.layout != Layout.AMENDMENT_2020:
            return
        by_row = {action.row: action for action in self.actions}
        for shared in self.shared:
            if shared.key != "pre_notified" or shared.amount.value is None:
                continue
            state = _sum(by_row[row].value("state") for row in shared.action_rows if row in by_row)
            if state > shared.amount.value:
                themes = " et ".join(f"« {label} »" for label in shared.theme_labels)
                self._problem(
                    Severity.WARNING,
                    ProblemCode.ENVELOPE_EXCEEDED,
                    f"La participation État demandée pour {themes} ({format_euros(state)}) "
                    "dépasse les crédits Etat pré-notifiés "
                    f"({format_euros(shared.amount.value)}).",
                    cell=shared.amount.cell,
                    printed=shared.amount.value,
                    computed=state,
                )


def check_table(
    *,
    sheet: str,
    header: HeaderMatch,
    actions: Sequence[ParsedAction],
    shared: Sequence[SharedAmount],
    totals: Sequence[PrintedTotal],
) -> tuple[list[PrintedTotal], list[Problem]]:
    """Run every check; return the totals with their computed sums, and the problems."""
    checker = Checker(sheet=sheet, header=header, actions=actions, shared=shared)
    checked = checker.totals(totals)
    checker.row_sums(checked)
    checker.valorisation()
    checker.envelopes()
    return checked, checker.problems
