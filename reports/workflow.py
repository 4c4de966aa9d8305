"""The review of a year's execution report, declared as data (pure, no Django import).

The real process (CALPAE.md §3.2, and the glossary: « Délibération »): the Département adopts
its report by délibération and transmits it to the préfet; the prefecture's reviewer returns it
for completion, with a reason, or validates it. A transmitted or validated year is locked
(``LOCKED_STATES``): its data cannot change through any path until it is returned — or unlocked
by the national administrator, with a written reason.

    brouillon ──transmettre──▶ transmis ──valider──▶ validé
                                 │   ▲                 │
                          renvoyer   transmettre       │ déverrouiller
                                 ▼   │                 │ (aussi depuis « transmis »)
                              à compléter ◀────────────┘
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    VALIDATED = "validated"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    State.DRAFT: "Brouillon",
    State.SUBMITTED: "Transmis",
    State.RETURNED: "À compléter",
    State.VALIDATED: "Validé",
}

LOCKED_STATES = frozenset({State.SUBMITTED, State.VALIDATED})


class Actor(StrEnum):
    """Who may take a transition: a role in the Département (``conventions.choices.Role``
    values) or the national administrator."""

    REFERENT = "referent"
    DEPARTMENT_ADMIN = "admin"
    REVIEWER = "reviewer"
    NATIONAL_ADMIN = "national_admin"


class Step(StrEnum):
    SUBMIT = "submit"
    RETURN = "return"
    VALIDATE = "validate"
    UNLOCK = "unlock"


@dataclass(frozen=True)
class Transition:
    step: Step
    label: str  # the button
    done: str  # the message once taken
    sources: frozenset[State]
    target: State
    actors: frozenset[Actor]
    needs_reason: bool = False  # a written reason, kept in the year's history
    needs_deliberation: bool = False  # the délibération's number and date
    needs_justified_findings: bool = False  # every finding of the tables justified

    @property
    def actors_text(self) -> str:
        return ", ".join(ACTOR_LABELS[actor] for actor in sorted(self.actors))


ACTOR_LABELS = {
    Actor.REFERENT: "le référent du Département",
    Actor.DEPARTMENT_ADMIN: "l'administrateur du Département",
    Actor.REVIEWER: "le relecteur de la préfecture",
    Actor.NATIONAL_ADMIN: "l'administrateur national",
}

TRANSITIONS = (
    Transition(
        Step.SUBMIT,
        "Transmettre à la préfecture",
        "Rapport transmis à la préfecture.",
        frozenset({State.DRAFT, State.RETURNED}),
        State.SUBMITTED,
        frozenset({Actor.REFERENT, Actor.DEPARTMENT_ADMIN, Actor.NATIONAL_ADMIN}),
        needs_deliberation=True,
        needs_justified_findings=True,
    ),
    Transition(
        Step.RETURN,
        "Renvoyer pour compléments",
        "Rapport renvoyé au Département pour compléments.",
        frozenset({State.SUBMITTED}),
        State.RETURNED,
        frozenset({Actor.REVIEWER, Actor.NATIONAL_ADMIN}),
        needs_reason=True,
    ),
    Transition(
        Step.VALIDATE,
        "Valider le rapport",
        "Rapport validé.",
        frozenset({State.SUBMITTED}),
        State.VALIDATED,
        frozenset({Actor.REVIEWER, Actor.NATIONAL_ADMIN}),
    ),
    Transition(
        Step.UNLOCK,
        "Déverrouiller",
        "Exercice déverrouillé : le rapport est à compléter.",
        frozenset({State.SUBMITTED, State.VALIDATED}),
        State.RETURNED,
        frozenset({Actor.NATIONAL_ADMIN}),
        needs_reason=True,
    ),
)
BY_STEP = {transition.step: transition for transition in TRANSITIONS}


@dataclass(frozen=True)
class Option:
    """A transition as a user sees it from a state: allowed, or why not."""

    transition: Transition
    why_not: str = ""

    @property
    def allowed(self) -> bool:
        return not self.why_not


def options(state: State, actors: frozenset[Actor], *, open_findings: int = 0) -> list[Option]:
    """The transitions leaving ``state``, each allowed for ``actors`` or with the reason why
    not, in French."""
    result = []
    for transition in TRANSITIONS:
        if state not in transition.sources:
            continue
        why_not = ""
        if not actors & transition.actors:
            why_not = f"Réservé à {transition.actors_text}."
        elif transition.needs_justified_findings and open_findings:
            why_not = (
                f"{open_findings} constat(s) sans justification : justifiez-les ou corrigez "
                "les données avant de transmettre."
            )
        result.append(Option(transition, why_not))
    return result


def option(state: State, step: Step, actors: frozenset[Actor], *, open_findings: int = 0) -> Option:
    """One transition from ``state``: allowed, or why not (also when it does not leave it)."""
    for candidate in options(state, actors, open_findings=open_findings):
        if candidate.transition.step == step:
            return candidate
    transition = BY_STEP[step]
    return Option(
        transition,
        f"« {transition.label} » est impossible : le rapport est à l'état « {state.label} ».",
    )
