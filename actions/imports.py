"""Import of an official workbook into a Département's year (« import d'un tableau financier »).

The reading is done by :mod:`actions.workbook` (no database); this module writes what was read:
the year's table of thèmes, the fiches-actions, their budgets (prévisionnel or exécuté, by the
layout of the sheet) and the amounts known per thème only (reports N-1, pre-notified envelopes).

- One transaction: any error, and nothing is written. A dry run does everything, reports it,
  then rolls back.
- Idempotent: a value equal to the stored one is not written again, so importing the same file
  twice reports everything unchanged and adds no history row.
- Every write goes through ``save_with_audit`` (``full_clean``, then a history row naming the
  user and the file).
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history

from actions.choices import BudgetKind, Funder
from actions.import_writer import Change, ImportReport, Outcome, RecordingWriter, Rollback
from actions.models import Action, ActionYear, Budget, OtherFunding
from actions.workbook.files import open_workbook
from actions.workbook.layouts import Layout
from actions.workbook.model import (
    ParsedAction,
    ParsedTheme,
    ParsedWorkbook,
    PlaceholderKind,
    SharedAmount,
)
from actions.workbook.parse import parse_workbook
from actions.workbook.problems import Problem, ProblemCode, Severity, WorkbookError
from actions.workbook.text import match_theme
from calpae.audit import full_clean_trusted, save_with_audit
from conventions.choices import EnvelopeKind, PlannedTableTemplate
from conventions.locking import year_kept_open
from conventions.models import (
    Convention,
    ConventionYear,
    Department,
    Programme,
    StateEnvelope,
    Theme,
    ThemeYear,
)
from reports.formatting import format_euros

ZERO = Decimal("0.00")

# Budget field of each amount column, by layout (CALPAE.md §5.1, §5.2, §5.6). "E" is the sum of
# the other funders' lines; "F" / "budget_global" is checked, kept only if it differs from A+…+E.
BUDGET_FIELDS = {
    Layout.EXECUTION: {
        "A": "state_new",
        "B": "state_carried_over",
        "C": "cd_new",
        "D": "cd_carried_over",
        "valorisation": "valorisation",
        "realised": "realised",
        "carry_over_state": "carry_over_state",
        "carry_over_cd": "carry_over_cd",
    },
    Layout.PLANNED: {
        "A": "state_new",
        "B": "state_carried_over",
        "C": "cd_new",
        "valorisation": "valorisation",
        "D": "cd_carried_over",
    },
    Layout.AMENDMENT_2020: {
        "state": "state_new",
        "cd": "cd_new",
        "valorisation": "valorisation",
        # The 2020 template's "Report 2019" does not split State and CD: the reports of 2019
        # were State credits (FAPI and appui), kept as B.
        "carried_over": "state_carried_over",
    },
}
OTHER_KEY = {Layout.EXECUTION: "E", Layout.PLANNED: "E", Layout.AMENDMENT_2020: "other"}
TOTAL_KEY = {Layout.EXECUTION: "F", Layout.PLANNED: "F", Layout.AMENDMENT_2020: "budget_global"}
BUDGET_KINDS = {
    Layout.EXECUTION: BudgetKind.EXECUTED,
    Layout.PLANNED: BudgetKind.PLANNED,
    Layout.AMENDMENT_2020: BudgetKind.PLANNED,
}
# Amounts known per thème only, by the ThemeYear field that keeps them.
THEME_FIELDS = {
    "B": "carried_over_state",
    "D": "carried_over_cd",
    "carried_over": "carried_over_state",
}
OTHER_FUNDER_NAME = "Autres financeurs"
# The rows an import creates, parents first.
CREATION_ORDER = (Action, ActionYear, Budget, OtherFunding)
FIELD_LABELS = {
    "state_new": "A",
    "state_carried_over": "B",
    "cd_new": "C",
    "cd_carried_over": "D",
    "valorisation": "dont valorisation",
    "realised": "réalisé",
    "carry_over_state": "à reporter part État",
    "carry_over_cd": "à reporter part CD",
    "declared_total": "budget global déclaré",
    "comment": "commentaire",
    "title": "intitulé",
    "number": "fiche action n°",
    "name": "nom usuel de la fiche-action",
    "code": "identifiant de la fiche-action",
    "sequence_number": "numéro de fiche",
    "theme": "thème",
    "carried_over_state": "report N-1 part État",
    "carried_over_cd": "report N-1 part CD",
    "amount": "montant",
    "other": "autres financeurs (E)",
}


def workbook_file_import(
    *,
    actor,
    department: Department,
    year: int,
    data: bytes,
    filename: str,
    dry_run: bool = False,
    accept_printed_mismatch: bool = False,
) -> ImportReport:
    """Read the file (refused before parsing if it is too large, a zip bomb, of the wrong
    type…), then :func:`workbook_import`. Nothing here keeps the file: the caller deletes it."""
    try:
        parsed = parse_workbook(open_workbook(data, filename))
    except WorkbookError as error:
        report = ImportReport(
            filename=filename, department=department.code, year=year, dry_run=dry_run
        )
        report.problems.append(Problem(Severity.ERROR, ProblemCode.LAYOUT_UNKNOWN, error.message))
        return report
    return workbook_import(
        actor=actor,
        department=department,
        year=year,
        parsed=parsed,
        dry_run=dry_run,
        accept_printed_mismatch=accept_printed_mismatch,
    )


def workbook_import(
    *,
    actor,
    department: Department,
    year: int,
    parsed: ParsedWorkbook,
    dry_run: bool = False,
    accept_printed_mismatch: bool = False,
) -> ImportReport:
    """Write what was read — the financial table, the indicator matrix, or both — into
    ``department``'s year ``year``, in one transaction."""
    # Here, not at the top: indicators.imports imports this module's neighbours.
    from indicators.imports import MatrixWriter

    layouts = [parsed.layout.label] if parsed.layout and parsed.layout.is_financial else []
    if parsed.matrix is not None:
        layouts.append(Layout.INDICATOR_MATRIX.label)
    report = ImportReport(
        filename=parsed.filename,
        department=department.code,
        year=year,
        dry_run=dry_run,
        layout=" et ".join(layouts),
        problems=list(parsed.problems),
    )
    if not layouts:
        if not report.errors:
            report.problems.append(
                Problem(
                    Severity.ERROR,
                    ProblemCode.LAYOUT_UNKNOWN,
                    "Aucun tableau financier récapitulatif ni tableau des indicateurs reconnu "
                    "dans ce fichier.",
                )
            )
        return report
    if parsed.layout and parsed.layout.is_financial:
        report.problems += _title_problems(parsed, department, year)
    try:
        with transaction.atomic():
            writer = _Writer(
                actor=actor, department=department, year=year, parsed=parsed, report=report
            )
            if writer.start() and not report.errors:
                with year_kept_open(writer.convention_year.pk):
                    if parsed.layout and parsed.layout.is_financial:
                        writer.write_table()
                    if parsed.matrix is not None and not report.errors:
                        MatrixWriter(
                            actor=actor,
                            convention_year=writer.convention_year,
                            programme=writer.programme,
                            matrix=parsed.matrix,
                            report=report,
                            reason=writer.reason,
                        )()
            blocked = report.errors or (report.mismatches and not accept_printed_mismatch)
            if blocked or dry_run:
                raise Rollback
    except Rollback:
        pass
    except ValidationError as error:
        report.problems.append(
            Problem(Severity.ERROR, ProblemCode.ROW_NOT_UNDERSTOOD, _validation_text(error))
        )
    except IntegrityError as error:
        # A rule of the database that the reading did not catch: nothing is written.
        report.problems.append(
            Problem(
                Severity.ERROR,
                ProblemCode.ROW_NOT_UNDERSTOOD,
                f"La base de données a refusé une valeur du fichier ({error}) : rien n'a été "
                "enregistré.",
            )
        )
    report.imported = not report.errors and (accept_printed_mismatch or not report.mismatches)
    return report


def _validation_text(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return " ".join(
            f"{name} : {' '.join(messages)}" if name != "__all__" else " ".join(messages)
            for name, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


def _title_problems(parsed: ParsedWorkbook, department: Department, year: int) -> list[Problem]:
    problems = []
    printed_year = parsed.year_in_title or parsed.year_in_headers
    if printed_year is not None and printed_year != year:
        problems.append(
            Problem(
                Severity.ERROR,
                ProblemCode.ROW_NOT_UNDERSTOOD,
                f"Le tableau porte sur l'année {printed_year}, pas sur l'exercice {year} demandé.",
                sheet=parsed.sheet,
            )
        )
    code = parsed.department_code_in_title
    if code and code.upper() != department.code.upper():
        problems.append(
            Problem(
                Severity.ERROR,
                ProblemCode.ROW_NOT_UNDERSTOOD,
                f"Le titre du tableau nomme le Département {code}, pas le {department.code} "
                "demandé.",
                sheet=parsed.sheet,
            )
        )
    return problems


def _euros(value: Decimal | None) -> str:
    return "vide" if value is None else format_euros(value)


def _describe(name: str, before, after) -> str:
    label = FIELD_LABELS.get(name, name)
    if isinstance(before, Decimal) or isinstance(after, Decimal):
        return f"{label} : {_euros(before)} → {_euros(after)}"
    return f"{label} : « {before or ''} » → « {after or ''} »"


class _Writer(RecordingWriter):
    """The financial table: the year's thèmes, its fiches and their budgets, the amounts known
    per thème; and, for any import, the year itself (created if missing)."""

    def __init__(self, *, actor, department, year, parsed: ParsedWorkbook, report: ImportReport):
        super().__init__(
            actor=actor,
            department=department,
            year=year,
            report=report,
            reason=f"Import du fichier « {parsed.filename} »",
            sheet=parsed.sheet,
            describe=_describe,
        )
        self.parsed = parsed
        self.layout = parsed.layout if parsed.layout and parsed.layout.is_financial else None

    def start(self) -> bool:
        """The programme and the year (created if missing); ``False`` if no programme."""
        self.programme = self._programme()
        if self.programme is None:
            return False
        self.convention_year = self._convention_year()
        return True

    def write_table(self) -> None:
        self.themes = self._themes()
        if self.report.errors:
            return
        self._theme_amounts()
        # Read once what the rows are compared with: a constant number of queries per table.
        prefetch_related_objects([self.convention_year], "themes")
        self.action_years = {
            action_year.number: action_year
            for action_year in ActionYear.objects.filter(
                convention_year=self.convention_year
            ).select_related("action", "theme")
        }
        for action_year in self.action_years.values():
            action_year.convention_year = self.convention_year
        self.budgets = {
            budget.action_year_id: budget
            for budget in Budget.objects.filter(
                action_year__convention_year=self.convention_year,
                kind=BUDGET_KINDS[self.layout],
            ).prefetch_related("other_fundings")
        }
        self.action_codes = set(
            Action.objects.filter(department=self.department, programme=self.programme).values_list(
                "code", flat=True
            )
        )
        self.new_rows: dict[type, list] = {model: [] for model in CREATION_ORDER}
        rows_of_number: dict[str, int] = {}
        for parsed in self.parsed.actions:
            number = fiche_number(parsed.number)
            if number and number in rows_of_number:
                # Two rows would be written into one fiche, the second over the first.
                self.problem(
                    f"Le numéro de fiche {number} figure deux fois dans le tableau (lignes "
                    f"{rows_of_number[number]} et {parsed.row}) : chaque fiche a son propre "
                    "numéro ; corrigez le fichier.",
                    code=ProblemCode.NUMBER_DUPLICATED,
                    row=parsed.row,
                )
                continue
            rows_of_number[number] = parsed.row
            try:
                self._action(parsed, number)
            except ValidationError as error:
                self._row_refused(error, parsed.row)
        if not self.report.errors:
            self._create_new_rows()

    def _row_refused(self, error: ValidationError, row: int) -> None:
        """A value of the row that the model refuses (too long, out of range…), placed."""
        fields = error.message_dict if hasattr(error, "message_dict") else {"": error.messages}
        for name, messages in fields.items():
            label = FIELD_LABELS.get(name, "")
            for message in messages:
                self.problem(f"{label} : {message}" if label else message, row=row)

    def create(self, instance, subject: str | None) -> None:
        """A new row, validated now and inserted with the others of its model at the end
        (``_create_new_rows``): a few statements per table instead of two per row."""
        full_clean_trusted(instance)
        self.new_rows[type(instance)].append(instance)
        if subject is not None:
            self.report.changes.append(Change(Outcome.CREATED, subject))

    def _create_new_rows(self) -> None:
        """Insert the new rows, parents first (each row takes its parent's new id), with their
        history rows."""
        for model in CREATION_ORDER:
            rows = self.new_rows[model]
            if rows:
                bulk_create_with_history(
                    rows,
                    model,
                    batch_size=500,
                    default_user=self.actor,
                    default_change_reason=self.reason,
                )

    def _programme(self) -> Programme | None:
        programme = Programme.objects.filter(
            start_year__lte=self.year, end_year__gte=self.year
        ).first()
        if programme is None:
            self.problem(f"Aucun programme ne couvre l'année {self.year}.")
        return programme

    def _convention_year(self) -> ConventionYear:
        convention_year = (
            ConventionYear.objects.filter(
                convention__department=self.department,
                convention__programme=self.programme,
                year=self.year,
            )
            .select_related("convention")
            .order_by("-convention__start_date")
            .first()
        )
        template = (
            PlannedTableTemplate.AMENDMENT_2020
            if self.layout == Layout.AMENDMENT_2020
            else PlannedTableTemplate.ANNUAL
        )
        if convention_year is None:
            convention = (
                Convention.objects.filter(
                    department=self.department,
                    programme=self.programme,
                    start_date__year__lte=self.year,
                    end_date__year__gte=self.year,
                )
                .order_by("-start_date")
                .first()
            )
            if convention is None:
                convention = Convention(
                    department=self.department,
                    programme=self.programme,
                    title=f"{self.programme.name} — {self.department.name} {self.year}",
                    start_date=datetime.date(self.year, 1, 1),
                    end_date=datetime.date(self.year, 12, 31),
                    notes=f"Créée par l'{self.reason[0].lower()}{self.reason[1:]}.",
                )
                self.save(convention, f"Convention {self.year}", created=True)
            convention_year = ConventionYear(convention=convention, year=self.year)
            convention_year.report_due_date = convention_year.effective_report_due_date
            if self.layout in (Layout.PLANNED, Layout.AMENDMENT_2020):
                convention_year.planned_table_template = template
            self.save(convention_year, f"Exercice {self.year}", created=True)
        elif self.layout in (Layout.PLANNED, Layout.AMENDMENT_2020):
            changes = self.assign(convention_year, {"planned_table_template": template})
            self.save(convention_year, f"Exercice {self.year} — modèle du prévisionnel", changes)
        return convention_year

    def _themes(self) -> dict[str, ThemeYear]:
        """The year's ThemeYear of each printed thème label, created in the sheet's order."""
        catalogue = list(
            Theme.objects.filter(programme=self.programme).select_related("chorus_code")
        )
        by_code = {theme.code: theme for theme in catalogue}
        entries = [
            (t.code, t.label, t.chorus_code.code if t.chorus_code else None) for t in catalogue
        ]
        existing = {
            theme_year.theme_id: theme_year
            for theme_year in ThemeYear.objects.filter(convention_year=self.convention_year)
        }
        position = max((ty.position for ty in existing.values()), default=0)
        result: dict[str, ThemeYear] = {}
        for parsed in self.parsed.themes:
            key = match_theme(parsed.label, parsed.chorus_text, entries)
            if key is None:
                self.problem(
                    f"Thème « {parsed.label} » inconnu du catalogue national "
                    f"{self.programme.name} : vérifiez son intitulé ou son code Chorus.",
                    code=ProblemCode.THEME_UNKNOWN,
                    cell=parsed.cell,
                )
                continue
            theme = by_code[key]
            theme_year = existing.get(theme.pk)
            if theme_year is None:
                position += 1
                theme_year = ThemeYear(
                    convention_year=self.convention_year,
                    theme=theme,
                    position=position,
                    printed_label="" if parsed.label == theme.label else parsed.label,
                    chorus_note=parsed.chorus.note if parsed.chorus else "",
                    placeholder_rows=_placeholder_rows(parsed),
                )
                self.save(theme_year, f"Thème « {theme_year.label} » de l'exercice", created=True)
                existing[theme.pk] = theme_year
            result[parsed.label] = theme_year
        return result

    def _theme_amounts(self) -> None:
        """Amounts printed once for a thème (a merged cell): kept on the thème, never spread."""
        envelopes: dict[frozenset[int], SharedAmount] = {}
        by_theme: dict[int, dict[str, Decimal | None]] = {}
        for shared in self.parsed.shared_amounts:
            theme_years = [self.themes[label] for label in shared.theme_labels]
            if shared.key == "pre_notified":
                envelopes[frozenset(ty.theme_id for ty in theme_years)] = shared
            elif shared.key in THEME_FIELDS and len(theme_years) == 1:
                values = by_theme.setdefault(theme_years[0].pk, {})
                values[THEME_FIELDS[shared.key]] = shared.amount.value
            else:
                self.problem(
                    f"Un seul montant pour plusieurs lignes ({shared.cell_range}) : cette "
                    "colonne se saisit fiche par fiche ; répartissez le montant sur les fiches.",
                    code=ProblemCode.SHARED_AMOUNT,
                    cell=shared.amount.cell,
                )
        for theme_year in self.themes.values():
            values = by_theme.get(theme_year.pk)
            if values:
                changes = self.assign(theme_year, values)
                self.save(theme_year, f"Thème « {theme_year.label} » — reports N-1", changes)
        if envelopes:
            self._envelopes(envelopes)

    def _envelopes(self, envelopes: dict[frozenset[int], SharedAmount]) -> None:
        existing = {
            frozenset(theme.pk for theme in envelope.themes.all()): envelope
            for envelope in StateEnvelope.objects.filter(
                convention_year=self.convention_year, kind=EnvelopeKind.PRE_NOTIFIED
            ).prefetch_related("themes")
        }
        for theme_ids, shared in envelopes.items():
            labels = ", ".join(shared.theme_labels)
            subject = f"Crédits État pré-notifiés — {labels}"
            envelope = existing.get(theme_ids)
            if shared.amount.value is None:
                continue
            if envelope is None:
                envelope = StateEnvelope(
                    convention_year=self.convention_year,
                    kind=EnvelopeKind.PRE_NOTIFIED,
                    amount=shared.amount.value,
                )
                self.save(envelope, subject, created=True)
                envelope.themes.set(theme_ids)
            else:
                self.save(envelope, subject, self.assign(envelope, {"amount": shared.amount.value}))

    def _action(self, parsed: ParsedAction, number: str) -> None:
        theme_year = self.themes.get(parsed.theme_label or "")
        if theme_year is None or not number:
            if not number:
                self.problem(
                    "Fiche action N° vide : chaque fiche du tableau doit avoir son numéro.",
                    row=parsed.row,
                )
            return
        subject = f"Fiche {number}"
        action_year = self.action_years.get(number)
        identity = {
            "title": parsed.short_title or parsed.title,
            "sequence_number": parsed.fiche_number,
            "theme": theme_year.theme,
        }
        if action_year is None:
            action = Action(
                department=self.department,
                programme=self.programme,
                code=self._action_code(number),
                name=identity["title"][:200],
            )
            self.create(action, f"{subject} — fiche-action")
            action_year = ActionYear(
                action=action,
                convention_year=self.convention_year,
                number=number,
                block=theme_year.theme.block,
                **identity,
            )
            self.create(action_year, subject)
            self.action_years[number] = action_year
        else:
            changes = self.assign(action_year, identity)
            if changes:
                action_year.version += 1  # an open form on this fiche must not overwrite it
            self.save(action_year, subject, changes)
        self._budget(parsed, action_year, subject)

    def _action_code(self, number: str) -> str:
        base = slugify(f"{self.year}-{number}")[:50]
        code, suffix = base, 1
        while code in self.action_codes:
            suffix += 1
            code = f"{base}-{suffix}"
        self.action_codes.add(code)
        return code

    def _budget(self, parsed: ParsedAction, action_year: ActionYear, subject: str) -> None:
        kind = BUDGET_KINDS[self.layout]
        subject = f"{subject} — budget {kind.label.lower()}"
        values = {
            name: parsed.value(key)
            for key, name in BUDGET_FIELDS[self.layout].items()
            if key in parsed.amounts
        }
        if self.parsed.header and self.parsed.header.column("comment") is not None:
            values["comment"] = parsed.comment
        other = parsed.value(OTHER_KEY[self.layout])
        total = parsed.value(TOTAL_KEY[self.layout])
        computed = sum(
            (
                values.get(name) or ZERO
                for name in ("state_new", "state_carried_over", "cd_new", "cd_carried_over")
            ),
            other or ZERO,
        )
        # The printed budget global is kept only where it says something A+…+E does not.
        values["declared_total"] = total if total is not None and total != computed else None
        budget = self.budgets.get(action_year.pk)
        created = budget is None
        if created:
            budget = Budget(action_year=action_year, kind=kind)
        changes = self.assign(budget, values)
        fundings = list(budget.other_fundings.all()) if not created else []
        stored = sum((f.amount for f in fundings), ZERO) if fundings else None
        if other != stored:
            changes.append(_describe("other", stored, other))
        if created:
            self.create(budget, subject)
        else:
            self.save(budget, subject, changes)
        if other == stored:
            return
        if len(fundings) > 1:
            self.problem(
                f"{subject} : la colonne E ({_euros(other)}) diffère des {len(fundings)} "
                f"financeurs saisis pour la fiche ({_euros(stored)}) ; corrigez-les dans la "
                "fiche plutôt que par un import.",
                row=parsed.row,
            )
            return
        funding = fundings[0] if fundings else None
        if other is None:
            funding._history_user, funding._change_reason = self.actor, self.reason
            funding.delete()
            return
        if funding is None:
            funding = OtherFunding(
                budget=budget, funder=Funder.OTHER, funder_name=OTHER_FUNDER_NAME, amount=other
            )
            self.create(funding, None)
            return
        funding.amount = other
        save_with_audit(funding, actor=self.actor, reason=self.reason, trusted_relations=True)


def fiche_number(printed: str) -> str:
    """The fiche's number as stored: « 5.1. », « 5.1 » and « 5,1 » (a decimal comma typed in a
    spreadsheet) are fiche 5.1."""
    return re.sub(r"(?<=\d),(?=\d)", ".", printed.strip()).rstrip(".")


def _placeholder_rows(parsed: ParsedTheme) -> list[list[str]]:
    """The template's empty rows of a thème without action, kept to print it the same way."""
    if parsed.action_rows:
        return []
    return [
        [row.number, row.text]
        for row in parsed.placeholders
        if row.kind != PlaceholderKind.NO_ACTION
    ]
