"""The indicator table of a fiche-action: what each role sees and what a save writes.

Demo data: fiche 1.4 of Seine-et-Marne 2020 has three indicators in the 2020 matrix (réunions
de situations, réunions d'information collectives, délai d'entrée dans l'accompagnement global)
and one period in 2020, « Résultat atteint en 2020 et situation au 31 déc. 2020 … ».
"""

import datetime
import html
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actions.models import ActionYear
from conventions.models import Department
from indicators import services
from indicators.choices import PeriodKind, Unit, ValueStatus
from indicators.forms import cell_problem
from indicators.models import Indicator, IndicatorTarget, IndicatorValue, Period
from indicators.selectors import action_indicator_sheet, target_key
from indicators.selectors import value_key as value_key_of
from reports.formatting import format_number

pytestmark = pytest.mark.django_db

REUNIONS = "Nombre de réunion de situations tenues"
INFOS = "Nombre de réunions d'information collectives organisées"
DELAI = "Délai d'entrée dans l'accompagnement global"


def user(username):
    return get_user_model().objects.get(username=username)


def fiche(year: int, number: str) -> ActionYear:
    return ActionYear.objects.select_related("convention_year__convention").get(
        convention_year__convention__department__code="77",
        convention_year__year=year,
        number=number,
    )


@pytest.fixture
def fiche_14():
    return fiche(2020, "1.4")


@pytest.fixture
def period_2020():
    return Period.objects.get(department__code="77", year=2020)


@pytest.fixture
def ids():
    return {label: Indicator.objects.get(label=label).pk for label in (REUNIONS, INFOS, DELAI)}


@pytest.fixture
def agent(client):
    client.force_login(user("agent77"))
    return client


def url(action_year):
    return reverse("indicators:action_indicators", args=[action_year.pk])


def page(response) -> str:
    return html.unescape(response.content.decode())


def form_data(action_year, **changes) -> dict:
    """What the page posts when nothing is changed, then ``changes`` (field name → text)."""
    sheet = action_indicator_sheet(action_year)
    data = {"version": str(action_year.version)}
    data.update({cell.key: cell.raw for cell in sheet.cells})
    data.update(changes)
    return data


def test_page_lists_the_indicators_with_their_saved_texts(agent, fiche_14, period_2020, ids):
    response = agent.get(url(fiche_14))
    assert response.status_code == 200
    content = page(response)
    for label in (REUNIONS, INFOS, DELAI):
        assert label in content
    assert "Objectif 2020" in content
    assert f'<th scope="col">{period_2020.label}</th>' in content
    # Saved texts prefill the cells; their reading is shown beside them.
    assert ">\n2 mois</textarea>" in content
    assert ">\n28 jours</textarea>" in content
    assert "Enregistré : 28\u00a0jours" in content  # unit « jours » of the indicator
    assert "Enregistré : Texte, sans nombre" in content  # « 2 mois » is not a number of days
    assert "Unité : Jours" in content
    # A real label for every cell, naming the indicator and the column.
    target_id = f"id_{target_key(ids[DELAI])}"
    assert f'<label class="visually-hidden" for="{target_id}">Objectif 2020 — {DELAI}</label>' in (
        content
    )
    assert reverse("actions:year", args=[fiche_14.convention_year_id]) in content
    assert reverse("actions:detail", args=[fiche_14.pk]) in content


def test_a_number_is_saved_with_its_text_and_history(agent, fiche_14, period_2020, ids):
    version = fiche_14.version
    untouched = IndicatorValue.objects.get(indicator_id=ids[DELAI], period=period_2020)
    untouched_history = untouched.history.count()
    response = agent.post(
        url(fiche_14), form_data(fiche_14, **{target_key(ids[REUNIONS]): "1 234,5"})
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("actions:detail", args=[fiche_14.pk])
    target = IndicatorTarget.objects.get(
        indicator_id=ids[REUNIONS], convention_year=fiche_14.convention_year
    )
    assert (target.raw, target.number, target.status) == ("1 234,5", Decimal("1234.5"), "number")
    assert target.comment.startswith("Source :")  # the source note is kept
    assert target.history.latest().history_user == user("agent77")
    # Unchanged cells are not rewritten.
    assert untouched.history.count() == untouched_history
    fiche_14.refresh_from_db()
    assert fiche_14.version == version + 1
    assert fiche_14.history.latest().history_change_reason == "Indicateurs de la fiche 1.4"
    followed = page(agent.get(response["Location"]))
    assert "Indicateurs de la fiche 1.4 enregistrés (1 case modifiée)." in followed
    # The fiche page's history shows the change of the cell, by whom, before and after.
    history = followed[followed.index("Historique des modifications") :]
    assert f"Objectif 2020 — {REUNIONS}" in history
    assert "1 234,5" in history
    assert "agent77" in history


def test_a_status_is_saved_without_number(agent, fiche_14, period_2020, ids):
    key = value_key_of(ids[INFOS], period_2020.pk)
    response = agent.post(url(fiche_14), form_data(fiche_14, **{key: "Non contractualisé"}))
    assert response.status_code == 302
    value = IndicatorValue.objects.get(indicator_id=ids[INFOS], period=period_2020)
    assert (value.raw, value.number, value.status) == (
        "Non contractualisé",
        None,
        ValueStatus.NOT_CONTRACTED,
    )
    content = page(agent.get(url(fiche_14)))
    assert "Enregistré : Non contractualisé" in content


def test_unreadable_or_too_long_cells_are_named_and_nothing_is_saved(
    agent, fiche_14, period_2020, ids
):
    version = fiche_14.version
    long_key = value_key_of(ids[INFOS], period_2020.pk)
    data = form_data(
        fiche_14,
        **{
            target_key(ids[REUNIONS]): "999",  # valid, but not saved with the errors
            long_key: "x" * 501,
            target_key(ids[DELAI]): "1 234 567 890 123",
        },
    )
    response = agent.post(url(fiche_14), data)
    assert response.status_code == 200
    content = page(response)
    assert "Le formulaire contient 2 erreurs ; rien n'a été enregistré." in content
    assert (
        f"{period_2020.label} — {INFOS} : Le texte dépasse 500 caractères (501 saisis)" in content
    )
    assert f"Objectif 2020 — {DELAI} : Le nombre lu est trop grand" in content
    assert f'href="#id_{long_key}"' in content  # the summary links to the cell
    assert f'aria-describedby="id_{long_key}_helptext id_{long_key}_error"' in content
    assert 'aria-invalid="true"' in content
    assert ">\n999</textarea>" in content  # what was typed is kept
    assert IndicatorTarget.objects.get(indicator_id=ids[REUNIONS]).raw == "100"
    assert IndicatorValue.objects.get(indicator_id=ids[INFOS], period=period_2020).raw == "33"
    fiche_14.refresh_from_db()
    assert fiche_14.version == version


def test_emptying_a_cell_deletes_the_value_with_history(agent, fiche_14, period_2020, ids):
    value = IndicatorValue.objects.get(indicator_id=ids[REUNIONS], period=period_2020)
    key = value_key_of(ids[REUNIONS], period_2020.pk)
    response = agent.post(url(fiche_14), form_data(fiche_14, **{key: "  "}))
    assert response.status_code == 302
    assert not IndicatorValue.objects.filter(pk=value.pk).exists()
    deletion = IndicatorValue.history.get(id=value.pk, history_type="-")
    assert deletion.history_user == user("agent77")
    assert deletion.raw == "70"


def test_a_stale_version_shows_the_conflict_and_writes_nothing(agent, fiche_14, period_2020, ids):
    stale = form_data(fiche_14, **{target_key(ids[REUNIONS]): "999"})
    # Someone else saves the fiche's indicators meanwhile.
    services.indicator_entries_save(
        actor=user("referent77"),
        action_year=fiche_14,
        version=fiche_14.version,
        targets={ids[INFOS]: "150"},
        values={},
    )
    response = agent.post(url(fiche_14), stale)
    assert response.status_code == 200
    content = page(response)
    assert "Enregistrement refusé : la fiche a été modifiée pendant votre saisie" in content
    assert f"Objectif 2020 — {INFOS}" in content  # what the other person changed
    assert ">\n999</textarea>" in content  # the user's text is kept
    assert "Enregistré entre-temps : <strong>150</strong>" in content
    assert content.count("Enregistré entre-temps") == 1  # not on the user's own change
    fiche_14.refresh_from_db()
    assert f'name="version" value="{fiche_14.version}"' in content
    assert IndicatorTarget.objects.get(indicator_id=ids[REUNIONS]).raw == "100"
    # Posting again confirms the user's values over the other save.
    confirmed = {**stale, "version": str(fiche_14.version)}
    assert agent.post(url(fiche_14), confirmed).status_code == 302
    assert IndicatorTarget.objects.get(indicator_id=ids[REUNIONS]).raw == "999"


def test_reviewer_reads_the_table_without_inputs_and_cannot_post(client, fiche_14, ids):
    client.force_login(user("prefecture77"))
    response = client.get(url(fiche_14))
    assert response.status_code == 200
    content = page(response)
    assert REUNIONS in content
    assert "28 jours" in content
    assert "<textarea" not in content
    assert "<button" not in content.split('<main id="contenu"')[1]
    response = client.post(url(fiche_14), form_data(fiche_14, **{target_key(ids[REUNIONS]): "1"}))
    assert response.status_code == 403
    assert IndicatorTarget.objects.get(indicator_id=ids[REUNIONS]).raw == "100"


def test_other_departement_gets_404(client, fiche_14):
    client.force_login(user("agent03"))
    assert client.get(url(fiche_14)).status_code == 404
    assert client.post(url(fiche_14), form_data(fiche_14)).status_code == 404


def test_anonymous_is_sent_to_login(client, fiche_14):
    response = client.get(url(fiche_14))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_editor_creates_the_annual_period_once(agent):
    fiche_2023 = ActionYear.objects.filter(
        convention_year__convention__department__code="77", convention_year__year=2023
    ).first()
    # An indicator of the fiche's own (not in the matrix) is listed too.
    services.indicator_create(
        actor=user("agent77"),
        programme=fiche_2023.convention_year.convention.programme,
        code="jeunes-accompagnes",
        label="Nombre de jeunes accompagnés",
        department=fiche_2023.action.department,
        action=fiche_2023.action,
    )
    content = page(agent.get(url(fiche_2023)))
    assert "Créer la période annuelle « Au 31/12/2023 »" in content
    assert "Nombre de jeunes accompagnés" in content
    for _ in range(2):
        response = agent.post(url(fiche_2023), {"creer-periode-annuelle": "1"})
        assert response.status_code == 302
        assert response["Location"] == url(fiche_2023)
    period = Period.objects.get(department__code="77", label="Au 31/12/2023")
    assert (period.kind, period.year, period.start_date, period.end_date) == (
        PeriodKind.YEAR,
        2023,
        datetime.date(2023, 1, 1),
        datetime.date(2023, 12, 31),
    )
    assert period.history.latest().history_user == user("agent77")
    content = page(agent.get(url(fiche_2023)))
    assert '<th scope="col">Au 31/12/2023</th>' in content
    assert "Créer la période annuelle" not in content


def test_reviewer_gets_no_period_button(client):
    client.force_login(user("prefecture77"))
    fiche_2023 = ActionYear.objects.filter(
        convention_year__convention__department__code="77", convention_year__year=2023
    ).first()
    content = page(client.get(url(fiche_2023)))
    assert "Créer la période annuelle" not in content
    assert client.post(url(fiche_2023), {"creer-periode-annuelle": "1"}).status_code == 403
    assert not Period.objects.filter(label="Au 31/12/2023").exists()


def test_annual_period_is_not_duplicated_when_the_year_has_one():
    seine_et_marne = Department.objects.get(code="77")
    total_2022 = Period.objects.get(
        department=seine_et_marne, label="Résultat atteint en 2022 (Total)"
    )
    period = services.period_annual_ensure(
        actor=user("agent77"), department=seine_et_marne, year=2022
    )
    assert period == total_2022


def test_save_refuses_a_cell_outside_the_table(fiche_14):
    version = fiche_14.version
    stranger = Indicator.objects.exclude(matrix_entries__action_year=fiche_14).first()
    with pytest.raises(ValidationError):
        services.indicator_entries_save(
            actor=user("agent77"),
            action_year=fiche_14,
            version=version,
            targets={stranger.pk: "12"},
            values={},
        )
    fiche_14.refresh_from_db()
    assert fiche_14.version == version
    assert not IndicatorTarget.objects.filter(
        indicator=stranger, convention_year=fiche_14.convention_year, raw="12"
    ).exists()


def _get_queries(client, action_year) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(action_year))
    assert response.status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_indicators_and_periods(agent, fiche_14, period_2020):
    fiche_12 = fiche(2020, "1.2")
    assert len(action_indicator_sheet(fiche_12).rows) == 2
    small = _get_queries(agent, fiche_12)
    # Fiche 1.4 gets 7 indicators of its own (10 in all) and a second period column.
    actor = user("agent77")
    department = fiche_14.convention_year.convention.department
    semester = services.period_create(
        actor=actor,
        department=department,
        label="1er semestre 2020",
        kind=PeriodKind.SEMESTER,
        year=2020,
        start_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2020, 6, 30),
    )
    for number in range(7):
        indicator = services.indicator_create(
            actor=actor,
            programme=fiche_14.convention_year.convention.programme,
            code=f"indicateur-local-{number}",
            label=f"Indicateur local {number}",
            department=department,
            action=fiche_14.action,
            unit=Unit.PERCENT,
        )
        services.indicator_target_set(
            actor=actor, indicator=indicator, convention_year=fiche_14.convention_year, raw="50 %"
        )
        for period in (period_2020, semester):
            services.indicator_value_set(
                actor=actor, indicator=indicator, period=period, raw=f"{number},5 %"
            )
    sheet = action_indicator_sheet(fiche_14)
    assert len(sheet.rows) == 10
    assert [period.label for period in sheet.periods] == ["1er semestre 2020", period_2020.label]
    assert _get_queries(agent, fiche_14) == small
    assert "Enregistré : 6,5\u00a0%" in page(agent.get(url(fiche_14)))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", None),
        ("10 941", None),
        ("47,63 %", None),
        ("Données non disponibles (cyberattaque)", None),
        ("En moyenne 58", None),
        ("x" * 500, None),
        ("x" * 501, "Le texte dépasse 500 caractères (501 saisis) : raccourcissez-le."),
        ("1 234 567 890 123", "trop grand"),
        ("12,34567", "plus de 4 décimales"),
    ],
)
def test_cell_problems(text, problem):
    found = cell_problem(text)
    if problem is None:
        assert found is None
    else:
        assert problem in found


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1234.5000"), "1\u00a0234,5"),
        (Decimal("10941"), "10\u00a0941"),
        (Decimal("0.0000"), "0"),
        (Decimal("1E+3"), "1\u00a0000"),
        (Decimal("-1234567.25"), "-1\u00a0234\u00a0567,25"),
    ],
)
def test_indicator_numbers_are_formatted_the_french_way(value, text):
    assert format_number(value) == text


def test_a_fiche_shows_the_indicators_of_its_theme_from_the_year_matrix(agent):
    """2022: the matrix follows the national template by measure; the fiche 3.1 « Référent de
    parcours » gets the rows of its thème, marked as shared by the fiches of the thème."""
    fiche_31 = fiche(2022, "3.1")
    content = page(agent.get(url(fiche_31)))
    assert "Nombre total de personnes accompagnées par un référent de pa" in content
    assert "Indicateur du thème, commun à ses fiches" in content
    # Another thème's indicators are not there.
    assert "Nombre de premiers contacts établis" not in content
