"""Request id and access log (README « Journaux »), and the client's address behind the proxy."""

import ipaddress
import logging
import re
import time
import uuid

from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from calpae.logging import CONTROL_CHARACTERS, RequestContext, current_request

logger = logging.getLogger("calpae.request")

REQUEST_ID_HEADER = "X-Request-ID"
# The proxy's id (nginx's $request_id: 32 hex digits) is kept to follow a request from one journal
# to the other; anything else a client sends is replaced, so that a log line never carries it.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}", re.ASCII)


def _user_id(request: HttpRequest) -> int | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


class RequestLogMiddleware:
    """Gives each request an id (``X-Request-ID``, on the response too), makes it and the user id
    part of every log line written meanwhile, and logs the request in one line.

    First in ``MIDDLEWARE``: the lines of the other middleware (a CSRF refusal, a django-axes
    lockout) carry the id too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        context = RequestContext(request_id=request_id)
        # Kept until the response is closed (``request_finished``): Django writes its own line
        # of a 404 or a 500 (``django.request``) after the last middleware has returned.
        current_request.set(context)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            # The user as the request leaves it: logged in by the login page, out by logout.
            context.user_id = _user_id(request)
            duration_ms = round((time.perf_counter() - started) * 1000)
            # The path only: a query string may carry what a journal must not keep.
            path = CONTROL_CHARACTERS.sub("?", request.path)
            logger.info(
                "%s %s %s %s ms",
                request.method,
                path,
                response.status_code,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
        except BaseException:
            current_request.set(None)
            raise
        response[REQUEST_ID_HEADER] = request_id
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        # Called once every middleware has run, the authentication's included: the lines the
        # view writes know the user. The views ask for the user anyway (login_required).
        context = current_request.get()
        if context is not None:
            context.user_id = _user_id(request)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for django-axes (``AXES_CLIENT_IP_CALLABLE``).

    Behind the reverse proxy every request comes from the proxy's address: a lockout by
    username and address would then lock the username for everybody. The proxy's
    ``X-Real-IP`` is believed only when the request comes from a trusted proxy
    (``TRUSTED_PROXIES``), so that nobody can choose their address by sending the header."""
    remote_addr = request.META.get("REMOTE_ADDR")
    if remote_addr in settings.TRUSTED_PROXIES:
        try:  # axes stores it in an address column
            return str(ipaddress.ip_address(request.META.get("HTTP_X_REAL_IP", "").strip()))
        except ValueError:
            pass
    return remote_addr


@receiver(request_finished)
def _forget_request(**kwargs) -> None:
    """The lines written after the response (by the worker process, between two requests) are
    no longer the request's."""
    current_request.set(None)
