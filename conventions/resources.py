"""Import and export (django-import-export) of the conventions app, and what every resource shares.

Rows are identified by their natural key — code INSEE du Département, code du programme, code
Chorus, année de l'exercice, numéro de fiche —, never by a database id: a file exported here,
edited in a spreadsheet and imported back, or a legacy spreadsheet laid out the same way, updates
the rows it names. Columns are headed by the French names of the fields.

What every resource (``CalpaeResource``) guarantees:

- a real import is one transaction: one error in any row and nothing is written, earlier valid
  rows included (the admin's confirm step and ``manage.py import_resource`` alike); a dry run
  writes nothing;
- each row goes through ``full_clean()`` (constraints and ``clean()`` rules) and is saved one by
  one (no bulk mode), so that django-simple-history records every change with its author and the
  file name as reason;
- an unchanged row is skipped: importing the same file twice changes nothing, history included;
- errors are French and name the line of the spreadsheet (the header is line 1) and the column;
- given a user (the admin passes the logged-in one), rows of a Département the user is not an
  administrator of (``calpae.permissions.IMPORT_ROLES``), and the national catalogues for anyone
  but a superuser, are refused; exports hold only the rows the user may read (``for_user``).
"""

import csv
import datetime
import io
import json
import re
from decimal import Decimal

import openpyxl
import tablib
from django.core.exceptions import NON_FIELD_ERRORS, MultipleObjectsReturned, ValidationError
from django.db import IntegrityError
from django.utils.functional import cached_property
from import_export import fields, resources, widgets
from import_export.formats import base_formats
from import_export.instance_loaders import ModelInstanceLoader
from import_export.results import Result
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from actions.workbook.files import (
    MAX_BYTES,
    OLE2_MAGIC,
    Limits,
    as_text,
    inspect_archive,
    megabytes,
)
from actions.workbook.problems import WorkbookError
from calpae.forms import parse_amount
from calpae.permissions import IMPORT_ROLES, department_roles
from conventions.models import (
    Amendment,
    ChorusCode,
    Convention,
    ConventionYear,
    Department,
    Programme,
    Region,
    StateEnvelope,
    Theme,
    ThemeYear,
)

# Columns that several resources share: the natural keys of the exercice and of the Département.
DEPARTMENT = "département"
YEAR = "année"
PROGRAMME = "programme"
CONVENTION_START = "début de la convention"

# --- Cells ------------------------------------------------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]")
_INTEGER = re.compile(r"^-?\d+$")
_NUMBER = re.compile(r"^-?\d+([.,]\d+)?$")
CENT = Decimal("0.01")
AMOUNT_LIMIT = Decimal("1000000000000")


class CellError(ValueError):
    """A cell that cannot be read. ``column`` names the column at fault when it is not the
    field's own (a lookup reads the Département and the year from other columns)."""

    def __init__(self, message: str, *, column: str | None = None):
        super().__init__(message)
        self.message = message
        self.column = column


def cell_text(value) -> str:
    """A cell as text: a spreadsheet gives ``3.0`` where the code ``3`` was typed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def department_code(value) -> str:
    """``3`` or ``"3"`` → ``"03"``; ``"2a"`` → ``"2A"``."""
    code = cell_text(value).upper()
    return code.zfill(2) if code.isdigit() and len(code) == 1 else code


def _native(kwargs) -> bool:
    """The admin asks for native values (numbers, dates) when it writes an XLSX file."""
    return bool(kwargs.get("force_native_type"))


def _empty(native: bool):
    return None if native else ""


class TextWidget(widgets.Widget):
    """Text as typed; line endings as a form stores them (``\\n``)."""

    def clean(self, value, row=None, **kwargs):
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value).replace("\r\n", "\n").replace("\r", "\n")

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class CodeWidget(TextWidget):
    """A code: trimmed, and a spreadsheet number turned back into text."""

    def __init__(self, normalize=cell_text, **kwargs):
        super().__init__(**kwargs)
        self.normalize = normalize

    def clean(self, value, row=None, **kwargs):
        return self.normalize(value)


class IntegerWidget(widgets.Widget):
    """A whole number (a year, a position), printed without thousands separator."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            raise ValueError(f"« {value} » n'est pas un nombre entier.")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        text = _SPACES.sub("", cell_text(value))
        if not text:
            return None
        if not _INTEGER.match(text):
            raise ValueError(f"« {value} » n'est pas un nombre entier.")
        return int(text)

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return _empty(_native(kwargs))
        return value if _native(kwargs) else str(value)


class AmountWidget(widgets.Widget):
    """An amount in euros: a number cell, or French text (``1 234,56 €``, no-break spaces)."""

    def clean(self, value, row=None, **kwargs):
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        invalid = f"« {value} » n'est pas un montant en euros : écrivez par exemple 1 234,56."
        if isinstance(value, bool):
            raise ValueError(invalid)
        if isinstance(value, int | Decimal):
            amount = Decimal(value)
        elif isinstance(value, float):
            amount = Decimal(repr(value))
        else:
            try:
                amount = parse_amount(str(value))
            except ValueError:
                raise ValueError(invalid) from None
        if not amount.is_finite():
            raise ValueError(invalid)
        if abs(amount) >= AMOUNT_LIMIT:
            raise ValueError("Le montant ne peut pas dépasser 999 999 999 999,99 €.")
        rounded = amount.quantize(CENT)
        # A number cell holds a binary float (0.1 + 0.2): only its noise is rounded away.
        if abs(amount - rounded) > Decimal("0.000001"):
            raise ValueError(f"« {value} » : un montant a au plus deux décimales.")
        if rounded < 0:
            raise ValueError("Un montant ne peut pas être négatif.")
        return rounded

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return _empty(_native(kwargs))
        if _native(kwargs):
            return value
        return format(value, "f").replace(".", ",")


class DecimalNumberWidget(widgets.Widget):
    """A decimal number that is not money (an indicator value): ``39,5``, ``10 941``."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            raise ValueError(f"« {value} » n'est pas un nombre.")
        if isinstance(value, int | Decimal):
            return Decimal(value)
        if isinstance(value, float):
            return Decimal(repr(value))
        text = _SPACES.sub("", cell_text(value))
        if not text:
            return None
        if not _NUMBER.match(text):
            raise ValueError(f"« {value} » n'est pas un nombre : écrivez par exemple 1 234,5.")
        return Decimal(text.replace(",", "."))

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return _empty(_native(kwargs))
        if _native(kwargs):
            return value
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text.replace(".", ",")


class DateWidget(widgets.Widget):
    """A date: a date cell, ``2023-06-30`` or ``30/06/2023`` (never the US month first)."""

    FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d.%m.%Y")

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = cell_text(value)
        if not text:
            return None
        for date_format in self.FORMATS:
            try:
                return datetime.datetime.strptime(text, date_format).date()
            except ValueError:
                continue
        raise ValueError(f"« {text} » n'est pas une date : écrivez par exemple 30/06/2023.")

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return _empty(_native(kwargs))
        return value if _native(kwargs) else value.isoformat()


class BooleanWidget(widgets.Widget):
    """Oui / non (also vrai / faux, 1 / 0); an empty cell is no answer."""

    TRUE = {"oui", "o", "vrai", "true", "1", "x"}
    FALSE = {"non", "n", "faux", "false", "0"}

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        text = cell_text(value).casefold()
        if not text:
            return None
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(f"« {value} » : répondez par oui ou non.")

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return _empty(_native(kwargs))
        if _native(kwargs):
            return value
        return "oui" if value else "non"


class ChoiceWidget(widgets.Widget):
    """One of the choices of a field, written as its French label (its code is accepted)."""

    def __init__(self, choices, **kwargs):
        super().__init__(**kwargs)
        self.labels = {str(code): str(label) for code, label in choices}
        self.codes = {}
        for code, label in self.labels.items():
            self.codes[code.casefold()] = code
            self.codes[label.casefold()] = code

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return ""
        code = self.codes.get(text.casefold())
        if code is None:
            possible = " ; ".join(f"« {label} »" for label in self.labels.values())
            raise ValueError(f"« {text} » n'est pas une valeur possible ({possible}).")
        return code

    def render(self, value, obj=None, **kwargs):
        return self.labels.get(value, value or "")


class JSONWidget(widgets.Widget):
    """A JSON value, e.g. the empty rows of a template ``[["3.1", ""]]``."""

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise ValueError(
                f'« {text} » n\'est pas du JSON valide, par exemple [["3.1", ""]].'
            ) from None

    def render(self, value, obj=None, **kwargs):
        return json.dumps(value, ensure_ascii=False) if value else ""


# --- Lookups by natural key -------------------------------------------------------------------


def get_one(queryset, missing: str, several: str, *, column: str | None = None):
    """The only row of ``queryset``, or a ``CellError`` that says what is missing."""
    found = list(queryset[:2])
    if not found:
        raise CellError(missing, column=column)
    if len(found) > 1:
        raise CellError(several, column=column)
    return found[0]


def row_department(row, *, required: bool = True) -> Department | None:
    code = department_code(row.get(DEPARTMENT))
    if not code:
        if not required:
            return None
        raise CellError("Indiquez le code INSEE du Département.", column=DEPARTMENT)
    department = Department.objects.filter(code=code).first()
    if department is None:
        raise CellError(
            f"Département « {code} » inconnu : indiquez son code INSEE, par exemple 77.",
            column=DEPARTMENT,
        )
    return department


def row_year(row, column: str = YEAR) -> int:
    try:
        year = IntegerWidget().clean(row.get(column))
    except ValueError as error:
        raise CellError(str(error), column=column) from None
    if year is None:
        raise CellError("Indiquez l'année.", column=column)
    return year


def convention_year_of(department: Department, year: int, *, column: str) -> ConventionYear:
    return get_one(
        ConventionYear.objects.filter(convention__department=department, year=year).select_related(
            "convention__programme"
        ),
        f"Le Département {department} n'a pas d'exercice {year} : importez d'abord les exercices.",
        f"Le Département {department} a plusieurs exercices {year} (conventions qui se "
        "chevauchent).",
        column=column,
    )


def row_convention_year(row) -> ConventionYear:
    return convention_year_of(row_department(row), row_year(row), column=YEAR)


def convention_of(department: Department, start, *, column: str) -> Convention:
    try:
        start_date = DateWidget().clean(start)
    except ValueError as error:
        raise CellError(str(error), column=column) from None
    if start_date is None:
        raise CellError("Indiquez la date de début de la convention.", column=column)
    return get_one(
        Convention.objects.filter(department=department, start_date=start_date),
        f"Le Département {department} n'a pas de convention commençant le "
        f"{start_date:%d/%m/%Y} : importez d'abord les conventions.",
        f"Le Département {department} a plusieurs conventions commençant le {start_date:%d/%m/%Y}.",
        column=column,
    )


def programme_from_column(row) -> Programme | None:
    code = cell_text(row.get(PROGRAMME))
    return Programme.objects.filter(code=code).first() if code else None


def programme_of_convention_year(row) -> Programme | None:
    """The programme of the row's exercice; ``None`` when the exercice is itself in error (its
    own column reports it)."""
    try:
        return row_convention_year(row).convention.programme
    except CellError:
        return None


class LookupWidget(widgets.ForeignKeyWidget):
    """A foreign key written as the natural key of the related row (a code, a year…)."""

    def __init__(self, model, field="code", *, label: str, normalize=cell_text, **kwargs):
        super().__init__(model, field=field, **kwargs)
        self.label = label
        self.normalize = normalize

    def clean(self, value, row=None, **kwargs):
        text = self.normalize(value)
        if not text:
            return None
        return self.lookup(text, row or {})

    def lookup(self, text: str, row):
        return get_one(
            self.model.objects.filter(**{self.field: text}),
            f"{self.label} « {text} » introuvable.",
            f"Plusieurs lignes « {text} » ({self.label}).",
        )

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return self.key(value)

    def key(self, value):
        return getattr(value, self.field)


class DepartmentWidget(LookupWidget):
    def __init__(self, **kwargs):
        super().__init__(Department, label="Département", normalize=department_code, **kwargs)

    def lookup(self, text, row):
        return get_one(
            Department.objects.filter(code=text),
            f"Département « {text} » inconnu : indiquez son code INSEE, par exemple 77.",
            f"Plusieurs Départements « {text} ».",
        )


class ConventionWidget(LookupWidget):
    """A convention, by the row's Département and its start date."""

    def __init__(self, **kwargs):
        super().__init__(Convention, field="start_date", label="Convention", **kwargs)

    def clean(self, value, row=None, **kwargs):
        if value is None or cell_text(value) == "":
            return None
        return convention_of(row_department(row), value, column=None)

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return _empty(_native(kwargs))
        return DateWidget().render(value.start_date, **kwargs)


class ConventionYearWidget(LookupWidget):
    """An exercice, by the row's Département and the year."""

    def __init__(self, **kwargs):
        super().__init__(ConventionYear, field="year", label="Exercice", **kwargs)

    def clean(self, value, row=None, **kwargs):
        year = IntegerWidget().clean(value)
        if year is None:
            return None
        return convention_year_of(row_department(row), year, column=None)

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return _empty(_native(kwargs))
        return IntegerWidget().render(value.year, **kwargs)


class AmendmentWidget(LookupWidget):
    """An avenant, by its number within the row's convention and year."""

    NO_NUMBER = "sans numéro"

    def __init__(self, **kwargs):
        super().__init__(Amendment, field="number", label="Avenant", **kwargs)

    def lookup(self, text, row):
        convention = convention_of(
            row_department(row), row.get(CONVENTION_START), column=CONVENTION_START
        )
        year = row_year(row)
        if text.casefold() == self.NO_NUMBER:
            number = None
        else:
            try:
                number = IntegerWidget().clean(text.removeprefix("n°").strip())
            except ValueError:
                raise CellError(
                    f"« {text} » : indiquez le numéro de l'avenant, ou « {self.NO_NUMBER} »."
                ) from None
        label = f"n°{number}" if number is not None else self.NO_NUMBER
        return get_one(
            Amendment.objects.filter(convention=convention, year=year, number=number),
            f"Avenant {label} de {year} introuvable pour la convention du Département "
            f"{convention.department} : importez d'abord les avenants.",
            f"Plusieurs avenants {label} de {year} pour cette convention.",
        )

    def key(self, value):
        return self.NO_NUMBER if value.number is None else str(value.number)


class ThemeWidget(LookupWidget):
    """A thème of the catalogue, by its code within the programme the row belongs to."""

    def __init__(self, programme_of_row, **kwargs):
        super().__init__(Theme, label="Thème", **kwargs)
        self.programme_of_row = programme_of_row

    def lookup(self, text, row):
        programme = self.programme_of_row(row)
        themes = Theme.objects.filter(code=text)
        if programme is not None:
            themes = themes.filter(programme=programme)
        where = f" du programme « {programme} »" if programme is not None else ""
        return get_one(
            themes,
            f"Thème « {text} » inconnu{where} : indiquez le code d'un thème du catalogue, "
            "par exemple garantie-activite.",
            f"Plusieurs thèmes « {text} » : indiquez le programme.",
        )


class ThemesWidget(widgets.ManyToManyWidget):
    """Thèmes of the catalogue, their codes separated by commas."""

    def __init__(self, programme_of_row, **kwargs):
        super().__init__(Theme, separator=",", field="code", **kwargs)
        self.programme_of_row = programme_of_row

    def clean(self, value, row=None, **kwargs):
        codes = [code.strip() for code in cell_text(value).split(self.separator) if code.strip()]
        if not codes:
            return Theme.objects.none()
        themes = Theme.objects.filter(code__in=codes)
        programme = self.programme_of_row(row or {})
        if programme is not None:
            themes = themes.filter(programme=programme)
        found = {theme.code for theme in themes}
        missing = [code for code in codes if code not in found]
        if missing:
            listed = ", ".join(f"« {code} »" for code in missing)
            raise CellError(f"Thème inconnu : {listed}.")
        return themes

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return ", ".join(theme.code for theme in value.all())


# --- Spreadsheet formats ----------------------------------------------------------------------

# What a spreadsheet may read as the start of a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def numbered_dataset(rows) -> tablib.Dataset:
    """A dataset from the rows of a sheet, the first one the header. Blank rows are left out;
    ``line_numbers`` keeps the spreadsheet's number of each row read, for the messages."""
    rows = iter(rows)
    headers = list(next(rows, []))
    dataset = tablib.Dataset(headers=headers)
    dataset.line_numbers = []
    for line, values in enumerate(rows, start=2):
        values = list(values)[: len(headers)]
        if all(value is None or (isinstance(value, str) and not value.strip()) for value in values):
            continue
        dataset.append(values + [None] * (len(headers) - len(values)))
        dataset.line_numbers.append(line)
    return dataset


class FileRefused(ValueError):
    """A file refused before any spreadsheet library reads it; the message is French."""


def _kind(data: bytes) -> str | None:
    """What a file is, told by its first bytes (its name may lie); ``None``: none of these."""
    if data.startswith(b"%PDF-"):
        return "un document PDF"
    if data.startswith(b"MZ") and b"\0" in data[:64]:
        return "un programme Windows (exécutable)"
    if data.startswith(b"\x7fELF"):
        return "un programme (exécutable)"
    if data.startswith(OLE2_MAGIC):
        return "un classeur Excel 97-2003 (.xls) ou un document Office ancien"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "un classeur ou une archive ZIP"
    return None


def check_size(name: str, size: int) -> None:
    """The upload limit of the workbook import page (10 Mo), checked before reading a byte."""
    if size > MAX_BYTES:
        raise FileRefused(
            f"Le fichier « {name} » pèse {megabytes(size)} : la limite est de "
            f"{megabytes(MAX_BYTES)}."
        )


class XLSX(base_formats.XLSX):
    """XLSX whose text cells stay text: "=…" typed in a form is never a formula when the file is
    opened, and the text is kept whole (django-import-export's escaping drops the "=").

    A file is checked (``check``) before openpyxl reads it, as on the workbook import page
    (``actions.workbook.files``): size, type by content, zip bomb, XML entities."""

    #: Numbers and dates as typed cells (the resources' widgets give native values).
    native_cells = True

    @staticmethod
    def check(data: bytes, name: str = "importé") -> None:
        """Raise :class:`FileRefused` unless ``data`` is an .xlsx workbook within the limits."""
        if not data:
            raise FileRefused(f"Le fichier « {name} » est vide.")
        check_size(name, len(data))
        if not data.startswith(b"PK"):
            kind = _kind(data) or "un fichier dont le contenu n'est pas reconnu"
            raise FileRefused(
                f"Le fichier « {name} » est {kind}, pas un classeur .xlsx : choisissez le "
                "format csv pour un fichier texte, ou enregistrez-le au format .xlsx."
            )
        try:
            facts = inspect_archive(data, name, Limits())
        except WorkbookError as error:
            raise FileRefused(str(error)) from None
        if facts.file_format != "xlsx":
            raise FileRefused(
                f"Le fichier « {name} » est un classeur OpenDocument (.ods), pas un classeur "
                ".xlsx : enregistrez-le au format .xlsx."
            )

    def create_dataset(self, in_stream):
        self.check(in_stream)
        # ``data_only``: a formula cell of a legacy workbook gives the value Excel computed.
        workbook = openpyxl.load_workbook(io.BytesIO(in_stream), read_only=True, data_only=True)
        try:
            return numbered_dataset(list(workbook.active.iter_rows(values_only=True)))
        finally:
            workbook.close()

    def export_data(self, dataset, **kwargs):
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(list(dataset.headers or []))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for row_number, row in enumerate(dataset, start=2):
            for column_number, value in enumerate(row, start=1):
                if isinstance(value, str):
                    value = ILLEGAL_CHARACTERS_RE.sub("", value)
                cell = sheet.cell(row=row_number, column=column_number, value=value)
                if isinstance(value, str) and cell.data_type == "f":
                    cell.data_type = "s"
        stream = io.BytesIO()
        workbook.save(stream)
        return stream.getvalue()


class CSV(base_formats.CSV):
    """CSV as French spreadsheets open it: ";" between cells, UTF-8 with a byte order mark. A
    cell that a spreadsheet would take for a formula is prefixed with "'" (removed on import).

    Read as bytes: a file saved by Excel as "CSV (séparateur : point-virgule)" is Windows-1252,
    one saved as "CSV UTF-8" is UTF-8; the delimiter (";" or ",") is read from the header line.
    """

    DELIMITER = ";"
    ENCODING = "utf-8-sig"
    native_cells = False

    @staticmethod
    def check(data: bytes, name: str = "importé") -> None:
        """Raise :class:`FileRefused` unless ``data`` is a text file within the limits."""
        if not data:
            raise FileRefused(f"Le fichier « {name} » est vide.")
        check_size(name, len(data))
        kind = _kind(data)
        if kind is not None or as_text(data) is None:
            raise FileRefused(
                f"Le fichier « {name} » est {kind or 'un fichier binaire'}, pas un fichier "
                "texte CSV : choisissez le format xlsx pour un classeur .xlsx, ou enregistrez "
                "le tableau au format CSV."
            )

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def export_data(self, dataset, **kwargs):
        escaped = tablib.Dataset(headers=dataset.headers)
        for row in dataset:
            escaped.append([self.escape(value) for value in row])
        kwargs.setdefault("delimiter", self.DELIMITER)
        return escaped.export("csv", **kwargs).encode(self.ENCODING)

    @staticmethod
    def escape(value):
        if isinstance(value, str) and value.startswith(FORMULA_START):
            return f"'{value}"
        return value

    @staticmethod
    def unescape(value):
        if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_START):
            return value[1:]
        return value

    def decode(self, content: bytes) -> str:
        try:
            return content.decode(self.encoding or self.ENCODING)
        except UnicodeDecodeError:
            return content.decode("cp1252")

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, bytes):
            self.check(in_stream)
            in_stream = self.decode(in_stream)
        in_stream = in_stream.removeprefix("\ufeff")
        first_line = in_stream.split("\n", 1)[0]
        delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
        rows = csv.reader(io.StringIO(in_stream, newline=""), delimiter=delimiter)
        return numbered_dataset([self.unescape(value) for value in row] for row in rows)


FORMATS = [XLSX, CSV]


# --- Results and errors -----------------------------------------------------------------------

LOCATED = "located"  # code of a ValidationError whose message already names line and column


class ImportResult(Result):
    """Rows numbered as in the spreadsheet (the header is line 1), like the messages: the
    resource renumbers them (``CalpaeResource.import_data``)."""

    def row_errors(self):
        return [(row.number, row.errors) for row in self.error_rows]


class RowImportError(Exception):
    """An unexpected failure of a row, told in French with its line."""


class HeaderError(ValueError):
    """The header line of the file does not fit the resource."""


def result_messages(result) -> list[str]:
    """Every error of an import, in French, each naming its line (and column)."""
    messages = [str(error.error) for error in result.base_errors]
    for invalid in result.invalid_rows:
        for errors in invalid.error_dict.values():
            messages.extend(errors)
    for _line, errors in result.row_errors():
        messages.extend(str(error.error) for error in errors)
    return messages


class NaturalKeyInstanceLoader(ModelInstanceLoader):
    """Finds the row to update by the resource's natural key; a key that names no row of the
    referenced tables, or several rows, is an error of the row."""

    def get_instance(self, row):
        resource = self.resource
        params = {
            resource.fields[name].attribute: resource.clean_key(resource.fields[name], row)
            for name in resource.get_import_id_fields()
        }
        found = list(self.get_queryset().filter(**params)[:2])
        if len(found) > 1:
            raise ValidationError(
                {
                    NON_FIELD_ERRORS: [
                        resource.at(None, "plusieurs lignes de la base ont cette clé.")
                    ]
                }
            )
        return found[0] if found else None


NATIONAL = "national"  # the row belongs to a national catalogue, not to a Département
UNKNOWN = "unknown"  # the row's Département cannot be told (its own column reports the error)


class CalpaeResource(resources.ModelResource):
    """The base of every resource of the project (see the module docstring)."""

    #: Path from the model to its Département; ``None`` for a national catalogue.
    department_path: str | None = None
    #: Columns read by the lookups besides the natural key's own.
    context_columns: tuple[str, ...] = ()
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()

    class Meta:
        instance_loader_class = NaturalKeyInstanceLoader
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True
        # Bulk mode would bypass save(): no history row. Rows are saved one by one.
        use_bulk = False

    def __init__(self, *, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user
        self.line: int | None = None
        self.line_numbers: list[int] | None = None

    # -- Fields ---------------------------------------------------------------------------------

    @classmethod
    def widget_for(cls, django_field) -> widgets.Widget:
        if django_field.choices:
            return ChoiceWidget(django_field.choices)
        internal_type = django_field.get_internal_type()
        if internal_type == "DecimalField":
            return AmountWidget() if django_field.decimal_places == 2 else DecimalNumberWidget()
        if internal_type == "DateField":
            return DateWidget()
        if internal_type == "BooleanField":
            return BooleanWidget()
        if internal_type == "JSONField":
            return JSONWidget()
        if "IntegerField" in internal_type:
            return IntegerWidget()
        return TextWidget()

    @classmethod
    def field_from_django_field(cls, field_name, django_field, readonly):
        field = super().field_from_django_field(field_name, django_field, readonly)
        field.column_name = str(django_field.verbose_name)
        if not django_field.is_relation:
            field.widget = cls.widget_for(django_field)
        if field_name == "code":
            field.widget = CodeWidget()
        return field

    def get_import_order(self):
        # The natural-key columns first, as in the exported files.
        return self.get_export_order()

    def required_columns(self) -> list[str]:
        key_columns = [self.fields[name].column_name for name in self.get_import_id_fields()]
        return list(dict.fromkeys([*self.context_columns, *key_columns]))

    # -- Users and Départements -----------------------------------------------------------------

    @classmethod
    def scope_queryset(cls, queryset, user):
        """The rows ``user`` may read (``for_user``); a national catalogue is read by all."""
        if user is None or (user.is_active and user.is_superuser):
            return queryset
        if cls.department_path is None:
            return queryset
        return queryset.filter(**{f"{cls.department_path}__in": Department.objects.for_user(user)})

    @cached_property
    def writable_departments(self) -> frozenset[int] | None:
        """The Départements whose rows the user may import; ``None``: all (a superuser, or the
        command line without ``--utilisateur``)."""
        user = self.user
        if user is None or (user.is_active and user.is_superuser):
            return None
        if not (user.is_authenticated and user.is_active):
            return frozenset()
        return frozenset(
            department_id
            for department_id, role in department_roles(user).items()
            if role in IMPORT_ROLES
        )

    def department_id_of(self, instance):
        if self.department_path is None:
            return NATIONAL
        *steps, last = self.department_path.split("__")
        target = instance
        for step in steps:
            target = getattr(target, step, None)
            if target is None:
                return UNKNOWN
        return getattr(target, f"{last}_id", None) or UNKNOWN

    def refusal(self, department_id) -> str | None:
        allowed = self.writable_departments
        if allowed is None or department_id == UNKNOWN:
            return None
        if department_id == NATIONAL:
            return (
                "seul un administrateur national peut importer les catalogues nationaux "
                "(régions, Départements, programmes, imputations Chorus, thèmes, indicateurs "
                "nationaux)."
            )
        if department_id in allowed:
            return None
        department = Department.objects.filter(pk=department_id).first()
        return (
            f"vous ne pouvez pas importer de données du Département {department} : seuls ses "
            "administrateurs le peuvent."
        )

    # -- Errors ---------------------------------------------------------------------------------

    def at(self, column: str | None, message: str) -> str:
        where = f"Ligne {self.line}" if self.line else "Fichier"
        if column:
            where += f", colonne « {column} »"
        return f"{where} : {message}"

    def located(self, column: str | None, message: str) -> ValidationError:
        error = ValidationError(self.at(column, message), code=LOCATED)
        error.column = column
        return error

    def cell_error(self, field, error: ValueError) -> ValidationError:
        column = getattr(error, "column", None) or field.column_name
        return self.located(column, getattr(error, "message", None) or str(error))

    def clean_key(self, field, row):
        """The value of a natural-key cell, or the row's error."""
        try:
            return field.clean(row)
        except ValueError as error:
            located = self.cell_error(field, error)
            raise ValidationError({located.column: [located]}) from None

    def _by_column(self, error: ValidationError) -> ValidationError:
        """Model errors (``full_clean()``) located like the cells' errors, keyed by column."""
        columns = {field.attribute: field.column_name for field in self.fields.values()}
        model_fields = {field.name: field for field in self._meta.model._meta.fields}
        located = {}
        for key, errors in error.error_dict.items():
            for item in errors:
                for single in item.error_list:
                    if single.code == LOCATED:
                        column, text = getattr(single, "column", None), single.message
                    else:
                        message = (
                            single.message % single.params if single.params else single.message
                        )
                        column = None
                        if key != NON_FIELD_ERRORS:
                            column = columns.get(key) or str(
                                getattr(model_fields.get(key), "verbose_name", key)
                            )
                        text = self.at(column, message)
                    located.setdefault(column or NON_FIELD_ERRORS, []).append(text)
        return ValidationError(located)

    # -- Import workflow ------------------------------------------------------------------------

    @classmethod
    def get_result_class(cls):
        return ImportResult

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=False,
        **kwargs,
    ):
        # Always one transaction, rolled back on any error, a validation error included (the
        # admin's confirm step does not ask for it).
        if self.user is None:
            self.user = kwargs.get("user")
        result = super().import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=raise_errors,
            use_transactions=True,
            collect_failed_rows=collect_failed_rows,
            rollback_on_validation_errors=True,
            **kwargs,
        )
        for row in [*result.invalid_rows, *result.error_rows]:
            row.number = self.line_of(row.number)
        for error in result.base_errors:
            if isinstance(error.error, HeaderError):
                # The admin prints a base error's traceback: here, only the message.
                error.error.__traceback__ = None
        return result

    def line_of(self, row_number: int) -> int:
        """The spreadsheet's line of the n-th row read (blank lines are not read)."""
        numbers = self.line_numbers
        return numbers[row_number - 1] if numbers and row_number <= len(numbers) else row_number + 1

    def before_import(self, dataset, **kwargs):
        self.line = None
        self.line_numbers = getattr(dataset, "line_numbers", None)
        if dataset.headers:
            dataset.headers = [cell_text(header) for header in dataset.headers]
        present = [header for header in dataset.headers or [] if header]
        known = [field.column_name for field in self.get_import_fields()]
        problems = []
        missing = [column for column in self.required_columns() if column not in present]
        if missing:
            problems.append(
                "colonnes obligatoires absentes : " + ", ".join(f"« {c} »" for c in missing) + "."
            )
        unknown = [header for header in present if header not in known]
        if unknown:
            problems.append(
                "colonnes inconnues : "
                + ", ".join(f"« {c} »" for c in unknown)
                + " (colonnes possibles : "
                + ", ".join(f"« {c} »" for c in known)
                + ")."
            )
        duplicated = sorted({header for header in present if present.count(header) > 1})
        if duplicated:
            problems.append(
                "colonnes en double : " + ", ".join(f"« {c} »" for c in duplicated) + "."
            )
        if problems:
            # No row is read: each would only repeat the same error.
            dataset.wipe()
            raise HeaderError("En-tête du fichier : " + " ".join(problems))

    def import_row(self, row, instance_loader, **kwargs):
        self.line = self.line_of(kwargs["row_number"])
        row_result = super().import_row(row, instance_loader, **kwargs)
        for error in row_result.errors:
            original = error.error
            if isinstance(original, MultipleObjectsReturned):
                message = "plusieurs lignes de la base correspondent à cette ligne."
            elif isinstance(original, IntegrityError):
                message = f"la base de données a refusé la ligne ({original})."
            else:
                message = f"erreur inattendue ({type(original).__name__} : {original})."
            error.error = RowImportError(self.at(None, message))
            error.error.__cause__ = original
        return row_result

    def import_instance(self, instance, row, **kwargs):
        """Every cell of the row, errors collected by column; then the Département check."""
        before = UNKNOWN if instance._state.adding else self.department_id_of(instance)
        errors = {}
        for field in self.get_import_fields():
            try:
                if isinstance(field.widget, widgets.ManyToManyWidget):
                    # Checked now, written once the row is saved (``save_m2m``).
                    if field.column_name in row:
                        field.clean(row, **kwargs)
                    continue
                self.import_field(field, instance, row, **kwargs)
            except ValueError as error:
                errors.setdefault(field.attribute, []).append(self.cell_error(field, error))
        for department_id in dict.fromkeys([before, self.department_id_of(instance)]):
            refusal = self.refusal(department_id)
            if refusal:
                errors.setdefault(NON_FIELD_ERRORS, []).append(self.located(None, refusal))
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        try:
            super().validate_instance(instance, import_validation_errors, validate_unique)
        except ValidationError as error:
            raise self._by_column(error) from None

    def before_save_instance(self, instance, row, **kwargs):
        file_name = kwargs.get("file_name")
        instance._change_reason = f"Import du fichier « {file_name} »" if file_name else "Import"
        if self.user is not None and self.user.is_authenticated:
            instance._history_user = self.user

    # -- Export ---------------------------------------------------------------------------------

    def filter_export(self, queryset, **kwargs):
        queryset = self.scope_queryset(queryset, self.user)
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
        return queryset


def lookup_field(attribute: str, column: str, widget, **kwargs) -> fields.Field:
    return fields.Field(attribute=attribute, column_name=column, widget=widget, **kwargs)


def department_column(path: str) -> fields.Field:
    """The Département of a row whose model reaches it through others (read by the lookups)."""
    return fields.Field(
        attribute=f"{path}__code",
        column_name=DEPARTMENT,
        widget=CodeWidget(normalize=department_code),
        readonly=True,
    )


def year_column(path: str) -> fields.Field:
    return fields.Field(
        attribute=f"{path}__year", column_name=YEAR, widget=IntegerWidget(), readonly=True
    )


def programme_column(path: str) -> fields.Field:
    return fields.Field(
        attribute=f"{path}__code", column_name=PROGRAMME, widget=CodeWidget(), readonly=True
    )


def all_resource_classes() -> dict[str, type[CalpaeResource]]:
    """Every resource of the project, by model label (``actions.Budget``), in import order."""
    # The other apps' resources import this module: loaded here, when first needed.
    from actions import resources as actions_resources
    from indicators import resources as indicators_resources

    classes = [
        *RESOURCES,
        *actions_resources.RESOURCES,
        *indicators_resources.RESOURCES,
    ]
    return {resource._meta.model._meta.label: resource for resource in classes}


# --- The resources of the conventions app -----------------------------------------------------


class RegionResource(CalpaeResource):
    """Régions, by code INSEE."""

    class Meta:
        model = Region
        exclude = ("id",)
        import_id_fields = ("code",)

    @classmethod
    def field_from_django_field(cls, field_name, django_field, readonly):
        field = super().field_from_django_field(field_name, django_field, readonly)
        if field_name == "code":
            field.widget = CodeWidget(normalize=department_code)
        return field


class DepartmentResource(CalpaeResource):
    """Départements, by code INSEE (``03``, ``2A``, ``971``)."""

    region = lookup_field(
        "region", "région", LookupWidget(Region, label="Région", normalize=department_code)
    )
    select_related = ("region",)

    class Meta:
        model = Department
        exclude = ("id",)
        import_id_fields = ("code",)

    @classmethod
    def field_from_django_field(cls, field_name, django_field, readonly):
        field = super().field_from_django_field(field_name, django_field, readonly)
        if field_name == "code":
            field.widget = CodeWidget(normalize=department_code)
        return field

    @classmethod
    def scope_queryset(cls, queryset, user):
        # A national catalogue for imports; its rows are read like the Départements' data.
        if user is None or (user.is_active and user.is_superuser):
            return queryset
        return queryset.filter(pk__in=Department.objects.for_user(user))


class ProgrammeResource(CalpaeResource):
    """Programmes (CALPAE, Pacte des solidarités), by code."""

    class Meta:
        model = Programme
        exclude = ("id",)
        import_id_fields = ("code",)


class ChorusCodeResource(CalpaeResource):
    """Imputations Chorus, by code (``0304 50 19 19 07``)."""

    class Meta:
        model = ChorusCode
        exclude = ("id",)
        import_id_fields = ("code",)


class ThemeResource(CalpaeResource):
    """Thèmes of the national catalogue, by programme and code."""

    programme = lookup_field("programme", PROGRAMME, LookupWidget(Programme, label="Programme"))
    chorus_code = lookup_field(
        "chorus_code", "imputation Chorus", LookupWidget(ChorusCode, label="Imputation Chorus")
    )
    select_related = ("programme", "chorus_code")

    class Meta:
        model = Theme
        exclude = ("id",)
        import_id_fields = ("programme", "code")
        export_order = ("programme", "code")


class ConventionResource(CalpaeResource):
    """Conventions, by Département and start date."""

    department = lookup_field("department", DEPARTMENT, DepartmentWidget())
    programme = lookup_field("programme", PROGRAMME, LookupWidget(Programme, label="Programme"))
    department_path = "department"
    select_related = ("department", "programme")

    class Meta:
        model = Convention
        exclude = ("id",)
        import_id_fields = ("department", "start_date")
        export_order = ("department", "start_date", "end_date", "programme")


class AmendmentResource(CalpaeResource):
    """Avenants, by Département, convention (start date), year, number and kind."""

    department = department_column("convention__department")
    convention = lookup_field("convention", CONVENTION_START, ConventionWidget())
    department_path = "convention__department"
    context_columns = (DEPARTMENT,)
    select_related = ("convention__department",)

    class Meta:
        model = Amendment
        exclude = ("id",)
        import_id_fields = ("convention", "year", "number", "kind")
        export_order = ("department", "convention", "year", "number", "kind")


class ConventionYearResource(CalpaeResource):
    """Exercices, by Département and year."""

    department = department_column("convention__department")
    convention = lookup_field("convention", CONVENTION_START, ConventionWidget())
    amendment = lookup_field("amendment", "avenant fixant le montant", AmendmentWidget())
    department_path = "convention__department"
    context_columns = (DEPARTMENT,)
    select_related = ("convention__department", "amendment")

    class Meta:
        model = ConventionYear
        exclude = ("id",)
        import_id_fields = ("department", "year")
        export_order = ("department", "year", "convention")


class ThemeYearResource(CalpaeResource):
    """Thèmes of an exercice's financial table, by Département, year and thème."""

    department = department_column("convention_year__convention__department")
    convention_year = lookup_field("convention_year", YEAR, ConventionYearWidget())
    theme = lookup_field("theme", "thème", ThemeWidget(programme_of_convention_year))
    department_path = "convention_year__convention__department"
    context_columns = (DEPARTMENT,)
    select_related = ("convention_year__convention__department", "theme")

    class Meta:
        model = ThemeYear
        exclude = ("id",)
        import_id_fields = ("convention_year", "theme")
        export_order = ("department", "convention_year", "theme")


class StateEnvelopeResource(CalpaeResource):
    """Enveloppes de crédits État, by Département, year, kind and the thèmes they cover."""

    department = department_column("convention_year__convention__department")
    convention_year = lookup_field("convention_year", YEAR, ConventionYearWidget())
    themes = lookup_field("themes", "thèmes", ThemesWidget(programme_of_convention_year))
    department_path = "convention_year__convention__department"
    context_columns = (DEPARTMENT,)
    select_related = ("convention_year__convention__department",)
    prefetch_related = ("themes",)

    class Meta:
        model = StateEnvelope
        exclude = ("id",)
        import_id_fields = ("convention_year", "kind", "themes")
        export_order = ("department", "convention_year", "kind", "themes")

    def get_instance(self, instance_loader, row):
        # No column holds the envelope's identity: it is its exercice, kind and set of thèmes.
        convention_year = self.clean_key(self.fields["convention_year"], row)
        kind = self.clean_key(self.fields["kind"], row)
        wanted = {theme.pk for theme in self.clean_key(self.fields["themes"], row)}
        matches = [
            envelope
            for envelope in StateEnvelope.objects.filter(
                convention_year=convention_year, kind=kind
            ).prefetch_related("themes")
            if {theme.pk for theme in envelope.themes.all()} == wanted
        ]
        if len(matches) > 1:
            raise ValidationError(
                {NON_FIELD_ERRORS: [self.at(None, "plusieurs enveloppes ont ces thèmes.")]}
            )
        return matches[0] if matches else None


RESOURCES = [
    RegionResource,
    DepartmentResource,
    ProgrammeResource,
    ChorusCodeResource,
    ThemeResource,
    ConventionResource,
    AmendmentResource,
    ConventionYearResource,
    ThemeYearResource,
    StateEnvelopeResource,
]
