"""Reads for the data-entry pages: a year's fiches with their budgets, a fiche, its history."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models
from django.db.models import Prefetch, QuerySet, Sum

from actions.choices import ActionStatus, BudgetKind
from actions.models import ActionYear, Budget, OtherFunding
from calpae.fields import MoneyField
from conventions.choices import Block
from conventions.models import ConventionYear, ThemeYear
from reports.formatting import format_euros
from reports.tables import CENT, ZERO

# --- Completeness and budget figures ---------------------------------------------------------


@dataclass
class ActionSummary:
    """What the year page says of one fiche: its budget totals and what is left to enter."""

    action_year: ActionYear
    planned: Budget | None = None
    executed: Budget | None = None
    missing: list[str] = field(default_factory=list)

    @property
    def is_retired(self) -> bool:
        return self.action_year.status == ActionStatus.RETIRED

    @property
    def is_complete(self) -> bool:
        return not self.missing

    @property
    def planned_total(self) -> Decimal | None:
        return _budget_total(self.planned)

    @property
    def executed_total(self) -> Decimal | None:
        return _budget_total(self.executed)

    @property
    def realised(self) -> Decimal | None:
        return self.executed.realised if self.executed else None


def _budget_total(budget: Budget | None) -> Decimal | None:
    """F = A+B+C+D+E (or the declared budget global when no split is given)."""
    if budget is None:
        return None
    other = getattr(budget, "other_total", None)
    values = [
        budget.state_new,
        budget.state_carried_over,
        budget.cd_new,
        budget.cd_carried_over,
        None if other is None else Decimal(other).quantize(CENT),
    ]
    present = [value for value in values if value is not None]
    if not present:
        return budget.declared_total
    return sum(present, ZERO)


def missing_items(action_year: ActionYear, planned: Budget | None, executed: Budget | None):
    """What a fiche still lacks for the year's report (empty list: complete)."""
    if action_year.status == ActionStatus.RETIRED:
        return []
    missing = []
    if _budget_total(planned) is None:
        missing.append("budget prévisionnel")
    if executed is None or executed.realised is None:
        missing.append("réalisé au 31/12")
    if not action_year.execution_review.strip():
        missing.append("bilan d'exécution")
    if not action_year.outlook.strip():
        missing.append("perspectives")
    return missing


def _budgets_prefetch() -> Prefetch:
    return Prefetch(
        "budgets",
        queryset=Budget.objects.annotate(other_total=Sum("other_fundings__amount")),
    )


def summarize(action_years) -> list[ActionSummary]:
    summaries = []
    for action_year in action_years:
        budgets = {budget.kind: budget for budget in action_year.budgets.all()}
        planned = budgets.get(BudgetKind.PLANNED)
        executed = budgets.get(BudgetKind.EXECUTED)
        summaries.append(
            ActionSummary(
                action_year=action_year,
                planned=planned,
                executed=executed,
                missing=missing_items(action_year, planned, executed),
            )
        )
    return summaries


def action_years_with_budgets(convention_years) -> QuerySet[ActionYear]:
    return (
        ActionYear.objects.filter(convention_year__in=convention_years)
        .select_related("action", "theme")
        .prefetch_related(_budgets_prefetch())
    )


@dataclass
class Totals:
    """Budget totals over a set of fiches: a thème, a block, the year."""

    actions: list[ActionSummary]

    def _total(self, name: str) -> Decimal | None:
        """The sum over the fiches in force; empty (not 0,00 €) when none has an amount."""
        values = [
            getattr(summary, name)
            for summary in self.actions
            if not summary.is_retired and getattr(summary, name) is not None
        ]
        return sum(values, ZERO) if values else None

    @property
    def planned_total(self) -> Decimal | None:
        return self._total("planned_total")

    @property
    def executed_total(self) -> Decimal | None:
        return self._total("executed_total")

    @property
    def realised(self) -> Decimal | None:
        return self._total("realised")


@dataclass
class ThemeGroup(Totals):
    theme_year: ThemeYear | None = None
    label: str = ""
    block: str = ""


def block_totals(groups: list[ThemeGroup]) -> tuple[dict[str, Totals], Totals]:
    """Sub-totals per block and the year's total, as in the official tables."""
    by_block: dict[str, Totals] = {}
    for group in groups:
        by_block.setdefault(group.block, Totals([])).actions.extend(group.actions)
    return by_block, Totals([summary for group in groups for summary in group.actions])


def year_groups(convention_year: ConventionYear) -> list[ThemeGroup]:
    """The fiches of a year grouped by thème, socle first, in the order of the official table."""
    from reports.tables import number_sort_key

    theme_years = list(
        ThemeYear.objects.filter(convention_year=convention_year).select_related("theme")
    )
    summaries = summarize(action_years_with_budgets([convention_year]))
    by_theme: dict[int, list[ActionSummary]] = defaultdict(list)
    for summary in summaries:
        by_theme[summary.action_year.theme_id].append(summary)
    block_order = {Block.SOCLE: 0, Block.INITIATIVE: 1}
    groups = []
    for theme_year in sorted(
        theme_years, key=lambda ty: (block_order.get(ty.theme.block, 2), ty.position)
    ):
        actions = sorted(
            by_theme.pop(theme_year.theme_id, []),
            key=lambda s: number_sort_key(s.action_year.number),
        )
        groups.append(
            ThemeGroup(
                actions, theme_year=theme_year, label=theme_year.label, block=theme_year.theme.block
            )
        )
    for leftovers in by_theme.values():  # a thème not laid out in the year's table
        theme = leftovers[0].action_year.theme
        groups.append(ThemeGroup(leftovers, label=theme.label, block=theme.block))
    return groups


# --- History ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class HistoryEntry:
    date: datetime.datetime
    user: object
    subject: str
    reason: str
    changes: tuple[Change, ...]
    version: int | None = None


# Fields that say where a record belongs, not what it holds: the page already tells.
SKIPPED_FIELDS = {
    "id",
    "version",
    "action",
    "action_year",
    "budget",
    "convention_year",
    "indicator",
    "realigned",  # an extraction flag of the demo documents, not a user's change
}


def _capitalized(label: str) -> str:
    """« crédits CD » → « Crédits CD » (``str.capitalize`` would lower « CD »)."""
    return label[:1].upper() + label[1:]


def _display(model_field: models.Field, value, labels: dict) -> str:
    if value is None or value == "":
        return ""
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, MoneyField):
        return format_euros(value)
    if isinstance(model_field, models.BooleanField):
        return "Oui" if value else "Non"
    if isinstance(model_field, models.DateField):
        return value.strftime("%d/%m/%Y")
    if isinstance(model_field, models.ForeignKey):
        return labels.get((model_field.related_model, value), str(value))
    if isinstance(model_field, models.DecimalField):
        return f"{value.normalize():f}".replace(".", ",")
    return str(value)


def history_entries(records, subject_of, labels: dict) -> list[HistoryEntry]:
    """Diff each historical record with the previous one of the same object."""
    entries = []
    previous: dict[int, object] = {}
    for record in sorted(records, key=lambda r: (r.history_date, r.history_id)):
        model = record.instance_type
        before = previous.get(record.id)
        changes = []
        for model_field in model._meta.concrete_fields:
            if model_field.name in SKIPPED_FIELDS or not model_field.editable:
                continue
            new = getattr(record, model_field.attname)
            old = getattr(before, model_field.attname) if before is not None else None
            if record.history_type == "-":
                new, old = None, new
            if old == new or (before is None and record.history_type != "-" and new in ("", None)):
                continue
            changes.append(
                Change(
                    _capitalized(str(model_field.verbose_name)),
                    _display(model_field, old, labels),
                    _display(model_field, new, labels),
                )
            )
        previous[record.id] = record
        if changes or record.history_type != "~":
            entries.append(
                HistoryEntry(
                    date=record.history_date,
                    user=record.history_user,
                    subject=subject_of(record),
                    reason=record.history_change_reason or "",
                    changes=tuple(changes),
                    version=getattr(record, "version", None),
                )
            )
    return entries


def action_history(action_year: ActionYear, *, since: datetime.datetime | None = None):
    """Every change of the fiche of the year, its budgets and other funders, newest first.

    Five queries whatever the length of the history (records are diffed in Python, not with
    ``prev_record``, which costs a query per record).
    """
    from conventions.models import Theme

    fiche = list(ActionYear.history.filter(id=action_year.pk).select_related("history_user"))
    budgets = list(
        Budget.history.filter(action_year_id=action_year.pk).select_related("history_user")
    )
    kinds = {record.id: record.get_kind_display() for record in budgets}
    fundings = list(
        OtherFunding.history.filter(budget_id__in=set(kinds)).select_related("history_user")
    )
    theme_ids = {record.theme_id for record in fiche}
    labels = {
        (Theme, theme.pk): theme.short_label or theme.label
        for theme in Theme.objects.filter(pk__in=theme_ids)
    }
    entries = (
        history_entries(fiche, lambda r: "Fiche de l'année", labels)
        + history_entries(budgets, lambda r: f"Budget {r.get_kind_display().lower()}", labels)
        + history_entries(
            fundings,
            lambda r: f"Autre financeur du budget {kinds.get(r.budget_id, '').lower()}".strip(),
            labels,
        )
    )
    if since is not None:
        entries = [entry for entry in entries if entry.date >= since]
    return sorted(entries, key=lambda entry: entry.date, reverse=True)


def changes_since(action_year: ActionYear, version: int) -> list[HistoryEntry]:
    """What was saved on the fiche after the form was read at ``version``."""
    first = (
        ActionYear.history.filter(id=action_year.pk, version__gt=version)
        .order_by("history_date")
        .values_list("history_date", flat=True)
        .first()
    )
    if first is None:
        return []
    return action_history(action_year, since=first)


def action_year_for_user(user, pk: int) -> ActionYear:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        ActionYear.objects.for_user(user).select_related(
            "action",
            "theme",
            "convention_year__convention__department__region",
            "convention_year__convention__programme",
        ),
        pk=pk,
    )


def carried_over_from_previous_year(action_year: ActionYear) -> dict:
    """B and D of a new prévisionnel: the "à reporter" of N-1 of the same fiche (identity)."""
    previous = (
        Budget.objects.filter(
            action_year__action_id=action_year.action_id,
            action_year__convention_year__year=action_year.convention_year.year - 1,
            kind=BudgetKind.EXECUTED,
        )
        .only("carry_over_state", "carry_over_cd")
        .first()
    )
    if previous is None:
        return {}
    return {
        name: value
        for name, value in (
            ("state_carried_over", previous.carry_over_state),
            ("cd_carried_over", previous.carry_over_cd),
        )
        if value is not None
    }


def later_years(convention_year: ConventionYear) -> QuerySet[ConventionYear]:
    """The years after this one, of the same Département and programme (targets of a carry)."""
    convention = convention_year.convention
    return (
        ConventionYear.objects.filter(
            convention__department_id=convention.department_id,
            convention__programme_id=convention.programme_id,
            year__gt=convention_year.year,
        )
        .select_related("convention")
        .order_by("year")
    )


@dataclass
class YearStatus:
    """One line of the home page: a year, the user's role, the state of its entry."""

    year: ConventionYear
    role: str
    active: int
    complete: int
    open_findings: int


def year_statuses(user, years: list[ConventionYear]) -> list[YearStatus]:
    """The state of the entry of some years the user sees (a page of the home page, from
    ``conventions.selectors.convention_year_list_for_user``), in a fixed number of queries."""
    from calpae.permissions import department_roles
    from conventions.choices import Role
    from reports.selectors import year_tables

    if not years:
        return []
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for summary in summarize(action_years_with_budgets(years)):
        if summary.is_retired:
            continue
        counts[summary.action_year.convention_year_id][0] += 1
        counts[summary.action_year.convention_year_id][1] += summary.is_complete
    tables = year_tables(years)
    roles = department_roles(user)
    return [
        YearStatus(
            year=year,
            role=(
                Role(roles[year.convention.department_id]).label
                if year.convention.department_id in roles
                else "Administrateur national"
            ),
            active=counts[year.pk][0],
            complete=counts[year.pk][1],
            open_findings=len(tables[year.pk].open_entries),
        )
        for year in years
    ]
