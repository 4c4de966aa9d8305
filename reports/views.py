"""Findings of a year's tables, and their written justifications."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from actions.forms import JustificationForm
from actions.models import ActionYear
from calpae.permissions import can_edit, require_edit
from conventions.models import ConventionYear
from conventions.selectors import convention_year_for_user
from reports import services
from reports.documents import CONTENT_TYPES, DocumentError, get_document
from reports.documents import render as render_document
from reports.models import GenerationStatus
from reports.selectors import year_tables


def _convention_year(request: HttpRequest, pk: int) -> ConventionYear:
    return convention_year_for_user(request.user, pk)


@login_required
@require_safe
def findings(request: HttpRequest, pk: int) -> HttpResponse:
    convention_year = _convention_year(request, pk)
    tables = year_tables([convention_year])[convention_year.pk]
    entries = sorted(tables.entries, key=lambda entry: (not entry.is_open, not entry.is_error))
    return render(
        request,
        "reports/findings.html",
        {
            "convention_year": convention_year,
            "entries": entries,
            "open_count": len(tables.open_entries),
            "execution_started": tables.execution_started,
            "fiche_urls": {
                code: (reverse("actions:detail", args=[pk]), number)
                for code, pk, number in ActionYear.objects.filter(
                    convention_year=convention_year
                ).values_list("action__code", "pk", "number")
            },
            "can_edit": can_edit(request.user, convention_year.convention.department_id),
        },
    )


@login_required
@require_POST
def justify(request: HttpRequest, pk: int) -> HttpResponse:
    convention_year = _convention_year(request, pk)
    require_edit(request.user, convention_year.convention.department_id)
    form = JustificationForm(request.POST)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    if form.is_valid():
        try:
            justification = services.justification_set(
                actor=request.user,
                convention_year=convention_year,
                key=form.cleaned_data["key"],
                text=form.cleaned_data["text"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                "Justification enregistrée." if justification else "Justification retirée.",
            )
    else:
        messages.error(request, "Demande invalide : rechargez la page.")
    if target:
        return redirect(target)
    return redirect("reports:findings", pk=convention_year.pk)


@login_required
@require_safe
def document(request: HttpRequest, pk: int, slug: str, fmt: str) -> HttpResponse:
    """An official document of the year, as PDF or XLSX (download) or HTML (preview)."""
    convention_year = _convention_year(request, pk)
    try:
        doc = get_document(slug, fmt)
    except DocumentError as error:
        raise Http404(str(error)) from error
    if fmt in doc.background:
        generated = services.document_request(
            actor=request.user,
            convention_year=convention_year,
            document=doc,
            fmt=fmt,
            retry=request.GET.get("relancer") == "1",
        )
        if generated.status != GenerationStatus.READY:
            return render(
                request,
                "reports/generating.html",
                {"convention_year": convention_year, "document": doc, "generated": generated},
            )
        content = bytes(generated.content)
    else:
        content = render_document(doc, convention_year, fmt)
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    if fmt != "html":
        response["Content-Disposition"] = (
            f'attachment; filename="{doc.filename(convention_year, fmt)}"'
        )
    return response
