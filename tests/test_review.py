"""The prefecture's review of a year's report: the workflow as data, its steps, and the lock of a
transmitted year on every write path (service, import, admin)."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from actions.choices import BudgetKind
from actions.imports import workbook_file_import
from actions.models import ActionYear, Budget
from actions.services import action_years_renumber, budget_set
from conventions.models import ConventionYear, Department
from conventions.resources import result_messages
from indicators.models import IndicatorValue
from indicators.services import indicator_value_set
from reports.documents import DOCUMENTS
from reports.models import ReviewEvent, YearReview
from reports.selectors import review_state, year_tables
from reports.services import justification_set, review_step
from reports.tasks import freeze_version_file
from reports.workflow import TRANSITIONS, Actor, State, Step, option, options
from tests.history import history_counts
from tests.tasks import run_queued
from tests.test_resources import COLUMN_A, RESOURCES, csv_dataset, rows_of, run_import

# --- The workflow as data (pure) ---------------------------------------------------------------


def test_each_state_offers_the_steps_of_the_real_process():
    assert {s: [o.transition.step for o in options(s, frozenset(Actor))] for s in State} == {
        State.DRAFT: [Step.SUBMIT],
        State.SUBMITTED: [Step.RETURN, Step.VALIDATE, Step.UNLOCK],
        State.RETURNED: [Step.SUBMIT],
        State.VALIDATED: [Step.UNLOCK],
    }
    assert all(t.target not in t.sources for t in TRANSITIONS)


def test_a_step_says_why_it_is_not_allowed():
    reviewer = frozenset({Actor.REVIEWER})
    referent = frozenset({Actor.REFERENT})
    assert option(State.DRAFT, Step.SUBMIT, reviewer).why_not.startswith("Réservé à ")
    assert option(State.DRAFT, Step.SUBMIT, referent, open_findings=3).why_not.startswith(
        "3 constat(s) sans justification"
    )
    assert option(State.DRAFT, Step.SUBMIT, referent).allowed
    assert option(State.DRAFT, Step.VALIDATE, reviewer).why_not == (
        "« Valider le rapport » est impossible : le rapport est à l'état « Brouillon »."
    )
    assert option(State.VALIDATED, Step.UNLOCK, reviewer).why_not == (
        "Réservé à l'administrateur national."
    )


# --- Steps on the demo's 2022 year --------------------------------------------------------------

pytestmark_db = pytest.mark.django_db


def _user(username):
    return get_user_model().objects.get(username=username)


def _year(year=2022) -> ConventionYear:
    return ConventionYear.objects.get(convention__department__code="77", year=year)


def _justify_all(year: ConventionYear) -> None:
    tables = year_tables([year])[year.pk]
    for entry in tables.open_entries:
        justification_set(
            actor=_user("referent77"),
            convention_year=year,
            key=entry.key,
            text="Écart expliqué dans le bilan d'exécution.",
        )


def _submit(year: ConventionYear):
    return review_step(
        actor=_user("referent77"),
        convention_year=year,
        step=Step.SUBMIT,
        deliberation_number="CD-2023/09/28-4/02 A",
        deliberation_date=datetime.date(2023, 9, 28),
    )


@pytestmark_db
def test_submission_is_blocked_while_findings_are_not_justified():
    year = _year()
    with pytest.raises(ValidationError, match="14 constat\\(s\\) sans justification"):
        _submit(year)
    assert review_state(year) == State.DRAFT
    assert not ReviewEvent.objects.filter(convention_year=year).exists()


@pytestmark_db
def test_the_full_cycle_with_reasons_and_deliberation():
    year = _year()
    _justify_all(year)
    with pytest.raises(ValidationError, match="délibération"):
        review_step(actor=_user("referent77"), convention_year=year, step=Step.SUBMIT)
    with pytest.raises(PermissionDenied, match="Réservé"):
        review_step(actor=_user("agent77"), convention_year=year, step=Step.SUBMIT)

    _submit(year)
    assert review_state(year) == State.SUBMITTED
    with pytest.raises(PermissionDenied):
        review_step(actor=_user("referent77"), convention_year=year, step=Step.VALIDATE)
    with pytest.raises(ValidationError, match="motif"):
        review_step(actor=_user("prefecture77"), convention_year=year, step=Step.RETURN)
    review_step(
        actor=_user("prefecture77"),
        convention_year=year,
        step=Step.RETURN,
        reason="Précisez les reports de la fiche 4.1.",
    )
    assert review_state(year) == State.RETURNED
    _submit(year)
    review_step(actor=_user("prefecture77"), convention_year=year, step=Step.VALIDATE)
    assert review_state(year) == State.VALIDATED

    events = list(ReviewEvent.objects.filter(convention_year=year))
    assert [(e.step, e.from_state, e.to_state) for e in events] == [
        (Step.SUBMIT, State.DRAFT, State.SUBMITTED),
        (Step.RETURN, State.SUBMITTED, State.RETURNED),
        (Step.SUBMIT, State.RETURNED, State.SUBMITTED),
        (Step.VALIDATE, State.SUBMITTED, State.VALIDATED),
    ]
    assert events[0].deliberation_number == "CD-2023/09/28-4/02 A"
    assert events[1].reason == "Précisez les reports de la fiche 4.1."
    review = YearReview.objects.get(convention_year=year)
    assert review.history.count() == 5  # created at the first step, then one row per step
    assert review.history.first().history_change_reason == "Valider le rapport"


# --- The lock, path by path ---------------------------------------------------------------------


@pytest.fixture
def locked_year(db):
    year = _year()
    _justify_all(year)
    _submit(year)
    return year


def _budget(year) -> Budget:
    return Budget.objects.filter(
        action_year__convention_year=year, kind=BudgetKind.EXECUTED
    ).first()


def test_a_service_call_is_refused_and_nothing_changes(locked_year):
    budget = _budget(locked_year)
    before = history_counts()
    with pytest.raises(ValidationError, match="L'exercice 2022 est transmis"):
        budget_set(
            actor=_user("agent77"),
            action_year=budget.action_year,
            kind=BudgetKind.EXECUTED,
            realised=Decimal("1.00"),
        )
    value = IndicatorValue.objects.filter(period__department__code="77", period__year=2022).first()
    with pytest.raises(ValidationError, match="est transmis"):
        indicator_value_set(
            actor=_user("agent77"), indicator=value.indicator, period=value.period, raw="12"
        )
    with pytest.raises(ValidationError, match="est transmis"):
        action_years_renumber(
            actor=_user("agent77"),
            convention_year=locked_year,
            numbers={budget.action_year_id: "99"},
        )
    with pytest.raises(ValidationError, match="est transmis"):
        budget.delete()
    assert history_counts() == before
    assert Budget.objects.get(pk=budget.pk).realised == budget.realised


def test_another_year_of_the_departement_stays_open(locked_year):
    year = _year(2023)
    budget = Budget.objects.filter(action_year__convention_year=year).first()
    budget_set(
        actor=_user("agent77"),
        action_year=budget.action_year,
        kind=budget.kind,
        valorisation=Decimal("10.00"),
    )
    assert Budget.objects.get(pk=budget.pk).valorisation == Decimal("10.00")


def test_the_workbook_import_is_refused_and_nothing_changes(locked_year):
    document = DOCUMENTS["financial-table"]
    exported = document.renderers["xlsx"](document.read(locked_year))
    from tests.test_workbook_import import _cell_of, _edit

    edited = _edit(exported, **{_cell_of(exported, "8.4", "K"): 1})
    before = history_counts()
    report = workbook_file_import(
        actor=_user("admin"),
        department=Department.objects.get(code="77"),
        year=2022,
        data=edited,
        filename="execution-2022.xlsx",
        accept_printed_mismatch=True,
    )
    assert not report.imported
    assert any("L'exercice 2022 est transmis" in problem.message for problem in report.errors)
    assert history_counts() == before


def test_an_import_export_row_is_refused_with_its_line(locked_year):
    resource = RESOURCES["actions.Budget"]
    rows = rows_of(resource, Budget.objects.filter(action_year__convention_year=locked_year))
    rows[0][COLUMN_A] = "5"
    before = history_counts()
    result = run_import(resource, csv_dataset(rows), user=_user("admin"))
    messages = result_messages(result)
    assert any("L'exercice 2022 est transmis" in message for message in messages), messages
    assert history_counts() == before


def test_the_admin_shows_a_locked_row_read_only_and_refuses_a_post(locked_year, client):
    client.force_login(_user("admin"))
    action_year = ActionYear.objects.filter(convention_year=locked_year).first()
    url = f"/admin/actions/actionyear/{action_year.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    before = history_counts()
    response = client.post(url, {"title": "Autre intitulé"})
    assert response.status_code == 403
    delete = client.post(f"/admin/actions/actionyear/{action_year.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert history_counts() == before
    assert ActionYear.objects.get(pk=action_year.pk).title == action_year.title


def test_the_national_admin_unlocks_with_a_reason_and_writes_are_allowed_again(locked_year):
    with pytest.raises(PermissionDenied):
        review_step(
            actor=_user("admin77"),
            convention_year=locked_year,
            step=Step.UNLOCK,
            reason="Erreur de saisie signalée par le Département.",
        )
    review_step(
        actor=_user("admin"),
        convention_year=locked_year,
        step=Step.UNLOCK,
        reason="Erreur de saisie signalée par le Département.",
    )
    assert review_state(locked_year) == State.RETURNED
    budget = _budget(locked_year)
    budget_set(
        actor=_user("agent77"),
        action_year=budget.action_year,
        kind=BudgetKind.EXECUTED,
        valorisation=Decimal("3.00"),
    )
    assert Budget.objects.get(pk=budget.pk).valorisation == Decimal("3.00")


# --- The review page ----------------------------------------------------------------------------


def _page(client, username, year):
    client.force_login(_user(username))
    return client.get(f"/exercices/{year.pk}/relecture/")


def test_the_review_page_says_what_each_user_may_do(client, db):
    year = _year()
    page = _page(client, "referent77", year).content.decode()
    assert "État du rapport : <strong>Brouillon</strong>" in page
    assert "14 constats sans justification" in page
    assert "14 constat(s) sans justification : justifiez-les" in page
    assert 'name="submit-deliberation_number"' not in page  # blocked: no form
    reviewer = _page(client, "prefecture77", year).content.decode()
    assert "Réservé à " in reviewer and "le référent du Département" in reviewer
    assert _page(client, "agent03", year).status_code == 404  # another Département


def test_transmit_return_and_validate_through_the_page(client, db):
    year = _year()
    _justify_all(year)
    client.force_login(_user("referent77"))
    url = f"/exercices/{year.pk}/relecture/"
    missing = client.post(url, {"submit-step": "submit"})
    assert missing.status_code == 200
    assert "Numéro de la délibération : Ce champ est obligatoire." in missing.content.decode()
    assert review_state(year) == State.DRAFT
    done = client.post(
        url,
        {
            "submit-step": "submit",
            "submit-deliberation_number": "CD-2023/09/28-4/02 A",
            "submit-deliberation_date": "2023-09-28",
        },
        follow=True,
    )
    assert "État du rapport : <strong>Transmis</strong>" in done.content.decode()
    assert "Délibération CD-2023/09/28-4/02 A du 28/09/2023" in done.content.decode()
    # The référent cannot validate: 403, and nothing changes.
    assert client.post(url, {"validate-step": "validate"}).status_code == 403
    client.force_login(_user("prefecture77"))
    returned = client.post(
        url, {"return-step": "return", "return-reason": "Précisez la fiche 4.1."}, follow=True
    )
    page = returned.content.decode()
    assert "État du rapport : <strong>À compléter</strong>" in page
    assert "Précisez la fiche 4.1." in page
    assert review_state(year) == State.RETURNED


def test_a_form_of_a_locked_year_is_refused_in_french_and_nothing_changes(locked_year, client):
    from tests.test_data_entry import budget_post, text

    client.force_login(_user("agent77"))
    action_year = ActionYear.objects.filter(convention_year=locked_year).order_by("number")[0]
    before = history_counts()
    response = client.post(
        reverse("actions:budget_planned", args=[action_year.pk]),
        budget_post(action_year.version, state_new="1 000"),
    )
    assert response.status_code == 200
    assert "L'exercice 2022 est transmis" in text(response)
    assert history_counts() == before


# --- Frozen versions ----------------------------------------------------------------------------


def test_each_transmission_freezes_a_version_and_two_versions_compare_figure_by_figure(
    client, db, django_capture_on_commit_callbacks
):
    import hashlib

    from reports.models import ReportVersion

    year = _year()
    _justify_all(year)
    with django_capture_on_commit_callbacks(execute=True):
        _submit(year)
    assert run_queued(freeze_version_file) == 4  # the PDF of the four documents
    review_step(
        actor=_user("prefecture77"),
        convention_year=year,
        step=Step.RETURN,
        reason="Le réalisé de la fiche 8.4 est à corriger.",
    )
    budget = Budget.objects.get(
        action_year__convention_year=year, action_year__number="8.4", kind=BudgetKind.EXECUTED
    )
    budget_set(
        actor=_user("agent77"),
        action_year=budget.action_year,
        kind=BudgetKind.EXECUTED,
        realised=budget.realised - Decimal("674.50"),
    )
    _justify_all(year)
    with django_capture_on_commit_callbacks(execute=True):
        _submit(year)
    run_queued(freeze_version_file)

    first, second = ReportVersion.objects.filter(convention_year=year).order_by("number")
    for version in (first, second):
        files = {(f.slug, f.fmt): f for f in version.files.all()}
        assert set(files) == {
            ("financial-table", "pdf"),
            ("financial-table", "xlsx"),
            ("previsionnel-table", "pdf"),
            ("previsionnel-table", "xlsx"),
            ("execution-report", "pdf"),
            ("indicators", "pdf"),
            ("indicators", "xlsx"),
        }
        for file in files.values():
            assert file.status == "ready", file.error
            assert hashlib.sha256(bytes(file.content)).hexdigest() == file.sha256
    # The page lists both versions; a file is served byte for byte.
    client.force_login(_user("prefecture77"))
    page = client.get(reverse("reports:review", args=[year.pk])).content.decode()
    assert "Version 2 — transmise le" in page and "Version 1 — transmise le" in page
    xlsx = first.files.get(slug="financial-table", fmt="xlsx")
    assert xlsx.sha256 in page
    download = client.get(
        reverse("reports:version_file", args=[year.pk, 1, "financial-table", "xlsx"])
    )
    assert hashlib.sha256(download.content).hexdigest() == xlsx.sha256
    # Compared: the realised amount of 8.4, its sub-total and the total, and nothing else.
    comparison = client.get(reverse("reports:compare", args=[year.pk]), {"de": 1, "a": 2})
    from tests.test_data_entry import text

    shown = text(comparison)
    assert "<strong>3</strong> chiffres modifiés" in shown
    assert "708 675,00 €" in shown and "708 000,50 €" in shown and "-674,50 €" in shown
    changes = comparison.context["comparison"].changes
    assert {(c.document, c.difference) for c in changes} == {
        ("financial-table", Decimal("-674.50"))
    }
    assert changes[0].row.startswith("8.4 ")
    assert "TOTAUX FINANCIERS" in changes[-1].row


# --- Emails -------------------------------------------------------------------------------------


def test_each_step_emails_the_people_concerned(db, mailoutbox, django_capture_on_commit_callbacks):
    year = _year()
    _justify_all(year)
    with django_capture_on_commit_callbacks(execute=True):
        _submit(year)
    (submitted,) = mailoutbox
    # The reviewers of the Département and of the region.
    assert submitted.to == ["prefecture-idf@example.org", "prefecture77@example.org"]
    assert submitted.subject == (
        "[CALPAE] Seine-et-Marne — rapport 2022 : transmettre à la préfecture"
    )
    assert "Délibération CD-2023/09/28-4/02 A du 28/09/2023." in submitted.body
    assert f"/exercices/{year.pk}/relecture/" in submitted.body
    with django_capture_on_commit_callbacks(execute=True):
        review_step(
            actor=_user("prefecture77"),
            convention_year=year,
            step=Step.RETURN,
            reason="Précisez la fiche 4.1.",
        )
    returned = mailoutbox[1]
    assert "referent77@example.org" in returned.to and "agent77@example.org" in returned.to
    assert "prefecture77@example.org" not in returned.to
    assert "Motif :\nPrécisez la fiche 4.1." in returned.body


@pytest.mark.parametrize(
    ("today", "reminded"),
    [
        ("2023-05-31", True),  # 30 days before the 30 June 2023 deadline of 2022
        ("2023-06-01", False),
        ("2023-06-30", True),
        ("2023-07-07", True),  # a week late
        ("2023-07-08", False),
    ],
)
def test_reminders_before_the_deadline_and_every_week_of_delay(db, mailoutbox, today, reminded):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("send_reminders", "--date", today, stdout=out)
    subjects = [mail.subject for mail in mailoutbox if "rapport 2022" in mail.subject]
    assert bool(subjects) == reminded, out.getvalue()
    if reminded:
        assert subjects == ["[CALPAE] Seine-et-Marne — rapport 2022 : échéance le 30/06/2023"]
        assert "Seine-et-Marne 2022 : rappel envoyé à" in out.getvalue()


def test_no_reminder_once_transmitted(locked_year, mailoutbox):
    from django.core.management import call_command

    call_command("send_reminders", "--date", "2023-06-30")
    assert not [mail for mail in mailoutbox if "rapport 2022" in mail.subject]


# --- Comments -----------------------------------------------------------------------------------


def test_reviewer_and_agent_discuss_a_fiche_while_the_year_is_locked(locked_year, client):
    from reports.models import Comment

    fiche = ActionYear.objects.get(convention_year=locked_year, number="4.1")
    client.force_login(_user("prefecture77"))
    review_url = reverse("reports:review", args=[locked_year.pk])
    added = client.post(
        reverse("reports:comment_add", args=[locked_year.pk]),
        {
            "text": "Le réalisé paraît faible au regard du bilan.",
            "action_year": fiche.pk,
            "line": "réalisé",
            "next": review_url,
        },
        follow=True,
    )
    page = added.content.decode()
    assert "Commentaire enregistré." in page
    assert "Commentaires (1 ouvert)" in page
    assert "— fiche 4.1 — réalisé" in page
    comment = Comment.objects.get(convention_year=locked_year)
    assert (comment.author.username, comment.state) == ("prefecture77", "open")

    # The year page shows the open comment to the Département.
    client.force_login(_user("agent77"))
    year_page = client.get(reverse("actions:year", args=[locked_year.pk])).content.decode()
    assert "Commentaires ouverts de la relecture" in year_page
    assert "Le réalisé paraît faible" in year_page

    client.post(
        reverse("reports:comment_resolve", args=[locked_year.pk]),
        {"comment": comment.pk, "next": review_url},
    )
    comment.refresh_from_db()
    assert (comment.state, comment.resolved_by.username) == ("resolved", "agent77")
    assert comment.history.count() == 2
    again = client.post(
        reverse("reports:comment_resolve", args=[locked_year.pk]),
        {"comment": comment.pk},
        follow=True,
    )
    assert "Ce commentaire est déjà résolu." in again.content.decode()


def test_a_comment_cannot_name_a_fiche_of_another_year(db, client):
    from reports.models import Comment

    year = _year()
    other = ActionYear.objects.filter(convention_year=_year(2023)).first()
    client.force_login(_user("agent77"))
    response = client.post(
        reverse("reports:comment_add", args=[year.pk]),
        {"text": "Voir la fiche.", "action_year": other.pk},
        follow=True,
    )
    assert "Commentaire non enregistré — Fiche-action :" in response.content.decode()
    assert not Comment.objects.exists()


# --- The reviewer of the préfecture de région ---------------------------------------------------


def test_the_regional_reviewer_reviews_every_departement_of_the_region_only(
    locked_year, client, mailoutbox, django_capture_on_commit_callbacks
):
    reviewer = _user("prefecture-idf")
    client.force_login(reviewer)
    assert client.get(reverse("actions:year", args=[locked_year.pk])).status_code == 200
    allier = ConventionYear.objects.get(convention__department__code="03", year=2019)
    assert client.get(reverse("actions:year", args=[allier.pk])).status_code == 404
    fiche = ActionYear.objects.filter(convention_year=locked_year).first()
    assert client.get(reverse("actions:edit", args=[fiche.pk])).status_code == 403  # reads only
    with django_capture_on_commit_callbacks(execute=True):
        review_step(
            actor=reviewer,
            convention_year=locked_year,
            step=Step.RETURN,
            reason="La préfecture de région demande le détail des reports.",
        )
    assert review_state(locked_year) == State.RETURNED
    (returned,) = mailoutbox
    assert "prefecture-idf@example.org" not in returned.to  # the answer goes to the Département
    # A new transmission is sent to the reviewers of the Département and of the region.
    with django_capture_on_commit_callbacks(execute=True):
        _submit(locked_year)
    assert mailoutbox[-1].to == ["prefecture-idf@example.org", "prefecture77@example.org"]
