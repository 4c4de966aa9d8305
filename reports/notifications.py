"""Emails of the review: who is told of each step, and the reminders before the deadline.

Sent after the transaction commits (a step that fails sends nothing), through Django's mail
backend: the console by default, SMTP when ``EMAIL_HOST`` is set (``calpae/settings.py``).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db.models import Q
from django.urls import reverse

from conventions.choices import Role
from reports.workflow import BY_STEP, Step

# Who hears of each step: the prefecture's reviewers of a transmission, the Département of the
# answer.
DEPARTMENT_ROLES = (Role.AGENT, Role.REFERENT, Role.ADMIN)
RECIPIENT_ROLES = {
    Step.SUBMIT: (Role.REVIEWER,),
    Step.RETURN: DEPARTMENT_ROLES,
    Step.VALIDATE: DEPARTMENT_ROLES,
    Step.UNLOCK: (*DEPARTMENT_ROLES, Role.REVIEWER),
}


def _recipients(department_id: int, roles) -> list[str]:
    concerned = Q(memberships__department_id=department_id, memberships__role__in=roles)
    if Role.REVIEWER in roles:  # and the reviewers of the region
        concerned |= Q(regional_reviews__region__departments=department_id)
    users = get_user_model().objects.filter(concerned, is_active=True).distinct()
    return sorted({user.email for user in users if user.email})


def review_url(convention_year) -> str:
    return settings.SITE_URL + reverse("reports:review", args=[convention_year.pk])


def step_message(event) -> tuple[str, str]:
    """The subject and text of the email of a step."""
    year = event.convention_year
    department = year.convention.department
    transition = BY_STEP[Step(event.step)]
    who = event.actor.get_full_name() or event.actor.get_username()
    subject = f"[CALPAE] {department.name} — rapport {year.year} : {transition.label.lower()}"
    lines = [
        f"{who} a effectué l'étape « {transition.label} » du rapport d'exécution {year.year} "
        f"de {department.name}.",
        f"Nouvel état : {event.get_to_state_display()}.",
    ]
    if event.deliberation_number:
        lines.append(
            f"Délibération {event.deliberation_number} du {event.deliberation_date:%d/%m/%Y}."
        )
    if event.reason:
        lines += ["", "Motif :", event.reason]
    lines += ["", f"Relecture du rapport : {review_url(year)}"]
    return subject, "\n".join(lines)


def notify_step(event) -> int:
    """Email the people concerned by a step; the number of recipients."""
    recipients = _recipients(
        event.convention_year.convention.department_id, RECIPIENT_ROLES[Step(event.step)]
    )
    if not recipients:
        return 0
    subject, body = step_message(event)
    send_mass_mail([(subject, body, None, recipients)])
    return len(recipients)


def reminder_message(convention_year, today: datetime.date) -> tuple[str, str]:
    due = convention_year.effective_report_due_date
    days = (due - today).days
    department = convention_year.convention.department
    when = (
        f"dans {days} jour{'s' if days > 1 else ''}"
        if days > 0
        else "aujourd'hui"
        if days == 0
        else f"depuis {-days} jour{'s' if -days > 1 else ''}"
    )
    verb = "est attendu" if days >= 0 else "est en retard"
    subject = (
        f"[CALPAE] {department.name} — rapport {convention_year.year} : échéance le {due:%d/%m/%Y}"
    )
    body = "\n".join(
        [
            f"Le rapport d'exécution {convention_year.year} de {department.name} {verb} "
            f"({when} : échéance du {due:%d/%m/%Y}) et n'a pas encore été transmis.",
            "",
            f"Relecture du rapport : {review_url(convention_year)}",
        ]
    )
    return subject, body


# Days before the deadline when the Département is reminded; late, every week.
REMINDER_DAYS = (30, 14, 7, 1, 0)


def is_reminder_day(due: datetime.date, today: datetime.date) -> bool:
    days = (due - today).days
    return days in REMINDER_DAYS or (days < 0 and -days % 7 == 0)


def send_reminders(today: datetime.date) -> list[tuple[object, int]]:
    """Remind each Département whose report is due (or late) and not transmitted, on the
    reminder days; run daily (``manage.py send_reminders``). The years reminded, and to how
    many people."""
    from conventions.models import ConventionYear
    from reports.models import YearReview
    from reports.workflow import LOCKED_STATES

    transmitted = YearReview.objects.filter(state__in=LOCKED_STATES).values("convention_year")
    years = (
        ConventionYear.objects.filter(year__lt=today.year)
        .exclude(pk__in=transmitted)
        .select_related("convention__department")
    )
    sent = []
    messages = []
    for year in years:
        if not is_reminder_day(year.effective_report_due_date, today):
            continue
        recipients = _recipients(year.convention.department_id, (Role.REFERENT, Role.ADMIN))
        if recipients:
            subject, body = reminder_message(year, today)
            messages.append((subject, body, None, recipients))
            sent.append((year, len(recipients)))
    if messages:
        send_mass_mail(messages)
    return sent
