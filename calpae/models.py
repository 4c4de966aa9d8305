"""Models shared by the whole project: the record of refused accesses."""

from django.conf import settings
from django.db import models


class AccessDenial(models.Model):
    """« Refus d'accès »: a request answered 403 because the user's role does not allow it.

    Written by the 403 handler (``calpae.errors.permission_denied``) for every
    ``PermissionDenied``: a prefecture reviewer posting a form, an agent importing a table, a
    staff member opening an admin page without its permission. The row is written after the
    request's own transaction has been rolled back, so it stays whatever the view had begun.

    Not recorded here:

    - a page of another Département, answered 404 by design (``calpae.permissions``: nothing
      tells that the object exists) — a 404 is indistinguishable from a mistyped address, and
      recording every one would bury the refusals that matter;
    - a form refused for a missing or wrong CSRF token (Django's ``CSRF_FAILURE_VIEW``, logged
      by ``django.security.csrf``): it is not a decision about the user's rights;
    - a failed login, recorded by django-axes.
    """

    at = models.DateTimeField("date", auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="utilisateur",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="access_denials",
    )
    # Kept when the account is deleted later.
    username = models.CharField("identifiant", max_length=150, blank=True)
    method = models.CharField("méthode", max_length=10)
    path = models.TextField("adresse")
    message = models.TextField("motif", blank=True)
    ip = models.GenericIPAddressField("adresse IP", null=True, blank=True)

    class Meta:
        verbose_name = "refus d'accès"
        verbose_name_plural = "refus d'accès"
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        who = self.username or "anonyme"
        return f"{who} — {self.method} {self.path}"
