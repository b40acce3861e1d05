"""`pricewatch demo`: the real pipeline, offline, in under a minute.

Two replica Shopify shops on 127.0.0.1 (the same JSON format as real shops), the demo config
with their URLs, the real spider, pipeline and database, two crawls with a price drop and a
sell-out in between.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from rich.console import Console

from pricewatch.config import packaged_config, parse_config
from pricewatch.crawl import run_crawl
from pricewatch.history import colorways, crawl_changes, price_history
from pricewatch.output import (
    colorways_table,
    crawl_summary,
    crawl_table,
    describe_change,
    history_table,
)
from pricewatch.prices import format_price
from pricewatch.replica import ReplicaShop
from pricewatch.sizes import format_size
from pricewatch.store import Store


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
            tracked = colorways(store)
            rows = price_history(store, style, size_us=size_us)
        console.print(colorways_table(tracked))
        console.print(history_table(rows, f"Price history: {style} {size_text}"))

        console.rule("2. The shop changes: a price drop, a sell-out")
        current = [r for r in rows if r.shop == "Replica Kicks"]
        new_price = (current[-1].price if current else Decimal(150)) - 15
        kicks.set_price(style, f"{new_price:.2f}", size=_label(kicks, style, size_us))
        console.print(f"Replica Kicks: {style} {size_text} now {format_price(new_price, 'USD')}")
        sold_out = next(
            (c.style_code for c in tracked if c.style_code != style and c.sizes_in_stock), None
        )
        if sold_out:
            kicks.set_available(sold_out, False)
            console.print(f"Replica Kicks: every size of {sold_out} sold out")

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
