from django.db import models


class Block(models.TextChoices):
    """Bloc d'engagements: mesures socle ou à l'initiative du Département."""

    SOCLE = "socle", "Mesures socle"
    INITIATIVE = "initiative", "Mesures à l'initiative du Département"


class AmendmentKind(models.TextChoices):
    """Nature d'un avenant."""

    FINANCIAL = "financial", "Financier (montant annuel et tableau financier)"
    EXTENSION = "extension", "Prolongation de durée"
    OTHER = "other", "Autre"


class EnvelopeKind(models.TextChoices):
    """Nature d'une enveloppe de crédits État."""

    NOTIFIED = "notified", "Crédits État notifiés"
    PRE_NOTIFIED = "pre_notified", "Crédits État pré-notifiés"


class PlannedTableTemplate(models.TextChoices):
    """Modèle du tableau financier prévisionnel annexé à la convention ou à l'avenant de l'année."""

    ANNUAL = "planned", "Annexe de convention annuelle (modèle 2022-2023)"
    AMENDMENT_2020 = "amendment_2020", "Annexe 3 d'avenant (modèle national 2020)"


class Role(models.TextChoices):
    """Rôle d'un utilisateur auprès d'un Département."""

    AGENT = "agent", "Agent (saisie)"
    REFERENT = "referent", "Référent (saisie et transmission)"
    REVIEWER = "reviewer", "Relecteur préfecture (lecture)"
    ADMIN = "admin", "Administrateur du Département"
