from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from calpae import views
from reports import views as report_views

admin.site.site_header = "CALPAE — administration"
admin.site.site_title = "CALPAE"
admin.site.index_title = "Conventions, actions, indicateurs"

handler403 = "calpae.errors.permission_denied"  # records the refusal (calpae.models.AccessDenial)

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", auth_views.LoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("sante/", views.health, name="health"),
    # Across Départements (a region, the nation): not under one exercice.
    path("consolidation/", report_views.consolidated, name="consolidated"),
    path("", include("actions.urls")),
    path("", include("indicators.urls")),
    path("", include("reports.urls")),
    path("admin/", admin.site.urls),
]
