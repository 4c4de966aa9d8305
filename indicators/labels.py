"""An indicator's identity from its printed label (pure, no Django import).

The same indicator is printed a little differently from one matrix to the next; its code is
derived from what stays (``identity_label``), so that the demo build (``fixtures/build``) and the
import of a matrix (``indicators.imports``) find it again under the same code.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass


def slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def indicator_code(label: str) -> str:
    """A stable code from the label: the same indicator keeps it from one matrix to the next."""
    full = slug(label)
    if len(full) <= 90:
        return full
    return f"{full[:80]}-{hashlib.sha1(full.encode()).hexdigest()[:8]}"


def identity_label(label: str) -> str:
    """What stays of an indicator's label from one matrix to the next.

    The 2023 matrix prefixes labels with the fiche ("Mobilité: Nombre de personnes…") where the
    2022 report appended remarks ("… (reporting chiffres Pôle emploi renseignés par le CD)",
    "… -> cela correspond…", "(HORS accompagnement global)") and wrote "E.T.P." for "ETP".
    """
    text = label.replace(".", "").strip()
    head, sep, tail = text.partition(":")
    if sep and tail.strip() and len(head) < 80 and not any(c.isdigit() for c in head):
        # "En cas d'extension … : nombre d'heures" is the 2022 heading and its sub-row in one.
        text = f"{head} {tail}" if head.lower().startswith("en cas") else tail.strip()
    text = re.split(r"\s+->|\s+\((?:reporting|hors)\b", text, maxsplit=1, flags=re.I)[0]
    return text.strip()


@dataclass(frozen=True)
class IndicatorRowCode:
    code: str
    unique: bool  # the label is printed once in its matrix


def matrix_codes(labels: list[str]) -> list[IndicatorRowCode]:
    """The code of each indicator row of a matrix, in order. A label printed more than once
    (« Numérique » under two headings) is told apart by the last label printed once above it."""
    keys = [identity_label(label) for label in labels]
    context = ""
    codes = []
    for key in keys:
        unique = keys.count(key) == 1
        codes.append(
            IndicatorRowCode(indicator_code(key if unique else f"{context} {key}"), unique)
        )
        if unique:
            context = key
    return codes


def indicator_fields(label: str, definition: str) -> dict:
    """Unit and direction guessed from the label (values of ``indicators.choices``)."""
    lower = label.lower()
    if "délai" in lower:
        unit = "days"
    elif "taux" in lower or "pourcentage" in lower or "part des" in lower:
        unit = "percent"
    else:
        unit = "count"
    # Fewer notifications without support, shorter delays are better (CALPAE.md §7).
    lower_is_better = "délai" in lower or "sans proposition" in lower
    return {
        "label": label,
        "definition": definition,
        "unit": unit,
        "direction": "lower" if lower_is_better else "higher",
    }
