"""Written justifications of reconciliation findings (§9.1 of CALPAE.md).

A finding of ``reports.tables`` never blocks saving; it blocks the submission of a report
(issue "Prefecture review") until it is resolved or justified in writing — the official documents
show real, explained differences (a parity gap accepted after the first year, a carry-over
re-allocated between actions…).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from conventions.models import ConventionYear


class TableKind(models.TextChoices):
    EXECUTION = "execution", "Tableau d'exécution"
    PLANNED = "planned", "Tableau prévisionnel"


class JustificationQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(convention_year__in=ConventionYear.objects.for_user(user))


class Justification(models.Model):
    """Justification écrite d'un constat de rapprochement, pour un exercice.

    A finding is identified by its table, its rule, the stable identity of its action (empty for a
    total) and its column; the justification stays attached when the numbers move, and the page
    shows it again beside the finding as long as the finding is raised.
    """

    convention_year = models.ForeignKey(
        ConventionYear,
        on_delete=models.CASCADE,
        related_name="justifications",
        verbose_name="exercice",
    )
    table = models.CharField("tableau", max_length=20, choices=TableKind.choices)
    rule = models.CharField("règle", max_length=40)
    action_key = models.CharField("fiche-action (identifiant)", max_length=80, blank=True)
    column = models.CharField("colonne", max_length=40, blank=True)
    subject = models.CharField(
        "précision", max_length=40, blank=True, help_text="Années d'un report, « 2022-2023 »."
    )
    text = models.TextField("justification")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="auteur",
    )
    updated_at = models.DateTimeField("mise à jour", auto_now=True)

    history = HistoricalRecords()
    objects = JustificationQuerySet.as_manager()

    class Meta:
        ordering = ["convention_year", "table", "rule", "action_key", "column"]
        verbose_name = "justification d'un constat"
        verbose_name_plural = "justifications des constats"
        constraints = [
            models.UniqueConstraint(
                fields=["convention_year", "table", "rule", "action_key", "column", "subject"],
                name="justification_unique_finding",
            ),
            models.CheckConstraint(
                condition=Q(table__in=TableKind.values), name="justification_table_valid"
            ),
            models.CheckConstraint(condition=~Q(text=""), name="justification_text_required"),
        ]

    def __str__(self) -> str:
        return f"{self.convention_year} — {self.rule} {self.action_key}".strip()

    @property
    def key(self) -> str:
        """The same key as ``reports.tables.Finding.key``."""
        return ":".join((self.table, self.rule, self.action_key, self.column, self.subject))


class GenerationStatus(models.TextChoices):
    PENDING = "pending", "En attente"
    RUNNING = "running", "En cours"
    READY = "ready", "Prêt"
    FAILED = "failed", "Échec"


class GeneratedDocument(models.Model):
    """A long document generated in the background, kept for its data version.

    ``data_version`` is a hash of the computed document (``reports.documents.data_version``):
    the same data give the same version, so the file is generated once and served again until
    something it shows changes.
    """

    convention_year = models.ForeignKey(
        ConventionYear,
        on_delete=models.CASCADE,
        related_name="generated_documents",
        verbose_name="exercice",
    )
    slug = models.CharField("document", max_length=40)
    fmt = models.CharField("format", max_length=10)
    data_version = models.CharField("version des données", max_length=64)
    status = models.CharField(
        "état", max_length=20, choices=GenerationStatus.choices, default=GenerationStatus.PENDING
    )
    content = models.BinaryField("contenu", null=True, blank=True, editable=False)
    error = models.TextField("erreur", blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="demandé par",
    )
    created_at = models.DateTimeField("demandé le", auto_now_add=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "document généré"
        verbose_name_plural = "documents générés"
        constraints = [
            models.UniqueConstraint(
                fields=["convention_year", "slug", "fmt", "data_version"],
                name="generated_document_unique_version",
            ),
            models.CheckConstraint(
                condition=Q(status__in=GenerationStatus.values),
                name="generated_document_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.slug}.{self.fmt} — {self.convention_year} ({self.get_status_display()})"
