"""Administration of the justifications of findings, the generated documents, and (read only)
the review of the reports."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from calpae.admin import NationalOnlyAdminMixin, ReadOnlyAdminMixin
from conventions.admin import year_column
from conventions.locking import YearLockAdminMixin
from reports.models import (
    Comment,
    GeneratedDocument,
    Justification,
    ReportVersion,
    ReviewEvent,
    VersionFile,
    YearReview,
)


@admin.register(Justification)
class JustificationAdmin(NationalOnlyAdminMixin, YearLockAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "convention_year",
        year_column("convention_year__year"),
        "table",
        "rule",
        "action_key",
        "column",
        "author",
        "updated_at",
    ]
    list_filter = ["table", "rule", "convention_year__year"]
    search_fields = ["action_key", "text", "convention_year__convention__department__name"]
    list_select_related = ["convention_year__convention__department", "author"]
    autocomplete_fields = ["convention_year"]
    raw_id_fields = ["author"]


@admin.register(GeneratedDocument)
class GeneratedDocumentAdmin(NationalOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["convention_year", "slug", "fmt", "status", "created_at", "finished_at"]
    list_filter = ["status", "slug", "fmt"]
    list_select_related = ["convention_year__convention__department"]
    readonly_fields = ["data_version", "error", "created_at", "finished_at"]
    autocomplete_fields = ["convention_year"]
    raw_id_fields = ["requested_by"]


class ReadOnlyAdmin(NationalOnlyAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The review is changed by its steps only (page « Relecture du rapport », with their rules
    and reasons), never edited here."""


@admin.register(YearReview)
class YearReviewAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ["convention_year", year_column("convention_year__year"), "state", "updated_at"]
    list_filter = ["state", "convention_year__year"]
    list_select_related = ["convention_year__convention__department"]
    search_fields = ["convention_year__convention__department__name"]


@admin.register(ReviewEvent)
class ReviewEventAdmin(ReadOnlyAdmin):
    list_display = ["convention_year", "step", "from_state", "to_state", "actor", "at"]
    list_filter = ["step", "convention_year__year"]
    list_select_related = ["convention_year__convention__department", "actor"]
    search_fields = ["convention_year__convention__department__name", "reason"]


class VersionFileInline(admin.TabularInline):
    model = VersionFile
    fields = ["slug", "fmt", "status", "size", "sha256", "error"]
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReportVersion)
class ReportVersionAdmin(ReadOnlyAdmin):
    """A transmitted version never changes: shown, never edited nor deleted."""

    list_display = ["convention_year", "number", "created_at", "figures_sha256"]
    list_filter = ["convention_year__year"]
    list_select_related = ["convention_year__convention__department"]
    search_fields = ["convention_year__convention__department__name"]
    exclude = ["figures"]
    inlines = [VersionFileInline]


@admin.register(VersionFile)
class VersionFileAdmin(ReadOnlyAdmin):
    list_display = ["version", "slug", "fmt", "status", "size", "sha256"]
    list_filter = ["status", "slug", "fmt"]
    list_select_related = ["version__convention_year__convention__department"]
    exclude = ["content"]


@admin.register(Comment)
class CommentAdmin(NationalOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["convention_year", "action_year", "author", "created_at", "state"]
    list_filter = ["state", "convention_year__year"]
    list_select_related = ["convention_year__convention__department", "action_year", "author"]
    search_fields = ["text", "line", "convention_year__convention__department__name"]
    autocomplete_fields = ["convention_year"]
    raw_id_fields = ["action_year", "author", "resolved_by"]
