"""Write an official document of a year to a file.

    manage.py export_document --departement 77 --year 2022 --document financial-table \\
        --format xlsx --output tableau-2022.xlsx
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from conventions.models import ConventionYear, Department
from reports.documents import DOCUMENTS, PLANNED_DOCUMENTS, DocumentError, get_document, render
from reports.pdf import collected_after


class Command(BaseCommand):
    help = "Écrit un document officiel d'un exercice (PDF ou XLSX) dans un fichier."

    def add_arguments(self, parser):
        parser.add_argument("--departement", required=True, help="Code INSEE, par ex. 77.")
        parser.add_argument("--year", required=True, type=int, help="Exercice, par ex. 2022.")
        parser.add_argument(
            "--document", required=True, choices=sorted({*DOCUMENTS, *PLANNED_DOCUMENTS})
        )
        parser.add_argument("--format", required=True, choices=["pdf", "xlsx"], dest="fmt")
        parser.add_argument("--output", required=True, type=Path)

    def handle(self, *, departement, year, document, fmt, output, **options):
        department = Department.objects.filter(code=departement).first()
        if department is None:
            raise CommandError(f"Département inconnu : « {departement} ».")
        years = ConventionYear.objects.filter(convention__department=department, year=year)
        convention_year = years.select_related("convention__department__region").first()
        if convention_year is None:
            raise CommandError(f"Aucun exercice {year} pour le Département {department}.")
        try:
            doc = get_document(document, fmt)
        except DocumentError as error:
            raise CommandError(str(error)) from error
        # The file is written before the memory of the render is freed, as the worker does.
        with collected_after():
            content = render(doc, convention_year, fmt)
            try:
                output.write_bytes(content)
            except OSError as error:
                raise CommandError(
                    f"Impossible d'écrire « {output} » : {error.strerror}."
                ) from error
        self.stdout.write(f"{doc.label} {year} ({department}) : {output} ({len(content)} octets)")
