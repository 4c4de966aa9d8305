"""Administration of the written justifications of findings."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from conventions.admin import year_column
from reports.models import GeneratedDocument, Justification


@admin.register(Justification)
class JustificationAdmin(SimpleHistoryAdmin):
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
class GeneratedDocumentAdmin(admin.ModelAdmin):
    list_display = ["convention_year", "slug", "fmt", "status", "created_at", "finished_at"]
    list_filter = ["status", "slug", "fmt"]
    list_select_related = ["convention_year__convention__department"]
    readonly_fields = ["data_version", "error", "created_at", "finished_at"]
    autocomplete_fields = ["convention_year"]
    raw_id_fields = ["requested_by"]
