"""Text as written in hand-filled workbooks: normalised for comparison, Chorus codes, thèmes.

Pure Python. ``normalize`` is what every comparison of header, label or thème uses: accents,
case, apostrophes, dashes, line breaks and non-breaking spaces do not count.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007]+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def clean(text: str) -> str:
    """Whitespace of any kind (line breaks, no-break spaces) collapsed, ends stripped."""
    return _SPACES.sub(" ", text).strip()


@functools.lru_cache(maxsize=4096)  # the same header texts are compared on every row
def normalize(text: str) -> str:
    """``"Thème de la\\ncontractualisation"`` → ``"theme de la contractualisation"``: lower
    case, no accents, every run of punctuation or space one space (so "pré-notifiés" and
    "pré notifiés", "N°" and "N" read the same)."""
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_ALNUM.sub(" ", plain).strip()


# --- Chorus ------------------------------------------------------------------------------------

# "0304 50 19 19 07", "0304-50-19-19-07", "030450191907" (the 12-digit activité), "304.50.19.19.07"
_CHORUS = re.compile(
    r"(?<!\d)0?304[\s.\-_/]*(\d{2})[\s.\-_/]*(\d{2})[\s.\-_/]*(\d{2})[\s.\-_/]*(\d{2})(?!\d)"
)
_NOTE = re.compile(r"\(([^()]*\bmontant\b[^()]*)\)\s*$", re.IGNORECASE)
_NOTE_AMOUNT = re.compile(r"(\d{1,3}(?:[ \u00a0\u202f.]\d{3})+(?:,\d{1,2})?|\d+(?:,\d{1,2})?)")


@dataclass(frozen=True)
class Chorus:
    """An "Imputation chorus (code chorus - description longue)" cell, taken apart.

    ``"0304 50 19 19 07 - Garantie d'activité et insertion des BRSA (montant CALPAE : 791 055€
    au total avec mobilité)"`` → code ``"0304 50 19 19 07"``, description ``"Garantie d'activité
    et insertion des BRSA"``, note ``"montant CALPAE : 791 055€ au total avec mobilité"``, note
    amount 791055.00. The code is ``None`` when the cell holds no code (only a description).
    """

    text: str
    code: str | None
    description: str
    note: str = ""
    note_amount: Decimal | None = None


def chorus_code(text: str) -> str | None:
    """The Chorus code written in ``text``, as "0304 50 19 19 07"; ``None`` if there is none."""
    match = _CHORUS.search(text or "")
    if not match:
        return None
    return "0304 " + " ".join(match.groups())


def parse_chorus(text: str) -> Chorus:
    text = clean(text or "")
    match = _CHORUS.search(text)
    code = "0304 " + " ".join(match.groups()) if match else None
    rest = (text[: match.start()] + " " + text[match.end() :]) if match else text
    rest = clean(rest).lstrip("-–—:;, ").strip()
    note, note_amount = "", None
    note_match = _NOTE.search(rest)
    if note_match:
        note = clean(note_match.group(1))
        rest = clean(rest[: note_match.start()])
        amount = _NOTE_AMOUNT.search(note)
        if amount:
            digits = re.sub(r"[ \u00a0\u202f.]", "", amount.group(1)).replace(",", ".")
            note_amount = Decimal(digits).quantize(Decimal("0.01"))
    return Chorus(text=text, code=code, description=rest, note=note, note_amount=note_amount)


# --- Thèmes ------------------------------------------------------------------------------------

_PARENTHESES = re.compile(r"\([^()]*\)")
_DASH_SEPARATOR = re.compile(r"\s+[–—-]\s+")
# Printed variants of a catalogue label that are not a different thème (CALPAE.md §4.1): the
# 2023 misprint "Inscription des allocataires", the 2023 "= Accès aux droits" suffix.
_VARIANTS = ((re.compile(r"^inscription des allocataires"), "insertion des allocataires"),)


def _theme_text(label: str) -> str:
    label = _PARENTHESES.sub(" ", label or "").split("=")[0]
    text = normalize(label)
    for pattern, replacement in _VARIANTS:
        text = pattern.sub(replacement, text)
    return text


def _tail(label: str) -> str:
    """The part after the last " – " ("Insertion des allocataires du RSA – Garantie
    d'activité" → "garantie d activite"): what distinguishes thèmes sharing a heading."""
    label = _PARENTHESES.sub(" ", label or "").split("=")[0]
    return _theme_text(_DASH_SEPARATOR.split(label.strip())[-1])


def _similarity(label: str, candidate: str) -> float:
    full_a, full_b = _theme_text(label), _theme_text(candidate)
    tail_a, tail_b = _tail(label), _tail(candidate)
    scores = [difflib.SequenceMatcher(None, full_a, full_b).ratio()]
    if tail_a and tail_b:
        scores.append(difflib.SequenceMatcher(None, tail_a, tail_b).ratio())
        scores.append(difflib.SequenceMatcher(None, full_a, tail_b).ratio())
    return max(scores)


MIN_SIMILARITY = 0.8


def match_theme(
    label: str | None,
    chorus: str | None,
    catalogue: Sequence[tuple[str, str, str | None]],
) -> str | None:
    """The key of the catalogue thème that ``label`` (and the Chorus cell) designates.

    ``catalogue`` is ``[(key, label, chorus_code), …]`` (the national catalogue, with codes
    written "0304 50 19 19 07" or any spelling :func:`chorus_code` reads). In order:

    1. the same label, accents, case, "(le cas échéant)" and "= Accès aux droits" aside;
    2. the Chorus code, when only one thème of the catalogue carries it (code 10 is the
       initiative du Département whatever its printed label);
    3. among the thèmes of that code (07 carries garantie d'activité and mobilité), or of the
       whole catalogue when the cell holds no code, the most similar label — its distinctive
       part after " – " counts as much as the whole — if it is similar enough and clearly ahead.

    ``None`` when no thème is designated: the writer reports it (``ProblemCode.THEME_UNKNOWN``).
    """
    text = _theme_text(label or "")
    if text:
        exact = [key for key, name, _code in catalogue if _theme_text(name) == text]
        if len(exact) == 1:
            return exact[0]
    code = chorus_code(chorus or "")
    candidates = list(catalogue)
    if code:
        with_code = [entry for entry in catalogue if chorus_code(entry[2] or "") == code]
        if len(with_code) == 1:
            return with_code[0][0]
        if with_code:
            candidates = with_code
    if not text:
        return None
    scored = sorted(
        ((_similarity(label or "", name), key) for key, name, _code in candidates), reverse=True
    )
    if not scored or scored[0][0] < MIN_SIMILARITY:
        return None
    if len(scored) > 1 and scored[0][0] - scored[1][0] < 0.05:
        return None
    return scored[0][1]
