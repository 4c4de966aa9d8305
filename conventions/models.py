"""Conventions, their years and the national catalogue of thèmes.

The shapes follow the official documents (see ``../shared/domain/CALPAE.md``): a Département signs
successive conventions with the State (2019-2021 with annual avenants, then one-year conventions);
each year of a convention (*exercice*) has its notified State credit, its financial table laid out
by thème, and its execution report.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from calpae.fields import MoneyField
from conventions.choices import AmendmentKind, Block, EnvelopeKind, PlannedTableTemplate, Role
from conventions.locking import YearLockMixin


class Region(models.Model):
    """Région (code INSEE)."""

    code = models.CharField("code INSEE", max_length=3, unique=True)
    name = models.CharField("nom", max_length=100)
    of_name = models.CharField(
        "nom avec charnière", max_length=110, help_text="« d'Île-de-France », « de Normandie »."
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "région"

    def __str__(self) -> str:
        return self.name


class DepartmentQuerySet(models.QuerySet):
    def for_user(self, user):
        """The Départements a user may see: their memberships, or all for a superuser."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(Q(memberships__user=user) | Q(region__reviewers__user=user)).distinct()


class Department(models.Model):
    """Département (collectivité signataire), identified by its INSEE code."""

    code = models.CharField("code INSEE", max_length=3, unique=True)
    name = models.CharField("nom", max_length=100)
    of_name = models.CharField(
        "nom avec charnière", max_length=110, help_text="« de Seine-et-Marne », « de l'Allier »."
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="departments", verbose_name="région"
    )

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = "département"

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Membership(models.Model):
    """Rattachement d'un utilisateur à un Département, avec son rôle."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name="utilisateur",
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name="département",
    )
    role = models.CharField("rôle", max_length=20, choices=Role.choices)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "rattachement"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "department"], name="membership_unique_user_department"
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.department} ({self.get_role_display()})"


class RegionalReviewer(models.Model):
    """Relecteur de la préfecture de région: reads and reviews the reports of every Département
    of the region (the rights of ``Role.REVIEWER`` in each, ``calpae.permissions``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="regional_reviews",
        verbose_name="utilisateur",
    )
    region = models.ForeignKey(
        Region, on_delete=models.CASCADE, related_name="reviewers", verbose_name="région"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "relecteur régional"
        verbose_name_plural = "relecteurs régionaux"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "region"], name="regional_reviewer_unique_user_region"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.region}"


class Programme(models.Model):
    """Programme national: la CALPAE 2019-2023, les contrats locaux des solidarités 2024-2027."""

    code = models.SlugField("code", max_length=40, unique=True)
    name = models.CharField("nom", max_length=200)
    start_year = models.PositiveSmallIntegerField("première année")
    end_year = models.PositiveSmallIntegerField("dernière année")

    class Meta:
        ordering = ["start_year"]
        verbose_name = "programme"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_year__gte=models.F("start_year")), name="programme_years_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ChorusCode(models.Model):
    """Imputation Chorus (code Chorus - description longue), e.g. ``0304 50 19 19 07``."""

    code = models.CharField("code Chorus", max_length=30, unique=True)
    description = models.CharField("description longue", max_length=200)

    class Meta:
        ordering = ["code"]
        verbose_name = "imputation Chorus"
        verbose_name_plural = "imputations Chorus"

    def __str__(self) -> str:
        return f"{self.code} - {self.description}"

    @property
    def activity_code(self) -> str:
        """The code without spaces, as Chorus writes an *activité* (``030450191907``)."""
        return self.code.replace(" ", "")


class Theme(models.Model):
    """Thème de la contractualisation (catalogue national, extensible par un administrateur).

    A Chorus code may carry two thèmes (07: garantie d'activité and mobilité) and one thème has no
    printed code (orientation des allocataires du RSA).
    """

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="themes", verbose_name="programme"
    )
    code = models.SlugField("code", max_length=60)
    label = models.CharField("intitulé", max_length=300)
    short_label = models.CharField("intitulé court", max_length=100)
    block = models.CharField("bloc", max_length=20, choices=Block.choices)
    chorus_code = models.ForeignKey(
        ChorusCode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="themes",
        verbose_name="imputation Chorus",
    )
    is_optional = models.BooleanField(
        "le cas échéant", default=False, help_text="Mesure optionnelle (« le cas échéant »)."
    )
    position = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        ordering = ["programme", "position", "code"]
        verbose_name = "thème"
        constraints = [
            models.UniqueConstraint(fields=["programme", "code"], name="theme_unique_code"),
            models.CheckConstraint(condition=Q(block__in=Block.values), name="theme_block_valid"),
        ]

    def __str__(self) -> str:
        return self.short_label or self.label


class ConventionQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(department__in=Department.objects.for_user(user))


class Convention(models.Model):
    """Convention (CALPAE ou contrat local) signée entre l'État et un Département."""

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="conventions", verbose_name="département"
    )
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="conventions", verbose_name="programme"
    )
    title = models.CharField("intitulé", max_length=300)
    start_date = models.DateField("début")
    end_date = models.DateField("fin")
    signature_date = models.DateField("date de signature", null=True, blank=True)
    signature_place = models.CharField("lieu de signature", max_length=100, blank=True)
    state_party = models.CharField(
        "signataire pour l'État", max_length=200, blank=True, help_text="Le préfet de …"
    )
    department_party = models.CharField(
        "signataire pour le Département", max_length=200, blank=True
    )
    deliberation_reference = models.CharField(
        "délibération autorisant la signature", max_length=100, blank=True
    )
    deliberation_date = models.DateField("date de la délibération", null=True, blank=True)
    notes = models.TextField("notes", blank=True)

    history = HistoricalRecords()
    objects = ConventionQuerySet.as_manager()

    class Meta:
        ordering = ["department", "start_date"]
        verbose_name = "convention"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="convention_dates_ordered",
            ),
            # A Département signs one convention at a time: its start date names it (the
            # natural key of imports).
            models.UniqueConstraint(
                fields=["department", "start_date"],
                name="convention_unique_start",
                violation_error_message="Ce Département a déjà une convention commençant ce jour.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} — {self.department}"


class Amendment(models.Model):
    """Avenant à une convention: financier (montant annuel) ou de prolongation."""

    convention = models.ForeignKey(
        Convention, on_delete=models.CASCADE, related_name="amendments", verbose_name="convention"
    )
    number = models.PositiveSmallIntegerField("numéro", null=True, blank=True)
    kind = models.CharField("nature", max_length=20, choices=AmendmentKind.choices)
    year = models.PositiveSmallIntegerField("année concernée", null=True, blank=True)
    signature_date = models.DateField("date de signature", null=True, blank=True)
    deliberation_reference = models.CharField("délibération", max_length=100, blank=True)
    deliberation_date = models.DateField("date de la délibération", null=True, blank=True)
    state_amount = MoneyField("soutien de l'État pour l'année", null=True, blank=True)
    new_end_date = models.DateField("nouvelle date de fin", null=True, blank=True)
    summary = models.TextField("objet", blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["convention", "signature_date", "number"]
        verbose_name = "avenant"
        constraints = [
            # Seine-et-Marne signed an "avenant n°1 au titre de 2020" and another "avenant n°1 au
            # titre de l'année 2021": numbers restart with each year.
            models.UniqueConstraint(
                fields=["convention", "year", "number"],
                condition=Q(number__isnull=False),
                name="amendment_unique_number",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=AmendmentKind.values), name="amendment_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(kind=AmendmentKind.FINANCIAL)
                | (Q(state_amount__isnull=False) & Q(year__isnull=False)),
                name="amendment_financial_has_amount",
                violation_error_message=(
                    "Un avenant financier indique l'année et le montant du soutien de l'État."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(kind=AmendmentKind.EXTENSION) | Q(new_end_date__isnull=False),
                name="amendment_extension_has_end_date",
                violation_error_message=(
                    "Un avenant de prolongation indique la nouvelle date de fin."
                ),
            ),
            models.CheckConstraint(
                condition=Q(state_amount__isnull=True) | Q(state_amount__gte=0),
                name="amendment_state_amount_non_negative",
            ),
        ]

    def __str__(self) -> str:
        label = f"Avenant n°{self.number}" if self.number else "Avenant"
        if self.year:
            label += f" ({self.year})"
        return label


class ConventionYearQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(convention__department__in=Department.objects.for_user(user))


class ConventionYear(YearLockMixin, models.Model):
    """Exercice d'une convention: une année, son crédit État notifié et son rapport d'exécution.

    The execution period may differ from the calendar year (the 2020 report of Seine-et-Marne covers
    2020 and the first half of 2021), hence ``period_start`` / ``period_end``.
    """

    year_lock_path = "pk"

    convention = models.ForeignKey(
        Convention, on_delete=models.CASCADE, related_name="years", verbose_name="convention"
    )
    year = models.PositiveSmallIntegerField("année")
    amendment = models.ForeignKey(
        Amendment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="convention_years",
        verbose_name="avenant fixant le montant",
    )
    state_credit = MoneyField(
        "crédit État notifié", null=True, blank=True, help_text="Nouveaux crédits État de l'année."
    )
    state_credit_notified_on = models.DateField("date de notification", null=True, blank=True)
    state_credit_note = models.CharField("précision sur le crédit État", max_length=300, blank=True)
    period_start = models.DateField("début de la période d'exécution", null=True, blank=True)
    period_end = models.DateField("fin de la période d'exécution", null=True, blank=True)
    planned_table_template = models.CharField(
        "modèle du tableau prévisionnel",
        max_length=20,
        choices=PlannedTableTemplate.choices,
        default=PlannedTableTemplate.ANNUAL,
        help_text="Le tableau annexé à la convention annuelle, ou l'annexe 3 des avenants 2020.",
    )
    report_due_date = models.DateField(
        "date limite du rapport d'exécution",
        null=True,
        blank=True,
        help_text="Par défaut le 30 juin de l'année suivante.",
    )
    report_deliberation_reference = models.CharField(
        "délibération adoptant le rapport", max_length=100, blank=True
    )
    report_deliberation_date = models.DateField(
        "date de la délibération du rapport", null=True, blank=True
    )

    history = HistoricalRecords()
    objects = ConventionYearQuerySet.as_manager()

    class Meta:
        ordering = ["convention", "year"]
        verbose_name = "exercice"
        constraints = [
            models.UniqueConstraint(fields=["convention", "year"], name="convention_year_unique"),
            models.CheckConstraint(
                condition=Q(state_credit__isnull=True) | Q(state_credit__gte=0),
                name="convention_year_state_credit_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(planned_table_template__in=PlannedTableTemplate.values),
                name="convention_year_planned_table_template_valid",
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_end__gte=models.F("period_start")),
                name="convention_year_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.convention.department} — {self.year}"

    @property
    def effective_report_due_date(self) -> datetime.date:
        return self.report_due_date or datetime.date(self.year + 1, 6, 30)

    def clean(self):
        super().clean()
        # Missing fields are reported by their own validation; check only what is there.
        if not self.convention_id or self.year is None:
            return
        convention = self.convention
        if not (convention.start_date and convention.end_date):
            return
        if not (convention.start_date.year <= self.year <= convention.end_date.year):
            raise ValidationError(
                {
                    "year": (
                        f"L'année {self.year} est hors de la période de la convention "
                        f"({convention.start_date:%d/%m/%Y} – {convention.end_date:%d/%m/%Y})."
                    )
                }
            )


class ThemeYear(YearLockMixin, models.Model):
    """Thème tel qu'il figure dans le tableau financier d'un exercice.

    The two official templates order the thèmes differently and print different labels
    ("Inscription des allocataires du RSA…" in 2023); a thème with no action keeps its place with
    empty placeholder rows. Amounts known only for the whole thème (a "Report N-1" in one merged
    cell) are stored here, never spread over the actions.
    """

    convention_year = models.ForeignKey(
        ConventionYear, on_delete=models.CASCADE, related_name="themes", verbose_name="exercice"
    )
    theme = models.ForeignKey(
        Theme, on_delete=models.PROTECT, related_name="years", verbose_name="thème"
    )
    position = models.PositiveSmallIntegerField("ordre dans le tableau")
    printed_label = models.CharField(
        "intitulé imprimé", max_length=300, blank=True, help_text="Vide : intitulé du catalogue."
    )
    chorus_note = models.CharField(
        "mention dans la cellule Chorus",
        max_length=200,
        blank=True,
        help_text="Par exemple « (montant CALPAE : 55 000€) ».",
    )
    placeholder_rows = models.JSONField(
        "lignes vides du modèle",
        default=list,
        blank=True,
        help_text='Lignes imprimées sans montant, par paires [numéro, intitulé] : [["3.1", ""]].',
    )
    carried_over_state = MoneyField(
        "report N-1 part État (au niveau du thème)", null=True, blank=True
    )
    carried_over_cd = MoneyField("report N-1 part CD (au niveau du thème)", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["convention_year", "position"]
        verbose_name = "thème de l'exercice"
        verbose_name_plural = "thèmes de l'exercice"
        constraints = [
            models.UniqueConstraint(
                fields=["convention_year", "theme"], name="theme_year_unique_theme"
            ),
            models.UniqueConstraint(
                fields=["convention_year", "position"], name="theme_year_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(carried_over_state__isnull=True) | Q(carried_over_state__gte=0),
                name="theme_year_carried_over_state_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(carried_over_cd__isnull=True) | Q(carried_over_cd__gte=0),
                name="theme_year_carried_over_cd_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.printed_label or self.theme.label

    def clean(self):
        super().clean()
        rows = self.placeholder_rows
        if not isinstance(rows, list) or not all(
            isinstance(row, list) and len(row) == 2 and all(isinstance(c, str) for c in row)
            for row in rows
        ):
            raise ValidationError(
                {
                    "placeholder_rows": (
                        "Chaque ligne vide est une paire [numéro, intitulé] de textes."
                    )
                }
            )


class StateEnvelope(YearLockMixin, models.Model):
    """Enveloppe de crédits État notifiés ou pré-notifiés, pour un ou plusieurs thèmes.

    One Chorus line may cover several thèmes (07: garantie d'activité, mobilité, orientation), so
    an envelope names the thèmes it covers.
    """

    convention_year = models.ForeignKey(
        ConventionYear,
        on_delete=models.CASCADE,
        related_name="state_envelopes",
        verbose_name="exercice",
    )
    themes = models.ManyToManyField(Theme, related_name="state_envelopes", verbose_name="thèmes")
    kind = models.CharField("nature", max_length=20, choices=EnvelopeKind.choices)
    amount = MoneyField("montant")
    note = models.CharField("mention imprimée", max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "enveloppe de crédits État"
        verbose_name_plural = "enveloppes de crédits État"
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="state_envelope_amount_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=EnvelopeKind.values), name="state_envelope_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.convention_year.year} : {self.amount} €"
