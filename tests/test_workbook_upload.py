"""The upload page of an official table: simulate, then confirm without choosing the file again.

After a successful simulation the file is kept in the database (``actions.PendingImport``) until
« Confirmer l'import » or « Annuler », one hour at most; the confirmation reads and checks it
again, and deletes it whatever the outcome. Also: the demo's Département administrator
(``admin77``), for whom the page is made.
"""

import datetime
import hashlib
import html
import io
from decimal import Decimal
from io import BytesIO

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from actions.imports import workbook_file_import
from actions.models import PENDING_IMPORT_LIFETIME, Budget, PendingImport
from actions.views import EXPIRED_MESSAGE
from calpae.permissions import IMPORT_MESSAGE, can_import
from conventions.choices import Role
from conventions.models import ConventionYear, Membership
from reports.documents import DOCUMENTS
from tests.history import history_counts

pytestmark = pytest.mark.django_db

SIMULATED = "Simulation réussie (rien écrit)"
IMPORTED = "Import réalisé"


def text(response) -> str:
    """The page as a user reads it: entities decoded, no-break spaces as spaces."""
    return html.unescape(response.content.decode()).replace("\u00a0", " ").replace("\u202f", " ")


def _year(year: int = 2022) -> ConventionYear:
    return ConventionYear.objects.get(convention__department__code="77", year=year)


def _export(year: int = 2022) -> bytes:
    document = DOCUMENTS["financial-table"]
    return document.renderers["xlsx"](document.read(_year(year)))


def _with_realised(content: bytes, **amounts) -> bytes:
    """The table with the « réalisé » (column K) of fiches ``{"8.4": 700000}`` changed."""
    workbook = load_workbook(BytesIO(content))
    sheet = workbook.active
    for number, amount in amounts.items():
        row = next(row for row in sheet.iter_rows() if any(c.value == number for c in row))
        sheet[f"K{row[0].row}"] = amount
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _realised(number: str) -> Decimal | None:
    return Budget.objects.get(
        action_year__convention_year=_year(), action_year__number=number, kind="executed"
    ).realised


def _user(username: str):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def admin77(client):
    user = _user("admin77")
    client.force_login(user)
    return user


@pytest.fixture
def edited():
    """The demo's 2022 execution table with fiche 8.4's réalisé at 700 000 €."""
    return _with_realised(_export(), **{"8.4": 700000})


def _simulate(client, content: bytes, year: ConventionYear | None = None, **data):
    url = reverse("actions:import_workbook", args=[(year or _year()).pk])
    file = SimpleUploadedFile("execution-2022.xlsx", content)
    return client.post(
        url, {"file": file, "dry_run": "on", "accept_printed_mismatch": "on", **data}
    )


def _confirm(client, pending_id, year: ConventionYear | None = None, **kwargs):
    url = reverse("actions:import_workbook_confirm", args=[(year or _year()).pk])
    return client.post(url, {"pending": pending_id}, **kwargs)


def _cancel(client, pending_id, year: ConventionYear | None = None, **kwargs):
    url = reverse("actions:import_workbook_cancel", args=[(year or _year()).pk])
    return client.post(url, {"pending": pending_id}, **kwargs)


# --- Simulate, then confirm ----------------------------------------------------------------------


def test_simulate_then_confirm_imports_the_kept_file_and_deletes_it(client, admin77, edited):
    before = history_counts()
    page = _simulate(client, edited)
    assert page.status_code == 200
    assert SIMULATED in text(page)
    assert "Fiche 8.4 — budget exécuté" in text(page)
    assert history_counts() == before
    pending = PendingImport.objects.get()
    assert (pending.user, pending.convention_year, pending.filename) == (
        admin77,
        _year(),
        "execution-2022.xlsx",
    )
    assert bytes(pending.data) == edited
    assert pending.sha256 == hashlib.sha256(edited).hexdigest()
    assert pending.accept_printed_mismatch
    # The confirmation form carries the id of the kept file, nothing else.
    confirm_url = reverse("actions:import_workbook_confirm", args=[_year().pk])
    assert f'action="{confirm_url}"' in page.content.decode()
    assert f'name="pending" value="{pending.pk}"' in page.content.decode()
    assert "Confirmer l'import" in text(page)

    done = _confirm(client, pending.pk, follow=True)
    assert done.redirect_chain == [(reverse("actions:year", args=[_year().pk]), 302)]
    assert f"{IMPORTED} — 0 créé(s), 1 modifié(s)" in text(done)
    assert _realised("8.4") == Decimal("700000.00")
    assert not PendingImport.objects.exists()
    assert (
        Budget.objects.get(
            action_year__convention_year=_year(), action_year__number="8.4", kind="executed"
        )
        .history.first()
        .history_user
        == admin77
    )


def test_the_page_tells_how_long_the_file_is_kept(client, admin77):
    page = client.get(reverse("actions:import_workbook", args=[_year().pk]))
    assert page.status_code == 200
    assert "Le fichier n'est pas conservé" not in text(page)
    assert "conservé qu'entre une simulation réussie et votre confirmation, une heure" in text(page)
    assert datetime.timedelta(hours=1) == PENDING_IMPORT_LIFETIME


def test_the_waiting_simulation_is_shown_when_the_page_is_opened_again(client, admin77, edited):
    _simulate(client, edited)
    pending = PendingImport.objects.get()
    page = client.get(reverse("actions:import_workbook", args=[_year().pk]))
    assert "Le fichier « execution-2022.xlsx »" in text(page)
    assert "attend votre confirmation" in text(page)
    assert f'name="pending" value="{pending.pk}"' in page.content.decode()
    # Another year of the same Département: nothing waits there.
    other = client.get(reverse("actions:import_workbook", args=[_year(2023).pk]))
    assert "attend votre confirmation" not in text(other)


def test_a_failed_simulation_keeps_nothing(client, admin77):
    page = _simulate(client, b"pas un classeur")
    assert "Import refusé, rien n'a été enregistré" in text(page)
    assert "Confirmer l'import" not in text(page)
    assert not PendingImport.objects.exists()


def test_a_simulation_with_printed_totals_refused_keeps_nothing(client, admin77, edited):
    """Without « accepter les écarts », the edited réalisé no longer matches the printed total:
    refused, so there is nothing to confirm."""
    page = _simulate(client, edited, accept_printed_mismatch="")
    assert "Import refusé" in text(page)
    assert not PendingImport.objects.exists()


def test_a_new_upload_replaces_the_waiting_file_and_expired_ones_are_deleted(
    client, admin77, edited
):
    stale = PendingImport.objects.create(
        convention_year=_year(2023),
        user=_user("admin"),
        filename="ancien.xlsx",
        data=b"ancien",
        sha256=hashlib.sha256(b"ancien").hexdigest(),
        created_at=timezone.now() - PENDING_IMPORT_LIFETIME - datetime.timedelta(minutes=1),
    )
    _simulate(client, edited)
    first = PendingImport.objects.get()
    assert not PendingImport.objects.filter(pk=stale.pk).exists()
    _simulate(client, _export())
    second = PendingImport.objects.get()
    assert second.pk != first.pk
    assert bytes(second.data) == _export()
    # The first simulation's button no longer imports anything.
    assert _confirm(client, first.pk).status_code == 404
    # An import without simulation keeps nothing, and drops the waiting file.
    page = client.post(
        reverse("actions:import_workbook", args=[_year().pk]),
        {"file": SimpleUploadedFile("direct.xlsx", edited), "accept_printed_mismatch": "on"},
    )
    assert page.status_code == 302
    assert not PendingImport.objects.exists()


# --- Confirmation: checked again, deleted whatever the outcome ------------------------------------


def test_a_confirmation_reads_the_file_again_against_the_current_data(client, admin77, edited):
    """Between the simulation and the confirmation someone imported 8.4's 700 000 € and changed
    8.1: the confirmation finds 8.4 unchanged and puts 8.1 back, as the file says."""
    original_8_1 = _realised("8.1")
    page = _simulate(client, edited)
    assert "0 créé(s), 1 modifié(s)" in text(page)
    pending = PendingImport.objects.get()

    meanwhile = _with_realised(_export(), **{"8.4": 700000, "8.1": 1})
    report = workbook_file_import(
        actor=_user("admin"),
        department=_year().convention.department,
        year=2022,
        data=meanwhile,
        filename="entre-temps.xlsx",
        dry_run=False,
        accept_printed_mismatch=True,
    )
    assert report.imported
    assert _realised("8.1") == Decimal("1.00")

    done = _confirm(client, pending.pk, follow=True)
    assert f"{IMPORTED} — 0 créé(s), 1 modifié(s)" in text(done)
    assert _realised("8.1") == original_8_1
    assert _realised("8.4") == Decimal("700000.00")
    assert not PendingImport.objects.exists()


def test_a_confirmation_that_fails_shows_the_report_and_deletes_the_file(client, admin77, edited):
    _simulate(client, edited)
    pending = PendingImport.objects.get()
    # The kept bytes are not a workbook any more (sha256 kept consistent): refused on reading.
    PendingImport.objects.filter(pk=pending.pk).update(
        data=b"plus un classeur", sha256=hashlib.sha256(b"plus un classeur").hexdigest()
    )
    before = history_counts()
    page = _confirm(client, pending.pk)
    assert page.status_code == 200
    assert "Import refusé, rien n'a été enregistré" in text(page)
    assert "Confirmer l'import" not in text(page)
    assert history_counts() == before
    assert not PendingImport.objects.exists()


def test_an_unexpected_failure_of_the_import_deletes_the_file_all_the_same(
    client, admin77, edited, monkeypatch
):
    _simulate(client, edited)
    pending = PendingImport.objects.get()

    def broken(**kwargs):
        raise RuntimeError("panne")

    monkeypatch.setattr("actions.views.workbook_file_import", broken)
    with pytest.raises(RuntimeError, match="panne"):
        _confirm(client, pending.pk)
    assert not PendingImport.objects.exists()


def test_a_kept_file_altered_in_the_database_is_not_imported(client, admin77, edited):
    _simulate(client, edited)
    pending = PendingImport.objects.get()
    PendingImport.objects.filter(pk=pending.pk).update(data=_export())  # sha256 of ``edited``
    before = history_counts()
    page = _confirm(client, pending.pk, follow=True)
    assert "Le fichier conservé est altéré : choisissez-le de nouveau." in text(page)
    assert history_counts() == before
    assert not PendingImport.objects.exists()


def test_an_expired_simulation_is_refused_in_french_and_writes_nothing(client, admin77, edited):
    _simulate(client, edited)
    pending = PendingImport.objects.get()
    PendingImport.objects.filter(pk=pending.pk).update(
        created_at=timezone.now() - PENDING_IMPORT_LIFETIME - datetime.timedelta(seconds=1)
    )
    before = history_counts()
    page = _confirm(client, pending.pk, follow=True)
    assert page.redirect_chain == [(reverse("actions:import_workbook", args=[_year().pk]), 302)]
    assert EXPIRED_MESSAGE == "La simulation a expiré : choisissez de nouveau le fichier."
    assert EXPIRED_MESSAGE in text(page)
    assert history_counts() == before
    assert _realised("8.4") != Decimal("700000.00")
    assert not PendingImport.objects.exists()


def test_a_simulation_just_under_the_hour_is_still_confirmed(client, admin77, edited):
    _simulate(client, edited)
    pending = PendingImport.objects.get()
    PendingImport.objects.filter(pk=pending.pk).update(
        created_at=timezone.now() - PENDING_IMPORT_LIFETIME + datetime.timedelta(minutes=1)
    )
    assert _confirm(client, pending.pk).status_code == 302
    assert _realised("8.4") == Decimal("700000.00")


def test_a_second_confirmation_finds_nothing(client, admin77, edited):
    """A double click: the file was imported and deleted by the first."""
    _simulate(client, edited)
    pending = PendingImport.objects.get()
    assert _confirm(client, pending.pk).status_code == 302
    assert _confirm(client, pending.pk).status_code == 404


def test_cancel_deletes_the_kept_file(client, admin77, edited):
    _simulate(client, edited)
    pending = PendingImport.objects.get()
    before = history_counts()
    page = _cancel(client, pending.pk, follow=True)
    assert page.redirect_chain == [(reverse("actions:import_workbook", args=[_year().pk]), 302)]
    assert "Import de « execution-2022.xlsx » annulé : le fichier est supprimé." in text(page)
    assert not PendingImport.objects.exists()
    assert history_counts() == before
    assert _confirm(client, pending.pk).status_code == 404


@pytest.mark.parametrize("value", ["", "abc", "-1", "0"])
def test_a_confirmation_without_a_valid_id_says_so(client, admin77, value):
    for url_name in ("actions:import_workbook_confirm", "actions:import_workbook_cancel"):
        page = client.post(reverse(url_name, args=[_year().pk]), {"pending": value}, follow=True)
        assert page.redirect_chain == [(reverse("actions:import_workbook", args=[_year().pk]), 302)]
        assert "Demande invalide : rechargez la page." in text(page)


def test_confirm_and_cancel_answer_post_only(client, admin77):
    for url_name in ("actions:import_workbook_confirm", "actions:import_workbook_cancel"):
        assert client.get(reverse(url_name, args=[_year().pk])).status_code == 405


# --- Whose file: the owner only ---------------------------------------------------------------


def test_only_the_owner_confirms_or_cancels_for_the_year_it_was_simulated_for(
    client, django_user_model, admin77, edited
):
    """Another administrator of the same Département, the national administrator, or the owner
    through another year's URL: 404, and the file stays for its owner."""
    _simulate(client, edited)
    pending = PendingImport.objects.get()
    colleague = django_user_model.objects.create_user("admin77-bis")
    Membership.objects.create(
        user=colleague, department=admin77.memberships.get().department, role=Role.ADMIN
    )
    before = history_counts()
    for user in (colleague, _user("admin")):
        client.force_login(user)
        assert _confirm(client, pending.pk).status_code == 404
        assert _cancel(client, pending.pk).status_code == 404
        # Their own import page does not show it.
        page = client.get(reverse("actions:import_workbook", args=[_year().pk]))
        assert "Confirmer l'import" not in text(page)
    client.force_login(admin77)
    assert _confirm(client, pending.pk, year=_year(2023)).status_code == 404
    assert _cancel(client, pending.pk, year=_year(2023)).status_code == 404
    assert history_counts() == before
    assert PendingImport.objects.filter(pk=pending.pk).exists()
    assert _confirm(client, pending.pk).status_code == 302


# --- The demo's Département administrator --------------------------------------------------------


def test_the_demo_has_an_administrator_of_seine_et_marne(client):
    user = _user("admin77")
    membership = Membership.objects.get(user=user)
    assert (membership.department.code, membership.role) == ("77", Role.ADMIN)
    assert not user.is_staff
    assert not user.is_superuser
    assert can_import(user, membership.department_id)
    client.force_login(user)
    page = client.get(reverse("actions:year", args=[_year().pk]))
    assert "Importer un tableau financier" in text(page)
    assert client.get(reverse("actions:import_workbook", args=[_year().pk])).status_code == 200
    for username in ("agent77", "referent77"):
        client.force_login(_user(username))
        refused = client.get(reverse("actions:import_workbook", args=[_year().pk]))
        assert refused.status_code == 403
        assert IMPORT_MESSAGE in text(refused)


def test_load_demo_prints_the_administrator_password_like_the_others():
    out = io.StringIO()
    call_command("load_demo", reset_passwords=True, stdout=out)
    lines = {line.split()[0]: line for line in out.getvalue().splitlines()[1:] if line.strip()}
    assert {"agent77", "referent77", "prefecture77", "admin77", "agent03", "admin"} <= set(lines)
    assert lines["admin77"].endswith("Administrateur du Département — 77")
    password = lines["admin77"].split()[1]
    assert _user("admin77").check_password(password)


# --- Administration -------------------------------------------------------------------------


def test_the_admin_lists_kept_files_without_changing_them(admin_client, edited):
    add = reverse("admin:actions_pendingimport_add")
    response = admin_client.post(
        add,
        {
            "convention_year": _year().pk,
            "user": _user("admin77").pk,
            "file": SimpleUploadedFile("depose.xlsx", edited),
        },
    )
    assert response.status_code == 302
    pending = PendingImport.objects.get()
    assert (pending.filename, pending.sha256) == (
        "depose.xlsx",
        hashlib.sha256(edited).hexdigest(),
    )
    listing = admin_client.get(reverse("admin:actions_pendingimport_changelist"))
    assert "depose.xlsx" in text(listing)
    assert str(len(edited)) in text(listing).replace(" ", "")
    change = admin_client.get(reverse("admin:actions_pendingimport_change", args=[pending.pk]))
    assert change.status_code == 200
    assert 'name="filename"' not in change.content.decode()
