"""The colorway catalog: what each 2002R style code is called, what buyers type for it, its
family, collab partner, release and retail price, read once from ``catalog.toml`` beside this
module (seeded from docs/retailers.md, section 4, each entry with its source and confidence).

`Catalog.find` is the one way text becomes colorways ("rain cloud", "raincloud", "jjjjound",
"M2002RDA"); `pricewatch.lookup` turns that into a style code or a "did you mean" for the bot and
the CLI. A broken entry is a `CatalogError` naming it, raised on first use and by the tests.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "CONFIDENCES",
    "FAMILIES",
    "Catalog",
    "CatalogError",
    "Colorway",
    "load_catalog",
    "normalize",
]

# Families in the order menus and /colorways show them.
FAMILIES = ("Inline", "Core", "Protection Pack", "GORE-TEX", "Mule", "Collab", "Kids")
CONFIDENCES = ("H", "M", "L")
_CODE = re.compile(r"[A-Z]{1,2}2002[A-Z0-9]{1,4}")
_KEY = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_FIELDS = {
    "code",
    "key",
    "name",
    "aliases",
    "family",
    "collab",
    "release",
    "retail",
    "currency",
    "source",
    "confidence",
}


class CatalogError(ValueError):
    """The packaged catalog has an entry that cannot be used."""


def normalize(text: str) -> str:
    """Text as lookups compare it: "Rain-Cloud", "rain cloud" and "RAINCLOUD" are all
    "raincloud"."""
    return re.sub(r"[^0-9a-z]+", "", text.casefold())


def words(text: str) -> list[str]:
    return [w for w in re.split(r"[^0-9a-z]+", text.casefold()) if w]


@dataclass(frozen=True)
class Colorway:
    key: str  # the style code, or a slug for a colorway no source gives a code for
    style_code: str | None
    name: str | None
    aliases: tuple[str, ...]
    family: str
    collab: str | None
    release: str | None
    retail: Decimal | None
    currency: str | None
    source: str
    confidence: str

    @property
    def label(self) -> str:
        """ "Protection Pack Rain Cloud (M2002RDA)", "JJJJound GORE-TEX", or the code."""
        if self.name and self.style_code:
            return f"{self.name} ({self.style_code})"
        return self.name or self.key

    @property
    def trusted_name(self) -> str | None:
        """The name where it is good enough to show as the colorway's (H or M)."""
        return self.name if self.confidence in ("H", "M") else None

    def texts(self) -> list[str]:
        """What it can be called: name, aliases, collab partner, code."""
        return [t for t in (self.name, *self.aliases, self.collab, self.style_code) if t]


class Catalog:
    """The colorways, by code and in family order."""

    def __init__(self, colorways: Iterable[Colorway]) -> None:
        self.colorways = tuple(colorways)
        self.by_code = {c.style_code: c for c in self.colorways if c.style_code}

    def get(self, style_code: str) -> Colorway | None:
        return self.by_code.get(style_code.upper())

    def names(self) -> dict[str, str]:
        """Style code -> name, for H and M confidence names only."""
        return {
            code: c.trusted_name for code, c in self.by_code.items() if c.trusted_name is not None
        }

    def retail_prices(self) -> dict[str, tuple[Decimal, str]]:
        """Style code -> (retail price, currency), where a source gives one."""
        return {
            code: (c.retail, c.currency)
            for code, c in self.by_code.items()
            if c.retail is not None and c.currency is not None
        }

    def find(self, text: str) -> list[Colorway]:
        """Colorways the text names: the one whose code, name or alias is the text exactly, else
        every one whose name, aliases or collab partner contain all its words, else those in
        which it is part of a word."""
        wanted = normalize(text)
        if not wanted:
            return []
        exact = [c for c in self.colorways if wanted in (normalize(t) for t in c.texts())]
        if len(exact) == 1:
            return exact
        query = words(text)
        matches = [
            c
            for c in self.colorways
            if all(w in {known for t in c.texts() for known in words(t)} for w in query)
        ]
        if matches:
            return matches
        # a word cut short or glued together: "raincl", "jjjjoundgtx"
        return [c for c in self.colorways if any(wanted in normalize(t) for t in c.texts())]

    def families(self) -> dict[str, list[Colorway]]:
        """Colorways by family, families in `FAMILIES` order, names in full."""
        grouped: dict[str, list[Colorway]] = {family: [] for family in FAMILIES}
        for colorway in self.colorways:
            grouped[colorway.family].append(colorway)
        return {family: members for family, members in grouped.items() if members}


def _entry(raw: dict[str, Any], index: int) -> Colorway:
    where = f"catalog.toml, colorway {index} ({raw.get('code') or raw.get('key') or '?'})"
    unknown = set(raw) - _FIELDS
    if unknown:
        raise CatalogError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    code = raw.get("code")
    if code is not None and not (isinstance(code, str) and _CODE.fullmatch(code)):
        raise CatalogError(f"{where}: code {code!r} is not a 2002R style code")
    key = raw.get("key", code)
    if code is None and not (isinstance(key, str) and _KEY.fullmatch(key)):
        raise CatalogError(f"{where}: needs a code or a key like 'jjjjound-gore-tex'")
    if raw.get("family") not in FAMILIES:
        raise CatalogError(f"{where}: family must be one of {', '.join(FAMILIES)}")
    if raw.get("confidence") not in CONFIDENCES:
        raise CatalogError(f"{where}: confidence must be H, M or L")
    if not raw.get("source"):
        raise CatalogError(f"{where}: every entry names its source")
    if code is None and not raw.get("name"):
        raise CatalogError(f"{where}: an entry without a code needs a name")
    retail = None
    if "retail" in raw:
        try:
            retail = Decimal(str(raw["retail"]))
        except InvalidOperation as exc:
            raise CatalogError(f"{where}: retail {raw['retail']!r} is not a price") from exc
        if not raw.get("currency") or retail <= 0:
            raise CatalogError(f"{where}: a retail price needs a positive amount and a currency")
    aliases = raw.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
        raise CatalogError(f"{where}: aliases must be a list of words")
    return Colorway(
        key=str(key),
        style_code=code,
        name=raw.get("name"),
        aliases=tuple(aliases),
        family=raw["family"],
        collab=raw.get("collab"),
        release=str(raw["release"]) if "release" in raw else None,
        retail=retail,
        currency=raw.get("currency"),
        source=raw["source"],
        confidence=raw["confidence"],
    )


def parse_catalog(text: str) -> Catalog:
    """A catalog from TOML text (the packaged file, or a test's)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"catalog.toml: {exc}") from exc
    entries = [_entry(raw, index) for index, raw in enumerate(data.get("colorway", []), 1)]
    keys = [c.key for c in entries]
    if len(set(keys)) != len(keys):
        raise CatalogError("catalog.toml: a code or key is listed twice")
    return Catalog(entries)


@cache
def load_catalog() -> Catalog:
    """The packaged catalog, read once."""
    text = resources.files("pricewatch").joinpath("catalog.toml").read_text(encoding="utf-8")
    return parse_catalog(text)
