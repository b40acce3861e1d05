"""What the bot says, without Telegram: plain typed functions over a `Store`.

Every command's answer is built here as `Reply` values (HTML text plus keyboard data) so it can be
tested with a real SQLite file and no Bot API; `bot.handlers` only moves them to and from Telegram.

Rules kept here, in one place:
- user text is parsed at the edge into typed values; a failure is a `BadInput` whose message is
  fit to show (friendly, and never echoing more than ``QUOTE_LIMIT`` characters of what was sent);
- every piece of user or shop text that goes into an HTML reply passes through `esc`;
- a reply never exceeds Telegram's 4,096 characters: long ones are split on line boundaries.
"""

from __future__ import annotations

import difflib
import html
import re
import secrets
import shlex
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from pricewatch.changes import DEFAULT_KINDS, EventKind
from pricewatch.config import Config
from pricewatch.history import (
    NoHistoryError,
    Offer,
    UnknownStyleError,
    colorways,
    current_offers,
    parse_timestamp,
    require_style,
    tracked_styles,
)
from pricewatch.models import Stock
from pricewatch.prices import PriceError, format_price, minor_unit, parse_money, price_cap
from pricewatch.sizes import SizeError, format_size, parse_user_size
from pricewatch.status import watch_status
from pricewatch.store import Store
from pricewatch.styles import KNOWN_COLORWAYS, find_style_codes
from pricewatch.subscriptions import (
    Subscription,
    SubscriptionError,
    add_subscription,
    forget_chat,
    list_subscriptions,
    remove_subscription,
)

MAX_MESSAGE_LENGTH = 4096  # Telegram's limit for one text message
QUOTE_LIMIT = 50  # the most of a person's own text we ever send back
# A subscription fits in one short line; anything much longer is a paste or an attack, and is
# refused before it is parsed (so no parser ever sees, or quotes back, 5,000 characters).
MAX_ARGS_LENGTH = 300
MAX_SIZES = 12
# A max price without a currency applies to offers in any currency; it is checked against the
# rules (2 decimals, the usual cap) of this one, as most shops' currencies have them
ANY_CURRENCY_RULES = "USD"
FLOW_TTL_SECONDS = 3600.0  # a guided /subscribe menu older than this has expired
COLORWAYS_PER_PAGE = 8
COMMON_SIZES = (7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0, 10.5, 11.0, 11.5, 12.0, 12.5, 13.0)
PRICE_BUTTONS = (Decimal(120), Decimal(130), Decimal(150), Decimal(180), Decimal(200))
STALE_MENU = "That menu has expired — send /subscribe again"
ANY_WORDS = frozenset({"any", "all", "*", "2002r", "any2002r"})

EXAMPLE = "/subscribe M2002RDA 10 max=150"
TOO_LONG = f"That is too long for me to read. A subscription fits in one short line, like {EXAMPLE}"
SIZE_HINT = "Try 10, 10.5, uk9.5, eu44 or w11.5."

# (command, menu description, help line). The menu (setMyCommands) and /help come from here.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("start", "Welcome and how to subscribe", "/start – what I do"),
    ("help", "All commands with examples", "/help – this list"),
    (
        "subscribe",
        "Get alerts (guided, or /subscribe M2002RDA 10 max=150)",
        "/subscribe – a guided menu; or one line: <code>/subscribe M2002RDA 10 max=150</code>, "
        "<code>/subscribe any 10.5</code>, sizes <code>uk9.5</code> <code>eu44</code> "
        '<code>10,10.5</code>, <code>shop="Shoe Palace"</code>, '
        "<code>kinds=restock,price_drop</code>, <code>max=€130</code> (euro offers only)",
    ),
    ("subscriptions", "Your subscriptions", "/subscriptions – what this chat is subscribed to"),
    (
        "unsubscribe",
        "Remove a subscription",
        "/unsubscribe – a button per subscription; or <code>/unsubscribe 3</code>",
    ),
    (
        "price",
        "Prices now: /price M2002RDA 10",
        "/price STYLE [size] – price and stock in every shop, e.g. <code>/price M2002RDA 10</code>",
    ),
    (
        "history",
        "Price history chart: /history M2002RDA 10",
        "/history STYLE [size] – a price chart, e.g. <code>/history M2002RDA 10</code>",
    ),
    ("colorways", "Tracked colorways, cheapest now", "/colorways – what I track, cheapest now"),
    (
        "stop",
        "Forget me: delete this chat's subscriptions",
        "/stop – forget this chat and its subscriptions",
    ),
    ("status", "Crawl status (admins only)", "/status – crawls and outbox (admins only)"),
)


class BadInput(ValueError):
    """Something a person sent that cannot be used; the message is plain text fit to show."""


# -- replies ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    """An inline keyboard button: ``data`` is its callback_data (<= 64 bytes), or a ``url``."""

    text: str
    data: str | None = None
    url: str | None = None


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Reply:
    """One message: ``text`` is Telegram HTML (already escaped), ``keyboard`` inline buttons."""

    text: str
    keyboard: Keyboard = ()


@dataclass(frozen=True)
class Photo:
    """A chart to send as a photo; ``caption`` is plain text (sent without a parse mode)."""

    data: bytes
    caption: str


def esc(text: object) -> str:
    """HTML-escape any user or shop text for a reply sent with parse_mode HTML (text only:
    attribute values, such as a link's href, go through ``html.escape(..., quote=True)``)."""
    return html.escape(str(text), quote=False)


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """A person's text as we may echo it: one line, printable, at most ``limit`` characters.
    Plain text: escape it (after cutting, so an entity is never cut in half)."""
    flat = "".join(ch for ch in " ".join(str(text).split()) if ch.isprintable())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def error_reply(exc: Exception) -> Reply:
    return Reply(esc(_sentence(str(exc))))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def split_message(text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Text cut into messages of at most ``limit`` characters, on line boundaries.

    Our lines are short and each is balanced HTML, so cutting between lines never breaks a tag;
    a single line longer than ``limit`` (which we never build) would be cut hard.
    """
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            candidate = line
        current = candidate
    if current.strip():
        parts.append(current)
    return [part for part in parts if part.strip()] or [text[:limit] or " "]


def split_replies(text: str, keyboard: Keyboard = ()) -> list[Reply]:
    """A long reply as several messages; the keyboard goes on the last one."""
    texts = split_message(text)
    return [
        Reply(part, keyboard if index == len(texts) - 1 else ()) for index, part in enumerate(texts)
    ]


# -- words --------------------------------------------------------------------------------------


def format_money(amount: Decimal, currency: str = "USD") -> str:
    """$150 for a whole amount, $139.99 otherwise (a max price is written as people say it)."""
    text = format_price(amount, currency)
    return text.removesuffix(".00") if amount == amount.to_integral_value() else text


def format_amount(amount: Decimal, currency: str | None) -> str:
    """A max price as people say it: "€130", "$139.99", "¥30,000"; "150" with no currency."""
    if currency is not None:
        return format_money(amount, currency)
    return f"{int(amount):,}" if amount == amount.to_integral_value() else f"{amount:,.2f}"


def max_label(amount: Decimal | None, currency: str | None) -> str:
    """ "max €130"; "max 150 (any currency)" for a max that applies to offers in every
    currency; "no price limit"."""
    if amount is None:
        return "no price limit"
    label = f"max {format_amount(amount, currency)}"
    return label if currency is not None else f"{label} (any currency)"


def kind_label(kind: EventKind) -> str:
    return kind.value.replace("_", " ")


def stock_label(stock: Stock) -> str:
    # unknown is never "sold out": a failed crawl or a missing variant proves nothing
    return {Stock.IN_STOCK: "in stock", Stock.SOLD_OUT: "sold out"}.get(stock, "stock unknown")


def sizes_label(sizes: Iterable[float]) -> str:
    ordered = sorted(set(sizes))
    return "US " + ", ".join(format_size(s) for s in ordered) if ordered else "any size"


def colorway_label(style_code: str | None, names: Mapping[str, str | None]) -> str:
    """ "M2002RDA (Protection Pack Rain Cloud)", or "any 2002R" (plain text)."""
    if style_code is None:
        return "any 2002R"
    name = names.get(style_code) or KNOWN_COLORWAYS.get(style_code)
    return f"{style_code} ({name})" if name else style_code


def describe(
    style_code: str | None,
    sizes: Iterable[float],
    shop: str | None,
    max_price: Decimal | None,
    kinds: Iterable[EventKind],
    names: Mapping[str, str | None],
    *,
    max_currency: str | None = None,
) -> str:
    """One subscription in words, plain text:
    "M2002RDA (Protection Pack Rain Cloud), US 10, any shop, max $150, alerts: restock, ..."."""
    parts = [
        colorway_label(style_code, names),
        sizes_label(sizes),
        shop or "any shop",
        max_label(max_price, max_currency),
        "alerts: " + ", ".join(kind_label(k) for k in kinds),
    ]
    return ", ".join(parts)


def describe_subscription(subscription: Subscription, names: Mapping[str, str | None]) -> str:
    return describe(
        subscription.style_code,
        subscription.sizes,
        subscription.shop,
        subscription.max_price,
        subscription.kinds,
        names,
        max_currency=subscription.max_currency,
    )


def _size_text(offer: Offer) -> str:
    """ "US 10 (shop label 'UK 9.5')": the shop's own label only when it says something else."""
    if offer.size_us is None:
        return f"size '{quote(offer.size_label, 30)}'"
    us = format_size(offer.size_us)
    text = f"US {us}"
    if offer.width and offer.width not in ("D", "B"):
        text += f" {offer.width}"
    label = " ".join(offer.size_label.split())
    if label.casefold().replace(" ", "") not in (us, f"us{us}", f"usm{us}", f"m{us}"):
        text += f" (shop label '{quote(label, 30)}')"
    return text


def _link(url: str, text: str = "open") -> str:
    if not url.startswith(("https://", "http://")):
        return ""
    return f'<a href="{html.escape(url, quote=True)}">{esc(text)}</a>'


# -- commands: menu and help --------------------------------------------------------------------


def menu_commands(*, charts: bool = True) -> list[tuple[str, str]]:
    """(command, description) for setMyCommands: every command the bot answers."""
    return [(c, d) for c, d, _ in COMMANDS if charts or c != "history"]


def help_text(*, charts: bool = True) -> str:
    lines = ["<b>2002R price watch</b> – commands:"]
    lines += [h for c, _, h in COMMANDS if charts or c != "history"]
    lines += [
        "",
        "Sizes are US men's unless you say otherwise (uk9.5, eu44, w11.5). In groups, "
        "subscriptions belong to the group; use /command@botname there.",
    ]
    return "\n".join(lines)


def welcome_text() -> str:
    return (
        "👟 <b>2002R price watch</b>\n"
        "I tell you when a New Balance 2002R colorway is back in your size or its price "
        "drops, across sneaker shops.\n\n"
        f"Subscribe with a menu: /subscribe\nOr in one line: <code>{esc(EXAMPLE)}</code>\n"
        "What I track: /colorways · prices now: <code>/price M2002RDA 10</code>\n"
        "Everything else: /help"
    )


def unknown_command_text(command: str) -> str:
    return f"I don't know {esc(quote(command, 40))}. Send /help to see what I can do."


# -- parsing ------------------------------------------------------------------------------------


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
    if len(word) > 20:
        return None
    upper = word.strip().upper()
    if upper in tracked:
        return upper
    codes = find_style_codes(upper)
    bare = upper.removeprefix("NB").split("-")[0]
    return codes[0] if len(codes) == 1 and codes[0] == bare else None


def unknown_style_text(word: str, suggestions: Sequence[str]) -> str:
    """Plain text: "I don't track M2002RXX yet. Did you mean M2002RXU?"."""
    text = f"I don't track {quote(word.upper(), 30)} yet."
    if suggestions:
        return f"{text} Did you mean {' or '.join(suggestions)}?"
    return f"{text} Send /colorways to see what I track."


def _suggest(word: str, tracked: Collection[str]) -> list[str]:
    # one wrong character in eight (0.875) is a typo; 0.8 keeps "M2002RXX" from suggesting
    # every M2002R* code
    return difflib.get_close_matches(word.strip().upper(), sorted(tracked), n=2, cutoff=0.8)


def _looks_like_size(word: str) -> bool:
    return bool(re.fullmatch(r"(?:us|uk|eu|w|m)?\s*\d{1,2}(?:[.,]\d)?", word.strip().lower()))


def parse_style(word: str, tracked: Collection[str]) -> str | None:
    """A style code, or None for "any 2002R". A well-formed code that no shop has listed yet is
    accepted (a release people wait for); anything else is a `BadInput` with suggestions."""
    if word.strip().lower() in ANY_WORDS:
        return None
    code = style_code_of(word, tracked)
    if code is not None:
        return code
    if _looks_like_size(word):
        raise BadInput(
            "Which colorway? Start with a style code or “any”: "
            "/subscribe M2002RDA 10 or /subscribe any 10"
        )
    raise BadInput(unknown_style_text(word, _suggest(word, tracked)))


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
    style = parse_style(positional[0], catalog.names.keys())
    sizes = parse_sizes(positional[1:] + options.get("sizes", "").split())
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
    """``STYLE [size]`` for /price and /history: a tracked style code and an optional size."""
    words = tokenize(text)
    if not words or words[0].lower() in ANY_WORDS:
        raise BadInput("Which colorway? Like /price M2002RDA 10 (see /colorways)")
    try:
        code = require_style(store, style_code_of(words[0]) or words[0][:20])
    except UnknownStyleError as exc:
        suggestions = _suggest(words[0], tracked_styles(store))
        raise BadInput(unknown_style_text(words[0], suggestions)) from exc
    sizes = parse_sizes(words[1:])
    if len(sizes) > 1:
        raise BadInput("One size at a time, please, like /price M2002RDA 10")
    return code, sizes[0] if sizes else None


# -- subscriptions ------------------------------------------------------------------------------


def subscribe(store: Store, chat_id: int, request: SubscribeRequest, *, limit: int) -> Reply:
    """Add the subscription (the chat must be known: `upsert_chat`) and say what it is."""
    catalog = load_catalog(store)
    for existing in list_subscriptions(store, chat_id):
        same = (
            existing.style_code == request.style_code
            and existing.sizes == tuple(sorted(set(request.sizes)))
            and (existing.shop or "").casefold() == (request.shop or "").casefold()
            and existing.max_price == request.max_price
            and existing.max_currency == request.max_currency
            and set(existing.kinds) == set(request.kinds)
        )
        if same:
            return Reply(
                f"You already have this subscription (#{existing.id}). See /subscriptions."
            )
    try:
        subscription = add_subscription(
            store,
            chat_id,
            style_code=request.style_code,
            sizes=request.sizes,
            shop=request.shop,
            max_price=request.max_price,
            kinds=request.kinds,
            limit=limit,
            max_currency=request.max_currency,
        )
    except SubscriptionError as exc:
        return Reply("Sorry: " + esc(exc))
    described = esc(describe_subscription(subscription, catalog.names))
    lines = [f"✅ Subscribed (#{subscription.id}): {described}."]
    code = subscription.style_code
    if code is not None and code not in catalog.names:
        note = (
            f"Note: I don't track {code} yet: not seen in any shop yet; "
            "you'll hear when it appears."
        )
        suggestions = _suggest(code, catalog.names.keys())
        if suggestions:
            note += (
                f" Did you mean {' or '.join(suggestions)}? If so, "
                f"/unsubscribe {subscription.id} and subscribe to that one."
            )
        lines.append(esc(note))
    lines.append(f"All of them: /subscriptions · remove this one: /unsubscribe {subscription.id}")
    return Reply("\n".join(lines))


def subscribe_command(
    store: Store, chat_id: int, text: str, *, limit: int, config_shops: Sequence[str] = ()
) -> Reply:
    """/subscribe with arguments, answered."""
    try:
        request = parse_subscribe(text, load_catalog(store, config_shops))
    except BadInput as exc:
        return error_reply(exc)
    return subscribe(store, chat_id, request, limit=limit)


def subscriptions_reply(store: Store, chat_id: int) -> list[Reply]:
    subscriptions = list_subscriptions(store, chat_id)
    if not subscriptions:
        return [Reply("No subscriptions yet. Add one with /subscribe.")]
    names = load_catalog(store).names
    lines = [f"<b>Subscriptions</b> ({len(subscriptions)}):"]
    lines += [f"#{s.id} {esc(describe_subscription(s, names))}" for s in subscriptions]
    lines.append("Remove one: /unsubscribe")
    return split_replies("\n".join(lines))


def _button_label(subscription: Subscription) -> str:
    parts = [subscription.style_code or "any 2002R"]
    if subscription.sizes:
        parts.append(sizes_label(subscription.sizes))
    if subscription.shop:
        parts.append(quote(subscription.shop, 16))
    return f"✖ #{subscription.id} " + " · ".join(parts)


def unsubscribe_menu(store: Store, chat_id: int) -> Reply:
    """The chat's subscriptions with a remove button each (callback data ``u:<id>``)."""
    subscriptions = list_subscriptions(store, chat_id)
    if not subscriptions:
        return Reply("No subscriptions left. Add one with /subscribe.")
    names = load_catalog(store).names
    lines = ["Tap one to remove it:"]
    lines += [f"#{s.id} {esc(describe_subscription(s, names))}" for s in subscriptions]
    keyboard = tuple((Button(_button_label(s), f"u:{s.id}"),) for s in subscriptions)
    text = "\n".join(lines)
    if len(text) > MAX_MESSAGE_LENGTH:  # 25 long subscriptions: the buttons say enough
        text = "Tap one to remove it:"
    return Reply(text, keyboard)


def unsubscribe_command(store: Store, chat_id: int, text: str) -> Reply:
    """/unsubscribe (buttons), /unsubscribe 3, /unsubscribe all."""
    words = text.split()
    if not words:
        return unsubscribe_menu(store, chat_id)
    word = words[0].lstrip("#")
    if word.lower() == "all" and len(words) == 1:
        removed = sum(
            remove_subscription(store, chat_id, s.id) for s in list_subscriptions(store, chat_id)
        )
        return Reply(f"Removed {removed} subscription(s).")
    if len(words) != 1 or not word.isdigit() or len(word) > 12:
        return Reply(
            "Send /unsubscribe 3 (the number from /subscriptions), or just /unsubscribe "
            "for buttons."
        )
    if remove_subscription(store, chat_id, int(word)):
        return Reply(f"Removed subscription #{int(word)}.")
    return Reply(f"This chat has no subscription #{int(word)}. See /subscriptions.")


def parse_unsubscribe_data(data: str) -> int | None:
    match = re.fullmatch(r"u:(\d{1,12})", data)
    return int(match[1]) if match else None


def unsubscribe_pressed(store: Store, chat_id: int, subscription_id: int) -> tuple[str, Reply]:
    """A remove button: (toast, the menu as it is now)."""
    removed = remove_subscription(store, chat_id, subscription_id)
    toast = f"Removed #{subscription_id}" if removed else "That one was already removed"
    return toast, unsubscribe_menu(store, chat_id)


def stop_reply(store: Store, chat_id: int) -> Reply:
    removed = forget_chat(store, chat_id)
    return Reply(
        f"Done: I deleted this chat's {removed} subscription(s) and everything I knew about it. "
        "Send /start any time to come back."
    )


# -- prices -------------------------------------------------------------------------------------


def _offer_line(number: int, offer: Offer) -> str:
    price = f"<b>{esc(format_price(offer.price, offer.currency))}</b>"
    if offer.compare_at is not None and offer.compare_at > offer.price:
        price += f" (was {esc(format_price(offer.compare_at, offer.currency))})"
    parts = [
        f"{number}. {price}",
        esc(offer.shop),
        stock_label(offer.stock),
        esc(_size_text(offer)),
    ]
    link = _link(offer.url)
    return " · ".join([*parts, link] if link else parts)


def _sizes_of(offers: Iterable[Offer]) -> str:
    us = sorted({o.size_us for o in offers if o.size_us is not None})
    other = sorted({quote(o.size_label, 12) for o in offers if o.size_us is None})
    parts = (["US " + ", ".join(format_size(s) for s in us)] if us else []) + other
    return ", ".join(parts)


def _shop_line(shop: str, offers: list[Offer]) -> str:
    """One shop's offers of a colorway in all sizes (offers cheapest first, in stock first)."""
    in_stock = [o for o in offers if o.stock == Stock.IN_STOCK]
    best = in_stock[0] if in_stock else offers[0]
    several = len({(o.price, o.currency) for o in (in_stock or offers)}) > 1
    price = esc(format_price(best.price, best.currency))
    parts = [f"<b>{esc(shop)}</b>: {'from ' if several else ''}<b>{price}</b>"]
    for stock in (Stock.IN_STOCK, Stock.UNKNOWN, Stock.SOLD_OUT):
        group = [o for o in offers if o.stock == stock]
        if group:
            parts.append(f"{stock_label(stock)}: {esc(_sizes_of(group))}")
    link = _link(best.url)
    return " · ".join([*parts, link] if link else parts)


def chart_data(style_code: str, size_us: float | None) -> str:
    return f"c:{style_code}:{format_size(size_us) if size_us is not None else '-'}"


def parse_chart_data(data: str) -> tuple[str, float | None] | None:
    match = re.fullmatch(r"c:([A-Z0-9]{4,12}):(-|\d{1,2}(?:\.\d{1,2})?)", data)
    if match is None:
        return None
    return match[1], None if match[2] == "-" else float(match[2])


def price_replies(store: Store, text: str, *, charts: bool = False) -> list[Reply]:
    """/price STYLE [size]: every shop's price and stock, in stock first, cheapest first."""
    try:
        code, size_us = parse_style_and_size(store, text)
    except BadInput as exc:
        return [error_reply(exc)]
    offers = current_offers(store, code, size_us)
    catalog = load_catalog(store)
    head = f"<b>{esc(colorway_label(code, catalog.names))}</b>"
    if size_us is not None:
        head += f" · US {format_size(size_us)}"
    lines = [head]
    if not offers:
        if size_us is None:
            lines.append("No shop lists a price for it right now.")
        else:
            lines.append(f"No shop lists it in US {format_size(size_us)} right now.")
            seen = _sizes_of(current_offers(store, code))
            if seen:
                lines.append(f"Sizes listed: {esc(seen)}")
    elif size_us is not None:
        lines += [_offer_line(n, offer) for n, offer in enumerate(offers, 1)]
    else:
        by_shop: dict[str, list[Offer]] = {}
        for offer in offers:  # current_offers' order: in stock first, cheapest first
            by_shop.setdefault(offer.shop, []).append(offer)
        lines += [_shop_line(shop, shop_offers) for shop, shop_offers in by_shop.items()]
        lines.append(f"One size: <code>/price {code} 10</code>")
    keyboard: Keyboard = ()
    if charts:
        keyboard = ((Button("📈 Price history chart", chart_data(code, size_us)),),)
    return split_replies("\n".join(lines), keyboard)


def colorways_replies(store: Store) -> list[Reply]:
    """/colorways: every tracked style code, its name and the cheapest in-stock price now."""
    summaries = colorways(store)
    if not summaries:
        return [Reply("I don't track any colorway yet: no shop has been crawled.")]
    lines = [f"<b>Tracked 2002R colorways</b> ({len(summaries)}):"]
    for summary in summaries:
        name = summary.name or KNOWN_COLORWAYS.get(summary.style_code)
        line = f"<b>{esc(summary.style_code)}</b>" + (f" {esc(name)}" if name else "")
        if summary.cheapest:
            prices = " / ".join(
                f"{esc(format_price(o.price, o.currency))} at {esc(o.shop)}"
                for o in summary.cheapest
            )
            line += f" — from <b>{prices}</b> · {summary.sizes_in_stock} in stock"
        else:
            line += " — nothing in stock right now"
        shops = len(summary.shops)
        line += f" · {shops} shop{'s' if shops != 1 else ''}"
        lines.append(line)
    lines.append("Details: <code>/price M2002RDA 10</code> · alerts: /subscribe")
    return split_replies("\n".join(lines))


# -- admin --------------------------------------------------------------------------------------


def _ago(stamp: str | None, now: datetime) -> str:
    if not stamp:
        return "never"
    try:
        moment = parse_timestamp(stamp)
    except ValueError:
        return quote(stamp, 30)
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 3600:
        age = f"{seconds // 60} min ago"
    elif seconds < 86400 * 2:
        age = f"{seconds // 3600} h ago"
    else:
        age = f"{seconds // 86400} d ago"
    return f"{moment:%Y-%m-%d %H:%M} UTC ({age})"


def status_replies(
    store: Store, config: Config, chat_id: int, *, now: datetime | None = None
) -> list[Reply]:
    """/status for admins: each shop's last crawl, failures in 24 h, the outbox."""
    if chat_id not in config.telegram.admin_chat_ids:
        return [Reply("Sorry, /status is for admins.")]
    now = now or datetime.now(UTC)
    report = watch_status(config, store, now)
    icons = {"ok": "✅", "running": "⏳", "partial": "⚠️"}
    lines = ["<b>Crawl status</b>"]
    for shop in report.shops:
        if shop.last_status is None:
            line = f"— <b>{esc(shop.shop)}</b>: never crawled"
        else:
            line = f"{icons.get(shop.last_status, '❌')} <b>{esc(shop.shop)}</b>: "
            line += f"{esc(shop.last_status)}, {esc(_ago(shop.last_started, now))}, "
            line += f"{shop.last_variants} variants, {shop.last_changes} changes"
            if shop.last_error:
                line += f" — {esc(quote(shop.last_error, 120))}"
        if shop.failures_24h:
            line += f" · {shop.failures_24h} failed in 24 h"
        if not shop.enabled:
            line += " · disabled"
        elif shop.next_run:
            line += f" · next {esc(_ago(shop.next_run, now).split(' (')[0])}"
        lines.append(line)
    if not report.shops:
        lines.append("No shops configured or crawled.")
    lines.append(f"Outbox: {report.outbox_pending} message(s) waiting")
    lines.append(f"Chats: {report.active_chats} active · subscriptions: {report.subscriptions}")
    return split_replies("\n".join(lines))


# -- the guided /subscribe flow -----------------------------------------------------------------


class Step(StrEnum):
    COLORWAY = "colorway"
    SIZES = "sizes"
    SHOP = "shop"
    PRICE = "price"
    KINDS = "kinds"
    CONFIRM = "confirm"


_STEP_NUMBER = {Step.COLORWAY: 1, Step.SIZES: 2, Step.SHOP: 3, Step.PRICE: 4, Step.KINDS: 5}
# which step each button belongs to: a button of another step is from an older screen
_ACTION_STEP = {
    "p": Step.COLORWAY,
    "c": Step.COLORWAY,
    "z": Step.SIZES,
    "za": Step.SIZES,
    "zd": Step.SIZES,
    "s": Step.SHOP,
    "m": Step.PRICE,
    "k": Step.KINDS,
    "kd": Step.KINDS,
    "y": Step.CONFIRM,
}


@dataclass(frozen=True)
class FlowOptions:
    """What the menu offers, fixed when the flow starts (buttons refer to shops by index)."""

    colorways: tuple[tuple[str, str | None], ...]
    shops: tuple[str, ...]
    cheapest: Mapping[str, str]  # style code -> "$139.99 at Kith"


@dataclass
class Flow:
    """One person's guided /subscribe in one chat. Buttons carry ``id``; a press whose id is
    not the current flow's is from an old menu (stale)."""

    id: str
    options: FlowOptions
    started: float  # time.monotonic() when it started
    step: Step = Step.COLORWAY
    page: int = 0
    style_code: str | None = None
    sizes: set[float] = field(default_factory=set)
    shop: str | None = None
    max_price: Decimal | None = None
    kinds: set[EventKind] = field(default_factory=lambda: set(DEFAULT_KINDS))
    message_id: int | None = None
    max_currency: str | None = None

    def request(self) -> SubscribeRequest:
        return SubscribeRequest(
            style_code=self.style_code,
            sizes=tuple(sorted(self.sizes)),
            shop=self.shop,
            max_price=self.max_price,
            kinds=tuple(k for k in EventKind if k in self.kinds),
            max_currency=self.max_currency,
        )


@dataclass(frozen=True)
class FlowOutcome:
    screen: Reply | None = None  # the menu as it is now (edit the message to this)
    toast: str | None = None  # answer_callback_query text
    error: str | None = None  # typed input that could not be used (plain text)
    confirm: bool = False  # subscribe now
    finished: bool = False  # forget the flow


def flow_options(store: Store, config_shops: Iterable[str] = ()) -> FlowOptions:
    catalog = load_catalog(store, config_shops)
    cheapest: dict[str, str] = {}
    for summary in colorways(store):
        if summary.cheapest:
            offer = summary.cheapest[0]
            cheapest[summary.style_code] = (
                f"{format_price(offer.price, offer.currency)} at {offer.shop}"
            )
    return FlowOptions(
        colorways=tuple(sorted(catalog.names.items())),
        shops=catalog.shops,
        cheapest=cheapest,
    )


def new_flow(
    options: FlowOptions,
    *,
    started: float,
    style_code: str | None = None,
    sizes: Iterable[float] = (),
    flow_id: str | None = None,
) -> Flow:
    """A new guided flow; with a style code (a deep link) it starts at the size step."""
    flow = Flow(id=flow_id or secrets.token_hex(3), options=options, started=started)
    if style_code is not None:
        flow.style_code = style_code
        flow.step = Step.SIZES
        flow.sizes = set(sizes)
    return flow


def flow_is_current(flow: Flow | None, flow_id: str, now: float) -> bool:
    return flow is not None and flow.id == flow_id and now - flow.started < FLOW_TTL_SECONDS


def parse_flow_data(data: str) -> tuple[str, str, str] | None:
    """ "f:<flow id>:<action>:<arg>" -> (flow id, action, arg)."""
    match = re.fullmatch(r"f:([0-9a-f]{6}):([a-z]{1,2}):([^:]{0,40})", data)
    return (match[1], match[2], match[3]) if match else None


def _data(flow: Flow, action: str, arg: str = "") -> str:
    return f"f:{flow.id}:{action}:{arg}"


def _rows(buttons: Sequence[Button], width: int) -> Keyboard:
    return tuple(tuple(buttons[i : i + width]) for i in range(0, len(buttons), width))


def _so_far(flow: Flow) -> str:
    names = dict(flow.options.colorways)
    parts = [colorway_label(flow.style_code, names)]
    if _STEP_NUMBER.get(flow.step, 6) > 2:
        parts.append(sizes_label(flow.sizes))
    if _STEP_NUMBER.get(flow.step, 6) > 3:
        parts.append(flow.shop or "any shop")
    if _STEP_NUMBER.get(flow.step, 6) > 4:
        parts.append(max_label(flow.max_price, flow.max_currency))
    return esc(", ".join(parts))


def flow_screen(flow: Flow) -> Reply:
    """The menu for the flow's current step: text and buttons."""
    cancel = (Button("✖ Cancel", _data(flow, "x")),)
    step = flow.step
    head = f"<b>New subscription</b> · step {_STEP_NUMBER.get(step, 5)} of 5"
    if step == Step.COLORWAY:
        pages = max(1, -(-len(flow.options.colorways) // COLORWAYS_PER_PAGE))
        page = min(flow.page, pages - 1)
        shown = flow.options.colorways[page * COLORWAYS_PER_PAGE : (page + 1) * COLORWAYS_PER_PAGE]
        buttons = [
            Button(
                quote(f"{code} {name or KNOWN_COLORWAYS.get(code, '')}".strip(), 28),
                _data(flow, "c", code),
            )
            for code, name in shown
        ]
        keyboard = list(_rows(buttons, 2))
        nav = []
        if page > 0:
            nav.append(Button("‹ Back", _data(flow, "p", str(page - 1))))
        if page < pages - 1:
            nav.append(Button("More ›", _data(flow, "p", str(page + 1))))
        if nav:
            keyboard.append(tuple(nav))
        keyboard += [(Button("Any 2002R", _data(flow, "c", "*")),), cancel]
        text = f"{head}\nWhich colorway? Tap one, or “Any 2002R”."
        if pages > 1:
            text += f" (page {page + 1} of {pages})"
        return Reply(text, tuple(keyboard))
    if step == Step.SIZES:
        sizes = sorted(set(COMMON_SIZES) | flow.sizes)
        buttons = [
            Button(
                ("✅ " if s in flow.sizes else "") + format_size(s),
                _data(flow, "z", format_size(s)),
            )
            for s in sizes
        ]
        keyboard = [
            *_rows(buttons, 4),
            (Button("Any size", _data(flow, "za")), Button("Done ›", _data(flow, "zd"))),
            cancel,
        ]
        chosen = sizes_label(flow.sizes) if flow.sizes else "none yet (Done with none = any size)"
        text = (
            f"{head} · {_so_far(flow)}\nWhich size(s)? Tap to select (US men's), then Done. "
            f"Or type sizes like 10, uk9.5, eu44.\nSelected: {esc(chosen)}"
        )
        return Reply(text, tuple(keyboard))
    if step == Step.SHOP:
        buttons = [
            Button(quote(shop, 28), _data(flow, "s", str(i)))
            for i, shop in enumerate(flow.options.shops)
        ]
        keyboard = [*_rows(buttons, 2), (Button("Any shop", _data(flow, "s", "*")),), cancel]
        return Reply(f"{head} · {_so_far(flow)}\nWhich shop?", tuple(keyboard))
    if step == Step.PRICE:
        # no currency on the buttons: like a typed "140", they apply to offers in any one
        prices = [Button(format_amount(p, None), _data(flow, "m", str(p))) for p in PRICE_BUTTONS]
        keyboard = [(Button("No limit", _data(flow, "m", "-")),), *_rows(prices, 3), cancel]
        text = (
            f"{head} · {_so_far(flow)}\nAlert only at or below a price? Tap one, or type a "
            "number like 140 (with a currency, €140 or 140 GBP, for offers in it only)."
        )
        cheapest = flow.options.cheapest.get(flow.style_code or "")
        if cheapest:
            text += f"\nCheapest now: {esc(cheapest)}"
        return Reply(text, tuple(keyboard))
    if step == Step.KINDS:
        buttons = [
            Button(
                ("✅ " if kind in flow.kinds else "▫️ ") + kind_label(kind), _data(flow, "k", str(i))
            )
            for i, kind in enumerate(EventKind)
        ]
        keyboard = [*_rows(buttons, 2), (Button("Done ›", _data(flow, "kd")),), cancel]
        return Reply(
            f"{head} · {_so_far(flow)}\nWhich alerts? Tap to switch on or off.", tuple(keyboard)
        )
    request = flow.request()
    names = dict(flow.options.colorways)
    text = "<b>Subscribe to</b>\n" + esc(
        describe(
            request.style_code,
            request.sizes,
            request.shop,
            request.max_price,
            request.kinds,
            names,
            max_currency=request.max_currency,
        )
    )
    keyboard = [(Button("✅ Subscribe", _data(flow, "y")), Button("✖ Cancel", _data(flow, "x")))]
    return Reply(text, tuple(keyboard))


def flow_press(flow: Flow, action: str, arg: str) -> FlowOutcome:
    """A button of the current flow was pressed: move the flow on (mutates ``flow``)."""
    if action == "x":
        return FlowOutcome(
            Reply("Cancelled. Send /subscribe to start again."), "Cancelled", finished=True
        )
    if _ACTION_STEP.get(action) != flow.step:
        return FlowOutcome(toast="That button is from an earlier step; use the latest menu.")
    try:
        if action == "p":
            flow.page = max(0, int(arg))
        elif action == "c":
            codes = {code for code, _ in flow.options.colorways}
            if arg != "*" and arg not in codes:
                return FlowOutcome(toast=STALE_MENU)
            flow.style_code = None if arg == "*" else arg
            flow.step = Step.SIZES
        elif action == "z":
            size = float(arg)
            flow.sizes.symmetric_difference_update({size})
        elif action == "za":
            flow.sizes.clear()
            flow.step = Step.SHOP
        elif action == "zd":
            flow.step = Step.SHOP
        elif action == "s":
            flow.shop = None if arg == "*" else flow.options.shops[int(arg)]
            flow.step = Step.PRICE
        elif action == "m":
            flow.max_price, flow.max_currency = (None, None) if arg == "-" else parse_max(arg)
            flow.step = Step.KINDS
        elif action == "k":
            flow.kinds.symmetric_difference_update({list(EventKind)[int(arg)]})
        elif action == "kd":
            if not flow.kinds:
                return FlowOutcome(toast="Choose at least one kind of alert")
            flow.step = Step.CONFIRM
        elif action == "y":
            return FlowOutcome(confirm=True, finished=True)
    except (ValueError, IndexError, BadInput):  # data we did not make: treat as an old menu
        return FlowOutcome(toast=STALE_MENU)
    return FlowOutcome(flow_screen(flow))


def flow_text(flow: Flow, text: str) -> FlowOutcome | None:
    """Typed sizes (size step) or a typed max price (price step); None at other steps."""
    try:
        if flow.step == Step.SIZES:
            flow.sizes.update(parse_sizes(tokenize(text)))
            if len(flow.sizes) > MAX_SIZES:
                flow.sizes = set(sorted(flow.sizes)[:MAX_SIZES])
            return FlowOutcome(flow_screen(flow))
        if flow.step == Step.PRICE:
            flow.max_price, flow.max_currency = parse_max(text)
            flow.step = Step.KINDS
            return FlowOutcome(flow_screen(flow))
    except BadInput as exc:
        return FlowOutcome(error=_sentence(str(exc)))
    return None


def finish_flow(store: Store, chat_id: int, flow: Flow, *, limit: int) -> Reply:
    """The confirm button: subscribe as chosen."""
    return subscribe(store, chat_id, flow.request(), limit=limit)


def deep_link(payload: str, tracked: Collection[str]) -> tuple[str, tuple[float, ...]] | None:
    """A /start payload such as "M2002RDA" or "M2002RDA_10" (t.me/<bot>?start=M2002RDA_10)."""
    words = payload.replace("-", "_").split("_")
    code = style_code_of(words[0], tracked) if words and words[0] else None
    if code is None:
        return None
    try:
        sizes = parse_sizes(words[1:2])
    except BadInput:
        sizes = ()
    return code, sizes


# -- charts -------------------------------------------------------------------------------------


def chart(store: Store, style_code: str, size_us: float | None) -> Photo | Reply:
    """A price history chart as a photo, or a reply saying why there is none."""
    from pricewatch.charts import chart_caption, render_price_chart

    try:
        code = require_style(store, style_code)
        data = render_price_chart(store, code, size_us)
        caption = chart_caption(store, code, size_us)
    except UnknownStyleError:
        suggestions = _suggest(style_code, tracked_styles(store))
        return Reply(esc(unknown_style_text(style_code, suggestions)))
    except NoHistoryError:
        size = f" in US {format_size(size_us)}" if size_us is not None else ""
        return Reply(f"No price history for {esc(style_code)}{size} yet.")
    return Photo(data, caption)


def history_command(store: Store, text: str) -> Photo | Reply:
    """/history STYLE [size]."""
    try:
        code, size_us = parse_style_and_size(store, text)
    except BadInput as exc:
        return error_reply(exc)
    return chart(store, code, size_us)
