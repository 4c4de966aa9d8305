"""Who may change what: a user's role in each Département (``Membership``).

Reading is scoped by the querysets' ``for_user(user)``; a page outside that scope is a 404, so
that nobody learns what another Département holds. Writing additionally needs an editing role:
a prefecture reviewer reads, and gets a 403 on every form.
"""

from django.core.exceptions import PermissionDenied

from conventions.choices import Role
from conventions.models import Department, Membership

EDITOR_ROLES = frozenset({Role.AGENT, Role.REFERENT, Role.ADMIN})
# Importing a whole table rewrites many fiches at once: the Département's administrators only.
IMPORT_ROLES = frozenset({Role.ADMIN})

READ_ONLY_MESSAGE = "Votre rôle auprès de ce Département ne permet que la lecture."
IMPORT_MESSAGE = "Seuls les administrateurs du Département peuvent importer un tableau."


def department_roles(user) -> dict[int, str]:
    """``{department_id: role}`` for the user, read once per request."""
    if not user.is_authenticated:
        return {}
    cached = getattr(user, "_calpae_roles", None)
    if cached is None:
        # A regional reviewer reviews every Département of the region; a role given in the
        # Département itself comes first.
        cached = dict.fromkeys(
            Department.objects.filter(region__reviewers__user=user).values_list("pk", flat=True),
            Role.REVIEWER,
        )
        cached.update(Membership.objects.filter(user=user).values_list("department_id", "role"))
        user._calpae_roles = cached
    return cached


def can_edit(user, department_id: int) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return department_roles(user).get(department_id) in EDITOR_ROLES


def require_edit(user, department_id: int) -> None:
    if not can_edit(user, department_id):
        raise PermissionDenied(READ_ONLY_MESSAGE)


def can_import(user, department_id: int) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return department_roles(user).get(department_id) in IMPORT_ROLES


def require_import(user, department_id: int) -> None:
    if not can_edit(user, department_id):
        raise PermissionDenied(READ_ONLY_MESSAGE)
    if not can_import(user, department_id):
        raise PermissionDenied(IMPORT_MESSAGE)
