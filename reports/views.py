"""Findings of a year's tables and their written justifications; documents; the review of the
year's report by the prefecture."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from actions.forms import JustificationForm
from actions.models import ActionYear
from calpae.permissions import can_edit, require_edit
from conventions.models import ConventionYear, Department, Region
from conventions.selectors import convention_year_for_user
from reports import selectors, services
from reports.charts import ThemeBudget, themes_chart_svg
from reports.documents import CONTENT_TYPES, DOCUMENTS, DocumentError, get_document
from reports.documents import render as render_document
from reports.forms import CommentForm, ReviewStepForm
from reports.models import Comment, GenerationStatus, VersionFile
from reports.selectors import year_tables
from reports.workflow import Step


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


@login_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """The state of the year's report, its history, and the steps the user may take."""
    convention_year = _convention_year(request, pk)
    failed: ReviewStepForm | None = None
    if request.method == "POST":
        form = ReviewStepForm(request.POST)
        if form.is_valid():
            try:
                services.review_step(
                    actor=request.user,
                    convention_year=convention_year,
                    step=Step(form.cleaned_data["step"]),
                    reason=form.cleaned_data.get("reason", ""),
                    deliberation_number=form.cleaned_data.get("deliberation_number", ""),
                    deliberation_date=form.cleaned_data.get("deliberation_date"),
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, form.transition.done)
                return redirect("reports:review", pk=convention_year.pk)
        failed = form
    sheet = selectors.review_sheet(convention_year, request.user)
    department_id = convention_year.convention.department_id
    forms = [
        failed
        if failed is not None and failed.transition.step == choice.transition.step
        else ReviewStepForm(step=choice.transition.step)
        for choice in sheet.options
    ]
    return render(
        request,
        "reports/review.html",
        {
            "convention_year": convention_year,
            "sheet": sheet,
            "choices": list(zip(sheet.options, forms, strict=True)),
            "document_titles": {slug: document.label for slug, document in DOCUMENTS.items()},
            "comment_form": CommentForm(convention_year=convention_year),
            "can_comment": services.can_comment(request.user, department_id),
        },
    )


def _back(request: HttpRequest, convention_year: ConventionYear) -> HttpResponse:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("reports:review", pk=convention_year.pk)


@login_required
@require_POST
def comment_add(request: HttpRequest, pk: int) -> HttpResponse:
    convention_year = _convention_year(request, pk)
    form = CommentForm(request.POST, convention_year=convention_year)
    if form.is_valid():
        services.comment_add(
            actor=request.user,
            convention_year=convention_year,
            text=form.cleaned_data["text"],
            action_year=form.cleaned_data["action_year"],
            line=form.cleaned_data["line"],
        )
        messages.success(request, "Commentaire enregistré.")
    else:
        errors = [
            f"{form.fields[name].label} : {' '.join(errs)}" for name, errs in form.errors.items()
        ]
        messages.error(request, "Commentaire non enregistré — " + " ; ".join(errors))
    return _back(request, convention_year)


@login_required
@require_POST
def comment_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    convention_year = _convention_year(request, pk)
    posted = request.POST.get("comment", "")
    comment = (
        Comment.objects.filter(convention_year=convention_year, pk=posted).first()
        if posted.isdigit()
        else None
    )
    if comment is None:
        messages.error(request, "Demande invalide : rechargez la page.")
        return _back(request, convention_year)
    try:
        services.comment_resolve(actor=request.user, comment=comment)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Commentaire marqué comme résolu.")
    return _back(request, convention_year)


@login_required
@require_safe
def version_file(request: HttpRequest, pk: int, number: int, slug: str, fmt: str) -> HttpResponse:
    """A document of a transmitted version, byte for byte as frozen."""
    convention_year = _convention_year(request, pk)
    file = (
        VersionFile.objects.filter(
            version__convention_year=convention_year,
            version__number=number,
            slug=slug,
            fmt=fmt,
            status=GenerationStatus.READY,
        )
        .select_related("version")
        .first()
    )
    if file is None or fmt not in CONTENT_TYPES:
        raise Http404("Ce document de la version n'existe pas, ou n'est pas encore produit.")
    response = HttpResponse(bytes(file.content), content_type=CONTENT_TYPES[fmt])
    department = convention_year.convention.department.code
    response["Content-Disposition"] = (
        f'attachment; filename="CALPAE-{department}-{convention_year.year}-{slug}-v{number}.{fmt}"'
    )
    return response


@login_required
@require_safe
def version_compare(request: HttpRequest, pk: int) -> HttpResponse:
    """Two transmitted versions, figure by figure (``?de=1&a=2``)."""
    convention_year = _convention_year(request, pk)
    comparison = None
    if "de" in request.GET or "a" in request.GET:
        try:
            before, after = int(request.GET.get("de", "")), int(request.GET.get("a", ""))
        except ValueError:
            raise Http404("Indiquez les deux versions à comparer (« de » et « a »).") from None
        comparison = selectors.version_comparison(convention_year, before, after)
        if comparison is None:
            raise Http404(f"La version {before} ou {after} n'existe pas pour cet exercice.")
    return render(
        request,
        "reports/version_compare.html",
        {
            "convention_year": convention_year,
            "comparison": comparison,
            "versions": selectors.version_numbers(convention_year),
            "document_titles": {slug: document.label for slug, document in DOCUMENTS.items()},
        },
    )


@login_required
@require_safe
def consolidated(request: HttpRequest) -> HttpResponse:
    """Planned vs executed per thème and funder for the Départements the user sees (a region,
    or all of them for the national administrator), with the reports late or missing; XLSX
    with ``?format=xlsx``."""
    today = timezone.localdate()
    try:
        year = int(request.GET.get("annee") or today.year - 1)
    except ValueError:
        raise Http404("Année illisible.") from None
    region = request.GET.get("region") or None
    result = selectors.consolidation(request.user, year=year, region_code=region)
    if request.GET.get("format") == "xlsx":
        from reports.xlsx import consolidation_xlsx

        response = HttpResponse(consolidation_xlsx(result), content_type=CONTENT_TYPES["xlsx"])
        response["Content-Disposition"] = (
            f'attachment; filename="CALPAE-consolidation-{region or "tous"}-{year}.xlsx"'
        )
        return response
    regions = Region.objects.filter(
        departments__in=Department.objects.for_user(request.user)
    ).distinct()
    chart = (
        themes_chart_svg(
            title=f"Exécution {year} — {result.scope}",
            themes=[
                ThemeBudget(
                    label=line.label,
                    state=line.totals.state,
                    cd=line.totals.cd,
                    other=line.totals.other,
                    realised=line.totals.realised,
                )
                for line in result.themes
            ],
        )
        if result.themes
        else ""
    )
    return render(
        request,
        "reports/consolidated.html",
        {
            "result": result,
            "year": year,
            "region": region,
            "regions": regions,
            "years": range(today.year - 1, 2018, -1),
            "chart": chart,
        },
    )
