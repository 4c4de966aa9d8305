from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from conventions.selectors import convention_year_list_for_user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    years = convention_year_list_for_user(user=request.user)
    return render(request, "home.html", {"convention_years": years})


def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
