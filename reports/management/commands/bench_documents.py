"""``make bench``: generation time and peak memory of the official documents, and side by side.

Prints figures (median and minimum of several runs, on this machine); no threshold is asserted
here or in the tests — the targets of issue 4 (each XLSX ≤ 150 ms, full report ≤ 4 s on one core)
are read from the output. A document is generated as the worker's job generates it
(``reports.tasks``): in ``reports.pdf.collected_after``, the cyclic collector paused, then run
once the document is ready. Each line prints the time until the document's bytes are ready, and
apart the pass of the collector that follows (the worker's, before its next job); the garbage of
the previous run is collected before each run, untimed.

Side by side (issue 7), on the financial table of execution, from the same computed table:

- what a user would otherwise do to get a PDF: LibreOffice headless converting our XLSX
  (``soffice --convert-to pdf``, one process per file, as a script would), next to our WeasyPrint
  PDF; the first conversion, with a new LibreOffice profile, is printed apart;
- our openpyxl XLSX next to the same workbook written by XlsxWriter, the fastest XLSX writer
  (``reports.bench.xlsxwriter_reference``, a development dependency): how close we are to the
  limit.
"""

import gc
import shutil
import statistics
import subprocess
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from calpae.logging import quiet
from conventions.models import ConventionYear
from reports.bench import machine_reference_ms
from reports.documents import DOCUMENTS, render, render_computed
from reports.pdf import collected_after

SIDE_BY_SIDE_DOCUMENT = "financial-table"
OFFICE_TIMEOUT = 180  # seconds, for one conversion


def _timed_job(function: Callable[[], object], runs: int) -> tuple[list[float], list[float]]:
    """Seconds of ``runs`` calls after one warm-up call, as the worker runs them: until the
    result is ready, and the collector's pass after it."""
    function()  # warm-up: imports, fonts, templates
    ready, collection = [], []
    for _ in range(runs):
        gc.collect()
        with collected_after():
            start = time.perf_counter()
            function()
            done = time.perf_counter()
        ready.append(done - start)
        collection.append(time.perf_counter() - done)
    gc.collect()
    return ready, collection


def _timed(function: Callable[[], object], runs: int) -> list[float]:
    """Seconds of ``runs`` calls after one warm-up call, the collector's pass included."""
    ready, collection = _timed_job(function, runs)
    return [first + second for first, second in zip(ready, collection, strict=True)]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _office_convert(soffice: str, source: Path, profile: Path, outdir: Path) -> float:
    """Seconds for LibreOffice headless to convert ``source`` to PDF, in a process of its own."""
    command = [
        soffice,
        "--headless",
        "--norestore",
        # A profile of its own: no clash with a LibreOffice the user has open, or another run.
        f"-env:UserInstallation={profile.as_uri()}",
        "--convert-to",
        "pdf",
        "--outdir",
        str(outdir),
        str(source),
    ]
    target = outdir / f"{source.stem}.pdf"
    target.unlink(missing_ok=True)
    start = time.perf_counter()
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=OFFICE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise CommandError(
            f"LibreOffice n'a pas converti le classeur en {OFFICE_TIMEOUT} s."
        ) from None
    duration = time.perf_counter() - start
    if completed.returncode != 0 or not target.exists():
        raise CommandError(
            f"LibreOffice n'a pas converti le classeur (code {completed.returncode}) : "
            f"{(completed.stderr or completed.stdout).strip()[-500:]}"
        )
    return duration


class Command(BaseCommand):
    help = (
        "Mesure la génération des documents officiels (Seine-et-Marne 2022 par défaut), et la "
        "compare à LibreOffice (XLSX → PDF) et à XlsxWriter."
    )

    def add_arguments(self, parser):
        parser.add_argument("--departement", default="77")
        parser.add_argument("--year", type=int, default=2022)
        parser.add_argument("--runs", type=int, default=5)
        parser.add_argument(
            "--document",
            action="append",
            choices=sorted(DOCUMENTS),
            help="Ne mesure que ce document (répétable) ; par défaut, tous.",
        )
        parser.add_argument(
            "--office-runs",
            type=int,
            default=3,
            help="Conversions LibreOffice mesurées après la première (profil neuf).",
        )
        parser.add_argument(
            "--no-side-by-side",
            action="store_true",
            help="Sans la comparaison à LibreOffice et à XlsxWriter.",
        )

    def handle(self, **options):
        # The log line of each generated document would come between the figures.
        with quiet("calpae.documents"):
            self._bench(**options)

    def _bench(self, *, departement, year, runs, document, office_runs, no_side_by_side, **options):
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
        self.stdout.write(f"Référence de la machine : {machine_reference_ms():.0f} ms")
        self.stdout.write(
            f"Documents {departement} {year}, {runs} essais (médiane, et le plus rapide : la "
            "machine partagée ajoute du bruit, le minimum est le coût du code), jusqu'au document "
            "prêt, comme dans la tâche du worker ; puis le ramasse-miettes que le worker passe "
            "ensuite, avant sa tâche suivante :"
        )
        for slug in document or DOCUMENTS:
            self._bench_document(DOCUMENTS[slug], convention_year, runs)
        if not no_side_by_side:
            self._side_by_side(convention_year, runs, office_runs)

    def _bench_document(self, document, convention_year, runs: int) -> None:
        for fmt in [f for f in document.formats if f != "html"]:
            # Each run starts as a worker's job does: the garbage of the previous run
            # collected, so that its collection is not timed with the next document.
            durations, collections = _timed_job(
                lambda fmt=fmt: render(document, convention_year, fmt), runs
            )
            tracemalloc.start()
            with collected_after():
                content = render(document, convention_year, fmt)
                _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            self.stdout.write(
                f"  {document.slug:<20} {fmt:<5} {statistics.median(durations) * 1000:8.1f} ms"
                f" (min {min(durations) * 1000:7.1f} ms)"
                f" + ramasse-miettes {statistics.median(collections) * 1000:5.0f} ms"
                f"   pic mémoire Python {peak / 1_048_576:6.1f} Mio   {len(content):>8} octets"
            )

    # --- Side by side ---------------------------------------------------------------------------

    def _side_by_side(self, convention_year, runs: int, office_runs: int) -> None:
        document = DOCUMENTS[SIDE_BY_SIDE_DOCUMENT]
        table = document.read(convention_year)
        self.stdout.write(
            f"Côte à côte, « {document.label} » {convention_year.year} ({len(table.rows)} "
            "lignes), rendus du même tableau calculé (médiane, et le plus rapide) :"
        )
        ours_pdf = _timed(lambda: render_computed(document, table, "pdf"), runs)
        self._write("PDF   CALPAE (WeasyPrint)", ours_pdf)
        self._office_side(render_computed(document, table, "xlsx"), ours_pdf, office_runs)
        ours_xlsx = _timed(lambda: render_computed(document, table, "xlsx"), runs)
        self._write("XLSX  CALPAE (openpyxl)", ours_xlsx)
        self._xlsxwriter_side(table, ours_xlsx, runs)

    def _write(self, label: str, durations: list[float], note: str = "") -> None:
        self.stdout.write(
            f"  {label:<40} {_ms(statistics.median(durations))} (min {_ms(min(durations))})"
            f", {len(durations)} essai{'s' if len(durations) > 1 else ''}{note}"
        )

    def _ratio(self, label: str, slow: list[float], fast: list[float]) -> None:
        by_median = statistics.median(slow) / statistics.median(fast)
        self.stdout.write(
            f"  {label:<40} {by_median:8.1f} × (médianes), {min(slow) / min(fast):.1f} × (minimums)"
        )

    def _office_side(self, workbook: bytes, ours: list[float], office_runs: int) -> None:
        soffice = _soffice()
        if soffice is None:
            self.stdout.write(
                "  PDF   LibreOffice headless : absent, comparaison ignorée "
                "(installez-le avec « make office-deps »)."
            )
            return
        with tempfile.TemporaryDirectory(prefix="calpae-bench-office-") as directory:
            directory = Path(directory)
            source = directory / "tableau.xlsx"
            source.write_bytes(workbook)
            profile, outdir = directory / "profile", directory / "out"
            # The first conversion creates the profile: what a user's first conversion costs.
            cold = _office_convert(soffice, source, profile, outdir)
            warm = [_office_convert(soffice, source, profile, outdir) for _ in range(office_runs)]
        if warm:
            self._write(
                "PDF   LibreOffice headless (XLSX → PDF)",
                warm,
                f" ; premier lancement (profil neuf) {_ms(cold).strip()}",
            )
            self._ratio("PDF   LibreOffice / CALPAE", warm, ours)
        else:
            self._write("PDF   LibreOffice headless, profil neuf", [cold])

    def _xlsxwriter_side(self, table, ours: list[float], runs: int) -> None:
        try:
            import xlsxwriter  # noqa: F401  (a development dependency)
        except ImportError:
            self.stdout.write(
                "  XLSX  XlsxWriter : absent, comparaison ignorée (pip install -e '.[dev]')."
            )
            return
        from reports.bench.xlsxwriter_reference import financial_table_xlsxwriter

        reference = _timed(lambda: financial_table_xlsxwriter(table), runs)
        self._write("XLSX  XlsxWriter (référence)", reference)
        self._ratio("XLSX  CALPAE / XlsxWriter", ours, reference)
