"""What people type, parsed at the edge into typed values: style codes (or colorway names),
sizes, max prices, alert kinds, shops and whole ``/subscribe`` lines.

A failure is a `BadInput` whose message is fit to show: friendly, and never echoing more than
``QUOTE_LIMIT`` characters of what was sent. Pure, apart from `load_catalog` and
`parse_style_and_size`, which read the store.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bot.render import format_amount, quote
from pricewatch.changes import DEFAULT_KINDS, EventKind
from pricewatch.history import (
    UnknownStyleError,
    require_style,
    tracked_styles,
)
from pricewatch.lookup import ColorwayLookupError, resolve, style_code_in, suggest
from pricewatch.prices import PriceError, minor_unit, parse_money, price_cap
from pricewatch.sizes import SizeError, parse_user_size
from pricewatch.store import Store

# A subscription fits in one short line; anything much longer is a paste or an attack, and is
# refused before it is parsed (so no parser ever sees, or quotes back, 5,000 characters).
MAX_ARGS_LENGTH = 300
MAX_SIZES = 12
# A max price without a currency applies to offers in any currency; it is checked against the
# rules (2 decimals, the usual cap) of this one, as most shops' currencies have them
ANY_CURRENCY_RULES = "USD"
ANY_WORDS = frozenset({"any", "all", "*", "2002r", "any2002r"})

EXAMPLE = "/subscribe M2002RDA 10 max=150"
TOO_LONG = f"That is too long for me to read. A subscription fits in one short line, like {EXAMPLE}"
SIZE_HINT = "Try 10, 10.5, uk9.5, eu44 or w11.5."


class BadInput(ValueError):
    """Something a person sent that cannot be used; the message is plain text fit to show."""


_CURLY_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})
# "10,5" is a decimal comma (10.5, as many keyboards write it); "10,11" is two sizes
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=5(?!\d))")
_SIZE_SYSTEM_WORDS = frozenset({"us", "uk", "eu", "eur", "w", "m", "cm", "size", "sz"})
_OPTION_KEYS = {
    "shop": "shop",
    "store": "shop",
    "max": "max",
    "max_price": "max",
    "maxprice": "max",
    "price": "max",
    "kinds": "kinds",
    "kind": "kinds",
    "alerts": "kinds",
    "size": "sizes",
    "sizes": "sizes",
}


def tokenize(text: str) -> list[str]:
    """Words as a shell would split them, so ``shop="Shoe Palace"`` is one word."""
    if len(text) > MAX_ARGS_LENGTH:
        raise BadInput(TOO_LONG)
    lexer = shlex.shlex(text.translate(_CURLY_QUOTES), posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError as exc:  # shlex: "No closing quotation"
        raise BadInput('A quote is not closed: write shop="Shoe Palace" with both quotes.') from exc


def style_code_of(word: str, tracked: Collection[str] = ()) -> str | None:
    """The style code a word is (upper case), if it is one; None otherwise."""
    return style_code_in(word, tracked)


def unknown_style_text(word: str, suggestions: Sequence[str]) -> str:
    """Plain text: "I don't track M2002RXX yet. Did you mean M2002RXU?"."""
    text = f"I don't track {quote(word.upper(), 30)} yet."
    if suggestions:
        return f"{text} Did you mean {' or '.join(suggestions)}?"
    return f"{text} Send /colorways to see what I track."


def suggest_styles(word: str, tracked: Collection[str]) -> list[str]:
    """Close tracked codes (a typo), else close colorway names from the catalog."""
    return suggest(word, tracked)


def _looks_like_size(word: str) -> bool:
    return bool(re.fullmatch(r"(?:us|uk|eu|w|m)?\s*\d{1,2}(?:[.,]\d)?", word.strip().lower()))


def split_colorway(words: Sequence[str]) -> tuple[str, list[str]]:
    """The words that name the colorway ("rain cloud", "M2002RDA", "any") and the rest (the
    sizes): a code or "any" is one word; a name runs up to the first size."""
    if not words:
        return "", []
    first = words[0]
    if first.lower() in ANY_WORDS or style_code_of(first) is not None or _looks_like_size(first):
        return first, list(words[1:])
    for index in range(1, len(words)):
        word = words[index]
        size_follows = index + 1 < len(words) and _looks_like_size(words[index + 1])
        if _looks_like_size(word) or (word.lower() in _SIZE_SYSTEM_WORDS and size_follows):
            return " ".join(words[:index]), list(words[index:])
    return " ".join(words), []


def parse_style(text: str, tracked: Collection[str]) -> str | None:
    """A style code, or None for "any 2002R": a code, or a colorway's name or alias from the
    catalog. A well-formed code that no shop has listed yet is accepted (a release people wait
    for); anything else is a `BadInput` with suggestions ("did you mean")."""
    if text.strip().lower() in ANY_WORDS:
        return None
    if _looks_like_size(text):
        raise BadInput(
            "Which colorway? Start with a style code, a name or “any”: "
            "/subscribe M2002RDA 10, /subscribe rain cloud 10 or /subscribe any 10"
        )
    try:
        return resolve(text, tracked)
    except ColorwayLookupError as exc:
        raise BadInput(str(exc)) from exc


def parse_sizes(words: Sequence[str]) -> tuple[float, ...]:
    """Sizes as people type them: "10", "10.5", "uk9.5", "uk 9.5", "eu44", "10,10.5"."""
    joined: list[str] = []
    prefix = ""
    for word in words:
        if word.lower() in _SIZE_SYSTEM_WORDS:
            prefix += word + " "  # "uk 9.5" arrives as two words
            continue
        joined.append(prefix + word)
        prefix = ""
    if prefix:
        raise BadInput(f"{prefix.strip().upper()} what? {SIZE_HINT}")
    sizes: list[float] = []
    for item in joined:
        for part in _DECIMAL_COMMA.sub(".", item).split(","):
            if not part.strip():
                continue
            if len(part) > 16:
                raise BadInput(f"I couldn't read “{quote(part, 20)}” as a shoe size. {SIZE_HINT}")
            try:
                sizes.append(parse_user_size(part))
            except SizeError as exc:
                raise BadInput(str(exc)) from exc
    unique = tuple(sorted(set(sizes)))
    if len(unique) > MAX_SIZES:
        raise BadInput(f"That is a lot of sizes: at most {MAX_SIZES} in one subscription.")
    return unique


# One number, with at most a currency symbol or code before or after it. Anything else after
# the digits ("1e309", "1e-7") is not a price: price_parser would read its first digit ("1").
_MAX_SHAPE = re.compile(r"(?P<lead>\D*?)(?P<number>\d(?:[\d.,'’ ]*\d)?)(?P<tail>\D*)")


def parse_max(text: str) -> tuple[Decimal, str | None]:
    """A max price as typed, and its currency if it names one: "150" -> (150, None) (any
    currency), "$139.99" -> (139.99, "USD"), "€130", "130eur", "130 EUR" -> (130, "EUR").
    At least one minor unit of the currency, in whole minor units, at most its absurd-price
    cap (`pricewatch.prices.price_cap`); anything else is a `BadInput` saying why."""
    value = text.strip()
    if not value:
        raise BadInput("max= needs a price, like max=150")
    unreadable = BadInput(f"I couldn't read “{quote(value, 20)}” as a price; try max=150")
    if value[0] in "-−–":
        raise BadInput("max price must be more than 0")
    shape = _MAX_SHAPE.fullmatch(value) if len(value) <= 30 else None
    if shape is None:
        raise unreadable
    try:
        amount, currency = parse_money(value)
    except PriceError as exc:  # "$-5"
        if "negative" in str(exc):
            raise BadInput("max price must be more than 0") from exc
        raise unreadable from exc
    if amount is None:
        raise unreadable
    marks = (shape["lead"] + shape["tail"]).strip()
    if marks and currency is None:
        raise BadInput(
            f"I don't know the currency “{quote(marks, 12)}”; write it like max=€130, "
            "max=130eur or max=£99 (or no currency: any)"
        )
    if amount <= 0:
        raise BadInput("max price must be more than 0")
    rules = currency or ANY_CURRENCY_RULES
    unit, cap = minor_unit(rules), price_cap(rules)
    if amount < unit:
        raise BadInput(f"max price must be at least {format_amount(unit, currency)}")
    if amount % unit:
        decimals = len(str(unit).partition(".")[2])  # "0.01" -> 2, "1" -> 0
        if currency is None:
            raise BadInput(f"max price can have at most {decimals} decimals")
        allowed = f"at most {decimals} decimals" if decimals else "no decimals"
        raise BadInput(f"a price in {currency} has {allowed}")
    if amount > cap:
        message = f"max price must be at most {format_amount(cap, currency)}"
        if currency is None:
            message += " (for yen or won, write the currency: max=¥30000)"
        raise BadInput(message)
    return amount, currency


def parse_max_price(text: str) -> Decimal:
    """The amount of `parse_max` (a max price as typed, checked the same way)."""
    return parse_max(text)[0]


def _currency_word(word: str) -> bool:
    """ "EUR", "usd", "€": a currency written apart from the max price before it."""
    if len(word) > 4 or any(ch.isdigit() for ch in word):
        return False
    return parse_money(f"1 {word}")[1] is not None


def parse_kinds(text: str) -> tuple[EventKind, ...]:
    """ "restock,price_drop" (also "price-drop", "price drop", "all") as event kinds."""
    if text.strip().lower() == "all":
        return tuple(EventKind)
    kinds: list[EventKind] = []
    for raw in text.split(","):
        name = re.sub(r"[\s-]+", "_", raw.strip().lower())
        if not name:
            continue
        try:
            kinds.append(EventKind(name))
        except ValueError as exc:
            known = ", ".join(k.value for k in EventKind)
            raise BadInput(
                f"I don't know the alert kind “{quote(raw, 20)}”. Kinds: {known}"
            ) from exc
    if not kinds:
        raise BadInput("kinds= needs at least one kind, like kinds=restock,price_drop")
    return tuple(dict.fromkeys(kinds))


def parse_shop(text: str, shops: Sequence[str]) -> str | None:
    """A shop name as the config writes it (case-insensitive), or None for "any"."""
    value = " ".join(text.split())
    if not value:
        raise BadInput('shop= needs a name, like shop=Kith or shop="Shoe Palace"')
    if value.lower() in ANY_WORDS:
        return None
    for shop in shops:
        if shop.casefold() == value.casefold():
            return shop
    if not shops:  # nothing crawled or configured yet: trust the name
        return value[:60]
    raise BadInput(f"I don't know the shop “{quote(value, 30)}”. Shops: {', '.join(shops)}")


@dataclass(frozen=True)
class SubscribeRequest:
    style_code: str | None  # None: any 2002R
    sizes: tuple[float, ...] = ()
    shop: str | None = None
    max_price: Decimal | None = None
    kinds: tuple[EventKind, ...] = DEFAULT_KINDS
    max_currency: str | None = None  # None: the max applies to offers in any currency


@dataclass(frozen=True)
class Catalog:
    """What the bot can offer: tracked style codes with names, and shop names."""

    names: Mapping[str, str | None]
    shops: tuple[str, ...]


def load_catalog(store: Store, config_shops: Iterable[str] = ()) -> Catalog:
    names = {
        str(code): (str(name) if name else None)
        for code, name in store.db.execute("SELECT style_code, name FROM colorways")
    }
    shops: dict[str, str] = {}
    for name in [*config_shops, *(r[0] for r in store.db.execute("SELECT name FROM shops"))]:
        shops.setdefault(str(name).casefold(), str(name))
    return Catalog(names, tuple(sorted(shops.values(), key=str.casefold)))


def parse_subscribe(text: str, catalog: Catalog) -> SubscribeRequest:
    """``/subscribe`` arguments: STYLE|any [sizes...] [shop=NAME] [max=PRICE] [kinds=a,b]."""
    words = tokenize(text)
    if not words:
        raise BadInput(f"Tell me what to watch, like {EXAMPLE}")
    positional: list[str] = []
    options: dict[str, str] = {}
    previous = ""
    for index, word in enumerate(words):
        after_max, previous = previous == "max", ""
        if "=" not in word:
            # "max=130 EUR": the currency is a word of its own. ("eur 44" is an EU size.)
            size_follows = index + 1 < len(words) and _looks_like_size(words[index + 1])
            is_size_system = word.lower() in _SIZE_SYSTEM_WORDS and size_follows
            if after_max and _currency_word(word) and not is_size_system:
                options["max"] += " " + word
                continue
            positional.append(word)
            continue
        key, _, value = word.partition("=")
        canonical = _OPTION_KEYS.get(key.strip().lower())
        if canonical is None:
            raise BadInput(
                f"I don't know the option “{quote(key, 20)}=”. Use shop=, max= or kinds=, "
                f"like {EXAMPLE} shop=Kith"
            )
        if canonical in options:
            raise BadInput(f"{canonical}= is given twice")
        options[canonical] = value
        previous = canonical
    if not positional:
        raise BadInput(f"Start with a style code or “any”, like {EXAMPLE}")
    colorway, size_words = split_colorway(positional)
    style = parse_style(colorway, catalog.names.keys())
    sizes = parse_sizes(size_words + options.get("sizes", "").split())
    max_price, max_currency = parse_max(options["max"]) if "max" in options else (None, None)
    return SubscribeRequest(
        style_code=style,
        sizes=sizes,
        shop=parse_shop(options["shop"], catalog.shops) if "shop" in options else None,
        max_price=max_price,
        kinds=parse_kinds(options["kinds"]) if "kinds" in options else DEFAULT_KINDS,
        max_currency=max_currency,
    )


def parse_style_and_size(store: Store, text: str) -> tuple[str, float | None]:
    """``STYLE [size]`` for /price and /history: a tracked colorway (its code or name) and an
    optional size."""
    words = tokenize(text)
    if not words or words[0].lower() in ANY_WORDS:
        raise BadInput(
            "Which colorway? Like /price M2002RDA 10 or /price rain cloud (see /colorways)"
        )
    colorway, size_words = split_colorway(words)
    tracked = tracked_styles(store)
    try:
        code = require_style(store, resolve(colorway, tracked))
    except ColorwayLookupError as exc:
        raise BadInput(str(exc)) from exc
    except UnknownStyleError as exc:
        raise BadInput(unknown_style_text(colorway, suggest_styles(colorway, tracked))) from exc
    sizes = parse_sizes(size_words)
    if len(sizes) > 1:
        raise BadInput("One size at a time, please, like /price M2002RDA 10")
    return code, sizes[0] if sizes else None
