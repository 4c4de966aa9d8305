"""Import an official workbook (financial table, indicator matrix, or both) into a Département's
year.

manage.py import_workbook tableau-2022.xlsx --departement 77 --year 2022 [--dry-run]
    [--accept-printed-mismatch] [--user LOGIN]
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from actions.imports import workbook_file_import
from conventions.models import Department


class Command(BaseCommand):
    help = (
        "Importe un tableau financier officiel (exécution, prévisionnel, avenant 2020) et/ou un "
        "tableau des indicateurs dans un exercice, en une seule transaction : une erreur, et "
        "rien n'est écrit."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="Fichier .xlsx, .ods, .xls ou .csv.")
        parser.add_argument("--departement", required=True, help="Code INSEE, par ex. 77.")
        parser.add_argument("--year", required=True, type=int, help="Exercice, par ex. 2022.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Simulation : affiche ce qui serait fait."
        )
        parser.add_argument(
            "--accept-printed-mismatch",
            action="store_true",
            help="Importer même si des totaux imprimés diffèrent de la somme des lignes.",
        )
        parser.add_argument("--user", help="Identifiant de l'auteur inscrit dans l'historique.")

    def handle(self, *, path, departement, year, dry_run, accept_printed_mismatch, **options):
        department = Department.objects.filter(code=departement).first()
        if department is None:
            raise CommandError(f"Département inconnu : « {departement} ».")
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"Utilisateur inconnu : « {options['user']} ».")
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Impossible de lire « {path} » : {error.strerror}.") from error
        report = workbook_file_import(
            actor=actor,
            department=department,
            year=year,
            data=data,
            filename=path.name,
            dry_run=dry_run,
            accept_printed_mismatch=accept_printed_mismatch,
        )
        for line in report.lines():
            self.stdout.write(line)
        if not report.imported:
            hint = ""
            if report.mismatches and not report.errors:
                hint = " Relancez avec --accept-printed-mismatch pour importer malgré ces écarts."
            raise CommandError(f"{report.summary}{hint}")
