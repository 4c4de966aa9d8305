"""Daily reminders of the reports due or late (cron: ``manage.py send_reminders``)."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reports.notifications import REMINDER_DAYS, send_reminders


class Command(BaseCommand):
    help = (
        "Rappelle aux référents et administrateurs des Départements les rapports d'exécution à "
        f"transmettre ({', '.join(map(str, REMINDER_DAYS))} jours avant l'échéance, puis "
        "chaque semaine de retard). À lancer une fois par jour."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", help="Jour de référence AAAA-MM-JJ (par défaut : aujourd'hui)."
        )

    def handle(self, *, date, **options):
        try:
            today = datetime.date.fromisoformat(date) if date else timezone.localdate()
        except ValueError:
            raise CommandError(f"Date illisible : « {date} » (attendu : AAAA-MM-JJ).") from None
        sent = send_reminders(today)
        for year, count in sent:
            self.stdout.write(
                f"{year.convention.department.name} {year.year} : rappel envoyé à {count} "
                f"personne{'s' if count > 1 else ''}."
            )
        if not sent:
            self.stdout.write(f"Aucun rappel à envoyer le {today:%d/%m/%Y}.")
