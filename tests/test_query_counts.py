"""The number of SQL queries of each page does not grow with the data.

A fresh year of Seine-et-Marne (a contrat local des solidarités 2024, so that no demo year is
its neighbour) first holds 2 fiches-actions, each with planned and executed budgets, other
funders, a narrative, indicators and some history; each page is measured; 38 more fiches are
added the same way and each page is measured again: the counts must be equal.
"""

import datetime
import html
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actions import services
from actions.choices import BudgetKind, Funder
from actions.models import ActionYear
from conventions.choices import Block
from conventions.models import Department, Programme, Theme
from conventions.services import convention_create, convention_year_open, state_envelope_create
from indicators.services import (
    indicator_create,
    indicator_target_set,
    indicator_value_set,
    matrix_entry_create,
    period_annual_ensure,
)
from reports.selectors import year_tables
from reports.services import justification_set

FIRST_BATCH = 2
SECOND_BATCH = 38

# Page name → which object its URL takes.
PAGES = {
    "home": None,
    "actions:year": "year",
    "reports:findings": "year",
    "actions:renumber": "year",
    "actions:detail": "fiche",
    "actions:budget_planned": "fiche",
    "actions:budget_executed": "fiche",
    "actions:edit": "fiche",
    "actions:narrative": "fiche",
    "indicators:action_indicators": "fiche",
}


class YearBuilder:
    """Adds fiches to a new 2024 year of Seine-et-Marne through the services, as users would."""

    def __init__(self, actor):
        self.actor = actor
        department = Department.objects.get(code="77")
        programme = Programme.objects.get(code="pacte-solidarites")
        self.themes = [
            Theme.objects.create(
                programme=programme,
                code=f"essai-requetes-{block}",
                label=f"Thème d'essai ({block})",
                short_label=f"Essai {block}",
                block=block,
                position=90 + position,
            )
            for position, block in enumerate((Block.SOCLE, Block.INITIATIVE))
        ]
        convention = convention_create(
            actor=actor,
            department=department,
            programme=programme,
            title="Contrat local des solidarités 2024-2027",
            start_date=datetime.date(2024, 1, 1),
            end_date=datetime.date(2027, 12, 31),
        )
        self.year = convention_year_open(
            actor=actor, convention=convention, year=2024, state_credit=Decimal("500000.00")
        )
        state_envelope_create(
            actor=actor,
            convention_year=self.year,
            themes=self.themes[:1],
            amount=Decimal("200000.00"),
        )
        self.period = period_annual_ensure(actor=actor, department=department, year=2024)
        self.count = 0
        self.first = None

    def add(self, n: int) -> None:
        for _ in range(n):
            self.count += 1
            self._add_one(self.count)
        self._justify_one()

    def _add_one(self, i: int) -> None:
        actor, year = self.actor, self.year
        theme = self.themes[i % 2]
        fiche = services.action_year_add(
            actor=actor,
            convention_year=year,
            name=f"Fiche d'essai {i}",
            theme=theme,
            number=f"{1 + i % 2}.{i}",
            title=f"Action d'essai numéro {i}",
            lead_service="DSD",
        )
        self.first = self.first or fiche
        amount = Decimal(1000 * i)
        services.budget_set(
            actor=actor,
            action_year=fiche,
            kind=BudgetKind.PLANNED,
            state_new=amount,
            cd_new=Decimal("500.00"),
            valorisation=Decimal("100.00"),
            other_fundings=[
                (Funder.FSE, "", Decimal("200.00")),
                (Funder.OTHER, "Caf de Seine-et-Marne", Decimal("50.00")),
            ],
        )
        for realised in (amount, amount + Decimal("900.00")):  # a change: some history
            services.budget_set(
                actor=actor,
                action_year=fiche,
                kind=BudgetKind.EXECUTED,
                state_new=amount,
                cd_new=Decimal("400.00"),
                realised=realised,
                carry_over_state=Decimal("100.00"),
                carry_over_cd=Decimal("0.00"),
                comment="Exécution partielle",
                other_fundings=[(Funder.FSE_PLUS, "", Decimal("150.00"))],
            )
        fiche = ActionYear.objects.get(pk=fiche.pk)
        fiche = services.action_year_update(
            actor=actor,
            action_year=fiche,
            version=fiche.version,
            description="Description de l'action.",
            execution_review="Bilan de l'année.",
        )
        services.action_year_update(
            actor=actor,
            action_year=fiche,
            version=fiche.version,
            outlook="Perspectives.",
            title=f"Action d'essai numéro {i} (intitulé révisé)",
        )
        for j, placed in enumerate((True, False)):
            indicator = indicator_create(
                actor=actor,
                programme=year.convention.programme,
                code=f"essai-requetes-{i}-{j}",
                label=f"Indicateur {j} de la fiche {i}",
                department=year.convention.department,
                action=fiche.action,
            )
            if placed:
                matrix_entry_create(
                    actor=actor,
                    convention_year=year,
                    indicator=indicator,
                    position=i,
                    action_year=fiche,
                    group_label="Groupe d'essai",
                )
            indicator_target_set(actor=actor, indicator=indicator, convention_year=year, raw="10")
            indicator_value_set(actor=actor, indicator=indicator, period=self.period, raw="7")

    def _justify_one(self) -> None:
        """Justify one more open finding, so that justified findings grow with the data too."""
        entries = year_tables([self.year])[self.year.pk].open_entries
        assert entries, "Les données d'essai doivent produire des constats."
        justification_set(
            actor=self.actor, convention_year=self.year, key=entries[0].key, text="Expliqué."
        )

    def url(self, page: str) -> str:
        kind = PAGES[page]
        if kind is None:
            return reverse(page)
        return reverse(page, args=[(self.year if kind == "year" else self.first).pk])


def _measure(client, builder: YearBuilder) -> dict[str, list[str]]:
    """The SQL of each page; the year page and the findings page kept as ``<page>:html``."""
    queries = {}
    for page in PAGES:
        with CaptureQueriesContext(connection) as context:
            response = client.get(builder.url(page))
        assert response.status_code == 200, f"{page} → {response.status_code}"
        queries[page] = [query["sql"] for query in context.captured_queries]
        queries[f"{page}:html"] = html.unescape(response.content.decode())
    return queries


# Marked so that pytest-django runs these before the transactional tests (browser, concurrency),
# which empty the database when they end.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def measures(django_db_setup, django_db_blocker) -> tuple[dict, dict]:
    """The queries of each page with 2 fiches, then with 40: built and measured once, in a
    transaction rolled back at the end (the other tests never see these data)."""
    with django_db_blocker.unblock(), transaction.atomic():
        agent = get_user_model().objects.get(username="agent77")
        client = Client()
        client.force_login(agent)
        builder = YearBuilder(agent)
        builder.add(FIRST_BATCH)
        small = _measure(client, builder)
        builder.add(SECOND_BATCH)
        total = ActionYear.objects.filter(convention_year=builder.year).count()
        assert total == FIRST_BATCH + SECOND_BATCH
        large = _measure(client, builder)
        transaction.set_rollback(True)
    return small, large


@pytest.mark.parametrize("page", list(PAGES))
def test_page_queries_do_not_grow_with_the_number_of_fiches(measures, page):
    small, large = measures
    counts = "\n".join(
        f"  {name:<30} {len(small[name]):>3} requêtes avec {FIRST_BATCH} fiches, "
        f"{len(large[name]):>3} avec {FIRST_BATCH + SECOND_BATCH}"
        for name in PAGES
    )
    added = "\n    ".join(sql for sql in large[page] if sql not in small[page])
    assert len(small[page]) == len(large[page]), (
        f"{page} : le nombre de requêtes croît avec les données.\n{counts}\n"
        f"Requêtes en plus :\n    {added}"
    )


def test_the_measured_pages_show_the_added_data(measures):
    """The second measure is of pages that do show 40 fiches and their findings."""
    small, large = measures
    year_page = large["actions:year:html"]
    assert "Action d'essai numéro 40 (intitulé révisé)" in year_page
    assert "Action d'essai numéro 40" not in small["actions:year:html"]
    # One justification per batch: the findings page shows both (text and its edit field).
    justified = large["reports:findings:html"].count("Expliqué.")
    assert justified == 2 * small["reports:findings:html"].count("Expliqué.") > 0
    assert "Indicateur 1 de la fiche 1" in large["indicators:action_indicators:html"]
