"""Business actions on fiches-actions and budgets (writes)."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from actions.choices import BudgetKind, Funder
from actions.models import Action, ActionYear, Budget, OtherFunding
from calpae.audit import save_with_audit
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
        for funding in budget.other_fundings.all():
            funding._history_user = actor
            funding.delete()
        for funder, funder_name, amount in other_fundings:
            save_with_audit(
                OtherFunding(budget=budget, funder=funder, funder_name=funder_name, amount=amount),
                actor=actor,
                reason=f"Autres financeurs de la fiche {action_year.number}",
            )
    return budget
