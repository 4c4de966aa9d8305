import logging

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from actions.selectors import year_statuses
from calpae.forms import HomeFilterForm
from conventions.models import ConventionYear, Department
from conventions.selectors import convention_year_list_for_user

logger = logging.getLogger("calpae.health")


HOME_PAGE_SIZE = 30


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The years the user sees, a page at a time, filtered by year, region or Département."""
    years = convention_year_list_for_user(user=request.user)
    departments = list(
        Department.objects.for_user(request.user).select_related("region").order_by("code")
    )
    regions = sorted({department.region for department in departments}, key=lambda r: r.name)
    form = HomeFilterForm(
        request.GET,
        years=list(
            ConventionYear.objects.for_user(request.user)
            .order_by("-year")
            .values_list("year", flat=True)
            .distinct()
        ),
        regions=regions,
        departments=departments,
    )
    form.is_valid()  # a value not offered is shown as an error and ignored, not the others
    filters = form.cleaned_data
    if filters.get("annee"):
        years = years.filter(year=filters["annee"])
    if filters.get("region"):
        years = years.filter(convention__department__region__code=filters["region"])
    if filters.get("departement"):
        years = years.filter(convention__department__code=filters["departement"])
    page = Paginator(years, HOME_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "home.html",
        {
            "convention_years": year_statuses(request.user, list(page.object_list)),
            "page": page,
            "form": form,
            # Filters are shown once there is something to filter.
            "show_filters": len(departments) > 1 or page.paginator.count > HOME_PAGE_SIZE,
            "query": query.urlencode(),
        },
    )


def health(request: HttpRequest) -> JsonResponse:
    """For the supervisor and the load balancer (README « Déploiement en production »): 200 when
    the database answers, 503 when not; with the background tasks waiting for the worker and the
    age of the oldest, which grows when no worker runs."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        waiting = DBTaskResult.objects.ready().aggregate(
            count=Count("pk"), oldest=Min("enqueued_at")
        )
    except DatabaseError:
        logger.exception("Base de données injoignable")
        return JsonResponse({"status": "error", "database": "error"}, status=503)
    oldest = waiting["oldest"]
    return JsonResponse(
        {
            "status": "ok",
            "database": "ok",
            "tasks": {
                "waiting": waiting["count"],
                "oldest_waiting_seconds": round((timezone.now() - oldest).total_seconds())
                if oldest
                else None,
            },
        }
    )
