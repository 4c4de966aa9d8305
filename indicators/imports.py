"""Import of the indicator matrix (« Tableau des indicateurs », CALPAE.md §5.3) into a year.

Called by :func:`actions.imports.workbook_import`, in its transaction, after the year exists.
What the sheet holds becomes:

- the **periods** of its value columns: found by their printed header, else by their meaning
  (kind, year and dates read from the header, ``indicators.periods``: ANNEXE 8 of 2023 and the
  2022 report print the same year differently), else created;
- the **indicators** of its rows: found by their code (derived from the label, as the demo's,
  ``indicators.labels``) in the national catalogue or among the Département's own, else created
  as the Département's own, « dont … » rows under their parent;
- the **layout of the year's matrix** (``MatrixEntry``: order, group and measure headings,
  printed label): the file's replaces the year's; an indicator that leaves the matrix keeps its
  values;
- the **values** of each indicator and period, and the **targets** of the year (« Résultat
  attendu en N »): an empty cell leaves what is stored; a value equal to the stored one is left
  unchanged (no history row), so that importing the same file again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from actions.import_writer import Change, ImportReport, Outcome, RecordingWriter
from actions.workbook.model import MatrixPeriod, MatrixRow, MatrixValue, ParsedMatrix
from actions.workbook.problems import ProblemCode, Severity
from conventions.models import ConventionYear, Programme
from indicators.labels import indicator_fields, matrix_codes
from indicators.models import Indicator, IndicatorTarget, IndicatorValue, MatrixEntry, Period
from indicators.periods import period_spec

FIELD_LABELS = {
    "raw": "valeur",
    "number": "nombre",
    "status": "statut",
    "position": "rang",
    "group_label": "groupe",
    "measure_label": "mesure",
    "printed_label": "intitulé imprimé",
}


def _describe(name: str, before, after) -> str:
    return f"{FIELD_LABELS.get(name, name)} : « {before or ''} » → « {after or ''} »"


@dataclass(frozen=True)
class _Column:
    """Where a value column's cells go: a period of the Département, or the targets of a year."""

    header: str
    period: Period | None = None
    target_year: ConventionYear | None = None


class MatrixWriter(RecordingWriter):
    def __init__(
        self,
        *,
        actor,
        convention_year: ConventionYear,
        programme: Programme,
        matrix: ParsedMatrix,
        report: ImportReport,
        reason: str,
    ):
        super().__init__(
            actor=actor,
            department=convention_year.convention.department,
            year=convention_year.year,
            report=report,
            reason=reason,
            sheet=matrix.sheet,
            describe=_describe,
        )
        self.convention_year = convention_year
        self.programme = programme
        self.matrix = matrix

    def __call__(self) -> None:
        columns = {period.header: self._column(period) for period in self.matrix.periods}
        rows = self.matrix.indicators
        if not rows:
            self.problem(
                "Le tableau des indicateurs ne contient aucune ligne d'indicateur.",
                code=ProblemCode.LAYOUT_UNKNOWN,
            )
        if self.report.errors:
            return
        indicators = self._indicators(rows)
        self._layout(rows, indicators)
        ids = [indicator.pk for indicator in indicators.values()]
        self.values = {
            (value.indicator_id, value.period_id): value
            for value in IndicatorValue.objects.filter(
                indicator_id__in=ids,
                period__in=[column.period for column in columns.values() if column.period],
            )
        }
        self.targets = {
            (target.indicator_id, target.convention_year_id): target
            for target in IndicatorTarget.objects.filter(
                indicator_id__in=ids,
                convention_year__in=[c.target_year for c in columns.values() if c.target_year],
            )
        }
        for row in rows:
            indicator = indicators[row.row]
            for value in row.values:
                column = columns[value.period]
                if column.period is not None:
                    self._value(indicator, column.period, value, row)
                elif column.target_year is not None:
                    self._target(indicator, column.target_year, value, row)

    # --- columns ------------------------------------------------------------------------------

    def _header_cell(self, period: MatrixPeriod) -> str:
        return f"{period.column}{self.matrix.header.last_row}"

    def _column(self, printed: MatrixPeriod) -> _Column:
        if printed.is_target:
            return self._target_column(printed)
        spec = period_spec(printed.header)
        if spec is None:
            self.problem(
                f"En-tête de colonne sans année : « {printed.header} ». Indiquez la période "
                "mesurée (par exemple « Résultat atteint en 2022 »).",
                cell=self._header_cell(printed),
            )
            return _Column(printed.header)
        periods = Period.objects.filter(department=self.department)
        period = periods.filter(label=printed.header).first() or (
            periods.filter(
                kind=spec.kind,
                year=spec.year,
                start_date=spec.start_date,
                end_date=spec.end_date,
            )
            .order_by("pk")
            .first()
        )
        if period is None:
            period = Period(
                department=self.department,
                label=printed.header,
                kind=spec.kind,
                year=spec.year,
                start_date=spec.start_date,
                end_date=spec.end_date,
            )
            self.save(period, f"Période « {printed.header} »", created=True)
        return _Column(printed.header, period=period)

    def _target_column(self, printed: MatrixPeriod) -> _Column:
        year = printed.year or self.year
        if year == self.year:
            return _Column(printed.header, target_year=self.convention_year)
        convention_year = (
            ConventionYear.objects.filter(
                convention__department=self.department,
                convention__programme=self.programme,
                year=year,
            )
            .order_by("-convention__start_date")
            .first()
        )
        if convention_year is None:
            self.problem(
                f"Objectifs {year} : le Département n'a pas d'exercice {year}, la colonne "
                f"« {printed.header} » n'est pas importée.",
                severity=Severity.WARNING,
                cell=self._header_cell(printed),
            )
        return _Column(printed.header, target_year=convention_year)

    # --- indicators ---------------------------------------------------------------------------

    def _indicators(self, rows: tuple[MatrixRow, ...]) -> dict[int, Indicator]:
        """The indicator of each row (by sheet row), found or created, in the sheet's order."""
        codes = matrix_codes([row.label for row in rows])
        known = {
            (indicator.department_id is None, indicator.code): indicator
            for indicator in Indicator.objects.filter(
                Q(department__isnull=True) | Q(department=self.department),
                programme=self.programme,
                code__in={code.code for code in codes},
            )
        }
        by_label: dict[str, Indicator] = {}
        result: dict[int, Indicator] = {}
        for row, code in zip(rows, codes, strict=True):
            indicator = known.get((True, code.code)) or known.get((False, code.code))
            if indicator is None:
                parent = by_label.get(row.parent) if row.is_sub else None
                fields = indicator_fields(row.label, row.definition)
                indicator = Indicator(
                    programme=self.programme,
                    department=self.department,
                    parent=parent,
                    code=code.code,
                    **fields,
                )
                self.save(indicator, f"Indicateur « {row.label} »", created=True)
                known[(False, code.code)] = indicator
            by_label.setdefault(row.label, indicator)
            result[row.row] = indicator
        return result

    # --- the year's matrix --------------------------------------------------------------------

    def _layout(self, rows: tuple[MatrixRow, ...], indicators: dict[int, Indicator]) -> None:
        """The year's matrix becomes the file's: same order, headings and printed labels."""
        wanted: dict[int, dict] = {}  # by indicator id
        for row in rows:
            indicator = indicators[row.row]
            if indicator.pk in wanted:
                continue  # a row printed twice (CALPAE.md §9.3): its first place
            wanted[indicator.pk] = {
                "position": len(wanted) + 1,
                "group_label": row.group,
                "measure_label": row.measure,
                "printed_label": "" if row.label == indicator.label else row.label,
            }
        existing = {
            entry.indicator_id: entry
            for entry in MatrixEntry.objects.filter(
                convention_year=self.convention_year
            ).select_related("indicator")
        }
        stale = [
            entry
            for indicator_id, entry in existing.items()
            if indicator_id not in wanted or self._layout_changes(entry, wanted[indicator_id])
        ]
        # Deleted before any write: positions are unique in a year, and the order may change.
        for entry in stale:
            entry._history_user = self.actor
            entry._change_reason = self.reason
            entry.delete()
        for entry in stale:
            if entry.indicator_id not in wanted:
                label = entry.printed_label or entry.indicator.label
                self.report.changes.append(
                    Change(
                        Outcome.UPDATED,
                        f"Matrice {self.year} — « {label} »",
                        ("retiré de la matrice (ses valeurs sont conservées)",),
                    )
                )
        stale_ids = {entry.indicator_id for entry in stale}
        for row in rows:
            indicator = indicators[row.row]
            values = wanted.pop(indicator.pk, None)
            if values is None:
                continue
            subject = f"Matrice {self.year} — « {row.label} »"
            entry = existing.get(indicator.pk)
            if entry is None or indicator.pk in stale_ids:
                changes = [] if entry is None else self._layout_changes(entry, values)
                new = MatrixEntry(
                    convention_year=self.convention_year, indicator=indicator, **values
                )
                if entry is not None:  # what the file does not say is kept
                    new.action_year_id, new.footnote = entry.action_year_id, entry.footnote
                if entry is None:
                    self.save(new, subject, created=True)
                else:
                    self.save(new, subject, changes)
            else:
                self.save(entry, subject)

    def _layout_changes(self, entry: MatrixEntry, values: dict) -> list[str]:
        return [
            _describe(name, getattr(entry, name), value)
            for name, value in values.items()
            if getattr(entry, name) != value
        ]

    # --- values and targets -------------------------------------------------------------------

    def _measured(self, instance, value: MatrixValue, subject: str, created: bool) -> None:
        if not created and _same_value(instance, value):
            self.save(instance, subject)  # unchanged: the stored reading is kept
            return
        changes = self.assign(
            instance, {"raw": value.raw, "number": value.number, "status": value.status}
        )
        if created:
            instance.comment = (
                f"Import du fichier « {self.report.filename} », feuille « {self.sheet} », "
                f"cellule {value.cell}."
            )
        self.save(instance, subject, changes, created=created)

    def _value(self, indicator: Indicator, period: Period, value: MatrixValue, row) -> None:
        stored = self.values.get((indicator.pk, period.pk))
        self._measured(
            stored or IndicatorValue(indicator=indicator, period=period),
            value,
            f"Valeur « {row.label} » — {period.label}",
            created=stored is None,
        )

    def _target(self, indicator: Indicator, year: ConventionYear, value: MatrixValue, row) -> None:
        stored = self.targets.get((indicator.pk, year.pk))
        self._measured(
            stored or IndicatorTarget(indicator=indicator, convention_year=year),
            value,
            f"Objectif {year.year} « {row.label} »",
            created=stored is None,
        )


def _same_value(stored, value: MatrixValue) -> bool:
    """The cell says what is stored: the same text (spaces aside: a spreadsheet writes
    « 10 941 » with a non-breaking space), or, for a number cell, the same number. The stored
    number and status are then kept as they are: a person may have corrected the reading of a
    text (« 2 478 724 812 », two fused cells, is stored with no number)."""
    if " ".join(stored.raw.split()) == " ".join(value.raw.split()):
        return True
    return (
        value.is_number_cell
        and stored.number is not None
        and stored.number == value.number
        and stored.status == value.status
    )
