"""Données synthétiques : des Départements entiers de la CALPAE 2019-2023, pour mesurer
l'application à l'échelle nationale (``manage.py generate_synthetic``, issue 7).

For each chosen Département (the first ones by INSEE code that hold no data at all, so that the
demo data of ``load_demo`` — Seine-et-Marne, Allier — is never touched), year by year from 2019:

- its conventions as signed in the real programme (2019-2021 with a financial avenant for 2020
  and 2021, then the one-year conventions 2022 and 2023), each year with its thèmes (the national
  catalogue; the « sorties sèches de l'ASE » measure is dropped from 2022 on, its fiches moving
  to the initiative block, as in the real conventions) and a notified envelope for the thèmes of
  Chorus code 07;
- fiches-actions with a stable identity and a yearly number (« thème.rang »), a narrative, and
  planned and executed budgets by funder (État A, reports B, CD C with its valorisation, reports
  D, other funders E: FSE, FSE+, REACT-EU, Caf…); the execution is a plausible share of the
  budget, the rest carried over to the next year's columns B and D;
- the national indicators of the catalogue (then indicators of its own, attached to a fiche),
  with a matrix per year, a target per year and values per period (baseline, each year, first
  semester of the last year), some of them statuses (« Données non disponibles »…);
- the state of each report: the older years validated by the prefecture, the last ones mixed
  (transmitted, returned for completion, draft — hence late).

The data obeys the rules the application checks (constraints of the database, F = A+B+C+D+E,
parity, total A = notified credit, carry-overs N-1 = B/D of N), so that a transmitted or validated
year has no open finding; only some open years hold the kind of discrepancy real tables have (a
fiche executed beyond its budget), sometimes justified in writing.

Written with ``bulk_create`` in one transaction per Département, parents first; history rows
(django-simple-history) are written in bulk too, as the import of a table does
(``actions.imports``), in the name of one inactive user, « Générateur de données synthétiques ».
Not generated: transmitted versions of the reports (``ReportVersion``: their documents would
have to be produced), comments, users and their rattachements.

Everything generated is recognised by ``MARKER`` in the notes of its conventions and by the
``synthetique-`` prefix of its fiches-actions and indicators: :func:`synthetic_remove` deletes it,
with its history rows, and nothing else.
"""

from __future__ import annotations

import datetime
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db import models, transaction
from simple_history.utils import bulk_create_with_history

from actions.choices import BudgetKind, Funder
from actions.models import Action, ActionYear, Budget, OtherFunding
from conventions.choices import AmendmentKind, Block, EnvelopeKind
from conventions.models import (
    Amendment,
    Convention,
    ConventionYear,
    Department,
    Programme,
    StateEnvelope,
    Theme,
    ThemeYear,
)
from indicators.choices import Direction, PeriodKind, Unit
from indicators.models import Indicator, IndicatorTarget, IndicatorValue, MatrixEntry, Period
from indicators.parsing import parse_indicator_value
from reports.models import Justification, ReviewEvent, TableKind, YearReview
from reports.tables import Rule
from reports.workflow import State, Step

MARKER = "Données synthétiques (manage.py generate_synthetic)"
CODE_PREFIX = "synthetique-"
PROGRAMME = "calpae"
FIRST_YEAR = 2019
MAX_YEARS = 5  # the CALPAE, 2019-2023
ACTOR_USERNAME = "generateur-synthetique"
REASON = "Données synthétiques"

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Sizes:
    departements: int = 101
    years: int = 5
    actions: int = 30
    indicators: int = 40

    def problems(self) -> list[str]:
        problems = []
        if not 0 <= self.departements <= 101:
            problems.append("Le nombre de Départements va de 0 à 101.")
        if not 1 <= self.years <= MAX_YEARS:
            problems.append(
                f"Le nombre d'années va de 1 à {MAX_YEARS} (la CALPAE, {FIRST_YEAR}-"
                f"{FIRST_YEAR + MAX_YEARS - 1})."
            )
        if self.actions < 1:
            problems.append("Il faut au moins une fiche-action par exercice.")
        if self.indicators < 0:
            problems.append("Le nombre d'indicateurs ne peut pas être négatif.")
        return problems


def _plural_name(model) -> str:
    """The French name of a model's rows; for the table Django creates behind a many-to-many
    field (« Relations stateenvelope-theme »), that of the field and of its model."""
    owner = model._meta.auto_created
    if owner:
        field = next(f for f in owner._meta.many_to_many if f.remote_field.through is model)
        return f"{field.verbose_name} des {owner._meta.verbose_name_plural}"
    return str(model._meta.verbose_name_plural)


@dataclass
class Summary:
    """What was written (rows by model, history rows excluded), and how long it took."""

    departments: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: float = 0.0


class SyntheticDataError(Exception):
    """The sizes asked for are out of range."""


# --- Realistic wording --------------------------------------------------------------------------

# Fiches by thème (the national catalogue's codes), from the real conventions (CALPAE.md §4.3).
ACTION_TITLES: dict[str, tuple[str, ...]] = {
    "maraudes-mixtes": (
        "Maraudes mixtes État-Département auprès des enfants à la rue",
        "Équipe mobile de repérage des familles en campements",
    ),
    "prevention-specialisee": (
        "Renforcer la prévention spécialisée dans les quartiers prioritaires",
        "Structurer l'animation du dispositif départemental de prévention spécialisée",
    ),
    "formation-travail-social": (
        "Plan de formation des travailleurs sociaux au développement du pouvoir d'agir",
        "Former les professionnels à la démarche d'aller-vers",
    ),
    "premier-accueil": (
        "Maillage territorial du premier accueil social inconditionnel",
        "Premier accueil social dans les espaces France Services",
        "Outil partagé de suivi du premier accueil",
    ),
    "referent-parcours": (
        "Déploiement de la démarche du référent de parcours",
        "Outiller et animer le réseau des référents de parcours",
    ),
    "orientation-rsa": (
        "Accélérer l'orientation des nouveaux allocataires du RSA",
        "Plateforme d'orientation et premiers rendez-vous d'accompagnement",
        "Rendez-vous des droits et devoirs des allocataires",
    ),
    "garantie-activite": (
        "Garantie d'activité départementale : accompagnement global",
        "Accompagnement différencié vers l'emploi avec les associations (AAVE)",
        "Accompagnement des travailleurs non-salariés allocataires du RSA",
        "Coup de pouce vers l'emploi",
        "Premières heures en chantier d'insertion",
    ),
    "mobilite": (
        "Plateforme de mobilité solidaire",
        "Aides au permis de conduire pour les allocataires du RSA",
    ),
    "sortie-seche-ase": (
        "Prévenir les sorties sèches de l'ASE : contrats jeunes majeurs",
        "Accompagnement vers le logement des jeunes sortant de l'ASE",
    ),
    "petite-enfance": ("Former les professionnels de la petite enfance à l'accueil des familles",),
    "initiative-departement": (
        "Crèches à vocation d'insertion professionnelle (AVIP)",
        "Lutte contre la précarité énergétique",
        "Points d'information et de médiation multi-services (PIMMS)",
        "Mesures d'accompagnement social personnalisé (MASP)",
        "Accès aux droits et inclusion numérique",
        "Santé mentale : lever les freins psychologiques à l'insertion",
        "Rallye pour l'emploi",
        "Épiceries solidaires et aide alimentaire",
        "Conseil conjugal et familial",
        "Aller-vers les familles en grande précarité",
    ),
}
# The thèmes of the fiches in the order they are handed out: every prefix mixes socle and
# initiative fiches (small sizes too), and 30 fiches weigh the thèmes as real conventions do.
THEME_SEQUENCE = (
    "garantie-activite",
    "initiative-departement",
    "premier-accueil",
    "orientation-rsa",
    "referent-parcours",
    "initiative-departement",
    "garantie-activite",
    "formation-travail-social",
    "mobilite",
    "prevention-specialisee",
    "sortie-seche-ase",
    "initiative-departement",
    "garantie-activite",
    "orientation-rsa",
    "premier-accueil",
    "maraudes-mixtes",
    "initiative-departement",
    "garantie-activite",
    "referent-parcours",
    "mobilite",
    "initiative-departement",
    "formation-travail-social",
    "prevention-specialisee",
    "sortie-seche-ase",
    "garantie-activite",
    "initiative-departement",
    "orientation-rsa",
    "premier-accueil",
    "petite-enfance",
    "initiative-departement",
)
LEAD_SERVICES = {
    Block.SOCLE: (
        "Direction de l'insertion et de l'emploi",
        "Direction de l'action sociale territoriale",
        "Direction de l'enfance et de la famille",
        "Pôle solidarités — mission RSA",
    ),
    Block.INITIATIVE: (
        "Direction de l'action sociale territoriale",
        "Direction de l'habitat et du logement",
        "Direction de la santé publique",
        "Direction générale adjointe des solidarités",
    ),
}
PARTNERS = (
    "Pôle emploi, Caf, associations d'insertion",
    "CCAS, France Services, Caf",
    "Associations de prévention spécialisée, communes",
    "CNFPT, instituts régionaux du travail social",
    "Structures de l'insertion par l'activité économique, PLIE",
    "ARS, centres médico-psychologiques",
    "Missions locales, services de l'État (DDETS)",
)
LOCAL_INDICATORS = (
    "Nombre de personnes accompagnées",
    "Nombre de nouveaux bénéficiaires",
    "Nombre d'actions collectives organisées",
)
DIAGNOSES = (
    "un taux de pauvreté supérieur à la moyenne nationale",
    "des délais d'orientation trop longs",
    "des ruptures de parcours à la sortie des dispositifs",
    "un non-recours important aux droits",
)
MEANS = (
    "les maisons départementales des solidarités",
    "les partenaires associatifs",
    "une équipe dédiée",
    "les services territoriaux",
)
REVIEWS = (
    "Le recrutement des intervenants a retardé le démarrage.",
    "La coopération avec les partenaires s'est renforcée.",
    "Les comités de suivi se sont réunis chaque trimestre.",
)
OTHER_FUNDERS = (
    "Caf {of_name}",
    "Agence régionale de santé",
    "Pôle emploi",
    "Métropole et intercommunalités",
    "Fondation d'entreprise",
)
# The size of each year's programme, relative to a full year (2019 started mid-year; 2023 was a
# one-year convention refocused on the RSA and access to rights).
YEAR_WEIGHTS = {2019: 0.6, 2020: 1.0, 2021: 1.05, 2022: 1.1, 2023: 0.55}
# The thème that the real conventions dropped in 2022, and where its fiches went.
DROPPED_IN_2022 = "sortie-seche-ase"
INITIATIVE_THEME = "initiative-departement"
ENVELOPE_THEMES = ("orientation-rsa", "garantie-activite", "mobilite")  # Chorus code 07


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def _euros(rng: random.Random, low: float, high: float, factor: float = 1.0) -> Decimal:
    """An amount as Départements write them: mostly whole hundreds, sometimes to the cent."""
    value = rng.uniform(low, high) * factor
    if rng.random() < 0.8:
        return Decimal(round(value, -2)).quantize(CENT)
    return _money(value)


def _number_text(value: Decimal, unit: str) -> str:
    """A value as printed in the matrices: « 10 941 », « 47,6 % », « 25,1 »."""
    if unit == Unit.COUNT:
        return f"{int(value):,}".replace(",", " ")
    text = f"{value:.1f}".replace(".", ",")
    return f"{text} %" if unit == Unit.PERCENT else text


# --- Review states -------------------------------------------------------------------------------


def review_state(index: int, years_from_end: int) -> State:
    """The state of a report, by the Département's rank and the year's distance from the last
    generated year: older years validated; the year before the last mostly validated; the last
    one mixed. Deterministic, so that the first Département always has a validated year (when
    it has two) and a draft last year."""
    if years_from_end == 0:
        return (
            State.DRAFT,
            State.SUBMITTED,
            State.DRAFT,
            State.RETURNED,
            State.SUBMITTED,
            State.DRAFT,
            State.VALIDATED,
            State.SUBMITTED,
            State.RETURNED,
            State.SUBMITTED,
        )[index % 10]
    if years_from_end == 1:
        if index % 7 == 3:
            return State.SUBMITTED
        if index % 11 == 5:
            return State.RETURNED
    return State.VALIDATED


STEPS_TO = {
    State.DRAFT: (),
    State.SUBMITTED: (Step.SUBMIT,),
    State.VALIDATED: (Step.SUBMIT, Step.VALIDATE),
    State.RETURNED: (Step.SUBMIT, Step.RETURN),
}
STEP_STATES = {
    Step.SUBMIT: (State.DRAFT, State.SUBMITTED),
    Step.VALIDATE: (State.SUBMITTED, State.VALIDATED),
    Step.RETURN: (State.SUBMITTED, State.RETURNED),
}


# --- Writing -------------------------------------------------------------------------------------


def synthetic_actor():
    """The author of the synthetic history rows and review steps: an inactive account."""
    user, created = get_user_model().objects.get_or_create(
        username=ACTOR_USERNAME,
        defaults={
            "first_name": "Générateur",
            "last_name": "de données synthétiques",
            "is_active": False,
        },
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


class _Writer:
    """The rows of one Département, in memory, then inserted model by model, parents first."""

    ORDER = (
        Convention,
        Amendment,
        ConventionYear,
        ThemeYear,
        StateEnvelope,
        StateEnvelope.themes.through,
        Action,
        ActionYear,
        Budget,
        OtherFunding,
        Period,
        Indicator,
        MatrixEntry,
        IndicatorTarget,
        IndicatorValue,
        Justification,
        YearReview,
        ReviewEvent,
    )

    def __init__(self, actor):
        self.actor = actor
        self.rows: dict[type[models.Model], list[models.Model]] = defaultdict(list)

    def add(self, instance: models.Model) -> models.Model:
        self.rows[type(instance)].append(instance)
        return instance

    def write(self, summary: Summary) -> None:
        for model in self.ORDER:
            rows = self.rows.get(model)
            if not rows:
                continue
            if hasattr(model, "history"):
                bulk_create_with_history(
                    rows,
                    model,
                    batch_size=500,
                    default_user=self.actor,
                    default_change_reason=REASON,
                )
            else:
                model.objects.bulk_create(rows, batch_size=500)
            summary.rows[_plural_name(model)] += len(rows)


@dataclass
class _Catalogue:
    """What every Département shares, read once."""

    programme: Programme
    themes: dict[str, Theme]  # by code, in catalogue order
    indicators: list[Indicator]  # national, parents before their « dont »


def _catalogue() -> _Catalogue:
    programme = Programme.objects.get(code=PROGRAMME)
    return _Catalogue(
        programme=programme,
        themes={theme.code: theme for theme in Theme.objects.filter(programme=programme)},
        indicators=list(
            Indicator.objects.filter(programme=programme, department=None)
            .select_related("theme")
            .order_by("pk")
        ),
    )


def _convention_spans(years: list[int]) -> list[tuple[int, int, list[int]]]:
    """(start year, end year, generated years) of each convention: 2019-2021, 2022, 2023."""
    spans = [(2019, 2021), (2022, 2022), (2023, 2023)]
    return [
        (start, end, [year for year in years if start <= year <= end])
        for start, end in spans
        if any(start <= year <= end for year in years)
    ]


class _DepartmentGenerator:
    def __init__(self, *, department, index, sizes, seed, catalogue, actor, writer):
        self.department = department
        self.index = index
        self.sizes = sizes
        self.catalogue = catalogue
        self.actor = actor
        self.writer = writer
        # One generator per Département: its data does not depend on how many are generated.
        self.rng = random.Random(f"{seed}:{department.code}")
        self.factor = self.rng.uniform(0.4, 2.5)  # the Département's size
        self.years = [FIRST_YEAR + offset for offset in range(sizes.years)]

    def run(self) -> None:
        convention_years = self._conventions()
        actions = self._actions()
        action_years = {}
        executed: dict[tuple[int, int], Budget] = {}  # (action index, year) → executed budget
        states = {year: review_state(self.index, self.years[-1] - year) for year in self.years}
        for year in self.years:
            convention_year = convention_years[year]
            action_years[year] = self._fiches(convention_year, actions, executed, states[year])
            self._review(convention_year, states[year])
        self._indicators(convention_years, actions, action_years)

    # --- conventions and years

    def _conventions(self) -> dict[int, ConventionYear]:
        department, add = self.department, self.writer.add
        result = {}
        for start, end, years in _convention_spans(self.years):
            span = f"{start}-{end}" if end > start else f"{start}"
            deliberation = datetime.date(start, 6, self.rng.randint(10, 28))
            convention = add(
                Convention(
                    department=department,
                    programme=self.catalogue.programme,
                    title=(
                        "Convention d'appui à la lutte contre la pauvreté et d'accès à "
                        f"l'emploi {span}"
                    ),
                    start_date=datetime.date(start, 1, 1),
                    end_date=datetime.date(end, 12, 31),
                    signature_date=deliberation + datetime.timedelta(days=self.rng.randint(7, 40)),
                    state_party=f"Le préfet {department.of_name}",
                    department_party=(
                        f"Le président du Conseil départemental {department.of_name}"
                    ),
                    deliberation_reference=(
                        f"CD-{deliberation:%Y/%m/%d}-4/0{self.rng.randint(1, 9)}"
                    ),
                    deliberation_date=deliberation,
                    notes=MARKER,
                )
            )
            for year in years:
                amendment = None
                if year > start:  # the later years of 2019-2021: a financial avenant each
                    amendment = add(
                        Amendment(
                            convention=convention,
                            number=1,
                            kind=AmendmentKind.FINANCIAL,
                            year=year,
                            signature_date=datetime.date(year, 10, self.rng.randint(1, 28)),
                            deliberation_reference=f"4/0{self.rng.randint(1, 9)}",
                            deliberation_date=datetime.date(year, 9, self.rng.randint(1, 28)),
                            state_amount=ZERO,  # the year's credit, known once the fiches are
                            summary=f"Montant {year} et tableau financier récapitulatif en annexe.",
                        )
                    )
                result[year] = add(
                    ConventionYear(
                        convention=convention,
                        year=year,
                        amendment=amendment,
                        state_credit=ZERO,  # idem
                        state_credit_notified_on=datetime.date(year, 3, self.rng.randint(5, 31)),
                        report_due_date=datetime.date(year + 1, 6, 30),
                    )
                )
                themes = [
                    theme
                    for code, theme in self.catalogue.themes.items()
                    if not (year >= 2022 and code == DROPPED_IN_2022)
                ]
                for position, theme in enumerate(themes, start=1):
                    add(ThemeYear(convention_year=result[year], theme=theme, position=position))
        return result

    # --- fiches-actions

    def _actions(self) -> list[tuple[Action, str, str]]:
        """(action, thème code, title) of each fiche, the same every year."""
        used: dict[str, int] = defaultdict(int)
        result = []
        for index in range(self.sizes.actions):
            theme_code = THEME_SEQUENCE[index % len(THEME_SEQUENCE)]
            titles = ACTION_TITLES[theme_code]
            rank = used[theme_code]
            used[theme_code] += 1
            title = titles[rank % len(titles)]
            if rank >= len(titles):
                title = f"{title} — volet {rank // len(titles) + 1}"
            action = self.writer.add(
                Action(
                    department=self.department,
                    programme=self.catalogue.programme,
                    code=f"{CODE_PREFIX}{index + 1:02d}",
                    name=title,
                )
            )
            result.append((action, theme_code, title))
        return result

    def _theme_of(self, theme_code: str, year: int) -> str:
        return INITIATIVE_THEME if year >= 2022 and theme_code == DROPPED_IN_2022 else theme_code

    def _fiches(self, convention_year, actions, executed, state) -> list[ActionYear]:
        year, rng, add = convention_year.year, self.rng, self.writer.add
        theme_codes = [self._theme_of(code, year) for _, code, _ in actions]
        # « thème.rang »: the thèmes that have fiches numbered in the order of the table.
        ranks = {
            code: rank
            for rank, code in enumerate(
                (code for code in self.catalogue.themes if code in theme_codes), start=1
            )
        }
        counters: dict[str, int] = defaultdict(int)
        year_open = state not in (State.SUBMITTED, State.VALIDATED)
        last_year = year == self.years[-1]
        weight = YEAR_WEIGHTS[year] * self.factor
        state_total = ZERO
        envelope_total = ZERO
        fiches = []
        # An open report of one Département in three: one fiche executed beyond its budget.
        anomaly = rng.randrange(len(actions)) if year_open and self.index % 3 == 0 else None
        for index, (action, _, title) in enumerate(actions):
            theme_code = theme_codes[index]
            theme = self.catalogue.themes[theme_code]
            counters[theme_code] += 1
            number = f"{ranks[theme_code]}.{counters[theme_code]}"
            block = Block(theme.block)
            fiche = add(
                ActionYear(
                    action=action,
                    convention_year=convention_year,
                    theme=theme,
                    block=block,
                    number=number,
                    sequence_number=str(index + 1),
                    title=title,
                    lead_service=rng.choice(LEAD_SERVICES[block]),
                    **self._narrative(title, year, executed_known=not (last_year and year_open)),
                )
            )
            fiches.append(fiche)
            previous = executed.get((index, year - 1))
            amounts = self._planned_amounts(weight, previous)
            fundings = self._other_fundings(year, amounts["state_new"])
            add(Budget(action_year=fiche, kind=BudgetKind.PLANNED, **amounts))
            self._add_fundings(fiche, BudgetKind.PLANNED, fundings)
            state_total += amounts["state_new"]
            if theme_code in ENVELOPE_THEMES:
                envelope_total += amounts["state_new"]
            # The last year of a report still open: a fiche in three has no execution yet.
            if last_year and year_open and index != anomaly and index % 3 == 2:
                continue
            budget = Budget(
                action_year=fiche,
                kind=BudgetKind.EXECUTED,
                **amounts,
                **self._execution(amounts, fundings, over_budget=anomaly == index),
            )
            budget.comment = rng.choice(
                ("", "", "", "Montants issus du compte administratif.", "Exécution sur 12 mois.")
            )
            if anomaly == index:
                budget.comment = "Dépassement pris en charge sur les crédits propres du CD."
                if self.index % 2 == 0:
                    add(
                        Justification(
                            convention_year=convention_year,
                            table=TableKind.EXECUTION,
                            rule=Rule.REALISED_OVER_BUDGET,
                            action_key=action.code,
                            column="realised",
                            text=(
                                "Le dépassement est financé sur les crédits propres du "
                                "Département (délibération de la commission permanente)."
                            ),
                            author=self.actor,
                        )
                    )
            executed[(index, year)] = add(budget)
            self._add_fundings(fiche, BudgetKind.EXECUTED, fundings)
        convention_year.state_credit = state_total
        if convention_year.amendment is not None:
            convention_year.amendment.state_amount = state_total
        if envelope_total:
            envelope = add(
                StateEnvelope(
                    convention_year=convention_year,
                    kind=EnvelopeKind.NOTIFIED,
                    amount=envelope_total,
                    note="Imputation 0304 50 19 19 07 — garantie d'activité, orientation, mobilité",
                )
            )
            for code in ENVELOPE_THEMES:
                add(
                    StateEnvelope.themes.through(
                        stateenvelope=envelope, theme=self.catalogue.themes[code]
                    )
                )
        return fiches

    def _narrative(self, title: str, year: int, *, executed_known: bool) -> dict:
        rng, of_name = self.rng, self.department.of_name
        people = int(rng.uniform(40, 900) * self.factor)
        fields = {
            "description": (
                f"{title}. L'action répond au diagnostic partagé du territoire {of_name} : "
                f"{rng.choice(DIAGNOSES)}. Elle s'appuie sur {rng.choice(MEANS)} "
                f"et vise {people} personnes par an."
            ),
            "start_date": datetime.date(
                max(year - rng.randint(0, 2), FIRST_YEAR), rng.randint(1, 12), 1
            ),
            "duration": rng.choice(
                ("Pluriannuelle", "Durée de la convention", "Indéterminée", "12 mois")
            ),
            "partners": rng.choice(PARTNERS),
            "objectives": (
                f"Accompagner {people} personnes ; réduire les délais d'accompagnement ; "
                "mesurer les sorties positives."
            ),
            "fapi_funded": rng.random() < 0.15,
        }
        if executed_known:
            done = int(people * rng.uniform(0.6, 1.15))
            fields["execution_review"] = (
                f"En {year}, {done} personnes ont bénéficié de l'action "
                f"({round(100 * done / max(people, 1))} % de l'objectif). "
                f"{rng.choice(REVIEWS)}"
            )
            fields["outlook"] = rng.choice(
                (
                    f"Poursuite de l'action en {year + 1}, étendue à de nouveaux territoires.",
                    f"Évaluation de l'action prévue en {year + 1}.",
                    "Reconduction à l'identique.",
                )
            )
        return fields

    def _planned_amounts(self, weight: float, previous: Budget | None) -> dict:
        rng = self.rng
        state_new = _euros(rng, 8_000, 110_000, weight)
        cd_new = _money(float(state_new) * rng.uniform(1.0, 1.6))  # parity: C ≥ A
        return {
            "state_new": state_new,
            "state_carried_over": previous.carry_over_state or None if previous else None,
            "cd_new": cd_new,
            "valorisation": _money(float(cd_new) * rng.uniform(0.05, 0.4))
            if rng.random() < 0.5
            else None,
            "cd_carried_over": previous.carry_over_cd or None if previous else None,
            "declared_total": None,
        }

    def _other_fundings(self, year: int, state_new: Decimal) -> list[tuple[str, str, Decimal]]:
        rng, fundings = self.rng, []
        if rng.random() < 0.3:
            fse = Funder.FSE if year < 2022 else Funder.FSE_PLUS
            fundings.append((fse, "", _money(float(state_new) * rng.uniform(0.1, 0.5))))
        if year in (2021, 2022) and rng.random() < 0.1:
            fundings.append((Funder.REACT_EU, "", _money(float(state_new) * rng.uniform(0.1, 0.3))))
        if rng.random() < 0.25:
            name = rng.choice(OTHER_FUNDERS).format(of_name=self.department.of_name)
            fundings.append((Funder.OTHER, name, _euros(rng, 2_000, 40_000)))
        return fundings

    def _add_fundings(self, fiche, kind, fundings) -> None:
        budget = self.writer.rows[Budget][-1]
        assert budget.action_year is fiche and budget.kind == kind
        for funder, name, amount in fundings:
            self.writer.add(
                OtherFunding(budget=budget, funder=funder, funder_name=name, amount=amount)
            )

    def _execution(self, amounts: dict, fundings, *, over_budget: bool) -> dict:
        """Réalisé and the amounts to carry over: the rest of the budget, État and CD parts
        within their credits, so that reports = budget − réalisé."""
        state = (amounts["state_new"] or ZERO) + (amounts["state_carried_over"] or ZERO)
        cd = (amounts["cd_new"] or ZERO) + (amounts["cd_carried_over"] or ZERO)
        total = state + cd + sum((amount for _, _, amount in fundings), ZERO)
        if over_budget:
            realised = _money(float(total) * self.rng.uniform(1.02, 1.08))
            return {"realised": realised, "carry_over_state": ZERO, "carry_over_cd": ZERO}
        realised = _money(float(total) * self.rng.uniform(0.55, 1.0))
        remaining = total - realised
        carry_state = min(state, _money(float(remaining * state / total))) if total else ZERO
        carry_cd = min(cd, remaining - carry_state)
        return {
            # What neither part can carry (other funders' money) counts as spent.
            "realised": total - carry_state - carry_cd,
            "carry_over_state": carry_state,
            "carry_over_cd": carry_cd,
        }

    # --- review of the reports

    def _review(self, convention_year, state: State) -> None:
        if state == State.DRAFT:
            return
        add, rng, year = self.writer.add, self.rng, convention_year.year
        add(YearReview(convention_year=convention_year, state=state))
        deliberation = datetime.date(year + 1, rng.randint(3, 6), rng.randint(1, 28))
        for step in STEPS_TO[state]:
            from_state, to_state = STEP_STATES[step]
            submit = step == Step.SUBMIT
            add(
                ReviewEvent(
                    convention_year=convention_year,
                    step=step,
                    from_state=from_state,
                    to_state=to_state,
                    actor=self.actor,
                    reason=(
                        "Merci de compléter le bilan des fiches de l'insertion."
                        if step == Step.RETURN
                        else ""
                    ),
                    deliberation_number=(
                        f"CD-{deliberation:%Y/%m/%d}-4/0{rng.randint(1, 9)}" if submit else ""
                    ),
                    deliberation_date=deliberation if submit else None,
                )
            )

    # --- indicators

    def _indicators(self, convention_years, actions, action_years) -> None:
        rng, add, department = self.rng, self.writer.add, self.department
        chosen = self._chosen_indicators(actions)
        first, last = self.years[0], self.years[-1]
        periods = [
            add(
                Period(
                    department=department,
                    label=f"Situation au 31 déc. {first - 1}",
                    kind=PeriodKind.BASELINE,
                    year=first - 1,
                    end_date=datetime.date(first - 1, 12, 31),
                )
            )
        ]
        for year in self.years:
            if year == last:
                periods.append(
                    add(
                        Period(
                            department=department,
                            label=f"Résultat atteint au 1er semestre {year}",
                            kind=PeriodKind.SEMESTER,
                            year=year,
                            start_date=datetime.date(year, 1, 1),
                            end_date=datetime.date(year, 6, 30),
                        )
                    )
                )
            periods.append(
                add(
                    Period(
                        department=department,
                        label=f"Résultat atteint en {year}",
                        kind=PeriodKind.YEAR,
                        year=year,
                        start_date=datetime.date(year, 1, 1),
                        end_date=datetime.date(year, 12, 31),
                    )
                )
            )
        # The matrix in the order of the table's thèmes; a base value per indicator, a « dont »
        # being a share of its parent.
        theme_order = {code: rank for rank, code in enumerate(self.catalogue.themes)}
        chosen.sort(key=lambda indicator: theme_order[indicator.theme.code])
        bases: dict[int, Decimal] = {}  # national indicators by id (local ones have no parent)
        for position, indicator in enumerate(chosen):
            parent_base = bases.get(indicator.parent_id) if indicator.parent_id else None
            if indicator.unit == Unit.PERCENT:
                base = Decimal(str(round(rng.uniform(20, 85), 1)))
            elif indicator.unit == Unit.DAYS:
                base = Decimal(str(round(rng.uniform(10, 60), 1)))
            elif parent_base is not None:
                base = Decimal(int(float(parent_base) * rng.uniform(0.2, 0.8)))
            else:
                base = Decimal(int(rng.uniform(30, 3000) * self.factor))
            if indicator.pk is not None:
                bases[indicator.pk] = base
            self._indicator_rows(indicator, position, base, periods, convention_years, action_years)

    def _chosen_indicators(self, actions) -> list[Indicator]:
        """The indicators the Département follows: fiche after fiche, the next national
        indicator of its thème (parents before their « dont »), or, for a thème without one
        left (initiative du Département, mobilité…), an indicator of its own for the fiche.
        Every fiche has indicators as soon as there are as many as fiches."""
        national: dict[str, list[Indicator]] = defaultdict(list)
        for indicator in self.catalogue.indicators:
            if indicator.theme is not None:
                national[indicator.theme.code].append(indicator)
        chosen: list[Indicator] = []
        while len(chosen) < self.sizes.indicators:
            for action, theme_code, title in actions[: self.sizes.indicators - len(chosen)]:
                if national[theme_code]:
                    chosen.append(national[theme_code].pop(0))
                    continue
                number = len(chosen) + 1
                chosen.append(
                    self.writer.add(
                        Indicator(
                            programme=self.catalogue.programme,
                            department=self.department,
                            theme=self.catalogue.themes[theme_code],
                            action=action,
                            code=f"{CODE_PREFIX}indicateur-{number:03d}",
                            label=f"{LOCAL_INDICATORS[number % len(LOCAL_INDICATORS)]} — {title}",
                            unit=Unit.COUNT,
                            direction=Direction.HIGHER,
                        )
                    )
                )
        return chosen

    def _indicator_rows(self, indicator, position, base, periods, convention_years, action_years):
        rng, add = self.rng, self.writer.add
        lower = indicator.direction == Direction.LOWER
        value = base
        by_year: dict[int, Decimal] = {}
        for period in periods:
            if period.kind == PeriodKind.YEAR:
                drift = Decimal(
                    str(rng.uniform(-0.08, 0.02) if lower else rng.uniform(-0.04, 0.15))
                )
                value = max(Decimal(0), value * (1 + drift))
                by_year[period.year] = value
            shown = (
                value / 2
                if period.kind == PeriodKind.SEMESTER and indicator.unit == Unit.COUNT
                else value
            )
            draw = rng.random()
            if draw < 0.03:
                raw = "Données non disponibles"
            elif draw < 0.04:
                raw = "Non contractualisé"
            elif draw < 0.05:
                raw = "En cours de construction"
            else:
                raw = _number_text(shown, indicator.unit)
            parsed = parse_indicator_value(raw)
            add(
                IndicatorValue(
                    indicator=indicator,
                    period=period,
                    raw=parsed.raw,
                    number=parsed.number,
                    status=parsed.status,
                    comment="Source : système d'information du Département",
                )
            )
        for year, convention_year in convention_years.items():
            factor = Decimal(str(rng.uniform(0.85, 0.98) if lower else rng.uniform(1.02, 1.2)))
            target = by_year.get(year, base) * factor
            parsed = parse_indicator_value(_number_text(target, indicator.unit))
            add(
                IndicatorTarget(
                    indicator=indicator,
                    convention_year=convention_year,
                    raw=parsed.raw,
                    number=parsed.number,
                    status=parsed.status,
                )
            )
            theme = indicator.theme
            fiche = next(
                (
                    f
                    for f in action_years[year]
                    if (f.action is indicator.action if indicator.action else f.theme == theme)
                ),
                None,
            )
            socle = theme.block == Block.SOCLE
            add(
                MatrixEntry(
                    convention_year=convention_year,
                    indicator=indicator,
                    action_year=fiche,
                    position=position + 1,
                    group_label=(
                        "1. Mesures du socle"
                        if socle
                        else "2. Mesures à l'initiative du Département"
                    ),
                    measure_label=theme.short_label if theme is not None else "",
                )
            )


# --- Entry points -----------------------------------------------------------------------------


def free_departments() -> models.QuerySet[Department]:
    """The Départements without any data (no convention, fiche, period or indicator of their
    own), by INSEE code: the demo Départements are never among them."""
    return (
        Department.objects.filter(
            conventions__isnull=True,
            actions__isnull=True,
            periods__isnull=True,
            indicators__isnull=True,
        )
        .select_related("region")
        .order_by("code")
    )


def synthetic_departments() -> models.QuerySet[Department]:
    return Department.objects.filter(conventions__notes=MARKER).distinct().order_by("code")


def synthetic_generate(
    *,
    sizes: Sizes,
    seed: int = 2019,
    progress: Callable[[str], None] | None = None,
) -> Summary:
    """Generate the data of ``sizes.departements`` free Départements, one transaction each."""
    if problems := sizes.problems():
        raise SyntheticDataError(" ".join(problems))
    start = time.perf_counter()
    summary = Summary()
    # With the demo loaded, 99 Départements are free: 101 asked for gives them all, next to
    # the two demo ones (``Summary.departments`` tells how many).
    departments = list(free_departments()[: sizes.departements])
    catalogue = _catalogue()
    actor = synthetic_actor()
    for index, department in enumerate(departments):
        with transaction.atomic():
            writer = _Writer(actor)
            _DepartmentGenerator(
                department=department,
                index=index,
                sizes=sizes,
                seed=seed,
                catalogue=catalogue,
                actor=actor,
                writer=writer,
            ).run()
            writer.write(summary)
        summary.departments.append(department.code)
        if progress is not None:
            progress(
                f"{index + 1:>3}/{len(departments)} {department} "
                f"({time.perf_counter() - start:6.1f} s)"
            )
    summary.seconds = time.perf_counter() - start
    return summary


def _cascade(queryset: models.QuerySet, path: tuple = ()) -> Iterable[models.QuerySet]:
    """The rows that deleting ``queryset`` deletes, as querysets, each before the rows it
    depends on: the reverse foreign keys with ``CASCADE`` (and the rows of many-to-many tables),
    followed through the model's ``_meta``, so that a model added later is covered."""
    model = queryset.model
    for relation in model._meta.related_objects:
        if relation.many_to_many or relation.related_model in (*path, model):
            continue  # a self-reference (« dont » indicators): the roots select them
        if relation.on_delete is models.CASCADE:
            related = relation.related_model._base_manager.filter(
                **{f"{relation.field.name}__in": queryset}
            )
            yield from _cascade(related, (*path, model))
        # PROTECT, SET_NULL…: rows outside the synthetic data would refer to it; the database
        # refuses the deletion then (the foreign keys are checked at the commit).
    for m2m in model._meta.many_to_many:
        through = m2m.remote_field.through
        yield through._base_manager.filter(**{f"{m2m.m2m_field_name()}__in": queryset})
    yield queryset


def _raw_delete(queryset: models.QuerySet) -> int:
    """Delete the rows and their history rows, one statement each.

    ``QuerySet._raw_delete`` rather than ``delete()``: the latter loads every row to send its
    signals, and django-simple-history would then write a « deleted » history row for each of
    the hundreds of thousands of rows."""
    model = queryset.model
    if hasattr(model, "history"):
        history = model.history.model._base_manager.filter(
            **{f"{model._meta.pk.attname}__in": queryset.values("pk")}
        )
        history._raw_delete(history.db)
    return queryset._raw_delete(queryset.db)


def synthetic_remove(*, progress: Callable[[str], None] | None = None) -> list[str]:
    """Delete the synthetic data (and its history rows), one transaction per Département; the
    codes of the Départements emptied."""
    codes = []
    for department in synthetic_departments():
        with transaction.atomic():
            roots = (
                # Indicators first: the matrix refers to them (PROTECT), and it goes with them.
                Indicator.objects.filter(department=department, code__startswith=CODE_PREFIX),
                Convention.objects.filter(department=department, notes=MARKER),
                Action.objects.filter(department=department, code__startswith=CODE_PREFIX),
                Period.objects.filter(department=department),
            )
            for root in roots:
                for queryset in _cascade(root):
                    _raw_delete(queryset)
        codes.append(department.code)
        if progress is not None:
            progress(f"{department} : données synthétiques supprimées")
    return codes
