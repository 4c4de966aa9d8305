"""Demo data, history and database rules."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from actions.choices import BudgetKind
from actions.models import EXECUTION_AMOUNT_FIELDS, Action, ActionYear, Budget
from actions.services import budget_set
from conventions.models import Convention, ConventionYear, Department, Region, Theme
from indicators.choices import Direction, Unit, ValueStatus
from indicators.models import Indicator, IndicatorValue

pytestmark = pytest.mark.django_db


def test_reference_data_has_every_department_and_the_theme_catalogue():
    assert Department.objects.count() == 101
    assert Region.objects.count() == 18
    assert Department.objects.get(code="2A").name == "Corse-du-Sud"
    assert Department.objects.get(code="03").of_name == "de l'Allier"
    mobility = Theme.objects.get(code="mobilite")
    guarantee = Theme.objects.get(code="garantie-activite")
    # One Chorus code carries two thèmes; orientation has none (CALPAE.md §4.1).
    assert mobility.chorus_code == guarantee.chorus_code
    assert mobility.chorus_code.activity_code == "030450191907"
    assert Theme.objects.get(code="orientation-rsa").chorus_code is None


def test_demo_seine_et_marne_years_and_actions():
    years = {
        cy.year: cy
        for cy in ConventionYear.objects.filter(convention__department__code="77").annotate()
    }
    assert sorted(years) == [2019, 2020, 2021, 2022, 2023]
    assert years[2019].state_credit == Decimal("852188.65")
    assert years[2020].state_credit == Decimal("2020165.04")  # set by avenant n°1
    assert years[2021].state_credit == Decimal("2103859.00")
    assert years[2023].state_credit == Decimal("1186729.00")
    assert years[2022].action_years.count() == 16
    assert years[2023].action_years.count() == 14
    assert years[2023].report_due_date.isoformat() == "2024-06-30"


def test_an_action_keeps_its_identity_across_years():
    avip = Action.objects.get(department__code="77", code="creches-avip")
    numbers = {ay.convention_year.year: ay.number for ay in avip.years.all()}
    assert numbers == {2020: "2.4", 2022: "8.1", 2023: "7.5"}
    coup_de_pouce = ActionYear.objects.get(action__code="coup-de-pouce", convention_year__year=2023)
    assert coup_de_pouce.number == "5.4"
    assert coup_de_pouce.previous_reference == "ex-fiche 8"


def test_demo_narrative_and_indicators_are_loaded():
    fiche = ActionYear.objects.get(action__code="coup-de-pouce", convention_year__year=2022)
    assert fiche.execution_review and fiche.description and fiche.outlook
    value = IndicatorValue.objects.get(
        indicator__label="Nombre de premiers contacts établis",
        period__label="Situation au 31 déc. 2018",
    )
    assert value.status == ValueStatus.NOT_CONTRACTED
    assert value.number is None
    assert IndicatorValue.objects.filter(status=ValueStatus.NUMBER).exists()


def test_load_demo_is_idempotent_and_prints_accounts():
    before = Budget.objects.count()
    out = io.StringIO()
    call_command("load_demo", reset_passwords=True, stdout=out)
    assert Budget.objects.count() == before
    assert "Comptes de démonstration" in out.getvalue()
    assert "agent77" in out.getvalue()


def test_services_record_history_with_the_actor(django_user_model):
    user = django_user_model.objects.create_user("auditeur")
    action_year = ActionYear.objects.get(action__code="masp", convention_year__year=2023)
    budget = budget_set(
        actor=user,
        action_year=action_year,
        kind=BudgetKind.PLANNED,
        cd_new=Decimal("415000.01"),
    )
    last = budget.history.first()
    assert last.history_user == user
    assert last.cd_new == Decimal("415000.01")
    assert last.prev_record.cd_new == Decimal("415000.00")


def test_database_refuses_negative_amounts_and_duplicate_numbers():
    budget = Budget.objects.filter(kind=BudgetKind.EXECUTED).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Budget.objects.filter(pk=budget.pk).update(realised=Decimal("-1.00"))
    action_year = ActionYear.objects.filter(convention_year__year=2022).first()
    other = ActionYear.objects.filter(convention_year__year=2022).exclude(pk=action_year.pk)[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        ActionYear.objects.filter(pk=other.pk).update(number=action_year.number)


@pytest.mark.parametrize("field", EXECUTION_AMOUNT_FIELDS)
def test_planned_budget_cannot_hold_execution_figures(field):
    budget = Budget.objects.filter(kind=BudgetKind.PLANNED).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Budget.objects.filter(pk=budget.pk).update(**{field: Decimal("1.00")})


def test_convention_dates_are_ordered():
    convention = Convention.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Convention.objects.filter(pk=convention.pk).update(end_date="2000-01-01")


def test_an_indicator_keeps_its_identity_from_the_2022_report_to_the_2023_matrix():
    delay = Indicator.objects.get(
        department__isnull=True, label="Délai moyen du démarrage de l'accompagnement global"
    )
    assert (delay.unit, delay.direction) == (Unit.DAYS, Direction.LOWER)
    assert delay.theme.code == "garantie-activite"
    printed_2022 = delay.matrix_entries.get(convention_year__year=2022).printed_label
    assert printed_2022.endswith("(reporting chiffres Pôle emploi renseignés par le CD)")
    years = set(delay.matrix_entries.values_list("convention_year__year", flat=True))
    assert years == {2022, 2023}
    values = {value.period.label: value.raw for value in delay.values.select_related("period")}
    # The 2022 report is read first; ANNEXE 8 repeats the series one period earlier
    # (CALPAE.md §9.3) and only adds what the report did not have.
    assert values["Résultat atteint au 1er semestre 2022 (1/01 au 30/05/22)"] == "35 jours"
    assert values["Résultat atteint en 2022 (Total)"] == "19 jours"
    quarter = "Résultat atteint sur le 1er trimestre 2023 (conventions en année glissante)"
    assert values[quarter] == "19 jours"
    target = delay.targets.get(convention_year__year=2023)
    assert (target.raw, target.number) == ("25,1", Decimal("25.1"))


def test_national_indicator_catalogue_is_reference_data():
    national = Indicator.objects.filter(department__isnull=True)
    assert national.count() >= 50
    assert not national.filter(theme__isnull=True).exists()
    teenagers = national.get(label="dont nombre de jeunes de 12 - 15 ans")
    assert teenagers.parent.label.startswith("Nombre de jeunes touchés par la nouvelle action")
    contacts = national.get(label="Nombre de premiers contacts établis")
    assert "données DIHAL" in contacts.definition
    # The Département's own fiche indicators stay local.
    assert Indicator.objects.get(label="MASP: nombre de MASP accordées").department.code == "77"


def test_2020_report_indicators_have_targets_and_the_judgement_of_the_report():
    ppe = Indicator.objects.get(label__startswith="Pourcentage de PPE mis en place")
    entry = ppe.matrix_entries.get()
    assert entry.convention_year.year == 2020
    assert entry.action_year.number == "1.1"
    assert ppe.targets.get(convention_year__year=2020).number == Decimal("60")
    value_2020 = ppe.values.get(period__year=2020, period__kind="year")
    assert value_2020.number == Decimal("47.63")
    assert value_2020.comment.startswith(
        "Degré de réalisation : L'indicateur rejoint l'objectif contractualisé."
    )
    delay = Indicator.objects.get(label="Délai d'entrée dans l'accompagnement global")
    target = delay.targets.get()
    assert (target.raw, target.number, target.status) == ("2 mois", None, ValueStatus.TEXT)
