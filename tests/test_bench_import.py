"""``manage.py bench_import`` (``make bench``): a generated execution table imported as a dry run
then for real, every run rolled back. Speed is printed by the benchmark, never asserted here."""

import io
import re

import pytest
from django.core.management import CommandError, call_command

from actions.models import Action, ActionYear, Budget, OtherFunding
from conventions.models import Convention, ConventionYear, ThemeYear
from tests.history import history_counts

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    models = (Convention, ConventionYear, ThemeYear, Action, ActionYear, Budget, OtherFunding)
    return {**{model.__name__: model.objects.count() for model in models}, **history_counts()}


def test_bench_import_prints_the_figures_and_leaves_the_database_unchanged():
    before = _counts()
    out = io.StringIO()

    call_command("bench_import", "--rows", "40", "--runs", "1", stdout=out)

    text = out.getvalue()
    assert re.search(r"^Référence de la machine : \d+ ms$", text, re.MULTILINE)
    assert re.search(
        r"^Classeur d'exécution 2022 généré en mémoire en \d+ ms : 40 fiches sur \d+ thèmes, "
        r"\d+ lignes de tableau \(sous-totaux et TOTAUX FINANCIERS compris\), \d+ octets$",
        text,
        re.MULTILINE,
    )
    assert "Import dans le Département de l'Ain (01), exercice 2022, 1 essai (" in text
    for label in ("simulation", "import", "total"):
        assert re.search(
            rf"^  {label} +\d+\.\d ms \(min +\d+\.\d ms\) +\d+\.\d\d ms par fiche$",
            text,
            re.MULTILINE,
        ), label
    assert re.search(
        r"^  requêtes SQL d'un import : \d+ \(\d+\.\d par fiche : .*\bINSERT\b.*\bSELECT\b.*\)$",
        text,
        re.MULTILINE,
    )
    assert _counts() == before


def test_bench_import_refuses_a_departement_with_data_for_the_year():
    with pytest.raises(CommandError, match="Le Département 77 a déjà un exercice 2022"):
        call_command("bench_import", "--departement", "77", "--rows", "5", stdout=io.StringIO())
