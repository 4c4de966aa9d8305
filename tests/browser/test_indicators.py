"""In a real browser: the indicators of a fiche, typed as in the official matrix."""

import re

from indicators import selectors
from tests.browser.support import BROWSER_TEST, SCREENSHOTS, action_year, expect, normalized

pytestmark = BROWSER_TEST

FOLLOWED = "Nombre de personnes suivies dans le dispositif « référent de parcours »"


def test_indicator_result_typed_in_the_matrix_is_saved(page):
    fiche = action_year("1.3", year=2020)
    page.goto(f"/fiches/{fiche.pk}/")
    page.get_by_role("navigation", name="Saisie de la fiche").get_by_role(
        "link", name="Indicateurs"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Indicateurs 2020")

    result = page.get_by_label(re.compile(rf"^Résultat atteint en 2020 .*— {FOLLOWED}"))
    expect(result).to_have_value("150")
    result.fill("1 250")
    page.get_by_role("button", name="Enregistrer les indicateurs").click()

    expect(page).to_have_url(re.compile(rf"/fiches/{fiche.pk}/$"))
    message = normalized(page.locator(".messages").inner_text())
    assert "Indicateurs de la fiche 1.3 enregistrés (1 case modifiée)" in message, message

    page.get_by_role("link", name="Indicateurs", exact=True).click()
    saved = page.get_by_label(re.compile(rf"^Résultat atteint en 2020 .*— {FOLLOWED}"))
    assert normalized(saved.input_value()) == "1 250"
    page.screenshot(path=str(SCREENSHOTS / "calpae-indicateurs.png"), full_page=True)

    sheet = selectors.action_indicator_sheet(fiche)
    [cell] = [
        cell
        for row in sheet.rows
        for cell in row.values
        if FOLLOWED in cell.label and cell.label.startswith("Résultat atteint en 2020")
    ]
    assert normalized(cell.raw) == "1 250"
