"""In a real browser: the budget form, French amounts, the error summary, the fiche page after."""

import re
from decimal import Decimal

from tests.browser.support import (
    BROWSER_TEST,
    SCREENSHOTS,
    action_year,
    expect,
    focused,
    normalized,
)

pytestmark = BROWSER_TEST

CD_NEW = "C — Crédits CD de l'année"
INVALID_AMOUNT = "Saisissez un montant en euros, par exemple 1 234,56."


def planned(fiche):
    return fiche.budgets.get(kind="planned")


def test_budget_typed_the_french_way_shows_on_the_fiche_with_its_history(page):
    fiche = action_year("8.1")
    assert planned(fiche).cd_new == Decimal("20000.00")
    assert not planned(fiche).other_fundings.exists()
    page.goto(f"/fiches/{fiche.pk}/")
    page.get_by_role("link", name="Budget prévisionnel").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Budget prévisionnel 2023")

    amount = page.get_by_label(CD_NEW)
    assert normalized(amount.input_value()) == "20 000,00"  # shown with a no-break space
    amount.fill("1 234,56")
    page.get_by_label("Financeur, ligne 1", exact=True).select_option(label="FSE")
    page.get_by_label("Montant, ligne 1", exact=True).fill("2 000")
    page.screenshot(path=str(SCREENSHOTS / "calpae-budget.png"), full_page=True)
    page.get_by_role("button", name="Enregistrer le budget").click()

    expect(page).to_have_url(re.compile(rf"/fiches/{fiche.pk}/$"))
    expect(page.locator(".messages")).to_contain_text("Budget prévisionnel enregistré.")
    budget_table = page.get_by_role("table", name="Budget de la fiche en 2023")
    row = budget_table.get_by_role("row", name=re.compile("^C — Crédits CD de l'année"))
    assert normalized(row.inner_text()).startswith(f"{CD_NEW} 1 234,56 €")
    other = budget_table.get_by_role("row", name=re.compile("^E — Autres financeurs"))
    assert "FSE : 2 000,00 €" in normalized(other.inner_text())

    # Newest first: this save, by agent77, with the column's value before and after.
    history = page.locator("ol.history > li", has_text=re.compile("— Budget prévisionnel")).first
    assert "— agent77 —" in normalized(history.inner_text())
    change = history.get_by_role("row", name=re.compile("^C — Crédits CD", re.IGNORECASE))
    assert normalized(change.inner_text()).endswith("20 000,00 € 1 234,56 €"), change.inner_text()
    history_text = normalized(page.locator("ol.history").inner_text())
    assert "Autre financeur du budget prévisionnel" in history_text

    budget = planned(fiche)
    assert budget.cd_new == Decimal("1234.56")
    assert [(f.funder, f.amount) for f in budget.other_fundings.all()] == [
        ("fse", Decimal("2000.00"))
    ]


def test_a_wrong_amount_is_announced_focused_and_linked_to_its_field(page):
    fiche = action_year("8.1")
    version = fiche.version
    page.goto(f"/fiches/{fiche.pk}/budget/previsionnel/")
    page.get_by_label(CD_NEW).fill("abc")
    page.get_by_role("button", name="Enregistrer le budget").click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()  # autofocus: a screen reader reads it first
    assert focused(page)["classes"] == ["error-summary"]
    expect(summary.get_by_role("heading")).to_contain_text("1 erreur")
    link = summary.get_by_role("link", name=f"{CD_NEW} : {INVALID_AMOUNT}")
    expect(link).to_be_visible()
    # The field keeps what was typed, says what is wrong, and is described by the message.
    field = page.get_by_label(CD_NEW)
    expect(field).to_have_value("abc")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(re.compile(re.escape(INVALID_AMOUNT)))

    page.screenshot(path=str(SCREENSHOTS / "calpae-budget-erreur.png"), full_page=True)

    link.click()
    expect(field).to_be_focused()
    assert focused(page)["id"] == "id_cd_new"

    fiche.refresh_from_db()
    assert fiche.version == version
    assert planned(fiche).cd_new == Decimal("20000.00")
