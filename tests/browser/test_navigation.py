"""In a real browser: from the login page to a fiche, and what a prefecture reviewer may do."""

import re

from actions import selectors
from tests.browser.support import BROWSER_TEST, SCREENSHOTS, action_year, expect, normalized

pytestmark = BROWSER_TEST

BLOCKS = {
    "socle": "Engagements des mesures socle",
    "initiative": "Engagements à l'initiative du Département",
}


def test_agent_goes_from_login_to_a_fiche_through_the_year_page(page):
    # The login fixture ended on the home page.
    expect(page).to_have_title(re.compile("^Accueil"))
    page.get_by_role("link", name="2023", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Exercice 2023")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Seine-et-Marne")
    # Grouped by block (socle first), then by thème in the order of the official table, each
    # thème followed by its fiches: checked on the text, whatever the markup.
    page.wait_for_load_state()
    text = normalized(page.locator("main").inner_text())
    fiche = action_year("8.1")
    groups = selectors.year_groups(fiche.convention_year)
    assert (groups[0].block, groups[-1].block) == ("socle", "initiative")
    position, block = 0, None
    for group in groups:  # each block heading, thème and fiche after the one before it
        if group.block != block:
            block = group.block
            position = text.index(BLOCKS[block], position)
        position = text.index(group.label, position)
        for summary in group.actions:
            row = normalized(f"{summary.action_year.number} {summary.action_year.title}")
            position = text.index(row, position)
    assert "Sous-total" in text
    page.screenshot(path=str(SCREENSHOTS / "calpae-exercice.png"), full_page=True)

    page.get_by_role("link", name="8.1", exact=True).click()

    expect(page).to_have_url(re.compile(rf"/fiches/{fiche.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Fiche 8.1 — {fiche.title}")
    breadcrumb = page.get_by_role("navigation", name="Fil d'Ariane")
    expect(breadcrumb.get_by_role("link", name="Seine-et-Marne — exercice 2023")).to_be_visible()
    expect(page.get_by_role("link", name="Budget prévisionnel")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("^C — Crédits CD de l'année"))
    assert "20 000,00 €" in normalized(row.inner_text())


def test_reviewer_sees_no_edit_button_and_is_refused_the_forms(new_page):
    page = new_page("prefecture77")
    fiche = action_year("8.1")
    page.goto(f"/fiches/{fiche.pk}/")

    expect(page.get_by_role("heading", level=1)).to_contain_text("Fiche 8.1")
    expect(page.get_by_role("navigation", name="Saisie de la fiche")).to_have_count(0)
    for name in ("Modifier la fiche", "Budget prévisionnel", "Retirer la fiche", "Reconduire"):
        expect(page.get_by_role("link", name=name)).to_have_count(0)
    expect(page.get_by_role("button", name="Enregistrer la justification")).to_have_count(0)

    for url in (f"/fiches/{fiche.pk}/budget/previsionnel/", f"/fiches/{fiche.pk}/recit/"):
        response = page.goto(url)
        assert response.status == 403, url
        expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
        expect(page.locator("main")).to_contain_text("ne permet que la lecture")
