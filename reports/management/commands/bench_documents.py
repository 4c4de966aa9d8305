"""``make bench``: generation time and peak memory of the official documents.

Prints figures (median and minimum of several runs, on this machine); no threshold is asserted
here or in the tests — the targets of issue 4 (each XLSX ≤ 150 ms, full report ≤ 4 s on one core)
are read from the output. A run is timed until the document's bytes are ready; the garbage of the
previous run is collected before it, untimed (the PDF renderer pauses the cyclic collector, see
``reports.pdf.html_to_pdf``, so that its boxes are collected once, after the render).
"""

import gc
import statistics
import time
import tracemalloc

from django.core.management.base import BaseCommand, CommandError

from conventions.models import ConventionYear
from reports.documents import DOCUMENTS, render


def _machine_reference_ms() -> float:
    """A fixed pure-Python workload (ten million additions, best of three), timed now: the speed
    of a shared machine varies from hour to hour, and the figures are read against this one
    (README, « Performances »)."""
    durations = []
    for _ in range(3):
        start = time.perf_counter()
        sum(range(10_000_000))
        durations.append(time.perf_counter() - start)
    return min(durations) * 1000


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
        self.stdout.write(f"Référence de la machine : {_machine_reference_ms():.0f} ms")
        self.stdout.write(
            f"Documents {departement} {year}, {runs} essais (médiane, et le plus rapide : la "
            "machine partagée ajoute du bruit, le minimum est le coût du code) :"
        )
        for document in DOCUMENTS.values():
            for fmt in [f for f in document.formats if f != "html"]:
                render(document, convention_year, fmt)  # warm-up: imports, fonts, templates
                durations = []
                for _ in range(runs):
                    # Each run starts as a worker's job does: the garbage of the previous run
                    # collected, so that its collection is not timed with the next document.
                    gc.collect()
                    start = time.perf_counter()
                    content = render(document, convention_year, fmt)
                    durations.append(time.perf_counter() - start)
                gc.collect()
                tracemalloc.start()
                render(document, convention_year, fmt)
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                self.stdout.write(
                    f"  {document.slug:<20} {fmt:<5} {statistics.median(durations) * 1000:8.1f} ms"
                    f" (min {min(durations) * 1000:7.1f} ms)"
                    f"   pic mémoire Python {peak / 1_048_576:6.1f} Mio   {len(content):>8} octets"
                )
