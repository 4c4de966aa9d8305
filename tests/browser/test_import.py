"""In a real browser: the Département administrator imports a financial table into a year,
simulation first, then « Confirmer l'import » without choosing the file again."""

import re
from decimal import Decimal
from io import BytesIO

import pytest
from django.contrib.auth import get_user_model

from tests.browser.support import (
    BROWSER_TEST,
    PASSWORD,
    SCREENSHOTS,
    action_year,
    expect,
    normalized,
)

pytestmark = BROWSER_TEST


@pytest.fixture
def admin77(demo):
    """The demo's administrator of Seine-et-Marne, with the browser tests' password."""
    user = get_user_model().objects.get(username="admin77")
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def _execution_table_2022(path, realised_8_4: int):
    """The demo's 2022 execution table, as the site exports it, with fiche 8.4's réalisé
    (column K) changed by hand."""
    from openpyxl import load_workbook

    from reports.documents import DOCUMENTS

    document = DOCUMENTS["financial-table"]
    content = document.renderers["xlsx"](document.read(action_year("8.4", 2022).convention_year))
    workbook = load_workbook(BytesIO(content))
    sheet = workbook.active
    row = next(row for row in sheet.iter_rows() if any(cell.value == "8.4" for cell in row))
    sheet[f"K{row[0].row}"] = realised_8_4
    workbook.save(path)
    return path


def test_administrator_simulates_then_confirms_without_choosing_the_file_again(
    admin77, new_page, tmp_path
):
    from actions.models import PendingImport

    fiche = action_year("8.4", 2022)
    year = fiche.convention_year
    table = _execution_table_2022(tmp_path / "execution-2022.xlsx", 700000)
    page = new_page("admin77")

    page.goto(f"/exercices/{year.pk}/")
    page.get_by_role("link", name="Importer un tableau financier").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Importer un tableau financier")
    expect(page.get_by_label("Simulation")).to_be_checked()
    page.get_by_label(re.compile("^Fichier")).set_input_files(table)
    page.get_by_label("Importer même si des totaux imprimés diffèrent").check()
    page.get_by_role("button", name="Lire le fichier").click()

    report = page.locator(".import-report")
    expect(report.get_by_role("heading", level=2)).to_have_text(
        "Simulation de « execution-2022.xlsx »"
    )
    expect(report.get_by_role("status")).to_contain_text("Simulation réussie (rien écrit)")
    expect(report).to_contain_text("Fiche 8.4 — budget exécuté")
    expect(page.get_by_role("button", name="Confirmer l'import")).to_be_visible()
    assert "conservé qu'entre une simulation réussie et votre confirmation" in normalized(
        page.locator("main").inner_text()
    )
    page.screenshot(path=str(SCREENSHOTS / "import_report.png"), full_page=True)
    assert PendingImport.objects.filter(user=admin77, convention_year=year).count() == 1
    assert action_year("8.4", 2022).budgets.get(kind="executed").realised != Decimal("700000")

    page.get_by_role("button", name="Confirmer l'import").click()

    expect(page).to_have_url(re.compile(rf"/exercices/{year.pk}/$"))
    expect(page.locator(".messages")).to_contain_text("Import réalisé — 0 créé(s), 1 modifié(s)")
    assert action_year("8.4", 2022).budgets.get(kind="executed").realised == Decimal("700000")
    assert not PendingImport.objects.exists()
