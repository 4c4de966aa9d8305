"""In a real browser, the whole review of the 2022 report: the agent completes the year, the
référent transmits it, the prefecture returns it with a reason, the agent fixes it, it is
transmitted again and validated; the page lists two frozen versions whose files match their
SHA-256."""

import datetime
import hashlib
import re

import pytest
from django.contrib.auth import get_user_model

from reports.tasks import freeze_version_file
from tests.browser.support import BROWSER_TEST, SCREENSHOTS, action_year, expect, normalized
from tests.tasks import run_queued

pytestmark = BROWSER_TEST

DELIBERATION = "CD-2023/09/28-4/02 A"


def _justify_all_but_one(year):
    """The agent has justified the findings of the year but one, left for the browser."""
    from reports.selectors import year_tables
    from reports.services import justification_set

    agent = get_user_model().objects.get(username="agent77")
    for entry in year_tables([year])[year.pk].open_entries[1:]:
        justification_set(
            actor=agent, convention_year=year, key=entry.key, text="Écart expliqué au bilan."
        )


def _transmit(page, year):
    page.goto(f"/exercices/{year.pk}/relecture/")
    step = page.locator("section.review-step", has_text="Transmettre à la préfecture")
    step.get_by_label(re.compile("^Numéro de la délibération")).fill(DELIBERATION)
    step.get_by_label(re.compile("^Date de la délibération")).fill("2023-09-28")
    step.get_by_role("button", name="Transmettre à la préfecture").click()
    expect(page.get_by_role("status").first).to_contain_text("Transmis")


@pytest.fixture
def year_2022(demo):
    year = action_year("8.4", 2022).convention_year
    _justify_all_but_one(year)
    return year


def test_transmit_return_fix_transmit_validate(new_page, year_2022):
    from reports.models import ReportVersion

    year = year_2022
    agent = new_page("agent77")
    # The agent justifies the last finding, from the findings page.
    agent.goto(f"/exercices/{year.pk}/constats/")
    finding = agent.locator(".finding", has_text="à résoudre ou justifier").first
    finding.get_by_text("Justifier cet écart").click()
    finding.get_by_label("Justification écrite").fill("Report réaffecté, voir le bilan.")
    finding.get_by_role("button", name="Enregistrer la justification").click()
    expect(agent.locator(".messages")).to_contain_text("Justification enregistrée.")

    referent = new_page("referent77")
    referent.goto(f"/exercices/{year.pk}/")
    referent.get_by_role("link", name="Brouillon").click()
    expect(referent.get_by_role("heading", level=1)).to_contain_text(
        "Relecture du rapport d'exécution 2022"
    )
    _transmit(referent, year)
    expect(referent.locator("main")).to_contain_text(f"Délibération {DELIBERATION} du 28/09/2023")
    run_queued(freeze_version_file)

    # Locked: the agent's form is refused, in French.
    fiche = action_year("4.1", 2022)
    agent.goto(f"/fiches/{fiche.pk}/recit/")
    agent.get_by_label(re.compile("^Bilan d'exécution")).fill("Bilan complété.")
    agent.get_by_role("button", name="Enregistrer").click()
    expect(agent.locator("main")).to_contain_text("L'exercice 2022 est transmis")

    reviewer = new_page("prefecture77")
    reviewer.goto(f"/exercices/{year.pk}/relecture/")
    step = reviewer.locator("section.review-step", has_text="Renvoyer pour compléments")
    step.get_by_label(re.compile("^Motif")).fill("Complétez le bilan de la fiche 4.1.")
    step.get_by_role("button", name="Renvoyer pour compléments").click()
    expect(reviewer.get_by_role("status").first).to_contain_text("À compléter")

    agent.goto(f"/fiches/{fiche.pk}/recit/")
    agent.get_by_label(re.compile("^Bilan d'exécution")).fill("Bilan complété à la demande.")
    agent.get_by_role("button", name="Enregistrer").click()
    expect(agent.locator(".messages")).to_contain_text("Récit enregistré.")

    _transmit(referent, year)
    run_queued(freeze_version_file)
    reviewer.goto(f"/exercices/{year.pk}/relecture/")
    reviewer.get_by_role("button", name="Valider le rapport").click()
    expect(reviewer.get_by_role("status").first).to_contain_text("Validé")

    page_text = normalized(reviewer.locator("main").inner_text())
    assert "Version 2 — transmise le" in page_text and "Version 1 — transmise le" in page_text
    assert "Complétez le bilan de la fiche 4.1." in page_text
    reviewer.screenshot(path=str(SCREENSHOTS / "review.png"), full_page=True)
    versions = list(ReportVersion.objects.filter(convention_year=year).order_by("number"))
    assert [version.event.deliberation_date for version in versions] == [
        datetime.date(2023, 9, 28)
    ] * 2
    for version in versions:
        files = list(version.files.all())
        assert len(files) == 7
        for file in files:
            assert file.status == "ready", file.error
            assert hashlib.sha256(bytes(file.content)).hexdigest() == file.sha256
            assert file.sha256 in page_text
