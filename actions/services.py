"""Business actions on fiches-actions and budgets (writes)."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat
from django.utils.text import slugify
from simple_history.utils import bulk_update_with_history

from actions.choices import ActionStatus, BudgetKind, Funder
from actions.models import Action, ActionYear, Budget, OtherFunding
from calpae.audit import save_with_audit
from conventions.locking import ensure_year_open
from conventions.models import ConventionYear, Theme


@transaction.atomic
def action_create(*, actor, department, programme, code: str, name: str) -> Action:
    """Create the stable identity of a fiche-action."""
    return save_with_audit(
        Action(department=department, programme=programme, code=code, name=name),
        actor=actor,
        reason="Création de la fiche-action",
    )


@transaction.atomic
def action_year_create(
    *,
    actor,
    action: Action,
    convention_year: ConventionYear,
    theme: Theme,
    number: str,
    title: str,
    block: str | None = None,
    **fields,
) -> ActionYear:
    """Place an action in a year: its number, title, thème and narrative of that year."""
    action_year = ActionYear(
        action=action,
        convention_year=convention_year,
        theme=theme,
        number=number.strip().rstrip("."),
        title=title,
        block=block or theme.block,
        **fields,
    )
    return save_with_audit(
        action_year, actor=actor, reason=f"Fiche {action_year.number} ({convention_year.year})"
    )


@transaction.atomic
def budget_set(
    *,
    actor,
    action_year: ActionYear,
    kind: BudgetKind,
    other_fundings: list[tuple[Funder, str, Decimal]] | None = None,
    **amounts,
) -> Budget:
    """Create or replace the planned or executed budget of an action for its year.

    ``other_fundings`` are the lines of column E as ``(funder, funder_name, amount)``; ``None``
    leaves them as they are, an empty list removes them (E becomes an empty cell).
    """
    budget = Budget.objects.filter(action_year=action_year, kind=kind).first() or Budget(
        action_year=action_year, kind=kind
    )
    unknown = set(amounts) - {field.name for field in Budget._meta.fields}
    if unknown:
        raise ValidationError(f"Champs inconnus : {', '.join(sorted(unknown))}.")
    for name, value in amounts.items():
        setattr(budget, name, value)
    label = "prévisionnel" if kind == BudgetKind.PLANNED else "exécuté"
    save_with_audit(budget, actor=actor, reason=f"Budget {label} de la fiche {action_year.number}")
    if other_fundings is not None:
        # Lines are matched by funder: an unchanged line is not rewritten (no history noise).
        reason = f"Autres financeurs de la fiche {action_year.number}"
        existing = {(f.funder, f.funder_name): f for f in budget.other_fundings.all()}
        wanted = {(funder, name): amount for funder, name, amount in other_fundings}
        for key, funding in existing.items():
            if key not in wanted:
                funding._history_user = actor
                funding._change_reason = reason
                funding.delete()
        for (funder, funder_name), amount in wanted.items():
            funding = existing.get((funder, funder_name))
            if funding is not None and funding.amount == amount:
                continue
            funding = funding or OtherFunding(budget=budget, funder=funder, funder_name=funder_name)
            funding.amount = amount
            save_with_audit(funding, actor=actor, reason=reason)
    return budget


# --- Data entry by département staff (optimistic locking on the fiche-action of the year) ------


class ConcurrentEditError(Exception):
    """Someone saved the same fiche-action since the form was read: nothing was written."""

    def __init__(self, action_year: ActionYear, read_version: int):
        self.action_year = action_year
        self.read_version = read_version
        self.current_version = (
            ActionYear.objects.filter(pk=action_year.pk).values_list("version", flat=True).first()
        )
        super().__init__(
            "Cette fiche-action a été modifiée par quelqu'un d'autre pendant votre saisie : "
            "vos modifications n'ont pas été enregistrées."
        )


def action_year_claim(action_year: ActionYear, *, version: int) -> None:
    """Take the next version of the fiche-action, or refuse if another save came first.

    One conditional ``UPDATE … WHERE version = read version``: of two concurrent saves, the
    database lets exactly one through (the other waits for the row, then matches nothing).
    """
    updated = ActionYear.objects.filter(pk=action_year.pk, version=version).update(
        version=F("version") + 1
    )
    if not updated:
        raise ConcurrentEditError(action_year, version)
    action_year.version = version + 1


PROVISIONAL_PREFIX = "R-"

IDENTITY_FIELDS = (
    "number",
    "sequence_number",
    "title",
    "previous_reference",
    "theme",
    "block",
    "lead_service",
    "start_date",
    "start_date_text",
    "duration",
    "partners",
    "objectives",
    "fapi_funded",
)
NARRATIVE_FIELDS = ("description", "execution_review", "outlook")


@transaction.atomic
def action_year_update(
    *, actor, action_year: ActionYear, version: int, reason: str = "", **fields
) -> ActionYear:
    """Change the fiche of the year (identity or narrative), refused if it changed meanwhile."""
    unknown = set(fields) - set(IDENTITY_FIELDS) - set(NARRATIVE_FIELDS)
    if unknown:
        raise ValidationError(f"Champs inconnus : {', '.join(sorted(unknown))}.")
    action_year_claim(action_year, version=version)
    for name, value in fields.items():
        setattr(action_year, name, value)
    if "number" in fields:
        action_year.number = action_year.number.strip().rstrip(".")
    return save_with_audit(
        action_year, actor=actor, reason=reason or f"Fiche {action_year.number} modifiée"
    )


@transaction.atomic
def budget_save(
    *,
    actor,
    action_year: ActionYear,
    kind: BudgetKind,
    version: int,
    other_fundings: list[tuple[Funder, str, Decimal]],
    **amounts,
) -> Budget:
    """Save a budget from its form: the amounts and the lines of column E, all or nothing."""
    action_year_claim(action_year, version=version)
    # ``version`` is not a tracked field of the budget; the fiche's new version is in its history.
    save_with_audit(action_year, actor=actor, reason=f"Budget de la fiche {action_year.number}")
    return budget_set(
        actor=actor,
        action_year=action_year,
        kind=kind,
        other_fundings=other_fundings,
        **amounts,
    )


@transaction.atomic
def action_year_retire(*, actor, action_year: ActionYear, version: int, reason: str) -> ActionYear:
    """Retire a fiche from the year: it stays in the history, it is no longer carried forward."""
    if not reason.strip():
        raise ValidationError({"reason": "Indiquez le motif du retrait."})
    action_year_claim(action_year, version=version)
    action_year.status = ActionStatus.RETIRED
    return save_with_audit(
        action_year, actor=actor, reason=f"Fiche {action_year.number} retirée : {reason.strip()}"
    )


@transaction.atomic
def action_year_reinstate(*, actor, action_year: ActionYear, version: int) -> ActionYear:
    action_year_claim(action_year, version=version)
    action_year.status = ActionStatus.ACTIVE
    return save_with_audit(action_year, actor=actor, reason=f"Fiche {action_year.number} rétablie")


@transaction.atomic
def action_years_renumber(
    *, actor, convention_year: ConventionYear, numbers: dict[int, str]
) -> list[ActionYear]:
    """Give the fiches of a year new numbers at once (swaps included), with history.

    ``numbers`` maps the id of each fiche of the year to its new number. The unique constraint
    on (exercice, numéro) is checked at each statement, so the numbers first go through
    temporary values inside the transaction; the history records only the final change.
    """
    # The numbers are written in bulk, without full_clean(): the lock is checked here.
    ensure_year_open(convention_year.pk)
    action_years = list(
        ActionYear.objects.select_for_update().filter(convention_year=convention_year)
    )
    by_pk = {action_year.pk: action_year for action_year in action_years}
    unknown = set(numbers) - set(by_pk)
    if unknown:
        raise ValidationError("Une fiche ne fait pas partie de cet exercice.")
    cleaned = {pk: number.strip().rstrip(".") for pk, number in numbers.items()}
    final = {pk: cleaned.get(pk, action_year.number) for pk, action_year in by_pk.items()}
    errors = {}
    seen: dict[str, int] = {}
    for pk, number in sorted(final.items()):
        if not number:
            errors[pk] = "Indiquez un numéro."
        elif number in seen:
            errors[pk] = f"Le numéro {number} est déjà donné à une autre fiche."
        else:
            seen[number] = pk
    if errors:
        raise ValidationError({str(pk): message for pk, message in errors.items()})
    changed = [by_pk[pk] for pk, number in final.items() if by_pk[pk].number != number]
    if not changed:
        return []
    ActionYear.objects.filter(pk__in=[action_year.pk for action_year in changed]).update(
        number=Concat(Value("~"), Cast("id", CharField())), version=F("version") + 1
    )
    for action_year in changed:
        action_year.number = final[action_year.pk]
        action_year.version += 1
    bulk_update_with_history(
        changed,
        ActionYear,
        ["number", "version"],
        default_user=actor,
        default_change_reason=f"Renumérotation des fiches {convention_year.year}",
    )
    return changed


def _carried_amounts(action_year: ActionYear) -> dict:
    """The "à reporter" amounts of year N, as the "reports" columns B and D of year N+1."""
    executed = Budget.objects.filter(action_year=action_year, kind=BudgetKind.EXECUTED).first()
    if executed is None:
        return {}
    return {
        "state_carried_over": executed.carry_over_state,
        "cd_carried_over": executed.carry_over_cd,
    }


@transaction.atomic
def action_carry_forward(
    *, actor, action_year: ActionYear, target: ConventionYear, provisional_number: bool = False
) -> ActionYear:
    """Carry a fiche into a later year, keeping its identity (``Action``).

    The fiche of year N+1 starts with the number, title, thème and description of year N, and its
    planned budget's "reports" columns (B, D) are prefilled from the amounts "à reporter" of N.
    When its number is already taken in the target year, the carry is refused, or, with
    ``provisional_number``, the fiche gets a provisional number "R-<number>" to renumber.
    """
    source = action_year.convention_year
    if target.pk == source.pk or target.year <= source.year:
        raise ValidationError("Choisissez un exercice postérieur.")
    if target.convention.department_id != source.convention.department_id:
        raise ValidationError("L'exercice choisi appartient à un autre Département.")
    if ActionYear.objects.filter(convention_year=target, action=action_year.action).exists():
        raise ValidationError(
            f"La fiche {action_year.number} est déjà reconduite sur {target.year}."
        )
    number = action_year.number
    if ActionYear.objects.filter(convention_year=target, number=number).exists():
        if not provisional_number:
            raise ValidationError(
                f"Le numéro {number} est déjà pris en {target.year} : renumérotez avant de "
                "reconduire."
            )
        number = f"{PROVISIONAL_PREFIX}{number}"
        while ActionYear.objects.filter(convention_year=target, number=number).exists():
            number = f"{PROVISIONAL_PREFIX}{number}"
    carried = action_year_create(
        actor=actor,
        action=action_year.action,
        convention_year=target,
        theme=action_year.theme,
        number=number,
        title=action_year.title,
        block=action_year.block,
        sequence_number=action_year.sequence_number,
        previous_reference=action_year.previous_reference,
        lead_service=action_year.lead_service,
        description=action_year.description,
        partners=action_year.partners,
        objectives=action_year.objectives,
        duration=action_year.duration,
        start_date=action_year.start_date,
        start_date_text=action_year.start_date_text,
        fapi_funded=action_year.fapi_funded,
    )
    amounts = {k: v for k, v in _carried_amounts(action_year).items() if v is not None}
    if amounts:
        budget_set(actor=actor, action_year=carried, kind=BudgetKind.PLANNED, **amounts)
    return carried


@transaction.atomic
def convention_year_carry_forward(
    *, actor, source: ConventionYear, target: ConventionYear
) -> list[ActionYear]:
    """Carry every fiche still active in ``source`` that ``target`` does not have yet."""
    present = set(
        ActionYear.objects.filter(convention_year=target).values_list("action_id", flat=True)
    )
    return [
        action_carry_forward(
            actor=actor, action_year=action_year, target=target, provisional_number=True
        )
        for action_year in ActionYear.objects.filter(
            convention_year=source, status=ActionStatus.ACTIVE
        )
        .exclude(action_id__in=present)
        .select_related("action", "theme", "convention_year__convention")
    ]


@transaction.atomic
def action_year_add(
    *,
    actor,
    convention_year: ConventionYear,
    name: str,
    theme: Theme,
    number: str,
    title: str,
    **fields,
) -> ActionYear:
    """Create a new fiche-action (identity and fiche of the year) from the year page."""
    convention = convention_year.convention
    base = slugify(name or title)[:60] or "fiche"
    code, suffix = base, 2
    while Action.objects.filter(
        department=convention.department, programme=convention.programme, code=code
    ).exists():
        code, suffix = f"{base}-{suffix}", suffix + 1
    if ActionYear.objects.filter(convention_year=convention_year, number=number.strip()).exists():
        raise ValidationError({"number": f"Le numéro {number} est déjà pris cette année."})
    action = action_create(
        actor=actor,
        department=convention.department,
        programme=convention.programme,
        code=code,
        name=name or title,
    )
    return action_year_create(
        actor=actor,
        action=action,
        convention_year=convention_year,
        theme=theme,
        number=number,
        title=title,
        **fields,
    )
