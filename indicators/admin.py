"""Administration of the indicators, the periods, the values, the targets and the matrix."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from conventions.admin import ResourceAdminMixin, year_column
from conventions.locking import YearLockAdminMixin
from indicators.models import Indicator, IndicatorTarget, IndicatorValue, MatrixEntry, Period
from indicators.resources import (
    IndicatorResource,
    IndicatorTargetResource,
    IndicatorValueResource,
    MatrixEntryResource,
    PeriodResource,
)


class ScopeListFilter(admin.SimpleListFilter):
    """National catalogue (no département) or local indicators."""

    title = "portée"
    parameter_name = "portee"

    def lookups(self, request, model_admin):
        return [("national", "Catalogue national"), ("local", "Propre à un Département")]

    def queryset(self, request, queryset):
        if self.value() == "national":
            return queryset.filter(department__isnull=True)
        if self.value() == "local":
            return queryset.filter(department__isnull=False)
        return queryset


# --- inlines ---------------------------------------------------------------------------------


class IndicatorTargetInline(admin.TabularInline):
    model = IndicatorTarget
    fields = ["convention_year", "raw", "number", "status", "comment"]
    autocomplete_fields = ["convention_year"]
    extra = 0
    show_change_link = True

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("convention_year__convention__department")
        )


class IndicatorValueInline(admin.TabularInline):
    model = IndicatorValue
    fields = ["period", "raw", "number", "status", "realigned", "comment"]
    autocomplete_fields = ["period"]
    extra = 0
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("period")


# --- admins ----------------------------------------------------------------------------------


@admin.register(Indicator)
class IndicatorAdmin(ResourceAdminMixin, SimpleHistoryAdmin):
    resource_classes = [IndicatorResource]
    list_display = [
        "code",
        "label",
        "programme",
        "department",
        "theme",
        "action",
        "unit",
        "direction",
    ]
    list_display_links = ["code", "label"]
    list_filter = [
        ScopeListFilter,
        "programme",
        ("department", admin.RelatedOnlyFieldListFilter),
        ("theme", admin.RelatedOnlyFieldListFilter),
        "unit",
        "direction",
    ]
    search_fields = [
        "code",
        "label",
        "definition",
        "action__code",
        "action__name",
        "department__code",
        "department__name",
    ]
    autocomplete_fields = ["department", "theme", "action", "parent"]
    list_select_related = ["programme", "department", "theme", "action"]
    ordering = ["programme__start_year", "department__code", "code"]
    fieldsets = [
        (None, {"fields": ["programme", "code", "label", "definition", ("unit", "direction")]}),
        ("Rattachement", {"fields": ["department", "theme", "action", "parent"]}),
    ]
    inlines = [IndicatorTargetInline, IndicatorValueInline]


@admin.register(Period)
class PeriodAdmin(ResourceAdminMixin, SimpleHistoryAdmin):
    resource_classes = [PeriodResource]
    list_display = [
        "label",
        "department",
        "kind",
        year_column("year"),
        "start_date",
        "end_date",
    ]
    list_filter = ["kind", "year", ("department", admin.RelatedOnlyFieldListFilter)]
    # The label alone repeats from one département to the next: search by département too.
    search_fields = ["label", "department__code", "department__name"]
    autocomplete_fields = ["department"]
    list_select_related = ["department"]
    ordering = ["department__code", "end_date", "start_date"]


@admin.register(IndicatorValue)
class IndicatorValueAdmin(YearLockAdminMixin, ResourceAdminMixin, SimpleHistoryAdmin):
    resource_classes = [IndicatorValueResource]
    list_display = [
        "indicator",
        "period",
        "department",
        "raw",
        "number",
        "status",
        "realigned",
    ]
    list_filter = [
        "status",
        "realigned",
        "period__year",
        "period__kind",
        "indicator__programme",
        ("period__department", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = [
        "raw",
        "comment",
        "indicator__code",
        "indicator__label",
        "period__label",
        "period__department__code",
        "period__department__name",
    ]
    autocomplete_fields = ["indicator", "period"]
    list_select_related = ["indicator", "period__department"]
    ordering = ["period__department__code", "indicator__code", "period__end_date"]

    @admin.display(description="département", ordering="period__department__code")
    def department(self, obj):
        return obj.period.department


@admin.register(IndicatorTarget)
class IndicatorTargetAdmin(YearLockAdminMixin, ResourceAdminMixin, SimpleHistoryAdmin):
    resource_classes = [IndicatorTargetResource]
    list_display = ["indicator", "convention_year", "raw", "number", "status"]
    list_filter = [
        "status",
        "convention_year__year",
        "indicator__programme",
        ("convention_year__convention__department", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = [
        "raw",
        "comment",
        "indicator__code",
        "indicator__label",
        "convention_year__convention__department__code",
        "convention_year__convention__department__name",
    ]
    autocomplete_fields = ["indicator", "convention_year"]
    list_select_related = ["indicator", "convention_year__convention__department"]
    ordering = [
        "convention_year__convention__department__code",
        "convention_year__year",
        "indicator__code",
    ]


@admin.register(MatrixEntry)
class MatrixEntryAdmin(YearLockAdminMixin, ResourceAdminMixin, SimpleHistoryAdmin):
    resource_classes = [MatrixEntryResource]
    list_display = [
        "convention_year",
        "position",
        "group_label",
        "measure_label",
        "indicator",
        "action_year",
    ]
    list_display_links = ["convention_year", "position"]
    list_filter = [
        "convention_year__year",
        "indicator__programme",
        ("convention_year__convention__department", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = [
        "group_label",
        "measure_label",
        "printed_label",
        "indicator__code",
        "indicator__label",
        "action_year__number",
        "convention_year__convention__department__code",
        "convention_year__convention__department__name",
    ]
    autocomplete_fields = ["convention_year", "indicator", "action_year"]
    list_select_related = [
        "convention_year__convention__department",
        "indicator",
        "action_year",
    ]
    ordering = [
        "convention_year__convention__department__code",
        "convention_year__year",
        "position",
    ]
