from django.urls import path

from indicators import views

app_name = "indicators"

urlpatterns = [
    path("fiches/<int:pk>/indicateurs/", views.action_indicators, name="action_indicators"),
]
