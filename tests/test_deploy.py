"""Production profile (README « Déploiement en production », « Journaux »): Django's deployment
checks pass with the production environment, every response carries the security headers, a
session ends after inactivity, logins are rate-limited, logs are JSON lines with the request and
the user, each generated document logs its duration and size, and the health endpoint answers.
"""

import base64
import hashlib
import io
import json
import logging
import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from unittest import mock

import import_export
import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone
from gunicorn.glogging import SafeAtoms

from calpae.logging import GunicornAccessFilter, JsonFormatter, RequestContextFilter
from calpae.middleware import client_ip
from conventions.models import ConventionYear
from reports.documents import DOCUMENTS
from reports.services import document_request
from reports.tasks import generate_document
from tests.tasks import run_queued

pytestmark = pytest.mark.django_db

PASSWORD = "mot-de-passe-de-test-77"
LOGIN_URL = "/connexion/"


def production_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a production server, with a throw-away SQLite database."""
    env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "LOG_FORMAT"}}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="calpae.example.fr",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CALPAE_VAR_DIR=str(tmp_path),
    )
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_deployment_checks_pass_with_the_production_environment(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


@pytest.mark.slow
def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = manage(env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY est obligatoire" in result.stderr


@pytest.mark.slow
def test_production_logs_are_json_lines(tmp_path):
    env = production_env(tmp_path)
    code = "import logging; logging.getLogger('calpae').warning('Essai de journal')"
    result = manage(env, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["message"] == "Essai de journal"
    assert line["level"] == "WARNING"
    assert {"time", "logger", "request_id", "user_id"} <= line.keys()
    assert env["SECRET_KEY"] not in result.stdout + result.stderr


@pytest.mark.slow
def test_gunicorn_configuration_loads_with_the_application(tmp_path):
    gunicorn = Path(sys.executable).parent / "gunicorn"
    result = subprocess.run(
        [gunicorn, "--check-config", "-c", "calpae/gunicorn.conf.py", "calpae.wsgi"],
        cwd=settings.BASE_DIR,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_gunicorn_access_line_becomes_fields():
    record = logging.LogRecord(
        "gunicorn.access",
        logging.INFO,
        __file__,
        0,
        '%(h)s "%(m)s %(U)s" %(s)s',
        # What gunicorn passes: its « atoms », a dict that answers "-" for a missing one.
        (SafeAtoms({"h": "127.0.0.1", "m": "GET", "U": "/a\nb", "s": "200", "M": 12, "B": 34}),),
        None,
    )
    record.args["{x-request-id}o"] = "id-du-proxy-1"
    for log_filter in (RequestContextFilter(), GunicornAccessFilter()):
        log_filter.filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == '127.0.0.1 "GET /a?b" 200'  # no forged line in a text journal
    assert (line["method"], line["path"], line["status"]) == ("GET", "/a?b", 200)
    assert (line["duration_ms"], line["bytes"], line["request_id"]) == (12, 34, "id-du-proxy-1")


# --- Headers ----------------------------------------------------------------------------------


def test_security_headers(client):
    response = client.get(LOGIN_URL)
    assert response.status_code == 200
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    # No inline script, no eval; one event attribute of django-import-export, by its hash.
    assert policy["script-src"].split() == [
        "'self'",
        "'unsafe-hashes'",
        settings.IMPORT_EXPORT_SELECT_ALL,
    ]
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_allowed_event_attribute_is_the_one_of_import_export():
    """The hash in the policy is that of the attribute in django-import-export's template: a new
    version that changes it needs a new hash (or its « Select all » stops working)."""
    template = Path(import_export.__file__).parent / "templates/admin/import_export/export.html"
    [handler] = re.findall(r'onchange="([^"]*)"', template.read_text(encoding="utf-8"))
    digest = base64.b64encode(hashlib.sha256(handler.encode()).digest()).decode()
    assert f"'sha256-{digest}'" == settings.IMPORT_EXPORT_SELECT_ALL


def test_templates_have_no_inline_script():
    """What the policy would block: an inline <script> or an event attribute (onclick…)."""
    folders = [Path(settings.BASE_DIR) / "templates", *Path(settings.BASE_DIR).glob("*/templates")]
    offending = [
        f"{path}: {match.group(0)}"
        for folder in folders
        for path in folder.rglob("*.html")
        for match in re.finditer(
            r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=", path.read_text(encoding="utf-8")
        )
    ]
    assert offending == []


# --- Sessions ---------------------------------------------------------------------------------


def later(delta: timedelta):
    """The clock of the session store moved forward by ``delta``."""
    now = timezone.now()
    return mock.patch("django.utils.timezone.now", return_value=now + delta)


def test_session_ends_after_inactivity(client):
    client.force_login(get_user_model().objects.get(username="agent77"))
    response = client.get(reverse("home"))
    assert response.status_code == 200
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""  # ends with the browser too

    idle = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    almost = idle - timedelta(minutes=1)
    with later(almost):
        assert client.get(reverse("home")).status_code == 200  # and the session is extended
    # Past the first expiry: alive, since the last request extended it.
    with later(almost + almost):
        assert client.get(reverse("home")).status_code == 200
    with later(almost + almost + idle + timedelta(seconds=1)):
        response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


# --- Login rate limiting ----------------------------------------------------------------------


@pytest.fixture
def agent(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = get_user_model().objects.get(username="agent77")
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def login(client, password: str, **headers):
    return client.post(LOGIN_URL, {"username": "agent77", "password": password}, **headers)


def test_login_is_locked_after_repeated_failures(client, agent):
    for attempt in range(1, settings.AXES_FAILURE_LIMIT):
        response = login(client, f"faux-{attempt}")
        assert response.status_code == 200
        assert "La connexion a échoué" in response.content.decode()
    response = login(client, "faux-dernier")
    assert response.status_code == 429
    assert "Trop de tentatives de connexion" in response.content.decode()

    # Even the right password is refused while locked, with the same page.
    response = login(client, PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Trop de tentatives de connexion" in page
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert f"bloquée pendant {minutes} minutes" in page
    assert client.get(reverse("home")).status_code == 302
    # Recorded in django-axes' tables (shown in the admin).
    attempt = AccessAttempt.objects.get(username="agent77")
    assert attempt.failures_since_start >= settings.AXES_FAILURE_LIMIT
    assert AccessFailureLog.objects.filter(username="agent77").count() >= (
        settings.AXES_FAILURE_LIMIT
    )

    # By username and address: the same user elsewhere (the proxy's X-Real-IP) still logs in.
    response = login(client, PASSWORD, HTTP_X_REAL_IP="192.0.2.10")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_a_success_resets_the_count(client, agent):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, f"faux-{attempt}")
    assert login(client, PASSWORD).status_code == 302
    client.logout()
    assert login(client, "faux-encore").status_code == 200


@pytest.mark.parametrize(
    ("remote_addr", "real_ip", "expected"),
    [
        ("127.0.0.1", "192.0.2.10", "192.0.2.10"),  # from the proxy: its word is taken
        ("127.0.0.1", "pas une adresse", "127.0.0.1"),
        ("198.51.100.7", "192.0.2.10", "198.51.100.7"),  # from anyone else: ignored
    ],
)
def test_client_address_behind_the_proxy(rf, remote_addr, real_ip, expected):
    request = rf.get("/", REMOTE_ADDR=remote_addr, HTTP_X_REAL_IP=real_ip)
    assert client_ip(request) == expected


# --- Logs -------------------------------------------------------------------------------------


@pytest.fixture
def json_log():
    """What the production handler writes (settings.LOGGING with LOG_FORMAT=json), as dicts."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter())
    # Django's loggers do not propagate to the root (settings.LOGGING): listen to both.
    loggers = [logging.getLogger(), logging.getLogger("django")]
    for logger in loggers:
        logger.addHandler(handler)

    def lines(logger: str | None = None) -> list[dict]:
        parsed = [json.loads(line) for line in stream.getvalue().splitlines()]
        return [line for line in parsed if logger is None or line["logger"] == logger]

    lines.text = stream.getvalue
    yield lines
    for logger in loggers:
        logger.removeHandler(handler)


def test_each_request_has_an_id_and_one_log_line(client, json_log):
    user = get_user_model().objects.get(username="agent77")
    client.force_login(user)
    response = client.get(reverse("home"), HTTP_X_REQUEST_ID="proxy-id-1234")
    assert response["X-Request-ID"] == "proxy-id-1234"
    [line] = json_log("calpae.request")
    assert line["request_id"] == "proxy-id-1234"
    assert line["user_id"] == user.pk
    assert (line["method"], line["path"], line["status"]) == ("GET", "/", 200)
    assert line["message"].startswith("GET / 200 ")
    assert isinstance(line["duration_ms"], int)


def test_django_s_own_line_of_a_404_has_the_request_id_and_no_query_string(client, json_log):
    client.force_login(get_user_model().objects.get(username="agent77"))
    response = client.get("/n-existe-pas/?jeton=SECRET123", HTTP_X_REQUEST_ID="proxy-id-404")
    assert response.status_code == 404
    [line] = json_log("django.request")
    assert line["request_id"] == "proxy-id-404"
    assert line["request"] == "GET /n-existe-pas/"
    assert "SECRET123" not in json_log.text()
    # Once the response is closed, a line is no longer the request's.
    logging.getLogger("calpae.essai").warning("après la requête")
    assert json_log("calpae.essai")[0]["request_id"] is None


@pytest.mark.parametrize("sent", ["", "court", "a" * 65, "id avec espaces", "x\ny"])
def test_an_odd_request_id_is_replaced(client, sent):
    response = client.get(reverse("health"), HTTP_X_REQUEST_ID=sent)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_logs_never_hold_a_password_a_session_or_the_secret_key(client, agent, json_log):
    login(client, "faux-mot-de-passe")
    response = login(client, PASSWORD)
    assert response.status_code == 302
    client.get(reverse("home"))
    text = json_log.text()
    assert json_log("calpae.request")[-1]["user_id"] == agent.pk
    for secret in (
        PASSWORD,
        "faux-mot-de-passe",
        client.cookies[settings.SESSION_COOKIE_NAME].value,
        settings.SECRET_KEY,
    ):
        assert secret not in text


@pytest.fixture
def year_2022():
    return ConventionYear.objects.get(convention__department__code="77", year=2022)


def assert_document_line(line: dict, *, document: str, fmt: str, size: int) -> None:
    assert (line["document"], line["format"], line["departement"], line["year"]) == (
        document,
        fmt,
        "77",
        2022,
    )
    assert line["bytes"] == size
    assert isinstance(line["duration_ms"], int) and line["duration_ms"] >= 0


def test_a_downloaded_document_logs_its_duration_and_size(client, year_2022, json_log):
    user = get_user_model().objects.get(username="prefecture77")
    client.force_login(user)
    response = client.get(
        reverse("reports:document", args=[year_2022.pk, "financial-table", "xlsx"])
    )
    assert response.status_code == 200
    [line] = json_log("calpae.documents")
    assert_document_line(line, document="financial-table", fmt="xlsx", size=len(response.content))
    # Written during the request: it carries its ids.
    assert line["request_id"] == response["X-Request-ID"]
    assert line["user_id"] == user.pk


def test_a_document_of_the_worker_logs_its_duration_and_size(
    year_2022, json_log, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        generated = document_request(
            actor=get_user_model().objects.get(username="agent77"),
            convention_year=year_2022,
            document=DOCUMENTS["indicators"],
            fmt="xlsx",
        )
    assert run_queued(generate_document) == 1
    generated.refresh_from_db()
    [line] = json_log("calpae.documents")
    assert_document_line(line, document="indicators", fmt="xlsx", size=len(generated.content))
    assert line["request_id"] is None  # no request in the worker


# --- Health -----------------------------------------------------------------------------------


def test_health_reports_the_database_and_the_task_queue(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "tasks": {"waiting": 0, "oldest_waiting_seconds": None},
    }
    generate_document.enqueue(0)  # never run: what a stopped worker leaves
    tasks = client.get(reverse("health")).json()["tasks"]
    assert tasks["waiting"] == 1
    assert tasks["oldest_waiting_seconds"] >= 0


def test_health_answers_in_plain_http_where_pages_redirect_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True  # production's default
    assert client.get(LOGIN_URL).status_code == 301
    assert client.get(reverse("health")).status_code == 200


def test_health_is_503_when_the_database_is_unreachable(client):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("injoignable")):
        response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["database"] == "error"
