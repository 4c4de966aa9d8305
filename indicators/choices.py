from django.db import models


class Unit(models.TextChoices):
    COUNT = "count", "Nombre"
    PERCENT = "percent", "Pourcentage"
    DAYS = "days", "Jours"
    EUROS = "euros", "Euros"
    RATIO = "ratio", "Ratio ou moyenne"


class Direction(models.TextChoices):
    """Sens de lecture: une valeur plus haute ou plus basse est meilleure."""

    HIGHER = "higher", "Plus haut est mieux"
    LOWER = "lower", "Plus bas est mieux"
    NEUTRAL = "neutral", "Sans objectif de sens"


class PeriodKind(models.TextChoices):
    """Nature d'une période de mesure (colonne de la matrice des indicateurs)."""

    BASELINE = "baseline", "Situation de référence"
    YEAR = "year", "Année"
    SEMESTER = "semester", "Semestre"
    QUARTER = "quarter", "Trimestre"
    PARTIAL = "partial", "Valeur à date"


class ValueStatus(models.TextChoices):
    """Statut d'une valeur d'indicateur: un nombre, ou un statut expliqué par un texte."""

    NUMBER = "number", "Valeur chiffrée"
    PROJECTION = "projection", "Projection"
    NOT_CONTRACTED = "not_contracted", "Non contractualisé"
    NOT_AVAILABLE = "not_available", "Données non disponibles"
    IN_PROGRESS = "in_progress", "En cours de construction"
    NOT_EVALUATED = "not_evaluated", "Non évalué"
    NO_INDICATOR = "no_indicator", "Pas d'indicateur prévu"
    TEXT = "text", "Valeur en texte"
