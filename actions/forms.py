"""Forms of the data-entry pages. Validation messages are French and name the field."""

from django import forms
from django.forms import formset_factory

from actions.choices import BudgetKind, Funder
from actions.models import EXECUTION_AMOUNT_FIELDS, PLANNED_AMOUNT_FIELDS, ActionYear, Budget
from actions.services import IDENTITY_FIELDS, NARRATIVE_FIELDS
from calpae.forms import AmountField, NormalizedTextMixin, VersionField
from conventions.models import ConventionYear, Theme


def year_themes(convention_year: ConventionYear):
    """The thèmes of the year's financial table, in its order."""
    return Theme.objects.filter(years__convention_year=convention_year).order_by("years__position")


def error_count(*forms_or_formsets) -> int:
    total = 0
    for item in forms_or_formsets:
        if isinstance(item, forms.BaseFormSet):
            total += len(item.non_form_errors()) + sum(
                len(errors) for form_errors in item.errors for errors in form_errors.values()
            )
        else:
            total += sum(len(errors) for errors in item.errors.values())
    return total


class VersionedModelForm(NormalizedTextMixin, forms.ModelForm):
    """A form on the fiche of the year that carries the version it was read at."""

    version = VersionField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.instance.version


class ActionYearForm(VersionedModelForm):
    """La fiche de l'année : numéro, intitulé, thème, bloc, pilotage."""

    class Meta:
        model = ActionYear
        fields = IDENTITY_FIELDS
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "partners": forms.Textarea(attrs={"rows": 3}),
            "objectives": forms.Textarea(attrs={"rows": 4}),
            "duration": forms.TextInput(),
            "start_date_text": forms.TextInput(),
        }

    def __init__(self, *args, convention_year: ConventionYear, **kwargs):
        super().__init__(*args, **kwargs)
        self.convention_year = convention_year
        self.fields["theme"].queryset = year_themes(convention_year)
        self.fields["number"].help_text = "Numéro de la fiche cette année, par exemple « 5.4 »."
        self.fields[
            "sequence_number"
        ].help_text = "Numéro d'ordre imprimé dans la convention (« FICHE 8 » : 8), s'il y en a un."
        self.fields["theme"].label_from_instance = lambda theme: theme.label

    def clean_number(self):
        number = self.cleaned_data["number"].strip().rstrip(".")
        if not number:
            raise forms.ValidationError("Indiquez le numéro de la fiche.")
        taken = ActionYear.objects.filter(
            convention_year=self.convention_year, number=number
        ).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(
                f"Le numéro {number} est déjà donné à une autre fiche de "
                f"{self.convention_year.year}."
            )
        return number


class NarrativeForm(VersionedModelForm):
    """Le récit : description, bilan d'exécution, perspectives."""

    class Meta:
        model = ActionYear
        fields = NARRATIVE_FIELDS
        widgets = {name: forms.Textarea(attrs={"rows": 10}) for name in NARRATIVE_FIELDS}


class ActionCreateForm(NormalizedTextMixin, forms.Form):
    number = forms.CharField(
        label="Fiche action n°", max_length=20, help_text="Par exemple « 5.4 »."
    )
    title = forms.CharField(label="Intitulé", max_length=500)
    theme = forms.ModelChoiceField(label="Thème", queryset=Theme.objects.none())
    name = forms.CharField(
        label="Nom usuel",
        max_length=200,
        required=False,
        help_text="Nom court qui suit la fiche d'une année à l'autre ; l'intitulé par défaut.",
    )

    def __init__(self, *args, convention_year: ConventionYear, **kwargs):
        super().__init__(*args, **kwargs)
        self.convention_year = convention_year
        self.fields["theme"].queryset = year_themes(convention_year)
        self.fields["theme"].label_from_instance = lambda theme: theme.label

    def clean_number(self):
        number = self.cleaned_data["number"].strip().rstrip(".")
        if ActionYear.objects.filter(convention_year=self.convention_year, number=number).exists():
            raise forms.ValidationError(
                f"Le numéro {number} est déjà donné à une fiche de {self.convention_year.year}."
            )
        return number


BUDGET_LABELS = {
    "state_new": "A — Crédits État de l'année",
    "state_carried_over": "B — Crédits État N-1 reportés",
    "cd_new": "C — Crédits CD de l'année",
    "valorisation": "Dont valorisation de dépenses du CD",
    "cd_carried_over": "D — Crédits CD N-1 reportés ou reprogrammés",
    "declared_total": "Budget global déclaré (si le document ne donne pas la répartition)",
    "realised": "Montant total réalisé au 31/12",
    "carry_over_state": "Montant à reporter en N+1 — part État",
    "carry_over_cd": "Montant à reporter en N+1 — part CD",
    "carry_over_unallocated": "Montant à reporter en N+1 — non ventilé",
}


class BudgetForm(NormalizedTextMixin, forms.Form):
    """Les colonnes du tableau officiel pour une fiche ; les autres financeurs à part."""

    version = VersionField()
    comment = forms.CharField(
        label="Commentaire", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, kind: str, year: int, **kwargs):
        super().__init__(*args, **kwargs)
        names = PLANNED_AMOUNT_FIELDS + (
            EXECUTION_AMOUNT_FIELDS if kind == BudgetKind.EXECUTED else ()
        )
        comment = self.fields.pop("comment")
        version = self.fields.pop("version")
        for name in names:
            label = BUDGET_LABELS[name].replace("N+1", str(year + 1)).replace("N-1", str(year - 1))
            self.fields[name] = AmountField(label=label, required=False)
        self.fields["comment"] = comment
        self.fields["version"] = version
        self.amount_names = names

    def clean(self):
        cleaned = super().clean()
        valorisation, cd_new = cleaned.get("valorisation"), cleaned.get("cd_new")
        if valorisation is not None and cd_new is not None and valorisation > cd_new:
            self.add_error(
                "valorisation",
                "La valorisation est une partie des crédits CD de l'année (C) : elle ne peut pas "
                "les dépasser.",
            )
        return cleaned


class OtherFundingForm(forms.Form):
    funder = forms.ChoiceField(
        label="Financeur", choices=[("", "—"), *list(Funder.choices)], required=False
    )
    funder_name = forms.CharField(label="Nom du financeur", max_length=200, required=False)
    amount = AmountField(label="Montant", required=False)

    def clean(self):
        cleaned = super().clean()
        if self.cleaned_data.get("DELETE"):
            return cleaned
        funder, amount = cleaned.get("funder"), cleaned.get("amount")
        name = (cleaned.get("funder_name") or "").strip()
        if not funder and amount is None and not name:
            return cleaned  # an empty line
        if not funder:
            self.add_error("funder", "Choisissez le financeur.")
        if funder == Funder.OTHER and not name:
            self.add_error("funder_name", "Indiquez le nom du financeur.")
        if amount is None and "amount" not in self.errors:
            self.add_error("amount", "Indiquez le montant.")
        return cleaned


class BaseOtherFundingFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for form in self.forms:
            if form.cleaned_data.get("DELETE") or not form.cleaned_data.get("funder"):
                continue
            key = (form.cleaned_data["funder"], form.cleaned_data.get("funder_name", "").strip())
            if key in seen:
                raise forms.ValidationError("Le même financeur figure sur deux lignes.")
            seen.add(key)

    def lines(self):
        return [
            (
                form.cleaned_data["funder"],
                form.cleaned_data.get("funder_name", "").strip(),
                form.cleaned_data["amount"],
            )
            for form in self.forms
            if form.cleaned_data.get("funder") and not form.cleaned_data.get("DELETE")
        ]


OtherFundingFormSet = formset_factory(
    OtherFundingForm, formset=BaseOtherFundingFormSet, extra=2, can_delete=True, max_num=20
)


def budget_initial(budget: Budget | None, fallback: Budget | None = None) -> tuple[dict, list]:
    """Initial values of the budget form: the budget, else ``fallback`` (the prévisionnel)."""
    source = budget or fallback
    if source is None:
        return {}, []
    initial = {name: getattr(source, name) for name in PLANNED_AMOUNT_FIELDS}
    if budget is not None:
        initial.update({name: getattr(budget, name) for name in EXECUTION_AMOUNT_FIELDS})
        initial["comment"] = budget.comment
    fundings = [
        {"funder": f.funder, "funder_name": f.funder_name, "amount": f.amount}
        for f in source.other_fundings.all()
    ]
    return initial, fundings


class RetireForm(NormalizedTextMixin, forms.Form):
    version = VersionField()
    reason = forms.CharField(
        label="Motif du retrait",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Par exemple : « action fusionnée avec la fiche 3.2 ».",
    )


class ReinstateForm(forms.Form):
    version = VersionField()


class CarryForwardForm(forms.Form):
    target = forms.ModelChoiceField(
        label="Exercice de destination", queryset=ConventionYear.objects.none(), empty_label=None
    )

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = targets
        self.fields["target"].label_from_instance = lambda year: (
            f"{year.year} — {year.convention.title}"
        )


class RenumberForm(forms.Form):
    """Un numéro par fiche de l'année."""

    def __init__(self, *args, action_years, **kwargs):
        super().__init__(*args, **kwargs)
        self.action_years = list(action_years)
        for action_year in self.action_years:
            self.fields[f"number_{action_year.pk}"] = forms.CharField(
                label=f"Fiche « {action_year.title[:80]} »",
                max_length=20,
                initial=action_year.number,
            )

    def rows(self):
        return [
            (action_year, self[f"number_{action_year.pk}"]) for action_year in self.action_years
        ]

    def numbers(self) -> dict[int, str]:
        return {
            action_year.pk: self.cleaned_data[f"number_{action_year.pk}"]
            for action_year in self.action_years
        }

    def clean(self):
        cleaned = super().clean()
        seen = {}
        for action_year in self.action_years:
            name = f"number_{action_year.pk}"
            number = (cleaned.get(name) or "").strip().rstrip(".")
            if not number:
                continue
            if number in seen:
                self.add_error(name, f"Le numéro {number} est déjà donné à une autre fiche.")
            seen[number] = action_year.pk
            cleaned[name] = number
        return cleaned


class JustificationForm(NormalizedTextMixin, forms.Form):
    key = forms.CharField(widget=forms.HiddenInput, max_length=300)
    text = forms.CharField(
        label="Justification",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Explication écrite de l'écart, reprise dans le rapport. Vide : retire la "
        "justification.",
    )


MAX_UPLOAD_MEGABYTES = 10


class WorkbookImportForm(forms.Form):
    """Upload of an official financial table (« import d'un tableau »)."""

    file = forms.FileField(
        label="Fichier",
        help_text=(
            "Tableau financier récapitulatif (exécution, prévisionnel ou annexe d'avenant 2020), "
            f".xlsx, .ods, .xls ou .csv, {MAX_UPLOAD_MEGABYTES} Mo au plus."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.ods,.xls,.csv"}),
    )
    dry_run = forms.BooleanField(
        label="Simulation : lire et vérifier le fichier sans rien enregistrer",
        required=False,
        initial=True,
    )
    accept_printed_mismatch = forms.BooleanField(
        label="Importer même si des totaux imprimés diffèrent de la somme des lignes",
        required=False,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_MEGABYTES * 1024 * 1024:
            raise forms.ValidationError(
                f"Le fichier pèse plus de {MAX_UPLOAD_MEGABYTES} Mo : la limite est de "
                f"{MAX_UPLOAD_MEGABYTES} Mo."
            )
        return upload


class PendingImportForm(forms.Form):
    """Confirmation or cancellation of a simulated import: only the id of the kept file, which
    the view looks up among the user's own for the year."""

    pending = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
