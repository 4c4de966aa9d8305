"""Settings, read from the environment in this one place.

Environment variables (the production ones: README « Déploiement en production »):
- ``DATABASE_URL``: database (default: SQLite file ``var/db.sqlite3``); PostgreSQL in production
  and CI, e.g. ``postgres://user:password@127.0.0.1:5432/calpae``; ``CONN_MAX_AGE`` (seconds).
- ``SECRET_KEY``: required when ``DEBUG`` is off.
- ``DEBUG``: ``1``/``true`` to enable debug mode (default off, i.e. production).
- ``ALLOWED_HOSTS``: comma-separated host names (default ``localhost,127.0.0.1`` in debug);
  ``CSRF_TRUSTED_ORIGINS``: comma-separated origins, only if the proxy changes the host name.
- Production only (HTTPS ends at the reverse proxy): ``SECURE_SSL_REDIRECT`` (default on),
  ``SECURE_HSTS_SECONDS`` (default one year), ``SECURE_HSTS_INCLUDE_SUBDOMAINS``,
  ``SECURE_HSTS_PRELOAD`` (default on), ``TRUSTED_PROXIES`` (addresses whose ``X-Real-IP`` is
  believed, default ``127.0.0.1,::1``).
- ``SESSION_COOKIE_AGE``: seconds of inactivity before a session ends (default 1800).
- ``AXES_FAILURE_LIMIT`` (default 5), ``AXES_COOLOFF_MINUTES`` (default 15): login lockout.
- ``LOG_FORMAT``: ``json`` (default in production) or ``text`` (default in debug); ``LOG_LEVEL``.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_HASHES, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CALPAE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "La variable d'environnement SECRET_KEY est obligatoire quand DEBUG est désactivé."
        )
    SECRET_KEY = "insecure-development-key-only-for-debug"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "simple_history",
    "import_export",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "calpae",
    "conventions",
    "actions",
    "indicators",
    "reports",
]

MIDDLEWARE = [
    # First: every line the others write carries the request id (README « Journaux »).
    "calpae.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files from the application server, right after the HTTPS redirect (whitenoise).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "calpae.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "calpae.wsgi.application"

if "DATABASE_URL" not in os.environ:
    VAR_DIR.mkdir(parents=True, exist_ok=True)

CONN_MAX_AGE = env_int("CONN_MAX_AGE", 0)
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=CONN_MAX_AGE,
        # A persistent connection the database closed (restart, failover) is replaced, not used.
        conn_health_checks=CONN_MAX_AGE > 0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the document worker share the file: wait for the other's write.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-axes first: it refuses a locked-out username and address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "fr-fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production: hashed, compressed names cached for ever (``manage.py collectstatic`` first);
    # development and tests use the files where they are, without collectstatic.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Fixed here rather than read from settings.DEBUG when the middleware starts: pytest-django turns
# DEBUG off, and whitenoise would then warn that STATIC_ROOT (never collected in tests) is missing.
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG

# No MEDIA_ROOT: every file (generated documents, frozen versions, kept imports) is a database
# column, served only by the views that check the user's rights (README « Sécurité »).

# Import and export of spreadsheets (django-import-export; resources in each app's
# resources.py, README « Import et export »). The formats offered in the admin, XLSX and CSV, are
# the project's own classes (conventions.resources.FORMATS, set on the admin mixin): they keep a
# text starting with "=" whole and never a formula. The escaping below applies to the library's
# own formats (e.g. `manage.py export CSV …`): it drops the leading "=".
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT = True
# An admin import also writes the admin's log entries (« Actions récentes »); the full record,
# with the values before and after, is django-simple-history's.
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# Background tasks (django-tasks, database backend): the long PDF documents are generated by
# the worker ``manage.py db_worker`` (started by ``make run``), not in a web request.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Emails (review of the reports): printed on the console unless an SMTP server is given.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "CALPAE <ne-pas-repondre@calpae.invalid>")
# The address the links of the emails point to.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Security. A session ends after SESSION_COOKIE_AGE seconds without a request (each request saves
# it again, so its expiry moves) and when the browser closes.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# The health check may probe gunicorn directly, in plain HTTP on the loopback.
SECURE_REDIRECT_EXEMPT = [r"^sante/$"]

if not DEBUG:
    # HTTPS ends at the reverse proxy, which says so in X-Forwarded-Proto (README « Déploiement
    # en production »: it must set the header, never pass the client's).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # One year, as HSTS preload lists require; lower it (e.g. 3600) for a first deployment, since
    # browsers remember it. The preload flag does nothing until the domain is submitted.
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)

# Addresses of the reverse proxies whose X-Real-IP names the client (calpae.middleware.client_ip).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "127.0.0.1,::1")

# Login rate limiting (django-axes): after AXES_FAILURE_LIMIT failures for one username from one
# address, that pair is refused, even with the right password, for AXES_COOLOFF_MINUTES; each
# attempt is kept in axes' tables (AccessAttempt, AccessFailureLog), visible in the admin.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
# By username and address together: an attacker cannot lock a user out from elsewhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "calpae.middleware.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"

# Content-Security-Policy (django-csp). Scripts come from our origin only: no page of ours has
# an inline script or event attribute (tests/test_deploy.py checks the templates). One exception,
# by the hash of its exact text ('unsafe-hashes'): the onchange="onSelectToggleChange(event)" of
# django-import-export's admin export page (« Select all »).
# Styles also allow 'unsafe-inline', which cannot run code and cannot be avoided without changing
# what other code writes: the HTML preview of each PDF holds the print style sheet WeasyPrint
# reads (templates/reports/pdf), and the admin pages of Django and django-import-export have
# inline styles. (The pygal charts no longer need it: their style sheet is written as
# presentation attributes, reports/charts.py.) Images also allow data: URIs (the charts of the
# preview of the Rapport d'exécution, the empty favicon of base.html).
IMPORT_EXPORT_SELECT_ALL = "'sha256-wid4zL8fR53ZYy1ljOepzR77Dn6vWUUxuNnnWWBP3I8='"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, UNSAFE_HASHES, IMPORT_EXPORT_SELECT_ALL],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Logs (README « Journaux »): one JSON object a line in production, readable text in
# development; every line carries the request id and the user id (calpae/logging.py). Kept on
# stderr: commands write files on stdout (``manage.py export … > budgets.xlsx``).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured("LOG_FORMAT vaut « json » ou « text ».")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "calpae.logging.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "calpae.logging.JsonFormatter"},
        "text": {"()": "calpae.logging.TextFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Django's own console handler would print every message a second time through the root.
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # WeasyPrint logs each layout step at INFO; its warnings (missing fonts…) still show.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # django-axes announces itself at INFO in every command and every gunicorn worker.
        "axes.apps": {"level": "WARNING"},
    },
}
