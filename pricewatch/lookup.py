"""Text a person typed as a style code: "M2002RDA", "m2002rda", "rain cloud", "jjjjound".

The bot's /price, /history and /subscribe and the CLI's history and chart all take a colorway
this way: a well-formed 2002R code as it is (a release people wait for need not be listed yet),
else a name or alias from the catalog. Several matches are a `AmbiguousColorway` that lists
them ("did you mean"); none, an `UnknownColorway` with close suggestions; a colorway the
research knows only by name, a `NoStyleCode`. All are `LookupError`s with a message fit to show.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection

from pricewatch.catalog import Colorway, load_catalog, normalize
from pricewatch.styles import (
    FAMILY_GORE_TEX,
    FAMILY_KIDS,
    FAMILY_MULE,
    family_of_code,
    find_style_codes,
)

__all__ = [
    "AmbiguousColorway",
    "ColorwayLookupError",
    "NoStyleCode",
    "UnknownColorway",
    "family_of",
    "resolve",
]

MAX_LENGTH = 60  # longer text is no colorway: never searched, never quoted whole


class ColorwayLookupError(LookupError):
    """Text that names no single watchable colorway; the message says why, for people."""


class AmbiguousColorway(ColorwayLookupError):
    def __init__(self, text: str, matches: list[Colorway]) -> None:
        self.matches = matches
        shown = [c.label for c in matches[:5]]
        more = f" (and {len(matches) - 5} more)" if len(matches) > 5 else ""
        super().__init__(
            f"“{_quote(text)}” could be {len(matches)} colorways: did you mean "
            + ", ".join(shown[:-1])
            + f" or {shown[-1]}{more}?"
        )


class UnknownColorway(ColorwayLookupError):
    def __init__(self, text: str, suggestions: list[str]) -> None:
        self.suggestions = suggestions
        if re.fullmatch(r"[A-Za-z]{1,4}\d{3,4}\w{0,6}", text.strip()):  # a code with a typo
            message = f"I don't track {_quote(text.strip().upper())} yet."
        else:
            message = f"I don't know the colorway “{_quote(text)}”."
        if suggestions:
            message += f" Did you mean {' or '.join(suggestions)}?"
        else:
            message += " Send /colorways to see what I track."
        super().__init__(message)


class NoStyleCode(ColorwayLookupError):
    def __init__(self, colorway: Colorway) -> None:
        self.colorway = colorway
        super().__init__(
            f"{colorway.label} has no known style code yet, so I can't watch it: when a shop "
            "lists it, it shows up in /colorways under its code."
        )


def _quote(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 30 else flat[:29] + "…"


def style_code_in(text: str, tracked: Collection[str] = ()) -> str | None:
    """The style code the text is (upper case), if it is one ("nbm2002rda", "M2002RDA-D" too)."""
    if len(text) > 20:
        return None
    upper = text.strip().upper()
    if upper in tracked:
        return upper
    codes = find_style_codes(upper)
    bare = upper.removeprefix("NB").split("-")[0]
    return codes[0] if len(codes) == 1 and codes[0] == bare else None


def resolve(text: str, tracked: Collection[str] = ()) -> str:
    """The style code ``text`` names, or a `ColorwayLookupError` saying why there is none."""
    code = style_code_in(text, tracked)
    if code is not None:
        return code
    if len(text) > MAX_LENGTH:
        raise UnknownColorway(text, [])
    catalog = load_catalog()
    matches = catalog.find(text)
    if len(matches) > 1:
        # the same name for a code the shops list and one they do not: the listed one
        listed = [m for m in matches if m.style_code in tracked]
        if len(listed) == 1 and normalize(text) in (normalize(t) for t in listed[0].texts()):
            matches = listed
    if len(matches) == 1:
        if matches[0].style_code is None:
            raise NoStyleCode(matches[0])
        return matches[0].style_code
    if matches:
        # the ones shops list first: "did you mean" shows five at most
        matches.sort(key=lambda m: m.style_code not in tracked)
        raise AmbiguousColorway(text, matches)
    raise UnknownColorway(text, suggest(text, tracked))


_CODE_FAMILIES = {FAMILY_GORE_TEX: "GORE-TEX", FAMILY_MULE: "Mule", FAMILY_KIDS: "Kids"}


def family_of(style_code: str) -> str:
    """The family a colorway is shown under: the catalog's, else what its code says (RX..
    GORE-TEX, RM.. and 2002N mules, kids' prefixes), else "Inline"."""
    known = load_catalog().get(style_code)
    if known is not None:
        return known.family
    return _CODE_FAMILIES.get(family_of_code(style_code), "Inline")


def suggest(text: str, tracked: Collection[str] = ()) -> list[str]:
    """Close matches among tracked codes, then catalog names (at most two)."""
    upper = text.strip().upper()
    # one wrong character in eight (0.875) is a typo; 0.8 keeps "M2002RXX" from suggesting
    # every M2002R* code
    codes = difflib.get_close_matches(upper, sorted(tracked), n=2, cutoff=0.8)
    if codes:
        return codes
    names: dict[str, str] = {}
    for colorway in load_catalog().colorways:
        for known in (colorway.name, *colorway.aliases):
            if known:
                names.setdefault(known.casefold(), colorway.label)
    close = difflib.get_close_matches(text.casefold().strip(), sorted(names), n=4, cutoff=0.75)
    return list(dict.fromkeys(names[n] for n in close))[:2]
