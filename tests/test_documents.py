"""Downloading the official documents of a year, from the page and from the command line."""

import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from conventions.models import ConventionYear

pytestmark = pytest.mark.django_db


@pytest.fixture
def year_2022():
    return ConventionYear.objects.get(convention__department__code="77", year=2022)


def url(year, slug, fmt):
    return reverse("reports:document", args=[year.pk, slug, fmt])


def test_year_page_links_the_documents(client, year_2022):
    client.force_login(get_user_model().objects.get(username="prefecture77"))
    content = client.get(reverse("actions:year", args=[year_2022.pk])).content.decode()
    assert url(year_2022, "financial-table", "xlsx") in content
    assert url(year_2022, "previsionnel-table", "pdf") in content


@pytest.mark.parametrize(
    ("fmt", "content_type", "magic"),
    [
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
        ("pdf", "application/pdf", b"%PDF"),
    ],
)
def test_a_reviewer_downloads_the_financial_table(client, year_2022, fmt, content_type, magic):
    client.force_login(get_user_model().objects.get(username="prefecture77"))
    response = client.get(url(year_2022, "financial-table", fmt))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert f'filename="CALPAE-77-2022-financial-table.{fmt}"' in response["Content-Disposition"]
    assert response.content.startswith(magic)


def test_html_preview(client, year_2022):
    client.force_login(get_user_model().objects.get(username="agent77"))
    response = client.get(url(year_2022, "financial-table", "html"))
    assert response.status_code == 200
    assert "TOTAUX FINANCIERS" in response.content.decode()


def test_unknown_document_or_format_is_a_404(client, year_2022):
    client.force_login(get_user_model().objects.get(username="agent77"))
    assert client.get(url(year_2022, "inconnu", "pdf")).status_code == 404
    assert client.get(url(year_2022, "financial-table", "docx")).status_code == 404


def test_export_command_writes_the_xlsx(tmp_path: Path):
    output = tmp_path / "tableau.xlsx"
    stdout = io.StringIO()
    call_command(
        "export_document",
        "--departement=77",
        "--year=2022",
        "--document=financial-table",
        "--format=xlsx",
        f"--output={output}",
        stdout=stdout,
    )
    assert "Tableau financier récapitulatif — exécution 2022" in stdout.getvalue()
    values = [
        cell
        for row in load_workbook(output).active.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    ]
    assert "TOTAUX FINANCIERS" in values


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--departement=999", "--year=2022"], "Département inconnu : « 999 »."),
        (["--departement=77", "--year=2030"], "Aucun exercice 2030 pour le Département"),
    ],
)
def test_export_command_names_what_is_wrong(tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        call_command(
            "export_document",
            *args,
            "--document=financial-table",
            "--format=pdf",
            f"--output={tmp_path / 'x.pdf'}",
        )


def test_export_command_writes_the_indicator_matrix_pdf(tmp_path: Path):
    output = tmp_path / "indicateurs.pdf"
    call_command(
        "export_document",
        "--departement=77",
        "--year=2022",
        "--document=indicators",
        "--format=pdf",
        f"--output={output}",
        stdout=io.StringIO(),
    )
    assert output.read_bytes().startswith(b"%PDF")


def test_export_command_refuses_a_format_the_document_does_not_have(tmp_path):
    with pytest.raises(CommandError, match="Format inconnu : « xlsx »"):
        call_command(
            "export_document",
            "--departement=77",
            "--year=2022",
            "--document=execution-report",
            "--format=xlsx",
            f"--output={tmp_path / 'x.xlsx'}",
        )
