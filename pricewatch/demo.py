"""`pricewatch demo`: the real pipeline, offline, in under a minute.

Two replica Shopify shops on 127.0.0.1 (the same JSON format as real shops), the demo config
with their URLs, the real spider, pipeline and database: a first crawl, a subscriber, a price
drop and a sell-out, a restock, and the alerts as the subscriber would read them in Telegram
(rendered by the bot's own message code).
"""

from __future__ import annotations

import dataclasses
import html
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.panel import Panel

from bot.messages import render_digest
from pricewatch.catalog import load_catalog
from pricewatch.changes import EventKind
from pricewatch.config import packaged_config, parse_config
from pricewatch.crawl import run_crawl
from pricewatch.deals import deal_context
from pricewatch.history import colorways, crawl_changes, price_history
from pricewatch.models import utc_now
from pricewatch.outbox import due_alerts
from pricewatch.output import (
    colorways_table,
    crawl_summary,
    crawl_table,
    describe_change,
    history_table,
)
from pricewatch.prices import format_price, to_minor
from pricewatch.replica import ReplicaShop
from pricewatch.sizes import format_size
from pricewatch.store import Store
from pricewatch.subscriptions import add_subscription, upsert_chat

DEMO_CHAT = 1  # the demo's one subscriber


def run_demo(db_path: Path, *, style: str, size_us: float, console: Console) -> None:
    for suffix in ("", "-wal", "-shm"):  # a fresh database each run: the demo tells one story
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    config = parse_config(packaged_config("demo"), source="<packaged demo config>")
    kicks, corner = demo_shops()
    try:
        urls = {"Replica Kicks": kicks.url, "Replica NB Corner": corner.url}
        config = config.replace(
            db_path=db_path,
            shops=tuple(dataclasses.replace(s, url=urls[s.name]) for s in config.shops),
        )
        size_text = f"US {format_size(size_us)}"

        console.rule("1. First crawl of two replica shops")
        console.print(f"Shops: {kicks.url} and {corner.url} (Shopify /products.json format)")
        first = run_crawl(config, config.select_shops())
        console.print(crawl_table(first))
        console.print(crawl_summary(first))
        with Store(db_path) as store:
            weeks = backdate_history(store, style)
        console.print(
            f"[dim]Demo data: {style}'s history is backdated {weeks} weeks with made-up prices, "
            "so `history` and `chart` look like weeks of real use.[/]"
        )
        with Store(db_path) as store:
            tracked = colorways(store)
            rows = price_history(store, style, size_us=size_us)
        console.print(colorways_table(tracked))
        console.print(history_table(rows, f"Price history: {style} {size_text}"))

        console.rule("2. The shop changes: a price drop, a sell-out")
        current = [r for r in rows if r.shop == "Replica Kicks"]
        new_price = (current[-1].price if current else Decimal(150)) - 15
        kicks.set_price(style, f"{new_price:.2f}", size=_label(kicks, style, size_us))
        console.print(f"Replica Kicks: {style} {size_text} now {format_price(new_price, 'USD')}")
        sold_out = next(  # an adult 2002R (a kids' one lists a dozen sizes)
            (
                c.style_code
                for c in tracked
                if c.style_code != style and c.sizes_in_stock and c.family == "2002R"
            ),
            None,
        )
        if sold_out:
            kicks.set_available(sold_out, False)
            console.print(f"Replica Kicks: every size of {sold_out} sold out")
        with Store(db_path) as store:  # someone who waits for this colorway in this size
            upsert_chat(store, DEMO_CHAT)
            add_subscription(store, DEMO_CHAT, style_code=style, sizes=[size_us])
            if sold_out:
                add_subscription(
                    store,
                    DEMO_CHAT,
                    style_code=sold_out,
                    sizes=[size_us],
                    kinds=[EventKind.RESTOCK],
                )
        console.print(
            f"A subscriber waits for {style} in {size_text} (drops, restocks), and for "
            f"{sold_out or 'nothing else'} to restock in {size_text}"
        )

        console.rule("3. Second crawl: only what changed is written")
        second = run_crawl(config, config.select_shops())
        console.print(crawl_table(second))
        with Store(db_path) as store:
            for change in crawl_changes(store, [r.crawl_id for r in second]):
                console.print(f"  {describe_change(change)}")
            console.print(
                history_table(
                    price_history(store, style, size_us=size_us),
                    f"Price history: {style} {size_text}",
                )
            )
        if sold_out:
            console.rule("4. The sold-out colorway is back: a third crawl")
            kicks.set_available(sold_out, True)
            third = run_crawl(config, config.select_shops())
            console.print(crawl_table(third))
        console.rule("5. What the subscriber reads in Telegram")
        with Store(db_path) as store:
            alerts = due_alerts(store, now=utc_now(config.alerts.flap_window)).get(DEMO_CHAT, [])
            deals = deal_context(store, alerts, load_catalog().retail_prices())
        for part in render_digest(alerts, deals):
            console.print(Panel(telegram_text(part.text), title="pricewatch bot", width=80))
        if not alerts:
            console.print("(no alert: nothing this subscriber waits for changed)")
    finally:
        kicks.stop()
        corner.stop()
    console.rule("Try it yourself")
    console.print(f"pricewatch colorways --db {db_path}")
    console.print(
        f"pricewatch history {style} --size {format_size(size_us)} --db {db_path} --format csv"
    )


def demo_shops(ports: tuple[int, int] = (0, 0)) -> tuple[ReplicaShop, ReplicaShop]:
    """The demo's two replica shops, started on 127.0.0.1 (port 0: any free port). The second
    sells a little cheaper, so "cheapest now" has something to say."""
    kicks = ReplicaShop(port=ports[0], name="Replica Kicks").start()
    try:
        corner = ReplicaShop(port=ports[1], name="Replica NB Corner").start()
    except BaseException:
        kicks.stop()
        raise
    for product in corner.products():
        code = product.get("_style_code")
        if code and product["variants"]:
            corner.set_price(code, _cheaper(product["variants"][0]["price"]))
    return kicks, corner


def serve_demo_shops(ports: tuple[int, int], ready: Callable[[str, str], None]) -> None:
    """`pricewatch replica`: the demo's shops on these ports until interrupted, for trying
    `pricewatch crawl --config demo.toml` (written by `pricewatch init --demo`)."""
    kicks, corner = demo_shops(ports)
    try:
        ready(kicks.url, corner.url)
        threading.Event().wait()  # until Ctrl-C or SIGTERM
    finally:
        kicks.stop()
        corner.stop()


# Made-up weekly prices before today, oldest first (a launch price, a sale, a restock...).
DEMO_WEEKS = ("159.99", "159.99", "149.99", "159.99", "139.99", "139.99", "149.99", "154.99")


def backdate_history(store: Store, style: str) -> int:
    """Demo data only: each variant of `style` gets a made-up price history of the weeks
    before its first crawl (a history row per week), so the demo's history and chart look
    like real use. Returns the number of weeks."""
    now = datetime.now(UTC)
    with store.write():
        variants = store.db.execute(
            "SELECT v.id, v.currency, v.stock, h.crawl_id, h.first_seen, "
            "v.shop_id - (SELECT min(id) FROM shops) FROM variants v "
            "JOIN history h ON h.id = v.history_id WHERE v.style_code = ?",
            [style],
        ).fetchall()
        for variant_id, currency, stock, crawl_id, first_seen, nth_shop in variants:
            for week, weekly in enumerate(DEMO_WEEKS):
                price = Decimal(weekly) - 5 * nth_shop  # the second shop a little cheaper
                start = now - timedelta(weeks=len(DEMO_WEEKS) - week)
                end = now - timedelta(weeks=len(DEMO_WEEKS) - week - 1, seconds=1)
                store.db.execute(
                    "INSERT INTO history (variant_id, crawl_id, price_minor, compare_at_minor, "
                    "currency, stock, first_seen, last_seen) VALUES (?, ?, ?, NULL, ?, ?, ?, ?)",
                    [
                        variant_id,
                        crawl_id,
                        to_minor(price, currency),
                        currency,
                        stock,
                        _stamp(start),
                        _stamp(min(end, now)) if week < len(DEMO_WEEKS) - 1 else first_seen,
                    ],
                )
    return len(DEMO_WEEKS)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def telegram_text(message_html: str) -> str:
    """An alert's HTML as Telegram shows it: bold and links as plain text."""
    return html.unescape(re.sub(r"<[^>]+>", "", message_html))


def _cheaper(price: str) -> str:
    return str(Decimal(price) - 5)


def _label(shop: ReplicaShop, style: str, size_us: float) -> str | None:
    """The replica's own label for a US size of a style ("10"), if it sells that size."""
    wanted = format_size(size_us)
    for product in shop.products():
        if product.get("_style_code") == style:
            for variant in product["variants"]:
                if str(variant.get("option1", "")).split(" ")[0] == wanted:
                    return str(variant["option1"])
    return None
