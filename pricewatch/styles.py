"""Which shop listings are a New Balance 2002R, and which colorway (style code) they are.

Code scheme and names: the research note docs/retailers.md, section 4. A listing is a 2002R
only when a style code is found: the title alone ("2002R") cannot tell colorways apart, and a
code alone in a description can belong to another shoe's "pairs well with" text.

Decided here: M2002R + letters IS a 2002R code (2020 relaunch onwards); the 2010 original 2002
used codes without the R (e.g. "M2002BK"), which never match. The one R-less code accepted is the
Protection-Pack mule family M2002N? (M2002NA).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from pricewatch.catalog import load_catalog

__all__ = [
    "KNOWN_COLORWAYS",
    "StyleMatch",
    "colorway_name",
    "family_of_code",
    "find_style_codes",
    "identify_2002r",
    "is_2002r_title",
    "sfcc_style_code",
    "url_code_text",
]

# Names with H or M confidence, from the colorway catalog (pricewatch/catalog.toml, seeded from
# docs/retailers.md 4.2); L-confidence names and seed data stay out.
KNOWN_COLORWAYS: dict[str, str] = load_catalog().names()

FAMILY = "2002R"
FAMILY_GORE_TEX = "2002R GORE-TEX"
FAMILY_MULE = "2002R Mule"
FAMILY_KIDS = "2002R Kids"

_KIDS_PREFIXES = ("GC", "PC", "IV", "YC", "PV")
_ADULT_PREFIXES = ("ML", "MS", "WL", "M", "U", "W")

# Kith glues a brand prefix onto handles ("nbm990gl6", "nbu992ki"), so an "NB" directly before
# the code is allowed; any other letter or digit glued on means the text is some other id.
_CODE = re.compile(
    r"""
    (?<![A-Z0-9])(?:NB)?
    (?P<code>
        (?P<prefix>"""
    + "|".join(_KIDS_PREFIXES + _ADULT_PREFIXES)
    + r""")2002R(?P<suffix>[A-Z0-9]{1,3})
      | M2002N[A-Z]
    )
    (?:-(?P<width>2E|4E|D|B)(?![A-Z0-9]))?
    (?![A-Z0-9])
    """,
    # ASCII: with IGNORECASE alone [A-Z] also matches "ſ" and the Kelvin sign.
    re.IGNORECASE | re.VERBOSE | re.ASCII,
)
# SFCC master ids ("M2002RV1-42829", docs/retailers.md 2.2) look like codes but name the model,
# not a colorway.
_MASTER_SUFFIX = re.compile(r"V\d", re.IGNORECASE)

# Commerce Cloud picks a master page's colorway with dwvar_<master>_style=<code>, in the query
# or the fragment (docs/retailers.md 2.2).
_DWVAR_STYLE = re.compile(r"[?&#]dwvar_[A-Za-z0-9-]+?_style=([A-Za-z0-9-]+)")

# "2002R", "2002r", "2002RX", "M2002RDA" in running text; a spaced "2002 R" only as its own word
# so "2002 Rain Cloud" does not count.
_TITLE_2002R = re.compile(r"(?<!\d)2002(?:R|[\s-]R(?![A-Za-z]))", re.IGNORECASE)
_OTHER_MODEL = re.compile(
    r"(?<!\d)(?:990|991|992|993|1906|9060|550|530|574|327|2002(?![\s-]?R))(?!\d)",
    re.IGNORECASE,
)

_BRAND_WORDS = re.compile(r"\bnew\s*balance\b|\bNB\b", re.IGNORECASE)
_MODEL_WORDS = re.compile(
    r"\b(?:2002\s?-?RX?|gore-?tex|GTX|mule)\b|\(\s*\)",
    re.IGNORECASE,
)
_GENDER_WORDS = re.compile(
    r"\b(?:men|women|kid|unisex)(?:['’]s|s)?\b|\bwmns\b|\bsneakers?\b|\bshoes?\b|\btrainers?\b",
    re.IGNORECASE,
)
# Quotes around a name go; an apostrophe inside a word ("Salehe's") stays.
_QUOTES = re.compile(r"[\"“”„«»]|(?<![A-Za-z])['‘’]|['‘’](?![A-Za-z])")
_DANGLING_COLLAB_X = re.compile(r"^[x×](?:\s+|$)|\s+[x×]$", re.IGNORECASE)
_SPACED_SEPARATOR = re.compile(r"\s+[-–—|:]+\s+|\s+[-–—|:]+$|^[-–—|:]+\s+")


@dataclass(frozen=True)
class StyleMatch:
    """A listing recognised as a 2002R, with the code that proves it and where it was found."""

    style_code: str
    family: str
    width: str | None
    source: str


def _iter_codes(text: str) -> Iterator[tuple[str, str | None]]:
    for match in _CODE.finditer(text):
        suffix = match.group("suffix")
        if suffix is not None and _MASTER_SUFFIX.fullmatch(suffix):
            continue
        width = match.group("width")
        yield match.group("code").upper(), width.upper() if width else None


def family_of_code(code: str) -> str:
    """The family a style code's letters say: kids' prefixes, 2002N and RM.. mules, RX..
    GORE-TEX, else the plain 2002R."""
    if code.startswith(_KIDS_PREFIXES):
        return FAMILY_KIDS
    _, _, suffix = code.partition("2002")
    if suffix.startswith("N"):
        return FAMILY_MULE
    # suffix is "R" + the colour letters: RX.. GORE-TEX, RM.. mule (docs/retailers.md 4.1).
    if suffix[1:].startswith("X"):
        return FAMILY_GORE_TEX
    if suffix[1:].startswith("M"):
        return FAMILY_MULE
    return FAMILY


def find_style_codes(text: str) -> list[str]:
    """Every 2002R style code in text, upper case, in order of appearance, without repeats."""
    seen: list[str] = []
    for code, _width in _iter_codes(text):
        if code not in seen:
            seen.append(code)
    return seen


def url_code_text(url: str) -> str:
    """The parts of a product URL that may name its style code: the path and the Commerce Cloud
    colorway chosen by ``dwvar_<master>_style=`` (other query words, a tracking or "complete the
    look" parameter, name no colorway of this page)."""
    path = re.split(r"[?#]", url, maxsplit=1)[0]
    return " ".join([path, *_DWVAR_STYLE.findall(url)])


def sfcc_style_code(url: str) -> str | None:
    """The 2002R style code a Commerce Cloud product URL names, or None.

    ``.../U2002RV1-50719.html?dwvar_U2002RV1-50719_style=U2002RB`` -> "U2002RB" (the colorway
    chosen on a master page), ``/pd/2002r/U2002RCA-D-15.html`` -> "U2002RCA" (a style page); a
    bare master page (``/pd/2002r/M2002RV1-42829.html``) names no colorway: None."""
    codes = find_style_codes(url_code_text(url))
    return codes[-1] if codes else None


def is_2002r_title(title: str) -> bool:
    """True when a title names the 2002R ("2002R", "2002 R", "2002RX", "M2002RDA")."""
    return bool(_TITLE_2002R.search(title))


def _first_match(text: str, source: str) -> StyleMatch | None:
    first = next(_iter_codes(text), None)
    if first is None:
        return None
    code, width = first
    return StyleMatch(code, family_of_code(code), width, source)


def _tag_list(tags: Sequence[str] | str) -> list[str]:
    # Shopify's product_listings endpoint sends tags as one comma-separated string.
    if isinstance(tags, str):
        return [tag.strip() for tag in tags.split(",")]
    return list(tags)


def _is_new_balance_vendor(vendor: str) -> bool:
    # An allow-list, not a list of rival brands: a shop's own-brand item ("Kith" tee named after
    # the 2002R) must not pass, and collabs keep "New Balance" in the vendor ("New Balance x ALD").
    brand = re.sub(r"[\s_-]+", " ", vendor).strip().casefold()
    return not brand or brand == "nb" or "new balance" in brand or "newbalance" in brand


def identify_2002r(
    *,
    title: str,
    handle: str = "",
    tags: Sequence[str] | str = (),
    body: str = "",
    skus: Sequence[str] = (),
    vendor: str = "",
) -> StyleMatch | None:
    """The 2002R style code of a shop listing, or None when it is not (provably) a 2002R.

    Looks in skus, handle, title, tags, body; the first hit wins. Codes in tags or body only count
    when the title itself says 2002R and names no other model. The vendor must be empty or name
    New Balance.
    """
    if not _is_new_balance_vendor(vendor):
        return None
    trusted: list[tuple[str, str]] = [(sku, "sku") for sku in skus]
    trusted += [(handle, "handle"), (title, "title")]
    for text, source in trusted:
        found = _first_match(text, source)
        if found is not None:
            return found
    if not is_2002r_title(title) or _OTHER_MODEL.search(title):
        return None
    for tag in _tag_list(tags):
        found = _first_match(tag, "tags")
        if found is not None:
            return found
    return _first_match(body, "body")


_PARENS = re.compile(r"\(\s*([^()]*?)\s*\)")
_SPACES = re.compile(r"\s+")
_CODE_WORD = re.compile(
    r"(?<![A-Za-z0-9])(?:NB)?[A-Z]{1,2}2002[A-Z0-9]{1,5}(?:-(?:2E|4E|D|B))?(?![A-Za-z0-9])",
    re.IGNORECASE,
)


def colorway_name(title: str, style_code: str) -> str | None:
    """A colorway name from a shop title, or the known name for the code when nothing is left.

    "New Balance 2002R - Rain Cloud" -> "Rain Cloud". Brand, model, code and gender words go.
    """
    code = style_code.strip()
    # Any style-code-shaped word goes (the listing's own code with its "NB" prefix or width
    # suffix, "M2002RDA-2E", and any other): one pattern compiled once, not one per product.
    text = _CODE_WORD.sub(" ", title)
    text = _CODE.sub(" ", text)
    text = _BRAND_WORDS.sub(" ", text)
    text = _MODEL_WORDS.sub(" ", text)
    text = _GENDER_WORDS.sub(" ", text)
    text = _QUOTES.sub(" ", text)
    text = _PARENS.sub(r"\1", text)
    text = _SPACES.sub(" ", text).strip()
    text = _SPACED_SEPARATOR.sub(" ", text).strip(" -–—|:,/")
    # "New Balance x Salehe Bembury": the collab "x" is left dangling once the brand is gone.
    text = _DANGLING_COLLAB_X.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    if any(ch.isalpha() for ch in text):
        return text
    return KNOWN_COLORWAYS.get(code.upper())
