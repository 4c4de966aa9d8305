"""``make bench``, issue 7: the load test (``manage.py bench_load``: gunicorn and Locust on the
loopback) and the side-by-side figures of ``bench_documents`` (LibreOffice, XlsxWriter).

Speed is printed by the benchmarks, never asserted here: these tests check that they run, that
every page answers without failure, and that the XlsxWriter reference writes the same workbook as
ours, so that comparing their times is fair."""

import datetime
import io
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from openpyxl import load_workbook

from conventions.models import ConventionYear
from reports.bench.xlsxwriter_reference import financial_table_xlsxwriter
from reports.management.commands.bench_load import PAGES
from reports.selectors import execution_table, planned_table
from reports.tables import Block, BudgetLine, TableHeading, ThemeInput, build_execution_table
from reports.xlsx import financial_table_xlsx

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")


def _manage(*args: str, env: dict[str, str], timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, MANAGE, *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _password_hashes(database: Path) -> dict[str, str]:
    with sqlite3.connect(database) as connection:
        return dict(connection.execute("SELECT username, password FROM auth_user"))


@pytest.mark.slow
def test_bench_load_prints_every_page_without_failure(tmp_path):
    # A database of its own, in a file that gunicorn's workers open too (not the test database).
    database = tmp_path / "bench.sqlite3"
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{database}"}
    for command in (("migrate", "--no-input"), ("load_demo",)):
        completed = _manage(*command, env=env, timeout=300)
        assert completed.returncode == 0, completed.stderr
    passwords_before = _password_hashes(database)

    completed = _manage("bench_load", "--duration", "5", "--users", "2", env=env, timeout=300)

    assert completed.returncode == 0, completed.stdout + completed.stderr
    # The demo accounts get their own passwords back.
    assert _password_hashes(database) == passwords_before
    text = completed.stdout
    assert re.search(r"^Référence de la machine : \d+ ms$", text, re.MULTILINE)
    assert re.search(
        r"^gunicorn http://127\.0\.0\.1:\d+ : \d+ processus « sync », DEBUG=0 ; Locust : "
        r"2 utilisateurs, 5 s, pause entre deux pages nulle, exercice 2022$",
        text,
        re.MULTILINE,
    )
    assert re.search(r"^page +requêtes +échecs +p50 ms +p95 ms +p99 ms +req/s$", text, re.MULTILINE)
    for page in (*PAGES, "pages (sans la connexion)", "total"):
        match = re.search(
            rf"^{re.escape(page)} +(\d+) +(\d+) +\d+ +\d+ +\d+ +\d+\.\d$", text, re.MULTILINE
        )
        assert match, f"{page}\n{text}"
        requests, failures = map(int, match.groups())
        assert requests >= 1 and failures == 0, page
    assert re.search(
        r"^Processeur, du lancement de Locust à son arrêt \(\d+ cœurs × [\d.]+ s = [\d.]+ s "
        r"disponibles\) : gunicorn [\d.]+ s \(\d+ ms par requête\), Locust [\d.]+ s, le reste de "
        r"la machine [\d.]+ s",
        text,
        re.MULTILINE,
    )


def _cells(content: bytes) -> dict:
    """What a reader sees in the workbook: every written cell with its value and look, the
    merged ranges, the row heights, the page setup."""
    sheet = load_workbook(io.BytesIO(content)).active
    cells = {
        cell.coordinate: (
            cell.value,
            cell.number_format,
            bool(cell.font.b),
            bool(cell.font.i),
            cell.font.name,
            cell.fill.fgColor.rgb[-6:] if cell.fill.fill_type else None,
            cell.border.left.style,
            cell.alignment.horizontal,
            bool(cell.alignment.wrap_text),
        )
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    }
    return {
        "title": sheet.title,
        "cells": cells,
        "merges": sorted(str(merged) for merged in sheet.merged_cells.ranges),
        # In pixels (XlsxWriter rounds a height to a whole pixel, and leaves out the default
        # height, 15 points, that openpyxl writes).
        "heights": {
            row: round((sheet.row_dimensions[row].height or 15.0) * 4 / 3)
            for row in range(1, sheet.max_row + 1)
        },
        "page": (
            sheet.freeze_panes,
            sheet.print_area,
            sheet.print_title_rows,
            sheet.page_setup.orientation,
            sheet.page_setup.paperSize,
            sheet.sheet_properties.pageSetUpPr.fitToPage,
            sheet.print_options.horizontalCentered,
            sheet.oddFooter.left.text,
            sheet.oddFooter.center.text,
            sheet.oddFooter.right.text,
        ),
    }


def _hostile_table():
    heading = TableHeading(
        year=2022, department_code="77", department_of_name="de Seine-et-Marne", region_name="IDF"
    )
    themes = [
        ThemeInput(key="t", label="=cmd|' /C calc'!A0", block=Block.SOCLE, position=1),
        ThemeInput(key="i", label="+Thème", block=Block.INITIATIVE, position=1, chorus=""),
    ]
    lines = [
        BudgetLine(
            action_key=f"a{index}",
            theme_key="t" if index % 2 else "i",
            number="=1" if index == 1 else f"{index}.1",
            title=title,
            state_new=Decimal("100.00"),
            cd_new=Decimal("-0.01"),
            comment=comment,
        )
        for index, (title, comment) in enumerate(
            [("Bip\x07 bip", "x" * 40_000), ("\r\n=1+1", "@SUM(A1)"), ("", "")], start=1
        )
    ]
    return build_execution_table(heading=heading, themes=themes, lines=lines)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("year", "selector"),
    [(2022, execution_table), (2023, planned_table), (2020, planned_table)],
    ids=["execution-2022", "previsionnel-2023", "avenant-2020"],
)
def test_xlsxwriter_reference_writes_the_same_workbook(year, selector):
    convention_year = ConventionYear.objects.get(convention__department__code="77", year=year)
    table = selector(convention_year)
    generated_on = datetime.date(2026, 11, 24)

    ours = _cells(financial_table_xlsx(table, generated_on=generated_on))
    reference = _cells(financial_table_xlsxwriter(table, generated_on=generated_on))

    assert reference == ours
    assert ours["merges"] and len(ours["cells"]) > 50


@pytest.mark.django_db
def test_xlsxwriter_reference_keeps_hostile_text_as_ours_does():
    table = _hostile_table()
    ours = _cells(financial_table_xlsx(table))

    assert _cells(financial_table_xlsxwriter(table)) == ours
    values = [value for value, *_ in ours["cells"].values()]
    assert "=cmd|' /C calc'!A0" in values and "\n=1+1" in values and "Bip bip" in values


@pytest.mark.slow
@pytest.mark.django_db
def test_bench_documents_prints_the_side_by_side_figures():
    out = io.StringIO()

    call_command(
        "bench_documents",
        "--document",
        "financial-table",
        "--runs",
        "1",
        "--office-runs",
        "1",
        stdout=out,
    )

    text = out.getvalue()
    # Each document until it is ready, as the worker generates it, then the collector's pass.
    for fmt in ("pdf", "xlsx"):
        assert re.search(
            rf"^  financial-table +{fmt} +\d+\.\d ms \(min +\d+\.\d ms\) \+ ramasse-miettes +\d+ ms"
            r" +pic mémoire Python +\d+\.\d Mio +\d+ octets$",
            text,
            re.MULTILINE,
        ), text
    timing = r" +\d+\.\d ms \(min +\d+\.\d ms\), 1 essai"
    for label in ("PDF   CALPAE (WeasyPrint)", "XLSX  CALPAE (openpyxl)", "XLSX  XlsxWriter"):
        assert re.search(rf"^  {re.escape(label)}.*{timing}", text, re.MULTILINE), label
    assert re.search(r"^  XLSX  CALPAE / XlsxWriter +\d+\.\d × \(médianes\)", text, re.MULTILINE)
    if shutil.which("soffice") or shutil.which("libreoffice"):
        assert re.search(
            rf"^  PDF   LibreOffice headless \(XLSX → PDF\){timing} ; premier lancement "
            r"\(profil neuf\) +\d+\.\d ms$",
            text,
            re.MULTILINE,
        ), text
        assert re.search(r"^  PDF   LibreOffice / CALPAE +\d+\.\d ×", text, re.MULTILINE)
    else:
        assert "LibreOffice headless : absent, comparaison ignorée" in text
