"""Business actions on conventions (writes). Each is one transaction with an audit entry."""

import datetime
from decimal import Decimal

from django.db import transaction

from calpae.audit import save_with_audit
from conventions.choices import AmendmentKind, EnvelopeKind
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


@transaction.atomic
def convention_create(
    *,
    actor,
    department: Department,
    programme: Programme,
    title: str,
    start_date: datetime.date,
    end_date: datetime.date,
    **fields,
) -> Convention:
    convention = Convention(
        department=department,
        programme=programme,
        title=title,
        start_date=start_date,
        end_date=end_date,
        **fields,
    )
    return save_with_audit(convention, actor=actor, reason="Création de la convention")


@transaction.atomic
def convention_year_open(
    *,
    actor,
    convention: Convention,
    year: int,
    state_credit: Decimal | None = None,
    amendment: Amendment | None = None,
    theme_layout: list[dict] | None = None,
    **fields,
) -> ConventionYear:
    """Open a year (exercice) of a convention with the thèmes of its financial table.

    ``theme_layout`` lists the thèmes in the order of the year's official table, each a dict
    ``{"theme": Theme, "printed_label": str, "chorus_note": str, "placeholder_rows": [...]}``;
    by default every thème of the programme's catalogue, in catalogue order.
    """
    convention_year = ConventionYear(
        convention=convention, year=year, state_credit=state_credit, amendment=amendment, **fields
    )
    convention_year.report_due_date = convention_year.effective_report_due_date
    save_with_audit(convention_year, actor=actor, reason=f"Ouverture de l'exercice {year}")
    if theme_layout is None:
        theme_layout = [
            {"theme": theme} for theme in Theme.objects.filter(programme=convention.programme)
        ]
    for position, entry in enumerate(theme_layout, start=1):
        save_with_audit(
            ThemeYear(convention_year=convention_year, position=position, **entry),
            actor=actor,
            reason=f"Tableau financier {year}",
        )
    return convention_year


@transaction.atomic
def amendment_create(
    *,
    actor,
    convention: Convention,
    kind: AmendmentKind,
    **fields,
) -> Amendment:
    """Record an avenant; a financial avenant sets the State credit of its year."""
    amendment = save_with_audit(
        Amendment(convention=convention, kind=kind, **fields),
        actor=actor,
        reason="Enregistrement de l'avenant",
    )
    if kind == AmendmentKind.FINANCIAL:
        convention_year = ConventionYear.objects.filter(
            convention=convention, year=amendment.year
        ).first()
        if convention_year is not None:
            convention_year.amendment = amendment
            convention_year.state_credit = amendment.state_amount
            save_with_audit(convention_year, actor=actor, reason=f"{amendment} : crédit État")
    return amendment


@transaction.atomic
def state_envelope_create(
    *,
    actor,
    convention_year: ConventionYear,
    themes: list[Theme],
    amount: Decimal,
    kind: EnvelopeKind = EnvelopeKind.NOTIFIED,
    note: str = "",
) -> StateEnvelope:
    envelope = save_with_audit(
        StateEnvelope(convention_year=convention_year, kind=kind, amount=amount, note=note),
        actor=actor,
        reason="Enveloppe de crédits État",
    )
    envelope.themes.set(themes)
    return envelope
