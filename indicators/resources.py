"""Import and export of the indicators, the periods, the values, the targets and the matrix.

Natural keys: an indicator by programme, Département (empty for the national catalogue) and
identifier; a period by Département and column label; a value by indicator, Département and
period; a target and a matrix row by indicator, Département and year. See
``conventions.resources`` for what every resource guarantees.

A value or a target may be given as printed only (« valeur saisie »: ``"195 dont 26
finalisés"``, ``"Non contractualisé"``): empty « valeur » and « statut » cells are then read from
that text, as the data-entry forms do.
"""

from django.db.models import F, Q

from actions.models import Action
from actions.resources import ACTION_NUMBER, ActionYearWidget
from conventions.models import Department, Programme
from conventions.resources import (
    DEPARTMENT,
    NATIONAL,
    PROGRAMME,
    YEAR,
    CalpaeResource,
    CellError,
    ConventionYearWidget,
    DepartmentWidget,
    LookupWidget,
    ThemeWidget,
    cell_text,
    department_column,
    get_one,
    lookup_field,
    programme_column,
    programme_from_column,
    row_department,
)
from indicators.models import Indicator, IndicatorTarget, IndicatorValue, MatrixEntry, Period
from indicators.parsing import parse_indicator_value

INDICATOR = "indicateur"


class IndicatorWidget(LookupWidget):
    """An indicator, by identifier: the row's Département's own, else the national one."""

    def __init__(self, **kwargs):
        super().__init__(Indicator, label="Indicateur", **kwargs)

    def lookup(self, text, row):
        department = row_department(row, required=False)
        indicators = Indicator.objects.filter(code=text)
        programme = programme_from_column(row)
        if programme is not None:
            indicators = indicators.filter(programme=programme)
        if department is not None and indicators.filter(department=department).exists():
            indicators = indicators.filter(department=department)
        else:
            indicators = indicators.filter(department__isnull=True)
        where = f"ni du Département {department}, ni " if department is not None else ""
        return get_one(
            indicators,
            f"Indicateur « {text} » introuvable ({where}du catalogue national) : importez "
            "d'abord les indicateurs.",
            f"Plusieurs indicateurs « {text} » : indiquez le programme.",
        )


class ActionCodeWidget(LookupWidget):
    """The fiche-action of a local indicator, by identifier within its Département and
    programme."""

    def __init__(self, **kwargs):
        super().__init__(Action, label="Fiche-action", **kwargs)

    def lookup(self, text, row):
        department = row_department(row, required=False)
        if department is None:
            raise CellError(
                "Un indicateur propre à une fiche-action a un Département.", column=DEPARTMENT
            )
        actions = Action.objects.filter(department=department, code=text)
        programme = programme_from_column(row)
        if programme is not None:
            actions = actions.filter(programme=programme)
        return get_one(
            actions,
            f"Fiche-action « {text} » introuvable pour le Département {department}.",
            f"Plusieurs fiches-actions « {text} » pour le Département {department}.",
        )


class PeriodWidget(LookupWidget):
    """A period, by its column label within the row's Département."""

    def __init__(self, **kwargs):
        super().__init__(Period, field="label", label="Période", **kwargs)

    def lookup(self, text, row):
        department = row_department(row)
        return get_one(
            Period.objects.filter(department=department, label=text),
            f"Période « {text} » introuvable pour le Département {department} : importez "
            "d'abord les périodes.",
            f"Plusieurs périodes « {text} ».",
        )


class ParsedValueMixin:
    """Number and status read from the text as printed when their cells are empty."""

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        number_empty = not cell_text(row.get(self.fields["number"].column_name))
        status_empty = not cell_text(row.get(self.fields["status"].column_name))
        if not (number_empty or status_empty) or not instance.raw:
            return
        parsed = parse_indicator_value(instance.raw)
        if parsed is None:
            return
        if number_empty and status_empty:
            instance.number = parsed.number
        if status_empty:
            instance.status = parsed.status


class IndicatorResource(CalpaeResource):
    """Indicators: the national catalogue (no Département) and the Départements' own."""

    programme = lookup_field("programme", PROGRAMME, LookupWidget(Programme, label="Programme"))
    department = lookup_field("department", DEPARTMENT, DepartmentWidget())
    theme = lookup_field("theme", "thème", ThemeWidget(programme_from_column))
    action = lookup_field("action", "fiche-action", ActionCodeWidget())
    parent = lookup_field("parent", "indicateur parent", IndicatorWidget())
    department_path = "department"
    select_related = ("programme", "department", "theme", "action", "parent")

    class Meta:
        model = Indicator
        exclude = ("id",)
        import_id_fields = ("programme", "department", "code")
        export_order = ("programme", "department", "code")

    def department_id_of(self, instance):
        # An indicator without Département is one of the national catalogue.
        return instance.department_id or NATIONAL

    @classmethod
    def scope_queryset(cls, queryset, user):
        if user is None or (user.is_active and user.is_superuser):
            return queryset
        return queryset.filter(
            Q(department__isnull=True) | Q(department__in=Department.objects.for_user(user))
        )

    def filter_export(self, queryset, **kwargs):
        # Parents first: a new « dont » sub-indicator names a parent already imported.
        return (
            super()
            .filter_export(queryset, **kwargs)
            .order_by(
                F("parent").asc(nulls_first=True),
                "programme__start_year",
                F("department__code").asc(nulls_first=True),
                "code",
            )
        )


class PeriodResource(CalpaeResource):
    """Periods (columns of a Département's matrix), by Département and label."""

    department = lookup_field("department", DEPARTMENT, DepartmentWidget())
    department_path = "department"
    select_related = ("department",)

    class Meta:
        model = Period
        exclude = ("id",)
        import_id_fields = ("department", "label")
        export_order = ("department", "label")


class IndicatorValueResource(ParsedValueMixin, CalpaeResource):
    """Values of an indicator, by indicator, Département and period."""

    department = department_column("period__department")
    programme = programme_column("indicator__programme")
    indicator = lookup_field("indicator", INDICATOR, IndicatorWidget())
    period = lookup_field("period", "période", PeriodWidget())
    department_path = "period__department"
    context_columns = (DEPARTMENT,)
    select_related = ("period__department", "indicator__programme")

    class Meta:
        model = IndicatorValue
        exclude = ("id",)
        import_id_fields = ("indicator", "period")
        export_order = ("department", "programme", "indicator", "period")


class IndicatorTargetResource(ParsedValueMixin, CalpaeResource):
    """Targets (« résultat attendu »), by indicator, Département and year."""

    department = department_column("convention_year__convention__department")
    programme = programme_column("indicator__programme")
    indicator = lookup_field("indicator", INDICATOR, IndicatorWidget())
    convention_year = lookup_field("convention_year", YEAR, ConventionYearWidget())
    department_path = "convention_year__convention__department"
    context_columns = (DEPARTMENT,)
    select_related = ("convention_year__convention__department", "indicator__programme")

    class Meta:
        model = IndicatorTarget
        exclude = ("id",)
        import_id_fields = ("indicator", "convention_year")
        export_order = ("department", "convention_year", "programme", "indicator")


class MatrixEntryResource(CalpaeResource):
    """Rows of an exercice's indicator matrix, by Département, year and indicator."""

    department = department_column("convention_year__convention__department")
    programme = programme_column("indicator__programme")
    convention_year = lookup_field("convention_year", YEAR, ConventionYearWidget())
    indicator = lookup_field("indicator", INDICATOR, IndicatorWidget())
    action_year = lookup_field("action_year", ACTION_NUMBER, ActionYearWidget())
    department_path = "convention_year__convention__department"
    context_columns = (DEPARTMENT,)
    select_related = (
        "convention_year__convention__department",
        "indicator__programme",
        "action_year",
    )

    class Meta:
        model = MatrixEntry
        exclude = ("id",)
        import_id_fields = ("convention_year", "indicator")
        export_order = ("department", "convention_year", "programme", "indicator")


RESOURCES = [
    IndicatorResource,
    PeriodResource,
    IndicatorValueResource,
    IndicatorTargetResource,
    MatrixEntryResource,
]
