"""Writes of the reports app: justifications of findings."""

from django.core.exceptions import ValidationError
from django.db import transaction

from calpae.audit import save_with_audit
from conventions.models import ConventionYear
from reports.models import GeneratedDocument, GenerationStatus, Justification
from reports.selectors import year_tables


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
