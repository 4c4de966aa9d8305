"""Form of the indicator table of a fiche-action: one free-text cell per target and value.

A cell is typed as printed in the official matrices: a number (« 10 941 », « 47,63 % »,
« 39,5 ») or a status with its text (« Non contractualisé », « Données non disponibles… »).
Errors are French; the templates name the cell (« Objectif 2023 — Nombre de … : … ») beside it
and in the error summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.forms.forms import NON_FIELD_ERRORS

from calpae.forms import NormalizedTextMixin, VersionField
from indicators.models import IndicatorValue
from indicators.parsing import parse_indicator_value
from indicators.selectors import Cell, IndicatorSheet

RAW_MAX_LENGTH = IndicatorValue._meta.get_field("raw").max_length
_NUMBER_FIELD = IndicatorValue._meta.get_field("number")
INTEGER_DIGITS = _NUMBER_FIELD.max_digits - _NUMBER_FIELD.decimal_places
DECIMAL_PLACES = _NUMBER_FIELD.decimal_places

UNREADABLE = (
    "Texte illisible : saisissez un nombre (« 10 941 », « 47,63 % », « 39,5 ») ou un statut "
    "suivi de son explication (« Non contractualisé », « Données non disponibles… »)."
)


def cell_problem(text: str) -> str | None:
    """Why a typed cell cannot be saved (French), or ``None``; an empty cell is fine."""
    try:
        parsed = parse_indicator_value(text)
    except (ValueError, ArithmeticError):
        return UNREADABLE
    if parsed is None:
        return None
    if len(parsed.raw) > RAW_MAX_LENGTH:
        return (
            f"Le texte dépasse {RAW_MAX_LENGTH} caractères ({len(parsed.raw)} saisis) : "
            f"raccourcissez-le."
        )
    number = parsed.number
    if number is None:
        return None
    if not number.is_finite():
        return UNREADABLE
    if abs(number) >= Decimal(10) ** INTEGER_DIGITS:
        return (
            f"Le nombre lu est trop grand ({INTEGER_DIGITS} chiffres au plus avant la virgule) : "
            f"vérifiez la saisie."
        )
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > DECIMAL_PLACES:
        return f"Le nombre lu a plus de {DECIMAL_PLACES} décimales : arrondissez-le."
    return None


class IndicatorCellField(forms.CharField):
    """A cell of the table, as printed: a number or a status with its text; empty = no value."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 2, "cols": 16}))
        super().__init__(required=False, strip=True, **kwargs)

    def validate(self, value):
        super().validate(value)
        problem = cell_problem(value)
        if problem:
            raise ValidationError(problem, code="unreadable")


@dataclass(frozen=True)
class EntryCell:
    cell: Cell
    field: forms.BoundField
    current: str  # saved meanwhile by someone else (after a refused save), else ""


class IndicatorEntryForm(NormalizedTextMixin, forms.Form):
    """Objectif de l'année et valeur par période, pour chaque indicateur de la fiche."""

    version = VersionField(label="Version de la fiche")

    def __init__(self, *args, sheet: IndicatorSheet, **kwargs):
        super().__init__(*args, **kwargs)
        self.sheet = sheet
        self.fields["version"].initial = sheet.action_year.version
        for cell in sheet.cells:
            self.fields[cell.key] = IndicatorCellField(
                label=cell.label,
                initial=cell.raw,
                help_text=f"Enregistré : {cell.interpretation}" if cell.saved else "",
            )

    def _posted(self, cell: Cell) -> bool:
        # A cell absent from the posted form (a column added since the page was read) is left
        # as it is rather than emptied.
        return cell.key in self.data

    def targets(self) -> dict[int, str]:
        return {
            row.indicator.pk: self.cleaned_data[row.target.key]
            for row in self.sheet.rows
            if self._posted(row.target)
        }

    def values(self) -> dict[tuple[int, int], str]:
        return {
            (cell.indicator.pk, cell.period.pk): self.cleaned_data[cell.key]
            for row in self.sheet.rows
            for cell in row.values
            if self._posted(cell)
        }

    def table_rows(self, current: dict[str, str] | None = None):
        """``(row, [EntryCell…])`` in the order of the table, for the template."""
        current = current or {}
        return [
            (
                row,
                [EntryCell(cell, self[cell.key], current.get(cell.key, "")) for cell in row.cells],
            )
            for row in self.sheet.rows
        ]

    def error_items(self) -> list[dict]:
        """The error summary: each error names its cell and links to it."""
        items = []
        for name, errors in self.errors.items():
            for message in errors:
                if name == NON_FIELD_ERRORS:
                    items.append({"label": "Enregistrement", "message": message, "anchor": ""})
                else:
                    bound = self[name]
                    items.append(
                        {
                            "label": bound.label,
                            "message": message,
                            "anchor": "" if bound.is_hidden else bound.id_for_label,
                        }
                    )
        return items
