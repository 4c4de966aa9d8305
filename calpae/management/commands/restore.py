"""Restore a backup made by ``manage.py backup`` (README « Sauvegardes et restauration »).

    manage.py restore --input var/backups/calpae-postgresql-20261124-030000.dump [--force]

The file is read through before anything is touched; a database that already has tables is
replaced only with ``--force``. Afterwards the conventions and migrations are counted, as a
sanity check that the application reads the restored database.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from calpae import backups


class Command(BaseCommand):
    help = (
        "Restaure une sauvegarde faite par « manage.py backup » dans la base configurée "
        "(DATABASE_URL). Refuse une base qui contient déjà des données, sauf avec --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--input", required=True, type=Path, dest="path", help="Fichier de sauvegarde."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Remplace les données d'une base qui n'est pas vide.",
        )

    def handle(self, *, path: Path, force: bool, **options):
        connection = connections[DEFAULT_DB_ALIAS]
        label = backups.database_label(connection=connection)
        try:
            backups.restore(connection=connection, path=path, force=force)
            summary = backups.database_summary(connection=connection)
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(f"Sauvegarde « {path} » restaurée dans la base {label}.")
        )
        self.stdout.write(
            f"Vérification : {summary.conventions} conventions, "
            f"{summary.applied_migrations} migrations appliquées."
        )
        if summary.pending_migrations:
            self.stdout.write(
                self.style.WARNING(
                    f"{summary.pending_migrations} migrations du code ne sont pas appliquées à "
                    "cette sauvegarde : lancez « manage.py migrate »."
                )
            )
