"""Import a spreadsheet (XLSX or CSV) through a model's resource, all or nothing.

``manage.py import_resource actions.Budget budgets.xlsx --dry-run`` reads the file, checks every
row (natural keys, amounts, ``full_clean()``) and prints a French summary; without ``--dry-run``
it writes, in one transaction, only if no row has an error. The exit status is 1 on any error.

django-import-export's own ``manage.py import`` is not used: it answers in English and ends with
status 0 when rows are invalid.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from import_export.results import RowResult

from conventions.resources import (
    CSV,
    XLSX,
    FileRefused,
    all_resource_classes,
    result_messages,
)

FORMATS = {"xlsx": XLSX, "csv": CSV}


def resource_class_for(name: str):
    """A model label (``actions.Budget``, any case) or a resource's name (``BudgetResource``)."""
    classes = all_resource_classes()
    for label, resource_class in classes.items():
        if name.casefold() in {label.casefold(), resource_class.__name__.casefold()}:
            return resource_class
    possible = ", ".join(classes)
    raise CommandError(f"Ressource inconnue « {name} ». Ressources possibles : {possible}.")


class Command(BaseCommand):
    help = (
        "Importe un fichier XLSX ou CSV avec la ressource d'un modèle : tout ou rien, avec "
        "l'historique des modifications."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "resource", help="modèle (« actions.Budget ») ou ressource (« BudgetResource »)"
        )
        parser.add_argument("path", help="fichier .xlsx ou .csv (en-tête sur la ligne 1)")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="simulation : vérifie toutes les lignes sans rien enregistrer",
        )
        parser.add_argument(
            "--format", choices=sorted(FORMATS), help="par défaut, l'extension du fichier"
        )
        parser.add_argument(
            "--utilisateur",
            help=(
                "identifiant de l'auteur inscrit dans l'historique ; ses droits s'appliquent "
                "(seules les lignes de ses Départements sont acceptées, sauf superutilisateur)"
            ),
        )

    def handle(self, *args, **options):
        resource_class = resource_class_for(options["resource"])
        path = Path(options["path"])
        format_name = options["format"] or path.suffix.lstrip(".").lower()
        if format_name not in FORMATS:
            raise CommandError(
                f"Format inconnu « {format_name} » : indiquez --format xlsx ou --format csv."
            )
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Lecture impossible de {path} : {error.strerror}.") from None
        user = None
        if options["utilisateur"]:
            user = get_user_model().objects.filter(username=options["utilisateur"]).first()
            if user is None:
                raise CommandError(f"Utilisateur « {options['utilisateur']} » inconnu.")
        try:
            dataset = FORMATS[format_name]().create_dataset(content)
        except FileRefused as error:  # too large, of another type, a zip bomb: said in French
            raise CommandError(f"{path.name} : {error}") from None
        except Exception as error:
            raise CommandError(
                f"Le fichier {path.name} ne se lit pas comme un fichier {format_name.upper()} "
                f"({type(error).__name__})."
            ) from None

        resource = resource_class(user=user)
        result = resource.import_data(
            dataset, dry_run=options["dry_run"], file_name=path.name, user=user
        )

        totals = result.totals
        errors = totals[RowResult.IMPORT_TYPE_ERROR] + totals[RowResult.IMPORT_TYPE_INVALID]
        model_name = resource_class._meta.model._meta.verbose_name_plural
        self.stdout.write(
            f"{model_name.capitalize()} — {path.name} : {result.total_rows} ligne(s) ; "
            f"créées : {totals[RowResult.IMPORT_TYPE_NEW]}, "
            f"modifiées : {totals[RowResult.IMPORT_TYPE_UPDATE]}, "
            f"inchangées : {totals[RowResult.IMPORT_TYPE_SKIP]}, "
            f"en erreur : {errors}."
        )
        messages = result_messages(result)
        for message in messages:
            self.stderr.write(message)
        if messages:
            raise CommandError(
                f"Import annulé : {len(messages)} erreur(s), rien n'a été enregistré."
            )
        if options["dry_run"]:
            self.stdout.write("Simulation (--dry-run) : rien n'a été enregistré.")
        else:
            self.stdout.write(self.style.SUCCESS("Import enregistré."))
