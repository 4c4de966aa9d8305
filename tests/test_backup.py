"""Backup and restore (README « Sauvegardes et restauration »), on the engine of the test run.

The round trip runs as an operator would, in subprocesses on real databases — pytest-django's
SQLite test database lives in memory, out of reach of another process: a source database is
migrated and loaded with the demo data, its XLSX documents are exported, it is backed up and
restored into an empty database, from which the same documents must come out byte for byte.
The refusals run in this process against the test database, which they must leave as it was.
"""

import base64
import hashlib
import io
import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection

from calpae import backups
from conventions.models import Convention
from reports.documents import DOCUMENTS

ENGINE = connection.vendor
XLSX_DOCUMENTS = sorted(slug for slug, document in DOCUMENTS.items() if "xlsx" in document.formats)
# A file as the background worker or an upload leaves them: in the database, so in the backup.
STORED_FILE = bytes(range(256)) * 16
STORE_FILE = f"""
from conventions.models import ConventionYear
from reports.models import GeneratedDocument
GeneratedDocument.objects.create(
    convention_year=ConventionYear.objects.get(convention__department__code="77", year=2022),
    slug="execution-report", fmt="pdf", data_version="0" * 64, status="ready",
    content={STORED_FILE!r},
)
"""


def manage(*arguments: str, url: str, check: bool = True) -> subprocess.CompletedProcess:
    """``manage.py`` in a subprocess on the database at ``url``."""
    completed = subprocess.run(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *arguments],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": url, "DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check:
        assert completed.returncode == 0, completed.stderr
    return completed


def document_digests(*, url: str, directory: Path) -> dict[str, str]:
    """The SHA-256 of each XLSX document of Seine-et-Marne 2022, exported from ``url`` by
    ``manage.py export_document`` (called from one process: one start of Django, not three)."""
    directory.mkdir()
    export = "from django.core.management import call_command\n" + "".join(
        f"call_command('export_document', '--departement', '77', '--year', '2022', "
        f"'--document', {slug!r}, '--format', 'xlsx', '--output', "
        f"{str(directory / f'{slug}.xlsx')!r})\n"
        for slug in XLSX_DOCUMENTS
    )
    manage("shell", "-c", export, url=url)
    return {
        slug: hashlib.sha256((directory / f"{slug}.xlsx").read_bytes()).hexdigest()
        for slug in XLSX_DOCUMENTS
    }


@pytest.fixture(scope="module")
def new_database(tmp_path_factory):
    """Make empty databases on the engine of the run: SQLite files, or PostgreSQL databases on
    the server of the test database (dropped at the end)."""
    params = settings.DATABASES["default"]
    created = []

    def create(name: str) -> str:
        if ENGINE == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('backup') / f'{name}.sqlite3'}"
        database = f"calpae_backup_{name}_{os.getpid()}"
        subprocess.run(
            [backups.pg_tool("createdb"), "--no-password", database],
            env=backups.libpq_environment(params),
            check=True,
        )
        created.append(database)
        return urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{database}").geturl()

    yield create
    for database in created:
        subprocess.run(
            [backups.pg_tool("dropdb"), "--no-password", "--if-exists", "--force", database],
            env=backups.libpq_environment(params),
            check=True,
        )


@pytest.fixture(scope="module")
def source(new_database):
    """A database with the demo data and a stored file, built as ``make demo`` does."""
    url = new_database("source")
    manage("migrate", "--no-input", url=url)
    manage("load_demo", url=url)
    manage("shell", "-c", STORE_FILE, url=url)
    return url


@pytest.fixture(scope="module")
def backup_file(source, tmp_path_factory) -> tuple[Path, str]:
    """The backup of the source database, and what ``manage.py backup`` printed."""
    path = tmp_path_factory.mktemp("backups") / f"calpae.{backups.EXTENSIONS[ENGINE]}"
    return path, manage("backup", "--output", str(path), url=source).stdout


# A table the backup does not have, as a later version of CALPAE would add.
ADD_TABLE = """
from django.db import connection
connection.cursor().execute("CREATE TABLE ajout (x int)")
"""


def table_names(url: str) -> list[str]:
    code = "from django.db import connection; print(*connection.introspection.table_names())"
    return manage("shell", "-c", code, url=url).stdout.split()


@pytest.mark.slow
def test_a_backup_restored_into_an_empty_database_gives_the_same_documents(
    source, backup_file, new_database, tmp_path
):
    before = document_digests(url=source, directory=tmp_path / "before")
    dump_before = manage("dumpdata", url=source).stdout

    path, printed = backup_file
    assert str(path) in printed
    assert f"Taille : {path.stat().st_size} octets" in printed
    assert f"SHA-256 : {hashlib.sha256(path.read_bytes()).hexdigest()}" in printed
    assert path.stat().st_mode & 0o777 == 0o600  # personal data and password hashes

    target = new_database("target")
    printed = manage("restore", "--input", str(path), url=target).stdout
    conventions = dump_before.count('"model": "conventions.convention"')
    assert f"Vérification : {conventions} conventions" in printed
    assert "migrations appliquées" in printed
    assert "ne sont pas appliquées" not in printed

    assert document_digests(url=target, directory=tmp_path / "after") == before
    # Every row, the stored files included, is back as it was.
    dump_after = manage("dumpdata", url=target).stdout
    assert dump_after == dump_before
    assert base64.b64encode(STORED_FILE).decode() in dump_after

    # Restored once, the database is no longer empty: a second restore is refused.
    refused = manage("restore", "--input", str(path), url=target, check=False)
    assert refused.returncode == 1
    assert "n'est pas vide" in refused.stderr
    assert "--force" in refused.stderr


@pytest.mark.slow
def test_force_replaces_the_data_but_never_leaves_foreign_tables(backup_file, new_database):
    path, _ = backup_file
    target = new_database("force")
    manage("restore", "--input", str(path), url=target)
    assert "restaurée" in manage("restore", "--input", str(path), "--force", url=target).stdout

    manage("shell", "-c", ADD_TABLE, url=target)
    forced = manage("restore", "--input", str(path), "--force", url=target, check=False)
    if ENGINE == "sqlite":
        # The backup API replaces the whole file.
        assert forced.returncode == 0, forced.stderr
        assert "ajout" not in table_names(target)
    else:
        # pg_restore --clean would leave it: refused, the database as it was.
        assert forced.returncode == 1
        assert "absentes de la sauvegarde (ajout)" in forced.stderr
        assert "ajout" in table_names(target)


# --- In this process, against the test database ----------------------------------------------


def database_state() -> tuple:
    return (
        sorted(connection.introspection.table_names()),
        Convention.objects.count(),
        get_user_model().objects.filter(username="marqueur").exists(),
    )


def foreign_backup(path: Path) -> tuple[Path, str]:
    """A file that begins as a backup of the other engine does."""
    if ENGINE == "sqlite":
        path.write_bytes(backups.PG_DUMP_MAGIC + b"\x01\x0e\x00" + bytes(64))
        return path, "PostgreSQL"
    path.write_bytes(backups.SQLITE_MAGIC + bytes(84))
    return path, "SQLite"


def bad_files(tmp_path: Path) -> list[tuple[Path, str]]:
    """(file, what the refusal must say) — each refused even with --force."""
    text = tmp_path / "notes.txt"
    text.write_text("Ceci n'est pas une sauvegarde.\n", encoding="utf-8")
    damaged = tmp_path / "abime.backup"
    magic = backups.SQLITE_MAGIC if ENGINE == "sqlite" else backups.PG_DUMP_MAGIC
    damaged.write_bytes(magic + b"\xff" * 4000)
    cases = [
        (tmp_path / "absent.dump", "Fichier introuvable"),
        (text, "n'est pas une sauvegarde de CALPAE"),
        foreign_backup(tmp_path / "autre-moteur.backup"),
        (damaged, "illisible"),
    ]
    if ENGINE == "sqlite":
        other = tmp_path / "autre-application.sqlite3"
        with closing(sqlite3.connect(other)) as db:
            db.execute("CREATE TABLE notes (texte TEXT)")
        cases.append((other, "ne contient pas la table des migrations"))
    return cases


@pytest.mark.django_db
def test_bad_files_are_refused_with_the_file_named_and_the_database_untouched(tmp_path):
    get_user_model().objects.create_user("marqueur")
    state = database_state()
    for path, reason in bad_files(tmp_path):
        with pytest.raises(CommandError) as refused:
            call_command("restore", path=path, force=True)
        assert str(path) in str(refused.value)
        assert reason in str(refused.value)
        assert database_state() == state


@pytest.mark.django_db
def test_a_backup_is_not_restored_over_data_without_force(tmp_path):
    path = tmp_path / f"calpae.{backups.EXTENSIONS[ENGINE]}"
    # Backed up before this test writes: on SQLite the backup waits for the end of the write
    # transaction, which pytest-django holds open until the end of the test.
    call_command("backup", output=path, stdout=io.StringIO())
    get_user_model().objects.create_user("marqueur")
    state = database_state()
    with pytest.raises(CommandError, match=r"n.est pas vide .* relancez avec --force"):
        call_command("restore", path=path)
    assert database_state() == state


@pytest.mark.django_db
def test_backup_default_name_and_printed_digest(tmp_path, settings, capsys):
    settings.VAR_DIR = tmp_path
    call_command("backup")
    (path,) = (tmp_path / "backups").iterdir()
    extension = backups.EXTENSIONS[ENGINE]
    assert re.fullmatch(rf"calpae-{ENGINE}-\d{{8}}-\d{{6}}\.{extension}", path.name)
    assert "django_migrations" in backups.backup_tables(path=path, vendor=ENGINE)
    printed = capsys.readouterr().out
    assert f"SHA-256 : {hashlib.sha256(path.read_bytes()).hexdigest()}" in printed
    with pytest.raises(CommandError, match="existe déjà"):
        call_command("backup", output=path)


def test_the_password_reaches_pg_dump_in_its_environment_never_on_its_command_line(
    monkeypatch, tmp_path
):
    calls = []

    def run(arguments, *, env, **kwargs):
        calls.append((arguments, env))
        return subprocess.CompletedProcess(arguments, 0, stdout="", stderr="")

    monkeypatch.setattr(backups.subprocess, "run", run)
    monkeypatch.setattr(backups, "pg_tool", lambda name: f"/usr/bin/{name}")
    params = {
        "NAME": "calpae",
        "USER": "calpae",
        "PASSWORD": "s3cr3t-mot-de-passe",
        "HOST": "db.example.org",
        "PORT": 5433,
        "OPTIONS": {"sslmode": "require"},
    }
    fake = SimpleNamespace(vendor="postgresql", settings_dict=params)
    saved = backups.backup(connection=fake, output=tmp_path / "calpae.dump")

    ((arguments, env),) = calls
    assert "s3cr3t-mot-de-passe" not in " ".join(arguments)
    assert "s3cr3t-mot-de-passe" not in backups.database_label(connection=fake)
    assert arguments[:3] == ["/usr/bin/pg_dump", "--no-password", "--format=custom"]
    assert env["PGPASSWORD"] == "s3cr3t-mot-de-passe"
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGDATABASE"]) == (
        "db.example.org",
        "5433",
        "calpae",
        "calpae",
    )
    assert env["PGSSLMODE"] == "require"
    assert saved.path == tmp_path / "calpae.dump"
