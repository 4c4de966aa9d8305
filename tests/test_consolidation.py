"""The consolidated view of a region or of the nation: the sum of the Départements' tables."""

import datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from conventions.models import ConventionYear
from reports.consolidation import DepartmentInput, Totals, consolidate, table_total, theme_totals
from reports.selectors import execution_table
from reports.tables import Block, FinancialTable, RowKind, TableKind, TableRow

# --- Pure: the region adds up to its Départements -----------------------------------------------

AMOUNT_KEYS = ("A", "B", "C", "D", "E", "F", "realised", "carry_over_state", "carry_over_cd")
cents = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False)


def _row(kind, theme, amounts):
    return TableRow(
        kind=kind,
        block=Block.SOCLE,
        theme_key=theme,
        theme_label=f"Thème {theme}" if theme else "",
        chorus="",
        number="",
        title="",
        amounts=amounts,
    )


@st.composite
def tables(draw):
    """An execution table: fiches in some thèmes, each thème with its sub-total (or not, as
    the initiative block), and the total of everything."""
    rows = []
    grand = dict.fromkeys(AMOUNT_KEYS, Decimal("0.00"))
    for theme in draw(st.lists(st.sampled_from("abcdef"), min_size=1, max_size=4, unique=True)):
        fiches = [
            {key: draw(cents) for key in AMOUNT_KEYS}
            for _ in range(draw(st.integers(min_value=1, max_value=4)))
        ]
        rows += [_row(RowKind.ACTION, theme, amounts) for amounts in fiches]
        subtotal = {key: sum(f[key] for f in fiches) for key in AMOUNT_KEYS}
        if draw(st.booleans()):
            rows.append(_row(RowKind.THEME_SUBTOTAL, theme, subtotal))
        for key in AMOUNT_KEYS:
            grand[key] += subtotal[key]
    rows.append(_row(RowKind.GRAND_TOTAL, None, grand))
    return FinancialTable(
        kind=TableKind.EXECUTION, year=2022, title_lines=(), columns=(), rows=tuple(rows)
    )


@given(st.lists(tables(), min_size=1, max_size=5))
@settings(max_examples=60, deadline=None)
def test_regional_totals_are_the_sum_of_the_departements(department_tables):
    inputs = [
        DepartmentInput(
            code=f"{index:02d}",
            name=f"Département {index}",
            table=table,
            report_state="Transmis",
            transmitted=True,
            due_date=datetime.date(2023, 6, 30),
        )
        for index, table in enumerate(department_tables)
    ]
    result = consolidate(
        year=2022, scope="Région", departments=inputs, today=datetime.date(2023, 1, 1)
    )
    expected = Totals()
    for table in department_tables:
        expected = expected + table_total(table)
    assert result.total == expected
    # Per thème: the sum of the thèmes of every Département, and the thèmes add up to the total.
    by_theme = sum((line.totals for line in result.themes), Totals())
    assert by_theme == expected
    for line in result.themes:
        assert line.totals == sum(
            (
                theme_totals(t)[line.key][1]
                for t in department_tables
                if line.key in theme_totals(t)
            ),
            Totals(),
        )
    assert sum((line.totals for line in result.departments), Totals()) == expected


def test_late_and_missing_reports():
    inputs = [
        DepartmentInput("01", "Ain", None, "Pas d'exercice", False, None),
        DepartmentInput(
            "77", "Seine-et-Marne", None, "Brouillon", False, datetime.date(2023, 6, 30)
        ),
        DepartmentInput("91", "Essonne", None, "Transmis", True, datetime.date(2023, 6, 30)),
    ]
    result = consolidate(
        year=2022, scope="Île-de-France", departments=inputs, today=datetime.date(2023, 7, 1)
    )
    assert [line.code for line in result.late] == ["77"]
    assert [line.code for line in result.missing] == ["01", "77", "91"]
    assert Totals(budget=Decimal("200"), realised=Decimal("150")).rate == Decimal("75.0")


# --- The page ----------------------------------------------------------------------------------


def _login(client, username):
    client.force_login(get_user_model().objects.get(username=username))


@pytest.mark.django_db
def test_the_regional_reviewer_sees_the_region_and_its_totals(client):
    _login(client, "prefecture-idf")
    page = client.get(reverse("consolidated"), {"annee": 2022, "region": "11"})
    assert page.status_code == 200
    result = page.context["result"]
    assert result.scope == "Île-de-France"
    assert "77" in [line.code for line in result.departments]
    assert "03" not in [line.code for line in result.departments]  # Auvergne-Rhône-Alpes
    year = ConventionYear.objects.get(convention__department__code="77", year=2022)
    assert result.total == table_total(execution_table(year))  # 77 is the only one with data
    text = page.content.decode()
    assert "Exécution 2022 — Île-de-France" in text
    assert "TOTAL" in text
    workbook = load_workbook(
        BytesIO(
            client.get(
                reverse("consolidated"), {"annee": 2022, "region": "11", "format": "xlsx"}
            ).content
        )
    )
    sheet = workbook["Par thème"]
    total_row = next(row for row in sheet.iter_rows() if row[0].value == "TOTAL")
    assert Decimal(str(total_row[5].value)) == result.total.realised


@pytest.mark.django_db
def test_an_agent_sees_only_their_departement(client):
    _login(client, "agent03")
    result = client.get(reverse("consolidated"), {"annee": 2022}).context["result"]
    assert [line.code for line in result.departments] == ["03"]
    assert result.scope == "Vos Départements"
    _login(client, "agent03")
    empty = client.get(reverse("consolidated"), {"annee": 2022, "region": "11"}).context["result"]
    assert empty.departments == ()


@pytest.mark.django_db
def test_the_national_administrator_sees_every_departement(client):
    _login(client, "admin")
    result = client.get(reverse("consolidated"), {"annee": 2022}).context["result"]
    assert result.scope == "France entière" and len(result.departments) == 101
    assert len(result.missing) == 100  # only Seine-et-Marne has a 2022 execution table


@pytest.mark.django_db
def test_consolidated_page_query_count_does_not_grow_with_departements(
    client, django_assert_max_num_queries
):
    _login(client, "admin")
    with django_assert_max_num_queries(30):
        client.get(reverse("consolidated"), {"annee": 2022})


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("consolidated"))
    assert response.status_code == 302 and response["Location"].startswith("/connexion/")
