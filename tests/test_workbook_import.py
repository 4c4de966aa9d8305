"""Import of official workbooks into a year (actions/imports.py, manage.py import_workbook, the
upload page): round trip, idempotence, dry run, one transaction, French messages."""

import io
from decimal import Decimal
from io import BytesIO
from zipfile import ZIP_DEFLATED, ZipFile

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from actions.imports import workbook_file_import
from actions.models import Action, ActionYear, Budget, PendingImport
from conventions.models import Convention, ConventionYear, Department
from indicators.models import IndicatorTarget, IndicatorValue, MatrixEntry
from reports.documents import DOCUMENTS
from tests.history import history_counts

pytestmark = pytest.mark.django_db


def _year(year: int) -> ConventionYear:
    return ConventionYear.objects.get(convention__department__code="77", year=year)


def _export(slug: str, year: int) -> bytes:
    document = DOCUMENTS[slug]
    return document.renderers["xlsx"](document.read(_year(year)))


def _cells(content: bytes) -> list[list]:
    return [[cell.value for cell in row] for row in load_workbook(BytesIO(content)).active.rows]


def _edit(content: bytes, **cells) -> bytes:
    workbook = load_workbook(BytesIO(content))
    for reference, value in cells.items():
        workbook.active[reference] = value
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _import(content: bytes, year: int = 2022, **options):
    admin = get_user_model().objects.get(username="admin")
    return workbook_file_import(
        actor=admin,
        department=Department.objects.get(code="77"),
        year=year,
        data=content,
        filename=f"tableau-{year}.xlsx",
        **options,
    )


def _cell_of(content: bytes, text: str, column: str) -> str:
    """The reference of ``column`` on the row whose cells hold ``text``."""
    sheet = load_workbook(BytesIO(content)).active
    for row in sheet.iter_rows():
        if any(cell.value == text for cell in row):
            return f"{column}{row[0].row}"
    raise AssertionError(text)


def _forget_seine_et_marne():
    """An empty database for Seine-et-Marne: the reference data only."""
    MatrixEntry.objects.filter(convention_year__convention__department__code="77").delete()
    IndicatorValue.objects.filter(period__department__code="77").delete()
    IndicatorTarget.objects.filter(convention_year__convention__department__code="77").delete()
    Convention.objects.filter(department__code="77").delete()
    Action.objects.filter(department__code="77").delete()


def test_round_trip_of_the_2022_execution_table_into_an_empty_database(shared_data):
    exported = _export("financial-table", 2022)
    _forget_seine_et_marne()
    assert not ConventionYear.objects.filter(convention__department__code="77").exists()

    report = _import(exported)

    assert report.imported, [str(problem) for problem in report.problems]
    assert not report.errors and not report.mismatches
    printed = shared_data("seine-et-marne-2022-execution.json")["rows"]
    actions = sum(row["record_type"] == "action" for row in printed)
    assert ActionYear.objects.filter(convention_year=_year(2022)).count() == actions
    # Exported again: the same figures, cell by cell.
    assert _cells(_export("financial-table", 2022)) == _cells(exported)
    total = shared_data("seine-et-marne-2022-execution.json")["rows"][-1]
    budgets = Budget.objects.filter(action_year__convention_year=_year(2022))
    assert sum(b.realised or 0 for b in budgets) == Decimal(total["realise"])
    # The new rows are inserted in bulk, each with its history row, user and file named.
    for model, rows in (
        (ActionYear, ActionYear.objects.filter(convention_year=_year(2022))),
        (Budget, budgets),
    ):
        records = model.history.filter(id__in=[row.pk for row in rows])
        assert records.count() == rows.count()
        assert {(r.history_type, r.history_user.username) for r in records} == {("+", "admin")}
        assert {r.history_change_reason for r in records} == {
            "Import du fichier « tableau-2022.xlsx »"
        }


def test_importing_the_same_file_again_changes_nothing():
    exported = _export("financial-table", 2022)
    before = history_counts()
    report = _import(exported)
    assert report.imported
    assert not report.created and not report.updated
    assert len(report.unchanged) >= 16
    assert history_counts() == before  # not a single history row


def test_a_changed_amount_written_as_french_text_is_updated_with_its_history():
    exported = _export("financial-table", 2022)
    realised = _cell_of(exported, "8.4", "K")
    total = _cell_of(exported, "TOTAUX FINANCIERS", "K")
    old_total = load_workbook(BytesIO(exported)).active[total].value
    edited = _edit(
        exported, **{realised: "708 000,50 €", total: Decimal(str(old_total)) - Decimal("674.50")}
    )
    subtotal = _cell_of(exported, "Sous total engagements à l'initiative du département", "K")
    edited = _edit(edited, **{subtotal: Decimal("1643425") - Decimal("674.50")})
    action_year = ActionYear.objects.get(convention_year=_year(2022), number="8.4")
    history = Budget.history.filter(action_year_id=action_year.pk).count()

    report = _import(edited)

    assert report.imported, [str(problem) for problem in report.problems]
    (change,) = report.updated
    assert change.subject == "Fiche 8.4 — budget exécuté"
    assert [detail.replace("\u00a0", " ") for detail in change.details] == [
        "réalisé : 708 675,00 € → 708 000,50 €"
    ]
    budget = Budget.objects.get(action_year=action_year, kind="executed")
    assert budget.realised == Decimal("708000.50")
    assert Budget.history.filter(action_year_id=action_year.pk).count() == history + 1
    assert budget.history.first().history_change_reason == "Import du fichier « tableau-2022.xlsx »"


def test_a_printed_total_that_disagrees_is_refused_unless_accepted():
    exported = _export("financial-table", 2022)
    realised = _cell_of(exported, "8.4", "K")
    edited = _edit(exported, **{realised: 700000})
    before = history_counts()

    refused = _import(edited)
    assert not refused.imported
    assert refused.mismatches and not refused.errors
    messages = " ".join(str(problem) for problem in refused.mismatches).replace("\u00a0", " ")
    assert "montant imprimé 8 195 325,07 €" in messages  # both amounts are named
    assert history_counts() == before

    accepted = _import(edited, accept_printed_mismatch=True)
    assert accepted.imported
    budget = Budget.objects.get(
        action_year__convention_year=_year(2022), action_year__number="8.4", kind="executed"
    )
    assert budget.realised == Decimal("700000.00")


def test_a_dry_run_reports_and_writes_nothing():
    exported = _export("financial-table", 2022)
    edited = _edit(exported, **{_cell_of(exported, "8.4", "K"): 700000})
    before = history_counts()
    report = _import(edited, dry_run=True, accept_printed_mismatch=True)
    assert report.imported and report.dry_run
    assert [change.subject for change in report.updated] == ["Fiche 8.4 — budget exécuté"]
    assert "Simulation réussie (rien écrit)" in report.summary
    assert history_counts() == before


def test_one_bad_row_and_nothing_ishistory_counts():
    exported = _export("financial-table", 2022)
    edited = _edit(
        exported,
        **{
            _cell_of(exported, "8.4", "K"): 700000,  # a valid change on one row…
            _cell_of(exported, "8.3", "E"): "douze mille",  # …and an unreadable amount
        },
    )
    before = history_counts()
    report = _import(edited, accept_printed_mismatch=True)
    assert not report.imported
    (error,) = report.errors
    assert "douze mille" in error.message and error.cell.startswith("E")
    assert history_counts() == before


def test_a_table_of_another_year_or_departement_is_refused():
    report = _import(_export("financial-table", 2022), year=2023)
    assert not report.imported
    assert any("porte sur l'année 2022" in problem.message for problem in report.errors)


def test_an_unknown_theme_is_named_with_its_cell():
    exported = _export("financial-table", 2022)
    first = _cell_of(exported, "Prévention spécialisée (le cas échéant)", "A")
    # Its Chorus code alone would designate the thème: both cells are rewritten.
    chorus = first.replace("A", "B", 1)
    report = _import(_edit(exported, **{first: "Thème inventé", chorus: "Imputation inconnue"}))
    assert not report.imported
    assert any(
        problem.code == "theme_unknown" and "Thème inventé" in problem.message
        for problem in report.errors
    )


@pytest.mark.parametrize("slug,year", [("previsionnel-table", 2023), ("previsionnel-table", 2020)])
def test_the_previsionnel_and_the_2020_avenant_read_back_unchanged(slug, year):
    before = history_counts()
    report = _import(_export(slug, year), year=year)
    assert report.imported, [str(problem) for problem in report.problems]
    assert not report.created and not report.updated
    assert history_counts() == before


def test_a_zip_bomb_is_refused_before_parsing():
    buffer = BytesIO()
    with ZipFile(buffer, "w", compression=ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 200_000_000)
    report = _import(buffer.getvalue())
    assert not report.imported
    (error,) = report.errors
    assert "tableau-2022.xlsx" in error.message


# --- Command line -------------------------------------------------------------------------------


def test_command_dry_run_prints_the_report(tmp_path):
    path = tmp_path / "execution-2022.xlsx"
    path.write_bytes(_export("financial-table", 2022))
    out = io.StringIO()
    call_command(
        "import_workbook", str(path), "--departement", "77", "--year", "2022", "--dry-run",
        stdout=out,
    )  # fmt: skip
    assert "Simulation réussie (rien écrit)" in out.getvalue()


def test_command_fails_with_a_french_message(tmp_path):
    path = tmp_path / "notes.xlsx"
    path.write_text("ceci n'est pas un classeur")
    with pytest.raises(CommandError, match="Import refusé, rien n'a été enregistré"):
        call_command(
            "import_workbook", str(path), "--departement", "77", "--year", "2022",
            stdout=io.StringIO(),
        )  # fmt: skip
    with pytest.raises(CommandError, match="Département inconnu"):
        call_command(
            "import_workbook", str(path), "--departement", "999", "--year", "2022",
            stdout=io.StringIO(),
        )  # fmt: skip


# --- Upload page --------------------------------------------------------------------------------


def test_upload_page_simulates_then_imports(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    url = reverse("actions:import_workbook", args=[_year(2022).pk])
    exported = _export("financial-table", 2022)
    edited = _edit(exported, **{_cell_of(exported, "8.4", "K"): 700000})

    def upload(**data):
        file = SimpleUploadedFile("execution-2022.xlsx", edited)
        return client.post(url, {"file": file, **data})

    before = history_counts()
    page = upload(dry_run="on", accept_printed_mismatch="on")
    content = page.content.decode()
    assert page.status_code == 200
    assert "Simulation réussie (rien écrit)" in content
    assert "Fiche 8.4 — budget exécuté" in content
    assert history_counts() == before
    # Kept for « Confirmer l'import » (tests/test_workbook_upload.py)…
    assert PendingImport.objects.filter(filename="execution-2022.xlsx").exists()

    # … or chosen again, without « Simulation »: imported at once, and nothing stays kept.
    done = upload(accept_printed_mismatch="on")
    assert done.status_code == 302
    assert Budget.objects.get(
        action_year__convention_year=_year(2022), action_year__number="8.4", kind="executed"
    ).realised == Decimal("700000.00")
    assert not PendingImport.objects.exists()


def test_upload_page_refuses_a_wrong_file_in_french(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    url = reverse("actions:import_workbook", args=[_year(2022).pk])
    before = history_counts()
    page = client.post(url, {"file": SimpleUploadedFile("photo.png", b"\x89PNG\r\n")})
    assert page.status_code == 200
    assert "Import refusé, rien n&#x27;a été enregistré" in page.content.decode()
    assert "photo.png" in page.content.decode()
    assert history_counts() == before
    assert not PendingImport.objects.exists()


def test_a_fiche_number_typed_with_a_comma_is_the_same_fiche():
    exported = _export("financial-table", 2022)
    edited = _edit(exported, **{_cell_of(exported, "5.1", "C"): "5,1"})
    report = _import(edited)
    assert report.imported, [str(problem) for problem in report.problems]
    assert not report.created and not report.updated


def test_fiches_without_number_are_each_named_not_taken_for_duplicates():
    exported = _export("financial-table", 2022)
    edited = _edit(
        exported, **{_cell_of(exported, "5.1", "C"): "", _cell_of(exported, "5.2", "C"): ""}
    )
    report = _import(edited)
    assert not report.imported
    messages = [problem.message for problem in report.errors]
    assert not [message for message in messages if "figure deux fois" in message], messages
    assert len([m for m in messages if m.startswith("Fiche action N° vide")]) == 2, messages
