"""In a real browser: a form used with the keyboard only, and two people saving the same fiche."""

import re
from decimal import Decimal

from tests.browser.support import (
    BROWSER_TEST,
    SCREENSHOTS,
    action_year,
    expect,
    focused,
    normalized,
    tab_to,
)

pytestmark = BROWSER_TEST

CONFLICT = "Enregistrement refusé : la fiche a été modifiée pendant votre saisie"


def test_narrative_form_reached_filled_and_saved_with_the_keyboard_only(page):
    fiche = action_year("8.1")
    page.goto(f"/fiches/{fiche.pk}/")

    tab_to(page, lambda el: el["tag"] == "a" and el["text"] == "Description, bilan, perspectives")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Description, bilan d'exécution")

    tab_to(page, lambda el: el["tag"] == "textarea" and el["label"].startswith("Perspectives"))
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.type("Reconduction prévue en 2024, au clavier.")
    tab_to(page, lambda el: el["tag"] == "button" and el["text"] == "Enregistrer")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(rf"/fiches/{fiche.pk}/$"))
    expect(page.locator(".messages")).to_contain_text("Récit enregistré.")
    expect(page.locator(".narrative").last).to_contain_text("Reconduction prévue en 2024")
    saved = action_year("8.1").outlook.replace("\r\n", "\n")
    assert saved == f"{fiche.outlook}\nReconduction prévue en 2024, au clavier.".strip()


def test_second_save_of_a_stale_form_is_refused_with_what_changed(new_page):
    fiche = action_year("8.1")
    url = f"/fiches/{fiche.pk}/budget/previsionnel/"
    first, second = new_page("agent77"), new_page("referent77")
    first.goto(url)
    second.goto(url)

    first.get_by_label("C — Crédits CD de l'année").fill("25 000")
    first.get_by_role("button", name="Enregistrer le budget").click()
    expect(first.locator(".messages")).to_contain_text("Budget prévisionnel enregistré.")

    second.get_by_label("C — Crédits CD de l'année").fill("30 000")
    second.get_by_role("button", name="Enregistrer le budget").click()

    conflict = second.locator(".conflict")
    expect(conflict.get_by_role("heading", name=CONFLICT)).to_be_visible()
    second.screenshot(path=str(SCREENSHOTS / "calpae-conflit.png"), full_page=True)
    expect(conflict).to_be_focused()
    assert focused(second)["classes"] == ["conflict"]
    # The list of changes: who saved what in between.
    change = normalized(conflict.locator("ol.history > li").first.inner_text())
    assert "— agent77 — Budget prévisionnel" in change, change
    assert re.search(r"C — crédits cd de l'année 20 000,00 € 25 000,00 €", change, re.I), change
    # The second user's value is kept in the form, with the one saved meanwhile beside it.
    field = second.get_by_label("C — Crédits CD de l'année")
    assert normalized(field.input_value()) == "30 000"
    expect(field.locator("xpath=ancestor::div[contains(@class, 'field')][1]")).to_contain_text(
        re.compile(r"Valeur enregistrée entre-temps : 25\s000,00\s€")
    )

    fiche.refresh_from_db()
    assert fiche.budgets.get(kind="planned").cd_new == Decimal("25000.00")
