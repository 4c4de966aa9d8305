"""Data entry by département staff: what an agent sees and what ends up in the database."""

import html
import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from actions import services
from actions.admin import ActionYearAdmin, BudgetAdmin
from actions.choices import ActionStatus, BudgetKind, Funder
from actions.models import ActionYear, Budget
from actions.selectors import action_history as selectors_history
from calpae.forms import parse_amount
from conventions.models import ConventionYear, Theme
from reports.models import Justification
from reports.selectors import year_tables
from reports.tables import Rule

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


def text(response) -> str:
    """The page as a user reads it: entities decoded, no-break spaces as spaces."""
    return html.unescape(response.content.decode()).replace(NBSP, " ").replace("\u202f", " ")


@pytest.fixture
def agent(client):
    user = get_user_model().objects.get(username="agent77")
    client.force_login(user)
    return user


@pytest.fixture
def year_2022():
    return ConventionYear.objects.get(convention__department__code="77", year=2022)


@pytest.fixture
def year_2023():
    return ConventionYear.objects.get(convention__department__code="77", year=2023)


@pytest.fixture
def fiche(year_2022, agent):
    """A new fiche of 2022 with nothing entered yet."""
    return services.action_year_add(
        actor=agent,
        convention_year=year_2022,
        name="Fiche d'essai",
        theme=Theme.objects.get(programme__code="calpae", code="referent-parcours"),
        number="9.9",
        title="Fiche d'essai de la saisie",
    )


def budget_post(version, **fields):
    data = {
        "version": str(version),
        "comment": "",
        "autres-TOTAL_FORMS": "2",
        "autres-INITIAL_FORMS": "0",
        "autres-MIN_NUM_FORMS": "0",
        "autres-MAX_NUM_FORMS": "20",
    }
    data.update(fields)
    return data


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1 234,56", Decimal("1234.56")),
        ("1\u00a0234,56\u00a0€", Decimal("1234.56")),
        ("1\u202f234,5", Decimal("1234.50")),
        ("1234.56", Decimal("1234.56")),
        ("0", Decimal("0.00")),
        ("", None),
    ],
)
def test_french_amounts_are_read(typed, expected):
    assert parse_amount(typed) == expected


@pytest.mark.parametrize("typed", ["abc", "1,234,56", "12,345", "1 234,567", "--3", "1e5"])
def test_unreadable_amounts_are_refused(typed):
    with pytest.raises(ValueError):
        parse_amount(typed)


def test_year_page_groups_fiches_by_theme_socle_first(client, agent, year_2022):
    content = text(client.get(reverse("actions:year", args=[year_2022.pk])))
    socle = content.index("Engagements des mesures socle")
    initiative = content.index("Engagements à l'initiative du Département")
    assert socle < initiative
    first = ActionYear.objects.filter(convention_year=year_2022).order_by("number").first()
    assert f">{first.number}</a>" in content
    assert "Sous-total" in content
    active = ActionYear.objects.filter(convention_year=year_2022, status=ActionStatus.ACTIVE)
    assert re.search(rf"\d+ fiches? complètes? sur {active.count()} en cours<", content)


def test_home_shows_entry_state_and_deadline(client, agent, year_2022):
    content = text(client.get(reverse("home")))
    assert "30 juin 2023" in content  # 2022 report due on 30 June of N+1
    assert reverse("actions:year", args=[year_2022.pk]) in content
    assert reverse("reports:findings", args=[year_2022.pk]) in content
    assert "Agent (saisie)" in content


def test_budget_form_saves_french_amounts_and_other_funders(client, agent, fiche):
    url = reverse("actions:budget_planned", args=[fiche.pk])
    response = client.post(
        url,
        budget_post(
            fiche.version,
            state_new="10 000",
            cd_new="1 234,56",
            valorisation="234,56 €",
            **{"autres-0-funder": Funder.FSE, "autres-0-amount": "2 000"},
        ),
    )
    assert response.status_code == 302, text(response)
    budget = Budget.objects.get(action_year=fiche, kind=BudgetKind.PLANNED)
    assert budget.cd_new == Decimal("1234.56")
    assert budget.valorisation == Decimal("234.56")
    assert [(f.funder, f.amount) for f in budget.other_fundings.all()] == [
        (Funder.FSE, Decimal("2000.00"))
    ]
    page = text(client.get(reverse("actions:detail", args=[fiche.pk])))
    assert "1 234,56 €" in page
    assert "13 234,56 €" in page  # F = 10 000 + 1 234,56 + 2 000
    assert "FSE : 2 000,00 €" in page


def test_budget_form_shows_saved_amounts_the_french_way(client, agent, fiche):
    services.budget_set(
        actor=agent, action_year=fiche, kind=BudgetKind.PLANNED, cd_new=Decimal("1234567.8")
    )
    content = text(client.get(reverse("actions:budget_planned", args=[fiche.pk])))
    assert 'value="1 234 567,80"' in content
    assert "€" in content


def test_invalid_budget_is_refused_whole_with_french_messages(client, agent, fiche):
    url = reverse("actions:budget_executed", args=[fiche.pk])
    response = client.post(
        url,
        budget_post(
            fiche.version,
            state_new="5 000",
            realised="abc",
            cd_new="-3",
            **{"autres-0-funder": Funder.OTHER, "autres-0-amount": "100"},
        ),
    )
    assert response.status_code == 200
    content = text(response)
    assert "Le formulaire contient 3 erreurs ; rien n'a été enregistré." in content
    assert "Saisissez un montant en euros, par exemple 1 234,56." in content
    assert "Le montant ne peut pas être négatif." in content
    assert "Autre financeur, ligne 1, nom du financeur : Indiquez le nom du financeur." in content
    assert 'aria-invalid="true"' in content
    assert 'value="5 000"' in content  # what the agent typed is kept
    assert not Budget.objects.filter(action_year=fiche).exists()
    fiche.refresh_from_db()
    assert fiche.version == 1


def test_executed_budget_starts_from_the_planned_one(client, agent, fiche):
    services.budget_set(
        actor=agent,
        action_year=fiche,
        kind=BudgetKind.PLANNED,
        state_new=Decimal("1000"),
        other_fundings=[(Funder.FSE, "", Decimal("50"))],
    )
    content = text(client.get(reverse("actions:budget_executed", args=[fiche.pk])))
    assert 'value="1 000,00"' in content
    assert 'value="50,00"' in content


def test_second_save_on_a_stale_form_is_refused_and_shows_what_changed(client, agent, fiche):
    read_version = fiche.version
    colleague = get_user_model().objects.get(username="referent77")
    services.budget_save(
        actor=colleague,
        action_year=ActionYear.objects.get(pk=fiche.pk),
        kind=BudgetKind.PLANNED,
        version=read_version,
        other_fundings=[],
        cd_new=Decimal("700"),
    )
    response = client.post(
        reverse("actions:budget_planned", args=[fiche.pk]),
        budget_post(read_version, cd_new="900"),
    )
    assert response.status_code == 200
    content = text(response)
    assert "Enregistrement refusé : la fiche a été modifiée pendant votre saisie" in content
    assert "referent77" in content
    assert "700,00 €" in content  # the colleague's value, in the list of changes
    assert 'value="900"' in content  # the agent's value is kept in the form
    assert Budget.objects.get(action_year=fiche, kind=BudgetKind.PLANNED).cd_new == Decimal("700")
    # Saving again (the form now carries the current version) confirms the agent's value.
    fiche.refresh_from_db()
    response = client.post(
        reverse("actions:budget_planned", args=[fiche.pk]),
        budget_post(fiche.version, cd_new="900"),
    )
    assert response.status_code == 302
    assert Budget.objects.get(action_year=fiche, kind=BudgetKind.PLANNED).cd_new == Decimal("900")


def test_stale_narrative_is_refused(client, agent, fiche):
    services.action_year_update(
        actor=agent, action_year=fiche, version=1, execution_review="Bilan du collègue."
    )
    response = client.post(
        reverse("actions:narrative", args=[fiche.pk]),
        {"version": "1", "description": "", "execution_review": "Mon bilan.", "outlook": ""},
    )
    assert response.status_code == 200
    content = text(response)
    assert "Enregistrement refusé" in content
    assert "Valeur enregistrée entre-temps" in content
    fiche.refresh_from_db()
    assert fiche.execution_review == "Bilan du collègue."


def test_narrative_and_history_on_the_fiche_page(client, agent, fiche):
    response = client.post(
        reverse("actions:narrative", args=[fiche.pk]),
        {
            "version": str(fiche.version),
            "description": "Accompagner les jeunes.",
            "execution_review": "Objectifs atteints.",
            "outlook": "Poursuite en 2023.",
        },
    )
    assert response.status_code == 302
    content = text(client.get(reverse("actions:detail", args=[fiche.pk])))
    assert "Objectifs atteints." in content
    history = content[content.index("Historique des modifications") :]
    assert "agent77" in history
    assert "Bilan d'exécution" in history
    assert "Poursuite en 2023." in history


def test_fiche_form_refuses_a_number_taken_that_year(client, agent, fiche, year_2022):
    taken = ActionYear.objects.filter(convention_year=year_2022).exclude(pk=fiche.pk).first()
    response = client.post(
        reverse("actions:edit", args=[fiche.pk]),
        {
            "version": str(fiche.version),
            "number": taken.number,
            "title": fiche.title,
            "theme": fiche.theme_id,
            "block": fiche.block,
        },
    )
    assert response.status_code == 200
    assert f"Le numéro {taken.number} est déjà donné à une autre fiche de 2022." in text(response)
    fiche.refresh_from_db()
    assert fiche.number == "9.9"


def test_renumbering_swaps_numbers_with_history(client, agent, year_2022):
    first, second = ActionYear.objects.filter(convention_year=year_2022).order_by("number")[:2]
    data = {
        f"number_{action_year.pk}": action_year.number
        for action_year in ActionYear.objects.filter(convention_year=year_2022)
    }
    data[f"number_{first.pk}"], data[f"number_{second.pk}"] = second.number, first.number
    response = client.post(reverse("actions:renumber", args=[year_2022.pk]), data)
    assert response.status_code == 302
    swapped = ActionYear.objects.get(pk=first.pk)
    assert swapped.number == second.number
    assert swapped.version == first.version + 1
    record = swapped.history.first()
    assert record.history_user.username == "agent77"
    assert record.number == second.number
    history = text(client.get(reverse("actions:detail", args=[first.pk])))
    assert "Renumérotation des fiches 2022" in history


def test_renumbering_refuses_duplicates(client, agent, year_2022):
    fiches = list(ActionYear.objects.filter(convention_year=year_2022))
    data = {f"number_{action_year.pk}": action_year.number for action_year in fiches}
    data[f"number_{fiches[0].pk}"] = fiches[1].number
    response = client.post(reverse("actions:renumber", args=[year_2022.pk]), data)
    assert response.status_code == 200
    assert "est déjà donné à une autre fiche" in text(response)
    assert ActionYear.objects.get(pk=fiches[0].pk).number == fiches[0].number


def test_retire_and_reinstate(client, agent, fiche):
    response = client.post(
        reverse("actions:retire", args=[fiche.pk]), {"version": "1", "reason": ""}
    )
    assert "Ce champ est obligatoire." in text(response)
    response = client.post(
        reverse("actions:retire", args=[fiche.pk]),
        {"version": "1", "reason": "Fusionnée avec la fiche 2.1"},
    )
    assert response.status_code == 302
    fiche.refresh_from_db()
    assert fiche.status == ActionStatus.RETIRED
    content = text(client.get(reverse("actions:detail", args=[fiche.pk])))
    assert "Fusionnée avec la fiche 2.1" in content  # the reason, in the history
    client.post(reverse("actions:reinstate", args=[fiche.pk]), {"version": str(fiche.version)})
    fiche.refresh_from_db()
    assert fiche.status == ActionStatus.ACTIVE


def test_create_a_fiche_from_the_year_page(client, agent, year_2022):
    theme = Theme.objects.get(programme__code="calpae", code="referent-parcours")
    response = client.post(
        reverse("actions:create", args=[year_2022.pk]),
        {"number": "8.8", "title": "Nouvelle action", "theme": theme.pk, "name": ""},
    )
    assert response.status_code == 302
    created = ActionYear.objects.get(convention_year=year_2022, number="8.8")
    assert created.block == theme.block
    assert created.action.department.code == "77"


def test_carry_forward_keeps_identity_and_prefills_carry_overs(client, agent, fiche, year_2023):
    services.budget_set(
        actor=agent,
        action_year=fiche,
        kind=BudgetKind.EXECUTED,
        state_new=Decimal("10000"),
        realised=Decimal("7000"),
        carry_over_state=Decimal("2000"),
        carry_over_cd=Decimal("1000"),
    )
    response = client.post(
        reverse("actions:carry_forward", args=[fiche.pk]), {"target": year_2023.pk}
    )
    assert response.status_code == 302
    carried = ActionYear.objects.get(convention_year=year_2023, action=fiche.action)
    planned = Budget.objects.get(action_year=carried, kind=BudgetKind.PLANNED)
    assert (planned.state_carried_over, planned.cd_carried_over) == (
        Decimal("2000.00"),
        Decimal("1000.00"),
    )
    # Carrying the same fiche twice is refused with a clear message.
    response = client.post(
        reverse("actions:carry_forward", args=[fiche.pk]), {"target": year_2023.pk}
    )
    assert "est déjà reconduite sur 2023" in text(response)

    def mismatches():
        return [
            finding
            for finding in year_tables([year_2023])[year_2023.pk].planned.findings
            if finding.rule == Rule.CARRY_OVER_MISMATCH and finding.action_key == fiche.action.code
        ]

    assert mismatches() == []
    services.budget_set(
        actor=agent,
        action_year=carried,
        kind=BudgetKind.PLANNED,
        state_carried_over=Decimal("2500"),
    )
    (finding,) = mismatches()
    assert finding.column == "B"
    content = text(client.get(reverse("actions:detail", args=[carried.pk])))
    assert "Reports N-1 = montants à reporter de l'année précédente" in content


def test_year_carry_forward_takes_only_active_fiches_not_yet_there(
    client, agent, fiche, year_2022, year_2023
):
    services.action_year_retire(actor=agent, action_year=fiche, version=1, reason="Abandon")
    present_before = set(
        ActionYear.objects.filter(convention_year=year_2023).values_list("action_id", flat=True)
    )
    before = len(present_before)
    response = client.post(
        reverse("actions:year_carry_forward", args=[year_2022.pk]), {"target": year_2023.pk}
    )
    assert response.status_code == 302
    assert not ActionYear.objects.filter(convention_year=year_2023, action=fiche.action).exists()
    present_after = set(
        ActionYear.objects.filter(convention_year=year_2023).values_list("action_id", flat=True)
    )
    active_2022 = set(
        ActionYear.objects.filter(
            convention_year=year_2022, status=ActionStatus.ACTIVE
        ).values_list("action_id", flat=True)
    )
    assert active_2022 <= present_after
    assert len(present_after) == before + len(active_2022 - present_before)


def test_a_finding_is_justified_in_writing(client, agent, year_2022):
    tables = year_tables([year_2022])[year_2022.pk]
    entry = tables.open_entries[0]
    findings_url = reverse("reports:findings", args=[year_2022.pk])
    response = client.post(
        reverse("reports:justify", args=[year_2022.pk]),
        {"key": entry.key, "text": "Écart validé par la préfecture.", "next": findings_url},
    )
    assert response.status_code == 302
    justification = Justification.objects.get(convention_year=year_2022)
    assert justification.key == entry.key
    assert justification.author == agent
    content = text(client.get(findings_url))
    assert "Écart validé par la préfecture." in content
    assert len(year_tables([year_2022])[year_2022.pk].open_entries) == len(tables.open_entries) - 1
    # An empty text removes it, with history.
    client.post(reverse("reports:justify", args=[year_2022.pk]), {"key": entry.key, "text": ""})
    assert not Justification.objects.exists()
    assert Justification.history.count() == 2


def test_justifying_a_finding_that_is_not_raised_is_refused(client, agent, year_2022):
    response = client.post(
        reverse("reports:justify", args=[year_2022.pk]),
        {"key": "execution:f_formula:inexistante::", "text": "Texte"},
        follow=True,
    )
    assert "Ce constat n'est plus relevé" in text(response)
    assert not Justification.objects.exists()


def test_admin_change_makes_open_forms_stale(rf, fiche):
    """A change in the administration is a new version: a form opened before is refused."""
    request = rf.post("/")
    request.user = get_user_model().objects.get(username="admin")
    fiche.title = "Titre changé dans l'administration"
    ActionYearAdmin(ActionYear, admin.site).save_model(request, fiche, None, change=True)
    budget = services.budget_set(
        actor=request.user, action_year=fiche, kind=BudgetKind.PLANNED, cd_new=Decimal("1")
    )
    BudgetAdmin(Budget, admin.site).save_model(request, budget, None, change=True)
    fiche.refresh_from_db()
    assert fiche.version == 3
    with pytest.raises(services.ConcurrentEditError):
        services.action_year_update(
            actor=request.user, action_year=fiche, version=1, title="Formulaire périmé"
        )


def test_findings_appear_beside_the_fields_they_concern(client, agent, fiche):
    services.budget_set(
        actor=agent,
        action_year=fiche,
        kind=BudgetKind.EXECUTED,
        state_new=Decimal("1000"),
        realised=Decimal("1500"),
    )
    content = text(client.get(reverse("actions:budget_executed", args=[fiche.pk])))
    realised = content.index('for="id_realised"')
    finding = content.index("Réalisé ≤ budget global")
    assert realised < finding < content.index('for="id_carry_over_state"')
    assert "n'empêchent pas d'enregistrer" in content
    # Saving is not blocked by the finding.
    response = client.post(
        reverse("actions:budget_executed", args=[fiche.pk]),
        budget_post(fiche.version, state_new="1 000", realised="1 600"),
    )
    assert response.status_code == 302


def test_new_planned_budget_is_prefilled_with_last_years_carry_over(
    client, agent, fiche, year_2023
):
    services.budget_set(
        actor=agent,
        action_year=fiche,
        kind=BudgetKind.EXECUTED,
        carry_over_state=Decimal("1500"),
        carry_over_cd=Decimal("250.5"),
    )
    next_year = services.action_year_create(
        actor=agent,
        action=fiche.action,
        convention_year=year_2023,
        theme=fiche.theme,
        number="9.9",
        title=fiche.title,
    )
    content = text(client.get(reverse("actions:budget_planned", args=[next_year.pk])))
    assert "Formulaire prérempli avec les montants à reporter de 2022" in content
    assert 'name="state_carried_over" value="1 500,00"' in content
    assert 'name="cd_carried_over" value="250,50"' in content


def test_year_carry_forward_gives_provisional_numbers_when_taken(
    client, agent, year_2022, year_2023
):
    theme = Theme.objects.get(programme__code="calpae", code="referent-parcours")
    for year, name in ((year_2023, "Fiche de 2023"), (year_2022, "Fiche de 2022")):
        services.action_year_add(
            actor=agent,
            convention_year=year,
            name=name,
            theme=theme,
            number="6.6",
            title=name,
        )
    response = client.post(
        reverse("actions:year_carry_forward", args=[year_2022.pk]),
        {"target": year_2023.pk},
        follow=True,
    )
    carried = ActionYear.objects.get(convention_year=year_2023, title="Fiche de 2022")
    assert carried.number == "R-6.6"
    assert ActionYear.objects.get(convention_year=year_2023, title="Fiche de 2023").number == "6.6"
    page = text(response)
    assert "Numéros déjà pris en 2023" in page
    assert "R-6.6" in page[page.index("Numéros déjà pris en 2023") :].split("</li>")[0]


def test_saving_untouched_texts_records_no_change(client, agent, fiche):
    """Browsers send CRLF line endings: an untouched text is not a change in the history."""
    services.action_year_update(
        actor=agent, action_year=fiche, version=1, description="Ligne 1\nLigne 2"
    )
    response = client.post(
        reverse("actions:narrative", args=[fiche.pk]),
        {
            "version": "2",
            "description": "Ligne 1\r\nLigne 2",
            "execution_review": "",
            "outlook": "Nouvelles perspectives",
        },
    )
    assert response.status_code == 302
    fiche.refresh_from_db()
    assert fiche.description == "Ligne 1\nLigne 2"
    latest = selectors_history(fiche)[0]
    assert [change.label for change in latest.changes] == ["Perspectives"]


def test_saving_a_budget_keeps_unchanged_funder_lines(client, agent, fiche):
    budget = services.budget_set(
        actor=agent,
        action_year=fiche,
        kind=BudgetKind.PLANNED,
        cd_new=Decimal("100"),
        other_fundings=[(Funder.FSE, "", Decimal("86496")), (Funder.REACT_EU, "", Decimal("5"))],
    )
    fse = budget.other_fundings.get(funder=Funder.FSE)
    response = client.post(
        reverse("actions:budget_planned", args=[fiche.pk]),
        budget_post(
            fiche.version,
            cd_new="100",
            valorisation="10",
            **{
                "autres-0-funder": Funder.FSE,
                "autres-0-amount": "86 496",
                "autres-1-funder": Funder.REACT_EU,
                "autres-1-amount": "5",
                "autres-1-DELETE": "on",
            },
        ),
    )
    assert response.status_code == 302
    assert list(budget.other_fundings.values_list("pk", "funder")) == [(fse.pk, Funder.FSE)]
    assert fse.history.count() == 1  # created once, never rewritten


def test_execution_checks_wait_for_the_first_executed_budget(client, agent, year_2023):
    """2023 has only its prévisionnel: no « n'a pas de budget en 2023 » noise from execution."""
    content = text(client.get(reverse("reports:findings", args=[year_2023.pk])))
    assert "Aucun budget exécuté n'est saisi pour 2023" in content
    assert "tableau d'exécution</span>" not in content
    tables = year_tables([year_2023])[year_2023.pk]
    assert not tables.execution_started
    assert all(entry.table == "planned" for entry in tables.entries)


def test_an_empty_justification_is_refused(client, agent, year_2022):
    entry = year_tables([year_2022])[year_2022.pk].open_entries[0]
    response = client.post(
        reverse("reports:justify", args=[year_2022.pk]),
        {"key": entry.key, "text": "  "},
        follow=True,
    )
    assert "Écrivez la justification avant de l'enregistrer." in text(response)
    assert not Justification.objects.exists()


def test_year_page_totals_match_the_official_execution_table(client, agent, year_2022):
    """The year's executed total is the printed F of the 2022 execution table (CALPAE.md §5.1)."""
    content = text(client.get(reverse("actions:year", args=[year_2022.pk])))
    total = content[content.index("Total de l'exercice 2022") :]
    assert "11 178 230,00 €" in total.split("</tr>")[0]
    assert "8 195 325,07 €" in total.split("</tr>")[0]
    assert "Sous-total engagements des mesures socle" in content


def test_findings_page_links_each_finding_to_its_fiche(client, agent, year_2022):
    entry = next(e for e in year_tables([year_2022])[year_2022.pk].entries if e.finding.action_key)
    fiche_pk = ActionYear.objects.get(
        convention_year=year_2022, action__code=entry.finding.action_key
    ).pk
    content = text(client.get(reverse("reports:findings", args=[year_2022.pk])))
    assert f'<a href="{reverse("actions:detail", args=[fiche_pk])}">Voir la fiche' in content
