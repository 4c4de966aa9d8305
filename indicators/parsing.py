"""Reading an indicator value as printed or typed: a number, or a status with its text.

Pure Python (no Django import). Real cells read "10 941", "47.63%", "39,5", "35 jours",
"5265 (au 31/10/2022)", "Non contractualisé", "Données en cours de compilation (cyberattaque)",
"5008 (de janvier à octobre 2022) – projection sur l'année 2022 : 6009" (CALPAE.md §7).
"""

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

NUMBER = r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
LEADING_NUMBER = re.compile(rf"^\s*(?:au\s+[\d/.-]+\s+)?(?P<number>{NUMBER})", re.IGNORECASE)
# "2 mois", "3 semaines": a duration in another unit than the indicator's days; no number is
# guessed from it, the text is kept.
OTHER_DURATION = re.compile(rf"^\s*(?:{NUMBER})\s*(?:mois|semaines?)\b", re.IGNORECASE)
# "… – projection sur l'année 2022 : 6009": the projected value follows the colon, not the year.
PROJECTION = re.compile(rf"projection\b.*?:\s*(?P<number>{NUMBER})", re.IGNORECASE)

# (status, prefixes of the lower-cased, accent-free text)
STATUS_PREFIXES = (
    ("not_contracted", ("non contractualise", "non contractuel")),
    ("in_progress", ("en cours de construction",)),
    ("not_evaluated", ("non evalue", "non chiffre")),
    ("no_indicator", ("pas d'indicateur", "pas d indicateur")),
    (
        "not_available",
        (
            "donnees en cours",
            "donnees non",
            "pas de donnees",
            "nd",
            "nc",
            "#valeur!",
            "non disponible",
        ),
    ),
)


@dataclass(frozen=True)
class ParsedValue:
    raw: str
    number: Decimal | None
    status: str  # a value of indicators.choices.ValueStatus


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def _to_decimal(text: str) -> Decimal:
    return Decimal(re.sub(r"[ \u00a0\u202f]", "", text).replace(",", "."))


def parse_indicator_value(raw: str) -> ParsedValue | None:
    """``None`` for an empty cell; otherwise the number and status the text carries."""
    raw = " ".join(raw.split())
    if not raw:
        return None
    plain = _plain(raw)
    for status, prefixes in STATUS_PREFIXES:
        for prefix in prefixes:
            if plain == prefix or (len(prefix) > 2 and plain.startswith(prefix)):
                return ParsedValue(raw=raw, number=None, status=status)
    projection = PROJECTION.search(raw)
    if projection:
        return ParsedValue(
            raw=raw, number=_to_decimal(projection.group("number")), status="projection"
        )
    leading = LEADING_NUMBER.match(raw)
    if leading and not OTHER_DURATION.match(raw):
        return ParsedValue(raw=raw, number=_to_decimal(leading.group("number")), status="number")
    return ParsedValue(raw=raw, number=None, status="text")
