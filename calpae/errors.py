"""Error pages that do more than show a page.

``permission_denied`` is the project's ``handler403`` (``calpae/urls.py``): every refused action
(``PermissionDenied``, e.g. ``calpae.permissions.require_edit``) leaves an audit row
(``calpae.models.AccessDenial``), then the user sees the usual French page (``403.html``).
"""

import ipaddress
import logging

from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse
from django.views import defaults

from calpae.middleware import client_ip
from calpae.models import AccessDenial

logger = logging.getLogger(__name__)

MAX_PATH = 2000


def _ip(request: HttpRequest) -> str | None:
    """The client's address as django-axes sees it (behind the reverse proxy, its
    ``X-Real-IP``: ``calpae.middleware.client_ip``), if it is one."""
    try:
        return str(ipaddress.ip_address(client_ip(request) or ""))
    except ValueError:
        return None


def record_denial(request: HttpRequest, exception: Exception | None) -> None:
    """Write the audit row of a refused request, in a transaction of its own.

    Django calls the 403 handler once the view's exception has left the view, hence after an
    ``ATOMIC_REQUESTS`` transaction has been rolled back: the row is not lost with it. A failure
    to write it is logged, never turned into a server error instead of the 403 page.
    """
    user = getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None
    try:
        with transaction.atomic():
            AccessDenial.objects.create(
                user=user,
                username=user.get_username() if user is not None else "",
                method=(request.method or "")[:10],
                path=request.get_full_path()[:MAX_PATH],
                message=str(exception or ""),
                ip=_ip(request),
            )
    except DatabaseError:
        logger.exception("Refus d'accès non enregistré : %s %s", request.method, request.path)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler403``: the refusal is recorded, then Django's page (``403.html``, French)."""
    record_denial(request, exception)
    return defaults.permission_denied(request, exception)
