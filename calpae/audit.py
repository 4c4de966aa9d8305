"""Audit entries: every service records who changed what through django-simple-history."""

from django.db import models


def save_with_audit(instance: models.Model, *, actor, reason: str) -> models.Model:
    """``full_clean()`` then ``save()``, recording ``actor`` and ``reason`` in the history row."""
    instance.full_clean()
    instance._history_user = actor
    instance._change_reason = reason
    instance.save()
    return instance
