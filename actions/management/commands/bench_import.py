"""``make bench``: time to import a large official workbook (dry run, then the real import).

manage.py bench_import [--rows 1000] [--runs 3] [--departement 01] [--year 2022]

An execution table ("Tableau financier récapitulatif — exécution") of ``--rows`` fiches spread
over the national thèmes of the programme is built in memory by the pure ``reports.tables``
functions from synthetic, coherent amounts, and rendered by ``reports.xlsx``: the file has exactly
the official layout, sub-totals and "TOTAUX FINANCIERS" included. It is imported with
``workbook_file_import`` into a Département that has no data for the year, as a dry run then for
real, each run inside a transaction rolled back at its end: the database is left unchanged.

Prints figures (median and minimum of the runs, and the machine reference of ``bench_documents``)
and the number of SQL queries of one import; no threshold is asserted here or in the tests — the
target of the issue (≤ 3 s for 1,000 rows on one core, on PostgreSQL) is read from the output.
"""

import gc
import random
import statistics
import time
from collections import Counter
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from actions.imports import workbook_file_import
from actions.models import Action, ActionYear, Budget
from conventions.models import ConventionYear, Department, Programme, Theme, ThemeYear
from reports.bench import machine_reference_ms
from reports.tables import (
    Block,
    BudgetLine,
    FinancialTable,
    TableHeading,
    ThemeInput,
    build_execution_table,
)
from reports.xlsx import financial_table_xlsx

SEED = 2022  # the same options give the same workbook, byte for byte

TITLES = (
    "Accompagnement renforcé des allocataires vers l'emploi",
    "Permanences d'accès aux droits en maison des solidarités",
    "Formation des travailleurs sociaux au premier accueil",
    "Référents de parcours : coordination des acteurs du territoire",
    "Aide à la mobilité (permis, location de véhicules, garage solidaire)",
    "Maraudes mixtes avec les services de l'ASE",
    "Prévention spécialisée dans les quartiers prioritaires",
    "Chantiers d'insertion et clauses sociales des marchés publics",
)


class _Rollback(Exception):
    """Leaves a run's transaction with nothing written."""


def _cents(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


def synthetic_lines(themes: list[ThemeInput], rows: int, seed: int = SEED) -> list[BudgetLine]:
    """``rows`` executed budgets spread evenly over ``themes``, with coherent amounts to the cent:
    C ≥ A (parity), realised ≤ F, "à reporter" = F − realised, within A+B (État) and C+D (CD)."""
    generator = random.Random(seed)
    lines = []
    for index in range(rows):
        theme_index = index % len(themes)
        theme = themes[theme_index]
        number = f"{theme_index + 1}.{index // len(themes) + 1}"
        state_new = generator.randint(100_000, 20_000_000)
        state_carried = generator.randint(0, 5_000_000) if generator.random() < 0.3 else None
        cd_new = state_new + generator.randint(0, 10_000_000)
        cd_carried = generator.randint(0, 3_000_000) if generator.random() < 0.3 else None
        other = generator.randint(0, state_new) if generator.random() < 0.25 else None
        total = state_new + (state_carried or 0) + cd_new + (cd_carried or 0) + (other or 0)
        remaining = total - total * generator.randint(60, 100) // 100
        carry_state = min(remaining // 2, state_new + (state_carried or 0))
        carry_cd = min(remaining - carry_state, cd_new + (cd_carried or 0))
        realised = total - carry_state - carry_cd
        valorisation = cd_new * generator.randint(0, 30) // 100 if index % 4 == 0 else None
        lines.append(
            BudgetLine(
                action_key=f"bench-{index + 1}",
                theme_key=theme.key,
                number=number,
                title=f"{TITLES[index % len(TITLES)]} (action {index + 1})",
                state_new=_cents(state_new),
                state_carried_over=None if state_carried is None else _cents(state_carried),
                cd_new=_cents(cd_new),
                valorisation=None if valorisation is None else _cents(valorisation),
                cd_carried_over=None if cd_carried is None else _cents(cd_carried),
                other_funding=None if other is None else _cents(other),
                realised=_cents(realised),
                carry_over_state=_cents(carry_state),
                carry_over_cd=_cents(carry_cd),
                comment="Report sur l'exercice suivant" if carry_state + carry_cd else "",
            )
        )
    return lines


def synthetic_table(
    *, department: Department, year: int, themes: list[Theme], rows: int
) -> FinancialTable:
    """The execution table of ``rows`` synthetic fiches over the catalogue ``themes``."""
    heading = TableHeading(
        year=year,
        department_code=department.code,
        department_of_name=department.of_name,
        region_name=department.region.name,
    )
    inputs = [
        ThemeInput(
            key=theme.code,
            label=theme.label,
            block=Block(theme.block),
            position=position,
            chorus=str(theme.chorus_code) if theme.chorus_code else "",
        )
        for position, theme in enumerate(themes, start=1)
    ]
    return build_execution_table(
        heading=heading, themes=inputs, lines=synthetic_lines(inputs, rows)
    )


def _counts() -> tuple[int, ...]:
    return (
        Action.objects.count(),
        ConventionYear.objects.count(),
        ThemeYear.objects.count(),
        ActionYear.objects.count(),
        Budget.objects.count(),
    )


class _Counter:
    """A database execute wrapper counting the statements by their first word (SELECT…)."""

    def __init__(self, statements: Counter):
        self.statements = statements

    def __call__(self, execute, sql, params, many, context):
        words = sql.split(None, 1)
        self.statements[words[0].upper() if words else "?"] += 1
        return execute(sql, params, many, context)


class Command(BaseCommand):
    help = (
        "Mesure l'import d'un tableau financier d'exécution de 1 000 fiches (simulation puis "
        "import), sans rien laisser dans la base."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=1000, help="Nombre de fiches du tableau.")
        parser.add_argument("--runs", type=int, default=3)
        parser.add_argument("--year", type=int, default=2022)
        parser.add_argument(
            "--departement",
            help="Code INSEE d'un Département sans exercice pour l'année (défaut : le premier).",
        )

    def handle(self, *, rows, runs, year, departement, **options):
        if rows < 1 or runs < 1:
            raise CommandError("--rows et --runs doivent être au moins 1.")
        programme = Programme.objects.filter(start_year__lte=year, end_year__gte=year).first()
        themes = list(
            Theme.objects.filter(programme=programme).select_related("chorus_code")
            if programme
            else []
        )
        if not themes:
            raise CommandError(f"Aucun thème du catalogue national pour l'année {year}.")
        department = self._department(departement, year)
        superusers = get_user_model().objects.filter(is_superuser=True, is_active=True)
        # "admin" of the demo, or else any superuser.
        actor = superusers.filter(username="admin").first() or superusers.order_by("pk").first()
        if actor is None:
            raise CommandError("Aucun superutilisateur : chargez la démonstration (make demo).")

        start = time.perf_counter()
        table = synthetic_table(department=department, year=year, themes=themes, rows=rows)
        data = financial_table_xlsx(table)
        generation = time.perf_counter() - start
        filename = f"bench-execution-{year}.xlsx"

        self.stdout.write(f"Référence de la machine : {machine_reference_ms():.0f} ms")
        self.stdout.write(
            f"Classeur d'exécution {year} généré en mémoire en {generation * 1000:.0f} ms : "
            f"{rows} fiches sur {len(themes)} thèmes, {len(table.rows)} lignes de tableau "
            f"(sous-totaux et TOTAUX FINANCIERS compris), {len(data)} octets"
        )

        before = _counts()
        # First import, untimed: warms up the imports and caches, and counts the queries (all
        # of them: connection.queries keeps only the last 9,000).
        statements: Counter[str] = Counter()
        with connection.execute_wrapper(_Counter(statements)):
            self._run(data, filename, department, year, actor, rows, dry_run=False)
        dry_runs, imports = [], []
        for _ in range(runs):
            gc.collect()
            dry_runs.append(self._run(data, filename, department, year, actor, rows, dry_run=True))
            gc.collect()
            imports.append(self._run(data, filename, department, year, actor, rows, dry_run=False))
        if _counts() != before:
            raise CommandError("La base a changé pendant la mesure : rien n'aurait dû être écrit.")
        totals = [dry + real for dry, real in zip(dry_runs, imports, strict=True)]

        self.stdout.write(
            f"Import dans le Département {department.of_name} ({department.code}), exercice "
            f"{year}, {runs} essai{'s' if runs > 1 else ''} (médiane, et le plus rapide : la "
            "machine partagée ajoute du bruit, le minimum est le coût du code) ; chaque essai est "
            "annulé, la base est inchangée :"
        )
        for label, durations in (
            ("simulation", dry_runs),
            ("import", imports),
            ("total", totals),
        ):
            self.stdout.write(
                f"  {label:<20} {statistics.median(durations) * 1000:8.1f} ms"
                f" (min {min(durations) * 1000:7.1f} ms)"
                f"   {min(durations) / rows * 1000:6.2f} ms par fiche"
            )
        total = statements.total()
        detail = ", ".join(f"{count} {verb}" for verb, count in statements.most_common())
        self.stdout.write(
            f"  requêtes SQL d'un import : {total} ({total / rows:.1f} par fiche : {detail})"
        )

    def _department(self, code: str | None, year: int) -> Department:
        busy = ConventionYear.objects.filter(year=year).values("convention__department")
        if code is None:
            department = Department.objects.exclude(pk__in=busy).order_by("code").first()
            if department is None:
                raise CommandError(f"Aucun Département sans exercice {year}.")
        else:
            department = Department.objects.filter(code=code).first()
            if department is None:
                raise CommandError(f"Département inconnu : « {code} ».")
            if department.pk in set(busy.values_list("convention__department", flat=True)):
                raise CommandError(
                    f"Le Département {code} a déjà un exercice {year} : choisissez un Département "
                    "sans données pour l'année."
                )
        return Department.objects.select_related("region").get(pk=department.pk)

    def _run(self, data, filename, department, year, actor, rows, *, dry_run) -> float:
        """One import (or dry run), timed, in a transaction rolled back at its end."""
        try:
            with transaction.atomic():
                start = time.perf_counter()
                report = workbook_file_import(
                    actor=actor,
                    department=department,
                    year=year,
                    data=data,
                    filename=filename,
                    dry_run=dry_run,
                )
                duration = time.perf_counter() - start
                self._check(report, rows, dry_run=dry_run)
                raise _Rollback
        except _Rollback:
            pass
        return duration

    @staticmethod
    def _check(report, rows: int, *, dry_run: bool) -> None:
        """The generated workbook must import as it is: no error, no printed-total mismatch."""
        if report.errors or report.mismatches or not report.imported:
            problems = "\n".join(f"  - {problem}" for problem in report.problems[:20])
            raise CommandError(
                f"Le classeur généré ne s'importe pas tel quel : {report.summary}\n{problems}"
            )
        if not dry_run:
            created = ActionYear.objects.filter(
                convention_year__convention__department__code=report.department,
                convention_year__year=report.year,
            ).count()
            if created != rows:
                raise CommandError(f"{created} fiches importées au lieu de {rows}.")
