"""Writes of the reports app: justifications of findings, generated documents, and the review
of a year's report by the prefecture."""

import datetime
import hashlib
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from calpae.audit import save_with_audit
from calpae.permissions import department_roles
from conventions.models import ConventionYear
from reports.models import (
    Comment,
    CommentState,
    GeneratedDocument,
    GenerationStatus,
    Justification,
    ReportVersion,
    ReviewEvent,
    VersionFile,
    YearReview,
)
from reports.notifications import notify_step
from reports.selectors import review_actors, year_tables
from reports.snapshot import figures_sha256, frozen_figures
from reports.workflow import BY_STEP, State, Step, option


@transaction.atomic
def justification_set(
    *, actor, convention_year: ConventionYear, key: str, text: str
) -> Justification | None:
    """Write, change or (with an empty text) remove the justification of a raised finding."""
    tables = year_tables([convention_year])[convention_year.pk]
    entry = next((entry for entry in tables.entries if entry.key == key), None)
    if entry is None:
        raise ValidationError(
            "Ce constat n'est plus relevé : les montants ont changé depuis l'affichage de la page."
        )
    existing = entry.justification  # read with the tables, by the same key
    text = text.strip()
    if not text:
        if existing is None:
            raise ValidationError("Écrivez la justification avant de l'enregistrer.")
        existing._history_user = actor
        existing._change_reason = "Justification retirée"
        existing.delete()
        return None
    table, rule, action_key, column, subject = key.split(":", 4)
    justification = existing or Justification(
        convention_year=convention_year,
        table=table,
        rule=rule,
        action_key=action_key,
        column=column,
        subject=subject,
    )
    justification.text = text
    justification.author = actor
    return save_with_audit(
        justification, actor=actor, reason=f"Justification : {entry.finding.rule_label}"
    )


@transaction.atomic
def document_request(
    *, actor, convention_year, document, fmt: str, retry: bool = False
) -> GeneratedDocument:
    """The generated file for the current data, asked for once: enqueued when new, or when it
    failed and the user asks to retry (a failure is shown, not retried in a loop)."""
    from reports.documents import data_version
    from reports.tasks import generate_document

    version = data_version(document.read(convention_year))
    generated, created = GeneratedDocument.objects.select_for_update().get_or_create(
        convention_year=convention_year,
        slug=document.slug,
        fmt=fmt,
        data_version=version,
        defaults={"requested_by": actor},
    )
    if created or (retry and generated.status == GenerationStatus.FAILED):
        if not created:
            generated.status = GenerationStatus.PENDING
            generated.error = ""
            generated.save(update_fields=["status", "error"])
        transaction.on_commit(lambda: generate_document.enqueue(generated.pk))
    return generated


# --- Review of the year's report (reports.workflow) -------------------------------------------


@transaction.atomic
def review_step(
    *,
    actor,
    convention_year,
    step: Step,
    reason: str = "",
    deliberation_number: str = "",
    deliberation_date: datetime.date | None = None,
) -> ReviewEvent:
    """Take one step of the review (transmit, return, validate, unlock), if the user may from
    the report's current state; recorded as a ``ReviewEvent`` and in the year's history."""
    review, _ = YearReview.objects.select_for_update().get_or_create(
        convention_year=convention_year
    )
    state = State(review.state)
    actors = review_actors(actor, convention_year.convention.department_id)
    transition = BY_STEP[step]
    open_findings = 0
    if transition.needs_justified_findings and state in transition.sources:
        open_findings = len(year_tables([convention_year])[convention_year.pk].open_entries)
    choice = option(state, step, actors, open_findings=open_findings)
    if not actors & transition.actors:
        raise PermissionDenied(choice.why_not)
    if not choice.allowed:
        raise ValidationError(choice.why_not)
    event = ReviewEvent(
        convention_year=convention_year,
        step=step,
        from_state=state,
        to_state=transition.target,
        actor=actor,
        reason=reason.strip(),
        deliberation_number=deliberation_number.strip(),
        deliberation_date=deliberation_date,
    )
    event.full_clean()
    event.save()
    review.state = transition.target
    save_with_audit(review, actor=actor, reason=f"{transition.label}{_reason_suffix(event)}")
    if step == Step.SUBMIT:
        version_freeze(event=event)
    transaction.on_commit(partial(notify_step, event))
    return event


def version_freeze(*, event: ReviewEvent) -> ReportVersion:
    """The transmitted version: its figures now, its XLSX now, its PDF by the worker."""
    from reports.documents import DOCUMENTS, read_documents, render_computed
    from reports.tasks import freeze_version_file

    convention_year = event.convention_year
    computed = read_documents(convention_year)
    figures = frozen_figures(computed)
    number = (
        ReportVersion.objects.filter(convention_year=convention_year).aggregate(last=Max("number"))[
            "last"
        ]
        or 0
    ) + 1
    version = ReportVersion.objects.create(
        convention_year=convention_year,
        number=number,
        event=event,
        figures=figures,
        figures_sha256=figures_sha256(figures),
    )
    generated_on = timezone.localtime(version.created_at).date()
    for slug, document in DOCUMENTS.items():
        for fmt in document.formats:
            if fmt == "html" or computed[slug] is None:
                continue
            file = VersionFile(version=version, slug=slug, fmt=fmt)
            if fmt == "xlsx":
                content = render_computed(
                    document,
                    computed[slug],
                    fmt,
                    generated_on=generated_on,
                    convention_year=convention_year,
                )
                file.content, file.status = content, GenerationStatus.READY
                file.sha256, file.size = hashlib.sha256(content).hexdigest(), len(content)
            file.save()
            if file.status == GenerationStatus.PENDING:
                transaction.on_commit(partial(freeze_version_file.enqueue, file.pk))
    return version


def _reason_suffix(event: ReviewEvent) -> str:
    if event.deliberation_number:
        return f" — délibération {event.deliberation_number} du {event.deliberation_date:%d/%m/%Y}"
    return f" — {event.reason}" if event.reason else ""


# --- Comments of the review ---------------------------------------------------------------------


def can_comment(user, department_id: int) -> bool:
    """Everyone with a role in the Département (the prefecture's reviewer too), and the national
    administrator."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or department_id in department_roles(user)


COMMENT_MESSAGE = "Seules les personnes rattachées au Département commentent son rapport."


@transaction.atomic
def comment_add(*, actor, convention_year, text: str, action_year=None, line: str = "") -> Comment:
    if not can_comment(actor, convention_year.convention.department_id):
        raise PermissionDenied(COMMENT_MESSAGE)
    comment = Comment(
        convention_year=convention_year,
        action_year=action_year,
        line=line.strip(),
        text=text.strip(),
        author=actor,
    )
    return save_with_audit(comment, actor=actor, reason="Commentaire de relecture")


@transaction.atomic
def comment_resolve(*, actor, comment: Comment) -> Comment:
    """Mark a comment resolved (by its author, the Département or the reviewer)."""
    if not can_comment(actor, comment.convention_year.convention.department_id):
        raise PermissionDenied(COMMENT_MESSAGE)
    if comment.state == CommentState.RESOLVED:
        raise ValidationError("Ce commentaire est déjà résolu.")
    comment.state = CommentState.RESOLVED
    comment.resolved_by = actor
    comment.resolved_at = timezone.now()
    return save_with_audit(comment, actor=actor, reason="Commentaire résolu")
