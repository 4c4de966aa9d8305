"""Helpers of the browser tests (fixtures are in ``conftest.py``)."""

import os
import re
from pathlib import Path

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # ``_chromium_here`` (conftest) skips every test and says why, or fails in CI
    Page = expect = None

PASSWORD = "navigateur-de-test-77"
SCREENSHOTS = Path(os.environ.get("CALPAE_SCREENSHOTS", "/tmp"))

# What every browser test module declares: transactional, so that the live server's thread sees
# what the test writes, with the reference data of the migrations restored before each test
# (the ``demo`` fixture asks for the same, so a test that forgets it still works); and slow, since
# each test starts a browser.
BROWSER_TEST = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.slow,
]


def login(page: Page, username: str, password: str = PASSWORD) -> None:
    """Log in through the real login page; ends on the home page."""
    page.goto("/connexion/")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes conventions")


def normalized(text: str) -> str:
    """Text with every kind of space (no-break, narrow no-break…) made one plain space."""
    return re.sub(r"[\s\u00a0\u202f\u2009]+", " ", text).strip()


def action_year(number: str, year: int = 2023, department: str = "77"):
    """A fiche of the demo data, read from the database."""
    from actions.models import ActionYear

    return ActionYear.objects.get(
        convention_year__convention__department__code=department,
        convention_year__year=year,
        number=number,
    )


def focused(page: Page) -> dict:
    """What has the keyboard focus: tag, id, classes and visible text (or value)."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            return {
                tag: el.tagName.toLowerCase(),
                id: el.id,
                classes: [...el.classList],
                text: (el.innerText || el.value || "").trim(),
                label: el.labels && el.labels.length ? el.labels[0].innerText.trim() : "",
            };
        }"""
    )


def tab_to(page: Page, matches, limit: int = 60) -> dict:
    """Press Tab until ``matches(focused(page))``; fail after ``limit`` presses."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        if matches(element):
            return element
        seen.append(element["text"][:30] or element["label"] or element["tag"])
    raise AssertionError(f"Jamais atteint au clavier en {limit} tabulations ; vu : {seen}")
