"""Alert messages: outbox rows of one chat as Telegram HTML digests. Pure: no I/O.

Several alerts for one chat become one digest, grouped by colorway (style code) in the order
they were queued. Every piece of text that comes from a shop (colorway names, size labels, shop
names, URLs) is escaped, so a shop called ``<b>&"'`` is shown as written and can never break the
markup. A digest longer than Telegram's 4,096 characters is split between alerts, never inside a
tag or an entity, and each part carries the outbox ids it covers, so delivery marks exactly the
alerts of the message Telegram accepted.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pricewatch.changes import EventKind
from pricewatch.models import Stock
from pricewatch.outbox import Alert
from pricewatch.prices import PriceError, format_price
from pricewatch.sizes import SizeError, format_size

#: Telegram's limit for one message's text.
MAX_MESSAGE_LENGTH = 4096

KIND_LABELS: dict[EventKind, str] = {
    EventKind.PRICE_DROP: "Price drop",
    EventKind.RESTOCK: "Back in stock",
    EventKind.SOLD_OUT: "Sold out",
    EventKind.NEW_COLORWAY: "New colorway",
    EventKind.NEW_SIZE: "New size",
    EventKind.DELISTED: "Delisted",
    EventKind.PRICE_RISE: "Price rise",
}

STOCK_WORDS: dict[Stock, str] = {
    Stock.IN_STOCK: "in stock",
    Stock.SOLD_OUT: "sold out",
    Stock.UNKNOWN: "stock unknown",
}

# Kinds whose label already says the stock: "Back in stock: ..., in stock" says it twice.
_STOCK_IN_LABEL = {EventKind.RESTOCK, EventKind.SOLD_OUT, EventKind.DELISTED}

# Shop text is bounded before it is escaped, so one alert can never come near the limit on its
# own and a digest can always be split between alerts.
_MAX_NAME = 120
_MAX_SHOP = 80
_MAX_LABEL = 60
_MAX_URL = 1000
# Room kept for the digest's first line ("<b>300 alerts</b> (part 12 of 15)" and its newlines).
_TITLE_RESERVE = 64


@dataclass(frozen=True)
class MessagePart:
    """One message to send: its HTML text and the outbox rows it tells about."""

    text: str
    outbox_ids: tuple[int, ...]


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units). Measured on the HTML source, which is
    never shorter than the text Telegram shows, so a source within the limit is always safe."""
    return len(text.encode("utf-16-le")) // 2


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())  # shop text may carry newlines and runs of spaces
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _e(text: str, limit: int) -> str:
    return html.escape(_clip(text, limit), quote=True)


def size_text(alert: Alert) -> str:
    """ "US 10", or "US 10 (UK 9.5)" when the shop labels the size differently. Not escaped."""
    label = _clip(alert.size_label, _MAX_LABEL)
    if alert.size_us is None:
        return label or "size unknown"
    try:
        us = format_size(alert.size_us)
    except SizeError:
        return label or "size unknown"
    if not label or _same_size(label, alert.size_us):
        return f"US {us}"
    return f"US {us} ({label})"


def _same_size(label: str, size_us: float) -> bool:
    """Whether a label just says the US size again: "10", "US 10", "M10", "10.0"."""
    plain = label.casefold().removeprefix("us").strip().removeprefix("m").strip()
    try:
        return float(plain) == size_us
    except ValueError:
        return False


def price_text(alert: Alert) -> str:
    """ "$144.99 → $139.99" for a change of price, else the one price known. A restock compares
    with the price this chat was last told, if any (its price may have moved while it was sold
    out, without an alert). Not escaped."""
    before = alert.told_price if alert.kind == EventKind.RESTOCK else alert.old_price
    try:
        old = format_price(before, alert.currency) if before is not None else ""
        new = format_price(alert.new_price, alert.currency) if alert.new_price is not None else ""
    except PriceError:
        return ""
    if old and new and old != new:
        return f"{old} → {new}"
    return new or old


def gone_text(since: str | None, back: str) -> str:
    """ "back after 4 min": how long a restocked size was seen sold out; "" if unknown."""
    if not since:
        return ""
    try:
        seconds = (_moment(back) - _moment(since)).total_seconds()
    except ValueError:
        return ""
    if seconds < 0:
        return ""
    if seconds < 90:
        return f"back after {max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"back after {round(seconds / 60)} min"
    if seconds < 36 * 3600:
        return f"back after {round(seconds / 3600)} h"
    return f"back after {round(seconds / 86400)} days"


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def colorway_heading(alert: Alert) -> str:
    """ "<b>Rain Cloud</b> (M2002RDA)", or the bold style code when the name is not known."""
    code = _e(alert.style_code, 20)
    if alert.colorway_name and alert.colorway_name.strip():
        return f"<b>{_e(alert.colorway_name, _MAX_NAME)}</b> ({code})"
    return f"<b>{code}</b>"


def alert_line(alert: Alert) -> str:
    """One alert as one line of HTML, e.g.
    ``• <b>Price drop</b>: US 10 at Kith, $144.99 → $139.99, in stock. <a href="...">View</a>``.
    """
    label = KIND_LABELS.get(alert.kind, str(alert.kind).replace("_", " ").capitalize())
    details = [f"{html.escape(size_text(alert))} at {_e(alert.shop, _MAX_SHOP)}"]
    price = price_text(alert)
    if price:
        details.append(html.escape(price))
    stock = alert.new_stock if alert.new_stock is not None else alert.old_stock
    if alert.kind == EventKind.DELISTED:
        details.append("no longer listed")
    elif alert.kind == EventKind.RESTOCK and (gone := gone_text(alert.since, alert.created)):
        details.append(gone)
    elif stock is not None and alert.kind not in _STOCK_IN_LABEL:
        details.append(STOCK_WORDS[stock])
    line = f"• <b>{label}</b>: {', '.join(details)}."
    url = alert.url.strip()
    # Only web links: Telegram refuses other schemes, and a huge URL is not worth a message.
    if url.startswith(("https://", "http://")) and len(url) <= _MAX_URL:
        line += f' <a href="{html.escape(url, quote=True)}">View</a>'
    return line


def _title(count: int, part: int, parts: int) -> str:
    title = f"<b>{count} alerts</b>"
    if parts > 1:
        title += f" (part {part} of {parts})"
    return title


def render_digest(
    alerts: Sequence[Alert], *, max_length: int = MAX_MESSAGE_LENGTH
) -> list[MessagePart]:
    """One chat's alerts as messages: normally one, more only when one would be too long.

    Alerts are grouped by colorway (in the order each colorway first appears); a group that
    does not fit is continued in the next part under its heading again. A digest of more than
    one alert starts with a line that counts them (and numbers the parts when split).
    """
    if not alerts:
        return []
    groups: dict[str, list[Alert]] = {}
    for alert in alerts:
        groups.setdefault(alert.style_code, []).append(alert)

    # Pack (heading, lines) blocks into parts by length; the title is added afterwards, in
    # room kept for it, because it names the number of parts.
    budget = max_length - (_TITLE_RESERVE if len(alerts) > 1 else 0)
    packed: list[list[tuple[str, list[tuple[str, int]]]]] = [[]]
    used = 0
    for members in groups.values():
        heading = colorway_heading(members[0])
        current: list[tuple[str, int]] | None = None
        for alert in members:
            line = alert_line(alert)
            cost = telegram_length(line) + 1  # the newline before it
            if current is not None and used + cost <= budget:
                current.append((line, alert.outbox_id))
                used += cost
                continue
            # Start the group (again) in this part: a blank line, its heading, this line.
            start = telegram_length(heading) + cost + (2 if packed[-1] else 0)
            if packed[-1] and used + start > budget:
                packed.append([])
                used = 0
                start = telegram_length(heading) + cost
            current = [(line, alert.outbox_id)]
            packed[-1].append((heading, current))
            used += start

    count = len(alerts)
    parts: list[MessagePart] = []
    for number, blocks in enumerate(packed, start=1):
        body = "\n\n".join(
            heading + "".join(f"\n{line}" for line, _ in lines) for heading, lines in blocks
        )
        text = f"{_title(count, number, len(packed))}\n\n{body}" if count > 1 else body
        ids = tuple(oid for _, lines in blocks for _, oid in lines)
        parts.append(MessagePart(text, ids))
    return parts
