"""What an import of an official workbook reports, and the writer both imports share.

The financial table (:mod:`actions.imports`) and the indicator matrix (:mod:`indicators.imports`)
are written by ``RecordingWriter`` subclasses: every write goes through ``save_with_audit``
(``full_clean``, then a history row naming the user and the file), a value equal to the stored
one is not written again (so a second import of the same file adds no history row), and each
line of the report says what was created, updated (before → after) or left unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from actions.workbook.problems import Problem, ProblemCode, Severity
from calpae.audit import save_with_audit


class Outcome(StrEnum):
    CREATED = "créé"
    UPDATED = "modifié"
    UNCHANGED = "inchangé"


@dataclass(frozen=True)
class Change:
    """One line of the import report: what, and for an update the values before and after."""

    outcome: str
    subject: str  # "Fiche 5.1 — budget exécuté"
    details: tuple[str, ...] = ()

    def __str__(self) -> str:
        details = f" ({'; '.join(self.details)})" if self.details else ""
        return f"{self.subject} : {self.outcome}{details}"


@dataclass
class ImportReport:
    """What an import did (or would do, in a dry run), and every problem, placed in the sheet."""

    filename: str
    department: str
    year: int
    dry_run: bool
    layout: str = ""
    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    imported: bool = False

    def of(self, outcome: str) -> list[Change]:
        return [change for change in self.changes if change.outcome == outcome]

    @property
    def created(self) -> list[Change]:
        return self.of(Outcome.CREATED)

    @property
    def updated(self) -> list[Change]:
        return self.of(Outcome.UPDATED)

    @property
    def unchanged(self) -> list[Change]:
        return self.of(Outcome.UNCHANGED)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == Severity.ERROR]

    @property
    def mismatches(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == Severity.MISMATCH]

    @property
    def summary(self) -> str:
        if self.imported:
            verb = "Import réalisé" if not self.dry_run else "Simulation réussie (rien écrit)"
        else:
            verb = "Import refusé, rien n'a été enregistré"
        return (
            f"{verb} — {len(self.created)} créé(s), {len(self.updated)} modifié(s), "
            f"{len(self.unchanged)} inchangé(s), {len(self.errors)} erreur(s), "
            f"{len(self.mismatches)} écart(s) entre montants imprimés et lignes."
        )

    def lines(self) -> list[str]:
        """The report as text, for the command line."""
        head = f"{self.filename} — {self.layout or 'tableau non reconnu'}"
        lines = [head, f"Département {self.department}, exercice {self.year}", self.summary]
        for title, changes in (("Créés", self.created), ("Modifiés", self.updated)):
            if changes:
                lines.append(f"{title} :")
                lines += [f"  - {change}" for change in changes]
        if self.problems:
            lines.append("Problèmes :")
            lines += [f"  - {problem.severity.label} — {problem}" for problem in self.problems]
        return lines


class Rollback(Exception):
    """Leaves the transaction with nothing written (dry run, or problems)."""


class RecordingWriter:
    """Writes into one Département's year and records each step in ``report``.

    ``describe(name, before, after)`` words one changed field for the report."""

    def __init__(
        self,
        *,
        actor,
        department,
        year: int,
        report: ImportReport,
        reason: str,
        sheet: str | None,
        describe: Callable[[str, object, object], str],
    ):
        self.actor = actor
        self.department = department
        self.year = year
        self.report = report
        self.reason = reason
        self.sheet = sheet
        self.describe = describe

    def problem(
        self,
        message: str,
        *,
        code=ProblemCode.ROW_NOT_UNDERSTOOD,
        severity=Severity.ERROR,
        **place,
    ) -> None:
        self.report.problems.append(Problem(severity, code, message, sheet=self.sheet, **place))

    def save(self, instance, subject: str, changes: Iterable[str] = (), created=False) -> None:
        changes = tuple(changes)
        if created or changes:
            # The rows an import writes are related to objects it just read or saved; what
            # the database refuses is reported by ``workbook_import`` (IntegrityError).
            save_with_audit(instance, actor=self.actor, reason=self.reason, trusted_relations=True)
        outcome = Outcome.CREATED if created else Outcome.UPDATED if changes else Outcome.UNCHANGED
        self.report.changes.append(Change(outcome, subject, () if created else changes))

    def assign(self, instance, values: dict) -> list[str]:
        """Set the fields that differ; return what changed, as the report says it."""
        changes = []
        for name, value in values.items():
            before = getattr(instance, name)
            if before != value:
                changes.append(self.describe(name, before, value))
                setattr(instance, name, value)
        return changes
