"""Our XLSX files as a spreadsheet application reads them: LibreOffice Calc, headless.

openpyxl reopening its own file proves little about what a user's office suite sees. Here
LibreOffice (Debian's ``libreoffice-calc-nogui``, see ``make office-deps``) converts each workbook
to CSV with raw cell values: every amount must arrive as a number, and the totals row must hold
the totals printed in the official documents. Without LibreOffice the tests are skipped, with
the command to install it; with ``CALPAE_REQUIRE_OFFICE=1`` (set by ``.ci/run``) they fail.
"""

import csv
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from conventions.models import ConventionYear
from reports.documents import DOCUMENTS

pytestmark = pytest.mark.django_db

# Field separator, text delimiter, UTF-8, first line, no column formats, raw values (not "as
# shown"): the 9th token, "false", writes 11178230 rather than the formatted « 11 178 230,00 € ».
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false"


def _soffice() -> str:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path:
        return path
    reason = "LibreOffice est absent : installez-le avec « make office-deps »."
    if os.environ.get("CALPAE_REQUIRE_OFFICE", "").strip().lower() in {"1", "true", "yes"}:
        pytest.fail(f"CALPAE_REQUIRE_OFFICE=1 mais {reason}")
    pytest.skip(reason)


def _as_libreoffice_reads_it(content: bytes, tmp_path: Path) -> list[list[str]]:
    source = tmp_path / "document.xlsx"
    source.write_bytes(content)
    subprocess.run(
        [
            _soffice(),
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--convert-to",
            CSV_FILTER,
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with (tmp_path / "document.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _document(slug: str, year: int) -> bytes:
    convention_year = ConventionYear.objects.get(convention__department__code="77", year=year)
    document = DOCUMENTS[slug]
    return document.renderers["xlsx"](document.read(convention_year))


def _totals_row(rows: list[list[str]]) -> list[Decimal]:
    (row,) = [row for row in rows if row and row[0] == "TOTAUX FINANCIERS"]
    return [Decimal(cell) for cell in row[1:] if cell not in ("",)]


def test_execution_2022_totals_are_numbers_in_libreoffice(tmp_path, shared_data):
    rows = _as_libreoffice_reads_it(_document("financial-table", 2022), tmp_path)
    printed = shared_data("seine-et-marne-2022-execution.json")["rows"][-1]
    keys = ["A", "B", "C", "D", "E", "F", "realise", "dont_valorisation", "report_etat"]
    assert _totals_row(rows) == [Decimal(printed[key]) for key in [*keys, "report_cd"]]
    # An action row: the intitulé as text, its amounts as numbers.
    (action,) = [row for row in rows if len(row) > 3 and row[2] == "8.4"]
    assert action[3].startswith("Fiche 16 : Accompagnement des jeunes de l'ASE")
    assert Decimal(action[4]) == Decimal("281625")


def test_previsionnel_2023_totals_are_numbers_in_libreoffice(tmp_path, shared_data):
    rows = _as_libreoffice_reads_it(_document("previsionnel-table", 2023), tmp_path)
    printed = shared_data("seine-et-marne-2023-previsionnel.json")["rows"][-1]
    keys = ["A", "B", "C", "dont_valorisation_cd", "D", "E", "F"]
    assert _totals_row(rows) == [Decimal(printed[key]) for key in keys]


def test_avenant_2020_merged_cells_read_once_in_libreoffice(tmp_path):
    rows = _as_libreoffice_reads_it(_document("previsionnel-table", 2020), tmp_path)
    assert rows[0][0] == "Annexe 3 - Tableau financier récapitulatif"
    (total,) = [row for row in rows if row and row[0] == "TOTAUX FINANCIERS"]
    # Budget global, pré-notifiés, État, CD, valorisation, report, autres financeurs.
    assert [Decimal(cell) for cell in total[5:12]] == [
        Decimal("3291240.38"),
        Decimal("0"),
        Decimal("1186840.38"),
        Decimal("2104400"),
        Decimal("0"),
        Decimal("0"),
        Decimal("0"),
    ]


def test_indicator_matrix_opens_in_libreoffice(tmp_path):
    rows = _as_libreoffice_reads_it(_document("indicators", 2022), tmp_path)
    text = "\n".join(",".join(row) for row in rows)
    assert "Indicateurs" in text
    assert "Nombre d'ETP dédiés à la prévention spécialisée" in text
