"""Forms of the reports app: a step of the review of a year's report."""

from django import forms

from reports.workflow import BY_STEP, Step


class ReviewStepForm(forms.Form):
    """One step of the review: its reason, or the délibération that adopted the report."""

    step = forms.ChoiceField(
        choices=[(step.value, BY_STEP[step].label) for step in Step], widget=forms.HiddenInput
    )
    reason = forms.CharField(
        label="Motif",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Ce qui est à compléter ou à corriger, tel que le Département le lira.",
    )
    deliberation_number = forms.CharField(
        label="Numéro de la délibération",
        required=False,
        max_length=80,
        help_text="Par exemple « CD-2023/09/28-4/02 A ».",
    )
    deliberation_date = forms.DateField(
        label="Date de la délibération",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, step: Step | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if step is None:  # a posted form: the step of the form that was sent
            step = next((s for s in Step if f"{s.value}-step" in self.data), Step.SUBMIT)
        transition = BY_STEP[step]
        self.fields["step"].initial = step
        self.transition = transition
        self.fields["reason"].required = transition.needs_reason
        self.fields["deliberation_number"].required = transition.needs_deliberation
        self.fields["deliberation_date"].required = transition.needs_deliberation
        if not transition.needs_reason:
            del self.fields["reason"]
        if not transition.needs_deliberation:
            del self.fields["deliberation_number"], self.fields["deliberation_date"]
        self.prefix = step.value

    def clean_step(self):
        step = self.cleaned_data["step"]
        if step != self.transition.step:
            raise forms.ValidationError("Demande invalide : rechargez la page.")
        return step


class CommentForm(forms.Form):
    """A comment of the review: on the report, a fiche, or a line of a table."""

    text = forms.CharField(
        label="Commentaire", max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    action_year = forms.ModelChoiceField(
        label="Fiche-action", required=False, queryset=None, empty_label="Le rapport en général"
    )
    line = forms.CharField(
        label="Ligne d'un tableau",
        required=False,
        max_length=200,
        help_text="Facultatif : par exemple « TOTAUX FINANCIERS, réalisé ».",
    )

    def __init__(self, *args, convention_year, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the fiches of this year: an id of another year or Département is refused.
        self.fields["action_year"].queryset = convention_year.action_years.order_by("number")
