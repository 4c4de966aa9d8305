"""Form fields and helpers shared by the data-entry pages.

French number entry: ``1 234,56``, ``1234,56``, ``1 234,56 €`` and ``1234.56`` are the same
amount. Errors are French and name the field; the templates show them beside the field and in a
summary at the top of the form (RGAA: error summary, focus on the first error).
"""

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import normalize_newlines

from reports.formatting import format_amount

# Every space a user or a spreadsheet may put between thousands: space, no-break space, narrow
# no-break space, thin space; plus the euro sign.
_IGNORED = re.compile(r"[\s\u00a0\u202f\u2009€]")
_AMOUNT = re.compile(r"^-?\d+([.,]\d{1,2})?$")


def parse_amount(text: str) -> Decimal | None:
    """``"1 234,56 €"`` → ``Decimal("1234.56")``; ``""`` → ``None``; raises ``ValueError``."""
    cleaned = _IGNORED.sub("", text or "")
    if not cleaned:
        return None
    if not _AMOUNT.match(cleaned):
        raise ValueError(text)
    try:
        return Decimal(cleaned.replace(",", ".")).quantize(Decimal("0.01"))
    except InvalidOperation as error:  # pragma: no cover - the pattern already excludes it
        raise ValueError(text) from error


class AmountInput(forms.TextInput):
    """A text input (not ``type=number``, which refuses "1 234,56") with a numeric keyboard."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "decimal", "autocomplete": "off", **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, Decimal):
            return format_amount(value)
        return super().format_value(value)


class AmountField(forms.Field):
    """An amount in euros, typed the French way; empty means an empty cell (``None``)."""

    widget = AmountInput
    default_error_messages = {
        "invalid": "Saisissez un montant en euros, par exemple 1 234,56.",
        "negative": "Le montant ne peut pas être négatif.",
        "too_large": "Le montant ne peut pas dépasser 999 999 999 999,99 €.",
    }

    def to_python(self, value):
        if isinstance(value, Decimal) or value is None:
            return value
        try:
            amount = parse_amount(str(value))
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        return amount

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        if value < 0:
            raise ValidationError(self.error_messages["negative"], code="negative")
        if value >= Decimal("1000000000000"):
            raise ValidationError(self.error_messages["too_large"], code="too_large")


class VersionField(forms.IntegerField):
    """The version of the fiche-action the form was read at (optimistic locking)."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(min_value=1, **kwargs)


class NormalizedTextMixin:
    """Texts with the line endings a browser sends (CRLF) stored as ``\n``: otherwise saving an
    untouched text would count as a change in the history."""

    def clean(self):
        cleaned = super().clean()
        for name, value in cleaned.items():
            if isinstance(value, str):
                cleaned[name] = normalize_newlines(value)
        return cleaned


class HomeFilterForm(forms.Form):
    """The filters of the home page's list of years (« Mes conventions »): a national or
    regional reviewer sees hundreds of years, a Département's user a few."""

    annee = forms.TypedChoiceField(label="Exercice", coerce=int, required=False, empty_value=None)
    region = forms.ChoiceField(label="Région", required=False)
    departement = forms.ChoiceField(label="Département", required=False)

    def __init__(self, data, *, years: list[int], regions, departments):
        super().__init__(data)
        self.fields["annee"].choices = [("", "Tous")] + [(year, str(year)) for year in years]
        self.fields["region"].choices = [("", "Toutes")] + [
            (region.code, region.name) for region in regions
        ]
        self.fields["departement"].choices = [("", "Tous")] + [
            (department.code, str(department)) for department in departments
        ]
