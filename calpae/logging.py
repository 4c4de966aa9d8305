"""Structured logs: every line written while a request is served carries its request id and user.

``calpae.middleware.RequestLogMiddleware`` opens a :class:`RequestContext` for each request;
:class:`RequestContextFilter`, set on the handlers (``settings.LOGGING``), copies it onto each
record, whatever logger wrote it (Django, django-axes, ours). :class:`JsonFormatter` writes one
JSON object a line (``LOG_FORMAT=json``, the default in production); :class:`TextFormatter` the
readable lines of development. This module imports nothing from Django: gunicorn's configuration
(``calpae/gunicorn.conf.py``) loads it before Django.
"""

import contextlib
import contextvars
import logging
import re
from dataclasses import dataclass

from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

JSON_FIELDS = ("levelname", "name", "message", "request_id", "user_id")

# Extra fields that must never reach a log, whoever passes them: a record with one of them keeps
# the key (so the line says something was there) but not the value.
SENSITIVE_FIELDS = frozenset(
    {"password", "cookie", "cookies", "sessionid", "session_key", "secret_key", "authorization"}
)
MASKED = "[masqué]"
# A newline in a requested path would otherwise start a forged line in a text journal.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class RequestContext:
    """Mutable: the user is known only once the authentication middleware has run, and changes
    when the request logs in or out."""

    request_id: str
    user_id: int | None = None


current_request: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "calpae_request", default=None
)


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` and ``user_id`` (``None`` outside a request: worker, commands) to every
    record, and masks the values of the sensitive extra fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = current_request.get()
        record.request_id = context.request_id if context else None
        record.user_id = context.user_id if context else None
        for name in SENSITIVE_FIELDS & record.__dict__.keys():
            setattr(record, name, MASKED)
        # Django's own lines (``django.request``: a 404, a 500) carry the request, whose text
        # holds the query string: the method and the path only, as our request line.
        request = record.__dict__.get("request")
        if request is not None and hasattr(request, "path"):
            record.request = f"{request.method} {CONTROL_CHARACTERS.sub('?', request.path)}"
        return True


class JsonFormatter(BaseJsonFormatter):
    """One JSON object a line: time, level, logger, message, request and user ids, then the
    extra fields of the record (``logger.info(..., extra={"duration_ms": 12})``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", list(JSON_FIELDS))
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        # In UTC, ISO 8601: gunicorn's master writes before Django sets the process's time zone.
        kwargs.setdefault("timestamp", "time")
        # French text (« Rapport d'exécution ») stays readable in the journal.
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)


class TextFormatter(logging.Formatter):
    """Readable lines: time, level, logger, ``[request id user=…]`` within a request, message."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s%(ids)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        user_id = getattr(record, "user_id", None)
        ids = f" [{request_id} user={user_id or '-'}]" if request_id else ""
        return self._fmt % {**record.__dict__, "ids": ids}


class GunicornAccessFilter(logging.Filter):
    """gunicorn's access line as fields: its record's arguments are the « atoms » of the line
    (``%(m)s``, ``%(s)s``…, missing ones are ``-``); the request id is the one our middleware
    put on the response."""

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args  # gunicorn's SafeAtoms, a dict
        if isinstance(atoms, dict):
            for key, value in atoms.items():
                if isinstance(value, str):
                    atoms[key] = CONTROL_CHARACTERS.sub("?", value)
            record.request_id = atoms["{x-request-id}o"]
            record.method = atoms["m"]
            record.path = atoms["U"]
            record.status = int(atoms["s"]) if str(atoms["s"]).isdigit() else atoms["s"]
            record.duration_ms = atoms["M"]
            record.bytes = atoms["B"]
            record.remote_addr = atoms["h"]
        return True


def gunicorn_logconfig(log_format: str) -> dict:
    """gunicorn's own logs (``logconfig_dict``): access lines on stdout, errors on stderr."""
    handler = {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["context"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": RequestContextFilter},
            "access": {"()": GunicornAccessFilter},
        },
        "formatters": {"json": {"()": JsonFormatter}, "text": {"()": TextFormatter}},
        "handlers": {
            "access": {**handler, "stream": "ext://sys.stdout", "filters": ["context", "access"]},
            "error": {**handler, "stream": "ext://sys.stderr"},
        },
        "root": {"level": "INFO", "handlers": ["error"]},
        "loggers": {
            "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
            "gunicorn.error": {"level": "INFO", "handlers": ["error"], "propagate": False},
        },
    }


@contextlib.contextmanager
def quiet(*names: str):
    """The INFO lines of these loggers silenced for a while (a benchmark's figures would be
    interleaved with a line per request or per document), their levels restored after: the
    command may run inside the tests' process."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
