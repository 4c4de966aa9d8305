"""What a user sees on the pages of this first version: login, home, health."""

import pytest
from django.urls import reverse

from conventions.choices import Role
from conventions.models import ConventionYear, Department, Membership

pytestmark = pytest.mark.django_db


def test_login_page_is_in_french(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "Connexion" in response.content.decode()
    assert 'lang="fr"' in response.content.decode()


def test_home_requires_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_wrong_password_shows_a_french_message(client):
    response = client.post(reverse("login"), {"username": "agent77", "password": "faux"})
    assert response.status_code == 200
    assert "Identifiant ou mot de passe incorrect" in response.content.decode()


def test_agent_sees_only_the_years_of_their_department(client, django_user_model):
    user = django_user_model.objects.create_user("agent-test", password="x")
    Membership.objects.create(
        user=user, department=Department.objects.get(code="77"), role=Role.AGENT
    )
    client.force_login(user)
    content = client.get(reverse("home")).content.decode()
    assert "Seine-et-Marne (77)" in content
    assert "Allier" not in content
    assert "1\u00a0186\u00a0729,00\u00a0€" in content  # crédit État 2023
    assert ">2023</a>" in content  # a year, not "2 023"


def test_user_without_department_sees_nothing(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("sans-rattachement"))
    content = client.get(reverse("home")).content.decode()
    assert "Aucune convention ne vous est rattachée" in content


def test_home_query_count_does_not_grow_with_data(
    client, django_user_model, django_assert_max_num_queries
):
    superuser = django_user_model.objects.create_superuser("national", password="x")
    client.force_login(superuser)
    # Three save the session again: it expires after inactivity (SESSION_SAVE_EVERY_REQUEST);
    # three read the filters' choices and count the years for the pages.
    with django_assert_max_num_queries(21):
        response = client.get(reverse("home"))
    assert response.status_code == 200


def test_health_checks_the_database(client):
    health = client.get(reverse("health")).json()
    assert (health["status"], health["database"], health["tasks"]["waiting"]) == ("ok", "ok", 0)


@pytest.fixture
def national_years(django_user_model):
    """The years of 6 more Départements (synthetic data, 2 years each), seen by a national
    administrator."""
    from conventions.synthetic import Sizes, synthetic_generate

    synthetic_generate(sizes=Sizes(departements=6, years=2, actions=2, indicators=1), seed=3)
    return django_user_model.objects.create_superuser("national", password="x")


def _rows(content: str) -> list[str]:
    import re

    return re.findall(r'<th scope="row"><a href="/exercices/\d+/">(\d{4})</a></th>', content)


def test_home_shows_the_years_a_page_at_a_time(client, national_years, monkeypatch):
    from calpae import views

    monkeypatch.setattr(views, "HOME_PAGE_SIZE", 5)
    client.force_login(national_years)
    total = ConventionYear.objects.count()
    pages = -(-total // 5)
    first = client.get(reverse("home")).content.decode()
    assert len(_rows(first)) == 5
    assert f"1 à 5 sur {total}" in first and f"Page 1 sur {pages}" in first
    assert "Page précédente" not in first
    last = client.get(reverse("home"), {"page": pages}).content.decode()
    assert len(_rows(last)) == total - 5 * (pages - 1)
    assert f"sur {total}" in last and "Page suivante" not in last
    # A page number out of range or not a number shows a page, never an error.
    assert client.get(reverse("home"), {"page": "99"}).status_code == 200
    assert client.get(reverse("home"), {"page": "x"}).status_code == 200


def test_home_filters_by_year_region_and_department(client, national_years):
    from conventions.synthetic import synthetic_departments

    client.force_login(national_years)
    department = synthetic_departments().select_related("region").first()
    years = sorted(
        department.conventions.values_list("years__year", flat=True).distinct(), reverse=True
    )
    content = client.get(reverse("home"), {"departement": department.code}).content.decode()
    assert _rows(content) == [str(year) for year in years]
    content = client.get(reverse("home"), {"annee": years[0]}).content.decode()
    assert _rows(content) == [str(years[0])] * ConventionYear.objects.filter(year=years[0]).count()
    content = client.get(reverse("home"), {"region": department.region.code}).content.decode()
    in_region = ConventionYear.objects.filter(
        convention__department__region=department.region
    ).count()
    assert len(_rows(content)) == in_region < ConventionYear.objects.count()
    # A value that is not offered is named and ignored, the other filters still apply.
    content = client.get(
        reverse("home"), {"annee": "1900", "departement": department.code}
    ).content.decode()
    assert "Sélectionnez un choix valide" in content
    assert _rows(content) == [str(year) for year in years]


def test_a_department_user_sees_no_filter(client, django_user_model):
    user = django_user_model.objects.create_user("agent-seul")
    Membership.objects.create(
        user=user, department=Department.objects.get(code="77"), role=Role.AGENT
    )
    client.force_login(user)
    assert 'name="annee"' not in client.get(reverse("home")).content.decode()
