"""Shop size labels ("US 10 / UK 9.5 / EU 44", "M9 / W10.5", "42⅔", "10 (2E)") as US men's sizes.

Conversions follow the research note docs/retailers.md, section 5: women's = men's + 1.5,
UK = men's - 0.5, EU and cm by New Balance's own chart (5.2), never by a formula.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

__all__ = [
    "SIZE_SYSTEMS",
    "Size",
    "SizeError",
    "format_size",
    "parse_size",
    "parse_user_size",
    "us_to_eu",
    "us_to_uk",
]


class SizeError(ValueError):
    """A size label that cannot be read as a shoe size; the message is fit to show a person."""


SIZE_SYSTEMS = ("us", "us_w", "uk", "eu", "cm")

US_MIN = 3.0
US_MAX = 18.0
WOMENS_OFFSET = 1.5
UK_OFFSET = 0.5

# NB men's chart, docs/retailers.md 5.2: (US men's, EU, cm). cm from US 8 up is the note's
# extrapolation (flagged L there); US 12.5 and 13.5+ have no sourced EU/cm value.
_CHART: tuple[tuple[float, float, float], ...] = (
    (4.0, 36.0, 22.0),
    (4.5, 37.0, 22.5),
    (5.0, 37.5, 23.0),
    (5.5, 38.0, 23.5),
    (6.0, 38.5, 24.0),
    (6.5, 39.5, 24.5),
    (7.0, 40.0, 25.0),
    (7.5, 40.5, 25.5),
    (8.0, 41.5, 26.0),
    (8.5, 42.0, 26.5),
    (9.0, 42.5, 27.0),
    (9.5, 43.0, 27.5),
    (10.0, 44.0, 28.0),
    (10.5, 44.5, 28.5),
    (11.0, 45.0, 29.0),
    (11.5, 45.5, 29.5),
    (12.0, 46.5, 30.0),
    (13.0, 47.5, 31.0),
)
# EU thirds (adidas-style "42⅔") are snapped to a chart row only this close; anything farther
# is a size NB does not make, and guessing a neighbour would alert on the wrong shoe.
_EU_TOLERANCE = 0.2
_CM_TOLERANCE = 0.01

_KIDS_C_MAX = 13.5
_KIDS_Y_MIN = 1.0
_KIDS_Y_MAX = 7.0
# Grade-school ("big kid") Y sizes share the men's scale; 1Y-3Y are little-kid sizes.
_BIG_KID_MIN = 3.5

_WIDTH_CODES = {
    "2A": "2A",
    "AA": "2A",
    "4A": "4A",
    "AAAA": "4A",
    "B": "B",
    "D": "D",
    "2E": "2E",
    "EE": "2E",
    "4E": "4E",
    "EEEE": "4E",
    "6E": "6E",
    "EEEEEE": "6E",
}
# Width words mean different letters for men and women (docs/retailers.md 5.1: standard is D for
# men, B for women).
# Keys are lower case with spaces and hyphens removed ("Extra Wide", "X-Wide").
_MENS_WIDTH_WORDS = {
    "narrow": "B",
    "medium": "D",
    "standard": "D",
    "regular": "D",
    "wide": "2E",
    "extrawide": "4E",
    "xwide": "4E",
    "xw": "4E",
}
_WOMENS_WIDTH_WORDS = {
    "narrow": "2A",
    "medium": "B",
    "standard": "B",
    "regular": "B",
    "wide": "D",
    "extrawide": "2E",
    "xwide": "2E",
    "xw": "2E",
}

# Prefix words, longest first so "us m" wins over "us".
_PREFIXES: tuple[tuple[str, str], ...] = (
    (r"us\s*(?:men'?s|mens|m)", "us"),
    (r"us\s*(?:women'?s|womens|wmns|w)", "us_w"),
    (r"(?:men'?s|mens)(?:\s*us)?", "us"),
    (r"(?:women'?s|womens|wmns)(?:\s*us)?", "us_w"),
    (r"us", "us"),
    (r"uk", "uk"),
    (r"eur?|fr", "eu"),
    (r"cm|jp", "cm"),
    (r"m", "us"),
    (r"w", "us_w"),
)
_SUFFIXES: tuple[tuple[str, str], ...] = (
    (r"us\s*(?:men'?s|mens|m)", "us"),
    (r"us\s*(?:women'?s|womens|wmns|w)", "us_w"),
    (r"us", "us"),
    (r"uk", "uk"),
    (r"eur?", "eu"),
    (r"cm", "cm"),
)
_WIDTH_PATTERN = (
    r"extra\s*wide|x-?wide|xw|wide|narrow|medium|standard|regular"
    r"|2a|4a|aaaa|aa|2e|4e|6e|eeeeee|eeee|ee|b|d"
)


def _alternation(pairs: tuple[tuple[str, str], ...], group: str) -> str:
    return "|".join(f"(?P<{group}{i}>{pattern})" for i, (pattern, _) in enumerate(pairs))


_SEGMENT = re.compile(
    rf"""
    (?:size|sz)?\s*:?\s*
    (?:(?:{_alternation(_PREFIXES, "pre")})\s*\.?\s*)?
    (?P<num>\d{{1,3}}(?:\.\d{{1,3}})?)
    (?:\s*(?P<kid>[cy])(?![a-z]))?
    (?:\s*(?:{_alternation(_SUFFIXES, "suf")})(?![a-z]))?
    (?:\s*\(?\s*(?P<width>{_WIDTH_PATTERN})\s*\)?)?
    """,
    re.IGNORECASE | re.VERBOSE,
)

_FRACTIONS = {"½": 0.5, "⅓": 1 / 3, "⅔": 2 / 3, "¼": 0.25, "¾": 0.75}
_SPACED_FRACTION = re.compile(r"(\d+)\s*(?:(½|⅓|⅔|¼|¾)|\s([123])\s*/\s*([234])(?!\d))")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d{1,2}(?!\d))")
# Decimal commas ("42,5") are turned into points first, so a comma left over separates parts.
_SEGMENT_SPLIT = re.compile(r"\s*[/|,]\s*")
# Words around a size in option texts, in the languages of the shops listed (docs/retailers.md):
# the label word before it ("Tamanho:", "Größe", "サイズ") and the stock words after it ("- Em
# Stock", "(sold out)", "– nicht verfügbar"). Stock is read elsewhere, from the shop's data; here
# they only have to go.
_LABEL_WORDS = re.compile(
    r"(?:^|(?<=\s))(?:size|sz|taille|gr(?:ö|oe|o)(?:ß|ss)e|tamanho|talla|taglia|maat|storlek"
    r"|koko|rozmiar|velikost|m[ée]ret|numero|número)\s*:?\s*"
    r"|尺码|尺碼|尺寸|サイズ|사이즈",
    re.IGNORECASE,
)
# Trailing words after a dash, a bar or in brackets: dropped unless they are a width or a size
# system ("10 - Wide", "44 (EU)").
_TAIL = re.compile(r"\s+[-–—|]\s+(?P<dash>[^\d]*|[246]E)$|\s*\((?P<paren>[^\d()]*)\)\s*$")
_KEPT_TAIL = re.compile(rf"^\s*(?:{_WIDTH_PATTERN}|us|uk|eur?|cm|jp)\s*$", re.IGNORECASE)
# A width written before the size with 宽 ("wide"), as Asian marketplaces do: "D宽 42", "2E宽 42".
_CJK_WIDTH = re.compile(r"(?P<width>2E|4E|6E|[BD])\s*[宽寬]\s*", re.IGNORECASE)
# A width code written before the size as its own word ("2E 10", "4E US 11", "D 42"): moved
# behind the number, where the segment pattern reads it. Only codes, not width words: "W 11.5"
# is women's sizing, and "Wide" alone before a number is rare enough to stay unread.
_LEADING_WIDTH = re.compile(
    r"^\s*(?P<width>2E|4E|6E|EEEE|EE|[BD])\s+(?=(?:us|uk|eur?|cm|jp)?\s*\d)", re.IGNORECASE
)
# Stock counts after the size ("US 9 - Only 2 left", "42 (3 left)", "43 – Nur noch 1 verfügbar",
# "44 - Últimas 2 unidades"): like the other stock words, they only have to go.
_STOCK_COUNT = re.compile(
    r"\s*(?:[-–—|]\s+|\()\s*"
    r"(?:only|just|nur\s+noch|noch|plus\s+que|encore|[úu]ltim[oa]s?|solo|ainda|apenas)?\s*"
    r"\d{1,3}\s*(?:left|in\s+stock|available|verf[üu]gbar|auf\s+lager|st(?:ü|ue|u)ck"
    r"|unidad(?:es)?|dispon[ií]ve(?:is|l)|disponibles?|restante?s?|rimast[ie]|pairs?|paar)"
    r"\s*!?\s*\)?\s*$",
    re.IGNORECASE,
)
# Mondopoint: the foot's length in millimetres ("Mondo 280" = 28 cm).
_MONDO = re.compile(r"\bmondo(?:point)?\s*(?P<mm>\d{3})\b", re.IGNORECASE)
# A bare number that cannot be US or UK (over 18) is EU (34-50) or cm (20-33.5).
_EU_RANGE = (34.0, 50.0)
_CM_RANGE = (20.0, 33.5)


def _strip_words(text: str) -> str:
    """A label without the words shops write around the size ("Tamanho: 44 - Em Stock" -> "44",
    "US 9 - Only 2 left" -> "US 9"), a width before the number moved behind it ("D宽 42" ->
    "42 D", "2E 10" -> "10 2E"), Mondopoint as cm."""
    width = _CJK_WIDTH.search(text)
    if width:
        text = f"{_CJK_WIDTH.sub('', text, count=1)} {width.group('width')}"
    text = _MONDO.sub(lambda m: f"{int(m.group('mm')) / 10:g} cm", text)
    text = _LABEL_WORDS.sub(" ", text)
    text = _STOCK_COUNT.sub("", text)
    leading = _LEADING_WIDTH.match(text)
    if leading:
        text = f"{text[leading.end() :]} {leading.group('width')}"
    while (tail := _TAIL.search(text)) is not None:
        words = tail.group("dash") if tail.group("dash") is not None else tail.group("paren")
        text = text[: tail.start()]
        if _KEPT_TAIL.match(words or ""):  # "10 - Wide" is "10 Wide"; "44 (EU)" is "44 EU"
            text = f"{text} {words.strip()}"
            break
    return " ".join(text.split())


# Which segment of a multi-system label we trust: US men's is what we store, so read it
# directly when the shop gives it rather than converting through a chart.
_PREFERENCE = ("us", "kids_y", "kids_c", "uk", "eu", "cm", "us_w")


@dataclass(frozen=True)
class Size:
    """A shop's size label and what it means in US men's sizing."""

    label: str
    size_us: float | None
    width: str | None
    system: str


def _normalise(label: str) -> str:
    text = label.replace("’", "'").replace("‘", "'").replace("\u00a0", " ").strip()

    def fraction(match: re.Match[str]) -> str:
        whole = int(match.group(1))
        if match.group(2):
            part = _FRACTIONS[match.group(2)]
        else:
            part = int(match.group(3)) / int(match.group(4))
            if part >= 1:
                raise SizeError(f"{label!r} is not a shoe size")
        return f"{whole + part:.3f}".rstrip("0").rstrip(".")

    text = _SPACED_FRACTION.sub(fraction, text)
    return _DECIMAL_COMMA.sub(".", text)


def _is_half_step(value: float) -> bool:
    return (value * 2).is_integer()


def _is_third(value: float) -> bool:
    thirds = value * 3
    return abs(thirds - round(thirds)) < 0.01 and not _is_half_step(value)


def _check_range(size_us: float, label: str) -> float:
    if not US_MIN <= size_us <= US_MAX:
        raise SizeError(f"{label!r} is not a shoe size we track (US men's {US_MIN:g}-{US_MAX:g})")
    return size_us


def _from_chart(value: float, column: int, tolerance: float, label: str) -> float:
    best = min(_CHART, key=lambda row: abs(row[column] - value))
    if abs(best[column] - value) > tolerance:
        unit = "EU" if column == 1 else "cm"
        raise SizeError(f"{label!r}: {unit} {value:g} is not on New Balance's size chart")
    return best[0]


def _width(raw: str | None, system: str) -> str | None:
    if raw is None:
        return None
    key = re.sub(r"[\s-]+", "", raw.lower())
    words = _WOMENS_WIDTH_WORDS if system == "us_w" else _MENS_WIDTH_WORDS
    if key in words:
        return words[key]
    return _WIDTH_CODES[key.upper()]


def _system_of(match: re.Match[str], group: str, pairs: tuple[tuple[str, str], ...]) -> str | None:
    for i, (_, system) in enumerate(pairs):
        if match.group(f"{group}{i}") is not None:
            return system
    return None


def _parse_segment(segment: str, default_system: str, label: str, *, infer: bool = True) -> Size:
    match = _SEGMENT.fullmatch(segment)
    if match is None:
        raise SizeError(f"{label!r} is not a shoe size")
    prefix = _system_of(match, "pre", _PREFIXES)
    suffix = _system_of(match, "suf", _SUFFIXES)
    if prefix and suffix and prefix != suffix:
        raise SizeError(f"{label!r} names two size systems")
    value = float(match.group("num"))
    kid = match.group("kid")
    if kid:
        if (prefix or suffix) not in (None, "us") or match.group("width"):
            raise SizeError(f"{label!r} is not a shoe size")
        if not _is_half_step(value):
            raise SizeError(f"{label!r}: kids' sizes come in half steps")
        if kid.lower() == "c":
            if not 0 <= value <= _KIDS_C_MAX:
                raise SizeError(f"{label!r} is not a toddler size")
            return Size(label, None, None, "kids_c")
        if not _KIDS_Y_MIN <= value <= _KIDS_Y_MAX:
            raise SizeError(f"{label!r} is not a youth size")
        return Size(label, value if value >= _BIG_KID_MIN else None, None, "kids_y")

    system = prefix or suffix or default_system
    if prefix is None and suffix is None and _is_third(value):
        # Thirds ("42⅔") exist only in French/EU sizing, whatever the shop's default.
        system = "eu"
    elif (
        infer
        and prefix is None
        and suffix is None
        and value > US_MAX
        and system in ("us", "us_w", "uk")
    ):
        # No US or UK size is this big: a bare 44 is EU, a bare 28 is cm (Japan, Korea)
        if _EU_RANGE[0] <= value <= _EU_RANGE[1]:
            system = "eu"
        elif _CM_RANGE[0] <= value <= _CM_RANGE[1]:
            system = "cm"
    width = _width(match.group("width"), system)
    if system in ("us", "us_w", "uk"):
        if not _is_half_step(value):
            raise SizeError(f"{label!r}: US and UK sizes come in half steps")
        if system == "us":
            size_us = value
        elif system == "us_w":
            size_us = value - WOMENS_OFFSET
        else:
            size_us = value + UK_OFFSET
        return Size(label, _check_range(size_us, label), width, system)
    if system == "eu":
        return Size(label, _from_chart(value, 1, _EU_TOLERANCE, label), width, system)
    return Size(label, _from_chart(value, 2, _CM_TOLERANCE, label), width, system)


@functools.lru_cache(maxsize=4096)  # a shop repeats the same few dozen labels thousands of times
def parse_size(label: str, default_system: str = "us", *, infer: bool = True) -> Size:
    """Read a shop's size label; a bare number is in `default_system` (the shop's config).

    Multi-system labels ("US 10 / UK 9.5 / EU 44", "M9 / W10.5") are read from their US men's
    part when there is one. Words around the size ("Tamanho: 44 - Em Stock"), a width before
    it ("D宽 42") and Mondopoint are read; with ``infer``, a bare number too big for US or UK
    sizing is EU (34-50) or cm (20-33.5). Raises SizeError for anything that is not a shoe size.
    """
    if default_system not in SIZE_SYSTEMS:
        raise SizeError(f"unknown size system {default_system!r}; use one of {SIZE_SYSTEMS}")
    if not isinstance(label, str):
        raise SizeError(f"a size label must be text, got {type(label).__name__}")
    stripped = label.strip()
    if not stripped:
        raise SizeError("empty size label")
    segments = [s for s in _SEGMENT_SPLIT.split(_normalise(_strip_words(stripped))) if s]
    if not segments:
        raise SizeError(f"{stripped!r} is not a shoe size")
    parsed = [
        _parse_segment(segment, default_system, stripped, infer=infer) for segment in segments
    ]
    best = min(parsed, key=lambda size: _PREFERENCE.index(size.system))
    # A width written once on a multi-part label ("US 10 / UK 9.5 2E") applies to the shoe.
    width = best.width or next((size.width for size in parsed if size.width), None)
    return Size(stripped, best.size_us, width, best.system)


def us_to_uk(size_us: float) -> float:
    """US men's to UK (docs/retailers.md 5.1: UK = US men's - 0.5)."""
    return size_us - UK_OFFSET


def us_to_eu(size_us: float) -> float | None:
    """US men's to EU by NB's chart; None for sizes the chart does not list (e.g. 12.5, 14)."""
    for us, eu, _cm in _CHART:
        if us == size_us:
            return eu
    return None


def format_size(size_us: float) -> str:
    """10.0 -> "10", 9.5 -> "9.5"."""
    if not math.isfinite(size_us):
        raise SizeError(f"not a size: {size_us!r}")
    if float(size_us).is_integer():
        return str(int(size_us))
    return f"{size_us:.2f}".rstrip("0")


_USER_HINT = "Try something like 10, 10.5, UK 9.5, EU 44 or W11.5."


def parse_user_size(text: str) -> float:
    """What a person types ("10", "uk9.5", "EU 44", "w11.5") as a US men's size.

    Raises SizeError with a message that can be sent back to the person as is.
    """
    if not isinstance(text, str) or not text.strip():
        raise SizeError(f"Please send a size. {_USER_HINT}")
    cleaned = text.strip()
    try:
        # a person who types 44 is asked what they meant, not guessed for (a shop label is)
        size = parse_size(cleaned, infer=False)
    except SizeError as exc:
        number = re.fullmatch(r"\d{2}(?:[.,]\d)?", cleaned)
        if number and float(cleaned.replace(",", ".")) > US_MAX:
            raise SizeError(
                f"{cleaned} is not a US men's size. If you meant EU, send EU {cleaned}."
            ) from exc
        raise SizeError(f"I couldn't read {cleaned!r} as a shoe size. {_USER_HINT}") from exc
    if size.size_us is None:
        raise SizeError(f"{cleaned!r} is a kids' size; only adult sizes can be watched.")
    return size.size_us
