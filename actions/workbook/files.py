"""Opening an uploaded file as a workbook, safely: type by content, size limits, zip bombs.

Everything is checked before a spreadsheet library sees the bytes:

- the size of the file;
- its type from its first bytes, not from its name: a ZIP archive holding a workbook (.xlsx:
  ``[Content_Types].xml`` and ``xl/``; .ods: the ``mimetype`` entry), an OLE2 compound file
  (.xls), or text (.csv);
- for an archive, its entries before anything is extracted: their number, their declared sizes
  (alone and together) and their compression ratios; then each entry is decompressed as a
  stream, counting the bytes, so that an entry whose declared size lies fails its CRC check
  instead of filling the memory; no XML entry may declare a DTD or entities (billion laughs);
- for an .ods file, the cells its rows and columns repeat, since one XML element can stand
  for millions of cells.

Then .xlsx is read by openpyxl (normal mode, since read-only mode loses merged cells; cached
values, ``data_only=True``) with defusedxml installed, which openpyxl uses for all its XML;
.xls and .ods by python-calamine (values and, for .xls, merged ranges; the merged ranges of an
.ods file are read from its ``content.xml``, which calamine does not report); .csv by the
``csv`` module. Any failure becomes a :class:`WorkbookError` with a French message.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from actions.workbook.grid import CellRange, CellValue, Sheet, is_empty_value, leading_spaces
from actions.workbook.problems import WorkbookError

MEGABYTE = 1024 * 1024
MAX_BYTES = 10 * MEGABYTE
MAX_UNCOMPRESSED_BYTES = 60 * MEGABYTE
# Office XML compresses about 10 times, very repetitive sheets up to 100 times.
MAX_RATIO = 200
# Entries smaller than this are not judged by their ratio (a tiny entry may compress a lot).
RATIO_FLOOR = MEGABYTE
MAX_ENTRIES = 2_000
MAX_CELLS = 500_000
# .xls and .ods sheets are read as dense grids, from A1 to their last value: a single value at
# the far corner of a sheet would otherwise cost gigabytes.
MAX_GRID_CELLS = 3_000_000
CHUNK = 64 * 1024

ACCEPTED_SUFFIXES = (".xlsx", ".ods", ".xls", ".csv")
FORMAT_LABELS = {
    "xlsx": "classeur Excel (.xlsx)",
    "xls": "classeur Excel 97-2003 (.xls)",
    "ods": "classeur OpenDocument (.ods)",
    "csv": "fichier texte CSV (.csv)",
}
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
SAVE_AS_XLSX = "Ouvrez-le dans votre tableur et enregistrez-le au format .xlsx, puis recommencez."


@dataclass(frozen=True)
class Limits:
    """What an upload may weigh: the file, its content once decompressed, each entry's ratio."""

    max_bytes: int = MAX_BYTES
    max_uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES
    max_ratio: int = MAX_RATIO
    max_entries: int = MAX_ENTRIES
    max_cells: int = MAX_CELLS
    max_grid_cells: int = MAX_GRID_CELLS


@dataclass(frozen=True)
class Book:
    """An opened workbook: its sheets as grids, in the order of the file."""

    filename: str
    file_format: str  # "xlsx", "xls", "ods" or "csv"
    sheets: tuple[Sheet, ...]


@dataclass
class ArchiveFacts:
    file_format: str
    has_formulas: bool = False
    ods_content: bytes = b""


def megabytes(size: int) -> str:
    """A size as the messages print it: « 12,3 Mo » (also those of conventions.resources)."""
    return f"{size / MEGABYTE:.1f}".replace(".", ",") + " Mo"


def open_workbook(
    data: bytes,
    filename: str,
    *,
    max_bytes: int = MAX_BYTES,
    max_uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES,
    max_ratio: int = MAX_RATIO,
    limits: Limits | None = None,
) -> Book:
    """Open ``data`` (the bytes of the file called ``filename``) as a :class:`Book`.

    Raises :class:`WorkbookError` with a French message when the file is refused: wrong type,
    too large, damaged or truncated, an archive that decompresses to too much, XML with
    entities, a password.
    """
    limits = limits or Limits(
        max_bytes=max_bytes,
        max_uncompressed_bytes=max_uncompressed_bytes,
        max_ratio=max_ratio,
    )
    name = PurePath(filename or "").name or "sans nom"
    suffix = PurePath(name).suffix.lower()
    if suffix not in ACCEPTED_SUFFIXES:
        raise WorkbookError(
            f"Le fichier « {name} » n'est pas accepté : seuls les classeurs .xlsx, .ods, .xls "
            "et les fichiers .csv peuvent être importés."
        )
    if not data:
        raise WorkbookError(f"Le fichier « {name} » est vide.")
    if len(data) > limits.max_bytes:
        raise WorkbookError(
            f"Le fichier « {name} » pèse {megabytes(len(data))} : la limite est de "
            f"{megabytes(limits.max_bytes)}."
        )

    if data[:2] == b"PK":
        facts = inspect_archive(data, name, limits)
        if facts.file_format == "xlsx":
            sheets = _load_xlsx(data, name, has_formulas=facts.has_formulas)
        else:
            spans = _ods_spans(facts.ods_content, name, limits)
            sheets = _load_calamine(data, name, "ods", limits, ods_spans=spans)
        file_format = facts.file_format
    elif data[:8] == OLE2_MAGIC:
        sheets = _load_calamine(data, name, "xls", limits)
        file_format = "xls"
    else:
        text = as_text(data)
        if text is None:
            raise WorkbookError(
                f"Le fichier « {name} » n'est ni un classeur (.xlsx, .ods, .xls) ni un fichier "
                f"texte .csv : son contenu n'est pas reconnu. {SAVE_AS_XLSX}"
            )
        head = text.lstrip("\ufeff \t\r\n")[:200].lower()
        if head.startswith("<"):
            kind = "une page web (HTML)" if "html" in head else "un fichier XML"
            raise WorkbookError(
                f"Le fichier « {name} » est {kind}, pas un classeur. {SAVE_AS_XLSX}"
            )
        if suffix != ".csv":
            raise WorkbookError(
                f"Le fichier « {name} » porte l'extension {suffix} mais son contenu est du "
                "texte, pas un classeur. S'il s'agit d'un export CSV, nommez-le en .csv ; "
                f"sinon, {SAVE_AS_XLSX[0].lower()}{SAVE_AS_XLSX[1:]}"
            )
        sheets = (_load_csv(text, name),)
        file_format = "csv"

    cells = sum(len(sheet.cells) for sheet in sheets)
    if cells > limits.max_cells:
        raise WorkbookError(
            f"Le classeur « {name} » contient {cells} cellules remplies : la limite est de "
            f"{limits.max_cells}."
        )
    if not sheets:
        raise WorkbookError(f"Le classeur « {name} » ne contient aucune feuille.")
    return Book(filename=name, file_format=file_format, sheets=tuple(sheets))


# --- Archives (.xlsx, .ods) --------------------------------------------------------------------


def inspect_archive(data: bytes, name: str, limits: Limits) -> ArchiveFacts:
    damaged = (
        f"Le fichier « {name} » est endommagé ou incomplet (archive illisible). {SAVE_AS_XLSX}"
    )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,  # a central directory asking for an unknown zip version
        OSError,
        ValueError,
        EOFError,
    ) as error:
        raise WorkbookError(damaged) from error

    bomb = (
        f"Le fichier « {name} » est refusé : une fois décompressé, il occuperait plus de "
        f"{megabytes(limits.max_uncompressed_bytes)}, ce qu'aucun tableau financier ne "
        "demande (archive anormale)."
    )
    if len(entries) > limits.max_entries:
        raise WorkbookError(
            f"Le fichier « {name} » est refusé : son archive compte {len(entries)} éléments "
            "(archive anormale)."
        )
    if sum(entry.file_size for entry in entries) > limits.max_uncompressed_bytes:
        raise WorkbookError(bomb)
    for entry in entries:
        if entry.flag_bits & 0x1:
            raise WorkbookError(
                f"Le fichier « {name} » est protégé par un mot de passe : enregistrez-le sans "
                "mot de passe, puis recommencez."
            )
        if entry.file_size > RATIO_FLOOR and entry.file_size > limits.max_ratio * max(
            entry.compress_size, 1
        ):
            raise WorkbookError(
                f"Le fichier « {name} » est refusé : l'élément « {entry.filename} » de son "
                f"archive se décompresse {entry.file_size // max(entry.compress_size, 1)} fois "
                "plus gros qu'il n'est (archive anormale)."
            )

    names = {entry.filename for entry in entries}
    file_format = None
    if "[Content_Types].xml" in names and any(item.startswith("xl/") for item in names):
        file_format = "xlsx"
    elif "mimetype" in names:
        try:
            mimetype = archive.read("mimetype")[:100].strip()
        except Exception as error:  # a damaged entry: zlib, CRC, truncated data…
            raise WorkbookError(damaged) from error
        if mimetype == ODS_MIMETYPE:
            file_format = "ods"
        elif mimetype.startswith(b"application/vnd.oasis.opendocument.text"):
            raise WorkbookError(
                f"Le fichier « {name} » est un document texte (.odt), pas un classeur."
            )
    if file_format is None:
        if any(item.startswith("word/") for item in names):
            kind = "un document Word (.docx)"
        elif any(item.startswith("ppt/") for item in names):
            kind = "une présentation (.pptx)"
        else:
            kind = "une archive ZIP"
        raise WorkbookError(f"Le fichier « {name} » est {kind}, pas un classeur. {SAVE_AS_XLSX}")

    facts = ArchiveFacts(file_format=file_format)
    total = 0
    for entry in entries:
        if entry.is_dir():
            continue
        is_xml = entry.filename.endswith((".xml", ".rels", ".vml"))
        keep = file_format == "ods" and entry.filename == "content.xml"
        kept: list[bytes] = []
        tail = b""
        try:
            with archive.open(entry) as stream:
                first = True
                while chunk := stream.read(CHUNK):
                    total += len(chunk)
                    if total > limits.max_uncompressed_bytes:
                        raise WorkbookError(bomb)
                    if is_xml:
                        if first:
                            _check_xml_encoding(chunk, name, entry.filename)
                        window = tail + chunk
                        if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                            raise WorkbookError(
                                f"Le fichier « {name} » est refusé : l'élément "
                                f"« {entry.filename} » déclare un DTD ou des entités XML, ce "
                                "qu'aucun tableur n'écrit (fichier piégé ou endommagé)."
                            )
                        if (
                            file_format == "xlsx"
                            and entry.filename.startswith("xl/worksheets/")
                            and (b"<f>" in window or b"<f " in window)
                        ):
                            facts.has_formulas = True
                        tail = chunk[-16:]
                    if keep:
                        kept.append(chunk)
                    first = False
        except WorkbookError:
            raise
        except Exception as error:  # bad CRC (a lying size), truncated data, zlib errors…
            raise WorkbookError(damaged) from error
        if keep:
            facts.ods_content = b"".join(kept)
    if file_format == "ods" and not facts.ods_content:
        raise WorkbookError(damaged)
    return facts


def _check_xml_encoding(start: bytes, name: str, entry: str) -> None:
    """Office files write UTF-8 XML; another encoding would hide a DTD from the byte scan."""
    if start[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(start) > 1 and start[1:2] == b"\x00"):
        raise WorkbookError(
            f"Le fichier « {name} » est refusé : l'élément « {entry} » n'est pas écrit en UTF-8 "
            "comme le font les tableurs (fichier piégé ou endommagé)."
        )


# --- .xlsx (openpyxl) --------------------------------------------------------------------------


def _load_xlsx(data: bytes, name: str, *, has_formulas: bool) -> list[Sheet]:
    import openpyxl
    import openpyxl.xml

    if not openpyxl.xml.DEFUSEDXML:  # pragma: no cover - defusedxml is a dependency
        raise WorkbookError(
            "Import impossible : le module defusedxml, qui protège la lecture des classeurs, "
            "n'est pas installé."
        )
    unreadable = f"Le classeur « {name} » est illisible ou endommagé. {SAVE_AS_XLSX}"
    try:
        # openpyxl warns about what it does not support (extensions, data validation, styles):
        # nothing that concerns the values read here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(
                io.BytesIO(data), data_only=True, keep_links=False, rich_text=False
            )
            formulas = None
            if has_formulas:
                formulas = openpyxl.load_workbook(
                    io.BytesIO(data), data_only=False, keep_links=False, rich_text=False
                )
    except WorkbookError:
        raise
    except Exception as error:  # damaged XML, missing parts, forbidden XML (defusedxml)…
        raise WorkbookError(unreadable) from error

    sheets = []
    try:
        for index, worksheet in enumerate(book.worksheets):
            cells: dict[tuple[int, int], CellValue] = {}
            indents: dict[tuple[int, int], int] = {}
            percent: set[tuple[int, int]] = set()
            # ``_cells`` holds only the cells the file defines: iterating the sheet's dimension
            # instead would create every cell of a sheet whose last cell is XFD1048576.
            for (row, column), cell in worksheet._cells.items():
                value = cell.value
                if is_empty_value(value):
                    continue
                cells[(row, column)] = value
                if isinstance(value, str):
                    indent = int(cell.alignment.indent or 0) if cell.has_style else 0
                    indent = max(indent, leading_spaces(value))
                    if indent:
                        indents[(row, column)] = indent
                elif isinstance(value, int | float) and "%" in (cell.number_format or ""):
                    percent.add((row, column))
            merged = tuple(
                CellRange(r.min_row, r.min_col, r.max_row, r.max_col)
                for r in worksheet.merged_cells.ranges
            )
            missing: set[tuple[int, int]] = set()
            if formulas is not None:
                for (row, column), cell in formulas.worksheets[index]._cells.items():
                    if cell.data_type == "f" and (row, column) not in cells:
                        missing.add((row, column))
            sheets.append(
                Sheet(
                    name=worksheet.title,
                    cells=cells,
                    merged=merged,
                    indents=indents,
                    percent=frozenset(percent),
                    formulas_without_value=frozenset(missing),
                )
            )
    except WorkbookError:
        raise
    except Exception as error:
        raise WorkbookError(unreadable) from error
    return sheets


# --- .xls and .ods (python-calamine) -----------------------------------------------------------


def _too_wide(name: str, limits: Limits) -> WorkbookError:
    return WorkbookError(
        f"Le classeur « {name} » a une feuille trop étendue (des valeurs jusqu'à plus de "
        f"{limits.max_grid_cells} cases de la première) : supprimez les cellules remplies "
        f"loin du tableau, ou {SAVE_AS_XLSX[0].lower()}{SAVE_AS_XLSX[1:]}"
    )


def _load_calamine(
    data: bytes,
    name: str,
    file_format: str,
    limits: Limits,
    *,
    ods_spans: list[tuple[CellRange, ...]] | None = None,
) -> list[Sheet]:
    try:
        from python_calamine import CalamineWorkbook
    except ImportError as error:  # pragma: no cover - python-calamine is a dependency
        raise WorkbookError(
            f"Le format {FORMAT_LABELS[file_format]} n'est pas pris en charge sur ce serveur. "
            f"{SAVE_AS_XLSX}"
        ) from error
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = []
        for index, sheet_name in enumerate(book.sheet_names):
            sheet = book.get_sheet_by_index(index)
            # to_python() makes a dense grid from A1: its size is known before.
            end = sheet.end or (0, 0)
            if (end[0] + 1) * (end[1] + 1) > limits.max_grid_cells:
                raise _too_wide(name, limits)
            cells: dict[tuple[int, int], CellValue] = {}
            indents: dict[tuple[int, int], int] = {}
            for row, values in enumerate(sheet.to_python(skip_empty_area=False), start=1):
                for column, value in enumerate(values, start=1):
                    if is_empty_value(value):
                        continue
                    cells[(row, column)] = value
                    if isinstance(value, str) and leading_spaces(value):
                        indents[(row, column)] = leading_spaces(value)
            if file_format == "xls":
                ranges = tuple(
                    CellRange(start[0] + 1, start[1] + 1, end[0] + 1, end[1] + 1)
                    for start, end in (sheet.merged_cell_ranges or ())
                )
            else:
                ranges = ods_spans[index] if ods_spans and index < len(ods_spans) else ()
            sheets.append(Sheet(name=sheet_name, cells=cells, merged=ranges, indents=indents))
    except WorkbookError:
        raise
    except Exception as error:
        message = f"Le classeur « {name} » ({FORMAT_LABELS[file_format]}) est illisible"
        if file_format == "xls" or "password" in str(error).lower():
            message += " ou protégé par un mot de passe"
        raise WorkbookError(f"{message}. {SAVE_AS_XLSX}") from error
    return sheets


_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TABLE = f"{{{_TABLE_NS}}}table"
_ROW = f"{{{_TABLE_NS}}}table-row"
_CELL = f"{{{_TABLE_NS}}}table-cell"
_COVERED = f"{{{_TABLE_NS}}}covered-table-cell"


def _count(element, attribute: str) -> int:
    try:
        return max(1, int(element.get(f"{{{_TABLE_NS}}}{attribute}", "1")))
    except ValueError:
        return 1


def _ods_spans(content: bytes, name: str, limits: Limits) -> list[tuple[CellRange, ...]]:
    """The merged ranges of each table of an .ods ``content.xml`` (cells with
    ``number-rows-spanned`` / ``number-columns-spanned``), and a count of the non-empty cells its
    ``number-*-repeated`` attributes stand for, refused beyond the limit."""
    from defusedxml.ElementTree import iterparse

    unreadable = f"Le classeur « {name} » (.ods) est illisible ou endommagé. {SAVE_AS_XLSX}"
    tables: list[tuple[CellRange, ...]] = []
    spans: list[CellRange] = []
    depth = 0  # tables nested in a cell are not sheets
    row = column = 0
    row_repeat = 1
    row_cells = 0
    filled = 0
    last_column = 0  # of the current row's values
    extent_rows = extent_columns = 0  # of the current table's values
    try:
        for event, element in iterparse(io.BytesIO(content), events=("start", "end")):
            tag = element.tag
            if event == "start":
                if tag == _TABLE:
                    depth += 1
                    if depth == 1:
                        spans, row = [], 0
                        extent_rows = extent_columns = 0
                elif depth != 1:
                    continue
                elif tag == _ROW:
                    row_repeat = _count(element, "number-rows-repeated")
                    column, row_cells, last_column = 0, 0, 0
                elif tag in (_CELL, _COVERED):
                    repeat = _count(element, "number-columns-repeated")
                    if tag == _CELL:
                        rows_spanned = _count(element, "number-rows-spanned")
                        columns_spanned = _count(element, "number-columns-spanned")
                        if rows_spanned > 1 or columns_spanned > 1:
                            spans.append(
                                CellRange(
                                    row + 1,
                                    column + 1,
                                    row + rows_spanned,
                                    column + columns_spanned,
                                )
                            )
                        if element.get(f"{{{_OFFICE_NS}}}value-type"):
                            row_cells += repeat
                            last_column = column + repeat
                    column += repeat
                continue
            if tag == _TABLE:
                if depth == 1:
                    tables.append(tuple(spans))
                depth -= 1
            elif depth == 1 and tag == _ROW:
                filled += row_cells * row_repeat
                if row_cells:
                    extent_rows = row + row_repeat
                    extent_columns = max(extent_columns, last_column)
                if filled > limits.max_cells:
                    raise WorkbookError(
                        f"Le classeur « {name} » contient plus de {limits.max_cells} cellules "
                        "remplies (lignes ou colonnes répétées) : il est refusé."
                    )
                if extent_rows * extent_columns > limits.max_grid_cells:
                    raise _too_wide(name, limits)
                row += row_repeat
                element.clear()
    except WorkbookError:
        raise
    except Exception as error:
        raise WorkbookError(unreadable) from error
    return tables


# --- .csv --------------------------------------------------------------------------------------


def as_text(data: bytes) -> str | None:
    """The file as text if it is text (UTF-8, UTF-16 with its mark, or Windows-1252)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    elif b"\x00" in data[:CHUNK]:
        return None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                return None
    sample = text[:CHUNK]
    controls = sum(
        1 for c in sample if unicodedata.category(c) in ("Cc", "Cs", "Co") and c not in "\t\r\n"
    )
    if controls > len(sample) // 100:
        return None
    return text


def _load_csv(text: str, name: str) -> Sheet:
    text = text.lstrip("\ufeff")
    sample = text[:CHUNK]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=";,\t")
        delimiter = dialect.delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample.splitlines() else ""
        delimiter = max(";,\t", key=first.count)
    cells: dict[tuple[int, int], CellValue] = {}
    indents: dict[tuple[int, int], int] = {}
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        for row, values in enumerate(reader, start=1):
            for column, value in enumerate(values, start=1):
                if is_empty_value(value):
                    continue
                cells[(row, column)] = value
                if leading_spaces(value):
                    indents[(row, column)] = leading_spaces(value)
    except csv.Error as error:
        raise WorkbookError(
            f"Le fichier CSV « {name} » est mal formé (guillemets non refermés ?). {SAVE_AS_XLSX}"
        ) from error
    return Sheet(name=PurePath(name).stem or "CSV", cells=cells, indents=indents)
