"""Import and export of the fiches-actions, their years, budgets and other funders.

Natural keys: a fiche-action by Département, programme and identifier; its year by Département,
year and number (« fiche action n° »); a budget by the same and its nature (prévisionnel or
exécuté); another funder by the budget, the funder and its name. See ``conventions.resources``
for what every resource guarantees (one transaction, history, French errors, Départements).
"""

from django.db.models import F

from actions.models import Action, ActionYear, Budget, OtherFunding
from conventions.models import Programme
from conventions.resources import (
    DEPARTMENT,
    PROGRAMME,
    YEAR,
    CalpaeResource,
    CellError,
    ChoiceWidget,
    CodeWidget,
    ConventionYearWidget,
    DepartmentWidget,
    LookupWidget,
    ThemeWidget,
    cell_text,
    department_column,
    get_one,
    lookup_field,
    programme_of_convention_year,
    row_convention_year,
    row_department,
    year_column,
)

ACTION_NUMBER = "fiche action n°"


def action_number(value) -> str:
    """``"5.4."`` → ``"5.4"``, as the services store a number."""
    return cell_text(value).rstrip(".")


class ActionWidget(LookupWidget):
    """A fiche-action, by its identifier within the row's Département and programme."""

    def __init__(self, programme_of_row, **kwargs):
        super().__init__(Action, label="Fiche-action", **kwargs)
        self.programme_of_row = programme_of_row

    def lookup(self, text, row):
        department = row_department(row)
        actions = Action.objects.filter(department=department, code=text)
        programme = self.programme_of_row(row)
        if programme is not None:
            actions = actions.filter(programme=programme)
        return get_one(
            actions,
            f"Fiche-action « {text} » introuvable pour le Département {department} : importez "
            "d'abord les fiches-actions.",
            f"Plusieurs fiches-actions « {text} » pour le Département {department}.",
        )


def row_action_year(row, number: str, *, column: str | None = None) -> ActionYear:
    if not number:
        raise CellError("Indiquez le numéro de la fiche.", column=column)
    convention_year = row_convention_year(row)
    return get_one(
        ActionYear.objects.filter(convention_year=convention_year, number=number),
        f"Pas de fiche n°{number} en {convention_year.year} pour le Département "
        f"{convention_year.convention.department} : importez d'abord les fiches de l'exercice.",
        f"Plusieurs fiches n°{number} en {convention_year.year}.",
        column=column,
    )


class ActionYearWidget(LookupWidget):
    """A fiche of an exercice, by its number within the row's Département and year."""

    def __init__(self, **kwargs):
        super().__init__(
            ActionYear, field="number", label="Fiche", normalize=action_number, **kwargs
        )

    def lookup(self, text, row):
        return row_action_year(row, text)


class BudgetWidget(LookupWidget):
    """A budget, by its nature, for the fiche the row names (Département, year, number)."""

    def __init__(self, **kwargs):
        super().__init__(Budget, field="kind", label="Budget", **kwargs)
        self.kinds = ChoiceWidget(Budget._meta.get_field("kind").choices)

    def lookup(self, text, row):
        kind = self.kinds.clean(text)
        number = action_number(row.get(ACTION_NUMBER))
        action_year = row_action_year(row, number, column=ACTION_NUMBER)
        return get_one(
            Budget.objects.filter(action_year=action_year, kind=kind),
            f"La fiche n°{number} n'a pas de budget {self.kinds.render(kind).lower()} : "
            "importez d'abord les budgets.",
            "Plusieurs budgets de cette nature.",
        )

    def key(self, value):
        return self.kinds.render(value.kind)


class ActionResource(CalpaeResource):
    """Fiches-actions (identité stable), by Département, programme and identifier."""

    department = lookup_field("department", DEPARTMENT, DepartmentWidget())
    programme = lookup_field("programme", PROGRAMME, LookupWidget(Programme, label="Programme"))
    department_path = "department"
    select_related = ("department", "programme")

    class Meta:
        model = Action
        exclude = ("id",)
        import_id_fields = ("department", "programme", "code")
        export_order = ("department", "programme", "code")


class ActionYearResource(CalpaeResource):
    """Fiches of an exercice, by Département, year and number."""

    department = department_column("convention_year__convention__department")
    convention_year = lookup_field("convention_year", YEAR, ConventionYearWidget())
    action = lookup_field("action", "fiche-action", ActionWidget(programme_of_convention_year))
    theme = lookup_field("theme", "thème", ThemeWidget(programme_of_convention_year))
    department_path = "convention_year__convention__department"
    context_columns = (DEPARTMENT,)
    select_related = ("convention_year__convention__department", "action", "theme")

    class Meta:
        model = ActionYear
        # ``version`` is the optimistic lock of the data-entry forms, not data.
        exclude = ("id", "version")
        import_id_fields = ("convention_year", "number")
        export_order = ("department", "convention_year", "number", "action")

    @classmethod
    def field_from_django_field(cls, field_name, django_field, readonly):
        field = super().field_from_django_field(field_name, django_field, readonly)
        if field_name == "number":
            field.widget = CodeWidget(normalize=action_number)
        return field

    def before_save_instance(self, instance, row, **kwargs):
        super().before_save_instance(instance, row, **kwargs)
        # A new version, as an admin save: a form opened before the import is then refused
        # instead of overwriting the imported values.
        if not instance._state.adding:
            instance.version += 1


class NewVersionOfActionYear:
    """A change of a budget or another funder is a new version of its fiche (see above)."""

    def action_year_id_of(self, instance) -> int:
        raise NotImplementedError

    def after_save_instance(self, instance, row, **kwargs):
        super().after_save_instance(instance, row, **kwargs)
        ActionYear.objects.filter(pk=self.action_year_id_of(instance)).update(
            version=F("version") + 1
        )


class BudgetResource(NewVersionOfActionYear, CalpaeResource):
    """Budgets prévisionnels et exécutés, by Département, year, fiche number and nature."""

    department = department_column("action_year__convention_year__convention__department")
    year = year_column("action_year__convention_year")
    action_year = lookup_field("action_year", ACTION_NUMBER, ActionYearWidget())
    department_path = "action_year__convention_year__convention__department"
    context_columns = (DEPARTMENT, YEAR)
    select_related = ("action_year__convention_year__convention__department",)

    class Meta:
        model = Budget
        exclude = ("id",)
        import_id_fields = ("action_year", "kind")
        export_order = ("department", "year", "action_year", "kind")

    def action_year_id_of(self, instance):
        return instance.action_year_id


class OtherFundingResource(NewVersionOfActionYear, CalpaeResource):
    """Autres financeurs (colonne E), by budget, funder and funder's name."""

    department = department_column("budget__action_year__convention_year__convention__department")
    year = year_column("budget__action_year__convention_year")
    number = lookup_field("budget__action_year__number", ACTION_NUMBER, CodeWidget(), readonly=True)
    budget = lookup_field("budget", "budget", BudgetWidget())
    department_path = "budget__action_year__convention_year__convention__department"
    context_columns = (DEPARTMENT, YEAR, ACTION_NUMBER)
    select_related = ("budget__action_year__convention_year__convention__department",)

    class Meta:
        model = OtherFunding
        exclude = ("id",)
        import_id_fields = ("budget", "funder", "funder_name")
        export_order = ("department", "year", "number", "budget", "funder", "funder_name")

    def action_year_id_of(self, instance):
        return instance.budget.action_year_id


RESOURCES = [ActionResource, ActionYearResource, BudgetResource, OtherFundingResource]
