"""``make bench``: load test of the main pages, demo users on gunicorn, on the loopback.

manage.py bench_load [--duration 30] [--users 20] [--workers 2×nproc+1] [--threads 1] [--think 0]
    [--year 2022]

Starts gunicorn (``calpae.wsgi`` with the production ``calpae/gunicorn.conf.py``, sync workers
by default) on a free port of 127.0.0.1 against the current database (``DATABASE_URL``, or the
default SQLite file) with the production settings: ``DEBUG=0``, a ``SECRET_KEY`` drawn for the
run, ``ALLOWED_HOSTS=127.0.0.1``, the static files collected by ``collectstatic`` into a
temporary ``CALPAE_VAR_DIR`` and served by whitenoise. Nothing of the
security settings is relaxed: Locust stands for the browser and the reverse proxy that ends HTTPS
(``X-Forwarded-Proto: https``, the HTTPS ``Referer`` of the login form, the ``Secure`` cookies
sent back; see ``reports/bench/locustfile.py``). Waits for ``/sante/``, then runs Locust headless
for ``--duration`` seconds: ``--users`` demo users log in through the login form and browse home,
their year, a fiche, its indicators, the review page, the financial table as XLSX and, for the
reviewers of a region and the national administrator, the consolidated view. Prints the machine
reference of ``bench_documents``, then per page the latency percentiles (p50, p95, p99), the
requests per second and the failures, and the totals. Locust runs on the same machine: it takes
part of the cores it measures.

The demo accounts (``load_demo``) get a password drawn for the run, and their own password back
at the end (the hash is put back as it was). Each login leaves what any login leaves: a session,
``last_login``, django-axes' access log. gunicorn and Locust are stopped, and the temporary files
removed, at the end, on a failure and on Ctrl+C or SIGTERM; a run killed outright (SIGKILL) leaves
the demo passwords unknown: ``load_demo --reset-passwords`` draws new ones.

No threshold is asserted here or in the tests; the figures are read from the output (README,
« Performances »). Exits with an error when a request failed.
"""

import contextlib
import csv
import itertools
import json
import math
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from conventions.management.commands.load_demo import DEMO_ACCOUNTS
from reports.bench import machine_reference_ms

# Run by Locust in its own process, never imported here (Locust patches the standard library
# for gevent when it is imported).
LOCUSTFILE = Path(__file__).resolve().parents[2] / "bench" / "locustfile.py"
# The pages in the order they are printed, by their names in the locustfile.
PAGES = (
    "connexion (formulaire)",
    "connexion (envoi)",
    "accueil",
    "exercice",
    "fiche",
    "indicateurs de la fiche",
    "relecture",
    "tableau financier XLSX",
    "vue consolidée",
)
LOGIN = {"connexion (formulaire)", "connexion (envoi)"}
# The accounts that see the consolidated view of a region or of the nation.
CONSOLIDATION_ACCOUNTS = {"prefecture-idf", "admin"}
# The lines of every request in gunicorn's log, left out of what a failure prints.
REQUEST_LOGGERS = ('"logger": "calpae.request"', '"logger": "gunicorn.access"')
STARTUP_TIMEOUT = 60  # seconds for gunicorn to answer /sante/
STOP_TIMEOUT = 15  # seconds for a process to stop after SIGTERM (then SIGKILL)


def _stop(process: subprocess.Popen | None) -> None:
    """Stop a process started in its own session, and its children: SIGTERM, then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def _demo_passwords(accounts):
    """One password drawn for the run for the demo accounts; each gets its own hash back at the
    end, whatever happens (a second Ctrl+C meanwhile is ignored)."""
    originals = dict(accounts.values_list("pk", "password"))
    password = secrets.token_urlsafe(18)
    # One hash for every account: one password hashing, not seven, before the run.
    accounts.model.objects.filter(pk__in=originals).update(password=make_password(password))
    try:
        yield password
    finally:
        previous_sigint = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for pk, password_hash in originals.items():
                accounts.model.objects.filter(pk=pk).update(password=password_hash)
        finally:
            signal.signal(signal.SIGINT, previous_sigint)


def _process_tree_cpu(root: int) -> float:
    """CPU seconds (user and system) spent so far by the process ``root`` and its children (the
    gunicorn master and its workers), read in /proc (Linux)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # a process that just ended
            continue
        # After "pid (command)": state, ppid, … utime and stime are the 12th and 13th.
        fields = text[text.rindex(")") + 2 :].split()
        if int(stat.parent.name) == root or int(fields[1]) == root:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> float:
    """CPU seconds the whole machine spent so far out of idle, from /proc/stat (Linux)."""
    with open("/proc/stat", encoding="ascii") as stat:
        # cpu user nice system idle iowait irq softirq steal …
        ticks = [int(value) for value in stat.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    """CPU seconds of the child processes this one waited for (here, Locust)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    """The current database, for the children: ``DATABASE_URL``, or the default SQLite file
    (given by its path, since the children's ``CALPAE_VAR_DIR`` is a temporary one)."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        raise CommandError("Définissez DATABASE_URL.")
    return f"sqlite:///{Path(database['NAME']).resolve()}"


def _tail(path: Path, lines: int = 20, *, skip: tuple[str, ...] = ()) -> str:
    """The last lines of a log, without those that contain one of ``skip``."""
    if not path.exists():
        return ""
    kept = [
        line
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
        if not any(part in line for part in skip)
    ]
    # A JSON line holds a whole traceback: its end says what failed.
    return "\n".join(line if len(line) < 1500 else f"…{line[-1500:]}" for line in kept[-lines:])


class Sample(NamedTuple):
    """One request as the locustfile recorded it."""

    name: str
    start: float  # seconds since the epoch
    end: float
    milliseconds: float
    error: str  # empty when the request succeeded


def _samples(path: Path) -> list[Sample]:
    if not path.exists():
        return []
    samples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        name, start, milliseconds, error = line.split("\t")
        start, milliseconds = float(start), float(milliseconds)
        samples.append(Sample(name, start, start + milliseconds / 1000, milliseconds, error))
    return samples


def _percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest rank: the smallest value that ``fraction`` of the values do not exceed."""
    return sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)]


class Command(BaseCommand):
    help = (
        "Test de charge : gunicorn sur 127.0.0.1 et Locust, utilisateurs de démonstration sur "
        "les pages principales ; latences p50/p95/p99 et débit par page."
    )

    def add_arguments(self, parser):
        parser.add_argument("--duration", type=int, default=30, help="secondes (défaut 30)")
        parser.add_argument("--users", type=int, default=20, help="utilisateurs simultanés")
        parser.add_argument(
            "--workers",
            type=int,
            default=2 * len(os.sched_getaffinity(0)) + 1,  # the cores of nproc
            help="processus gunicorn (défaut 2 × cœurs + 1)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=1,
            help="fils par processus gunicorn (défaut 1 : processus « sync », comme en production)",
        )
        parser.add_argument(
            "--think",
            type=float,
            default=0.0,
            help="pause moyenne d'un utilisateur entre deux pages, en secondes (défaut 0 : "
            "chaque utilisateur demande la page suivante dès qu'il a reçu la précédente)",
        )
        parser.add_argument("--year", type=int, default=2022, help="exercice parcouru")

    def handle(self, *, duration, users, workers, threads, think, year, **options):
        if min(duration, users, workers, threads) < 1:
            raise CommandError("--duration, --users, --workers et --threads valent au moins 1.")
        # The reviewers of the consolidated view between the others, so that a run of two users
        # already browses every page.
        usernames = [
            username
            for pair in itertools.zip_longest(
                [a[0] for a in DEMO_ACCOUNTS if a[0] not in CONSOLIDATION_ACCOUNTS],
                [a[0] for a in DEMO_ACCOUNTS if a[0] in CONSOLIDATION_ACCOUNTS],
            )
            for username in pair
            if username
        ]
        accounts = get_user_model().objects.filter(username__in=usernames)
        if accounts.count() != len(usernames):
            raise CommandError(
                "Comptes de démonstration absents : chargez la démonstration (make demo)."
            )
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError("La base n'est pas à jour : lancez « manage.py migrate ».")
        self.stdout.write(f"Référence de la machine : {machine_reference_ms():.0f} ms")

        # Ctrl+C raises KeyboardInterrupt; a SIGTERM (a CI timeout, kill) ends the same way, so
        # that the processes are stopped and the passwords put back in both cases.
        previous_sigterm = signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            with (
                tempfile.TemporaryDirectory(prefix="calpae-bench-load-") as directory,
                _demo_passwords(accounts) as password,
            ):
                failures = self._run(
                    Path(directory),
                    [
                        {
                            "username": username,
                            "password": password,
                            "consolidation": username in CONSOLIDATION_ACCOUNTS,
                        }
                        for username in usernames
                    ],
                    duration=duration,
                    users=users,
                    workers=workers,
                    threads=threads,
                    think=think,
                    year=year,
                )
        except KeyboardInterrupt:
            raise CommandError(
                "Interrompu : gunicorn et Locust arrêtés, mots de passe rétablis.", returncode=130
            ) from None
        finally:
            signal.signal(signal.SIGTERM, previous_sigterm)
        if failures:
            raise CommandError(f"{failures} requête(s) en échec (voir le tableau).")

    def _run(self, directory: Path, accounts: list[dict], **options) -> int:
        """Start gunicorn, run Locust, print the figures; the number of failed requests."""
        accounts_file = directory / "accounts.json"
        accounts_file.touch(mode=0o600)
        accounts_file.write_text(json.dumps(accounts), encoding="utf-8")
        env = self._production_env(directory)
        self._collectstatic(env)
        gunicorn = locust = None
        try:
            gunicorn, host = self._start_gunicorn(env, directory, **options)
            users, think, threads = options["users"], options["think"], options["threads"]
            self.stdout.write(
                f"gunicorn {host} : {options['workers']} processus "
                + (f"de {threads} fils" if threads > 1 else "« sync »")
                + f", DEBUG=0 ; Locust : "
                f"{users} utilisateur{'s' if users > 1 else ''}, {options['duration']} s, pause "
                f"entre deux pages {f'de {think:g} s en moyenne' if think else 'nulle'}, "
                f"exercice {options['year']}"
            )
            gunicorn_cpu = -_process_tree_cpu(gunicorn.pid)
            locust_cpu = -_children_cpu()
            machine_cpu, elapsed = -_machine_busy(), -time.monotonic()
            locust = self._start_locust(host, accounts_file, directory, **options)
            try:
                locust.wait(options["duration"] + 60)
            except subprocess.TimeoutExpired:
                raise CommandError("Locust ne s'est pas arrêté à temps.") from None
            locust_cpu += _children_cpu()
            gunicorn_cpu += _process_tree_cpu(gunicorn.pid)
            machine_cpu, elapsed = machine_cpu + _machine_busy(), elapsed + time.monotonic()
            if gunicorn.poll() is not None:
                raise CommandError(
                    "gunicorn s'est arrêté pendant le test :\n" + _tail(directory / "gunicorn.log")
                )
            failures = self._report(
                directory, locust, cpu=(gunicorn_cpu, locust_cpu, machine_cpu, elapsed)
            )
            if failures:
                self.stdout.write(
                    "Journal de gunicorn (fin, sans les lignes des requêtes) :\n"
                    + _tail(directory / "gunicorn.log", skip=REQUEST_LOGGERS)
                )
            return failures
        finally:
            # A second Ctrl+C does not cut the cleanup short.
            previous_sigint = signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                _stop(locust)
                _stop(gunicorn)
            finally:
                signal.signal(signal.SIGINT, previous_sigint)

    # --- Processes ------------------------------------------------------------------------------

    def _production_env(self, directory: Path) -> dict[str, str]:
        env = {
            **os.environ,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": _database_url(),
            # Static files collected here (STATIC_ROOT = CALPAE_VAR_DIR/static), not in var/.
            "CALPAE_VAR_DIR": str(directory / "var"),
        }
        # The children find the project's modules whatever the current directory.
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(settings.BASE_DIR), os.environ.get("PYTHONPATH")])
        )
        env.pop("DJANGO_SETTINGS_MODULE", None)  # calpae.settings, as manage.py and wsgi.py say
        return env

    def _collectstatic(self, env: dict[str, str]) -> None:
        completed = subprocess.run(
            [
                sys.executable,
                str(Path(settings.BASE_DIR) / "manage.py"),
                "collectstatic",
                "--noinput",
                "--verbosity=0",
            ],
            env=env,
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if completed.returncode != 0:
            raise CommandError(f"collectstatic a échoué :\n{completed.stderr[-2000:]}")

    def _start_gunicorn(self, env, directory: Path, *, workers: int, threads: int, **options):
        port = _free_port()
        log = (directory / "gunicorn.log").open("wb")
        process = subprocess.Popen(
            # The production configuration (README « Déploiement en production »).
            [sys.executable, "-m", "gunicorn", "--config=calpae/gunicorn.conf.py", "calpae.wsgi"],
            env={
                **env,
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "GUNICORN_WORKERS": str(workers),
                "GUNICORN_THREADS": str(threads),
            },
            cwd=settings.BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stopped as a whole, never by Ctrl+C
        )
        log.close()
        host = f"http://127.0.0.1:{port}"
        try:
            self._wait_until_ready(process, host, directory)
        except BaseException:  # not ready, or Ctrl+C meanwhile: not left running
            _stop(process)
            raise
        return process, host

    def _wait_until_ready(self, process: subprocess.Popen, host: str, directory: Path) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        # As the reverse proxy would ask (the HTTPS redirect spares /sante/ anyway).
        probe = urllib.request.Request(f"{host}/sante/", headers={"X-Forwarded-Proto": "https"})
        while True:
            if process.poll() is not None:
                raise CommandError(
                    "gunicorn n'a pas démarré :\n" + _tail(directory / "gunicorn.log")
                )
            try:
                with urllib.request.urlopen(probe, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise CommandError(
                    f"gunicorn ne répond pas sur /sante/ après {STARTUP_TIMEOUT} s :\n"
                    + _tail(directory / "gunicorn.log")
                )
            time.sleep(0.2)

    def _start_locust(
        self, host, accounts_file, directory, *, users, duration, think, year, **options
    ) -> subprocess.Popen:
        log = (directory / "locust.log").open("wb")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "locust",
                f"--locustfile={LOCUSTFILE}",
                "--headless",
                f"--host={host}",
                f"--users={users}",
                f"--spawn-rate={users}",
                f"--run-time={duration}s",
                "--stop-timeout=10",
                # Only its file of exceptions is read; the times are the locustfile's.
                f"--csv={directory / 'locust'}",
                "--only-summary",
                "--skip-log-setup",
            ],
            env={
                **os.environ,
                "CALPAE_BENCH_ACCOUNTS": str(accounts_file),
                "CALPAE_BENCH_YEAR": str(year),
                "CALPAE_BENCH_THINK": str(think),
                "CALPAE_BENCH_RESULTS": str(directory / "requests.tsv"),
            },
            cwd=directory,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        return process

    # --- Report ---------------------------------------------------------------------------------

    def _report(
        self,
        directory: Path,
        locust: subprocess.Popen,
        *,
        cpu: tuple[float, float, float, float],
    ) -> int:
        """Print the figures of the requests the locustfile recorded; the number of failures."""
        samples = _samples(directory / "requests.tsv")
        if not samples:
            raise CommandError(
                f"Locust n'a envoyé aucune requête (code {locust.returncode}) :\n"
                + _tail(directory / "locust.log")
            )
        window = max(sample.end for sample in samples) - min(sample.start for sample in samples)
        names = [name for name in PAGES if any(s.name == name for s in samples)]
        names += sorted({sample.name for sample in samples} - set(names))
        self.stdout.write(
            f"{'page':<28}{'requêtes':>9}{'échecs':>7}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
            f"{'req/s':>7}"
        )
        rows = [(name, [s for s in samples if s.name == name]) for name in names]
        rows.append(("pages (sans la connexion)", [s for s in samples if s.name not in LOGIN]))
        rows.append(("total", samples))
        for label, group in rows:
            durations = sorted(sample.milliseconds for sample in group)
            self.stdout.write(
                f"{label:<28}{len(group):>9}{sum(1 for s in group if s.error):>7}"
                + "".join(f"{_percentile(durations, p):>8.0f}" for p in (0.50, 0.95, 0.99))
                + f"{len(group) / window:>7.1f}"
            )
        self.stdout.write(
            f"(sur {window:.1f} s, de la première requête à la dernière réponse ; p99 est le "
            "maximum en deçà de 100 requêtes)"
        )
        # CPU time is less sensitive than the latencies to the other work of a shared machine,
        # which the last figure shows.
        gunicorn_cpu, locust_cpu, machine_cpu, elapsed = cpu
        cores = len(os.sched_getaffinity(0))
        self.stdout.write(
            f"Processeur, du lancement de Locust à son arrêt ({cores} cœurs × {elapsed:.1f} s = "
            f"{cores * elapsed:.1f} s disponibles) : gunicorn {gunicorn_cpu:.1f} s "
            f"({gunicorn_cpu * 1000 / len(samples):.0f} ms par requête), Locust {locust_cpu:.1f} s,"
            f" le reste de la machine {max(0.0, machine_cpu - gunicorn_cpu - locust_cpu):.1f} s "
            "(base de données, autres programmes)"
        )
        errors = Counter((sample.name, sample.error) for sample in samples if sample.error)
        for (name, error), count in errors.most_common():
            self.stdout.write(f"  échec {name} : {error} ({count} fois)")
        failures = sum(errors.values())
        exceptions_file = directory / "locust_exceptions.csv"
        if exceptions_file.exists():
            with exceptions_file.open(encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle):
                    failures += int(row["Count"])
                    self.stdout.write(
                        f"  erreur de Locust : {row['Message']} ({row['Count']} fois)"
                    )
        return failures
