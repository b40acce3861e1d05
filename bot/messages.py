"""Alert messages: the outbox rows of one chat as Telegram messages. Pure: no I/O.

What a buyer needs to act in one tap, for each product and kind of news, one entry:

    <b>Price drop</b> · <b>Protection Pack Rain Cloud</b> (M2002RDA) · Kith
    US 9, 10: $150.00 → $127.50, -$22.50 (-15%), lowest in 90 days
    US 10.5 2E: $160.00 → $136.00, -$24.00 (-15%)
    Retail $150.00 · cheapest elsewhere in US 10: $140.00 at Bodega

Sizes with the same news share a line; a width is shown when it is not the standard one (D for
men's and unisex, B for women's). An alert about one product is a photo of it (the shop's
picture, the entry as its caption of at most 1,024 characters, the rest in a following message)
with buttons: "Add US 10 to cart" (Shopify's cart permalink), the product page and the chart.
Several products make a text digest, explicit subscriptions before "any 2002R" matches, with
cart links in the text and the first product's picture as its link preview. A big sale is
summarised: the best entries first, then how many more and where to look.

Every piece of text from a shop (names, size labels, shop names, URLs) is escaped, so a shop
called ``<b>&"'`` is shown as written. A message longer than Telegram's limit is split between
lines, never inside a tag or an entity, and each part carries the outbox ids of the lines it
shows, so delivery marks exactly the alerts of the message Telegram accepted.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from bot.answers import chart_data, mute_data
from bot.render import Button, Keyboard
from pricewatch.changes import EventKind
from pricewatch.deals import Deal
from pricewatch.models import Stock
from pricewatch.outbox import Alert
from pricewatch.prices import PriceError, format_price
from pricewatch.sizes import SizeError, format_size

#: Telegram's limits for one message's text and for a photo's caption.
MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
#: More entries than this in one digest is a sale: the best are shown, the rest counted.
MAX_ENTRIES = 8
#: Cart buttons under a one-product alert; more sizes get links in the text instead.
MAX_CART_BUTTONS = 6

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

# Which news a buyer can act on now: these get cart links.
_BUYABLE = frozenset(
    {EventKind.RESTOCK, EventKind.PRICE_DROP, EventKind.NEW_COLORWAY, EventKind.NEW_SIZE}
)
# In a sale summary, what comes first after explicit subscriptions.
_KIND_RANK = {
    EventKind.RESTOCK: 0,
    EventKind.PRICE_DROP: 1,
    EventKind.NEW_COLORWAY: 2,
    EventKind.NEW_SIZE: 3,
    EventKind.PRICE_RISE: 4,
    EventKind.SOLD_OUT: 5,
    EventKind.DELISTED: 6,
}

# Shop text is bounded before it is escaped, so one line never comes near a limit on its own.
_MAX_NAME = 120
_MAX_SHOP = 80
_MAX_LABEL = 60
_MAX_URL = 1000
# Room kept for a digest's first line ("<b>300 alerts</b> (part 12 of 15)" and its newlines).
_TITLE_RESERVE = 64


@dataclass(frozen=True)
class MessagePart:
    """One message to send: its HTML text and the outbox rows it tells about. With ``photo``
    (an image URL) it is sent as a photo with ``text`` as its caption; ``buttons`` are inline
    URL or callback buttons; ``preview_url`` is the link preview of a text message."""

    text: str
    outbox_ids: tuple[int, ...]
    photo: str | None = None
    buttons: Keyboard = ()
    preview_url: str | None = None


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units). Measured on the HTML source, which is
    never shorter than the text Telegram shows, so a source within the limit is always safe."""
    return len(text.encode("utf-16-le")) // 2


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())  # shop text may carry newlines and runs of spaces
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _e(text: str, limit: int) -> str:
    return html.escape(_clip(text, limit), quote=True)


def web_url(url: str | None) -> str | None:
    """The URL if it is a web link worth a message (Telegram refuses other schemes)."""
    url = (url or "").strip()
    return url if url.startswith(("https://", "http://")) and len(url) <= _MAX_URL else None


# -- words -------------------------------------------------------------------------------------


def standard_width(style_code: str) -> str:
    """New Balance's standard width: B for women's codes (W..., WL...), D for men's, unisex
    and kids'."""
    return "B" if style_code.upper().startswith("W") else "D"


def size_text(alert: Alert) -> str:
    """ "US 10", "US 10 2E" (a width that is not the standard one), or the shop's own label
    when the size could not be read as a US size. Not escaped."""
    label = _clip(alert.size_label, _MAX_LABEL)
    if alert.size_us is None:
        return label or "size unknown"
    try:
        text = f"US {format_size(alert.size_us)}"
    except SizeError:
        return label or "size unknown"
    width = (alert.width or "").strip().upper()
    if width and width != standard_width(alert.style_code):
        text += f" {_clip(width, 8)}"
    return text


def sizes_text(alerts: Sequence[Alert]) -> str:
    """ "US 8, 9, 10 2E, 10.5": sizes in order, "US" said once. Not escaped."""
    ordered = sorted(alerts, key=_size_order)
    texts: list[str] = []
    for alert in ordered:
        text = size_text(alert)
        if text not in texts:
            texts.append(text)
    said_us = False
    shown = []
    for text in texts:
        if text.startswith("US ") and said_us:
            text = text.removeprefix("US ")
        said_us = said_us or text.startswith("US ")
        shown.append(text)
    return ", ".join(shown)


def _size_order(alert: Alert) -> tuple[bool, float, bool, str]:
    """By US size, the standard width before the others; sizes that are not US last."""
    width = (alert.width or "").upper()
    standard = not width or width == standard_width(alert.style_code)
    return (alert.size_us is None, alert.size_us or 0, not standard, width)


def change_text(old: Decimal, new: Decimal, currency: str) -> str:
    """ "$150.00 → $127.50, -$22.50 (-15%)": the change in money and percent. Not escaped."""
    difference = new - old
    sign = "-" if difference < 0 else "+"
    money = format_price(abs(difference), currency)
    text = f"{format_price(old, currency)} → {format_price(new, currency)}, {sign}{money}"
    if old > 0:
        percent = abs(difference) / old * 100
        places = Decimal(1) if percent >= 1 else Decimal("0.1")
        text += f" ({sign}{percent.quantize(places, rounding=ROUND_HALF_UP)}%)"
    return text


def price_text(alert: Alert) -> str:
    """The price news of one alert: a change with its money and percent, else the one price
    known. A restock compares with the price this chat was last told, if any (its price may
    have moved while it was sold out, without an alert). Not escaped."""
    before = alert.told_price if alert.kind == EventKind.RESTOCK else alert.old_price
    try:
        if before is not None and alert.new_price is not None and before != alert.new_price:
            return change_text(before, alert.new_price, alert.currency)
        price = alert.new_price if alert.new_price is not None else alert.old_price
        return format_price(price, alert.currency) if price is not None else ""
    except PriceError:
        return ""


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


def news_text(alert: Alert, deal: Deal | None = None) -> str:
    """What happened to one size, after its size: "$150.00 → $127.50, -$22.50 (-15%), lowest
    in 90 days"; "" for a sell-out (the kind says it all). Not escaped."""
    if alert.kind == EventKind.DELISTED:
        return "no longer listed"
    if alert.kind == EventKind.SOLD_OUT:
        return ""
    details = [price_text(alert)]
    if alert.kind == EventKind.RESTOCK:
        details.append(gone_text(alert.since, alert.created))
    elif alert.new_stock is not None and alert.new_stock != Stock.IN_STOCK:
        details.append(STOCK_WORDS[alert.new_stock])
    if deal is not None and deal.low:
        details.append(deal.low)
    return ", ".join(d for d in details if d)


def heading(alert: Alert) -> str:
    """ "<b>Price drop</b> · <b>Rain Cloud</b> (M2002RDA) · Kith" (HTML)."""
    label = KIND_LABELS.get(alert.kind, str(alert.kind).replace("_", " ").capitalize())
    code = _e(alert.style_code, 20)
    name = (alert.colorway_name or "").strip()
    colorway = f"<b>{_e(name, _MAX_NAME)}</b> ({code})" if name else f"<b>{code}</b>"
    return f"<b>{label}</b> · {colorway} · {_e(alert.shop, _MAX_SHOP)}"


# -- entries: one product and kind -------------------------------------------------------------


@dataclass
class Entry:
    """One product's news of one kind, as lines; ``rows`` carry the outbox ids they show."""

    alerts: list[Alert] = field(default_factory=list)
    rows: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)
    context: list[str] = field(default_factory=list)  # retail, elsewhere: no ids

    @property
    def first(self) -> Alert:
        return self.alerts[0]

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(a.outbox_id for a in self.alerts)

    def best_discount(self) -> Decimal:
        """The biggest relative drop among its sizes (0 when none)."""
        best = Decimal(0)
        for alert in self.alerts:
            before = alert.told_price if alert.kind == EventKind.RESTOCK else alert.old_price
            if before and alert.new_price is not None and before > alert.new_price:
                best = max(best, (before - alert.new_price) / before)
        return best

    def cart_links(self) -> list[tuple[str, str]]:
        """(size, cart URL) of every size a buyer can add to the cart now."""
        if self.first.kind not in _BUYABLE:
            return []
        links: list[tuple[str, str]] = []
        for alert in sorted(self.alerts, key=_size_order):
            url = web_url(alert.cart_url)
            if url and alert.new_stock == Stock.IN_STOCK and all(u != url for _, u in links):
                links.append((size_text(alert), url))
        return links


def build_entries(alerts: Sequence[Alert], deals: Mapping[int, Deal]) -> list[Entry]:
    """Alerts grouped by product and kind: explicit subscriptions first, then "any 2002R"
    matches, each in the order it was queued."""
    entries: dict[tuple[bool, str, str, str, EventKind], Entry] = {}
    for alert in sorted(alerts, key=lambda a: not a.explicit):  # stable: queue order kept
        key = (alert.explicit, alert.shop, alert.product_url or alert.style_code, alert.style_code)
        entries.setdefault((*key, alert.kind), Entry()).alerts.append(alert)
    for entry in entries.values():
        _fill(entry, deals)
    return list(entries.values())


def _fill(entry: Entry, deals: Mapping[int, Deal]) -> None:
    by_news: dict[str, list[Alert]] = {}
    for alert in entry.alerts:
        by_news.setdefault(news_text(alert, deals.get(alert.outbox_id)), []).append(alert)
    for news, members in by_news.items():
        sizes = html.escape(sizes_text(members))
        text = f"{sizes}: {html.escape(news)}" if news else sizes
        entry.rows.append((text, tuple(a.outbox_id for a in sorted(members, key=_size_order))))
    known = [deals[a.outbox_id] for a in entry.alerts if a.outbox_id in deals]
    context: list[str] = []
    retail = next((d.retail for d in known if d.retail is not None), None)
    if retail is not None:
        context.append(f"Retail {html.escape(format_price(retail, entry.first.currency))}")
    one_size = len({(a.size_us, a.width) for a in entry.alerts}) == 1
    if one_size and known and known[0].elsewhere is not None:
        other = known[0].elsewhere
        context.append(
            f"cheapest elsewhere in {html.escape(size_text(entry.first))}: "
            f"{html.escape(format_price(other.price, other.currency))} at {_e(other.shop, 40)}"
        )
    if context:
        entry.context.append(" · ".join(context))


def _links_row(entry: Entry) -> str:
    """ "🛒 US 9 · US 10 · View": cart and product links in the text (HTML)."""
    links = [
        f'<a href="{html.escape(url, quote=True)}">{html.escape(size)}</a>'
        for size, url in entry.cart_links()
    ]
    page = web_url(entry.first.url)
    if page:
        links.append(f'<a href="{html.escape(page, quote=True)}">View</a>')
    if not links:
        return ""
    carts = len(links) - (1 if page else 0)
    return ("🛒 " if carts else "") + " · ".join(links)


# -- messages ----------------------------------------------------------------------------------


def render_digest(
    alerts: Sequence[Alert],
    deals: Mapping[int, Deal] | None = None,
    *,
    charts: bool = False,
    max_length: int = MAX_MESSAGE_LENGTH,
) -> list[MessagePart]:
    """One chat's alerts as messages: normally one, more only when one would be too long.

    ``deals`` (by outbox id) adds the deal context; ``charts`` a chart button under a
    one-product alert.
    """
    if not alerts:
        return []
    entries = build_entries(alerts, deals or {})
    if len({(e.first.shop, e.first.product_url, e.first.style_code) for e in entries}) == 1:
        return _one_product(entries, charts=charts, max_length=max_length)
    return _digest(entries, len(alerts), max_length=max_length)


def _one_product(entries: list[Entry], *, charts: bool, max_length: int) -> list[MessagePart]:
    """A photo of the product (if the shop gave one), its news as the caption, and buttons."""
    first = entries[0].first
    photo = web_url(first.image)
    blocks = [_block(entry, links=False) for entry in entries]
    parts = _pack(blocks, first_budget=MAX_CAPTION_LENGTH if photo else max_length, rest=max_length)
    buttons = _buttons(entries, charts=charts)
    head, *tail = parts
    message = MessagePart(
        head[0], head[1], photo=photo, buttons=buttons, preview_url=None if photo else first.url
    )
    return [message, *(MessagePart(text, ids) for text, ids in tail)]


def _buttons(entries: list[Entry], *, charts: bool) -> Keyboard:
    carts = [link for entry in entries for link in entry.cart_links()]
    rows: list[tuple[Button, ...]] = []
    if len(carts) <= MAX_CART_BUTTONS:
        cart_buttons = [Button(f"Add {size} to cart", url=url) for size, url in carts]
        rows += [tuple(cart_buttons[i : i + 2]) for i in range(0, len(cart_buttons), 2)]
    first = entries[0].first
    last: list[Button] = []
    one_size = len({(a.size_us, a.width) for e in entries for a in e.alerts}) == 1
    page = web_url(first.url if one_size else first.product_url.split("?")[0])
    if page:
        last.append(Button(f"View at {_clip(first.shop, 24)}", url=page))
    if charts:
        sizes = {a.size_us for e in entries for a in e.alerts}
        size = next(iter(sizes)) if len(sizes) == 1 else None
        last.append(Button("📈 Chart", chart_data(first.style_code, size)))
    if last:
        rows.append(tuple(last))
    rows.append((Button(f"🔕 Mute {first.style_code} for 24 h", mute_data(first.style_code)),))
    return tuple(rows)


def _block(entry: Entry, *, links: bool) -> tuple[str, list[tuple[str, tuple[int, ...]]]]:
    """An entry as (heading, rows): its size lines carry ids; context and links carry none."""
    rows = list(entry.rows) + [(line, ()) for line in entry.context]
    if links or len(entry.cart_links()) > MAX_CART_BUTTONS:
        row = _links_row(entry)
        if row:
            rows.append((row, ()))
    return heading(entry.first), rows


def _digest(entries: list[Entry], count: int, *, max_length: int) -> list[MessagePart]:
    """Several products as a text digest; more than ``MAX_ENTRIES`` entries are a sale: the best
    are shown, the rest counted (and marked sent with the first message, which tells of them)."""
    shown, lead, tail = entries, "", ""
    if len(entries) > MAX_ENTRIES:
        ranked = sorted(
            entries,
            key=lambda e: (not e.first.explicit, _KIND_RANK[e.first.kind], -e.best_discount()),
        )
        shown, rest = ranked[:MAX_ENTRIES], ranked[MAX_ENTRIES:]
        lead, tail = _sale_line(entries), _more_line(rest)
    budget = max_length - _TITLE_RESERVE
    blocks = [_block(entry, links=True) for entry in shown]
    parts = _pack(blocks, first_budget=budget, rest=budget, lead=lead, tail=tail)
    if len(shown) < len(entries):
        hidden = tuple(i for e in entries if e not in shown for i in e.ids)
        text, ids = parts[0]
        parts[0] = (text, ids + hidden)
    preview = next((web_url(e.first.image) or web_url(e.first.url) for e in shown), None)
    result = []
    for number, (text, ids) in enumerate(parts, start=1):
        title = f"<b>{count} alerts</b>"
        if len(parts) > 1:
            title += f" (part {number} of {len(parts)})"
        result.append(
            MessagePart(f"{title}\n\n{text}", ids, preview_url=preview if number == 1 else None)
        )
    return result


def _sale_line(entries: list[Entry]) -> str:
    """ "<b>Sale</b>: 150 sizes of 12 colorways cheaper, up to -20%; 3 back in stock" (HTML)."""
    drops = [a for e in entries if e.first.kind == EventKind.PRICE_DROP for a in e.alerts]
    codes = {e.first.style_code for e in entries}
    parts = []
    if drops:
        best = max(e.best_discount() for e in entries) * 100
        parts.append(
            f"{len(drops)} size{'s' if len(drops) != 1 else ''} cheaper, up to "
            f"-{best.quantize(Decimal(1), rounding=ROUND_HALF_UP)}%"
        )
    others = sum(len(e.alerts) for e in entries) - len(drops)
    if others:
        parts.append(f"{others} other alert{'s' if others != 1 else ''}")
    return f"<b>{len(codes)} colorways</b>: " + "; ".join(parts) + ". The best first:"


def _more_line(rest: list[Entry]) -> str:
    codes = list(dict.fromkeys(e.first.style_code for e in rest))
    count = sum(len(e.alerts) for e in rest)
    shown = " · ".join(f"/price {html.escape(code)}" for code in codes[:3])
    more = " …" if len(codes) > 3 else ""
    return (
        f"…and {count} more in {len(codes)} colorway{'s' if len(codes) != 1 else ''}: {shown}{more}"
    )


def _pack(
    blocks: list[tuple[str, list[tuple[str, tuple[int, ...]]]]],
    *,
    first_budget: int,
    rest: int,
    lead: str = "",
    tail: str = "",
) -> list[tuple[str, tuple[int, ...]]]:
    """Blocks (heading, rows) packed into message texts within the budgets, split only between
    rows; a block continued in the next part gets its heading again. Rows without ids (context,
    links) that do not fit are left out: they add to what the news rows say. ``lead`` opens the
    first part and ``tail`` closes the last."""
    texts: list[list[str]] = [[lead] if lead else []]
    ids: list[list[int]] = [[]]
    budget, used = first_budget, telegram_length(lead)

    def new_part(text: str, cost: int) -> None:
        nonlocal budget, used
        texts.append([text])
        ids.append([])
        budget, used = rest, cost

    for head, rows in blocks:
        started = False
        for text, row_ids in rows:
            cost = telegram_length(text) + 1  # the newline before it
            if not started:
                gap = 2 if texts[-1] else 0  # a blank line between entries
                start = gap + telegram_length(head) + cost
                if used + start <= budget or not texts[-1]:
                    texts[-1].append(("\n\n" if gap else "") + head + "\n" + text)
                    used += start
                elif not row_ids:
                    continue
                else:
                    new_part(head + "\n" + text, telegram_length(head) + cost)
                ids[-1].extend(row_ids)
                started = True
            elif used + cost <= budget:
                texts[-1][-1] += "\n" + text
                ids[-1].extend(row_ids)
                used += cost
            elif row_ids:
                new_part(head + "\n" + text, telegram_length(head) + cost)
                ids[-1].extend(row_ids)
    if tail:
        if used + telegram_length(tail) + 2 <= budget:
            texts[-1].append("\n\n" + tail)
        else:
            new_part(tail, telegram_length(tail))
    return [("".join(t), tuple(i)) for t, i in zip(texts, ids, strict=True) if t]
