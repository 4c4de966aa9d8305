from django.apps import AppConfig


class CalpaeConfig(AppConfig):
    name = "calpae"
    verbose_name = "CALPAE"
