"""Back up the whole database to one file (README « Sauvegardes et restauration »).

    manage.py backup [--output var/backups/calpae-postgresql-20261124-030000.dump]

PostgreSQL: ``pg_dump --format=custom``; SQLite: the online backup API (a consistent copy while
the application runs). The file, its size and SHA-256 are printed for the cron job's log.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from calpae import backups


class Command(BaseCommand):
    help = (
        "Sauvegarde toute la base de données, fichiers générés et importés compris "
        "(PostgreSQL : pg_dump ; SQLite : copie à chaud)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            type=Path,
            help="Fichier à écrire (par défaut : var/backups/calpae-<moteur>-<date>.dump "
            "ou .sqlite3).",
        )

    def handle(self, *, output: Path | None, **options):
        connection = connections[DEFAULT_DB_ALIAS]
        output = output or backups.default_path(vendor=connection.vendor)
        try:
            saved = backups.backup(connection=connection, output=output)
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Sauvegarde de la base {backups.database_label(connection=connection)}"
            )
        )
        self.stdout.write(f"Fichier : {saved.path}")
        self.stdout.write(f"Taille : {saved.size} octets")
        self.stdout.write(f"SHA-256 : {saved.sha256}")
