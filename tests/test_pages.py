"""What a user sees on the pages of this first version: login, home, health."""

import pytest
from django.urls import reverse

from conventions.choices import Role
from conventions.models import Department, Membership

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
    # Three save the session again: it expires after inactivity (SESSION_SAVE_EVERY_REQUEST).
    with django_assert_max_num_queries(18):
        response = client.get(reverse("home"))
    assert response.status_code == 200


def test_health_checks_the_database(client):
    health = client.get(reverse("health")).json()
    assert (health["status"], health["database"], health["tasks"]["waiting"]) == ("ok", "ok", 0)
