"""Written justifications of reconciliation findings (§9.1 of CALPAE.md).

A finding of ``reports.tables`` never blocks saving; it blocks the submission of a report
(issue "Prefecture review") until it is resolved or justified in writing — the official documents
show real, explained differences (a parity gap accepted after the first year, a carry-over
re-allocated between actions…).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from conventions.locking import YearLockMixin
from conventions.models import ConventionYear
from reports.workflow import BY_STEP, LOCKED_STATES, TRANSITIONS, State, Step


class TableKind(models.TextChoices):
    EXECUTION = "execution", "Tableau d'exécution"
    PLANNED = "planned", "Tableau prévisionnel"


class JustificationQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(convention_year__in=ConventionYear.objects.for_user(user))


class Justification(YearLockMixin, models.Model):
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


# --- Review of the year's report by the prefecture (reports.workflow) --------------------------

REVIEW_STATES = [(state.value, state.label) for state in State]
REVIEW_STEPS = [(step.value, BY_STEP[step].label) for step in Step]


class YearReviewQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(convention_year__in=ConventionYear.objects.for_user(user))


class YearReview(models.Model):
    """État du rapport d'exécution d'un exercice : brouillon, transmis, à compléter, validé.

    One row per year, created at the first transition (no row: a draft). A transmitted or
    validated year is locked (``reports.locking``)."""

    convention_year = models.OneToOneField(
        ConventionYear, on_delete=models.CASCADE, related_name="review", verbose_name="exercice"
    )
    state = models.CharField("état", max_length=20, choices=REVIEW_STATES, default=State.DRAFT)
    updated_at = models.DateTimeField("mis à jour le", auto_now=True)

    history = HistoricalRecords()
    objects = YearReviewQuerySet.as_manager()

    class Meta:
        verbose_name = "état du rapport"
        verbose_name_plural = "états des rapports"
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=[state.value for state in State]),
                name="year_review_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.convention_year} — {self.get_state_display()}"

    @property
    def is_locked(self) -> bool:
        return self.state in LOCKED_STATES


class ReviewEvent(models.Model):
    """Une étape de la relecture : qui, quand, de quel état à quel autre, et pourquoi."""

    convention_year = models.ForeignKey(
        ConventionYear,
        on_delete=models.CASCADE,
        related_name="review_events",
        verbose_name="exercice",
    )
    step = models.CharField("étape", max_length=20, choices=REVIEW_STEPS)
    from_state = models.CharField("état de départ", max_length=20, choices=REVIEW_STATES)
    to_state = models.CharField("nouvel état", max_length=20, choices=REVIEW_STATES)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="auteur",
    )
    at = models.DateTimeField("le", auto_now_add=True)
    reason = models.TextField("motif", blank=True)
    deliberation_number = models.CharField(
        "numéro de la délibération",
        max_length=80,
        blank=True,
        help_text="Par exemple « CD-2023/09/28-4/02 A ».",
    )
    deliberation_date = models.DateField("date de la délibération", null=True, blank=True)

    objects = YearReviewQuerySet.as_manager()

    class Meta:
        ordering = ["convention_year", "at", "pk"]
        verbose_name = "étape de relecture"
        verbose_name_plural = "étapes de relecture"
        constraints = [
            models.CheckConstraint(
                condition=Q(step__in=[step.value for step in Step]),
                name="review_event_step_valid",
            ),
            models.CheckConstraint(
                condition=~Q(step__in=[s.step.value for s in TRANSITIONS if s.needs_reason])
                | ~Q(reason=""),
                name="review_event_reason_required",
                violation_error_message="Indiquez le motif.",
            ),
            models.CheckConstraint(
                condition=~Q(step=Step.SUBMIT.value)
                | (~Q(deliberation_number="") & Q(deliberation_date__isnull=False)),
                name="review_event_deliberation_required",
                violation_error_message="Indiquez le numéro et la date de la délibération.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.convention_year} — {self.get_step_display()} ({self.at:%d/%m/%Y})"


class ReportVersionQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(convention_year__in=ConventionYear.objects.for_user(user))


class ReportVersion(models.Model):
    """Version transmise d'un rapport : ses chiffres et ses documents tels que transmis.

    Created with each transmission and never changed afterwards; ``figures`` (JSON, see
    ``reports.snapshot``) and each file carry their SHA-256."""

    convention_year = models.ForeignKey(
        ConventionYear, on_delete=models.CASCADE, related_name="versions", verbose_name="exercice"
    )
    number = models.PositiveSmallIntegerField("version")
    event = models.OneToOneField(
        ReviewEvent, on_delete=models.PROTECT, related_name="version", verbose_name="transmission"
    )
    figures = models.JSONField("chiffres", editable=False)
    figures_sha256 = models.CharField("SHA-256 des chiffres", max_length=64, editable=False)
    created_at = models.DateTimeField("transmise le", auto_now_add=True)

    objects = ReportVersionQuerySet.as_manager()

    class Meta:
        ordering = ["convention_year", "number"]
        verbose_name = "version transmise"
        verbose_name_plural = "versions transmises"
        constraints = [
            models.UniqueConstraint(
                fields=["convention_year", "number"], name="report_version_unique_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.convention_year} — version {self.number}"


class VersionFile(models.Model):
    """Un document d'une version transmise, octet pour octet, avec son SHA-256. The XLSX are
    written at the transmission; the PDF by the background worker (the year is locked
    meanwhile, so it prints the transmitted data)."""

    version = models.ForeignKey(
        ReportVersion, on_delete=models.CASCADE, related_name="files", verbose_name="version"
    )
    slug = models.CharField("document", max_length=40)
    fmt = models.CharField("format", max_length=10)
    status = models.CharField(
        "état", max_length=20, choices=GenerationStatus.choices, default=GenerationStatus.PENDING
    )
    content = models.BinaryField("contenu", null=True, blank=True, editable=False)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True, editable=False)
    size = models.PositiveIntegerField("taille (octets)", null=True, blank=True)
    error = models.TextField("erreur", blank=True)

    class Meta:
        ordering = ["version", "slug", "fmt"]
        verbose_name = "document d'une version"
        verbose_name_plural = "documents des versions"
        constraints = [
            models.UniqueConstraint(
                fields=["version", "slug", "fmt"], name="version_file_unique_document"
            ),
            models.CheckConstraint(
                condition=~Q(status=GenerationStatus.READY)
                | (Q(content__isnull=False) & ~Q(sha256="")),
                name="version_file_ready_has_content",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} — {self.slug}.{self.fmt}"


# --- Comments of the review ---------------------------------------------------------------------


class CommentState(models.TextChoices):
    OPEN = "open", "Ouvert"
    RESOLVED = "resolved", "Résolu"


class CommentQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(convention_year__in=ConventionYear.objects.for_user(user))


class Comment(models.Model):
    """Commentaire de relecture : sur le rapport, une fiche-action ou une ligne d'un tableau.

    Not locked with the year's data: the discussion goes on while the report is transmitted."""

    convention_year = models.ForeignKey(
        ConventionYear, on_delete=models.CASCADE, related_name="comments", verbose_name="exercice"
    )
    action_year = models.ForeignKey(
        "actions.ActionYear",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="comments",
        verbose_name="fiche-action",
    )
    line = models.CharField(
        "ligne du rapport",
        max_length=200,
        blank=True,
        help_text="Par exemple « TOTAUX FINANCIERS, réalisé » ou « indicateur des jeunes suivis ».",
    )
    text = models.TextField("commentaire")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="auteur"
    )
    created_at = models.DateTimeField("écrit le", auto_now_add=True)
    state = models.CharField(
        "état", max_length=20, choices=CommentState.choices, default=CommentState.OPEN
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="résolu par",
    )
    resolved_at = models.DateTimeField("résolu le", null=True, blank=True)

    history = HistoricalRecords()
    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["convention_year", "created_at", "pk"]
        verbose_name = "commentaire de relecture"
        verbose_name_plural = "commentaires de relecture"
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=CommentState.values), name="comment_state_valid"
            ),
            models.CheckConstraint(condition=~Q(text=""), name="comment_text_required"),
            models.CheckConstraint(
                condition=Q(state=CommentState.OPEN, resolved_by__isnull=True)
                | Q(
                    state=CommentState.RESOLVED,
                    resolved_by__isnull=False,
                    resolved_at__isnull=False,
                ),
                name="comment_resolution_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.convention_year} — {self.text[:60]}"

    def clean(self):
        if self.action_year_id and self.action_year.convention_year_id != self.convention_year_id:
            raise ValidationError({"action_year": "La fiche-action est d'un autre exercice."})
