"""The Django admin: every registered model can be listed, added and changed by a superuser."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from actions.choices import BudgetKind
from actions.models import ActionYear, Budget
from conventions.models import Convention, ConventionYear, Department

pytestmark = pytest.mark.django_db

# Every model registered in the admin (the project's and Django's auth): a newly registered
# model is covered without touching this file.
REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)
IDS = [model._meta.label for model in REGISTERED]
PROJECT_APPS = {"conventions", "actions", "indicators", "reports"}
PROJECT_MODELS = [model for model in REGISTERED if model._meta.app_label in PROJECT_APPS]

# A changelist runs a fixed number of queries whatever the number of rows (no N+1).
MAX_CHANGELIST_QUERIES = 15


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_project_model_is_registered():
    concrete = {
        model
        for app_label in PROJECT_APPS
        for model in apps.get_app_config(app_label).get_models()
        if not model._meta.label.split(".")[1].startswith("Historical")
    }
    assert concrete - set(admin.site._registry) == set()


def test_models_with_history_use_the_history_admin():
    for model, model_admin in admin.site._registry.items():
        if hasattr(model, "history") and model._meta.app_label in PROJECT_APPS:
            assert isinstance(model_admin, SimpleHistoryAdmin), model._meta.label


@pytest.mark.parametrize("model", REGISTERED, ids=IDS)
def test_changelist(admin_client, model):
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    assert len(queries) <= MAX_CHANGELIST_QUERIES, [query["sql"] for query in queries]


@pytest.mark.parametrize("model", REGISTERED, ids=IDS)
def test_add_page(admin_client, rf, model):
    """The add page works, or is refused where the admin allows no addition (task results)."""
    request = rf.get("/")
    request.user = get_user_model().objects.filter(is_superuser=True).first()
    can_add = admin.site._registry[model].has_add_permission(request)
    response = admin_client.get(admin_url(model, "add"))
    assert response.status_code == (200 if can_add else 403)


@pytest.mark.parametrize("model", PROJECT_MODELS, ids=[m._meta.label for m in PROJECT_MODELS])
def test_empty_add_form_shows_errors(admin_client, rf, model):
    """An empty form comes back with its errors, never a server error (or a 403 where the admin
    allows no addition: the review of a report changes by its steps only)."""
    request = rf.get("/")
    request.user = get_user_model().objects.filter(is_superuser=True).first()
    if not admin.site._registry[model].has_add_permission(request):
        assert admin_client.post(admin_url(model, "add"), {}).status_code == 403
        return
    page = admin_client.get(admin_url(model, "add"))
    data = {}
    for inline in page.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data[f"{prefix}-TOTAL_FORMS"] = "0"
        data[f"{prefix}-INITIAL_FORMS"] = "0"
    response = admin_client.post(admin_url(model, "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors


@pytest.mark.parametrize("model", REGISTERED, ids=IDS)
def test_change_and_history_pages(admin_client, model):
    obj = model._default_manager.order_by("pk").first()
    if obj is None:
        pytest.skip(f"aucune donnée {model._meta.label} dans la base de test")
    assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200
    if isinstance(admin.site._registry[model], SimpleHistoryAdmin):
        assert admin_client.get(admin_url(model, "history", obj.pk)).status_code == 200


def _autocomplete_fields() -> list[tuple]:
    """(model, field) of every autocomplete widget, in the admins and their inlines."""
    found = set()
    for model, model_admin in admin.site._registry.items():
        owners = [model_admin, *(inline(model, admin.site) for inline in model_admin.inlines)]
        for owner in owners:
            found.update((owner.model, field_name) for field_name in owner.autocomplete_fields)
    return sorted(found, key=lambda item: (item[0]._meta.label, item[1]))


AUTOCOMPLETES = _autocomplete_fields()


@pytest.mark.parametrize(
    ("model", "field_name"),
    AUTOCOMPLETES,
    ids=[f"{model._meta.label}.{field_name}" for model, field_name in AUTOCOMPLETES],
)
def test_autocomplete(admin_client, model, field_name):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": model._meta.app_label,
            "model_name": model._meta.model_name,
            "field_name": field_name,
            "term": "",
        },
    )
    assert response.status_code == 200
    assert "results" in response.json()


def test_department_change_page(admin_client):
    department = Department.objects.get(code="77")
    response = admin_client.get(admin_url(Department, "change", department.pk))
    assert response.status_code == 200
    assert "Seine-et-Marne" in response.content.decode()


def test_department_search(admin_client):
    response = admin_client.get(admin_url(Department, "changelist"), {"q": "Seine"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Seine-et-Marne" in content
    assert "Allier" not in content


def test_convention_year_offers_only_the_avenants_of_its_convention(admin_client):
    convention_year = ConventionYear.objects.filter(convention__amendments__isnull=False).first()
    response = admin_client.get(admin_url(ConventionYear, "change", convention_year.pk))
    queryset = response.context["adminform"].form.fields["amendment"].queryset
    assert queryset.exists()
    assert set(queryset.values_list("convention_id", flat=True)) == {convention_year.convention_id}


def test_convention_year_row_under_invalid_convention_shows_errors(admin_client):
    """ConventionYear.clean() reads the convention's dates: missing dates give errors, no 500."""
    data = {
        "department": Department.objects.get(code="77").pk,
        "title": "Convention sans dates",
        "amendments-TOTAL_FORMS": "0",
        "amendments-INITIAL_FORMS": "0",
        "years-TOTAL_FORMS": "1",
        "years-INITIAL_FORMS": "0",
        "years-0-year": "2024",
    }
    response = admin_client.post(admin_url(Convention, "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors


def _action_year_form_data(action_year: ActionYear) -> dict:
    data = {
        field: getattr(action_year, field)
        for field in (
            "number",
            "sequence_number",
            "title",
            "previous_reference",
            "status",
            "block",
            "lead_service",
            "description",
            "start_date_text",
            "duration",
            "partners",
            "objectives",
            "execution_review",
            "outlook",
        )
    }
    data.update(
        action=action_year.action_id,
        convention_year=action_year.convention_year_id,
        theme=action_year.theme_id,
        start_date=action_year.start_date.isoformat() if action_year.start_date else "",
    )
    if action_year.fapi_funded is not None:
        data["fapi_funded"] = "true" if action_year.fapi_funded else "false"
    return data


def test_action_year_inlines_add_planned_and_executed_budgets(admin_client):
    action_year = ActionYear.objects.filter(budgets__isnull=False).distinct().first()
    action_year.budgets.all().delete()
    url = admin_url(ActionYear, "change", action_year.pk)
    page = admin_client.get(url)
    prefixes = [inline.formset.prefix for inline in page.context["inline_admin_formsets"]]
    planned, executed = prefixes  # two inlines of Budget: "budgets" and "budgets-2"
    data = _action_year_form_data(action_year)
    for prefix in prefixes:
        data[f"{prefix}-TOTAL_FORMS"] = "1"
        data[f"{prefix}-INITIAL_FORMS"] = "0"
    data[f"{planned}-0-state_new"] = "1000.50"
    data[f"{executed}-0-state_new"] = "900"
    data[f"{executed}-0-realised"] = "850"

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["errors"]
    budgets = {budget.kind: budget for budget in Budget.objects.filter(action_year=action_year)}
    assert budgets[BudgetKind.PLANNED].state_new == Decimal("1000.50")
    assert budgets[BudgetKind.PLANNED].realised is None
    assert budgets[BudgetKind.EXECUTED].realised == Decimal("850")
    history = budgets[BudgetKind.PLANNED].history.latest()
    assert history.history_user.username == "admin"


def test_budget_inlines_show_each_nature_once(admin_client):
    action_year = ActionYear.objects.filter(budgets__kind=BudgetKind.EXECUTED).first()
    response = admin_client.get(admin_url(ActionYear, "change", action_year.pk))
    formsets = response.context["inline_admin_formsets"]
    kinds = [{form.instance.kind for form in inline.formset.initial_forms} for inline in formsets]
    assert kinds[0] <= {BudgetKind.PLANNED}
    assert kinds[1] == {BudgetKind.EXECUTED}


def test_years_are_printed_without_thousand_separator(admin_client):
    content = admin_client.get(admin_url(ConventionYear, "changelist")).content.decode()
    assert '<td class="field-year">2022</td>' in content
    assert "2\u00a0022" not in content
