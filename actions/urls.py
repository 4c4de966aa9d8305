from django.urls import path

from actions import views

app_name = "actions"

urlpatterns = [
    path("exercices/<int:pk>/", views.year_detail, name="year"),
    path("exercices/<int:pk>/fiches/nouvelle/", views.action_create, name="create"),
    path("exercices/<int:pk>/numerotation/", views.renumber, name="renumber"),
    path("exercices/<int:pk>/reconduction/", views.year_carry_forward, name="year_carry_forward"),
    path("exercices/<int:pk>/import/", views.workbook_import, name="import_workbook"),
    path(
        "exercices/<int:pk>/import/confirmation/",
        views.workbook_import_confirm,
        name="import_workbook_confirm",
    ),
    path(
        "exercices/<int:pk>/import/annulation/",
        views.workbook_import_cancel,
        name="import_workbook_cancel",
    ),
    path("fiches/<int:pk>/", views.action_detail, name="detail"),
    path("fiches/<int:pk>/modifier/", views.action_edit, name="edit"),
    path("fiches/<int:pk>/recit/", views.narrative_edit, name="narrative"),
    path(
        "fiches/<int:pk>/budget/previsionnel/",
        views.budget_edit,
        {"kind": "planned"},
        name="budget_planned",
    ),
    path(
        "fiches/<int:pk>/budget/execute/",
        views.budget_edit,
        {"kind": "executed"},
        name="budget_executed",
    ),
    path("fiches/<int:pk>/retrait/", views.action_retire, name="retire"),
    path("fiches/<int:pk>/retablissement/", views.action_reinstate, name="reinstate"),
    path("fiches/<int:pk>/reconduction/", views.action_carry_forward, name="carry_forward"),
]
