"""Pages of the data entry: a year's fiches, a fiche, its forms. Thin: forms validate, services
write (one transaction, audit entry), selectors read; every object is fetched through
``for_user`` (404 outside the user's Départements) and every write checks the editing role (403
for a prefecture reviewer)."""

import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from actions import selectors, services
from actions.choices import ActionStatus, BudgetKind
from actions.forms import (
    ActionCreateForm,
    ActionYearForm,
    BudgetForm,
    CarryForwardForm,
    NarrativeForm,
    OtherFundingFormSet,
    PendingImportForm,
    ReinstateForm,
    RenumberForm,
    RetireForm,
    WorkbookImportForm,
    budget_initial,
    error_count,
)
from actions.imports import workbook_file_import
from actions.models import ActionYear, PendingImport
from calpae.permissions import can_edit, can_import, require_edit, require_import
from conventions.models import ConventionYear
from conventions.selectors import convention_year_for_user
from indicators.selectors import action_indicator_sheet, indicator_history
from reports.charts import execution_themes_chart_svg
from reports.formatting import format_euros
from reports.models import CommentState
from reports.selectors import year_comments, year_tables


def _convention_year(request: HttpRequest, pk: int) -> ConventionYear:
    return convention_year_for_user(request.user, pk)


def _department_id(action_year: ActionYear) -> int:
    return action_year.convention_year.convention.department_id


def _form_page(
    request,
    form,
    *,
    title: str,
    submit: str,
    action_year: ActionYear | None = None,
    convention_year: ConventionYear | None = None,
    rows=None,
    cancel_url: str = "",
    **context,
) -> HttpResponse:
    """The generic form page (``actions/form.html``) of a year or of a fiche: its fields, the
    error summary, and a way back to the fiche (or the year)."""
    return render(
        request,
        "actions/form.html",
        {
            "action_year": action_year,
            "convention_year": convention_year or action_year.convention_year,
            "form": form,
            "rows": _field_rows(form) if rows is None else rows,
            "error_count": error_count(form),
            "title": title,
            "submit": submit,
            "cancel_url": cancel_url or reverse("actions:detail", args=[action_year.pk]),
            **context,
        },
    )


def _field_rows(form, current: dict | None = None, unit: str = "", notes: dict | None = None):
    """(bound field, value saved meanwhile, unit, findings) for the form templates."""
    current, notes = current or {}, notes or {}
    return [
        (form[name], current.get(name, ""), unit, notes.get(name, []))
        for name in form.fields
        if name != "version"
    ]


# The budget fields a finding's column concerns, to show the finding beside them.
FINDING_FIELDS = {
    "A": ("state_new",),
    "B": ("state_carried_over",),
    "C": ("cd_new",),
    "D": ("cd_carried_over",),
    "F": ("declared_total",),
    "realised": ("realised",),
    "carry_over": ("carry_over_state", "carry_over_cd", "carry_over_unallocated"),
    "carry_over_state": ("carry_over_state",),
    "carry_over_cd": ("carry_over_cd",),
}


def _findings_by_field(entries, field_names) -> tuple[dict, list]:
    """Findings beside the fields they concern; the others, for the top of the form."""
    by_field: dict[str, list] = {}
    elsewhere = []
    for entry in entries:
        names = [n for n in FINDING_FIELDS.get(entry.finding.column, ()) if n in field_names]
        if not names:
            elsewhere.append(entry)
        for name in names[:1]:
            by_field.setdefault(name, []).append(entry)
    return by_field, elsewhere


def _with_version(data, version: int):
    """The posted data with the version now in the database: a second save confirms them."""
    data = data.copy()
    data["version"] = str(version)
    return data


# --- Year ----------------------------------------------------------------------------------------


@login_required
@require_safe
def year_detail(request: HttpRequest, pk: int) -> HttpResponse:
    convention_year = _convention_year(request, pk)
    groups = selectors.year_groups(convention_year)
    block_totals, year_total = selectors.block_totals(groups)
    tables = year_tables([convention_year])[convention_year.pk]
    summaries = [summary for group in groups for summary in group.actions]
    active = [summary for summary in summaries if not summary.is_retired]
    open_entries = tables.open_entries
    later = selectors.later_years(convention_year)
    return render(
        request,
        "actions/year_detail.html",
        {
            "convention_year": convention_year,
            "groups": groups,
            "block_totals": block_totals,
            "year_total": year_total,
            "active_count": len(active),
            "complete_count": sum(1 for summary in active if summary.is_complete),
            "open_findings": open_entries,
            "open_errors": sum(1 for entry in open_entries if entry.is_error),
            "justified_count": len(tables.entries) - len(open_entries),
            "next_year": later.filter(year=convention_year.year + 1).first(),
            # The same chart as the report's « Synthèse financière », every thème included.
            "themes_chart": (
                execution_themes_chart_svg(
                    tables.execution,
                    {
                        group.theme_year.theme.code: group.theme_year.theme.short_label
                        for group in groups
                        if group.theme_year is not None
                    },
                )
                if tables.execution_started
                else ""
            ),
            "can_edit": can_edit(request.user, convention_year.convention.department_id),
            "can_import": can_import(request.user, convention_year.convention.department_id),
            "open_comments": [
                comment
                for comment in year_comments(convention_year)
                if comment.state == CommentState.OPEN
            ],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def action_create(request: HttpRequest, pk: int) -> HttpResponse:
    convention_year = _convention_year(request, pk)
    require_edit(request.user, convention_year.convention.department_id)
    form = ActionCreateForm(request.POST or None, convention_year=convention_year)
    if request.method == "POST" and form.is_valid():
        try:
            action_year = services.action_year_add(
                actor=request.user, convention_year=convention_year, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Fiche {action_year.number} créée.")
            return redirect("actions:detail", pk=action_year.pk)
    return _form_page(
        request,
        form,
        convention_year=convention_year,
        title=f"Nouvelle fiche-action {convention_year.year}",
        submit="Créer la fiche",
        cancel_url=reverse("actions:year", args=[convention_year.pk]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def renumber(request: HttpRequest, pk: int) -> HttpResponse:
    convention_year = _convention_year(request, pk)
    require_edit(request.user, convention_year.convention.department_id)
    action_years = ActionYear.objects.filter(convention_year=convention_year).order_by("number")
    form = RenumberForm(request.POST or None, action_years=action_years)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.action_years_renumber(
                actor=request.user, convention_year=convention_year, numbers=form.numbers()
            )
        except ValidationError as error:
            for pk_text, messages_ in error.message_dict.items():
                field = f"number_{pk_text}"
                form.add_error(field if field in form.fields else None, messages_)
        else:
            messages.success(
                request,
                "Aucun numéro n'a changé."
                if not changed
                else f"{_fiches(len(changed))} {_agreed(len(changed), 'renumérotée')}.",
            )
            return redirect("actions:year", pk=convention_year.pk)
    return render(
        request,
        "actions/renumber.html",
        {"convention_year": convention_year, "form": form, "error_count": error_count(form)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def year_carry_forward(request: HttpRequest, pk: int) -> HttpResponse:
    """Carry every active fiche of the year into a later year (prefilling B and D)."""
    convention_year = _convention_year(request, pk)
    require_edit(request.user, convention_year.convention.department_id)
    form = CarryForwardForm(request.POST or None, targets=selectors.later_years(convention_year))
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data["target"]
        try:
            carried = services.convention_year_carry_forward(
                actor=request.user, source=convention_year, target=target
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                f"{_fiches(len(carried))} {_agreed(len(carried), 'reconduite')} sur "
                f"{target.year}, avec leurs reports préremplis."
                if carried
                else f"Toutes les fiches en cours sont déjà sur {target.year}.",
            )
            provisional = [
                a.number for a in carried if a.number.startswith(services.PROVISIONAL_PREFIX)
            ]
            if provisional:
                messages.warning(
                    request,
                    f"Numéros déjà pris en {target.year} : {_fiches(len(provisional))} "
                    f"{_agreed(len(provisional), 'numérotée')} provisoirement "
                    f"({', '.join(provisional)}), à renuméroter.",
                )
            return redirect("actions:year", pk=target.pk)
    return render(
        request,
        "actions/carry_forward.html",
        {
            "convention_year": convention_year,
            "form": form,
            "error_count": error_count(form),
            "scope": "year",
        },
    )


# --- Fiche -------------------------------------------------------------------------------------


@login_required
@require_safe
def action_detail(request: HttpRequest, pk: int) -> HttpResponse:
    action_year = selectors.action_year_for_user(request.user, pk)
    summary = selectors.summarize(
        ActionYear.objects.filter(pk=action_year.pk).prefetch_related(
            selectors._budgets_prefetch(), "budgets__other_fundings"
        )
    )[0]
    tables = year_tables([action_year.convention_year])[action_year.convention_year_id]
    return render(
        request,
        "actions/action_detail.html",
        {
            "action_year": action_year,
            "convention_year": action_year.convention_year,
            "summary": summary,
            "findings": tables.entries_for_action(action_year.action.code),
            "history": sorted(
                selectors.action_history(action_year)
                + indicator_history(action_indicator_sheet(action_year)),
                key=lambda entry: entry.date,
                reverse=True,
            ),
            "can_edit": can_edit(request.user, _department_id(action_year)),
            "is_retired": action_year.status == ActionStatus.RETIRED,
        },
    )


def _fiches(count: int) -> str:
    return f"{count} fiche{'s' if count > 1 else ''}"


def _agreed(count: int, participle: str) -> str:
    """« renumérotée » / « renumérotées »."""
    return participle + ("s" if count > 1 else "")


def _model_form_page(
    request, pk: int, form_class, *, title: str, template_title: str, title_agreement: str = ""
):
    action_year = selectors.action_year_for_user(request.user, pk)
    require_edit(request.user, _department_id(action_year))
    kwargs = {"instance": action_year}
    if form_class is ActionYearForm:
        kwargs["convention_year"] = action_year.convention_year
    form = form_class(request.POST or None, **kwargs)
    conflict = None
    current = {}
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form._meta.fields}
        try:
            services.action_year_update(
                actor=request.user,
                action_year=action_year,
                version=form.cleaned_data["version"],
                reason=title,
                **fields,
            )
        except services.ConcurrentEditError as error:
            conflict = {"changes": selectors.changes_since(action_year, error.read_version)}
            fresh = ActionYear.objects.get(pk=action_year.pk)
            current = {
                name: str(form.fields[name].widget.format_value(getattr(fresh, name)) or "—")
                for name in form._meta.fields
                if getattr(fresh, name) != form.cleaned_data[name]
                and not (
                    name == "theme"
                    and fresh.theme_id == getattr(form.cleaned_data[name], "pk", None)
                )
            }
            form = form_class(
                _with_version(request.POST, error.current_version),
                **{**kwargs, "instance": fresh},
            )
            form.is_valid()
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{title} enregistré{title_agreement}.")
            return redirect("actions:detail", pk=action_year.pk)
    return _form_page(
        request,
        form,
        action_year=action_year,
        rows=_field_rows(form, current),
        conflict=conflict,
        title=template_title,
        submit="Enregistrer",
    )


@login_required
@require_http_methods(["GET", "POST"])
def action_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _model_form_page(
        request,
        pk,
        ActionYearForm,
        title="Fiche",
        template_title="Modifier la fiche",
        title_agreement="e",
    )


@login_required
@require_http_methods(["GET", "POST"])
def narrative_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _model_form_page(
        request,
        pk,
        NarrativeForm,
        title="Récit",
        template_title="Description, bilan d'exécution et perspectives",
    )


@login_required
@require_http_methods(["GET", "POST"])
def budget_edit(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    action_year = selectors.action_year_for_user(request.user, pk)
    require_edit(request.user, _department_id(action_year))
    kind = BudgetKind(kind)
    budgets = {b.kind: b for b in action_year.budgets.prefetch_related("other_fundings")}
    budget = budgets.get(kind)
    # An executed budget starts from the prévisionnel: the same columns, the year's actual use.
    fallback = budgets.get(BudgetKind.PLANNED) if kind == BudgetKind.EXECUTED else None
    initial, funding_initial = budget_initial(budget, fallback)
    year = action_year.convention_year.year
    prefilled = []
    if budget is None and fallback is not None:
        prefilled.append("le budget prévisionnel")
    if budget is None and kind == BudgetKind.PLANNED:
        carried = selectors.carried_over_from_previous_year(action_year)
        if carried:
            initial.update(carried)
            prefilled.append(f"les montants à reporter de {year - 1}")
    initial["version"] = action_year.version
    form_kwargs = {"kind": kind, "year": year}
    if request.method == "POST":
        form = BudgetForm(request.POST, **form_kwargs)
        formset = OtherFundingFormSet(request.POST, prefix="autres")
    else:
        form = BudgetForm(initial=initial, **form_kwargs)
        formset = OtherFundingFormSet(initial=funding_initial, prefix="autres")
    conflict = None
    current = {}
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        amounts = {name: form.cleaned_data[name] for name in form.amount_names}
        try:
            services.budget_save(
                actor=request.user,
                action_year=action_year,
                kind=kind,
                version=form.cleaned_data["version"],
                other_fundings=formset.lines(),
                comment=form.cleaned_data["comment"],
                **amounts,
            )
        except services.ConcurrentEditError as error:
            conflict = {"changes": selectors.changes_since(action_year, error.read_version)}
            fresh = action_year.budgets.filter(kind=kind).first()
            current = {
                name: format_euros(getattr(fresh, name))
                if getattr(fresh, name) is not None
                else "vide"
                for name in form.amount_names
                if (getattr(fresh, name) if fresh else None) != amounts[name]
            }
            form = BudgetForm(_with_version(request.POST, error.current_version), **form_kwargs)
            form.is_valid()
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Budget {kind.label.lower()} enregistré.")
            return redirect("actions:detail", pk=action_year.pk)
    formset_errors = []
    for index, line in enumerate(formset.forms, start=1):
        for name, errors in line.errors.items():
            for message in errors:
                formset_errors.append(
                    {
                        "label": f"Autre financeur, ligne {index}, "
                        f"{line.fields[name].label.lower()}",
                        "message": message,
                        "anchor": line[name].id_for_label,
                    }
                )
    formset_errors += [
        {"label": "Autres financeurs", "message": message, "anchor": ""}
        for message in formset.non_form_errors()
    ]
    tables = year_tables([action_year.convention_year])[action_year.convention_year_id]
    table = "execution" if kind == BudgetKind.EXECUTED else "planned"
    beside, elsewhere = _findings_by_field(
        [e for e in tables.entries_for_action(action_year.action.code) if e.table == table],
        form.fields,
    )
    return render(
        request,
        "actions/budget_form.html",
        {
            "action_year": action_year,
            "convention_year": action_year.convention_year,
            "kind": kind,
            "form": form,
            "rows": _field_rows(form, current, unit="€", notes=beside),
            "formset": formset,
            "formset_errors": formset_errors,
            "error_count": error_count(form) + len(formset_errors),
            "conflict": conflict,
            "findings": elsewhere,
            "prefilled": prefilled if request.method == "GET" else [],
            "findings_beside": sum(len(entries) for entries in beside.values()),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def action_retire(request: HttpRequest, pk: int) -> HttpResponse:
    action_year = selectors.action_year_for_user(request.user, pk)
    require_edit(request.user, _department_id(action_year))
    form = RetireForm(request.POST or None, initial={"version": action_year.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.action_year_retire(
                actor=request.user,
                action_year=action_year,
                version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
            )
        except services.ConcurrentEditError as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Fiche {action_year.number} retirée.")
            return redirect("actions:detail", pk=action_year.pk)
    return _form_page(
        request,
        form,
        action_year=action_year,
        title=f"Retirer la fiche {action_year.number}",
        intro="La fiche reste dans l'historique et les tableaux déjà établis ; elle n'est "
        "plus reconduite sur les exercices suivants.",
        submit="Retirer la fiche",
    )


@login_required
def action_reinstate(request: HttpRequest, pk: int) -> HttpResponse:
    action_year = selectors.action_year_for_user(request.user, pk)
    require_edit(request.user, _department_id(action_year))
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = ReinstateForm(request.POST)
    if form.is_valid():
        try:
            services.action_year_reinstate(
                actor=request.user, action_year=action_year, version=form.cleaned_data["version"]
            )
        except services.ConcurrentEditError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Fiche {action_year.number} rétablie.")
    else:
        messages.error(request, "Demande invalide : rechargez la page.")
    return redirect("actions:detail", pk=action_year.pk)


@login_required
@require_http_methods(["GET", "POST"])
def action_carry_forward(request: HttpRequest, pk: int) -> HttpResponse:
    action_year = selectors.action_year_for_user(request.user, pk)
    require_edit(request.user, _department_id(action_year))
    form = CarryForwardForm(
        request.POST or None, targets=selectors.later_years(action_year.convention_year)
    )
    if request.method == "POST" and form.is_valid():
        try:
            carried = services.action_carry_forward(
                actor=request.user, action_year=action_year, target=form.cleaned_data["target"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                f"Fiche reconduite sur {carried.convention_year.year}, reports préremplis.",
            )
            return redirect("actions:detail", pk=carried.pk)
    return render(
        request,
        "actions/carry_forward.html",
        {
            "action_year": action_year,
            "convention_year": action_year.convention_year,
            "form": form,
            "error_count": error_count(form),
            "scope": "action",
        },
    )


EXPIRED_MESSAGE = "La simulation a expiré : choisissez de nouveau le fichier."
INVALID_REQUEST_MESSAGE = "Demande invalide : rechargez la page."


def _import_year(request: HttpRequest, pk: int) -> ConventionYear:
    """The year, if the user may import into it (404 outside their Départements, else 403)."""
    convention_year = _convention_year(request, pk)
    require_import(request.user, convention_year.convention.department_id)
    return convention_year


def _own_pending_imports(request: HttpRequest, convention_year: ConventionYear):
    return PendingImport.objects.filter(convention_year=convention_year, user=request.user)


@transaction.atomic
def _pending_import_store(
    *, user, convention_year: ConventionYear, filename: str, data: bytes, accept_mismatch: bool
) -> PendingImport:
    """Keep the file of a successful simulation until its confirmation, replacing the user's
    previous one for the year; expired files of anyone are deleted on the way (no cron)."""
    PendingImport.objects.expired().delete()
    PendingImport.objects.filter(convention_year=convention_year, user=user).delete()
    return PendingImport.objects.create(
        convention_year=convention_year,
        user=user,
        filename=filename,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        accept_printed_mismatch=accept_mismatch,
    )


def _workbook_import_page(request, convention_year, form, *, report=None, pending=None):
    return render(
        request,
        "actions/workbook_import.html",
        {
            "convention_year": convention_year,
            "form": form,
            "error_count": error_count(form),
            "report": report,
            "pending": pending,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def workbook_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload an official table into the year: a dry run first by default, then the import.

    The file is read in memory; after a successful dry run it is kept in the database
    (``PendingImport``) until the user confirms or cancels, at most ``PENDING_IMPORT_LIFETIME``.
    The import is one transaction."""
    convention_year = _import_year(request, pk)
    PendingImport.objects.expired().delete()
    form = WorkbookImportForm(request.POST or None, request.FILES or None)
    report = None
    pending = _own_pending_imports(request, convention_year).first()
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        accept_mismatch = form.cleaned_data["accept_printed_mismatch"]
        data = upload.read()
        # A new file replaces the one waiting for confirmation, whatever becomes of it.
        _own_pending_imports(request, convention_year).delete()
        pending = None
        report = workbook_file_import(
            actor=request.user,
            department=convention_year.convention.department,
            year=convention_year.year,
            data=data,
            filename=upload.name,
            dry_run=form.cleaned_data["dry_run"],
            accept_printed_mismatch=accept_mismatch,
        )
        if report.imported and not report.dry_run:
            messages.success(request, report.summary)
            return redirect("actions:year", pk=convention_year.pk)
        if report.imported:
            pending = _pending_import_store(
                user=request.user,
                convention_year=convention_year,
                filename=upload.name,
                data=data,
                accept_mismatch=accept_mismatch,
            )
        form = WorkbookImportForm(initial={"accept_printed_mismatch": accept_mismatch})
    return _workbook_import_page(request, convention_year, form, report=report, pending=pending)


def _pending_post(request: HttpRequest, pk: int):
    """A confirmation or a cancellation: ``(year, id of the kept file, None)``, or the
    response that refuses it (404/403 for the year before 405 for the method, as on every
    page; a form without a valid id goes back to the import page)."""
    convention_year = _import_year(request, pk)
    if request.method != "POST":
        return convention_year, None, HttpResponseNotAllowed(["POST"])
    form = PendingImportForm(request.POST)
    if not form.is_valid():
        messages.error(request, INVALID_REQUEST_MESSAGE)
        return convention_year, None, redirect("actions:import_workbook", pk=convention_year.pk)
    return convention_year, form.cleaned_data["pending"], None


@login_required
def workbook_import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Import the file of the user's simulation, without choosing it again. Everything is
    checked again (the file is read anew); the kept file is deleted whatever the outcome, in
    the transaction of the import."""
    convention_year, pending_id, refused = _pending_post(request, pk)
    if refused is not None:
        return refused
    report = None
    try:
        with transaction.atomic():
            pending = get_object_or_404(
                _own_pending_imports(request, convention_year).select_for_update(), pk=pending_id
            )
            pending.delete()
            data = bytes(pending.data)
            if pending.is_expired():
                messages.error(request, EXPIRED_MESSAGE)
            elif hashlib.sha256(data).hexdigest() != pending.sha256:
                messages.error(
                    request, "Le fichier conservé est altéré : choisissez-le de nouveau."
                )
            else:
                # The service rolls its own savepoint back on failure: the deletion stays.
                report = workbook_file_import(
                    actor=request.user,
                    department=convention_year.convention.department,
                    year=convention_year.year,
                    data=data,
                    filename=pending.filename,
                    dry_run=False,
                    accept_printed_mismatch=pending.accept_printed_mismatch,
                )
    except Exception:
        # An unexpected failure rolled the deletion back: the file is not kept all the same.
        _own_pending_imports(request, convention_year).filter(pk=pending_id).delete()
        raise
    if report is None:
        return redirect("actions:import_workbook", pk=convention_year.pk)
    if report.imported:
        messages.success(request, report.summary)
        return redirect("actions:year", pk=convention_year.pk)
    form = WorkbookImportForm(initial={"accept_printed_mismatch": pending.accept_printed_mismatch})
    return _workbook_import_page(request, convention_year, form, report=report)


@login_required
def workbook_import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Give up the simulated import: its kept file is deleted."""
    convention_year, pending_id, refused = _pending_post(request, pk)
    if refused is not None:
        return refused
    pending = get_object_or_404(_own_pending_imports(request, convention_year), pk=pending_id)
    pending.delete()
    messages.success(request, f"Import de « {pending.filename} » annulé : le fichier est supprimé.")
    return redirect("actions:import_workbook", pk=convention_year.pk)
