from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("exercices/<int:pk>/constats/", views.findings, name="findings"),
    path("exercices/<int:pk>/constats/justification/", views.justify, name="justify"),
    path("exercices/<int:pk>/relecture/", views.review, name="review"),
    path("exercices/<int:pk>/commentaires/", views.comment_add, name="comment_add"),
    path(
        "exercices/<int:pk>/commentaires/resolution/",
        views.comment_resolve,
        name="comment_resolve",
    ),
    path("exercices/<int:pk>/versions/comparaison/", views.version_compare, name="compare"),
    path(
        "exercices/<int:pk>/versions/<int:number>/<slug:slug>.<str:fmt>",
        views.version_file,
        name="version_file",
    ),
    path(
        "exercices/<int:pk>/documents/<slug:slug>.<str:fmt>",
        views.document,
        name="document",
    ),
]
