"""Backup and restore of the whole database (README « Sauvegardes et restauration »).

Everything CALPAE keeps is in the database — the data, their history, the accounts, the queue of
background tasks and every file: generated documents (``reports.GeneratedDocument``), the frozen
documents of each transmitted version (``reports.VersionFile``) and the uploaded workbooks
awaiting confirmation (``actions.PendingImport``) are ``BinaryField`` columns. A copy of the
database is therefore a copy of the application.

- PostgreSQL: ``pg_dump --format=custom``, restored by ``pg_restore`` in one transaction.
- SQLite: the online backup API of sqlite3, a consistent copy even while the app writes.

The connection parameters are given to the PostgreSQL tools in libpq's environment variables
(``PGHOST``, ``PGPASSWORD``…): the password never appears on a command line (``ps``) or in a log.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import Error as DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from conventions.models import Convention

# The first bytes of each kind of backup: a file is recognised by its content, not its name.
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"  # pg_dump's custom format
ENGINES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
EXTENSIONS = {"postgresql": "dump", "sqlite": "sqlite3"}
# Connection options of DATABASES["default"]["OPTIONS"] that libpq also reads from the environment.
LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
}


class BackupError(Exception):
    """A backup or a restore that cannot be done; the message is for the operator, in French."""


@dataclass(frozen=True)
class BackupFile:
    path: Path
    size: int
    sha256: str


@dataclass(frozen=True)
class DatabaseSummary:
    """What the sanity check after a restore reads from the database."""

    conventions: int
    applied_migrations: int
    pending_migrations: int


def default_path(*, vendor: str) -> Path:
    """``var/backups/calpae-<engine>-<timestamp>.<ext>``, in local time (the operator's)."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return Path(settings.VAR_DIR) / "backups" / f"calpae-{vendor}-{stamp}.{EXTENSIONS[vendor]}"


def database_label(*, connection: BaseDatabaseWrapper) -> str:
    """The database named for the operator: its file, or its name and server (no password)."""
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"SQLite « {params['NAME']} »"
    server = f"{params.get('HOST') or 'socket local'}:{params.get('PORT') or 5432}"
    return f"PostgreSQL « {params['NAME']} » sur {server}"


def describe(path: Path) -> BackupFile:
    with path.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
    return BackupFile(path=path, size=path.stat().st_size, sha256=digest)


# --- PostgreSQL tools ----------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    """The path of a PostgreSQL client program (``pg_dump``, ``pg_restore``, ``createdb``…).

    ``PG_BIN`` first (the operator's choice, as in ``.ci/postgres.sh``), then the ``PATH``, then
    the directory of the server's ``initdb``: some installations put only the server's programs
    on the ``PATH`` through symbolic links.
    """
    candidates = []
    if os.environ.get("PG_BIN"):
        candidates.append(Path(os.environ["PG_BIN"]) / name)
    if found := shutil.which(name):
        candidates.append(Path(found))
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).resolve().parent / name)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise BackupError(
        f"Programme {name} introuvable : installez le client PostgreSQL (paquet "
        "postgresql-client) ou indiquez son dossier dans la variable PG_BIN."
    )


def libpq_environment(params: dict) -> dict[str, str]:
    """The environment of a PostgreSQL tool connecting to the database of ``params``
    (an entry of ``settings.DATABASES``)."""
    env = dict(os.environ)
    for key, variable in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if params.get(key):
            env[variable] = str(params[key])
    for option, variable in LIBPQ_OPTIONS.items():
        if option in params.get("OPTIONS", {}):
            env[variable] = str(params["OPTIONS"][option])
    return env


def _run_pg_tool(name: str, *arguments: str, params: dict) -> str:
    """Run a PostgreSQL tool that must not prompt for a password (cron has no terminal)."""
    completed = subprocess.run(
        [pg_tool(name), "--no-password", *arguments],
        env=libpq_environment(params),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise BackupError(
            f"{name} a échoué (code {completed.returncode}) : {completed.stderr.strip()}"
        )
    return completed.stdout


# --- Backup --------------------------------------------------------------------------------------


def backup(*, connection: BaseDatabaseWrapper, output: Path) -> BackupFile:
    """Write a backup of the database to ``output`` and describe it (size, SHA-256)."""
    if output.exists():
        raise BackupError(f"Le fichier « {output} » existe déjà : choisissez un autre nom.")
    output.parent.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name, then renamed: an interrupted backup never leaves a file
    # that looks complete. mkstemp creates it readable by its owner only (0600): a backup holds
    # personal data and password hashes.
    handle, partial = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    os.close(handle)
    partial = Path(partial)
    try:
        if connection.vendor == "postgresql":
            _run_pg_tool(
                "pg_dump", "--format=custom", f"--file={partial}", params=connection.settings_dict
            )
        elif connection.vendor == "sqlite":
            # Connecting would create an empty database in place of a mistyped one.
            name = connection.settings_dict["NAME"]
            if not connection.is_in_memory_db() and not Path(name).is_file():
                raise BackupError(f"La base SQLite « {name} » n'existe pas.")
            connection.ensure_connection()
            with closing(sqlite3.connect(partial)) as target:
                # One step (pages=-1) under one read lock: the copy is consistent, and writers
                # wait (their busy timeout) for the few milliseconds it takes.
                connection.connection.backup(target)
        else:
            raise BackupError(
                f"Moteur de base de données non pris en charge : {connection.vendor}."
            )
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    return describe(output)


# --- Restore -------------------------------------------------------------------------------------


def backup_vendor(path: Path) -> str:
    """The engine a backup file comes from, read from its first bytes."""
    if not path.is_file():
        raise BackupError(f"Fichier introuvable : « {path} ».")
    with path.open("rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    if head == SQLITE_MAGIC:
        return "sqlite"
    raise BackupError(
        f"« {path} » n'est pas une sauvegarde de CALPAE : ni une sauvegarde PostgreSQL "
        "(pg_dump --format=custom), ni une base SQLite. Les sauvegardes se font avec "
        "« manage.py backup »."
    )


def backup_tables(*, path: Path, vendor: str) -> frozenset[str]:
    """The tables of a backup, read through before anything is touched: a truncated or foreign
    file is refused while the database is still intact."""
    if vendor == "postgresql":
        try:
            contents = _run_pg_tool("pg_restore", "--list", str(path), params={})
        except BackupError as error:
            raise BackupError(
                f"« {path} » est une sauvegarde PostgreSQL illisible : {error}"
            ) from None
        # A line of the table of contents: "267; 1259 16821 TABLE public actions_action owner".
        tables = frozenset(re.findall(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", contents, re.MULTILINE))
    else:
        try:
            with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
                (integrity,) = db.execute("PRAGMA quick_check").fetchone()
                rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                tables = frozenset(name for (name,) in rows)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"« {path} » est une base SQLite illisible : {error}.") from None
        if integrity != "ok":
            raise BackupError(f"« {path} » est une base SQLite abîmée : {integrity}.")
    if "django_migrations" not in tables:
        raise BackupError(
            f"« {path} » n'est pas une sauvegarde de CALPAE : elle ne contient pas la table "
            "des migrations (django_migrations)."
        )
    return tables


def restore(*, connection: BaseDatabaseWrapper, path: Path, force: bool) -> None:
    """Replace the database's contents with the backup at ``path``.

    Refused, with the database untouched, when the file is missing, is not a CALPAE backup, comes
    from the other engine, or when the database already has tables and ``force`` is not given
    (on PostgreSQL, even with ``force``, tables the backup does not have).
    """
    vendor = backup_vendor(path)
    if vendor != connection.vendor:
        raise BackupError(
            f"« {path} » est une sauvegarde {ENGINES[vendor]} : elle ne se restaure que dans une "
            f"base {ENGINES[vendor]} (variable DATABASE_URL) ; la base configurée est "
            f"{database_label(connection=connection)}."
        )
    restored = backup_tables(path=path, vendor=vendor)
    label = database_label(connection=connection)
    try:
        tables = connection.introspection.table_names()
    except DatabaseError as error:
        raise BackupError(f"Connexion impossible à la base {label} : {error}") from None
    if tables and not force:
        raise BackupError(
            f"La base {label} n'est pas vide ({len(tables)} tables) : la restauration "
            "remplacerait ses données. Restaurez dans une base vide, ou relancez avec --force "
            "pour les remplacer."
        )
    # pg_restore --clean drops only what the backup recreates: tables of a later version of
    # CALPAE would stay, and the next migrate would fail on them. (SQLite replaces the whole file.)
    if vendor == "postgresql" and (foreign := sorted(set(tables) - restored)):
        raise BackupError(
            f"La base {label} contient des tables absentes de la sauvegarde "
            f"({', '.join(foreign[:5])}{'…' if len(foreign) > 5 else ''}) : elles resteraient "
            "en place. Restaurez dans une base vide (createdb)."
        )
    if vendor == "postgresql":
        # Our own session must not hold anything the restore drops.
        connection.close()
        _run_pg_tool(
            "pg_restore",
            # Drop what the dump recreates; one transaction: on an error nothing is changed.
            "--clean",
            "--if-exists",
            "--single-transaction",
            # The roles of the server that made the backup may not exist here: the restored
            # objects belong to the user of DATABASE_URL.
            "--no-owner",
            "--no-privileges",
            f"--dbname={connection.settings_dict['NAME']}",
            str(path),
            params=connection.settings_dict,
        )
    else:
        connection.ensure_connection()
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as source:
            # The backup API replaces the whole destination under its write lock, in one step.
            source.backup(connection.connection)
        connection.close()


def database_summary(*, connection: BaseDatabaseWrapper) -> DatabaseSummary:
    """The sanity check after a restore: conventions and migrations, read by Django."""
    executor = MigrationExecutor(connection)
    applied = executor.loader.applied_migrations
    if not applied:
        raise BackupError(
            f"La base {database_label(connection=connection)} ne contient aucune migration "
            "appliquée après la restauration."
        )
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return DatabaseSummary(
        conventions=Convention.objects.using(connection.alias).count(),
        applied_migrations=len(applied),
        pending_migrations=len(pending),
    )
