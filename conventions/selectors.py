from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from conventions.models import ConventionYear


def convention_year_list_for_user(*, user) -> QuerySet[ConventionYear]:
    """The convention years a user may see, newest first, with their action counts."""
    return (
        ConventionYear.objects.for_user(user)
        .select_related("convention__department__region", "convention__programme")
        .annotate(action_count=Count("action_years"))
        .order_by("convention__department__code", "-year")
    )


def convention_year_for_user(user, pk: int) -> ConventionYear:
    """A year the user may see, with its convention, Département and region; 404 otherwise."""
    return get_object_or_404(
        ConventionYear.objects.for_user(user).select_related(
            "convention__department__region", "convention__programme"
        ),
        pk=pk,
    )
