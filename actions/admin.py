"""Administration of the fiches-actions, their yearly versions and their budgets."""

import hashlib
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.db.models import F, Sum
from django.db.models.functions import Length
from django.utils import formats
from simple_history.admin import SimpleHistoryAdmin

from actions.choices import BudgetKind
from actions.models import (
    EXECUTION_AMOUNT_FIELDS,
    PLANNED_AMOUNT_FIELDS,
    Action,
    ActionYear,
    Budget,
    OtherFunding,
    PendingImport,
)
from actions.resources import (
    ActionResource,
    ActionYearResource,
    BudgetResource,
    OtherFundingResource,
)
from actions.workbook import WorkbookError, open_workbook
from calpae.admin import NationalOnlyAdminMixin
from conventions.admin import ResourceAdminMixin, year_column
from conventions.locking import YearLockAdminMixin
from conventions.resources import FileRefused, check_size

PLANNED_AMOUNTS = list(PLANNED_AMOUNT_FIELDS)
EXECUTION_AMOUNTS = list(EXECUTION_AMOUNT_FIELDS)
COLUMNS_ABCD = ["state_new", "state_carried_over", "cd_new", "cd_carried_over"]


def _money(value: Decimal | None) -> str | None:
    """An amount as the admin prints money fields (2 decimals, localized); None stays empty."""
    return None if value is None else formats.number_format(value, 2)


def _budget_total(budget: Budget, other_total: Decimal | None) -> Decimal | None:
    """F = A+B+C+D+E, empty when every column is empty."""
    values = [getattr(budget, name) for name in COLUMNS_ABCD] + [other_total]
    present = [value for value in values if value is not None]
    return sum(present, Decimal(0)) if present else None


# --- inlines ---------------------------------------------------------------------------------


class ActionYearInline(admin.TabularInline):
    model = ActionYear
    fields = ["convention_year", "number", "title", "theme", "block", "status"]
    autocomplete_fields = ["convention_year", "theme"]
    extra = 0
    show_change_link = True

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("convention_year__convention__department", "theme")
        )


class KindBudgetForm(forms.ModelForm):
    """A budget form whose nature is fixed by the inline (``kind`` is not a form field)."""

    budget_kind: str = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance._state.adding:
            self.instance.kind = self.budget_kind


class PlannedBudgetForm(KindBudgetForm):
    budget_kind = BudgetKind.PLANNED


class ExecutedBudgetForm(KindBudgetForm):
    budget_kind = BudgetKind.EXECUTED


class BudgetInline(admin.StackedInline):
    """One budget of a given nature (at most one per fiche-action and exercice)."""

    model = Budget
    kind: str = ""
    extra = 0
    max_num = 1
    show_change_link = True
    readonly_fields = ["other_fundings_total"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(kind=self.kind)
            .annotate(_other_total=Sum("other_fundings__amount"))
        )

    @admin.display(description="E — autres financeurs")
    def other_fundings_total(self, obj):
        total = getattr(obj, "_other_total", None)
        if total is None:
            return "Aucun (à saisir depuis la page du budget)" if obj.pk else "-"
        return _money(total)


class PlannedBudgetInline(BudgetInline):
    kind = BudgetKind.PLANNED
    form = PlannedBudgetForm
    verbose_name = "budget prévisionnel"
    verbose_name_plural = "budget prévisionnel"
    fields = [*PLANNED_AMOUNTS, "other_fundings_total", "comment"]


class ExecutedBudgetInline(BudgetInline):
    kind = BudgetKind.EXECUTED
    form = ExecutedBudgetForm
    verbose_name = "budget exécuté"
    verbose_name_plural = "budget exécuté"
    fields = [*PLANNED_AMOUNTS, "other_fundings_total", *EXECUTION_AMOUNTS, "comment"]


class OtherFundingInline(admin.TabularInline):
    model = OtherFunding
    fields = ["funder", "funder_name", "amount"]
    extra = 0


# --- admins ----------------------------------------------------------------------------------


@admin.register(Action)
class ActionAdmin(ResourceAdminMixin, SimpleHistoryAdmin):
    resource_classes = [ActionResource]
    list_display = ["name", "code", "department", "programme"]
    list_filter = ["programme", ("department", admin.RelatedOnlyFieldListFilter)]
    search_fields = [
        "name",
        "code",
        "department__code",
        "department__name",
        "years__number",
        "years__title",
    ]
    autocomplete_fields = ["department"]
    list_select_related = ["department", "programme"]
    ordering = ["department__code", "name"]
    inlines = [ActionYearInline]


class NewVersionOnSave:
    """An admin save is a new version of the fiche: a form opened before it is then refused
    (optimistic locking) instead of silently overwriting the administrator's change."""

    def action_year_id_of(self, obj) -> int | None:
        raise NotImplementedError

    def _bump(self, obj):
        action_year_id = self.action_year_id_of(obj)
        if action_year_id:
            ActionYear.objects.filter(pk=action_year_id).update(version=F("version") + 1)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._bump(obj)

    def delete_model(self, request, obj):
        self._bump(obj)
        super().delete_model(request, obj)


@admin.register(ActionYear)
class ActionYearAdmin(YearLockAdminMixin, NewVersionOnSave, ResourceAdminMixin, SimpleHistoryAdmin):
    resource_classes = [ActionYearResource]

    def action_year_id_of(self, obj):
        return obj.pk

    def save_model(self, request, obj, form, change):
        if change:
            obj.version += 1
        super(NewVersionOnSave, self).save_model(request, obj, form, change)

    list_display = [
        "number",
        "title",
        "department",
        year_column("convention_year__year"),
        "theme",
        "block",
        "status",
    ]
    list_display_links = ["number", "title"]
    list_filter = [
        "convention_year__year",
        "block",
        "status",
        ("theme", admin.RelatedOnlyFieldListFilter),
        "convention_year__convention__programme",
        ("convention_year__convention__department", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = [
        "number",
        "sequence_number",
        "title",
        "previous_reference",
        "action__code",
        "action__name",
        "convention_year__convention__department__code",
        "convention_year__convention__department__name",
    ]
    autocomplete_fields = ["action", "convention_year", "theme"]
    list_select_related = ["convention_year__convention__department", "theme"]
    ordering = ["convention_year__convention__department__code", "convention_year__year", "number"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "action",
                    "convention_year",
                    ("theme", "block"),
                    ("number", "sequence_number", "previous_reference"),
                    "title",
                    ("status", "lead_service"),
                ]
            },
        ),
        (
            "Fiche-action",
            {
                "fields": [
                    "description",
                    ("start_date", "start_date_text"),
                    "duration",
                    "partners",
                    "objectives",
                    "fapi_funded",
                ]
            },
        ),
        ("Exécution", {"fields": ["execution_review", "outlook"]}),
    ]
    inlines = [PlannedBudgetInline, ExecutedBudgetInline]

    @admin.display(
        description="département", ordering="convention_year__convention__department__code"
    )
    def department(self, obj):
        return obj.convention_year.convention.department


@admin.register(Budget)
class BudgetAdmin(YearLockAdminMixin, NewVersionOnSave, ResourceAdminMixin, SimpleHistoryAdmin):
    resource_classes = [BudgetResource]

    def action_year_id_of(self, obj):
        return obj.action_year_id

    list_display = [
        "action_year",
        "department",
        year_column("action_year__convention_year__year"),
        "kind",
        "state_new",
        "state_carried_over",
        "cd_new",
        "cd_carried_over",
        "other_fundings_total",
        "total",
        "declared_total",
        "realised",
    ]
    list_filter = [
        "kind",
        "action_year__convention_year__year",
        "action_year__block",
        ("action_year__theme", admin.RelatedOnlyFieldListFilter),
        "action_year__convention_year__convention__programme",
        (
            "action_year__convention_year__convention__department",
            admin.RelatedOnlyFieldListFilter,
        ),
    ]
    search_fields = [
        "comment",
        "action_year__number",
        "action_year__title",
        "action_year__action__code",
        "action_year__action__name",
        "action_year__convention_year__convention__department__code",
        "action_year__convention_year__convention__department__name",
    ]
    autocomplete_fields = ["action_year"]
    list_select_related = ["action_year__convention_year__convention__department"]
    ordering = [
        "action_year__convention_year__convention__department__code",
        "action_year__convention_year__year",
        "action_year__number",
        "kind",
    ]
    readonly_fields = ["other_fundings_total", "total"]
    fieldsets = [
        (None, {"fields": ["action_year", "kind"]}),
        (
            "Budget",
            {
                "fields": [
                    ("state_new", "state_carried_over"),
                    ("cd_new", "valorisation"),
                    "cd_carried_over",
                    ("other_fundings_total", "total"),
                    "declared_total",
                ]
            },
        ),
        ("Exécution", {"fields": ["realised", *EXECUTION_AMOUNTS[1:]]}),
        (None, {"fields": ["comment"]}),
    ]
    inlines = [OtherFundingInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_other_total=Sum("other_fundings__amount"))

    @admin.display(
        description="département",
        ordering="action_year__convention_year__convention__department__code",
    )
    def department(self, obj):
        return obj.action_year.convention_year.convention.department

    @admin.display(description="E — autres financeurs", ordering="_other_total")
    def other_fundings_total(self, obj):
        return _money(getattr(obj, "_other_total", None))

    @admin.display(description="F — total (A+B+C+D+E)")
    def total(self, obj):
        if obj.pk is None:
            return None
        return _money(_budget_total(obj, getattr(obj, "_other_total", None)))


@admin.register(OtherFunding)
class OtherFundingAdmin(
    YearLockAdminMixin, NewVersionOnSave, ResourceAdminMixin, SimpleHistoryAdmin
):
    resource_classes = [OtherFundingResource]

    def action_year_id_of(self, obj):
        return obj.budget.action_year_id

    list_display = [
        "__str__",
        "funder",
        "amount",
        "budget",
        "department",
        year_column("budget__action_year__convention_year__year"),
    ]
    list_filter = [
        "funder",
        "budget__kind",
        "budget__action_year__convention_year__year",
        (
            "budget__action_year__convention_year__convention__department",
            admin.RelatedOnlyFieldListFilter,
        ),
    ]
    search_fields = [
        "funder_name",
        "budget__action_year__number",
        "budget__action_year__title",
        "budget__action_year__convention_year__convention__department__code",
        "budget__action_year__convention_year__convention__department__name",
    ]
    autocomplete_fields = ["budget"]
    list_select_related = ["budget__action_year__convention_year__convention__department"]
    ordering = [
        "budget__action_year__convention_year__convention__department__code",
        "budget__action_year__convention_year__year",
        "budget__action_year__number",
        "funder",
    ]

    @admin.display(
        description="département",
        ordering="budget__action_year__convention_year__convention__department__code",
    )
    def department(self, obj):
        return obj.budget.action_year.convention_year.convention.department


class PendingImportAddForm(forms.ModelForm):
    """A file put in a user's hands for confirmation, as a successful simulation does; its
    confirmation checks everything again."""

    file = forms.FileField(label="fichier")

    class Meta:
        model = PendingImport
        fields = ["convention_year", "user", "accept_printed_mismatch"]

    def clean_file(self):
        """The checks of the upload page before the file is kept: its size (known from the
        upload, before reading it), then type by content, zip bomb, XML entities (``open_workbook``
        checks all that before a spreadsheet library reads it)."""
        upload = self.cleaned_data["file"]
        try:
            check_size(upload.name, upload.size)
            open_workbook(upload.read(), upload.name)
        except (FileRefused, WorkbookError) as error:
            raise forms.ValidationError(str(error)) from None
        finally:
            upload.seek(0)
        return upload

    def save(self, commit=True):
        upload = self.cleaned_data["file"]
        self.instance.data = upload.read()
        self.instance.filename = upload.name
        self.instance.sha256 = hashlib.sha256(self.instance.data).hexdigest()
        return super().save(commit)


@admin.register(PendingImport)
class PendingImportAdmin(NationalOnlyAdminMixin, admin.ModelAdmin):
    """Files of successful simulations waiting for their confirmation (the upload page keeps
    them): to look at, or delete; never changed."""

    list_display = ["filename", "convention_year", "user", "created_at", "size"]
    list_select_related = ["convention_year__convention__department", "user"]
    autocomplete_fields = ["convention_year", "user"]
    ordering = ["-created_at"]
    add_form = PendingImportAddForm
    readonly_fields = [
        "filename",
        "convention_year",
        "user",
        "accept_printed_mismatch",
        "created_at",
        "size",
        "sha256",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("data").annotate(_size=Length("data"))

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["convention_year", "user", "file", "accept_printed_mismatch"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="taille (octets)", ordering="_size")
    def size(self, obj):
        return getattr(obj, "_size", None)
