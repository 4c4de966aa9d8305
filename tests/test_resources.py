"""Import and export of spreadsheets: the resources, the admin pages and the command line.

Every resource exports the demo data and imports it back without changing anything; a change
typed the French way is written with its history; any error names its line and column and
writes nothing, earlier valid rows included; a Département administrator reads and writes only
their Département's rows.
"""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from actions.choices import BudgetKind
from actions.models import Action, ActionYear, Budget, OtherFunding
from conventions.choices import Role
from conventions.models import ConventionYear, Department, Membership, Theme
from conventions.resources import (
    CSV,
    XLSX,
    AmountWidget,
    DateWidget,
    all_resource_classes,
    result_messages,
)
from indicators.choices import ValueStatus
from indicators.models import IndicatorValue

pytestmark = pytest.mark.django_db

RESOURCES = all_resource_classes()
PROJECT_APPS = ("conventions", "actions", "indicators")
NBSP = "\u00a0"

# Budget columns (the French names of the fields).
COLUMN_A = "A — crédits État de l'année"
NATURAL_KEYS = {
    "conventions.Region": ["code INSEE"],
    "conventions.Department": ["code INSEE"],
    "conventions.Programme": ["code"],
    "conventions.ChorusCode": ["code Chorus"],
    "conventions.Theme": ["programme", "code"],
    "conventions.Convention": ["département", "début"],
    "conventions.Amendment": ["département", "début de la convention", "année concernée"],
    "conventions.ConventionYear": ["département", "année"],
    "conventions.ThemeYear": ["département", "année", "thème"],
    "conventions.StateEnvelope": ["département", "année", "nature", "thèmes"],
    "actions.Action": ["département", "programme", "identifiant"],
    "actions.ActionYear": ["département", "année", "fiche action n°"],
    "actions.Budget": ["département", "année", "fiche action n°", "nature"],
    "actions.OtherFunding": ["département", "année", "fiche action n°", "budget", "financeur"],
    "indicators.Indicator": ["programme", "département", "identifiant"],
    "indicators.Period": ["département", "intitulé de colonne"],
    "indicators.IndicatorValue": ["département", "indicateur", "période"],
    "indicators.IndicatorTarget": ["département", "année", "indicateur"],
    "indicators.MatrixEntry": ["département", "année", "indicateur"],
}


def history_count() -> int:
    """Rows of every history table of the project."""
    return sum(
        model.objects.count()
        for app_label in PROJECT_APPS
        for model in apps.get_app_config(app_label).get_models()
        if model.__name__.startswith("Historical")
    )


def export(resource_class, file_format, *, user=None, queryset=None):
    """The file a user downloads: native cells in XLSX, French text in CSV."""
    dataset = resource_class(user=user).export(
        queryset=queryset, force_native_type=file_format.native_cells
    )
    return file_format().export_data(dataset)


def read(file_format, content):
    return file_format().create_dataset(content)


def run_import(resource_class, dataset, *, user=None, dry_run=False, file_name="essai.csv"):
    return resource_class(user=user).import_data(
        dataset, dry_run=dry_run, file_name=file_name, user=user
    )


def budgets_of(code: str, year: int):
    return Budget.objects.filter(
        action_year__convention_year__convention__department__code=code,
        action_year__convention_year__year=year,
    ).order_by("action_year__number", "kind")


def csv_dataset(rows: list[dict]):
    """A CSV file made of ``rows`` (column → text), as a user would save it."""
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=list(rows[0]), delimiter=";")
    writer.writeheader()
    writer.writerows(rows)
    return read(CSV, stream.getvalue().encode("utf-8"))


def rows_of(resource_class, queryset) -> list[dict]:
    dataset = read(CSV, export(resource_class, CSV, queryset=queryset))
    return [dict(zip(dataset.headers, row, strict=True)) for row in dataset]


@pytest.fixture
def superuser():
    return get_user_model().objects.get(username="admin")


@pytest.fixture
def department_admin():
    """An administrator of Seine-et-Marne with access to the admin for the budgets and thèmes."""
    user = get_user_model().objects.create_user(
        "gestion77", password="mot-de-passe-de-test-77", is_staff=True
    )
    Membership.objects.create(
        user=user, department=Department.objects.get(code="77"), role=Role.ADMIN
    )
    for model in (Budget, Theme):
        user.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label=model._meta.app_label,
                codename__in=[
                    f"{action}_{model._meta.model_name}" for action in ("add", "change", "view")
                ],
            )
        )
    return get_user_model().objects.get(pk=user.pk)


# --- Every model, both formats: export then import changes nothing ----------------------------


def test_every_model_has_a_resource_used_by_its_admin():
    models = {
        model._meta.label
        for app_label in PROJECT_APPS
        for model in apps.get_app_config(app_label).get_models()
        if not model.__name__.startswith("Historical")
    }
    # Memberships name users: they are managed in the admin, not imported. Pending imports are
    # uploaded files waiting an hour at most for their confirmation: neither exported nor imported.
    assert set(RESOURCES) == models - {
        "conventions.Membership",
        "conventions.RegionalReviewer",
        "actions.PendingImport",
    }
    for label, resource_class in RESOURCES.items():
        model_admin = admin.site._registry[apps.get_model(label)]
        assert list(model_admin.resource_classes) == [resource_class]
        options = resource_class._meta
        # Saved one by one through full_clean(), so that history records each row; a row
        # identical to the database is skipped; never the database id as key.
        assert (options.use_bulk, options.clean_model_instances, options.skip_unchanged) == (
            False,
            True,
            True,
        )
        assert "id" not in resource_class().fields


@pytest.mark.parametrize("file_format", [CSV, XLSX], ids=["csv", "xlsx"])
@pytest.mark.parametrize("label", list(RESOURCES))
def test_reimporting_an_export_changes_nothing(label, file_format, superuser):
    resource_class = RESOURCES[label]
    model = resource_class._meta.model
    count, history = model.objects.count(), history_count()
    assert count, f"pas de données de démonstration pour {label}"

    dataset = read(file_format, export(resource_class, file_format))
    result = run_import(resource_class, dataset, user=superuser)

    assert result_messages(result) == []
    assert len(dataset) == count
    assert result.totals["skip"] == count
    assert result.totals["new"] == result.totals["update"] == 0
    assert model.objects.count() == count
    assert history_count() == history


@pytest.mark.parametrize("file_format", [CSV, XLSX], ids=["csv", "xlsx"])
@pytest.mark.parametrize("label", list(RESOURCES))
def test_export_has_the_natural_key_columns(label, file_format):
    content = export(RESOURCES[label], file_format)
    if file_format is XLSX:
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        headers = [cell.value for cell in sheet[1]]
    else:
        assert content.startswith("\ufeff".encode())  # a spreadsheet reads it as UTF-8
        headers = next(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert "id" not in headers
    assert set(NATURAL_KEYS[label]) <= set(headers), headers


# --- Changes, errors, one transaction ---------------------------------------------------------


def test_amount_typed_the_french_way_is_imported_with_its_history(superuser):
    budget = budgets_of("77", 2022).filter(kind=BudgetKind.PLANNED).first()
    version = budget.action_year.version
    rows = rows_of(RESOURCES["actions.Budget"], budgets_of("77", 2022))
    changed = next(
        row
        for row in rows
        if row["fiche action n°"] == budget.action_year.number and row["nature"] == "Prévisionnel"
    )
    changed[COLUMN_A] = f"1{NBSP}234,56{NBSP}€"
    history = history_count()

    result = run_import(
        RESOURCES["actions.Budget"], csv_dataset(rows), user=superuser, file_name="budgets.csv"
    )

    assert result_messages(result) == []
    assert (result.totals["update"], result.totals["skip"]) == (1, len(rows) - 1)
    budget.refresh_from_db()
    assert budget.state_new == Decimal("1234.56")
    record = budget.history.latest()
    assert record.state_new == Decimal("1234.56")
    assert record.history_user == superuser
    assert record.history_change_reason == "Import du fichier « budgets.csv »"
    assert history_count() == history + 1
    # The fiche has a new version: a form opened before the import is refused.
    assert ActionYear.objects.get(pk=budget.action_year_id).version == version + 1


def test_a_dry_run_reports_the_changes_and_writes_nothing(superuser):
    rows = rows_of(RESOURCES["actions.Budget"], budgets_of("77", 2022))
    rows[0][COLUMN_A] = "99,99"
    before, history = list(budgets_of("77", 2022).values()), history_count()

    result = run_import(
        RESOURCES["actions.Budget"], csv_dataset(rows), user=superuser, dry_run=True
    )

    assert result_messages(result) == []
    assert result.totals["update"] == 1
    assert list(budgets_of("77", 2022).values()) == before
    assert history_count() == history


def _bad_amount(rows):
    rows[1][COLUMN_A] = "12,34,5"
    return f"Ligne 3, colonne « {COLUMN_A} » : « 12,34,5 » n'est pas un montant"


def _unknown_department(rows):
    rows[1]["département"] = "99"
    return "Ligne 3, colonne « département » : Département « 99 » inconnu"


def _unknown_theme(rows):
    rows[1]["thème"] = "theme-inconnu"
    return "Ligne 3, colonne « thème » : Thème « theme-inconnu » inconnu"


def _unknown_year(rows):
    rows[1]["année"] = "2031"
    return "Ligne 3, colonne « année » : Le Département Seine-et-Marne (77) n'a pas d'exercice 2031"


ERROR_CASES = {
    "montant": ("actions.Budget", _bad_amount),
    "departement": ("actions.ActionYear", _unknown_department),
    "theme": ("actions.ActionYear", _unknown_theme),
    "annee": ("actions.Budget", _unknown_year),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_an_error_names_line_and_column_and_nothing_is_written(case, superuser):
    label, spoil = ERROR_CASES[case]
    resource_class = RESOURCES[label]
    model = resource_class._meta.model
    if model is Budget:
        queryset = budgets_of("77", 2022)
    else:
        queryset = ActionYear.objects.filter(
            convention_year__convention__department__code="77", convention_year__year=2022
        ).order_by("number")
    rows = rows_of(resource_class, queryset)
    # Line 2 is a valid change, written only if the whole file is.
    if model is Budget:
        rows[0][COLUMN_A] = "4321,00"
    else:
        rows[0]["intitulé"] = "Intitulé changé par l'import"
    expected = spoil(rows)
    before = list(queryset.values())
    count, history = model.objects.count(), history_count()

    result = run_import(resource_class, csv_dataset(rows), user=superuser)

    messages = result_messages(result)
    assert len(messages) == 1, messages
    assert messages[0].startswith(expected), messages
    assert list(queryset.values()) == before
    assert model.objects.count() == count
    assert history_count() == history


def test_rules_of_the_model_are_checked_with_line_and_column(superuser):
    """``ActionYear.clean()``: the thème of a fiche is one of its year's financial table."""
    year = ConventionYear.objects.get(convention__department__code="77", year=2022)
    absent = Theme.objects.filter(programme=year.convention.programme).exclude(
        years__convention_year=year
    )[0]
    queryset = ActionYear.objects.filter(convention_year=year).order_by("number")
    rows = rows_of(RESOURCES["actions.ActionYear"], queryset)
    rows[1]["thème"] = absent.code

    result = run_import(RESOURCES["actions.ActionYear"], csv_dataset(rows), user=superuser)

    assert result_messages(result) == [
        f"Ligne 3, colonne « thème » : Le thème « {absent.short_label} » ne figure pas dans le "
        "tableau financier de l'exercice 2022."
    ]


def test_database_rules_are_checked_before_saving(superuser):
    """A planned budget with a realised amount breaks a check constraint: a row error."""
    rows = rows_of(RESOURCES["actions.Budget"], budgets_of("77", 2022))
    planned = next(row for row in rows if row["nature"] == "Prévisionnel")
    planned["montant total réalisé au 31/12"] = "10"

    result = run_import(RESOURCES["actions.Budget"], csv_dataset(rows), user=superuser)

    messages = result_messages(result)
    line = rows.index(planned) + 2
    assert messages == [
        f"Ligne {line} : Un budget prévisionnel ne comporte ni réalisé ni montant à reporter."
    ]


@pytest.mark.parametrize("file_format", [CSV, XLSX], ids=["csv", "xlsx"])
def test_line_numbers_are_the_spreadsheet_s_even_after_blank_lines(file_format, superuser):
    rows = rows_of(RESOURCES["actions.Budget"], budgets_of("77", 2022)[:2])
    rows[1][COLUMN_A] = "abc"
    headers = list(rows[0])
    blank = dict.fromkeys(headers, "")
    lines = [headers] + [list(row.values()) for row in (rows[0], blank, blank, rows[1], blank)]
    if file_format is XLSX:
        workbook = openpyxl.Workbook()
        for line in lines:
            workbook.active.append(line)
        stream = io.BytesIO()
        workbook.save(stream)
        content = stream.getvalue()
    else:
        stream = io.StringIO()
        csv.writer(stream, delimiter=";").writerows(lines)
        content = stream.getvalue().encode("utf-8")

    result = run_import(RESOURCES["actions.Budget"], read(file_format, content), user=superuser)

    assert result.total_rows == 2
    (message,) = result_messages(result)
    assert message.startswith(f"Ligne 5, colonne « {COLUMN_A} » : « abc »")
    assert [row.number for row in result.invalid_rows] == [5]


def test_header_errors_are_french_and_nothing_is_read():
    dataset = csv_dataset([{"département": "77", "année": "2022", "colonne inconnue": "x"}])
    result = run_import(RESOURCES["actions.Budget"], dataset)
    (message,) = result_messages(result)
    assert message.startswith("En-tête du fichier : colonnes obligatoires absentes : « fiche")
    assert "colonnes inconnues : « colonne inconnue »" in message
    assert result.totals["skip"] == result.totals["update"] == 0


def test_missing_rows_are_created_with_history(superuser):
    """Delete a fiche of the year (its budgets and funders go with it), import it back."""
    action_year = (
        ActionYear.objects.filter(budgets__other_fundings__isnull=False).distinct().first()
    )
    saved = {
        label: rows_of(RESOURCES[label], queryset)
        for label, queryset in (
            ("actions.ActionYear", ActionYear.objects.filter(pk=action_year.pk)),
            ("actions.Budget", Budget.objects.filter(action_year=action_year)),
            (
                "actions.OtherFunding",
                OtherFunding.objects.filter(budget__action_year=action_year),
            ),
        )
    }
    budgets = {b.kind: b.state_new for b in Budget.objects.filter(action_year=action_year)}
    key = (action_year.convention_year_id, action_year.number)
    action_year.delete()

    for label, rows in saved.items():
        result = run_import(RESOURCES[label], csv_dataset(rows), user=superuser)
        assert result_messages(result) == []
        assert result.totals["new"] == len(rows)

    recreated = ActionYear.objects.get(convention_year_id=key[0], number=key[1])
    assert {b.kind: b.state_new for b in recreated.budgets.all()} == budgets
    assert recreated.history.latest().history_type == "+"
    assert recreated.history.latest().history_user == superuser


def test_csv_saved_by_a_french_excel_is_read(superuser):
    """Windows-1252 and ";" (Excel's "CSV (séparateur : point-virgule)"), or UTF-8 and ","."""
    budget = budgets_of("77", 2022).first()
    lines = [
        "département;année;fiche action n°;nature;A — crédits État de l'année",
        f"77;2022;{budget.action_year.number};{budget.get_kind_display()};2 500,00 €",
    ]
    for content in (
        "\r\n".join(lines).encode("cp1252"),
        "\n".join(
            line.replace(";", ",").replace("2 500,00 €", '"2500,00"') for line in lines
        ).encode("utf-8"),
    ):
        result = run_import(RESOURCES["actions.Budget"], read(CSV, content), user=superuser)
        assert result_messages(result) == []
        budget.refresh_from_db()
        assert budget.state_new == Decimal("2500.00")


def test_indicator_value_given_as_printed_text(superuser):
    value = IndicatorValue.objects.filter(status=ValueStatus.NUMBER).first()
    rows = rows_of(
        RESOURCES["indicators.IndicatorValue"], IndicatorValue.objects.filter(pk=value.pk)
    )
    rows[0].update({"valeur saisie": "Non contractualisé", "valeur": "", "statut": ""})

    result = run_import(RESOURCES["indicators.IndicatorValue"], csv_dataset(rows), user=superuser)

    assert result_messages(result) == []
    value.refresh_from_db()
    assert (value.raw, value.number, value.status) == (
        "Non contractualisé",
        None,
        ValueStatus.NOT_CONTRACTED,
    )


def test_amounts_and_dates_as_spreadsheets_give_them():
    amount = AmountWidget()
    assert amount.clean(f"170{NBSP}000 €") == Decimal("170000.00")
    assert amount.clean("1\u202f234,56") == Decimal("1234.56")
    assert amount.clean(1234.56) == Decimal("1234.56")
    assert amount.clean(0.1 + 0.2) == Decimal("0.30")
    assert amount.clean(850) == Decimal("850.00")
    assert amount.clean("") is None
    for bad in ("abc", "-5", "1,234", 12.345):
        with pytest.raises(ValueError):
            amount.clean(bad)
    assert amount.render(Decimal("1234.50")) == "1234,50"
    dates = DateWidget()
    assert str(dates.clean("30/06/2023")) == str(dates.clean("2023-06-30")) == "2023-06-30"
    with pytest.raises(ValueError):
        dates.clean("06/31/2023")


# --- Formula injection ------------------------------------------------------------------------


def test_a_text_starting_with_equals_is_never_a_formula(superuser):
    action_year = ActionYear.objects.filter(
        convention_year__convention__department__code="77"
    ).first()
    title = '=HYPERLINK("http://exemple.invalid","Cliquez")'
    ActionYear.objects.filter(pk=action_year.pk).update(title=title, lead_service="-DSD")
    queryset = ActionYear.objects.filter(pk=action_year.pk)
    resource_class = RESOURCES["actions.ActionYear"]

    workbook = openpyxl.load_workbook(io.BytesIO(export(resource_class, XLSX, queryset=queryset)))
    sheet = workbook.active
    column = [cell.value for cell in sheet[1]].index("intitulé") + 1
    cell = sheet.cell(row=2, column=column)
    assert (cell.value, cell.data_type) == (title, "s")

    csv_content = export(resource_class, CSV, queryset=queryset)
    text = csv_content.decode("utf-8-sig")
    row = next(iter(csv.DictReader(io.StringIO(text), delimiter=";")))
    assert row["intitulé"] == f"'{title}"
    assert row["direction pilote"] == "'-DSD"

    xlsx_content = export(resource_class, XLSX, queryset=queryset)
    for file_format, content in ((XLSX, xlsx_content), (CSV, csv_content)):
        result = run_import(resource_class, read(file_format, content), user=superuser)
        assert result_messages(result) == []
        assert result.totals["skip"] == 1


# --- Départements -----------------------------------------------------------------------------


def test_department_admin_exports_only_their_department(department_admin):
    dataset = RESOURCES["actions.Budget"](user=department_admin).export()
    assert set(dataset["département"]) == {"77"}
    indicators = RESOURCES["indicators.Indicator"](user=department_admin).export()
    assert set(indicators["département"]) == {"", "77"}


def test_department_admin_cannot_import_another_department(department_admin):
    resource_class = RESOURCES["actions.Budget"]
    rows = rows_of(resource_class, budgets_of("77", 2022)[:1]) + rows_of(
        resource_class, budgets_of("03", 2019)[:1]
    )
    history = history_count()

    # Even unchanged, a row of the Allier is refused (a dry run would tell its values otherwise).
    result = run_import(resource_class, csv_dataset(rows), user=department_admin)
    assert result_messages(result) == [
        "Ligne 3 : vous ne pouvez pas importer de données du Département Allier (03) : seuls "
        "ses administrateurs le peuvent."
    ]

    rows[0][COLUMN_A] = "1 000"
    rows[1][COLUMN_A] = "2 000"
    result = run_import(resource_class, csv_dataset(rows), user=department_admin)
    assert len(result_messages(result)) == 1
    assert history_count() == history
    assert not Budget.objects.filter(state_new__in=[1000, 2000]).exists()

    result = run_import(resource_class, csv_dataset(rows[:1]), user=department_admin)
    assert result_messages(result) == []
    budget = Budget.objects.get(state_new=1000)
    assert budget.history.latest().history_user == department_admin


def test_an_agent_cannot_import_even_their_department():
    """Importing rewrites many rows at once: the Département's administrators only."""
    agent = get_user_model().objects.get(username="agent77")
    rows = rows_of(RESOURCES["actions.Budget"], budgets_of("77", 2022)[:1])
    result = run_import(RESOURCES["actions.Budget"], csv_dataset(rows), user=agent)
    (message,) = result_messages(result)
    assert message.startswith("Ligne 2 : vous ne pouvez pas importer de données du Département")


def test_department_admin_cannot_import_the_national_catalogue(department_admin):
    rows = rows_of(RESOURCES["conventions.Theme"], Theme.objects.all()[:1])
    result = run_import(RESOURCES["conventions.Theme"], csv_dataset(rows), user=department_admin)
    (message,) = result_messages(result)
    assert message.startswith("Ligne 2 : seul un administrateur national peut importer")


# --- The admin: export, dry run, confirm ------------------------------------------------------


def admin_url(model, view: str) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}")


def admin_export(client, model, file_format) -> bytes:
    resource_class = RESOURCES[model._meta.label]
    data = {"format": str([XLSX, CSV].index(file_format)), "resource": "0"}
    for name in resource_class().fields:
        data[f"{resource_class.__name__.lower()}_{name}"] = "on"
    response = client.post(admin_url(model, "export"), data)
    assert response.status_code == 200, response.content[:500]
    return response.content


def test_admin_exports_xlsx_with_typed_cells(admin_client):
    content = admin_export(admin_client, Budget, XLSX)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    headers = [cell.value for cell in sheet[1]]
    assert headers[:4] == ["département", "année", "fiche action n°", "nature"]
    amounts = [row[headers.index(COLUMN_A)] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert any(isinstance(amount, int | float) for amount in amounts)
    assert len(amounts) == Budget.objects.count()


def test_admin_export_of_a_department_admin_is_scoped(client, department_admin):
    client.force_login(department_admin)
    content = admin_export(client, Budget, CSV).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(content), delimiter=";"))
    assert {row["département"] for row in rows} == {"77"}
    assert (
        len(rows)
        == Budget.objects.filter(
            action_year__convention_year__convention__department__code="77"
        ).count()
    )
    changelist = client.get(admin_url(Budget, "changelist"))
    assert changelist.context["cl"].result_count == len(rows)


def _upload(rows, name="budgets.csv"):
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=list(rows[0]), delimiter=";")
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, stream.getvalue().encode("utf-8-sig"), "text/csv")


def _admin_dry_run(client, rows):
    return client.post(
        admin_url(Budget, "import"),
        {"resource": "0", "format": "1", "import_file": _upload(rows)},
    )


@pytest.mark.parametrize("who", ["superuser", "department_admin"])
def test_admin_import_previews_then_writes_on_confirmation(who, client, request):
    user = request.getfixturevalue(who)
    client.force_login(user)
    budget = budgets_of("77", 2022).first()
    rows = rows_of(RESOURCES["actions.Budget"], budgets_of("77", 2022))
    rows[0][COLUMN_A] = f"7{NBSP}654,32 €"
    assert (rows[0]["fiche action n°"], rows[0]["nature"]) == (
        budget.action_year.number,
        budget.get_kind_display(),
    )
    history = history_count()

    preview = _admin_dry_run(client, rows)

    assert preview.status_code == 200
    result = preview.context["result"]
    assert not result.has_errors() and not result.has_validation_errors()
    assert (result.totals["update"], result.totals["skip"]) == (1, len(rows) - 1)
    assert "confirm_form" in preview.context
    assert "7654,32" in preview.content.decode()
    budget.refresh_from_db()
    assert budget.state_new != Decimal("7654.32")
    assert history_count() == history

    confirm = preview.context["confirm_form"]
    response = client.post(admin_url(Budget, "process_import"), confirm.initial)

    assert response.status_code == 302
    budget.refresh_from_db()
    assert budget.state_new == Decimal("7654.32")
    record = budget.history.latest()
    assert (record.history_user, record.history_change_reason) == (
        user,
        "Import du fichier « budgets.csv »",
    )
    assert history_count() == history + 1


def test_admin_import_of_another_department_shows_the_error(client, department_admin):
    client.force_login(department_admin)
    rows = rows_of(RESOURCES["actions.Budget"], budgets_of("03", 2019)[:1])

    response = _admin_dry_run(client, rows)

    assert response.status_code == 200
    assert "confirm_form" not in response.context
    content = response.content.decode()
    assert "Ligne 2 : vous ne pouvez pas importer de données du Département Allier (03)" in (
        content.replace("&#x27;", "'")
    )


# --- Command line -----------------------------------------------------------------------------


def test_command_line_import_dry_run_then_error(tmp_path):
    path = tmp_path / "budgets.xlsx"
    path.write_bytes(export(RESOURCES["actions.Budget"], XLSX))
    stdout = io.StringIO()
    call_command("import_resource", "actions.Budget", str(path), "--dry-run", stdout=stdout)
    count = Budget.objects.count()
    assert f"inchangées : {count}, en erreur : 0." in stdout.getvalue()
    assert "rien n'a été enregistré" in stdout.getvalue()

    rows = rows_of(RESOURCES["actions.Budget"], budgets_of("77", 2022))
    rows[0][COLUMN_A] = "1 000"
    rows[2][COLUMN_A] = "mille euros"
    path = tmp_path / "budgets.csv"
    path.write_bytes(_upload(rows).read())
    stderr = io.StringIO()
    with pytest.raises(CommandError, match="Import annulé : 1 erreur"):
        call_command(
            "import_resource", "actions.Budget", str(path), stdout=io.StringIO(), stderr=stderr
        )
    assert f"Ligne 4, colonne « {COLUMN_A} » : « mille euros »" in stderr.getvalue()
    assert not Budget.objects.filter(state_new=1000).exists()


def test_command_line_refuses_a_file_of_another_type_in_french(tmp_path):
    path = tmp_path / "budgets.xlsx"
    path.write_bytes(b"%PDF-1.7\n" + b"x" * 100)
    count = Budget.objects.count()
    with pytest.raises(CommandError, match=r"^budgets\.xlsx : .*PDF"):
        call_command("import_resource", "actions.Budget", str(path), stdout=io.StringIO())
    assert Budget.objects.count() == count


def test_command_line_applies_the_rights_and_records_the_author(tmp_path):
    rows = rows_of(RESOURCES["actions.Action"], Action.objects.filter(department__code="03")[:1])
    rows[0]["nom usuel"] = "Nom changé en ligne de commande"
    path = tmp_path / "fiches.csv"
    path.write_bytes(_upload(rows).read())

    def run(username):
        call_command(
            "import_resource",
            "ActionResource",
            str(path),
            "--utilisateur",
            username,
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )

    # An agent of the Allier enters data, but does not import tables.
    with pytest.raises(CommandError, match="Import annulé"):
        run("agent03")
    run("admin")
    action = Action.objects.get(name="Nom changé en ligne de commande")
    assert action.history.latest().history_user.username == "admin"

    with pytest.raises(CommandError, match="Ressource inconnue"):
        call_command("import_resource", "actions.Inconnu", str(path))


def test_admin_confirmation_writes_nothing_if_the_data_changed_since_the_preview(admin_client):
    rows = rows_of(RESOURCES["actions.Budget"], budgets_of("77", 2022))
    rows[0][COLUMN_A] = "7 654,32"
    preview = _admin_dry_run(admin_client, rows)
    confirm = preview.context["confirm_form"]
    # Meanwhile, the fiche of the last line is deleted.
    last = rows[-1]["fiche action n°"]
    ActionYear.objects.get(
        convention_year__convention__department__code="77",
        convention_year__year=2022,
        number=last,
    ).delete()

    response = admin_client.post(admin_url(Budget, "process_import"), confirm.initial, follow=True)

    assert response.redirect_chain[-1][0] == admin_url(Budget, "import")
    (message,) = [str(m) for m in response.context["messages"]]
    assert message.startswith("Import annulé, rien n'a été enregistré : Ligne ")
    assert f"Pas de fiche n°{last} en 2022" in message
    assert not Budget.objects.filter(state_new=Decimal("7654.32")).exists()


@pytest.mark.parametrize("file_format", [CSV, XLSX], ids=["csv", "xlsx"])
def test_command_line_export_reads_back_unchanged(file_format, superuser):
    """``manage.py export conventions.resources.XLSX actions.resources.BudgetResource``."""
    stdout = io.TextIOWrapper(io.BytesIO())
    call_command(
        "export",
        f"conventions.resources.{file_format.__name__}",
        "actions.resources.BudgetResource",
        stdout=stdout,
    )
    stdout.flush()
    dataset = read(file_format, stdout.buffer.getvalue())
    result = run_import(RESOURCES["actions.Budget"], dataset, user=superuser)
    assert result_messages(result) == []
    assert result.totals["skip"] == Budget.objects.count()
