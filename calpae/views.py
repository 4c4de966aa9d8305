from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from actions.selectors import year_statuses


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"convention_years": year_statuses(request.user)})


def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
