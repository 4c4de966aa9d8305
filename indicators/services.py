"""Business actions on indicators (writes)."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from actions.models import ActionYear
from actions.services import action_year_claim
from calpae.audit import save_with_audit
from indicators.choices import PeriodKind
from indicators.models import Indicator, IndicatorTarget, IndicatorValue, MatrixEntry, Period
from indicators.parsing import parse_indicator_value
from indicators.selectors import action_indicator_sheet


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


@transaction.atomic
def period_annual_ensure(*, actor, department, year: int) -> Period:
    """The column « Au 31/12/N » of a Département, created if the year has no annual period.

    Idempotent: an existing annual period of the year (« Résultat atteint en 2022 (Total) »)
    or an existing « Au 31/12/N » is returned as it is.
    """
    label = f"Au 31/12/{year}"
    existing = (
        Period.objects.filter(
            department=department,
            year=year,
            kind=PeriodKind.YEAR,
            end_date=datetime.date(year, 12, 31),
        )
        .order_by("start_date", "pk")
        .first()
        or Period.objects.filter(department=department, label=label).first()
    )
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return period_create(
                actor=actor,
                department=department,
                label=label,
                kind=PeriodKind.YEAR,
                year=year,
                start_date=datetime.date(year, 1, 1),
                end_date=datetime.date(year, 12, 31),
            )
    except (IntegrityError, ValidationError):
        # Two clicks at once: the other request created it between our read and our write.
        created = Period.objects.filter(department=department, label=label).first()
        if created is None:
            raise
        return created


@transaction.atomic
def indicator_entries_save(
    *,
    actor,
    action_year: ActionYear,
    version: int,
    targets: dict[int, str],
    values: dict[tuple[int, int], str],
) -> int:
    """Save the indicator table of a fiche-action: targets of the year and values per period.

    All or nothing, refused (``ConcurrentEditError``) when the fiche was saved since it was read
    at ``version``. ``targets`` maps an indicator id to the text of « Objectif N »; ``values``
    maps (indicator id, period id) to the text of the cell. Only changed cells are written; an
    emptied cell deletes the saved one (the deletion is in the history). Returns the number of
    cells written or deleted.
    """
    action_year_claim(action_year, version=version)
    save_with_audit(
        action_year, actor=actor, reason=f"Indicateurs de la fiche {action_year.number}"
    )
    sheet = action_indicator_sheet(action_year)
    target_cells = {row.indicator.pk: row.target for row in sheet.rows}
    value_cells = {
        (cell.indicator.pk, cell.period.pk): cell for row in sheet.rows for cell in row.values
    }
    if set(targets) - set(target_cells) or set(values) - set(value_cells):
        raise ValidationError("Une case ne fait pas partie du tableau des indicateurs de la fiche.")
    convention_year = action_year.convention_year
    posted = [(target_cells[key], raw) for key, raw in targets.items()]
    posted += [(value_cells[key], raw) for key, raw in values.items()]
    changed = 0
    for cell, raw in posted:
        parsed = parse_indicator_value(raw)
        saved = cell.saved
        if parsed is None and saved is None:
            continue
        if parsed is not None and saved is not None and " ".join(saved.raw.split()) == parsed.raw:
            continue
        changed += 1
        what = f"Objectif {convention_year.year}" if cell.period is None else cell.period.label
        if parsed is None:
            saved._history_user = actor
            saved._change_reason = f"{what} : case vidée"
            saved.delete()
            continue
        # The comment (source, footnote) of a saved cell is not on this page: keep it.
        comment = saved.comment if saved is not None else ""
        if cell.period is None:
            indicator_target_set(
                actor=actor,
                indicator=cell.indicator,
                convention_year=convention_year,
                raw=parsed.raw,
                comment=comment,
            )
        else:
            indicator_value_set(
                actor=actor,
                indicator=cell.indicator,
                period=cell.period,
                raw=parsed.raw,
                comment=comment,
            )
    return changed
