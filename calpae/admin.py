"""Administration of the project-wide records: the refused accesses, read only; and the rule
of the records that cross Départements."""

from django.contrib import admin

from calpae.models import AccessDenial


class NationalOnlyAdminMixin:
    """The administration of records that are not filtered by Département (memberships, regional
    reviewers, the review of the reports, kept import files, refused accesses): the national
    administrator's (superuser) only, whatever permissions a staff member of a Département was
    given — with them, the list would show every Département's rows (tests/test_security.py)."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return request.user.is_superuser and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)


class ReadOnlyAdminMixin:
    """Records written by the application only (its rules and reasons), never in the admin."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessDenial)
class AccessDenialAdmin(NationalOnlyAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Refusals are written by the 403 handler only: read, never added, changed or deleted."""

    list_display = ["at", "username", "method", "path", "message", "ip"]
    list_filter = ["at", "method"]
    search_fields = ["username", "path", "message", "ip"]
    date_hierarchy = "at"
    list_select_related = ["user"]
    fields = ["at", "user", "username", "method", "path", "message", "ip"]
    readonly_fields = fields
