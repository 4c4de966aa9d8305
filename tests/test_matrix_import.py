"""Import of the indicator matrix (« Tableau des indicateurs ») into a year: periods, indicators,
the year's layout, values and targets (indicators/imports.py, through actions.imports)."""

import datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.contrib.auth import get_user_model
from openpyxl import load_workbook

from actions.imports import workbook_file_import
from conventions.models import Convention, ConventionYear, Department
from indicators.choices import PeriodKind, ValueStatus
from indicators.models import Indicator, IndicatorTarget, IndicatorValue, MatrixEntry, Period
from indicators.periods import PeriodSpec, period_spec
from reports.documents import DOCUMENTS
from tests.history import history_counts
from tests.test_workbook_parse import xlsx

HEADERS = [
    None,
    "Indicateurs",
    "Commentaires et Eléments de définition",
    "Situation au 31 déc. 2018",
    "Résultat atteint en 2021 (1/01/21 au 31/12/21)",
    "Résultat attendu en 2022 (objectif fixé)",
]


def _year(year: int = 2022) -> ConventionYear:
    return ConventionYear.objects.get(convention__department__code="77", year=year)


def _export_matrix(year: int = 2022) -> bytes:
    document = DOCUMENTS["indicators"]
    return document.renderers["xlsx"](document.read(_year(year)))


def _cells(content: bytes) -> list[list]:
    return [[cell.value for cell in row] for row in load_workbook(BytesIO(content)).active.rows]


def _import(content: bytes, *, department="77", year=2022, **options):
    return workbook_file_import(
        actor=get_user_model().objects.get(username="admin"),
        department=Department.objects.get(code=department),
        year=year,
        data=content,
        filename="indicateurs.xlsx",
        **options,
    )


def _errors(report) -> list[str]:
    return [str(problem) for problem in report.errors]


# --- Periods read from their printed headers ---------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Situation au 31 déc. 2018", ("baseline", 2018, None, (2018, 12, 31))),
        ("Résultat atteint en 2019", ("year", 2019, (2019, 1, 1), (2019, 12, 31))),
        (
            "Résultat atteint en 2020 et situation au 31 déc. 2020 pour la mesure mobilité",
            ("year", 2020, (2020, 1, 1), (2020, 12, 31)),
        ),
        (
            "Résultat atteint en 2021 (1/01/21 au 31/12/21)",
            ("year", 2021, (2021, 1, 1), (2021, 12, 31)),
        ),
        (
            "Résultat atteint au 1er semestre 2022 (1/01 au 30/05/22)",
            ("semester", 2022, (2022, 1, 1), (2022, 5, 30)),
        ),
        ("2e semestre 2023", ("semester", 2023, (2023, 7, 1), (2023, 12, 31))),
        (
            "Résultat atteint sur le 1er trimestre 2023 (conventions en année glissante)",
            ("quarter", 2023, (2023, 1, 1), (2023, 3, 31)),
        ),
        ("Au 31/12/2022", ("year", 2022, (2022, 1, 1), (2022, 12, 31))),
        (
            "Résultat du 1/01/2022 au 31/10/2022",
            ("partial", 2022, (2022, 1, 1), (2022, 10, 31)),
        ),
        ("Situation au 30/06/2021", ("baseline", 2021, None, (2021, 6, 30))),
        ("Résultat atteint", None),
    ],
)
def test_period_read_from_its_header(header, expected):
    if expected is None:
        assert period_spec(header) is None
        return
    kind, year, start, end = expected
    assert period_spec(header) == PeriodSpec(
        kind, year, start and datetime.date(*start), datetime.date(*end)
    )


# --- The demo's matrix read back ---------------------------------------------------------------

pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_the_exported_2022_matrix_imports_as_unchanged():
    """Every indicator, period, place in the matrix, value and target of the demo is found
    again: nothing created or modified, not a history row."""
    exported = _export_matrix()
    before = history_counts()
    report = _import(exported)
    assert report.imported, _errors(report)
    assert report.layout == "tableau des indicateurs"
    assert not report.created and not report.updated
    entries = MatrixEntry.objects.filter(convention_year=_year()).count()
    values = sum(change.subject.startswith("Valeur ") for change in report.unchanged)
    assert entries > 30 and values > 100
    assert history_counts() == before


@pytestmark_db
def test_round_trip_of_the_2022_matrix_into_an_empty_database():
    exported = _export_matrix()
    national = set(Indicator.objects.filter(department__isnull=True).values_list("pk", flat=True))
    national_in_matrix = set(
        MatrixEntry.objects.filter(
            convention_year=_year(), indicator__department__isnull=True
        ).values_list("indicator", flat=True)
    )
    MatrixEntry.objects.filter(convention_year__convention__department__code="77").delete()
    Indicator.objects.filter(department__code="77").delete()
    Period.objects.filter(department__code="77").delete()
    Convention.objects.filter(department__code="77").delete()

    report = _import(exported)

    assert report.imported, _errors(report)
    assert {change.subject for change in report.created} >= {
        "Exercice 2022",
        "Période « Situation au 31 déc. 2018 »",
        "Période « Résultat atteint au 1er semestre 2022 (1/01 au 30/05/22) »",
    }
    semester = Period.objects.get(department__code="77", kind=PeriodKind.SEMESTER)
    assert (semester.start_date, semester.end_date) == (
        datetime.date(2022, 1, 1),
        datetime.date(2022, 5, 30),
    )
    # The national indicators are found in the catalogue, not created again.
    assert national_in_matrix and national_in_matrix <= set(
        MatrixEntry.objects.filter(convention_year=_year()).values_list("indicator", flat=True)
    )
    assert set(Indicator.objects.filter(department__isnull=True).values_list("pk", flat=True)) == (
        national
    )
    # Exported again: the same matrix, cell by cell (the degree of realisation included) but
    # one. The demo stores « 2 478 724 812 » (two fused cells of the source) as a text with no
    # number, a correction that the file cannot carry: imported, the text reads as a number.
    again, before = _cells(_export_matrix()), _cells(exported)
    fused = [
        (row_index, column)
        for row_index, (new, old) in enumerate(zip(again, before, strict=True))
        for column, (a, b) in enumerate(zip(new, old, strict=True))
        if a != b
    ]
    assert [(again[r][c], before[r][c]) for r, c in fused] == [(2478724812, "2 478 724 812")]
    assert len(again) == len(before)


@pytestmark_db
def test_a_changed_value_is_updated_with_its_history_and_a_dry_run_writes_nothing():
    exported = _export_matrix()
    sheet = load_workbook(BytesIO(exported)).active
    cell = next(
        row[4]
        for row in sheet.iter_rows()
        if row[0].value == "Nombre de nouveaux entrants orientés en 1 mois et moins"
    )
    header = next(
        sheet.cell(row, cell.column).value
        for row in range(1, 10)
        if str(sheet.cell(row, cell.column).value or "").startswith("Résultat")
    )
    cell.value = "1 970 (au 31/12/2021)"
    buffer = BytesIO()
    sheet.parent.save(buffer)
    edited = buffer.getvalue()
    value = IndicatorValue.objects.get(
        indicator__code="nombre-de-nouveaux-entrants-orientes-en-1-mois-et-moins",
        period__department__code="77",
        period__label=header,
    )
    before = history_counts()

    simulated = _import(edited, dry_run=True)
    assert simulated.imported and len(simulated.updated) == 1
    assert history_counts() == before

    report = _import(edited)
    (change,) = report.updated
    assert change.subject == (
        f"Valeur « Nombre de nouveaux entrants orientés en 1 mois et moins » — {header}"
    )
    assert change.details[0] == f"valeur : « {value.raw} » → « 1 970 (au 31/12/2021) »"
    value.refresh_from_db()
    assert (value.raw, value.number, value.status) == (
        "1 970 (au 31/12/2021)",
        Decimal("1970"),
        ValueStatus.NUMBER,
    )
    assert IndicatorValue.history.filter(id=value.pk).count() >= 2
    history = "HistoricalIndicatorValue"
    assert history_counts()[history] == before[history] + 1


# --- A hand-made matrix ------------------------------------------------------------------------


def _matrix(*rows, headers=HEADERS, merges=()):
    return xlsx(
        [["Annexe 1. Tableau des indicateurs"], headers, ["1. Enfants et jeunes"], *rows],
        ["A3:F3", *merges],
    )


@pytestmark_db
def test_new_indicators_periods_and_targets_are_created_in_the_year():
    data = _matrix(
        [
            "Accueil de jour",
            "Nombre de familles accueillies en journée",
            "Familles distinctes",
            "Non contractualisé",
            "1 250",
            1400,
        ],
        [None, "dont familles monoparentales", None, None, 610, None],
        merges=["A4:A5"],
    )
    report = _import(data)
    assert report.imported, _errors(report)
    family = Indicator.objects.get(
        department__code="77", code="nombre-de-familles-accueillies-en-journee"
    )
    assert family.definition == "Familles distinctes" and family.parent is None
    single = Indicator.objects.get(department__code="77", code="dont-familles-monoparentales")
    assert single.parent == family
    # The 2021 column is the demo's 2021 period (same year, other header): no new period.
    assert "Période « Résultat atteint en 2021 (1/01/21 au 31/12/21) »" not in {
        change.subject for change in report.created
    }
    value = IndicatorValue.objects.get(indicator=family, period__year=2021)
    assert (value.raw, value.number) == ("1 250", Decimal("1250"))
    assert "cellule E4" in value.comment
    target = IndicatorTarget.objects.get(indicator=family, convention_year=_year())
    assert target.number == Decimal("1400")
    entries = list(MatrixEntry.objects.filter(convention_year=_year()).order_by("position"))
    assert [entry.indicator for entry in entries] == [family, single]
    assert entries[0].measure_label == "Accueil de jour"
    assert entries[0].group_label == "1. Enfants et jeunes"
    # The demo's other indicators of 2022 left the matrix; their values are kept.
    removed = [c for c in report.updated if "retiré de la matrice" in c.details[0]]
    assert len(removed) > 30
    assert IndicatorValue.objects.filter(period__department__code="77").count() > 100
    # Again: nothing changes.
    again = _import(data)
    assert again.imported and not again.created and not again.updated


@pytestmark_db
def test_a_header_without_a_year_is_an_error_naming_its_cell():
    headers = [*HEADERS[:4], "Résultat atteint", HEADERS[5]]
    before = history_counts()
    report = _import(_matrix([None, "Nombre de familles", None, None, 3, 4], headers=headers))
    assert not report.imported
    (error,) = report.errors
    assert "cellule E2" in str(error) and "« Résultat atteint »" in str(error)
    assert history_counts() == before


@pytestmark_db
def test_targets_of_a_year_without_exercise_are_skipped_with_a_warning():
    headers = [*HEADERS[:5], "Résultat attendu en 2031 (objectif fixé)"]
    report = _import(_matrix([None, "Nombre de familles", None, None, 3, 4], headers=headers))
    assert report.imported, _errors(report)
    (warning,) = [p for p in report.problems if "2031" in p.message]
    assert "pas d'exercice 2031" in warning.message and warning.cell == "F2"
    assert not IndicatorTarget.objects.filter(indicator__code="nombre-de-familles").exists()


@pytestmark_db
def test_a_workbook_with_the_financial_table_and_the_matrix_imports_both():
    from openpyxl import Workbook

    financial = load_workbook(
        BytesIO(
            DOCUMENTS["financial-table"].renderers["xlsx"](
                DOCUMENTS["financial-table"].read(_year())
            )
        )
    )
    matrix = load_workbook(BytesIO(_export_matrix()))
    combined = Workbook()
    combined.remove(combined.active)
    for source in (financial.active, matrix.active):
        target = combined.create_sheet(source.title)
        for row in source.iter_rows():
            for cell in row:
                if cell.value is not None:
                    target.cell(cell.row, cell.column, cell.value)
        for merged in source.merged_cells.ranges:
            target.merge_cells(str(merged))
    buffer = BytesIO()
    combined.save(buffer)
    report = _import(buffer.getvalue())
    assert report.imported, _errors(report)
    assert report.layout == (
        "tableau financier récapitulatif d'exécution et tableau des indicateurs"
    )
    subjects = {change.subject for change in report.unchanged}
    assert any(subject.startswith("Fiche ") for subject in subjects)
    assert any(subject.startswith("Valeur ") for subject in subjects)
    assert not report.created and not report.updated


@pytestmark_db
def test_a_moved_row_keeps_its_fiche_and_footnote():
    data = _matrix(
        [None, "Nombre de familles", None, None, 3, 4],
        [None, "Nombre de jeunes", None, None, 5, 6],
    )
    assert _import(data).imported
    entry = MatrixEntry.objects.get(convention_year=_year(), indicator__code="nombre-de-jeunes")
    action_year = _year().action_years.first()
    entry.action_year, entry.footnote = action_year, "(1) Hors week-end."
    entry.save()
    swapped = _matrix(
        [None, "Nombre de jeunes", None, None, 5, 6],
        [None, "Nombre de familles", None, None, 3, 4],
    )
    report = _import(swapped)
    assert [change.details for change in report.updated] == [
        ("rang : « 2 » → « 1 »",),
        ("rang : « 1 » → « 2 »",),
    ]
    entry = MatrixEntry.objects.get(convention_year=_year(), indicator__code="nombre-de-jeunes")
    assert (entry.position, entry.action_year, entry.footnote) == (
        1,
        action_year,
        "(1) Hors week-end.",
    )
