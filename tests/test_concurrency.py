"""Two people save the same fiche at the same moment: exactly one save goes through.

The version check is a conditional ``UPDATE … WHERE version = n`` inside the save's
transaction. On PostgreSQL (production and CI) the second transaction waits for the row lock,
then matches no row and is refused; nothing of it is written. SQLite serializes whole-database
writes and answers "database is locked" instead of waiting, so this test runs on PostgreSQL.
"""

import threading
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import close_old_connections, connection

from actions import services
from actions.choices import BudgetKind
from actions.models import ActionYear, Budget
from conventions.models import Department, Programme, Theme
from conventions.services import convention_create, convention_year_open

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="Row locks: run with DATABASE_URL pointing to PostgreSQL (as CI does).",
    ),
]


@pytest.fixture
def fiche():
    user = get_user_model().objects.create_user("concurrence")
    programme = Programme.objects.get(code="calpae")
    convention = convention_create(
        actor=user,
        # A Département without demo data: Seine-et-Marne already has a convention from that day.
        department=Department.objects.get(code="93"),
        programme=programme,
        title="Convention d'essai",
        start_date="2023-01-01",
        end_date="2023-12-31",
    )
    year = convention_year_open(actor=user, convention=convention, year=2023)
    return services.action_year_add(
        actor=user,
        convention_year=year,
        name="Concurrence",
        theme=Theme.objects.get(programme=programme, code="referent-parcours"),
        number="1.1",
        title="Deux saisies simultanées",
    )


def test_two_simultaneous_saves_one_wins_one_is_refused(fiche):
    users = [get_user_model().objects.create_user(name) for name in ("premier", "second")]
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def save(user, amount):
        try:
            action_year = ActionYear.objects.get(pk=fiche.pk)
            barrier.wait(timeout=10)
            services.budget_save(
                actor=user,
                action_year=action_year,
                kind=BudgetKind.PLANNED,
                version=1,  # both read the fiche at version 1
                other_fundings=[],
                cd_new=Decimal(amount),
            )
            outcomes[user.username] = "saved"
        except services.ConcurrentEditError:
            outcomes[user.username] = "refused"
        finally:
            close_old_connections()
            connection.close()

    threads = [
        threading.Thread(target=save, args=(user, amount))
        for user, amount in zip(users, ("100", "200"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["refused", "saved"], outcomes
    winner = next(name for name, outcome in outcomes.items() if outcome == "saved")
    budget = Budget.objects.get(action_year=fiche, kind=BudgetKind.PLANNED)
    assert budget.cd_new == Decimal("100" if winner == "premier" else "200")
    assert ActionYear.objects.get(pk=fiche.pk).version == 2
    assert list(
        Budget.history.filter(id=budget.pk).values_list("history_user__username", flat=True)
    ) == [winner]
