"""``manage.py bench_scale``: response time and SQL queries of the main pages at national scale.

Run on the data of ``manage.py generate_synthetic`` (101 Départements × 5 years × 30 fiches × 40
indicators), preferably on PostgreSQL. Each page is requested through Django's test client,
logged in as a national administrator (a superuser), the whole stack included (middleware,
sessions, templates) but no network: once to count its queries, once to warm up, then
``--runs`` times, timed; the median and the minimum are printed. The target of issue 7 — the
national consolidated view in ≤ 500 ms — is read from the output, not asserted.
"""

import gc
import statistics
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actions.models import ActionYear
from calpae.logging import quiet
from conventions.models import ConventionYear, Department, Region
from conventions.synthetic import synthetic_departments
from reports.bench import machine_reference_ms

TARGET_MS = 500  # the national consolidated view (issue 7)


def _host() -> str:
    """A host name the settings accept (the test client's « testserver » is not one of them
    outside the tests)."""
    for host in settings.ALLOWED_HOSTS:
        if host not in ("*", "") and not host.startswith("."):
            return host
    return "localhost"


class Command(BaseCommand):
    help = (
        "Mesure le temps de réponse et le nombre de requêtes SQL des pages principales "
        "(vue consolidée nationale et régionale, accueil, exercice, fiche) à l'échelle nationale."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, default=2022, help="Année consolidée.")
        parser.add_argument("--region", default="11", help="Région de la vue régionale (code).")
        parser.add_argument(
            "--departement",
            help="Département de la page d'exercice et de fiche (par défaut le premier "
            "Département synthétique, sinon 77).",
        )
        parser.add_argument("--runs", type=int, default=5)
        parser.add_argument("--user", help="Superutilisateur (par défaut le premier actif).")

    def handle(self, **options):
        # The log lines of the login and of each request would come between the figures.
        with quiet("calpae.request", "axes"):
            self._bench(**options)

    def _bench(self, *, year, region, departement, runs, user, **options):
        users = get_user_model().objects.filter(is_superuser=True, is_active=True)
        superuser = (users.filter(username=user) if user else users.order_by("pk")).first()
        if superuser is None:
            raise CommandError("Aucun superutilisateur actif : chargez la démonstration.")
        if not Region.objects.filter(code=region).exists():
            raise CommandError(f"Région inconnue : {region}.")
        code = departement or next(
            (department.code for department in synthetic_departments()[:1]), "77"
        )
        convention_year = (
            ConventionYear.objects.filter(convention__department__code=code, year=year)
            .order_by("convention__start_date")
            .first()
        )
        fiche = (
            ActionYear.objects.filter(convention_year=convention_year).order_by("number").first()
        )
        if fiche is None:
            raise CommandError(
                f"Aucune fiche {year} pour le Département {code} : lancez d'abord "
                "manage.py generate_synthetic."
            )
        consolidated = reverse("consolidated")
        pages = [
            ("vue consolidée nationale", f"{consolidated}?annee={year}"),
            ("vue consolidée régionale", f"{consolidated}?annee={year}&region={region}"),
            ("accueil", reverse("home")),
            (f"exercice {code} {year}", reverse("actions:year", args=[convention_year.pk])),
            (f"fiche {fiche.number}", reverse("actions:detail", args=[fiche.pk])),
        ]
        client = Client(HTTP_HOST=_host())
        client.force_login(superuser)
        self.stdout.write(f"Référence de la machine : {machine_reference_ms():.0f} ms")
        self.stdout.write(
            f"Base {connection.vendor} : {Department.objects.count()} Départements, "
            f"{ConventionYear.objects.count()} exercices, {ActionYear.objects.count()} fiches ; "
            f"{superuser.username} (administrateur national), {runs} essais (médiane, minimum) :"
        )
        for label, url in pages:
            reset_queries()  # the log keeps 9,000 queries at most: count from an empty one
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            if response.status_code != 200:
                raise CommandError(f"{label} : {url} répond {response.status_code}.")
            client.get(url)  # warm-up: the first run also fills the caches (templates, ORM)
            durations = []
            for _ in range(runs):
                gc.collect()
                start = time.perf_counter()
                client.get(url)
                durations.append(time.perf_counter() - start)
            median = statistics.median(durations) * 1000
            self.stdout.write(
                f"  {label:<26} {median:8.1f} ms (min {min(durations) * 1000:8.1f} ms)"
                f" {len(queries):>4} requêtes {len(response.content):>9} octets  {url}"
            )
            if label == pages[0][0]:
                verdict = "atteint" if median <= TARGET_MS else "DÉPASSÉ"
                self.stdout.write(f"    objectif ≤ {TARGET_MS} ms : {verdict}")
