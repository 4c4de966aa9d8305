"""Who may see and change what, for every page of the data entry, read from the URLconf.

The matrix is built from ``get_resolver()``: every URL of the ``actions``, ``indicators`` and
``reports`` namespaces × user (anonymous, agent, referent, prefecture reviewer, agent of another
Département, superuser) × object (of the user's Département or of another) × GET and POST. A URL
added later is covered without touching this file; a URL whose parameters this file cannot fill
makes ``test_every_url_parameter_can_be_filled`` fail.

Expected (calpae/permissions.py): anonymous → login page; another Département → 404 (never a
403, which would tell that the object exists); prefecture reviewer → read pages only, 403 with
the French message on every form; editors → the page, and an empty POST gives errors, never a
500. Then form tampering: ids of another Département or programme slipped into a form are not
written.
"""

import datetime
import html
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from actions import services
from actions.choices import ActionStatus, BudgetKind, Funder
from actions.models import Action, ActionYear, Budget, OtherFunding, PendingImport
from calpae.permissions import IMPORT_MESSAGE, READ_ONLY_MESSAGE
from conventions.models import ConventionYear, Department, Programme, Theme
from indicators.choices import PeriodKind
from indicators.models import IndicatorTarget, IndicatorValue
from indicators.selectors import target_key, value_key
from indicators.services import indicator_create, period_create
from reports.models import Justification
from reports.selectors import year_tables
from tests.history import HISTORY_MODELS, history_counts
from tests.routes import POST_ONLY
from tests.versions import frozen_version

pytestmark = pytest.mark.django_db

NAMESPACES = ("actions", "indicators", "reports")

# Pages that only show data: a reviewer reads them. Every other URL of the namespaces is a form
# (edit role needed), so that a URL added later is protected by default in this test.
READ_ONLY = {
    "actions:year",
    "actions:detail",
    "reports:findings",
    "reports:document",
    "reports:compare",
    "reports:version_file",
    "indicators:action_indicators",
}
# The review of the report: every user of the Département reads it and may post a step; the
# step's rules decide (an empty form is refused with its errors, nothing written).
STEP_PAGES = {"reports:review"}
# The discussion of the review: every user of the Département (the reviewer too) comments; an
# empty form comes back with its message, nothing written.
DISCUSSION = {"reports:comment_add", "reports:comment_resolve"}
# Pages for the Département's administrators (and the national one) only: the other editors get
# a 403 that says so.
ADMIN_ONLY = {
    "actions:import_workbook",
    "actions:import_workbook_confirm",
    "actions:import_workbook_cancel",
}

# The path segment before ``<int:pk>`` → the object that ``pk`` designates.
OBJECT_KINDS = {"exercices": "year", "fiches": "fiche"}
# The other parameters of a URL, by name: a value that the page accepts.
OTHER_PARAMS = {"slug": "financial-table", "fmt": "xlsx", "number": 1}

USERS = (
    "anonymous",
    "agent77",
    "referent77",
    "prefecture77",
    "prefecture-idf",  # reviewer of the préfecture de région (Île-de-France: 77, not 03)
    "admin77",
    "agent03",
    "admin",
)
EDITORS = {"agent77", "referent77", "admin77", "agent03", "admin"}
REVIEWERS = {"prefecture77", "prefecture-idf"}
IMPORTERS = {"admin77", "admin"}  # the Département's administrator and the national one

MISSING_PK = 999_999
LOGIN_URL = "/connexion/"
ERROR_SUMMARY = "rien n'a été enregistré"
NOT_FOUND = "Cette page n'existe pas, ou vous n'y avez pas accès."


def text(response) -> str:
    """The page as a user reads it: entities decoded, no-break spaces as spaces."""
    return html.unescape(response.content.decode()).replace("\u00a0", " ").replace("\u202f", " ")


# --- The URLs, from the URLconf --------------------------------------------------------------


@dataclass(frozen=True)
class Url:
    name: str  # "actions:edit"
    route: str  # "fiches/<int:pk>/modifier/"
    params: frozenset[str]

    def kwargs(self, pk: int) -> dict:
        return {"pk": pk, **{name: OTHER_PARAMS[name] for name in self.params if name != "pk"}}

    @property
    def kind(self) -> str | None:
        match = re.search(r"(?:^|/)([\w-]+)/<(?:\w+:)?pk>/", self.route)
        if self.params - set(OTHER_PARAMS) != {"pk"} or match is None:
            return None
        return OBJECT_KINDS.get(match.group(1))


def _walk(patterns, prefix: str = "", namespace: str = "", params: frozenset = frozenset()):
    for pattern in patterns:
        groups = params | set(pattern.pattern.regex.groupindex)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner, groups)
        elif isinstance(pattern, URLPattern) and namespace.split(":")[0] in NAMESPACES:
            if pattern.name is None:
                yield Url(f"{namespace}:<sans nom {pattern.pattern}>", "", frozenset(groups))
            else:
                route = prefix + str(pattern.pattern)
                yield Url(f"{namespace}:{pattern.name}", route, frozenset(groups))


ALL_URLS = sorted(set(_walk(get_resolver().url_patterns)), key=lambda url: url.name)
URLS = [url for url in ALL_URLS if url.kind is not None]


def test_every_url_parameter_can_be_filled():
    unknown = [
        f"{url.name} ({url.route}, {sorted(url.params)})" for url in ALL_URLS if not url.kind
    ]
    assert not unknown, (
        "URL(s) dont ce test ne sait pas remplir les paramètres — complétez OBJECT_KINDS : "
        + "; ".join(unknown)
    )


def test_every_write_leaves_a_history_row():
    """The matrix detects writes by counting history rows: they must cover the data entry."""
    names = {model.__name__ for model in HISTORY_MODELS}
    assert {
        "HistoricalActionYear",
        "HistoricalBudget",
        "HistoricalOtherFunding",
        "HistoricalJustification",
        "HistoricalIndicatorValue",
        "HistoricalIndicatorTarget",
        "HistoricalPeriod",
    } <= names


def test_the_matrix_covers_the_namespaces_and_knows_its_special_cases():
    names = {url.name for url in URLS}
    assert {name.split(":")[0] for name in names} == set(NAMESPACES)
    assert len(URLS) >= 15
    # A renamed or removed URL must not leave a stale special case behind.
    stale = (READ_ONLY | POST_ONLY | ADMIN_ONLY | STEP_PAGES | DISCUSSION) - names
    assert not stale, f"Cas particuliers sans URL : {sorted(stale)}"


# --- Objects of each Département ---------------------------------------------------------------


@pytest.fixture
def objects(django_user_model):
    """``{department code: {"year": ConventionYear, "fiche": ActionYear}}``."""
    year_77 = ConventionYear.objects.get(convention__department__code="77", year=2023)
    year_03 = ConventionYear.objects.get(convention__department__code="03", year=2019)
    fiche_03 = ActionYear.objects.filter(convention_year=year_03).order_by("pk").first()
    if fiche_03 is None:
        actor = django_user_model.objects.get(username="admin")
        convention = year_03.convention
        action = services.action_create(
            actor=actor,
            department=convention.department,
            programme=convention.programme,
            code="fiche-allier",
            name="Fiche de l'Allier",
        )
        fiche_03 = services.action_year_create(
            actor=actor,
            action=action,
            convention_year=year_03,
            theme=Theme.objects.filter(programme=convention.programme).first(),
            number="1.1",
            title="Fiche de l'Allier",
        )
    for year in (year_77, year_03):
        frozen_version(year, django_user_model.objects.get(username="admin"))
    return {
        "77": {
            "year": year_77,
            "fiche": ActionYear.objects.filter(convention_year=year_77).order_by("pk").first(),
        },
        "03": {"year": year_03, "fiche": fiche_03},
    }


def _department_of(user: str, scope: str) -> str:
    own = "03" if user == "agent03" else "77"
    if scope == "own":
        return own
    return "77" if own == "03" else "03"


def _login(client, user: str):
    if user != "anonymous":
        client.force_login(get_user_model().objects.get(username=user))


# A browser always sends the CSRF token: an "empty" form is not an empty POST (``request.POST or
# None`` would take that for a GET). The test client does not check the token.
EMPTY_FORM = {"csrfmiddlewaretoken": "jeton"}


def _request(client, method: str, path: str):
    return client.get(path) if method == "GET" else client.post(path, EMPTY_FORM)


# --- The matrix ----------------------------------------------------------------------------------


# Read pages answer GET and HEAD only (``require_safe``).
READ_PAGES = {
    "actions:year",
    "actions:detail",
    "reports:findings",
    "reports:document",
    "reports:compare",
    "reports:version_file",
}


def _cases():
    for user in USERS:
        for scope in ("own", "other"):
            for url in URLS:
                for method in ("GET", "POST"):
                    yield pytest.param(
                        user,
                        scope,
                        url,
                        method,
                        id=f"{user}-{scope}-{url.name}-{method}",
                    )


@pytest.mark.parametrize(("user", "scope", "url", "method"), list(_cases()))
def test_access(client, objects, user, scope, url, method):
    department = _department_of(user, scope)
    path = reverse(url.name, kwargs=url.kwargs(objects[department][url.kind].pk))
    _login(client, user)
    before = history_counts()
    response = _request(client, method, path)
    status = response.status_code
    where = f"{method} {path} par {user} → {status}"
    if user not in EDITORS or (scope == "other" and user != "admin"):
        assert history_counts() == before, f"{where} : écriture sans droit"

    if user == "anonymous":
        assert status == 302, where
        assert response["Location"] == f"{LOGIN_URL}?next={path}", where
        return

    assert status != 500, where

    if scope == "other" and user != "admin":  # a superuser sees every Département
        missing = _request(client, method, reverse(url.name, kwargs=url.kwargs(MISSING_PK)))
        # Exactly what a non-existent object gives: nothing tells that the object exists.
        assert status == missing.status_code, f"{where}, objet inexistant → {missing.status_code}"
        if (method == "GET" and url.name in POST_ONLY) or (
            method == "POST" and url.name in READ_PAGES
        ):
            # The method is refused before the object is looked up: 405 for any pk.
            assert status in (404, 405), where
        else:
            assert status == 404, where
        if status == 404:
            assert NOT_FOUND in text(response)
        return

    if url.name in STEP_PAGES:
        assert status == 200, where
        assert history_counts() == before, where
        return

    if url.name in DISCUSSION:
        assert status == (405 if method == "GET" else 302), where
        assert history_counts() == before, where
        if status == 302:
            followed = client.get(response["Location"])
            assert '<li class="error">' in followed.content.decode(), where
        return

    if user in REVIEWERS:
        if url.name in READ_ONLY:
            expected = {200} if method == "GET" else {403, 405}
        else:
            expected = {403, 405} if method == "GET" and url.name in POST_ONLY else {403}
        assert status in expected, where
        if status == 403:
            assert READ_ONLY_MESSAGE in text(response), where
        return

    assert user in EDITORS
    if url.name in ADMIN_ONLY and user not in IMPORTERS:
        assert status == 403, where
        assert IMPORT_MESSAGE in text(response), where
        assert history_counts() == before, where
        return
    if method == "GET":
        assert status == (405 if url.name in POST_ONLY else 200), where
        return
    # An empty form: errors shown or a redirect with a message, never a crash, nothing written.
    assert status in (200, 302, 405), where
    assert history_counts() == before, where
    if status == 200 and url.name not in READ_ONLY:
        assert ERROR_SUMMARY in text(response), where
    if status == 302:
        assert not response["Location"].startswith(LOGIN_URL), where
        followed = client.get(response["Location"])
        assert followed.status_code == 200, where
        assert '<li class="error">' in followed.content.decode(), where


# --- Form tampering ------------------------------------------------------------------------------


@pytest.fixture
def agent77(client):
    user = get_user_model().objects.get(username="agent77")
    client.force_login(user)
    return user


@pytest.fixture
def foreign_theme():
    """A thème of the other programme (contrats locaux des solidarités)."""
    return Theme.objects.create(
        programme=Programme.objects.get(code="pacte-solidarites"),
        code="theme-essai-pacte",
        label="Thème du Pacte des solidarités",
        short_label="Pacte",
        block="socle",
    )


def _fiche_data(action_year: ActionYear, **changes) -> dict:
    """The fiche form as the page sends it back, with ``changes``."""
    data = {
        "number": action_year.number,
        "sequence_number": action_year.sequence_number,
        "title": action_year.title,
        "previous_reference": action_year.previous_reference,
        "theme": action_year.theme_id,
        "block": action_year.block,
        "lead_service": action_year.lead_service,
        "start_date": action_year.start_date.isoformat() if action_year.start_date else "",
        "start_date_text": action_year.start_date_text,
        "duration": action_year.duration,
        "partners": action_year.partners,
        "objectives": action_year.objectives,
        "fapi_funded": {None: "unknown", True: "true", False: "false"}[action_year.fapi_funded],
        "version": action_year.version,
    }
    data.update(changes)
    return data


def _row(action_year: ActionYear) -> dict:
    return ActionYear.objects.filter(pk=action_year.pk).values().get()


def _budgets(action_year: ActionYear) -> list[dict]:
    return list(Budget.objects.filter(action_year=action_year).order_by("kind").values())


def _fundings(action_year: ActionYear) -> list[dict]:
    return list(
        OtherFunding.objects.filter(budget__action_year=action_year).order_by("pk").values()
    )


def test_fiche_form_refuses_a_theme_of_another_programme(client, agent77, objects, foreign_theme):
    fiche = objects["77"]["fiche"]
    before = _row(fiche)
    response = client.post(
        reverse("actions:edit", args=[fiche.pk]),
        _fiche_data(fiche, theme=foreign_theme.pk, title="Intitulé falsifié"),
    )
    assert response.status_code == 200
    page = text(response)
    assert ERROR_SUMMARY in page
    assert "Thème : Sélectionnez un choix valide" in page
    assert _row(fiche) == before


def test_fiche_form_refuses_a_theme_id_that_does_not_exist(client, agent77, objects):
    fiche = objects["77"]["fiche"]
    before = _row(fiche)
    response = client.post(
        reverse("actions:edit", args=[fiche.pk]), _fiche_data(fiche, theme=MISSING_PK)
    )
    assert response.status_code == 200
    assert "Thème : Sélectionnez un choix valide" in text(response)
    assert _row(fiche) == before


def test_fiche_form_ignores_ids_it_does_not_show(client, agent77, objects):
    """``action``, ``convention_year``, ``status`` of Allier slipped into the form: ignored."""
    fiche, allier = objects["77"]["fiche"], objects["03"]["fiche"]
    before, allier_before = _row(fiche), _row(allier)
    response = client.post(
        reverse("actions:edit", args=[fiche.pk]),
        _fiche_data(
            fiche,
            title="Intitulé modifié",
            action=allier.action_id,
            convention_year=allier.convention_year_id,
            status=ActionStatus.RETIRED,
            id=allier.pk,
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("actions:detail", args=[fiche.pk])
    after = _row(fiche)
    assert after["title"] == "Intitulé modifié"
    assert after["version"] == before["version"] + 1
    for name in ("id", "action_id", "convention_year_id", "status", "theme_id"):
        assert after[name] == before[name], name
    assert _row(allier) == allier_before


def test_narrative_form_ignores_identity_fields(client, agent77, objects, foreign_theme):
    fiche = objects["77"]["fiche"]
    before = _row(fiche)
    response = client.post(
        reverse("actions:narrative", args=[fiche.pk]),
        {
            "description": "Nouvelle description",
            "execution_review": fiche.execution_review,
            "outlook": fiche.outlook,
            "version": fiche.version,
            "theme": foreign_theme.pk,
            "number": "99.9",
            "convention_year": objects["03"]["year"].pk,
        },
    )
    assert response.status_code == 302
    after = _row(fiche)
    assert after["description"] == "Nouvelle description"
    for name in ("theme_id", "number", "convention_year_id", "action_id"):
        assert after[name] == before[name], name


def test_budget_form_writes_only_the_budget_of_its_fiche(client, agent77, objects):
    """Allier's fiche, budget and funding ids slipped into the form of a 77 fiche: ignored."""
    fiche, allier = objects["77"]["fiche"], objects["03"]["fiche"]
    allier_budget = services.budget_set(
        actor=agent77,
        action_year=allier,
        kind=BudgetKind.PLANNED,
        state_new=Decimal("10.00"),
        other_fundings=[(Funder.FSE, "", Decimal("5.00"))],
    )
    allier_funding = allier_budget.other_fundings.get()
    allier_budgets, allier_fundings, allier_row = _budgets(allier), _fundings(allier), _row(allier)
    executed_before = list(
        Budget.objects.filter(action_year=fiche, kind=BudgetKind.EXECUTED).values()
    )
    response = client.post(
        reverse("actions:budget_planned", args=[fiche.pk]),
        {
            "version": fiche.version,
            "state_new": "1 234,56",
            "cd_new": "",
            "comment": "Saisie",
            # Tampering: another fiche, another kind, execution columns, Allier's rows.
            "action_year": allier.pk,
            "kind": BudgetKind.EXECUTED,
            "realised": "999",
            "id": allier_budget.pk,
            "budget": allier_budget.pk,
            "autres-TOTAL_FORMS": "1",
            "autres-INITIAL_FORMS": "1",
            "autres-MIN_NUM_FORMS": "0",
            "autres-MAX_NUM_FORMS": "20",
            "autres-0-id": allier_funding.pk,
            "autres-0-budget": allier_budget.pk,
            "autres-0-funder": Funder.FSE_PLUS,
            "autres-0-funder_name": "",
            "autres-0-amount": "7",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("actions:detail", args=[fiche.pk])
    planned = Budget.objects.get(action_year=fiche, kind=BudgetKind.PLANNED)
    assert planned.state_new == Decimal("1234.56")
    assert planned.realised is None
    assert [(f.funder, f.amount) for f in planned.other_fundings.all()] == [
        (Funder.FSE_PLUS, Decimal("7.00"))
    ]
    assert (
        list(Budget.objects.filter(action_year=fiche, kind=BudgetKind.EXECUTED).values())
        == executed_before
    )
    assert _budgets(allier) == allier_budgets
    assert _fundings(allier) == allier_fundings
    assert _row(allier) == allier_row


def test_indicator_form_ignores_indicators_of_another_department(client, agent77, objects):
    """Target and value cells of an Allier indicator slipped into a 77 fiche's indicator form."""
    fiche, allier = objects["77"]["fiche"], objects["03"]["fiche"]
    programme = fiche.convention_year.convention.programme
    own = indicator_create(
        actor=agent77,
        programme=programme,
        code="essai-autorisation-77",
        label="Indicateur de la fiche",
        department=fiche.action.department,
        action=fiche.action,
    )
    foreign = indicator_create(
        actor=agent77,
        programme=programme,
        code="essai-autorisation-03",
        label="Indicateur de l'Allier",
        department=allier.action.department,
        action=allier.action,
    )
    period = period_create(
        actor=agent77,
        department=allier.action.department,
        label="Au 31/12/2019 (essai)",
        kind=PeriodKind.YEAR,
        year=2019,
        end_date=datetime.date(2019, 12, 31),
    )
    response = client.post(
        reverse("indicators:action_indicators", args=[fiche.pk]),
        {
            "version": fiche.version,
            target_key(own.pk): "12",
            target_key(foreign.pk): "42",
            value_key(foreign.pk, period.pk): "42",
        },
    )
    assert response.status_code == 302
    assert IndicatorTarget.objects.get(indicator=own).raw == "12"
    assert not IndicatorTarget.objects.filter(indicator=foreign).exists()
    assert not IndicatorValue.objects.filter(indicator=foreign).exists()


def test_renumbering_ignores_a_fiche_of_another_department(client, agent77, objects):
    year, allier = objects["77"]["year"], objects["03"]["fiche"]
    fiches = list(ActionYear.objects.filter(convention_year=year).order_by("pk"))
    first, second = fiches[0], fiches[1]
    data = {f"number_{fiche.pk}": fiche.number for fiche in fiches}
    data[f"number_{first.pk}"], data[f"number_{second.pk}"] = second.number, first.number
    data[f"number_{allier.pk}"] = "99.9"
    allier_before = _row(allier)
    response = client.post(reverse("actions:renumber", args=[year.pk]), data)
    assert response.status_code == 302
    assert ActionYear.objects.get(pk=first.pk).number == second.number
    assert ActionYear.objects.get(pk=second.pk).number == first.number
    assert _row(allier) == allier_before


def test_creating_a_fiche_refuses_a_theme_of_another_programme(
    client, agent77, objects, foreign_theme
):
    year = objects["77"]["year"]
    count, actions = ActionYear.objects.count(), Action.objects.count()
    response = client.post(
        reverse("actions:create", args=[year.pk]),
        {"number": "9.9", "title": "Fiche falsifiée", "theme": foreign_theme.pk, "name": ""},
    )
    assert response.status_code == 200
    assert "Thème : Sélectionnez un choix valide" in text(response)
    assert (ActionYear.objects.count(), Action.objects.count()) == (count, actions)


@pytest.mark.parametrize("url_name", ["actions:carry_forward", "actions:year_carry_forward"])
def test_carrying_forward_refuses_a_year_of_another_department(client, agent77, objects, url_name):
    source = ConventionYear.objects.get(convention__department__code="77", year=2022)
    pk = (
        source.pk
        if url_name == "actions:year_carry_forward"
        else ActionYear.objects.filter(convention_year=source).order_by("pk").first().pk
    )
    allier_year = objects["03"]["year"]
    count = ActionYear.objects.count()
    response = client.post(reverse(url_name, args=[pk]), {"target": allier_year.pk})
    assert response.status_code == 200
    assert "Exercice de destination : Sélectionnez un choix valide" in text(response)
    assert ActionYear.objects.count() == count


def test_justifying_a_key_that_is_not_a_raised_finding_writes_nothing(client, agent77, objects):
    year, allier_year = objects["77"]["year"], objects["03"]["year"]
    allier_key = year_tables([allier_year])[allier_year.pk].entries[0].key
    raised = year_tables([year])[year.pk].finding_keys
    assert allier_key not in raised
    count = Justification.objects.count()
    for key in (allier_key, "execution:state_total::Z:", "pas-une-cle"):
        response = client.post(
            reverse("reports:justify", args=[year.pk]),
            {"key": key, "text": "Justification falsifiée"},
            follow=True,
        )
        assert response.redirect_chain == [(reverse("reports:findings", args=[year.pk]), 302)]
        assert (
            "Ce constat n'est plus relevé : les montants ont changé depuis l'affichage de la page."
            in text(response)
        ), key
        assert Justification.objects.count() == count, key
    assert not Justification.objects.filter(text="Justification falsifiée").exists()


def test_justifying_a_raised_finding_works_and_ignores_an_outside_next(client, agent77, objects):
    """The control of the test above: a raised key is written; ``next`` stays on the site."""
    year = objects["77"]["year"]
    key = year_tables([year])[year.pk].open_entries[0].key
    response = client.post(
        reverse("reports:justify", args=[year.pk]),
        {"key": key, "text": "Écart expliqué", "next": "https://exemple.org/"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:findings", args=[year.pk])
    justification = Justification.objects.get(convention_year=year, text="Écart expliqué")
    assert justification.key == key
    assert justification.author == agent77


def test_a_reviewer_cannot_justify(client, objects):
    year = objects["77"]["year"]
    client.force_login(get_user_model().objects.get(username="prefecture77"))
    key = year_tables([year])[year.pk].open_entries[0].key
    count = Justification.objects.count()
    response = client.post(reverse("reports:justify", args=[year.pk]), {"key": key, "text": "x"})
    assert response.status_code == 403
    assert READ_ONLY_MESSAGE in text(response)
    assert Justification.objects.count() == count


def test_an_agent_of_another_department_cannot_justify(client, objects):
    year = objects["77"]["year"]
    client.force_login(get_user_model().objects.get(username="agent03"))
    key = year_tables([year])[year.pk].open_entries[0].key
    count = Justification.objects.count()
    response = client.post(reverse("reports:justify", args=[year.pk]), {"key": key, "text": "x"})
    assert response.status_code == 404
    assert Justification.objects.count() == count


def test_a_membership_elsewhere_gives_no_right_here(client, django_user_model, objects):
    """An agent of 77 who is also reviewer of Allier: reads Allier, edits nothing there."""
    user = django_user_model.objects.get(username="agent77")
    user.memberships.create(department=Department.objects.get(code="03"), role="reviewer")
    client.force_login(user)
    fiche = objects["03"]["fiche"]
    assert client.get(reverse("actions:detail", args=[fiche.pk])).status_code == 200
    response = client.get(reverse("actions:edit", args=[fiche.pk]))
    assert response.status_code == 403
    assert READ_ONLY_MESSAGE in text(response)
    assert client.get(reverse("actions:edit", args=[objects["77"]["fiche"].pk])).status_code == 200


@pytest.mark.parametrize(
    "url_name", ["actions:import_workbook_confirm", "actions:import_workbook_cancel"]
)
def test_a_kept_import_file_is_confirmed_or_cancelled_by_its_owner_only(
    client, django_user_model, objects, url_name
):
    """The file of admin77's simulation: another administrator of Seine-et-Marne, the national
    administrator, and admin77 through another year are answered 404, and it stays."""
    year = objects["77"]["year"]
    owner = django_user_model.objects.get(username="admin77")
    pending = PendingImport.objects.create(
        convention_year=year, user=owner, filename="tableau.xlsx", data=b"x", sha256="0" * 64
    )
    colleague = django_user_model.objects.create_user("admin77-bis")
    colleague.memberships.create(department=Department.objects.get(code="77"), role="admin")
    before = history_counts()
    attempts = [
        (colleague, year),
        (django_user_model.objects.get(username="admin"), year),
        (owner, ConventionYear.objects.get(convention__department__code="77", year=2022)),
    ]
    for user, url_year in attempts:
        client.force_login(user)
        response = client.post(reverse(url_name, args=[url_year.pk]), {"pending": pending.pk})
        assert response.status_code == 404, user.username
        assert NOT_FOUND in text(response)
    assert history_counts() == before
    assert PendingImport.objects.filter(pk=pending.pk).exists()
    client.force_login(owner)  # the control: its owner reaches it
    assert (
        client.post(reverse(url_name, args=[year.pk]), {"pending": pending.pk}).status_code == 302
    )
    assert not PendingImport.objects.filter(pk=pending.pk).exists()
