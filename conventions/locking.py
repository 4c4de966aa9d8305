"""A year's data locked while its report is transmitted or validated (``reports.workflow``).

Every model of a year's data (its thèmes, envelopes, fiches, budgets, indicator values and
targets, matrix, justifications, the year itself) mixes in ``YearLockMixin``: its ``clean()`` —
run by ``full_clean()``, hence by every service (``calpae.audit.save_with_audit``), every admin
form and every django-import-export row — and its ``delete()`` refuse a write to a locked year
with a French message. The admin also shows such rows read-only (``YearLockAdminMixin``).
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError

LOCKED_MESSAGE = (
    "L'exercice {year} est {state} : ses données ne peuvent plus être modifiées tant que la "
    "préfecture ne l'a pas renvoyé pour compléments (ou que l'administrateur national ne l'a pas "
    "déverrouillé)."
)


class YearLocked(ValidationError):
    """A write to a year whose report is transmitted or validated."""


def locked_review(**scope):
    """The transmitted or validated review matching ``scope`` (filters of ``YearReview``)."""
    from reports.workflow import LOCKED_STATES

    review_model = apps.get_model("reports", "YearReview")
    return (
        review_model.objects.filter(state__in=LOCKED_STATES, **scope)
        .select_related("convention_year")
        .first()
    )


def ensure_year_open(convention_year_id: int | None) -> None:
    if convention_year_id is not None:
        _raise_if(locked_review(convention_year_id=convention_year_id))


# Years checked open once, with their review row locked until the end of the transaction, by a
# writer of many rows (``year_kept_open``): their rows are not checked again one by one.
_kept_open: ContextVar[frozenset[int]] = ContextVar("years_kept_open", default=frozenset())


@contextlib.contextmanager
def year_kept_open(convention_year_id: int):
    """Check once that the year is open, and keep it so until the transaction ends (its review
    row locked: a transmission waits). For the import of a whole table, inside its
    transaction."""
    review_model = apps.get_model("reports", "YearReview")
    list(review_model.objects.select_for_update().filter(convention_year_id=convention_year_id))
    ensure_year_open(convention_year_id)
    token = _kept_open.set(_kept_open.get() | {convention_year_id})
    try:
        yield
    finally:
        _kept_open.reset(token)


def _message(review) -> str:
    return LOCKED_MESSAGE.format(
        year=review.convention_year.year, state=review.get_state_display().lower()
    )


def _raise_if(review) -> None:
    if review is not None:
        raise YearLocked(_message(review), code="year_locked")


class YearLockMixin:
    """For the models of a year's data. ``year_lock_path``: the dotted attributes from the row
    to its ``ConventionYear`` id (``"action_year.convention_year_id"``); a model that reaches its
    year otherwise overrides ``locked_review_for``."""

    year_lock_path: str = "convention_year_id"

    def locked_review_for(self):
        value = self
        for name in self.year_lock_path.split("."):
            value = getattr(value, name, None)
            if value is None:
                return None
        if value in _kept_open.get():
            return None
        return locked_review(convention_year_id=value)

    def ensure_year_open(self) -> None:
        _raise_if(self.locked_review_for())

    def clean(self):
        super().clean()
        self.ensure_year_open()

    def delete(self, *args, **kwargs):
        self.ensure_year_open()
        return super().delete(*args, **kwargs)


class YearLockAdminMixin:
    """Admin of a year's data: a row of a locked year is shown read-only and cannot be deleted,
    also through the « supprimer la sélection » action."""

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.locked_review_for() is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.locked_review_for() is not None:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            review = obj.locked_review_for()
            if review is not None:
                # A 403 rather than the action's « supprimé(s) » message: nothing is deleted.
                raise PermissionDenied(_message(review))
        super().delete_queryset(request, queryset)
