"""Audit entries: every service records who changed what through django-simple-history."""

from django.db import models


def save_with_audit(
    instance: models.Model, *, actor, reason: str, trusted_relations: bool = False
) -> models.Model:
    """``full_clean()`` then ``save()``, recording ``actor`` and ``reason`` in the history row.

    ``trusted_relations``: see :func:`full_clean_trusted`."""
    if trusted_relations:
        full_clean_trusted(instance)
    else:
        instance.full_clean()
    instance._history_user = actor
    instance._change_reason = reason
    instance.save()
    return instance


def full_clean_trusted(instance: models.Model) -> None:
    """``full_clean()`` for a bulk writer (the import of a table) whose related objects were
    just read from the database or built by it, and which turns a refused constraint into its
    report: the existence of the related objects it assigned and the database constraints are
    left to the database instead of one query each (an import of 1,000 fiches ran 70 queries
    per fiche)."""
    related = [
        field.name
        for field in instance._meta.concrete_fields
        if field.is_relation and field.is_cached(instance)
    ]
    instance.full_clean(exclude=related, validate_constraints=False)
