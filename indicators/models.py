"""Indicators: definitions, the yearly matrix, targets and values per period.

Real values are not always numbers: "Non contractualisé", "Données en cours de compilation
(cyberattaque)", "5008 (de janvier à octobre 2022) – projection sur l'année 2022 : 6009"
(CALPAE.md §7). Each value keeps the raw text as printed or entered, and its number if any.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from actions.models import Action
from conventions.locking import YearLockMixin, locked_review
from conventions.models import ConventionYear, Department, Programme, Theme
from indicators.choices import Direction, PeriodKind, Unit, ValueStatus


class IndicatorQuerySet(models.QuerySet):
    def for_user(self, user):
        """National indicators and the indicators of the user's Départements."""
        return self.filter(
            Q(department__isnull=True) | Q(department__in=Department.objects.for_user(user))
        )


class Indicator(models.Model):
    """Indicateur: national (catalogue) when ``department`` is empty, else local to an action."""

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="indicators", verbose_name="programme"
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="indicators",
        verbose_name="département",
        help_text="Vide : indicateur du catalogue national.",
    )
    theme = models.ForeignKey(
        Theme,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="indicators",
        verbose_name="thème",
    )
    action = models.ForeignKey(
        Action,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="indicators",
        verbose_name="fiche-action",
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
        verbose_name="indicateur parent",
        help_text="Pour les sous-indicateurs « dont … ».",
    )
    code = models.SlugField("identifiant", max_length=100)
    label = models.CharField("intitulé", max_length=500)
    definition = models.TextField("définition", blank=True)
    unit = models.CharField("unité", max_length=20, choices=Unit.choices, default=Unit.COUNT)
    direction = models.CharField(
        "sens", max_length=20, choices=Direction.choices, default=Direction.HIGHER
    )

    history = HistoricalRecords()
    objects = IndicatorQuerySet.as_manager()

    class Meta:
        ordering = ["programme", "code"]
        verbose_name = "indicateur"
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "code"],
                condition=Q(department__isnull=True),
                name="indicator_unique_national_code",
            ),
            models.UniqueConstraint(
                fields=["programme", "department", "code"],
                condition=Q(department__isnull=False),
                name="indicator_unique_local_code",
            ),
            models.CheckConstraint(
                condition=Q(action__isnull=True) | Q(department__isnull=False),
                name="indicator_action_is_local",
                violation_error_message="Un indicateur propre à une fiche-action a un Département.",
            ),
            models.CheckConstraint(condition=Q(unit__in=Unit.values), name="indicator_unit_valid"),
            models.CheckConstraint(
                condition=Q(direction__in=Direction.values), name="indicator_direction_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    def clean(self):
        if self.action_id and self.action.department_id != self.department_id:
            raise ValidationError(
                {"action": "La fiche-action appartient à un autre Département que l'indicateur."}
            )


class PeriodQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(department__in=Department.objects.for_user(user))


class Period(models.Model):
    """Période de mesure d'un Département: une colonne de sa matrice des indicateurs.

    Spans are irregular in real matrices: "1er semestre 2022 (1/01 au 30/05/22)", a first quarter
    "en année glissante", a stock "situation au 31 déc.".
    """

    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="periods", verbose_name="département"
    )
    label = models.CharField("intitulé de colonne", max_length=300)
    kind = models.CharField("nature", max_length=20, choices=PeriodKind.choices)
    year = models.PositiveSmallIntegerField("année")
    start_date = models.DateField("début", null=True, blank=True)
    end_date = models.DateField("fin")

    history = HistoricalRecords()
    objects = PeriodQuerySet.as_manager()

    class Meta:
        ordering = ["department", "end_date", "start_date"]
        verbose_name = "période"
        constraints = [
            models.UniqueConstraint(fields=["department", "label"], name="period_unique_label"),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="period_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=PeriodKind.values), name="period_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.label


class MeasuredValue(models.Model):
    """A number, or a status explained by a text, with the raw text as printed or entered."""

    raw = models.CharField("valeur saisie", max_length=500)
    number = models.DecimalField("valeur", max_digits=16, decimal_places=4, null=True, blank=True)
    status = models.CharField(
        "statut", max_length=20, choices=ValueStatus.choices, default=ValueStatus.NUMBER
    )
    comment = models.TextField("commentaire ou source", blank=True)

    class Meta:
        abstract = True

    @classmethod
    def value_constraints(cls, prefix: str) -> list[models.CheckConstraint]:
        return [
            models.CheckConstraint(
                condition=Q(status__in=ValueStatus.values), name=f"{prefix}_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=ValueStatus.NUMBER) | Q(number__isnull=False),
                name=f"{prefix}_number_present",
                violation_error_message="Une valeur chiffrée doit comporter un nombre.",
            ),
            models.CheckConstraint(condition=~Q(raw=""), name=f"{prefix}_raw_required"),
        ]


class IndicatorValueQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(period__department__in=Department.objects.for_user(user))


class IndicatorValue(YearLockMixin, MeasuredValue):
    """Valeur d'un indicateur pour une période d'un Département."""

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="values", verbose_name="indicateur"
    )
    period = models.ForeignKey(
        Period, on_delete=models.CASCADE, related_name="values", verbose_name="période"
    )
    realigned = models.BooleanField(
        "réaligné",
        default=False,
        help_text="Valeur replacée dans sa colonne lors de l'extraction d'un document.",
    )

    history = HistoricalRecords()
    objects = IndicatorValueQuerySet.as_manager()

    class Meta:
        ordering = ["indicator", "period"]
        verbose_name = "valeur d'indicateur"
        verbose_name_plural = "valeurs d'indicateurs"
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "period"], name="indicator_value_unique_period"
            ),
            *MeasuredValue.value_constraints("indicator_value"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} — {self.period} : {self.raw}"

    def locked_review_for(self):
        """A value belongs to the Département's years of its period's year."""
        if not self.period_id:
            return None
        return locked_review(
            convention_year__convention__department_id=self.period.department_id,
            convention_year__year=self.period.year,
        )

    def clean(self):
        super().clean()
        if not (self.indicator_id and self.period_id):
            return
        department_id = self.indicator.department_id
        if department_id and department_id != self.period.department_id:
            raise ValidationError(
                {"period": "La période appartient à un autre Département que l'indicateur."}
            )


class ConventionYearScopedQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(
            convention_year__convention__department__in=Department.objects.for_user(user)
        )


class IndicatorTarget(YearLockMixin, MeasuredValue):
    """Objectif fixé pour un indicateur et un exercice (« Résultat attendu en N »)."""

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="targets", verbose_name="indicateur"
    )
    convention_year = models.ForeignKey(
        ConventionYear,
        on_delete=models.CASCADE,
        related_name="indicator_targets",
        verbose_name="exercice",
    )

    history = HistoricalRecords()
    objects = ConventionYearScopedQuerySet.as_manager()

    class Meta:
        ordering = ["indicator", "convention_year"]
        verbose_name = "objectif d'indicateur"
        verbose_name_plural = "objectifs d'indicateurs"
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "convention_year"], name="indicator_target_unique_year"
            ),
            *MeasuredValue.value_constraints("indicator_target"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} — objectif {self.convention_year.year} : {self.raw}"


class MatrixEntry(YearLockMixin, models.Model):
    """Ligne de la matrice des indicateurs d'un exercice.

    The matrix groups indicators under numbered headings ("1. Enfants et jeunes", "1.1 Maraudes
    mixtes…") that change from year to year, so the layout is stored per year.
    """

    convention_year = models.ForeignKey(
        ConventionYear,
        on_delete=models.CASCADE,
        related_name="matrix_entries",
        verbose_name="exercice",
    )
    indicator = models.ForeignKey(
        Indicator,
        on_delete=models.PROTECT,
        related_name="matrix_entries",
        verbose_name="indicateur",
    )
    action_year = models.ForeignKey(
        "actions.ActionYear",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="matrix_entries",
        verbose_name="fiche-action de l'exercice",
    )
    position = models.PositiveSmallIntegerField("ordre")
    group_label = models.CharField("groupe", max_length=300, blank=True)
    measure_label = models.CharField("mesure", max_length=300, blank=True)
    printed_label = models.CharField(
        "intitulé imprimé", max_length=500, blank=True, help_text="Vide : intitulé de l'indicateur."
    )
    footnote = models.TextField("note", blank=True)

    history = HistoricalRecords()
    objects = ConventionYearScopedQuerySet.as_manager()

    class Meta:
        ordering = ["convention_year", "position"]
        verbose_name = "ligne de la matrice des indicateurs"
        verbose_name_plural = "lignes de la matrice des indicateurs"
        constraints = [
            models.UniqueConstraint(
                fields=["convention_year", "indicator"], name="matrix_entry_unique_indicator"
            ),
            models.UniqueConstraint(
                fields=["convention_year", "position"], name="matrix_entry_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.convention_year} — {self.indicator}"
