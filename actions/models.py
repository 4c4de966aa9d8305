"""Fiches-actions, their yearly versions, budgets and narrative.

An action keeps one identity across years (``Action``) while its number, title, thème and block
change every year (``ActionYear``): "ex-fiche 8" of 2022 is 5.4 in 2023 (CALPAE.md §4.3).
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from actions.choices import ActionStatus, BudgetKind, Funder
from calpae.fields import MoneyField
from conventions.choices import Block
from conventions.locking import YearLockMixin
from conventions.models import ConventionYear, Department, Programme, Theme


class ActionQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(department__in=Department.objects.for_user(user))


class Action(models.Model):
    """Fiche-action: the stable identity of an action of a Département across years."""

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="actions", verbose_name="département"
    )
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="actions", verbose_name="programme"
    )
    code = models.SlugField(
        "identifiant", max_length=80, help_text="Identifiant stable, indépendant des numéros."
    )
    name = models.CharField("nom usuel", max_length=200)

    history = HistoricalRecords()
    objects = ActionQuerySet.as_manager()

    class Meta:
        ordering = ["department", "name"]
        verbose_name = "fiche-action"
        verbose_name_plural = "fiches-actions"
        constraints = [
            models.UniqueConstraint(
                fields=["department", "programme", "code"], name="action_unique_code"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ActionYearQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(action__department__in=Department.objects.for_user(user))


class ActionYear(YearLockMixin, models.Model):
    """Fiche-action pour un exercice: numéro, intitulé, thème, bloc et récit de l'année."""

    action = models.ForeignKey(
        Action, on_delete=models.CASCADE, related_name="years", verbose_name="fiche-action"
    )
    convention_year = models.ForeignKey(
        ConventionYear,
        on_delete=models.CASCADE,
        related_name="action_years",
        verbose_name="exercice",
    )
    theme = models.ForeignKey(
        Theme, on_delete=models.PROTECT, related_name="action_years", verbose_name="thème"
    )
    block = models.CharField(
        "bloc",
        max_length=20,
        choices=Block.choices,
        help_text="Classement de la convention ; il peut différer du bloc du thème.",
    )
    number = models.CharField(
        "fiche action n°", max_length=20, help_text="Numéro de l'année, par exemple « 5.4 »."
    )
    sequence_number = models.CharField(
        "numéro de fiche", max_length=20, blank=True, help_text="« FICHE 8 » : 8."
    )
    title = models.CharField("intitulé", max_length=500)
    previous_reference = models.CharField(
        "référence antérieure", max_length=100, blank=True, help_text="Par exemple « ex-fiche 8 »."
    )
    status = models.CharField(
        "statut", max_length=20, choices=ActionStatus.choices, default=ActionStatus.ACTIVE
    )
    lead_service = models.CharField(
        "direction pilote",
        max_length=200,
        blank=True,
        help_text="Par exemple « DSD - Pôle Enfance ».",
    )
    description = models.TextField("description de l'action", blank=True)
    start_date = models.DateField("date de mise en place", null=True, blank=True)
    start_date_text = models.TextField("date de mise en place (texte)", blank=True)
    duration = models.TextField("durée de l'action", blank=True)
    partners = models.TextField("partenaires et co-financeurs", blank=True)
    objectives = models.TextField("objectifs", blank=True)
    fapi_funded = models.BooleanField(
        "action déjà financée au titre du FAPI", null=True, blank=True
    )
    execution_review = models.TextField("bilan d'exécution", blank=True)
    outlook = models.TextField("perspectives", blank=True)
    version = models.PositiveIntegerField(
        "version",
        default=1,
        editable=False,
        help_text="Incrémentée à chaque enregistrement : deux saisies ne s'écrasent pas.",
    )

    history = HistoricalRecords()
    objects = ActionYearQuerySet.as_manager()

    class Meta:
        ordering = ["convention_year", "number"]
        verbose_name = "fiche-action de l'exercice"
        verbose_name_plural = "fiches-actions de l'exercice"
        constraints = [
            models.UniqueConstraint(
                fields=["convention_year", "number"], name="action_year_unique_number"
            ),
            models.UniqueConstraint(
                fields=["convention_year", "action"], name="action_year_unique_action"
            ),
            models.CheckConstraint(condition=~Q(number=""), name="action_year_number_required"),
            models.CheckConstraint(
                condition=Q(block__in=Block.values), name="action_year_block_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ActionStatus.values), name="action_year_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def clean(self):
        super().clean()
        # Missing fields are reported by their own validation; check only what is there.
        if not self.convention_year_id:
            return
        errors = {}
        convention = self.convention_year.convention
        if self.action_id and self.action.department_id != convention.department_id:
            errors["action"] = (
                "La fiche-action appartient à un autre Département que la convention."
            )
        if self.theme_id and self.theme.programme_id != convention.programme_id:
            errors["theme"] = "Le thème n'appartient pas au programme de la convention."
        elif self.theme_id and (themes := self._year_theme_ids()) and self.theme_id not in themes:
            errors["theme"] = (
                f"Le thème « {self.theme.short_label or self.theme.label} » ne figure pas dans "
                f"le tableau financier de l'exercice {self.convention_year.year}."
            )
        if errors:
            raise ValidationError(errors)

    def _year_theme_ids(self) -> set[int]:
        """The thèmes of the year's financial table (from ``prefetch_related("themes")`` on the
        year when a writer did it)."""
        return {theme_year.theme_id for theme_year in self.convention_year.themes.all()}


def _non_negative(field: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": 0}),
        name=f"budget_{field}_non_negative",
        violation_error_message="Les montants ne peuvent pas être négatifs.",
    )


PLANNED_AMOUNT_FIELDS = (
    "state_new",
    "state_carried_over",
    "cd_new",
    "valorisation",
    "cd_carried_over",
    "declared_total",
)
EXECUTION_AMOUNT_FIELDS = (
    "realised",
    "carry_over_state",
    "carry_over_cd",
    "carry_over_unallocated",
)
AMOUNT_FIELDS = PLANNED_AMOUNT_FIELDS + EXECUTION_AMOUNT_FIELDS


class Budget(YearLockMixin, models.Model):
    """Budget d'une fiche-action pour un exercice, prévisionnel ou exécuté.

    Columns of the official tables (CALPAE.md §5): A = ``state_new``, B = ``state_carried_over``,
    C = ``cd_new``, D = ``cd_carried_over``, E = the sum of ``other_fundings``; F = A+B+C+D+E is
    computed, never stored. ``None`` is an empty cell, distinct from a written 0,00 €.
    """

    year_lock_path = "action_year.convention_year_id"

    action_year = models.ForeignKey(
        ActionYear, on_delete=models.CASCADE, related_name="budgets", verbose_name="fiche-action"
    )
    kind = models.CharField("nature", max_length=20, choices=BudgetKind.choices)
    state_new = MoneyField("A — crédits État de l'année", null=True, blank=True)
    state_carried_over = MoneyField("B — crédits État N-1 reportés", null=True, blank=True)
    cd_new = MoneyField("C — crédits CD de l'année", null=True, blank=True)
    valorisation = MoneyField("dont valorisation CD", null=True, blank=True)
    cd_carried_over = MoneyField("D — crédits CD N-1 reportés", null=True, blank=True)
    declared_total = MoneyField(
        "budget global déclaré",
        null=True,
        blank=True,
        help_text="Budget global imprimé ou saisi, comparé à A+B+C+D+E.",
    )
    realised = MoneyField("montant total réalisé au 31/12", null=True, blank=True)
    carry_over_state = MoneyField("montant à reporter en N+1 — part État", null=True, blank=True)
    carry_over_cd = MoneyField("montant à reporter en N+1 — part CD", null=True, blank=True)
    carry_over_unallocated = MoneyField(
        "montant à reporter en N+1 — non ventilé",
        null=True,
        blank=True,
        help_text="Quand le document ne distingue pas la part État de la part CD.",
    )
    comment = models.TextField("commentaire", blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["action_year", "kind"]
        verbose_name = "budget"
        constraints = [
            models.UniqueConstraint(fields=["action_year", "kind"], name="budget_unique_kind"),
            models.CheckConstraint(
                condition=Q(kind__in=BudgetKind.values), name="budget_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind=BudgetKind.EXECUTED)
                | Q(**{f"{field}__isnull": True for field in EXECUTION_AMOUNT_FIELDS}),
                name="budget_planned_has_no_execution",
                violation_error_message=(
                    "Un budget prévisionnel ne comporte ni réalisé ni montant à reporter."
                ),
            ),
            *(_non_negative(field) for field in AMOUNT_FIELDS),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.action_year}"


class OtherFunding(YearLockMixin, models.Model):
    """Participation d'un autre financeur (FSE, FSE+, REACT-EU…) — colonne E."""

    year_lock_path = "budget.action_year.convention_year_id"

    budget = models.ForeignKey(
        Budget, on_delete=models.CASCADE, related_name="other_fundings", verbose_name="budget"
    )
    funder = models.CharField("financeur", max_length=20, choices=Funder.choices)
    funder_name = models.CharField(
        "nom du financeur", max_length=200, blank=True, help_text="Obligatoire pour « Autre »."
    )
    amount = MoneyField("montant")

    history = HistoricalRecords()

    class Meta:
        ordering = ["budget", "funder", "funder_name"]
        verbose_name = "autre financeur"
        verbose_name_plural = "autres financeurs"
        constraints = [
            models.UniqueConstraint(
                fields=["budget", "funder", "funder_name"], name="other_funding_unique_funder"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="other_funding_amount_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(funder__in=Funder.values), name="other_funding_funder_valid"
            ),
            models.CheckConstraint(
                condition=~Q(funder=Funder.OTHER) | ~Q(funder_name=""),
                name="other_funding_other_is_named",
                violation_error_message="Indiquez le nom du financeur.",
            ),
        ]

    def __str__(self) -> str:
        return self.funder_name or self.get_funder_display()


# How long the file of a successful simulation waits for its confirmation (« une heure au plus »
# on the upload page).
PENDING_IMPORT_LIFETIME = datetime.timedelta(hours=1)


class PendingImportQuerySet(models.QuerySet):
    def expired(self, now: datetime.datetime | None = None):
        return self.filter(created_at__lt=(now or timezone.now()) - PENDING_IMPORT_LIFETIME)


class PendingImport(models.Model):
    """Import en attente de confirmation: the file of a successful simulation, kept in the
    database (any web worker can confirm it) between the simulation and the confirmation.

    Deleted by the confirmation (whatever its outcome) or the cancellation; unusable after
    ``PENDING_IMPORT_LIFETIME`` and deleted at the next visit of an import page. One per user
    and year: a new upload replaces it."""

    convention_year = models.ForeignKey(
        ConventionYear,
        on_delete=models.CASCADE,
        related_name="pending_imports",
        verbose_name="exercice",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="pending_imports",
        verbose_name="utilisateur",
    )
    filename = models.CharField("nom du fichier", max_length=255)
    data = models.BinaryField("contenu du fichier")
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    accept_printed_mismatch = models.BooleanField(
        "importer même si des totaux imprimés diffèrent", default=False
    )
    created_at = models.DateTimeField("simulé le", default=timezone.now, db_index=True)

    objects = PendingImportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "import en attente de confirmation"
        verbose_name_plural = "imports en attente de confirmation"
        constraints = [
            models.UniqueConstraint(
                fields=["convention_year", "user"], name="pending_import_one_per_user_and_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.convention_year}, {self.user})"

    @property
    def expires_at(self) -> datetime.datetime:
        return self.created_at + PENDING_IMPORT_LIFETIME

    def is_expired(self, now: datetime.datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.expires_at
