"""Administration of the reference catalogues and of the conventions and their years."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from import_export.admin import ImportExportMixin
from import_export.forms import ImportForm as BaseImportForm
from import_export.forms import SelectableFieldsExportForm
from simple_history.admin import SimpleHistoryAdmin

from calpae.admin import NationalOnlyAdminMixin
from conventions.locking import YearLockAdminMixin
from conventions.models import (
    Amendment,
    ChorusCode,
    Convention,
    ConventionYear,
    Department,
    Membership,
    Programme,
    Region,
    RegionalReviewer,
    StateEnvelope,
    Theme,
    ThemeYear,
)
from conventions.resources import (
    FORMATS,
    AmendmentResource,
    ChorusCodeResource,
    ConventionResource,
    ConventionYearResource,
    DepartmentResource,
    FileRefused,
    ProgrammeResource,
    RegionResource,
    StateEnvelopeResource,
    ThemeResource,
    ThemeYearResource,
    check_size,
    result_messages,
)


def year_column(path: str, description: str = "année"):
    """A list_display column for a year, printed ``2022`` (not ``2 022`` with grouping on)."""

    @admin.display(description=description, ordering=path)
    def column(obj):
        value = obj
        for name in path.split("__"):
            value = getattr(value, name, None)
        return None if value is None else str(value)

    column.__name__ = path
    return column


class ExportForm(SelectableFieldsExportForm):
    """The columns to export, named as in the file (the library adds the English field name)."""

    def _get_field_label(self, resource, field_name):
        field = resource.fields.get(field_name)
        return field.column_name if field else field_name


class ImportForm(BaseImportForm):
    """The file to import, refused before it is read when it is too large (its size is known
    from the upload), or when its content is not of the chosen format, or is a zip bomb
    (``conventions.resources.XLSX.check``, ``CSV.check``): a French message, nothing stored."""

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.formats = formats

    def clean(self):
        cleaned_data = super().clean()
        upload = cleaned_data.get("import_file")
        chosen = cleaned_data.get("format")
        if upload is None or chosen in (None, ""):
            return cleaned_data
        try:
            check_size(upload.name, upload.size)
            file_format = self.formats[int(chosen)]
            upload.seek(0)
            file_format.check(upload.read(), upload.name)
        except FileRefused as error:
            self.add_error("import_file", str(error))
        finally:
            upload.seek(0)
        return cleaned_data


class ResourceAdminMixin(ImportExportMixin):
    """Import (with its dry-run preview and confirm step) and export, XLSX or CSV, through the
    model's resource (``resources.py``: natural keys, one transaction, history, French errors).

    A user who is not a superuser sees, exports and imports only the rows of their Départements
    (``for_user``, the resource's ``scope_queryset``); the resource refuses, with a French error
    naming the line, a row of another Département or of a national catalogue. Importing needs
    the add and change permissions of the model, exporting the view permission.
    """

    import_error_display = ("message",)
    import_form_class = ImportForm
    export_form_class = ExportForm

    @property
    def formats(self):
        return FORMATS

    def get_resource_kwargs(self, request, *args, **kwargs):
        return {"user": request.user}

    def get_export_data(self, file_format, request, queryset, **kwargs):
        # The library gives typed cells (numbers, dates) to its own XLSX class only. Both of
        # the project's formats write bytes (the CSV in UTF-8 with a BOM).
        if not self.has_export_permission(request):
            raise PermissionDenied
        dataset = self.get_data_for_export(
            request, queryset, force_native_type=file_format.native_cells, **kwargs
        )
        return file_format.export_data(dataset)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return self.get_resource_classes(request)[0].scope_queryset(queryset, request.user)

    def _outside_scope(self, request, object_id) -> bool:
        """A row the user may not read (another Département's, or deleted since), for anyone
        but a superuser: django-simple-history's pages look the row up in its history, not in
        ``get_queryset``, and would show it, or revert it."""
        user = request.user
        if user.is_active and user.is_superuser:
            return False
        try:
            return not self.get_queryset(request).filter(pk=unquote(object_id)).exists()
        except (ValidationError, ValueError):
            return True

    def history_view(self, request, object_id, extra_context=None):
        if self._outside_scope(request, object_id):
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # Only on a SimpleHistoryAdmin, the only admin that has this page.
        if self._outside_scope(request, object_id):
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def process_result(self, result, request):
        # The confirm step imports the file again: if the data changed since the preview and a
        # row is now refused, the transaction was rolled back; say so instead of "terminé".
        errors = result_messages(result)
        if not errors:
            return super().process_result(result, request)
        shown = " ".join(errors[:5]) + (" …" if len(errors) > 5 else "")
        self.message_user(
            request,
            f"Import annulé, rien n'a été enregistré : {shown}",
            level=messages.ERROR,
        )
        info = self.get_model_info()
        return HttpResponseRedirect(reverse("admin:{}_{}_import".format(*info)))

    def has_import_permission(self, request):
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request):
        return self.has_view_permission(request)


# --- inlines ---------------------------------------------------------------------------------


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "role"]
    autocomplete_fields = ["user"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


class AmendmentInline(admin.TabularInline):
    model = Amendment
    fields = [
        "number",
        "kind",
        "year",
        "signature_date",
        "state_amount",
        "new_end_date",
        "deliberation_reference",
    ]
    extra = 0
    show_change_link = True


class ConventionYearInline(admin.TabularInline):
    model = ConventionYear
    fields = [
        "year",
        "amendment",
        "state_credit",
        "state_credit_notified_on",
        "report_due_date",
        "report_deliberation_date",
    ]
    extra = 0
    show_change_link = True

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # The form class is built for this request: only the convention's own avenants.
        field = formset.form.base_fields.get("amendment")
        if field is not None:
            field.queryset = field.queryset.filter(convention=obj) if obj else field.queryset.none()
        return formset


class ThemeYearInline(admin.TabularInline):
    model = ThemeYear
    fields = [
        "position",
        "theme",
        "printed_label",
        "chorus_note",
        "carried_over_state",
        "carried_over_cd",
    ]
    autocomplete_fields = ["theme"]
    extra = 0
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("theme")


class StateEnvelopeInline(admin.TabularInline):
    model = StateEnvelope
    fields = ["kind", "amount", "themes", "note"]
    autocomplete_fields = ["themes"]
    extra = 0


# --- reference catalogues --------------------------------------------------------------------


@admin.register(Region)
class RegionAdmin(ResourceAdminMixin, admin.ModelAdmin):
    resource_classes = [RegionResource]
    list_display = ["code", "name", "of_name", "department_count"]
    search_fields = ["code", "name"]
    ordering = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_department_count=Count("departments"))

    @admin.display(description="départements", ordering="_department_count")
    def department_count(self, obj):
        return obj._department_count


@admin.register(Department)
class DepartmentAdmin(ResourceAdminMixin, admin.ModelAdmin):
    resource_classes = [DepartmentResource]
    list_display = ["code", "name", "of_name", "region"]
    list_filter = ["region"]
    search_fields = ["code", "name", "of_name"]
    list_select_related = ["region"]
    ordering = ["code"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(NationalOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["user", "department", "role"]
    list_filter = ["role", ("department", admin.RelatedOnlyFieldListFilter)]
    search_fields = [
        "user__username",
        "user__first_name",
        "user__last_name",
        "user__email",
        "department__code",
        "department__name",
    ]
    autocomplete_fields = ["user", "department"]
    list_select_related = ["user", "department"]
    ordering = ["department__code", "user__username"]


@admin.register(Programme)
class ProgrammeAdmin(ResourceAdminMixin, admin.ModelAdmin):
    resource_classes = [ProgrammeResource]
    list_display = [
        "code",
        "name",
        year_column("start_year", "première année"),
        year_column("end_year", "dernière année"),
    ]
    search_fields = ["code", "name"]
    ordering = ["start_year"]


@admin.register(ChorusCode)
class ChorusCodeAdmin(ResourceAdminMixin, admin.ModelAdmin):
    resource_classes = [ChorusCodeResource]
    list_display = ["code", "description"]
    search_fields = ["code", "description"]
    ordering = ["code"]


@admin.register(Theme)
class ThemeAdmin(ResourceAdminMixin, admin.ModelAdmin):
    resource_classes = [ThemeResource]
    list_display = [
        "position",
        "code",
        "short_label",
        "programme",
        "block",
        "chorus_code",
        "is_optional",
    ]
    list_display_links = ["code", "short_label"]
    list_filter = ["programme", "block", "is_optional"]
    search_fields = ["code", "label", "short_label", "chorus_code__code"]
    list_select_related = ["programme", "chorus_code"]
    ordering = ["programme__start_year", "position", "code"]


# --- conventions -----------------------------------------------------------------------------


@admin.register(Convention)
class ConventionAdmin(ResourceAdminMixin, SimpleHistoryAdmin):
    resource_classes = [ConventionResource]
    list_display = [
        "title",
        "department",
        "programme",
        "start_date",
        "end_date",
        "signature_date",
    ]
    list_filter = ["programme", ("department", admin.RelatedOnlyFieldListFilter)]
    search_fields = [
        "title",
        "department__code",
        "department__name",
        "deliberation_reference",
    ]
    autocomplete_fields = ["department"]
    list_select_related = ["department", "programme"]
    ordering = ["department__code", "start_date"]
    date_hierarchy = "start_date"
    fieldsets = [
        (None, {"fields": ["department", "programme", "title", ("start_date", "end_date")]}),
        (
            "Signature",
            {
                "fields": [
                    ("signature_date", "signature_place"),
                    "state_party",
                    "department_party",
                    ("deliberation_reference", "deliberation_date"),
                ]
            },
        ),
        ("Notes", {"fields": ["notes"]}),
    ]
    inlines = [AmendmentInline, ConventionYearInline]


@admin.register(Amendment)
class AmendmentAdmin(ResourceAdminMixin, SimpleHistoryAdmin):
    resource_classes = [AmendmentResource]
    list_display = [
        "__str__",
        "convention",
        "kind",
        year_column("year", "année concernée"),
        "signature_date",
        "state_amount",
        "new_end_date",
    ]
    list_filter = [
        "kind",
        "year",
        "convention__programme",
        ("convention__department", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = [
        "summary",
        "deliberation_reference",
        "convention__title",
        "convention__department__code",
        "convention__department__name",
    ]
    autocomplete_fields = ["convention"]
    list_select_related = ["convention__department"]
    ordering = ["convention__department__code", "convention__start_date", "year", "number"]


@admin.register(ConventionYear)
class ConventionYearAdmin(YearLockAdminMixin, ResourceAdminMixin, SimpleHistoryAdmin):
    resource_classes = [ConventionYearResource]
    list_display = [
        "__str__",
        "convention",
        year_column("year"),
        "state_credit",
        "state_credit_notified_on",
        "report_due_date",
    ]
    list_filter = [
        "year",
        "convention__programme",
        ("convention__department", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = [
        "convention__title",
        "convention__department__code",
        "convention__department__name",
    ]
    autocomplete_fields = ["convention"]
    list_select_related = ["convention__department", "convention__programme"]
    ordering = ["convention__department__code", "year"]
    fieldsets = [
        (None, {"fields": ["convention", "year"]}),
        (
            "Crédit État",
            {
                "fields": [
                    "amendment",
                    "state_credit",
                    "state_credit_notified_on",
                    "state_credit_note",
                ]
            },
        ),
        (
            "Rapport d'exécution",
            {
                "fields": [
                    ("period_start", "period_end"),
                    "report_due_date",
                    ("report_deliberation_reference", "report_deliberation_date"),
                ]
            },
        ),
    ]
    inlines = [ThemeYearInline, StateEnvelopeInline]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # Only the avenants of the same convention (none until the convention is chosen).
        field = form.base_fields.get("amendment")
        if field is not None:
            field.queryset = (
                field.queryset.filter(convention_id=obj.convention_id)
                if obj
                else field.queryset.none()
            )
        return form


@admin.register(ThemeYear)
class ThemeYearAdmin(YearLockAdminMixin, ResourceAdminMixin, SimpleHistoryAdmin):
    resource_classes = [ThemeYearResource]
    list_display = [
        "position",
        "__str__",
        "theme",
        "convention_year",
        "carried_over_state",
        "carried_over_cd",
    ]
    list_display_links = ["__str__"]
    list_filter = [
        "convention_year__year",
        "theme__programme",
        "theme__block",
        ("convention_year__convention__department", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = [
        "printed_label",
        "chorus_note",
        "theme__code",
        "theme__label",
        "theme__short_label",
        "convention_year__convention__department__code",
        "convention_year__convention__department__name",
    ]
    autocomplete_fields = ["convention_year", "theme"]
    list_select_related = ["convention_year__convention__department", "theme"]
    ordering = [
        "convention_year__convention__department__code",
        "convention_year__year",
        "position",
    ]


@admin.register(StateEnvelope)
class StateEnvelopeAdmin(YearLockAdminMixin, ResourceAdminMixin, SimpleHistoryAdmin):
    resource_classes = [StateEnvelopeResource]
    list_display = ["convention_year", "kind", "amount", "theme_list", "note"]
    list_filter = [
        "kind",
        "convention_year__year",
        "themes",
        ("convention_year__convention__department", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = [
        "note",
        "themes__code",
        "themes__short_label",
        "convention_year__convention__department__code",
        "convention_year__convention__department__name",
    ]
    autocomplete_fields = ["convention_year", "themes"]
    list_select_related = ["convention_year__convention__department"]
    ordering = ["convention_year__convention__department__code", "convention_year__year", "kind"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("themes")

    @admin.display(description="thèmes")
    def theme_list(self, obj):
        return ", ".join(str(theme) for theme in obj.themes.all())


@admin.register(RegionalReviewer)
class RegionalReviewerAdmin(NationalOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["user", "region"]
    list_filter = ["region"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "region__name"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "region"]
