"""Browser tests: Debian's Chromium driven by Playwright (sync API) against ``live_server``.

Chromium comes from Debian's packages (``make browser-deps``, binary ``/usr/bin/chromium``),
never from a download by a test tool. Without it the tests are skipped with the command to run;
with ``CALPAE_REQUIRE_BROWSER=1`` (set by ``.ci/run``) they fail instead.

The live server runs in another thread and needs committed data: the tests are transactional
(``serialized_rollback=True`` restores the reference data of the migrations before each test),
and each test puts the demo data back itself, since a transactional test empties the database
when it ends. Once the browser tests are over, the demo data is put back for the tests after
them.
"""

import io
import os
import shutil

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connections

from tests.browser.support import PASSWORD, login

CHROMIUM = os.environ.get("CALPAE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000


def _missing_browser() -> str | None:
    """Why the browser tests cannot run here, or ``None``."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return (
            "paquet Python « playwright » absent : lancez « make install » / "
            "Python package 'playwright' missing: run 'make install'"
        )
    path = shutil.which(CHROMIUM) or CHROMIUM
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return (
            f"Chromium introuvable ({CHROMIUM}) : lancez « make browser-deps » / "
            f"Chromium not found ({CHROMIUM}): run 'make browser-deps'"
        )
    return None


def _required() -> bool:
    return os.environ.get("CALPAE_REQUIRE_BROWSER", "").strip().lower() in {"1", "true", "yes"}


# The database as the first browser test found it (reference and demo data), serialized once:
# restoring it takes about a second, loading the demo data again about eight.
_snapshot: dict[str, str] = {}
_state = {"database_emptied": False}


def _restore_snapshot() -> None:
    for alias, contents in _snapshot.items():
        connections[alias].creation.deserialize_db_from_string(contents)


@pytest.fixture(scope="package", autouse=True)
def _demo_data_back_afterwards(django_db_blocker):
    """Transactional tests empty the database when they end: fill it again for later tests."""
    yield
    if _state["database_emptied"] and _snapshot:
        with django_db_blocker.unblock():
            _restore_snapshot()


@pytest.fixture
def demo(transactional_db, django_db_serialized_rollback, settings):
    """The demo data, in the (transactional) test database, with known passwords."""
    from conventions.models import Department, Theme

    _state["database_emptied"] = True  # at the end of this test
    # Reference data of the migrations, restored by serialized_rollback.
    assert Department.objects.filter(code="77").exists()
    assert Theme.objects.exists()
    User = get_user_model()
    if not User.objects.filter(username="agent77").exists():
        if _snapshot:
            _restore_snapshot()
        else:
            call_command("load_demo", verbosity=0, stdout=io.StringIO())
    if not _snapshot:
        for alias in connections:
            _snapshot[alias] = connections[alias].creation.serialize_db_to_string()
    # A fast hasher: the login page checks the password in the live server's thread.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    for username in ("agent77", "referent77", "prefecture77"):
        user = User.objects.get(username=username)
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])


@pytest.fixture(scope="session", autouse=True)  # session: before the database fixtures
def _chromium_here():
    """Skip every browser test, before any database work, when Chromium is missing; fail in CI."""
    reason = _missing_browser()
    if reason and _required():
        pytest.fail(f"CALPAE_REQUIRE_BROWSER=1 mais {reason}")
    if reason:
        pytest.skip(reason)


@pytest.fixture
def browser(_chromium_here, live_server, demo):
    """A headless Chromium for one test, started once the database is ready.

    Playwright's sync API marks an asyncio event loop as running in this thread while the test
    runs. Django then keeps its database connections per context, not per thread, and refuses
    ORM calls unless told it is safe (it is: the loop only drives the browser). Starting the
    browser after the database fixtures, and stopping it before them, keeps their set-up and
    tear-down (serialized rollback, flush) on the thread's own connection.
    """
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield chromium
            finally:
                # The connections the test body opened while the loop ran.
                connections.close_all()
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser, live_server):
    """``new_page(username)``: a page of a fresh browser context, logged in through the form."""
    contexts = []

    def open_page(username: str | None = "agent77"):
        context = browser.new_context(
            base_url=live_server.url,
            locale="fr-FR",
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        if username:
            login(page, username)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A page logged in as ``agent77`` (agent of Seine-et-Marne)."""
    return new_page("agent77")
