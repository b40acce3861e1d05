"""What the bot answers to each command, without Telegram: plain typed functions over a `Store`.

Every answer is built as `Reply` values (HTML text plus keyboard data), so it is tested with a
real SQLite file and no Bot API; `bot.handlers` only moves them to and from Telegram.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from bot.callbacks import Action, decode, encode
from bot.parsing import (
    EXAMPLE,
    BadInput,
    load_catalog,
    parse_style_and_size,
    suggest_styles,
    unknown_style_text,
)
from bot.render import (
    Button,
    Keyboard,
    Photo,
    Reply,
    colorway_label,
    error_reply,
    esc,
    html_link,
    offer_size_text,
    quote,
    split_replies,
    stock_label,
)
from pricewatch.catalog import FAMILIES
from pricewatch.config import Config
from pricewatch.history import (
    ColorwaySummary,
    NoHistoryError,
    Offer,
    UnknownStyleError,
    colorways,
    current_offers,
    parse_timestamp,
    require_style,
    tracked_styles,
)
from pricewatch.lookup import family_of
from pricewatch.models import Stock
from pricewatch.prices import format_price
from pricewatch.sizes import format_size
from pricewatch.status import watch_status
from pricewatch.store import Store
from pricewatch.styles import KNOWN_COLORWAYS
from pricewatch.subscriptions import (
    MUTE_HOURS,
    mute_colorway,
)

# (command, menu description, help line). The menu (setMyCommands) and /help come from here.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("start", "Welcome and how to subscribe", "/start – what I do"),
    ("help", "All commands with examples", "/help – this list"),
    (
        "subscribe",
        "Get alerts (guided, or /subscribe M2002RDA 10 max=150)",
        "/subscribe – a guided menu; or one line: <code>/subscribe M2002RDA 10 max=150</code>, "
        "<code>/subscribe any 10.5</code>, <code>/subscribe rain cloud 10</code>, sizes "
        "<code>uk9.5</code> <code>eu44</code> "
        '<code>10,10.5</code>, <code>shop="Shoe Palace"</code>, '
        "<code>kinds=restock,price_drop</code>, <code>max=€130</code> (euro offers only)",
    ),
    ("subscriptions", "Your subscriptions", "/subscriptions – what this chat is subscribed to"),
    (
        "unsubscribe",
        "Remove a subscription",
        "/unsubscribe – a button per subscription; or <code>/unsubscribe 3</code> (in groups: "
        "admins, with a confirm button)",
    ),
    (
        "price",
        "Prices now: /price M2002RDA 10",
        "/price STYLE [size] – price and stock in every shop, e.g. <code>/price M2002RDA 10</code> "
        "or <code>/price rain cloud</code>",
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
        "/stop – forget this chat and its subscriptions (asks first; in groups: admins)",
    ),
    ("status", "Crawl status (admins only)", "/status – crawls and outbox (admins only)"),
)


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


# -- prices -------------------------------------------------------------------------------------


def _offer_line(number: int, offer: Offer) -> str:
    price = f"<b>{esc(format_price(offer.price, offer.currency))}</b>"
    if offer.compare_at is not None and offer.compare_at > offer.price:
        price += f" (was {esc(format_price(offer.compare_at, offer.currency))})"
    parts = [
        f"{number}. {price}",
        esc(offer.shop),
        stock_label(offer.stock),
        esc(offer_size_text(offer)),
    ]
    link = html_link(offer.url)
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
    link = html_link(best.url)
    return " · ".join([*parts, link] if link else parts)


STALE_BUTTON = "That button no longer works; send the command again"


def chart_data(style_code: str, size_us: float | None) -> str:
    return encode(Action.CHART, style_code, format_size(size_us) if size_us is not None else "-")


def parse_chart_data(data: str) -> tuple[str, float | None] | None:
    decoded = decode(data)
    if decoded is None or decoded[0] != Action.CHART or len(decoded[1]) != 2:
        return None
    code, size = decoded[1]
    if not re.fullmatch(r"[A-Z0-9]{4,12}", code) or not re.fullmatch(
        r"-|\d{1,2}(?:\.\d{1,2})?", size
    ):
        return None
    return code, None if size == "-" else float(size)


def mute_data(style_code: str) -> str:
    return encode(Action.MUTE, style_code)


def mute_pressed(store: Store, chat_id: int, data: str) -> str:
    """The mute button under an alert: no alerts about that colorway here for 24 h (toast)."""
    decoded = decode(data)
    if decoded is None or decoded[0] != Action.MUTE or len(decoded[1]) != 1:
        return STALE_BUTTON
    code = decoded[1][0]
    if not re.fullmatch(r"[A-Z0-9]{4,12}", code):
        return STALE_BUTTON
    mute_colorway(store, chat_id, code, MUTE_HOURS)
    return f"Muted {code} here for {MUTE_HOURS} h"


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


def _colorway_line(summary: ColorwaySummary) -> str:
    name = KNOWN_COLORWAYS.get(summary.style_code) or summary.name
    line = f"<b>{esc(summary.style_code)}</b>" + (f" {esc(name)}" if name else "")
    if summary.cheapest:
        prices = " / ".join(
            f"{esc(format_price(o.price, o.currency))} at {esc(o.shop)}" for o in summary.cheapest
        )
        line += f" — from <b>{prices}</b> · {summary.sizes_in_stock} in stock"
    else:
        line += " — nothing in stock right now"
    shops = len(summary.shops)
    return line + f" · {shops} shop{'s' if shops != 1 else ''}"


def colorways_replies(store: Store) -> list[Reply]:
    """/colorways: every tracked style code by family, its name in full and the cheapest
    in-stock price now."""
    summaries = colorways(store)
    if not summaries:
        return [Reply("I don't track any colorway yet: no shop has been crawled.")]
    lines = [f"<b>Tracked 2002R colorways</b> ({len(summaries)}):"]
    by_family: dict[str, list[ColorwaySummary]] = {family: [] for family in FAMILIES}
    for summary in summaries:
        by_family.setdefault(family_of(summary.style_code), []).append(summary)
    for family, members in by_family.items():
        if members:
            lines.append(f"\n<b>{esc(family)}</b>")
            lines += [_colorway_line(summary) for summary in members]
    lines.append("")
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


# -- charts -------------------------------------------------------------------------------------


def chart(store: Store, style_code: str, size_us: float | None) -> Photo | Reply:
    """A price history chart as a photo, or a reply saying why there is none."""
    from pricewatch.charts import chart_caption, render_price_chart

    try:
        code = require_style(store, style_code)
        data = render_price_chart(store, code, size_us)
        caption = chart_caption(store, code, size_us)
    except UnknownStyleError:
        suggestions = suggest_styles(style_code, tracked_styles(store))
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
