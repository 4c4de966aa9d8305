from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("exercices/<int:pk>/constats/", views.findings, name="findings"),
    path("exercices/<int:pk>/constats/justification/", views.justify, name="justify"),
    path(
        "exercices/<int:pk>/documents/<slug:slug>.<str:fmt>",
        views.document,
        name="document",
    ),
]
