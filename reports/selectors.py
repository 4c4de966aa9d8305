"""Reads for the official tables: database rows → the plain inputs of ``reports.tables``.

:func:`year_tables` computes both tables of many years in a fixed number of queries (seven,
plus one for the justifications), whatever the number of years and actions: the home page shows the
open findings of every year a user sees, the year page those of one year.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, Sum
from django.utils import timezone

from actions.choices import ActionStatus, BudgetKind
from actions.models import ActionYear, Budget
from calpae.permissions import department_roles
from conventions.choices import Role
from conventions.models import ConventionYear, StateEnvelope, ThemeYear
from reports.models import (
    Comment,
    CommentState,
    Justification,
    ReportVersion,
    ReviewEvent,
    TableKind,
    VersionFile,
    YearReview,
)
from reports.snapshot import FigureChange, compare
from reports.tables import (
    CENT,
    ZERO,
    Block,
    BudgetLine,
    Envelope,
    FinancialTable,
    Finding,
    RowKind,
    Severity,
    TableHeading,
    Template,
    ThemeInput,
    build_execution_table,
    build_planned_table,
    printed_title,
)
from reports.workflow import LOCKED_STATES, Actor, Option, State, options


@dataclass(frozen=True)
class FindingEntry:
    """A finding of one of the year's tables, with its written justification if any."""

    table: TableKind
    finding: Finding
    justification: Justification | None

    @property
    def key(self) -> str:
        return self.finding.key(self.table)

    @property
    def is_open(self) -> bool:
        return self.justification is None

    @property
    def is_error(self) -> bool:
        return self.finding.severity == Severity.ERROR


@dataclass(frozen=True)
class YearTables:
    """The execution and prévisionnel tables of a year, and the state of their findings."""

    convention_year: ConventionYear
    execution: FinancialTable
    planned: FinancialTable
    justifications: dict[str, Justification] = field(default_factory=dict)

    @property
    def execution_started(self) -> bool:
        """Whether any executed budget is entered: before that, the execution checks of the
        year (total A, carry-overs from N-1…) would only say that nothing is entered yet."""
        return any(row.kind == RowKind.ACTION for row in self.execution.rows)

    @property
    def planned_started(self) -> bool:
        return any(row.kind == RowKind.ACTION for row in self.planned.rows)

    @property
    def entries(self) -> list[FindingEntry]:
        return [
            FindingEntry(table, finding, self.justifications.get(finding.key(table)))
            for table, table_findings, started in (
                (TableKind.EXECUTION, self.execution.findings, self.execution_started),
                (TableKind.PLANNED, self.planned.findings, self.planned_started),
            )
            if started
            for finding in table_findings
        ]

    @property
    def open_entries(self) -> list[FindingEntry]:
        return [entry for entry in self.entries if entry.is_open]

    def entries_for_action(self, action_key: str) -> list[FindingEntry]:
        return [entry for entry in self.entries if entry.finding.action_key == action_key]

    @property
    def finding_keys(self) -> set[str]:
        return {entry.key for entry in self.entries}


def _theme_input(theme_year: ThemeYear, *, has_actions: bool = True) -> ThemeInput:
    theme = theme_year.theme
    chorus = str(theme.chorus_code) if theme.chorus_code else ""
    if theme_year.chorus_note:
        chorus = f"{chorus} {theme_year.chorus_note}".strip()
    return ThemeInput(
        key=theme.code,
        label=theme_year.label,
        block=Block(theme.block),
        position=theme_year.position,
        chorus=chorus,
        placeholders=tuple(tuple(row) for row in theme_year.placeholder_rows),
        carried_over_state=theme_year.carried_over_state,
        carried_over_cd=theme_year.carried_over_cd,
        has_actions=has_actions,
    )


def _budget_line(budget: Budget) -> BudgetLine:
    action_year = budget.action_year
    return BudgetLine(
        action_key=action_year.action.code,
        theme_key=action_year.theme.code,
        number=action_year.number,
        title=printed_title(title=action_year.title, sequence_number=action_year.sequence_number),
        state_new=budget.state_new,
        state_carried_over=budget.state_carried_over,
        cd_new=budget.cd_new,
        valorisation=budget.valorisation,
        cd_carried_over=budget.cd_carried_over,
        # SQLite sums decimals with extra digits: bring them back to cents.
        other_funding=None if budget.other_total is None else budget.other_total.quantize(CENT),
        declared_total=budget.declared_total,
        realised=budget.realised,
        carry_over_state=budget.carry_over_state,
        carry_over_cd=budget.carry_over_cd,
        carry_over_unallocated=budget.carry_over_unallocated,
        comment=budget.comment,
    )


def heading(convention_year: ConventionYear) -> TableHeading:
    department = convention_year.convention.department
    return TableHeading(
        year=convention_year.year,
        department_code=department.code,
        department_of_name=department.of_name,
        region_name=department.region.name,
    )


def year_tables(convention_years: Iterable[ConventionYear]) -> dict[int, YearTables]:
    """Both tables of each year, by the year's id, read in a fixed number of queries.

    The carry-over checks read the neighbouring years of the same Département and programme
    (in whichever convention): the executed budgets of N-1 and the prévisionnel of N+1.
    """
    ids = [convention_year.pk for convention_year in convention_years]
    if not ids:
        return {}
    years = list(
        ConventionYear.objects.filter(pk__in=ids).select_related("convention__department__region")
    )
    owners = {(year.convention.department_id, year.convention.programme_id) for year in years}
    siblings: dict[tuple[int, int, int], int] = {}
    for pk, department_id, programme_id, year in (
        ConventionYear.objects.filter(
            convention__department_id__in={owner[0] for owner in owners},
            convention__programme_id__in={owner[1] for owner in owners},
        )
        .order_by("convention__start_date", "convention_id", "year")
        .values_list("pk", "convention__department_id", "convention__programme_id", "year")
    ):
        siblings.setdefault((department_id, programme_id, year), pk)

    def sibling(convention_year: ConventionYear, year: int) -> int | None:
        convention = convention_year.convention
        return siblings.get((convention.department_id, convention.programme_id, year))

    wanted = set(ids)
    for convention_year in years:
        wanted.update(
            pk
            for pk in (
                sibling(convention_year, convention_year.year - 1),
                sibling(convention_year, convention_year.year + 1),
            )
            if pk is not None
        )
    lines: dict[tuple[int, str], list[BudgetLine]] = defaultdict(list)
    for budget in (
        Budget.objects.filter(action_year__convention_year_id__in=wanted)
        .select_related("action_year__action", "action_year__theme")
        .annotate(other_total=Sum("other_fundings__amount"))
    ):
        lines[(budget.action_year.convention_year_id, budget.kind)].append(_budget_line(budget))
    with_actions = set(
        ActionYear.objects.filter(convention_year_id__in=ids)
        .exclude(status=ActionStatus.RETIRED)
        .values_list("convention_year_id", "theme_id")
        .distinct()
    )
    themes: dict[int, list[ThemeInput]] = defaultdict(list)
    for theme_year in ThemeYear.objects.filter(convention_year_id__in=ids).select_related(
        "theme__chorus_code"
    ):
        has_actions = (theme_year.convention_year_id, theme_year.theme_id) in with_actions
        themes[theme_year.convention_year_id].append(
            _theme_input(theme_year, has_actions=has_actions)
        )
    envelopes: dict[int, list[Envelope]] = defaultdict(list)
    for envelope in StateEnvelope.objects.filter(convention_year_id__in=ids).prefetch_related(
        "themes"
    ):
        envelopes[envelope.convention_year_id].append(
            Envelope(
                theme_keys=frozenset(theme.code for theme in envelope.themes.all()),
                amount=envelope.amount,
                label=envelope.note or f"Enveloppe {envelope.get_kind_display().lower()}",
            )
        )
    justifications: dict[int, dict[str, Justification]] = defaultdict(dict)
    for justification in Justification.objects.filter(convention_year_id__in=ids).select_related(
        "author"
    ):
        justifications[justification.convention_year_id][justification.key] = justification

    def lines_of(pk: int | None, kind: BudgetKind) -> list[BudgetLine] | None:
        return None if pk is None else lines[(pk, kind)]

    result = {}
    for convention_year in years:
        common = {
            "heading": heading(convention_year),
            "themes": themes[convention_year.pk],
            "state_credit": convention_year.state_credit,
            "envelopes": envelopes[convention_year.pk],
        }
        previous = sibling(convention_year, convention_year.year - 1)
        following = sibling(convention_year, convention_year.year + 1)
        result[convention_year.pk] = YearTables(
            convention_year=convention_year,
            execution=build_execution_table(
                **common,
                lines=lines[(convention_year.pk, BudgetKind.EXECUTED)],
                previous_lines=lines_of(previous, BudgetKind.EXECUTED),
                next_planned_lines=lines_of(following, BudgetKind.PLANNED),
            ),
            planned=build_planned_table(
                **common,
                lines=lines[(convention_year.pk, BudgetKind.PLANNED)],
                previous_lines=lines_of(previous, BudgetKind.EXECUTED),
                template=Template(convention_year.planned_table_template),
            ),
            justifications=justifications[convention_year.pk],
        )
    return result


def execution_table(convention_year: ConventionYear) -> FinancialTable:
    """Tableau financier récapitulatif — exécution, with its findings."""
    return year_tables([convention_year])[convention_year.pk].execution


def planned_table(convention_year: ConventionYear) -> FinancialTable:
    """Tableau financier récapitulatif prévisionnel, with its findings."""
    return year_tables([convention_year])[convention_year.pk].planned


# --- Review of the year's report ---------------------------------------------------------------


@dataclass(frozen=True)
class ReviewSheet:
    """What the review page shows: the state, the steps taken, and those that leave the state
    (allowed for the user, or why not)."""

    state: State
    events: list[ReviewEvent]
    options: list[Option]
    open_findings: int
    versions: list[ReportVersion]
    comments: list[Comment]

    @property
    def open_comments(self) -> list[Comment]:
        return [comment for comment in self.comments if comment.state == CommentState.OPEN]

    @property
    def is_locked(self) -> bool:
        return self.state in LOCKED_STATES

    @property
    def version_numbers(self) -> list[int]:
        return [version.number for version in self.versions]


ROLE_ACTORS = {
    Role.REFERENT: Actor.REFERENT,
    Role.ADMIN: Actor.DEPARTMENT_ADMIN,
    Role.REVIEWER: Actor.REVIEWER,
}


def review_actors(user, department_id: int) -> frozenset[Actor]:
    """What the user is in the review of a Département's reports (``reports.workflow.Actor``)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    actors = set()
    if user.is_superuser:
        actors.add(Actor.NATIONAL_ADMIN)
    role = department_roles(user).get(department_id)
    if role in ROLE_ACTORS:
        actors.add(ROLE_ACTORS[role])
    return frozenset(actors)


def review_state(convention_year) -> State:
    review = YearReview.objects.filter(convention_year=convention_year).first()
    return State(review.state) if review else State.DRAFT


def review_sheet(convention_year: ConventionYear, user) -> ReviewSheet:
    state = review_state(convention_year)
    open_findings = len(year_tables([convention_year])[convention_year.pk].open_entries)
    return ReviewSheet(
        state=state,
        events=list(
            ReviewEvent.objects.filter(convention_year=convention_year).select_related("actor")
        ),
        options=options(
            state,
            review_actors(user, convention_year.convention.department_id),
            open_findings=open_findings,
        ),
        open_findings=open_findings,
        versions=list(
            ReportVersion.objects.filter(convention_year=convention_year)
            .select_related("event__actor")
            .prefetch_related(
                Prefetch("files", queryset=VersionFile.objects.defer("content").order_by("slug"))
            )
            .order_by("-number")
        ),
        comments=year_comments(convention_year),
    )


def year_comments(convention_year: ConventionYear) -> list[Comment]:
    """The year's comments, open ones first, with their authors and fiches."""
    return sorted(
        Comment.objects.filter(convention_year=convention_year).select_related(
            "author", "resolved_by", "action_year"
        ),
        key=lambda comment: (comment.state != CommentState.OPEN, comment.created_at),
    )


@dataclass(frozen=True)
class VersionComparison:
    before: ReportVersion
    after: ReportVersion
    changes: list[FigureChange]


def version_comparison(convention_year: ConventionYear, before: int, after: int):
    """What changed, figure by figure, from version ``before`` to version ``after`` of the
    year (``None`` if one of them does not exist)."""
    versions = {
        version.number: version
        for version in ReportVersion.objects.filter(
            convention_year=convention_year, number__in=[before, after]
        ).select_related("event__actor")
    }
    if before not in versions or after not in versions:
        return None
    return VersionComparison(
        versions[before],
        versions[after],
        compare(versions[before].figures, versions[after].figures),
    )


def version_numbers(convention_year: ConventionYear) -> list[int]:
    return list(
        ReportVersion.objects.filter(convention_year=convention_year)
        .order_by("-number")
        .values_list("number", flat=True)
    )


# --- Consolidated view of a region or of the nation ---------------------------------------------


def consolidation_years(user, *, year: int, region_code: str | None = None):
    """What a consolidated view adds up: the region (``None``: all), the Départements the user
    sees in it, and the exercice of the year of each (the convention that started first, when
    two cover the year), by Département id."""
    from conventions.models import Department, Region

    departments = Department.objects.for_user(user).select_related("region").order_by("code")
    region = None
    if region_code:
        region = Region.objects.filter(code=region_code).first()
        departments = departments.filter(region=region)
    departments = list(departments)
    years: dict[int, ConventionYear] = {}
    for convention_year in (
        ConventionYear.objects.filter(convention__department__in=departments, year=year)
        .select_related("convention")
        .order_by("convention__start_date")
    ):
        years.setdefault(convention_year.convention.department_id, convention_year)
    return region, departments, years


def consolidation(user, *, year: int, region_code: str | None = None):
    """The execution tables of the year of the Départements the user sees (those of a region,
    if given), added up (``reports.consolidation``), in a fixed number of queries.

    The tables are not built: the database adds up the executed budgets of each thème of each
    Département (``executed_theme_amounts``), which are the amounts the tables' thème rows
    show; the national view reads about 1,100 sums instead of 18,000 budgets."""
    from reports.consolidation import DepartmentInput, consolidate

    region, departments, years = consolidation_years(user, year=year, region_code=region_code)
    amounts = executed_theme_amounts([convention_year.pk for convention_year in years.values()])
    states = dict(
        YearReview.objects.filter(convention_year__in=years.values()).values_list(
            "convention_year_id", "state"
        )
    )
    inputs = []
    for department in departments:
        convention_year = years.get(department.pk)
        state = State(states.get(convention_year.pk, State.DRAFT)) if convention_year else None
        inputs.append(
            DepartmentInput(
                code=department.code,
                name=department.name,
                table=None,
                themes=amounts.get(convention_year.pk) if convention_year else None,
                report_state=state.label if state else "Pas d'exercice",
                transmitted=state in LOCKED_STATES if state else False,
                due_date=convention_year.effective_report_due_date if convention_year else None,
            )
        )
    if region is not None:
        scope = region.name
    elif user.is_superuser:
        scope = "France entière"
    else:
        scope = "Vos Départements"
    return consolidate(year=year, scope=scope, departments=inputs, today=timezone.localdate())


def executed_theme_amounts(convention_year_ids: list[int]) -> dict[int, list]:
    """For each year that has executed budgets, its thèmes (those of its financial table) with
    the sums of their fiches' executed budgets (``reports.consolidation.ThemeAmounts``), in
    three queries, the sums computed by the database.

    The same amounts as the thème rows of the execution table (``build_execution_table``):
    E is the sum of the other funders; F is A+B+C+D+E, or the declared budget global of a fiche
    that gives no split by funder (``BudgetLine.budget_global``)."""
    from actions.models import OtherFunding
    from reports.consolidation import ThemeAmounts, Totals

    if not convention_year_ids:
        return {}
    group = {
        "year_id": F("action_year__convention_year_id"),
        "theme_id": F("action_year__theme_id"),
    }
    declared_only = Q(
        state_new__isnull=True,
        state_carried_over__isnull=True,
        cd_new__isnull=True,
        cd_carried_over__isnull=True,
        declared_total__isnull=False,
    ) & ~Exists(OtherFunding.objects.filter(budget=OuterRef("pk")))
    sums = (
        Budget.objects.filter(
            kind=BudgetKind.EXECUTED, action_year__convention_year_id__in=convention_year_ids
        )
        .values(
            **group,
            theme_code=F("action_year__theme__code"),
            theme_label=F("action_year__theme__label"),
            theme_block=F("action_year__theme__block"),
        )
        .annotate(
            a=Sum("state_new"),
            b=Sum("state_carried_over"),
            c=Sum("cd_new"),
            d=Sum("cd_carried_over"),
            declared=Sum("declared_total", filter=declared_only),
            realised=Sum("realised"),
            carry_state=Sum("carry_over_state"),
            carry_cd=Sum("carry_over_cd"),
            fiches=Count("pk"),
        )
        .order_by()
    )
    other = {
        (row["year_id"], row["theme_id"]): row["e"]
        for row in OtherFunding.objects.filter(
            budget__kind=BudgetKind.EXECUTED,
            budget__action_year__convention_year_id__in=convention_year_ids,
        )
        .values(
            year_id=F("budget__action_year__convention_year_id"),
            theme_id=F("budget__action_year__theme_id"),
        )
        .annotate(e=Sum("amount"))
        .order_by()
    }

    def cents(*values) -> Decimal:
        # SQLite sums decimals with extra digits: bring them back to cents.
        return sum((value for value in values if value is not None), ZERO).quantize(CENT)

    executed: dict[int, dict[int, tuple[Totals, int]]] = defaultdict(dict)
    themes: dict[int, dict] = {}
    for row in sums:
        themes[row["theme_id"]] = row
        e = cents(other.get((row["year_id"], row["theme_id"])))
        state, cd = cents(row["a"], row["b"]), cents(row["c"], row["d"])
        executed[row["year_id"]][row["theme_id"]] = (
            Totals(
                state=state,
                cd=cd,
                other=e,
                budget=state + cd + e + cents(row["declared"]),
                realised=cents(row["realised"]),
                carry_over=cents(row["carry_state"], row["carry_cd"]),
            ),
            row["fiches"],
        )
    result: dict[int, list[ThemeAmounts]] = defaultdict(list)
    for theme_year in ThemeYear.objects.filter(
        convention_year_id__in=list(executed)
    ).select_related("theme"):
        totals, fiches = executed[theme_year.convention_year_id].pop(
            theme_year.theme_id, (Totals(), 0)
        )
        result[theme_year.convention_year_id].append(
            ThemeAmounts(
                key=theme_year.theme.code,
                label=theme_year.label,
                block=Block(theme_year.theme.block),
                position=theme_year.position,
                totals=totals,
                fiches=fiches,
            )
        )
    # Fiches of a thème missing from the year's table (the table itself refuses them): still
    # counted, after the table's thèmes.
    for year_id, left in executed.items():
        for theme_id, (totals, fiches) in left.items():
            row = themes[theme_id]
            result[year_id].append(
                ThemeAmounts(
                    key=row["theme_code"],
                    label=row["theme_label"],
                    block=Block(row["theme_block"]),
                    position=10_000,
                    totals=totals,
                    fiches=fiches,
                )
            )
    return dict(result)
