"""Indicator table of a fiche-action for its year: targets and values per period.

Thin, like ``actions.views``: the fiche is fetched through ``for_user`` (404 outside the user's
Départements), every write checks the editing role (403 for a prefecture reviewer), the form
validates, one service writes, the selector reads.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from actions.selectors import action_year_for_user
from actions.services import ConcurrentEditError
from calpae.permissions import can_edit, require_edit
from indicators import selectors, services
from indicators.forms import IndicatorEntryForm

CREATE_PERIOD = "creer-periode-annuelle"


@login_required
@require_http_methods(["GET", "POST"])
def action_indicators(request: HttpRequest, pk: int) -> HttpResponse:
    action_year = action_year_for_user(request.user, pk)
    convention_year = action_year.convention_year
    department = convention_year.convention.department
    if request.method == "POST":
        require_edit(request.user, department.pk)
        if CREATE_PERIOD in request.POST:
            period = services.period_annual_ensure(
                actor=request.user, department=department, year=convention_year.year
            )
            messages.success(request, f"La période « {period.label} » est disponible.")
            return redirect("indicators:action_indicators", pk=action_year.pk)
    sheet = selectors.action_indicator_sheet(action_year)
    form = IndicatorEntryForm(request.POST or None, sheet=sheet)
    conflict = None
    current = {}
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.indicator_entries_save(
                actor=request.user,
                action_year=action_year,
                version=form.cleaned_data["version"],
                targets=form.targets(),
                values=form.values(),
            )
        except ConcurrentEditError as error:
            # Nothing was written: show what was saved meanwhile, keep what the user typed.
            sheet = selectors.action_indicator_sheet(action_year)
            conflict = {"changes": selectors.entry_changes_since(sheet, error.read_version)}
            data = request.POST.copy()
            data["version"] = str(error.current_version)
            current = _saved_meanwhile(
                sheet, form.cleaned_data, selectors.cells_saved_since(sheet, error.read_version)
            )
            form = IndicatorEntryForm(data, sheet=sheet)
            form.is_valid()
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _saved_message(action_year.number, changed))
            return redirect("actions:detail", pk=action_year.pk)
    error_items = form.error_items() if form.is_bound else []
    return render(
        request,
        "indicators/action_indicators.html",
        {
            "action_year": action_year,
            "convention_year": convention_year,
            "sheet": sheet,
            "charts": selectors.indicator_charts(sheet),
            "form": form,
            "table_rows": form.table_rows(current),
            "error_items": error_items,
            "error_count": len(error_items),
            "conflict": conflict,
            "can_edit": can_edit(request.user, department.pk),
            "create_period": CREATE_PERIOD,
            "annual_period_label": f"Au 31/12/{convention_year.year}",
        },
    )


def _saved_meanwhile(sheet, posted: dict, saved_since: set[str]) -> dict[str, str]:
    """The cells saved by someone else since the page was read, where they differ from the
    user's text: shown beside the user's text, which a second save confirms."""
    return {
        cell.key: cell.raw or "vide"
        for cell in sheet.cells
        if cell.key in saved_since
        and cell.key in posted
        and cell.raw.split() != posted[cell.key].split()
    }


def _saved_message(number: str, changed: int) -> str:
    if not changed:
        return f"Indicateurs de la fiche {number} : aucune case n'a changé."
    cells = "1 case modifiée" if changed == 1 else f"{changed} cases modifiées"
    return f"Indicateurs de la fiche {number} enregistrés ({cells})."
