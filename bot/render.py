"""How the bot's replies look: reply values, escaping, splitting and the words for things.

Every piece of user or shop text that goes into an HTML reply passes through `esc` (or `quote`,
which also bounds it); a reply never exceeds Telegram's 4,096 characters: `split_replies` cuts
long ones on line boundaries. Pure: no I/O.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from pricewatch.changes import EventKind
from pricewatch.history import (
    Offer,
)
from pricewatch.models import Stock
from pricewatch.prices import format_price
from pricewatch.sizes import format_size
from pricewatch.styles import KNOWN_COLORWAYS
from pricewatch.subscriptions import (
    Subscription,
)

MAX_MESSAGE_LENGTH = 4096  # Telegram's limit for one text message
QUOTE_LIMIT = 50  # the most of a person's own text we ever send back


# -- replies ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    """An inline keyboard button: ``data`` is its callback_data (<= 64 bytes), or a ``url``."""

    text: str
    data: str | None = None
    url: str | None = None


Keyboard = tuple[tuple[Button, ...], ...]


def inline_markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    """Our keyboard as Telegram's; None for no buttons."""
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.text, url=b.url)
                if b.url
                else InlineKeyboardButton(b.text, callback_data=b.data)
                for b in row
            ]
            for row in keyboard
        ]
    )


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
    return Reply(esc(sentence(str(exc))))


def sentence(text: str) -> str:
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
    name = KNOWN_COLORWAYS.get(style_code) or names.get(style_code)
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


def offer_size_text(offer: Offer) -> str:
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


def html_link(url: str, text: str = "open") -> str:
    if not url.startswith(("https://", "http://")):
        return ""
    return f'<a href="{html.escape(url, quote=True)}">{esc(text)}</a>'
