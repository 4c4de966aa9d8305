"""``manage.py prune_access_denials``: the refused accesses older than the retention period are
deleted (README « Déploiement en production », daily tasks). The admin never deletes them."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from calpae.models import AccessDenial


class Command(BaseCommand):
    help = "Supprime les refus d'accès enregistrés depuis plus de --days jours (365 par défaut)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=365)

    def handle(self, *, days, **options):
        if days < 1:
            raise CommandError("--days : un nombre de jours d'au moins 1.")
        limit = timezone.now() - datetime.timedelta(days=days)
        deleted, _ = AccessDenial.objects.filter(at__lt=limit).delete()
        self.stdout.write(f"{deleted} refus d'accès de plus de {days} jours supprimé(s).")
