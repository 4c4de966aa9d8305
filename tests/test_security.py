"""Security (issue 7): every route × every role, CSRF on every form, formula injection in every
export, upload limits, no secret in the repository or in the logs, the audit of refused accesses.

1. **Routes.** Every URL pattern of the project (``get_resolver()``, the admin's included) is
   classified: the data entry (``actions``, ``indicators``, ``reports``) is the matrix of
   ``tests/test_authorization.py``; the top-level pages and the admin are tested here, for every
   role: anonymous, agent, référent, relecteur de la préfecture, relecteur de la préfecture de
   région (``RegionalReviewer``), administrateur du Département, administrateur national, and a
   Département's staff member in the admin. A route added later and classified nowhere fails
   ``test_every_route_is_classified``.
2. **CSRF.** Every route answers a POST without its token with 403, and writes nothing (row
   counts of every table before and after).
3. **Formula injection.** Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
   return is typed into every text field, then every XLSX and CSV export is reopened: no formula
   in any cell, and in CSV every such text is prefixed with an apostrophe.
4. **Uploads.** Every upload (the workbook import page, the admin's import-export imports in
   XLSX and CSV, the admin's kept import files) refuses a zip bomb, an oversize file and a file of
   the wrong type with a French message naming the problem, before a spreadsheet library reads
   it, and writes nothing.
5. **Secrets.** No private key, password in an address, API token, ``.env`` file or Django
   startproject key among the files tracked by git; no password, session id or ``SECRET_KEY`` in
   the logs, all loggers at DEBUG level.
6. **Audit.** A refused action (403) leaves one ``calpae.AccessDenial`` row, even when the
   request's transaction is rolled back; the admin lists them read-only.
"""

import collections
import csv
import datetime
import functools
import html
import io
import itertools
import logging
import re
import subprocess
import tracemalloc
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connections, models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Left
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, path, resolve, reverse
from django.urls.resolvers import RoutePattern
from django.utils import timezone
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from actions.models import ActionYear, Budget, PendingImport
from calpae import urls as project_urls
from calpae.models import AccessDenial
from calpae.permissions import IMPORT_MESSAGE, READ_ONLY_MESSAGE
from conventions.admin import ResourceAdminMixin
from conventions.models import ConventionYear, Department, Membership, Region
from conventions.resources import CSV, FORMATS, FORMULA_START, XLSX, all_resource_classes
from reports.documents import DOCUMENTS
from tests.test_authorization import ALL_URLS as DATA_ENTRY_URLS
from tests.test_authorization import NAMESPACES as DATA_ENTRY_NAMESPACES

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)
User = get_user_model()

ROLES = (
    "anonymous",
    "agent77",
    "referent77",
    "prefecture77",
    "prefecture-idf",  # RegionalReviewer of Île-de-France (77, not 03)
    "admin77",
    "agent03",
    "admin",
)
NON_STAFF = [role for role in ROLES if role != "admin"]
ILE_DE_FRANCE = "11"


def visible_codes(role: str) -> set[str] | None:
    """The Départements a demo user sees (load_demo's memberships); ``None``: all of them."""
    if role == "admin":
        return None
    if role == "anonymous":
        return set()
    if role == "prefecture-idf":
        return set(
            Department.objects.filter(region__code=ILE_DE_FRANCE).values_list("code", flat=True)
        )
    return {"03"} if role == "agent03" else {"77"}


def text(response) -> str:
    """The page as a user reads it: entities decoded, no-break spaces as spaces."""
    return html.unescape(response.content.decode()).replace("\u00a0", " ").replace("\u202f", " ")


def login(client: Client, role: str) -> None:
    if role != "anonymous":
        client.force_login(User.objects.get(username=role))


def table_counts() -> dict[str, int]:
    """Rows of every table (history, audit and axes' included) but the sessions (a login is not
    a write of the data): two equal readings, nothing was written."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy and model._meta.label != "sessions.Session"
    }


def year_77() -> ConventionYear:
    return ConventionYear.objects.get(convention__department__code="77", year=2023)


def fiche_77() -> ActionYear:
    return ActionYear.objects.filter(convention_year=year_77()).order_by("pk").first()


# --- Test-only views (``@pytest.mark.urls(__name__)``) -----------------------------------------

WRITTEN_BEFORE_REFUSAL = "Écrit avant le refus (essai)"
REFUSAL_AFTER_WRITE = "Refus après une écriture (essai)."


def _write_then_refuse(request):
    """A view that writes, then refuses: with ATOMIC_REQUESTS the write is rolled back."""
    ActionYear.objects.filter(pk=int(request.GET["pk"])).update(title=WRITTEN_BEFORE_REFUSAL)
    raise PermissionDenied(REFUSAL_AFTER_WRITE)


def _server_error(request):
    """A crash while handling a posted form (its password included)."""
    request.POST.get("password")
    raise RuntimeError("Erreur volontaire de l'essai")


urlpatterns = [
    path("essai/ecrire-puis-refuser/", _write_then_refuse),
    path("essai/erreur/", _server_error),
    *project_urls.urlpatterns,
]
handler403 = project_urls.handler403


# --- 1. Every route, classified -----------------------------------------------------------------

# Values for the parameters of the routes, by name; others get "1".
SAMPLE_PARAMS = {"slug": "financial-table", "fmt": "xlsx", "url": "inexistant/"}


def _sample(pattern) -> str:
    """A path that this pattern matches."""
    if isinstance(pattern, RoutePattern):
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLE_PARAMS.get(m[1], "1"), pattern._route)
    regex = pattern._regex.removeprefix("^").removesuffix("$")
    # (?P<app_label>auth|conventions|…): the first choice.
    regex = re.sub(r"\(\?P<\w+>([\w|]+)\)", lambda m: m[1].split("|")[0], regex)
    regex = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: SAMPLE_PARAMS.get(m[1], "1"), regex)
    return regex.replace("([^/]+)", "1").replace("\\", "")


@dataclass(frozen=True)
class Route:
    name: str  # "admin:actions_budget_change", "home", or "<sans nom> admin/…"
    route: str  # "admin/actions/budget/<path:object_id>/change/"
    path: str  # a path that resolves to it: "/admin/actions/budget/1/change/"

    @property
    def namespace(self) -> str:
        return self.name.split(":")[0] if ":" in self.name else ""

    def model(self):
        """The model of an admin route ``admin/<app>/<model>/…``, if any."""
        match = re.match(r"admin/(\w+)/(\w+)/", self.route)
        if match is None:
            return None
        try:
            return apps.get_model(match[1], match[2])
        except LookupError:
            return None


def _walk(patterns, route: str = "", sample: str = "", namespace: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(
                pattern.url_patterns,
                route + str(pattern.pattern),
                sample + _sample(pattern.pattern),
                inner,
            )
        elif isinstance(pattern, URLPattern):
            full = route + str(pattern.pattern)
            if pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            else:
                name = f"{namespace + ':' if namespace else ''}<sans nom> {full}"
            yield Route(name, full, "/" + sample + _sample(pattern.pattern))


ROUTES = list(_walk(get_resolver().url_patterns))
ROUTE_IDS = [route.name for route in ROUTES]

# The top-level pages, each with its test below.
TOP_LEVEL = {
    "home": "test_home_lists_only_the_user_s_departements",
    "login": "test_login_and_logout",
    "logout": "test_login_and_logout",
    "health": "test_health_answers_anyone_and_tells_nothing",
    "consolidated": "test_consolidated_view_shows_only_the_user_s_departements",
}
ADMIN_NAMESPACE = "admin"
# Admin pages open to anyone: the login form, the logout, and the catch-all that answers 404.
ADMIN_OPEN = {"admin:login", "admin:logout", "admin:<sans nom> admin/(?P<url>.*)$"}


def _normalized(route: str) -> str:
    return route.replace("/^", "/").removeprefix("^")


def test_every_route_is_classified():
    """A route is in the data-entry matrix, a top-level page tested here, or the admin's."""
    matrix = {url.name for url in DATA_ENTRY_URLS}
    unclassified = []
    for route in ROUTES:
        if route.namespace in DATA_ENTRY_NAMESPACES:
            if route.name not in matrix:
                unclassified.append(f"{route.name} ({route.route}) : absente de la matrice")
        elif route.namespace == ADMIN_NAMESPACE:
            continue
        elif route.name not in TOP_LEVEL:
            unclassified.append(f"{route.name} ({route.route})")
    assert not unclassified, (
        "Route(s) sans test de droits — classez-les dans TOP_LEVEL (avec leur test) ou dans la "
        "matrice de tests/test_authorization.py : " + "; ".join(unclassified)
    )
    names = {route.name for route in ROUTES}
    assert set(TOP_LEVEL) <= names, sorted(set(TOP_LEVEL) - names)
    assert names >= ADMIN_OPEN, sorted(ADMIN_OPEN - names)
    assert len([r for r in ROUTES if r.namespace == ADMIN_NAMESPACE]) > 100


def test_every_sample_path_resolves_to_its_route():
    """The paths the tests below request are those of the routes they stand for."""
    wrong = []
    for route in ROUTES:
        match = resolve(route.path)
        if _normalized(match.route) != _normalized(route.route):
            wrong.append(f"{route.path} → {match.route}, attendu {route.route}")
    assert not wrong, wrong


# -- Top-level pages


@pytest.mark.parametrize("role", ROLES)
def test_home_lists_only_the_user_s_departements(client, role):
    login(client, role)
    response = client.get(reverse("home"))
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/connexion/")
        return
    assert response.status_code == 200
    codes = {
        status.year.convention.department.code for status in response.context["convention_years"]
    }
    expected = visible_codes(role)
    if expected is None:
        assert {"77", "03"} <= codes
    else:
        assert codes and codes <= expected, codes
    before = table_counts()
    assert client.post(reverse("home")).status_code in (200, 405)
    assert table_counts() == before


@pytest.mark.parametrize("role", ROLES)
def test_consolidated_view_shows_only_the_user_s_departements(client, role):
    """Page and XLSX, for the user's own region, another region, and everything they see."""
    login(client, role)
    url = reverse("consolidated")
    if role == "anonymous":
        response = client.get(url, {"annee": 2022})
        assert response.status_code == 302 and response["Location"].startswith("/connexion/")
        return
    expected = visible_codes(role)
    for region in ("", ILE_DE_FRANCE, "84"):  # all; Île-de-France (77); Auvergne-Rhône-Alpes (03)
        query = {"annee": 2022, "region": region}
        page = client.get(url, query)
        assert page.status_code == 200
        codes = {line.code for line in page.context["result"].departments}
        if expected is not None:
            assert codes <= expected, (region, codes)
        workbook = openpyxl.load_workbook(
            io.BytesIO(client.get(url, {**query, "format": "xlsx"}).content)
        )
        listed = {
            re.search(r"\((\w+)\)$", row[0]).group(1)
            for row in workbook["Par Département"].iter_rows(min_row=2, values_only=True)
            if row[0]
        }
        assert listed == codes, (region, listed, codes)
    if expected is not None:
        # A region where the user has no Département: nothing, not even its list.
        outside = Region.objects.exclude(departments__code__in=expected).first()
        page = client.get(url, {"annee": 2022, "region": outside.code})
        assert page.context["result"].departments == ()


def test_health_answers_anyone_and_tells_nothing(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.content.decode()
    for private in ("Seine-et-Marne", "agent77", settings.SECRET_KEY):
        assert private not in body
    before = table_counts()
    assert client.post(reverse("health")).status_code in (200, 405)
    assert table_counts() == before


def test_login_and_logout(client):
    assert client.get(reverse("login")).status_code == 200
    # LogoutView answers POST only (a link or an image cannot log anyone out).
    login(client, "agent77")
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(reverse("home")).status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert client.get(reverse("home")).status_code == 302


# -- The admin


ADMIN_ROUTES = [route for route in ROUTES if route.namespace == ADMIN_NAMESPACE]


@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=[r.name for r in ADMIN_ROUTES])
def test_the_admin_is_refused_to_users_who_are_not_staff(route):
    """Every demo user but the national administrator (the Département's administrator
    included) is sent to the admin's login page, by GET and by POST, and nothing is written."""
    clients = {}
    for role in NON_STAFF:
        clients[role] = Client()
        login(clients[role], role)
    before = table_counts()
    for role, client in clients.items():
        methods = ("GET", "POST") if role in ("anonymous", "admin77") else ("GET",)
        for method in methods:
            response = client.get(route.path) if method == "GET" else client.post(route.path)
            where = f"{method} {route.path} par {role} → {response.status_code}"
            if route.name in ADMIN_OPEN:
                # The login form, the logout, a 404: no data of the admin.
                assert response.status_code in (200, 302, 404, 405), where
                continue
            assert response.status_code == 302, where
            assert response["Location"].startswith(reverse("admin:login")), where
    # A logout through admin:logout is not a write of the data; the tables are unchanged.
    assert table_counts() == before


# Admins that are not scoped by Département: what a Département's staff member must never be
# given a permission on (the national administrator's only). Every other project admin is a
# ResourceAdminMixin, whose lists hold only the rows of the user's Départements.
NATIONAL_ONLY = {
    "conventions.Membership": "qui a quel rôle dans quel Département",
    "conventions.RegionalReviewer": "les relecteurs des préfectures de région",
    "actions.PendingImport": "les fichiers en attente de confirmation, de tous les Départements",
    "reports.Justification": "non filtré par Département",
    "reports.GeneratedDocument": "non filtré par Département",
    "reports.YearReview": "non filtré par Département (lecture seule)",
    "reports.ReviewEvent": "non filtré par Département (lecture seule)",
    "reports.ReportVersion": "non filtré par Département (lecture seule)",
    "reports.VersionFile": "non filtré par Département (lecture seule)",
    "reports.Comment": "non filtré par Département",
    "calpae.AccessDenial": "les refus d'accès de tous les utilisateurs (lecture seule)",
}
PROJECT_APPS = ("calpae", "conventions", "actions", "indicators", "reports")


def test_every_project_admin_is_scoped_or_national_only():
    unclassified = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in PROJECT_APPS
        and not isinstance(model_admin, ResourceAdminMixin)
        and model._meta.label not in NATIONAL_ONLY
    ]
    assert not unclassified, (
        "Administration(s) ni limitée(s) aux Départements de l'utilisateur (ResourceAdminMixin) "
        f"ni réservée(s) à l'administrateur national (NATIONAL_ONLY) : {unclassified}"
    )
    registered = {model._meta.label for model in admin.site._registry}
    assert set(NATIONAL_ONLY) <= registered, sorted(set(NATIONAL_ONLY) - registered)


@pytest.fixture
def department_staff():
    """gestion77: staff, administrator of Seine-et-Marne, every permission on every scoped model
    of the project (what a national administrator may hand to a Département)."""
    user = User.objects.create_user("gestion77", is_staff=True)
    Membership.objects.create(user=user, department=Department.objects.get(code="77"), role="admin")
    scoped = [
        model
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, ResourceAdminMixin)
    ]
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=PROJECT_APPS,
            content_type__model__in=[model._meta.model_name for model in scoped],
        )
    )
    return User.objects.get(pk=user.pk)


def _department_path(model) -> str | None:
    resource_class = all_resource_classes()[model._meta.label]
    if model is Department:
        return ""
    return resource_class.department_path


def _scoped_admins():
    for model, model_admin in sorted(
        admin.site._registry.items(), key=lambda item: item[0]._meta.label
    ):
        if isinstance(model_admin, ResourceAdminMixin) and _department_path(model) is not None:
            yield model


@pytest.mark.parametrize("model", list(_scoped_admins()), ids=lambda m: m._meta.label)
def test_a_departement_s_staff_sees_and_changes_only_its_rows_in_the_admin(
    client, department_staff, model
):
    """Changelist, change page (GET and POST), history and deletion of a row of the Allier:
    never shown, never written; the export holds only Seine-et-Marne's rows."""
    client.force_login(department_staff)
    prefix = _department_path(model)
    field = f"{prefix}__code" if prefix else "code"
    app, name = model._meta.app_label, model._meta.model_name
    changelist = client.get(reverse(f"admin:{app}_{name}_changelist"))
    assert changelist.status_code == 200
    # Seine-et-Marne's rows, and the national ones (indicators of the national catalogue).
    own = Q(**{field: "77"}) | Q(**{f"{field}__isnull": True})
    shown = changelist.context["cl"].queryset
    assert not shown.exclude(own).exists(), model._meta.label
    assert changelist.context["cl"].result_count == model._default_manager.filter(own).count()

    other = model._default_manager.filter(**{field: "03"}).order_by("pk").first()
    if other is not None:
        before = table_counts()
        urls = [
            reverse(f"admin:{app}_{name}_{view}", args=[other.pk])
            for view in ("change", "history", "delete")
        ]
        record = other.history.order_by("pk").first() if hasattr(other, "history") else None
        if record is not None:  # a version of the row, and its « revert » form
            urls.append(f"/admin/{app}/{name}/{other.pk}/history/{record.history_id}/")
        for url in urls:
            response = client.get(url)
            # The admin answers "does not exist" (a redirect to its index), as for a typo.
            assert response.status_code in (302, 404), f"GET {url} → {response.status_code}"
            if response.status_code == 302:
                assert response["Location"] == reverse("admin:index"), url
            response = client.post(url, {"post": "yes"})
            assert response.status_code in (302, 404), f"POST {url} → {response.status_code}"
        assert table_counts() == before
        assert model._default_manager.filter(pk=other.pk).exists()

    resource_class = all_resource_classes()[model._meta.label]
    data = {"format": str(FORMATS.index(CSV)), "resource": "0"}
    for field_name in resource_class().fields:
        data[f"{resource_class.__name__.lower()}_{field_name}"] = "on"
    export = client.post(reverse(f"admin:{app}_{name}_export"), data)
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))
    column = "code INSEE" if model is Department else "département"
    assert {row[column] for row in rows} <= {"77", ""}, model._meta.label


def test_a_departement_s_staff_is_refused_the_national_admin_pages(client, department_staff):
    client.force_login(department_staff)
    assert client.get(reverse("admin:index")).status_code == 200
    for label in NATIONAL_ONLY:
        model = apps.get_model(label)
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 403, label
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_the_national_admin_pages_stay_closed_even_with_their_permissions(client, department_staff):
    """A national administrator who hands a Département's staff member the permissions of a
    record not filtered by Département (calpae.admin.NationalOnlyAdminMixin) opens nothing:
    the list would show every Département's rows."""
    department_staff.user_permissions.add(
        *Permission.objects.filter(content_type__app_label__in=PROJECT_APPS)
    )
    client.force_login(department_staff)
    index = client.get(reverse("admin:index")).content.decode()
    for label in NATIONAL_ONLY:
        model = apps.get_model(label)
        app, name = model._meta.app_label, model._meta.model_name
        for view in ("changelist", "add"):
            response = client.get(reverse(f"admin:{app}_{name}_{view}"))
            assert response.status_code == 403, (label, view)
        assert reverse(f"admin:{app}_{name}_changelist") not in index, label


# --- 2. CSRF on every form -------------------------------------------------------------------


def _csrf_cases():
    """(route, user who may post there) for every route of the project."""
    for route in ROUTES:
        if route.namespace == ADMIN_NAMESPACE:
            yield pytest.param(route, "admin", id=route.name)
        elif route.name == "login":
            yield pytest.param(route, "anonymous", id=route.name)
        else:
            yield pytest.param(route, "admin77", id=route.name)


def _real_path(route: Route) -> str:
    """The route's path with real objects: Seine-et-Marne's 2023 year and its first fiche, the
    first row of an admin's model (so that a POST that went through would write)."""
    by_name = {url.name: url for url in DATA_ENTRY_URLS}
    if route.name in by_name:
        url = by_name[route.name]
        obj = year_77() if url.kind == "year" else fiche_77()
        return reverse(route.name, kwargs=url.kwargs(obj.pk))
    model = route.model()
    if model is not None and "object_id" in route.route:
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            return route.path.replace("/1/", f"/{first.pk}/", 1)
    return route.path


@pytest.mark.parametrize(("route", "role"), list(_csrf_cases()))
def test_a_post_without_its_csrf_token_is_refused_and_writes_nothing(route, role):
    client = Client(enforce_csrf_checks=True)
    login(client, role)
    client.get(reverse("login"))  # the CSRF cookie, as a browser holds it
    assert "csrftoken" in client.cookies
    target = _real_path(route)
    before = table_counts()
    response = client.post(
        target,
        {"post": "yes", "username": "admin", "password": "x", "title": "Sans jeton"},
    )
    assert response.status_code == 403, f"POST {target} → {response.status_code}"
    assert table_counts() == before
    # Not a refusal of the user's rights: not in the audit of refused accesses.
    assert not AccessDenial.objects.exists()


def test_with_its_token_the_same_post_goes_through():
    """The control of the test above: the admin's deletion and a fiche's withdrawal, posted with
    their token, do write."""
    client = Client(enforce_csrf_checks=True)
    login(client, "admin")
    budget = Budget.objects.order_by("pk").first()
    url = reverse("admin:actions_budget_delete", args=[budget.pk])
    token = client.get(url).context["csrf_token"]
    assert client.post(url, {"post": "yes", "csrfmiddlewaretoken": token}).status_code == 302
    assert not Budget.objects.filter(pk=budget.pk).exists()


def test_the_login_form_without_its_token_logs_nobody_in():
    user = User.objects.get(username="agent77")
    user.set_password("Mot-de-passe-essai-77!")
    user.save()
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("login"), {"username": "agent77", "password": "Mot-de-passe-essai-77!"}
    )
    assert response.status_code == 403
    assert "sessionid" not in client.cookies
    assert client.get(reverse("home")).status_code == 302


def test_a_form_body_over_django_s_limit_is_refused(client):
    """Non-file fields over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2,5 Mo): 400, nothing written."""
    login(client, "agent77")
    fiche = fiche_77()
    before = table_counts()
    response = client.post(
        reverse("actions:narrative", args=[fiche.pk]),
        {"description": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1), "version": fiche.version},
    )
    assert response.status_code == 400
    assert table_counts() == before


# --- 3. Formula injection in every export ------------------------------------------------------

PAYLOADS = ('=HYPERLINK("http://x","y")', "@SUM(1)", "+1+1", "-2+3", "\t=1+1", "\r=1+1")
SEEDED_APPS = ("conventions", "actions", "indicators")


def _text_fields(model):
    for field in model._meta.concrete_fields:
        if (
            isinstance(field, models.CharField | models.TextField)
            and not field.choices
            and field.name != "code"  # identifiers, not text: Département, thème, indicateur
        ):
            yield field


def seed_formulas() -> int:
    """Prefix every text field of every row of the project's data with a formula-like text (the
    texts keep their identity: unique names stay unique); returns the number of fields."""
    payloads = itertools.cycle(PAYLOADS)
    seeded = 0
    for app_label in SEEDED_APPS:
        for model in apps.get_app_config(app_label).get_models():
            if model._meta.object_name.startswith("Historical"):
                continue
            updates = {}
            for field in _text_fields(model):
                expression = Concat(
                    Value(next(payloads)), F(field.name), output_field=models.TextField()
                )
                if field.max_length:
                    expression = Left(expression, field.max_length)
                updates[field.name] = expression
            if updates:
                model._default_manager.update(**updates)
                seeded += len(updates)
    return seeded


def assert_no_formula(content: bytes, where: str) -> list[str]:
    """No formula in any cell, read by openpyxl and in the XML itself; returns the texts."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = archive.read(name)
                assert b"<f>" not in xml and b"<f " not in xml, f"{where} : formule dans {name}"
    workbook = openpyxl.load_workbook(io.BytesIO(content), data_only=False)
    texts = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{where} : {sheet.title}!{cell.coordinate}"
                assert not isinstance(cell.value, ArrayFormula | DataTableFormula), where
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    return texts


def assert_hostile_text_kept(texts: list[str], where: str) -> None:
    """The seeded texts reached the file (as text): the check above was not vacuous."""
    assert any(value.lstrip("\n").startswith(FORMULA_START) for value in texts), where


def assert_csv_neutralised(content: bytes, where: str) -> None:
    """Every cell that a spreadsheet would read as a formula starts with an apostrophe
    (``conventions.resources.CSV``, README « Import et export »)."""
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))
    cells = [cell for row in rows[1:] for cell in row]
    dangerous = [cell for cell in cells if cell.startswith(FORMULA_START)]
    assert not dangerous, f"{where} : {dangerous[:5]}"
    assert any(cell.startswith("'") and cell[1:].startswith(FORMULA_START) for cell in cells), where


@pytest.fixture
def seeded():
    assert seed_formulas() >= 40


def test_the_official_documents_hold_no_formula(client, seeded):
    """Every XLSX document of every year, downloaded as the national administrator."""
    login(client, "admin")
    checked = 0
    texts = collections.defaultdict(list)
    for year in ConventionYear.objects.select_related("convention__department"):
        for slug, document in DOCUMENTS.items():
            if "xlsx" not in document.formats:
                continue
            response = client.get(
                reverse("reports:document", kwargs={"pk": year.pk, "slug": slug, "fmt": "xlsx"})
            )
            where = f"{slug} {year.convention.department.code} {year.year}"
            assert response.status_code == 200, where
            texts[slug] += assert_no_formula(response.content, where)
            checked += 1
    assert checked >= 10
    for slug, found in texts.items():
        # A year without indicators has no indicator text: the check is over every year.
        assert_hostile_text_kept(found, slug)


def test_the_export_document_command_writes_no_formula(seeded, tmp_path):
    for slug, document in DOCUMENTS.items():
        if "xlsx" not in document.formats:
            continue
        output = tmp_path / f"{slug}.xlsx"
        call_command(
            "export_document",
            "--departement",
            "77",
            "--year",
            "2022",
            "--document",
            slug,
            "--format",
            "xlsx",
            "--output",
            str(output),
            stdout=io.StringIO(),
        )
        assert_hostile_text_kept(assert_no_formula(output.read_bytes(), slug), slug)


def test_the_consolidated_workbook_holds_no_formula(client, seeded):
    login(client, "admin")
    response = client.get(reverse("consolidated"), {"annee": 2022, "format": "xlsx"})
    assert response.status_code == 200
    assert_hostile_text_kept(assert_no_formula(response.content, "consolidation"), "consolidation")


RESOURCE_ADMINS = sorted(
    (
        model
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, ResourceAdminMixin)
    ),
    key=lambda model: model._meta.label,
)


@pytest.mark.parametrize("model", RESOURCE_ADMINS, ids=lambda model: model._meta.label)
def test_the_admin_exports_hold_no_formula(client, seeded, model):
    """XLSX: no formula, the texts whole; CSV: the apostrophe before each formula-like text."""
    login(client, "admin")
    resource_class = all_resource_classes()[model._meta.label]
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_export")
    for file_format in (XLSX, CSV):
        data = {"format": str(FORMATS.index(file_format)), "resource": "0"}
        for name in resource_class().fields:
            data[f"{resource_class.__name__.lower()}_{name}"] = "on"
        response = client.post(url, data)
        where = f"{model._meta.label} {file_format.__name__}"
        assert response.status_code == 200, where
        if file_format is XLSX:
            assert_hostile_text_kept(assert_no_formula(response.content, where), where)
        else:
            assert_csv_neutralised(response.content, where)


@pytest.mark.parametrize("label", sorted(all_resource_classes()))
def test_the_export_command_with_the_project_s_formats_writes_no_formula(seeded, label):
    """``manage.py export conventions.resources.XLSX|CSV <resource>`` (README)."""
    resource_class = all_resource_classes()[label]
    path_of_class = f"{resource_class.__module__}.{resource_class.__name__}"
    for file_format in (XLSX, CSV):
        stdout = io.TextIOWrapper(io.BytesIO())
        call_command(
            "export", f"conventions.resources.{file_format.__name__}", path_of_class, stdout=stdout
        )
        stdout.flush()
        content = stdout.buffer.getvalue()
        where = f"{label} {file_format.__name__}"
        if file_format is XLSX:
            assert_hostile_text_kept(assert_no_formula(content, where), where)
        else:
            assert_csv_neutralised(content, where)


# --- 4. Upload limits --------------------------------------------------------------------------

MEGABYTE = 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Length 8 /Filter /FlateDecode >>\nstream\n"
    b"\x78\x9c\x03\x00\x00\x00\x00\x01\nendstream\nendobj\ntrailer\n<<>>\n%%EOF\n"
)
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00"
    + b"\x00" * 54
    + b"This program cannot be run in DOS mode."
)


@functools.cache
def zip_bomb() -> bytes:
    """A valid workbook whose sheet is 20 Mo of rows in 30 Ko: read by openpyxl, it would take
    many seconds and hundreds of Mo (400 000 rows); refused by its compression ratio before."""
    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    rows = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 400_000
    sheet = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData>" + rows + b"</sheetData></worksheet>"
    )
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for item in source.infolist():
            content = sheet if item.filename == "xl/worksheets/sheet1.xml" else source.read(item)
            archive.writestr(item.filename, content)
    return bomb.getvalue()


@functools.cache
def hostile(kind: str, suffix: str) -> tuple[str, bytes]:
    if kind == "zip_bomb":
        return f"bombe.{suffix}", zip_bomb()
    if kind == "oversize":
        # 11 Mo: a workbook's start, then padding (never read: refused by its size).
        content = b"PK\x03\x04" if suffix == "xlsx" else b"a;b\n"
        return f"gros.{suffix}", content + b"0" * (11 * MEGABYTE)
    if kind == "pdf":
        return f"rapport.{suffix}", PDF
    if kind == "exe":
        return f"programme.{suffix}", EXE
    raise AssertionError(kind)


@dataclass(frozen=True)
class UploadPath:
    """A page that takes a file: how to post it, and how it names each refusal."""

    name: str
    suffix: str
    messages: dict[str, str]  # kind → a part of the French message

    def post(self, client: Client, filename: str, content: bytes):
        upload = SimpleUploadedFile(filename, content, content_type=XLSX_TYPE)
        if self.name == "page":
            return client.post(
                reverse("actions:import_workbook", args=[year_77().pk]),
                {"file": upload, "dry_run": "on"},
            )
        if self.name == "pending-import":
            return client.post(
                reverse("admin:actions_pendingimport_add"),
                {
                    "convention_year": year_77().pk,
                    "user": User.objects.get(username="admin77").pk,
                    "file": upload,
                },
            )
        file_format = XLSX if self.suffix == "xlsx" else CSV
        return client.post(
            reverse("admin:actions_budget_import"),
            {"resource": "0", "format": str(FORMATS.index(file_format)), "import_file": upload},
        )


# What each path says (workbook page and kept files: actions.workbook.files; the admin's
# import-export: conventions.resources.XLSX.check / CSV.check).
UNRECOGNISED = "n'est ni un classeur (.xlsx, .ods, .xls) ni un fichier texte .csv"
UPLOAD_PATHS = [
    UploadPath(
        "page",
        "xlsx",
        {
            "zip_bomb": "archive anormale",
            "oversize": "Le fichier pèse plus de 10 Mo : la limite est de 10 Mo.",
            "pdf": UNRECOGNISED,
            "exe": UNRECOGNISED,
        },
    ),
    UploadPath(
        "pending-import",
        "xlsx",
        {
            "zip_bomb": "archive anormale",
            "oversize": "pèse 11,0 Mo : la limite est de 10,0 Mo",
            "pdf": UNRECOGNISED,
            "exe": UNRECOGNISED,
        },
    ),
    UploadPath(
        "admin-import",
        "xlsx",
        {
            "zip_bomb": "archive anormale",
            "oversize": "pèse 11,0 Mo : la limite est de 10,0 Mo",
            "pdf": "est un document PDF, pas un classeur .xlsx",
            "exe": "est un programme Windows (exécutable), pas un classeur .xlsx",
        },
    ),
    UploadPath(
        "admin-import",
        "csv",
        {
            "zip_bomb": "est un classeur ou une archive ZIP, pas un fichier texte CSV",
            "oversize": "pèse 11,0 Mo : la limite est de 10,0 Mo",
            "pdf": "est un document PDF, pas un fichier texte CSV",
            "exe": "est un programme Windows (exécutable), pas un fichier texte CSV",
        },
    ),
]
UPLOAD_USERS = {"page": "admin77", "pending-import": "admin", "admin-import": "admin"}


@pytest.mark.parametrize("kind", ["zip_bomb", "oversize", "pdf", "exe"])
@pytest.mark.parametrize("upload", UPLOAD_PATHS, ids=lambda u: f"{u.name}-{u.suffix}")
def test_a_hostile_upload_is_refused_in_french_before_it_is_read(client, upload, kind):
    login(client, UPLOAD_USERS[upload.name])
    filename, content = hostile(kind, upload.suffix)
    before = table_counts()
    tracemalloc.start()
    try:
        response = upload.post(client, filename, content)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200, response.status_code
    page = text(response)
    expected = upload.messages[kind]
    assert expected in page, f"« {expected} » absent de la page"
    assert "Traceback" not in page and "encountered while trying to read" not in page
    assert table_counts() == before
    assert not PendingImport.objects.exists()
    # Refused before openpyxl read anything: a few Mo besides the upload itself (twice: the
    # request's body and the uploaded file), where reading the bomb would take hundreds.
    assert peak < 3 * len(content) + 30 * MEGABYTE, f"{peak // MEGABYTE} Mo"


def test_the_project_s_formats_check_a_file_before_reading_it():
    """The same checks when a file does not come through a form (the admin's confirm step reads
    the file kept in its temporary storage, ``manage.py import_resource`` reads a path)."""
    from conventions.resources import FileRefused

    for file_format, kinds in ((XLSX, ("zip_bomb", "pdf", "exe")), (CSV, ("pdf", "exe"))):
        for kind in kinds:
            with pytest.raises(FileRefused):
                file_format().create_dataset(hostile(kind, "xlsx")[1])
    with pytest.raises(FileRefused, match="pèse"):
        XLSX().create_dataset(hostile("oversize", "xlsx")[1])


def test_a_valid_admin_import_still_goes_through(client):
    """The control: the admin's own export, imported back, is previewed with no error."""
    login(client, "admin")
    data = {"format": str(FORMATS.index(XLSX)), "resource": "0"}
    resource_class = all_resource_classes()["actions.Budget"]
    for name in resource_class().fields:
        data[f"{resource_class.__name__.lower()}_{name}"] = "on"
    exported = client.post(reverse("admin:actions_budget_export"), data).content
    response = client.post(
        reverse("admin:actions_budget_import"),
        {
            "resource": "0",
            "format": str(FORMATS.index(XLSX)),
            "import_file": SimpleUploadedFile("budgets.xlsx", exported, content_type=XLSX_TYPE),
        },
    )
    assert response.status_code == 200
    assert "confirm_form" in response.context, response.context["form"].errors


# --- 5. No secret in the repository, nor in the logs -----------------------------------------

# Written in two pieces so that this file does not match its own pattern.
STARTPROJECT_KEY = "django" + "-insecure-"
SECRET_PATTERNS = {
    "clé privée": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    "mot de passe dans une adresse": re.compile(
        r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"`]+:(?P<password>[^@\s/'\"`]+)@", re.IGNORECASE
    ),
    "clé d'accès AWS": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "clé secrète AWS": re.compile(
        r"aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+=]{40}", re.IGNORECASE
    ),
    "jeton GitHub": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"),
    "jeton Slack": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "clé d'API Google": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "clé d'API (sk-…)": re.compile(
        r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{20,}|\bsk-[A-Za-z0-9_-]{32,}"
    ),
    "clé Django de startproject": re.compile(re.escape(STARTPROJECT_KEY)),
    "SECRET_KEY écrite en dur": re.compile(r"SECRET_KEY\s*=\s*['\"][^'\"]{8,}['\"]"),
    "mot de passe écrit en dur": re.compile(
        r"\b[A-Z_]*(?:PASSWORD|PASSWD|TOKEN|API_KEY)\s*=\s*['\"][^'\"\s]{6,}['\"]"
    ),
}
# A password in an address that is only a placeholder of the documentation.
PLACEHOLDER_PASSWORDS = {"password", "pass", "motdepasse", "mot-de-passe", "…", "...", "***"}
SECRET_FILE_NAMES = re.compile(
    r"(?:^|/)(?:\.env(?:\.(?!example$|sample$|template$)[\w.-]+)?|id_[rd]sa|id_ecdsa|id_ed25519"
    r"|\.netrc|\.pgpass|credentials\.json|[^/]+\.(?:pem|key|p12|pfx|kdbx|jks))$"
)
# What the scan may find, and why it is no secret: (path, text of the line, reason).
ALLOWED = [
    (
        "calpae/settings.py",
        # Cut in two, so that this line is not itself a key written in full.
        "SECRET_KEY = " + '"insecure-development-key-only-for-debug"',
        "clé de développement, prise seulement avec DEBUG=1 ; sans DEBUG, SECRET_KEY est "
        "obligatoire (tests/test_deploy.py::test_production_refuses_to_start_without_a_secret_key)",
    ),
]
# The passwords the tests give to the accounts of their throwaway database are no secret.
TEST_PASSWORDS = ("tests/", "mot de passe écrit en dur")


def scan_for_secrets(files: dict[str, str]) -> list[str]:
    """``path:line: kind`` of every secret-looking text of ``files`` (path → content)."""
    found = []
    for relative, content in files.items():
        if SECRET_FILE_NAMES.search(relative):
            found.append(f"{relative} : fichier de secrets suivi par git")
        for number, line in enumerate(content.splitlines(), start=1):
            for kind, pattern in SECRET_PATTERNS.items():
                for match in pattern.finditer(line):
                    password = match.groupdict().get("password")
                    if password is not None and (
                        password.lower() in PLACEHOLDER_PASSWORDS
                        or password.startswith(("$", "{", "<", "%("))
                    ):
                        continue
                    if any(
                        relative == path and allowed in line for path, allowed, _reason in ALLOWED
                    ) or (relative.startswith(TEST_PASSWORDS[0]) and kind == TEST_PASSWORDS[1]):
                        continue
                    found.append(f"{relative}:{number} : {kind}")
    return found


def tracked_files() -> dict[str, str]:
    if not (BASE_DIR / ".git").exists():
        pytest.skip("pas un dépôt git : rien à parcourir")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=BASE_DIR, capture_output=True, check=True
    ).stdout.decode()
    files = {}
    for relative in filter(None, listed.split("\0")):
        file_path = BASE_DIR / relative
        if not file_path.is_file():
            continue  # deleted in the working tree
        content = file_path.read_bytes()
        if b"\0" in content[:8192]:
            continue  # binary
        files[relative] = content.decode("utf-8", errors="replace")
    return files


def test_no_secret_in_the_files_tracked_by_git():
    files = tracked_files()
    assert len(files) > 50
    found = scan_for_secrets(files)
    assert not found, "Secret(s) dans le dépôt :\n" + "\n".join(found)
    for path_, allowed, _reason in ALLOWED:
        assert allowed in files.get(path_, ""), f"Exception sans objet : {path_} {allowed}"


def test_the_secret_scan_finds_what_it_looks_for():
    """The scan is not vacuous: each kind of secret, planted, is found with its file and line."""
    planted = {
        "a.txt": "x\n-----BEGIN RSA " + "PRIVATE KEY-----",
        "b.py": 'DATABASE_URL = "postgres://calpae:' + 'Tr0ub4dor@db/calpae"',
        "c.sh": "export KEY=AKIA" + "ABCDEFGHIJKLMNOP",
        "d.py": "token = 'ghp_" + "a" * 36 + "'",
        "e.py": 'SECRET_KEY = "' + STARTPROJECT_KEY + 'abc123"',
        "f.py": 'EMAIL_HOST_PASSWORD = "' + "s3cr3t-smtp" + '"',
        "config/.env": "",
        "deploy/server.key": "",
    }
    found = scan_for_secrets(planted)
    for where in ("a.txt:2", "b.py:1", "c.sh:1", "d.py:1", "e.py:1", "f.py:1"):
        assert any(line.startswith(where) for line in found), (where, found)
    assert "config/.env : fichier de secrets suivi par git" in found
    assert "deploy/server.key : fichier de secrets suivi par git" in found
    placeholders = {"g.md": "postgres://user:password@127.0.0.1 et postgres://calpae:…@db"}
    assert scan_for_secrets(placeholders) == []


# Attributes every LogRecord has; the others are the "extra" a formatter may print.
STANDARD_RECORD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class CaptureAll(logging.Handler):
    """Everything a log line could carry: the message, the traceback, every extra attribute,
    and the lines the project's own handlers would write (their formatters)."""

    def __init__(self, configured: list[logging.Handler]):
        super().__init__(logging.DEBUG)
        self.configured = configured
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        parts = [record.getMessage(), repr(record.args)]
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            parts.append(record.stack_info)
        parts += [
            f"{key}={value!r}"
            for key, value in vars(record).items()
            if key not in STANDARD_RECORD_ATTRIBUTES
        ]
        for handler in self.configured:
            try:
                if handler.filter(record):
                    parts.append(handler.format(record))
            except Exception as error:  # a formatter's failure is not this test's subject
                parts.append(repr(error))
        self.texts.append("\n".join(parts))


@pytest.fixture
def all_logs():
    """Every logger at DEBUG level, each record captured even where ``propagate`` is off."""
    root = logging.getLogger()
    configured = [
        handler
        for logger in (root, logging.getLogger("django"))
        for handler in logger.handlers
        if not isinstance(handler, CaptureAll)
    ]
    capture = CaptureAll(configured)
    loggers = [root] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    previous_disable = logging.root.manager.disable
    logging.disable(logging.NOTSET)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        if logger is root or not logger.propagate:
            logger.addHandler(capture)
    try:
        yield capture
    finally:
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled
            logger.removeHandler(capture)
        logging.disable(previous_disable)


@pytest.mark.urls(__name__)
def test_no_password_session_id_or_secret_key_in_the_logs(all_logs):
    wrong, right, admin_password, new = (
        "Mauvais-mot-de-passe-9!",
        "Bon-mot-de-passe-agent-77!",
        "Mot-de-passe-national-1!",
        "Nouveau-mot-de-passe-77!",
    )
    agent = User.objects.get(username="agent77")
    agent.set_password(right)
    agent.save()
    national = User.objects.get(username="admin")
    national.set_password(admin_password)
    national.save()
    sessions = []

    # A failed login, then a successful one, through the login page.
    client = Client()
    failed = client.post(reverse("login"), {"username": "agent77", "password": wrong})
    assert failed.status_code == 200 and "sessionid" not in client.cookies
    response = client.post(reverse("login"), {"username": "agent77", "password": right})
    assert response.status_code == 302
    sessions.append(client.cookies["sessionid"].value)
    assert client.get(reverse("home")).status_code == 200
    # Errors: 404, 403 (a fiche of another Département; a form of the read-only reviewer),
    # a refused CSRF token, a server error while handling a posted password.
    assert client.get("/inexistant/").status_code == 404
    allier = ConventionYear.objects.get(convention__department__code="03", year=2019)
    assert client.get(reverse("actions:year", args=[allier.pk])).status_code == 404
    crashing = Client(raise_request_exception=False)
    crashing.force_login(agent)
    sessions.append(crashing.cookies["sessionid"].value)
    assert crashing.post("/essai/erreur/", {"password": right}).status_code == 500
    forged = Client(enforce_csrf_checks=True)
    assert (
        forged.post(reverse("login"), {"username": "agent77", "password": right}).status_code == 403
    )
    reviewer = Client()
    reviewer.force_login(User.objects.get(username="prefecture77"))
    sessions.append(reviewer.cookies["sessionid"].value)
    assert reviewer.post(reverse("actions:edit", args=[fiche_77().pk])).status_code == 403

    # The national administrator logs in and changes agent77's password in the admin.
    staff = Client()
    assert (
        staff.post(reverse("login"), {"username": "admin", "password": admin_password}).status_code
        == 302
    )
    sessions.append(staff.cookies["sessionid"].value)
    response = staff.post(
        reverse("admin:auth_user_password_change", args=[agent.pk]),
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:300]
    agent.refresh_from_db()
    assert agent.check_password(new)
    assert client.post(reverse("logout")).status_code == 302

    logs = "\n".join(all_logs.texts)
    assert len(all_logs.texts) >= 5, "rien n'a été journalisé : la capture ne fonctionne pas"
    assert "/essai/erreur/" in logs and "RuntimeError" in logs
    secrets = {
        "mot de passe erroné": wrong,
        "mot de passe": right,
        "mot de passe de l'administrateur": admin_password,
        "nouveau mot de passe": new,
        "SECRET_KEY": settings.SECRET_KEY,
        **{f"session {index}": value for index, value in enumerate(sessions)},
    }
    leaked = [name for name, value in secrets.items() if value in logs]
    assert not leaked, f"Dans le journal : {leaked}"


# --- 6. Audit of refused accesses --------------------------------------------------------------


def test_a_reviewer_posting_a_form_gets_403_and_one_audit_row(client):
    reviewer = User.objects.get(username="prefecture77")
    client.force_login(reviewer)
    fiche = fiche_77()
    url = reverse("actions:edit", args=[fiche.pk])
    before = ActionYear.objects.filter(pk=fiche.pk).values().get()
    response = client.post(url, {"title": "Modifié par le relecteur"}, REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 403
    page = text(response)
    assert "Accès refusé" in page and READ_ONLY_MESSAGE in page  # the French page, as before
    assert ActionYear.objects.filter(pk=fiche.pk).values().get() == before
    (denial,) = AccessDenial.objects.all()
    assert (denial.user, denial.username, denial.method, denial.path) == (
        reviewer,
        "prefecture77",
        "POST",
        url,
    )
    assert denial.message == READ_ONLY_MESSAGE
    assert denial.ip == "192.0.2.7"
    assert denial.at is not None


def test_an_agent_opening_the_import_is_audited_with_its_message(client):
    client.force_login(User.objects.get(username="agent77"))
    url = reverse("actions:import_workbook", args=[year_77().pk]) + "?essai=1"
    response = client.get(url)
    assert response.status_code == 403
    assert IMPORT_MESSAGE in text(response)
    denial = AccessDenial.objects.get()
    assert (denial.method, denial.path, denial.message) == ("GET", url, IMPORT_MESSAGE)


def test_another_departement_s_page_is_a_404_and_is_not_audited(client):
    """By design (calpae.models.AccessDenial): a 404 tells nothing, and is not recorded."""
    client.force_login(User.objects.get(username="agent03"))
    response = client.post(reverse("actions:edit", args=[fiche_77().pk]), {"title": "x"})
    assert response.status_code == 404
    assert not AccessDenial.objects.exists()


def test_a_refusal_of_the_admin_is_audited(client, django_user_model):
    staff = django_user_model.objects.create_user("personnel", is_staff=True)
    client.force_login(staff)
    url = reverse("admin:actions_budget_changelist")
    assert client.get(url).status_code == 403
    denial = AccessDenial.objects.get()
    assert (denial.username, denial.path) == ("personnel", url)


@pytest.mark.urls(__name__)
def test_the_audit_row_survives_the_rolled_back_request(client):
    """With ATOMIC_REQUESTS, what the view wrote before refusing is rolled back; the refusal's
    row is written after, and stays."""
    client.force_login(User.objects.get(username="prefecture77"))
    fiche = fiche_77()
    database = connections.settings["default"]
    previous = database.get("ATOMIC_REQUESTS", False)
    database["ATOMIC_REQUESTS"] = True
    try:
        response = client.post(f"/essai/ecrire-puis-refuser/?pk={fiche.pk}")
    finally:
        database["ATOMIC_REQUESTS"] = previous
    assert response.status_code == 403
    assert REFUSAL_AFTER_WRITE in text(response)
    assert ActionYear.objects.get(pk=fiche.pk).title != WRITTEN_BEFORE_REFUSAL
    denial = AccessDenial.objects.get()
    assert (denial.username, denial.message) == ("prefecture77", REFUSAL_AFTER_WRITE)


def test_the_admin_lists_refusals_read_only(admin_client):
    reviewer = Client()
    reviewer.force_login(User.objects.get(username="prefecture77"))
    reviewer.post(reverse("actions:edit", args=[fiche_77().pk]))
    denial = AccessDenial.objects.get()
    changelist = admin_client.get(reverse("admin:calpae_accessdenial_changelist"))
    assert changelist.status_code == 200
    assert "prefecture77" in text(changelist)
    assert changelist.context["cl"].result_count == 1
    change_url = reverse("admin:calpae_accessdenial_change", args=[denial.pk])
    change = admin_client.get(change_url)
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    # Adding, changing and deleting are refused (and, being refusals, recorded in turn).
    assert admin_client.get(reverse("admin:calpae_accessdenial_add")).status_code == 403
    assert admin_client.post(change_url, {"message": "effacé"}).status_code == 403
    delete_url = reverse("admin:calpae_accessdenial_delete", args=[denial.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    denial.refresh_from_db()
    assert denial.message == READ_ONLY_MESSAGE
    assert AccessDenial.objects.count() == 4


def test_refused_accesses_older_than_the_retention_are_pruned():
    old = AccessDenial.objects.create(method="GET", path="/ancien/")
    AccessDenial.objects.filter(pk=old.pk).update(at=timezone.now() - datetime.timedelta(days=400))
    recent = AccessDenial.objects.create(method="POST", path="/recent/")
    stdout = io.StringIO()
    call_command("prune_access_denials", stdout=stdout)
    assert list(AccessDenial.objects.all()) == [recent]
    assert "1 refus d'accès de plus de 365 jours supprimé(s)." in stdout.getvalue()
    with pytest.raises(CommandError, match="--days"):
        call_command("prune_access_denials", "--days", "0")
