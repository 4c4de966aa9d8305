"""``manage.py generate_synthetic``: realistic synthetic data for the national scale
(``conventions.synthetic``): by default 101 Départements × 5 years × 30 fiches × 40 indicators.

The demo data (``load_demo``) stays: only Départements without any data receive synthetic data,
and ``--reset`` removes the synthetic data only.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from conventions.synthetic import (
    Sizes,
    SyntheticDataError,
    synthetic_departments,
    synthetic_generate,
    synthetic_remove,
)


class Command(BaseCommand):
    help = (
        "Génère des données synthétiques réalistes (CALPAE 2019-2023) pour mesurer "
        "l'application à l'échelle nationale ; --reset supprime d'abord celles déjà générées."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--departements",
            type=int,
            default=101,
            help="Nombre de Départements (les premiers sans données, par code INSEE). "
            "0 avec --reset : suppression seule.",
        )
        parser.add_argument("--years", type=int, default=5, help="Années, à partir de 2019.")
        parser.add_argument("--actions", type=int, default=30, help="Fiches-actions par exercice.")
        parser.add_argument("--indicators", type=int, default=40, help="Indicateurs suivis.")
        parser.add_argument("--seed", type=int, default=2019, help="Graine du tirage aléatoire.")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Supprime les données synthétiques déjà générées (jamais la démonstration).",
        )

    def handle(self, *, departements, years, actions, indicators, seed, reset, **options):
        sizes = Sizes(
            departements=departements, years=years, actions=actions, indicators=indicators
        )
        if problems := sizes.problems():
            raise CommandError(" ".join(problems))
        verbose = options["verbosity"] >= 1

        def progress(line: str) -> None:
            if verbose:
                self.stdout.write(line)

        start = time.perf_counter()
        if reset:
            codes = synthetic_remove(progress=progress if options["verbosity"] >= 2 else None)
            self.stdout.write(
                f"Données synthétiques supprimées : {len(codes)} Départements "
                f"({time.perf_counter() - start:.1f} s)."
            )
        elif departements and synthetic_departments().exists():
            raise CommandError(
                "Des données synthétiques existent déjà : ajoutez --reset pour les remplacer."
            )
        if not departements:
            return
        self.stdout.write(
            f"Génération : {sizes.departements} Départements × {sizes.years} ans × "
            f"{sizes.actions} fiches × {sizes.indicators} indicateurs (graine {seed})."
        )
        try:
            summary = synthetic_generate(sizes=sizes, seed=seed, progress=progress)
        except SyntheticDataError as error:
            raise CommandError(str(error)) from error
        for name, count in sorted(summary.rows.items()):
            progress(f"  {name:<45} {count:>9}")
        if len(summary.departments) < sizes.departements:
            self.stdout.write(
                f"{sizes.departements - len(summary.departments)} Départements ont déjà des "
                "données (la démonstration) : ils les gardent."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(summary.departments)} Départements générés en {summary.seconds:.1f} s "
                f"(total {time.perf_counter() - start:.1f} s)."
            )
        )
