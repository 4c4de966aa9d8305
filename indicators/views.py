"""Indicator targets and values of a fiche-action (placeholder until the entry page lands)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from actions.selectors import action_year_for_user


@login_required
def action_indicators(request: HttpRequest, pk: int) -> HttpResponse:
    action_year = action_year_for_user(request.user, pk)
    return redirect("actions:detail", pk=action_year.pk)
