"""``make bench``: generation time and peak memory of the official documents.

Prints figures (median of several runs, on this machine); no threshold is asserted here or in
the tests — the targets of issue 4 (each XLSX ≤ 150 ms, full report ≤ 4 s on one core) are read
from the output.
"""

import statistics
import time
import tracemalloc

from django.core.management.base import BaseCommand, CommandError

from conventions.models import ConventionYear
from reports.documents import DOCUMENTS, render


class Command(BaseCommand):
    help = "Mesure la génération des documents officiels (Seine-et-Marne 2022 par défaut)."

    def add_arguments(self, parser):
        parser.add_argument("--departement", default="77")
        parser.add_argument("--year", type=int, default=2022)
        parser.add_argument("--runs", type=int, default=5)

    def handle(self, *, departement, year, runs, **options):
        convention_year = (
            ConventionYear.objects.filter(convention__department__code=departement, year=year)
            .select_related("convention__department__region")
            .first()
        )
        if convention_year is None:
            raise CommandError(
                f"Aucun exercice {year} pour le Département {departement} : "
                "chargez la démonstration (make demo)."
            )
        self.stdout.write(f"Documents {departement} {year}, médiane de {runs} essais :")
        for document in DOCUMENTS.values():
            for fmt in [f for f in document.formats if f != "html"]:
                render(document, convention_year, fmt)  # warm-up: imports, fonts, templates
                durations = []
                for _ in range(runs):
                    start = time.perf_counter()
                    content = render(document, convention_year, fmt)
                    durations.append(time.perf_counter() - start)
                tracemalloc.start()
                render(document, convention_year, fmt)
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                self.stdout.write(
                    f"  {document.slug:<20} {fmt:<5} {statistics.median(durations) * 1000:8.1f} ms"
                    f"   pic mémoire Python {peak / 1_048_576:6.1f} Mio   {len(content):>8} octets"
                )
