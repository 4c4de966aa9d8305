"""Business actions on indicators (writes)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from calpae.audit import save_with_audit
from indicators.models import Indicator, IndicatorTarget, IndicatorValue, MatrixEntry, Period
from indicators.parsing import parse_indicator_value


@transaction.atomic
def indicator_create(*, actor, programme, code: str, label: str, **fields) -> Indicator:
    return save_with_audit(
        Indicator(programme=programme, code=code, label=label, **fields),
        actor=actor,
        reason="Création de l'indicateur",
    )


@transaction.atomic
def period_create(*, actor, department, label: str, kind: str, year: int, **fields) -> Period:
    return save_with_audit(
        Period(department=department, label=label, kind=kind, year=year, **fields),
        actor=actor,
        reason="Création de la période",
    )


def _measured(raw: str, field: str) -> dict:
    parsed = parse_indicator_value(raw)
    if parsed is None:
        raise ValidationError({field: "Saisissez une valeur ou un statut."})
    return {"raw": parsed.raw, "number": parsed.number, "status": parsed.status}


@transaction.atomic
def indicator_value_set(
    *, actor, indicator: Indicator, period: Period, raw: str, comment: str = "", **fields
) -> IndicatorValue:
    """Record the value of an indicator for a period, from the text as printed or typed."""
    value = IndicatorValue.objects.filter(indicator=indicator, period=period).first()
    value = value or IndicatorValue(indicator=indicator, period=period)
    for name, field_value in {**_measured(raw, "raw"), "comment": comment, **fields}.items():
        setattr(value, name, field_value)
    return save_with_audit(value, actor=actor, reason=f"Valeur {period.label}")


@transaction.atomic
def indicator_target_set(
    *, actor, indicator: Indicator, convention_year, raw: str, comment: str = ""
) -> IndicatorTarget:
    target = IndicatorTarget.objects.filter(
        indicator=indicator, convention_year=convention_year
    ).first() or IndicatorTarget(indicator=indicator, convention_year=convention_year)
    for name, field_value in {**_measured(raw, "raw"), "comment": comment}.items():
        setattr(target, name, field_value)
    return save_with_audit(target, actor=actor, reason=f"Objectif {convention_year.year}")


@transaction.atomic
def matrix_entry_create(
    *, actor, convention_year, indicator: Indicator, position: int, **fields
) -> MatrixEntry:
    """Place an indicator in the matrix of a year, under its group and measure headings."""
    return save_with_audit(
        MatrixEntry(
            convention_year=convention_year, indicator=indicator, position=position, **fields
        ),
        actor=actor,
        reason=f"Matrice des indicateurs {convention_year.year}",
    )
