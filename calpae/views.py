import logging

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from actions.selectors import year_statuses

logger = logging.getLogger("calpae.health")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"convention_years": year_statuses(request.user)})


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
