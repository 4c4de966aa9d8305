from django.db import models


class BudgetKind(models.TextChoices):
    """Budget prévisionnel (convention ou avenant) ou exécuté (rapport d'exécution)."""

    PLANNED = "planned", "Prévisionnel"
    EXECUTED = "executed", "Exécuté"


class Funder(models.TextChoices):
    """Autres financeurs (colonne E des tableaux financiers)."""

    FSE = "fse", "FSE"
    FSE_PLUS = "fse_plus", "FSE+"
    REACT_EU = "react_eu", "REACT-EU"
    OTHER = "other", "Autre financeur"


class ActionStatus(models.TextChoices):
    ACTIVE = "active", "En cours"
    RETIRED = "retired", "Retirée"
