"""Alert figures (issue 4's "Done means"), measured side by side in one run.

    python bench/alerts_bench.py [--variants 10000] [--subscriptions 100000] [--messages 600]
                                 [--latency 0.1] [--part 3]

Run from the repository root (it starts the test suite's local Bot API server). Prints:
1. events detected per second on N variants: `pricewatch.changes.diff` alone on before/after
   maps with 1% of the variants changed, and the whole `record_listings` path (state,
   history, events, outbox) for the same crawl;
2. subscriptions matched per second: one event against S subscriptions through
   `SubscriptionIndex` + `wants` (a popular style and a rare one), and the full queue path (a
   0.1%-changed crawl written with S subscriptions in the database: events, `told`, outbox);
3. messages delivered per second by `bot.delivery.deliver_once` to the local Bot API server
   with Telegram's limits enforced by the server (30/s overall, 1/s per user, 20/min per
   group): M messages to distinct chats, as a share of the 30/s ceiling, with the 429s caused
   and the messages lost or duplicated (counted at the server and in the outbox). ``--latency
   S`` makes the server answer each message S seconds after it arrived (Telegram's round trip
   is 50-150 ms; loopback's is nearly 0); the most messages the server was answering at once
   is printed too (at latency 0 it answers each before reading the next: 1).

``--part 3`` runs only part 3 (repeatable; all parts by default).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Bot

from bot.delivery import deliver_once, delivery_request
from bot.ratelimit import RateLimiter
from pricewatch.changes import DEFAULT_KINDS, Event, EventKind, VariantView, diff
from pricewatch.config import AlertsConfig, Config
from pricewatch.models import Listing, Stock, VariantState, utc_now
from pricewatch.outbox import outbox_length
from pricewatch.recording import record_listings
from pricewatch.store import Store
from pricewatch.subscriptions import (
    Subscription,
    SubscriptionIndex,
    active_subscriptions,
    wants,
)
from tests.bot.botapi import BotApiServer

SIZES = ["7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "11.5", "12", "13"]
STYLES = 200  # colorways in the synthetic catalog

NO_FLAP = Config(shops=(), alerts=AlertsConfig(flap_window=0))


def style_of(i: int) -> str:
    return f"M2002R{i % STYLES:03d}"


def listings(n: int, changed_every: int = 0) -> list[Listing]:
    """n variants; with ``changed_every`` k, every k-th one is 5.00 cheaper."""
    out = []
    for i in range(n):
        code = style_of(i // len(SIZES))
        size = SIZES[i % len(SIZES)]
        drop = changed_every and i % changed_every == 0
        out.append(
            Listing(
                shop="Bench",
                product_id=f"p{i // len(SIZES)}",
                variant_id=str(i),
                style_code=code,
                family="2002R",
                title=f"New Balance 2002R {code}",
                url=f"https://bench.example/products/p{i // len(SIZES)}",
                size_label=size,
                size_us=float(size),
                price=Decimal("139.99") if drop else Decimal("144.99"),
                currency="USD",
                stock=Stock.IN_STOCK if i % 3 else Stock.SOLD_OUT,
                colorway_name=f"Colorway {code}",
            )
        )
    return out


def views(items: list[Listing]) -> dict[str, VariantView]:
    return {
        it.variant_id: VariantView(
            it.variant_id,
            it.product_id,
            it.style_code,
            it.size_us,
            it.size_label,
            VariantState(it.price, it.compare_at, it.currency, it.stock),
        )
        for it in items
    }


def timed(action: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median seconds of ``repeat`` runs, and the last result."""
    runs, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), result


def crawl(store: Store, items: list[Listing]) -> float:
    crawl_id = store.start_crawl("Bench", "shopify", "https://bench.example", "USD")
    start = time.perf_counter()
    record_listings(store, crawl_id, items, config=NO_FLAP)
    return time.perf_counter() - start


def make_subscriptions(count: int) -> list[Subscription]:
    """A spread like real use: 90% name one style (half of them one of 7 popular ones), 10%
    "any 2002R" in their size; three in four name a size, a third a max price."""
    subs = []
    for i in range(count):
        style = None if i % 10 == 0 else style_of(i % 7 if i % 2 else i % STYLES)
        sizes = (float(SIZES[i % len(SIZES)]),) if style is None or i % 4 else ()
        subs.append(
            Subscription(
                id=i + 1,
                chat_id=100_000 + i // 20,
                style_code=style,
                sizes=sizes,
                shop=None,
                max_price=Decimal(120 + i % 60) if i % 3 == 0 else None,
                kinds=DEFAULT_KINDS,
                created="2026-01-01T00:00:00Z",
            )
        )
    return subs


def insert_subscriptions(store: Store, subs: list[Subscription]) -> None:
    with store.write():
        store.db.conn.executemany(
            "INSERT OR IGNORE INTO chats (chat_id, type, title, active, created) "
            "VALUES (?, 'private', '', 1, ?)",
            [(chat, utc_now()) for chat in sorted({s.chat_id for s in subs})],
        )
        store.db.conn.executemany(
            "INSERT INTO subscriptions (chat_id, style_code, sizes, shop, max_price, kinds, "
            "created) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    s.chat_id,
                    s.style_code,
                    json.dumps(list(s.sizes)),
                    None,
                    str(s.max_price) if s.max_price is not None else None,
                    json.dumps([str(k) for k in s.kinds]),
                    s.created,
                )
                for s in subs
            ],
        )


def bench_detection(tmp: Path, n: int, repeat: int) -> None:
    print(f"1. change detection on {n:,} variants, 1% changed (median of {repeat} runs)")
    before = views(listings(n))
    after = views(listings(n, changed_every=100))
    seconds, events = timed(lambda: diff(before, after), repeat)
    assert isinstance(events, list)
    print(
        f"   diff() alone:            {n / seconds:>12,.0f} variants/s  "
        f"{len(events) / seconds:>10,.0f} events/s  ({len(events)} events, "
        f"{seconds * 1000:.1f} ms)"
    )
    runs = []
    for run in range(repeat):
        with Store(tmp / f"detect-{run}.db") as store:
            crawl(store, listings(n))
            runs.append(crawl(store, listings(n, changed_every=100)))
            found = store.db.execute("SELECT count(*) FROM events").fetchone()[0]
    seconds = statistics.median(runs)
    print(
        f"   record_listings path: {n / seconds:>12,.0f} variants/s  "
        f"{found / seconds:>10,.0f} events/s  ({found} events, {seconds * 1000:.1f} ms, "
        "state + history + events + outbox in one transaction)"
    )


def bench_matching(tmp: Path, n: int, count: int, repeat: int) -> None:
    print(f"\n2. matching against {count:,} subscriptions")
    subs = make_subscriptions(count)
    seconds, index = timed(lambda: SubscriptionIndex(subs), repeat)
    assert isinstance(index, SubscriptionIndex)
    print(f"   SubscriptionIndex built in {seconds * 1000:.1f} ms")
    old = VariantState(Decimal("144.99"), None, "USD", Stock.IN_STOCK)
    new = VariantState(Decimal("119.99"), None, "USD", Stock.IN_STOCK)
    for style, note in ((style_of(3), "a popular style"), (style_of(152), "a rare style")):
        event = Event(EventKind.PRICE_DROP, "v", style, 10.0, "10", old, new)

        def match(event: Event = event) -> list[int]:
            return [
                s.chat_id
                for s in index.candidates(event.style_code)
                if wants(s, event, "Bench", None)
            ]

        seconds, chats = timed(match, repeat)
        assert isinstance(chats, list)
        candidates = len(index.candidates(style))
        print(
            f"   one event ({note}): {candidates:,} candidates checked in "
            f"{seconds * 1000:.2f} ms = {candidates / seconds:,.0f} subscriptions/s, "
            f"{count / seconds:,.0f} of all {count:,}/s; {len(chats):,} chats match"
        )
    brute_seconds, _ = timed(
        lambda: [s for s in subs if wants(s, event, "Bench", None)], max(1, repeat // 2)
    )
    print(
        f"   without the index (every subscription checked): {count / brute_seconds:,.0f}"
        f" subscriptions/s ({brute_seconds * 1000:.1f} ms per event)"
    )
    with Store(tmp / "queue.db") as store:
        insert_subscriptions(store, subs)
        crawl(store, listings(n))
        seconds = crawl(store, listings(n, changed_every=1000))
        events = store.db.execute("SELECT count(*) FROM events").fetchone()[0]
        queued = outbox_length(store)
        codes = {row[0] for row in store.db.execute("SELECT DISTINCT style_code FROM events")}
        loading, read = timed(lambda: active_subscriptions(store, codes), 1)
        loading_all, _ = timed(lambda: active_subscriptions(store), 1)
    print(
        f"   full queue path (record_listings of {n:,} variants, 0.1% changed, {count:,} "
        f"subscriptions in SQLite): {seconds * 1000:.0f} ms for {events} events -> "
        f"{queued:,} outbox rows = {events / seconds:,.0f} events/s, "
        f"{queued / seconds:,.0f} outbox rows/s"
    )
    assert isinstance(read, list)
    print(
        f"   of which reading the {len(read):,} subscriptions of the events' {len(codes)} "
        f"style codes (what a crawl reads): {loading * 1000:.0f} ms; reading all "
        f"{count:,} would take {loading_all * 1000:.0f} ms"
    )


async def _deliver_all(server: BotApiServer, store: Store) -> tuple[int, float]:
    passes = 0
    async with Bot(server.token, base_url=server.base_url, request=delivery_request()) as bot:
        limiter = RateLimiter()
        start = time.perf_counter()
        while outbox_length(store) and passes < 1000:
            passes += 1
            report = await deliver_once(bot, store, limiter)
            if not report.sent_messages:
                await asyncio.sleep(max(limiter.paused_for(), 0.05))
        return passes, time.perf_counter() - start


def bench_delivery(tmp: Path, messages: int, latency: float) -> None:
    groups = messages // 10
    print(
        f"\n3. delivery of {messages:,} messages to distinct chats ({messages - groups:,} users,"
        f" {groups:,} groups) with the server enforcing Telegram's limits, answering each"
        f" message {latency * 1000:.0f} ms after it arrived"
    )
    with Store(tmp / "deliver.db") as store:
        chats = [(3000 + i, "private") for i in range(messages - groups)]
        chats += [(-1_000_000 - i, "group") for i in range(groups)]
        with store.write():
            for chat_id, kind in chats:
                store.db.execute(
                    "INSERT INTO chats (chat_id, type, title, active, created) "
                    "VALUES (?, ?, '', 1, ?)",
                    [chat_id, kind, utc_now()],
                )
                store.db.execute(
                    "INSERT INTO subscriptions (chat_id, style_code, sizes, shop, max_price, "
                    "kinds, created) VALUES (?, ?, '[10.0]', NULL, NULL, ?, ?)",
                    [chat_id, style_of(0), json.dumps([str(k) for k in DEFAULT_KINDS]), utc_now()],
                )
        base = listings(len(SIZES))
        crawl(store, base)
        drop = Decimal("139.99")
        crawl(store, [it._replace(price=drop) if it.size_label == "10" else it for it in base])
        queued = outbox_length(store)
        with (
            BotApiServer(enforce_limits=True, response_delay=latency) as server,
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            passes, seconds = asyncio.run(_deliver_all(server, store))
            sent = server.sent_messages()
            violations = server.limit_violations
            in_flight = server.max_in_flight
        per_chat: dict[object, int] = {}
        for call in sent:
            per_chat[call.chat_id] = per_chat.get(call.chat_id, 0) + 1
        rows = dict(store.db.execute("SELECT status, count(*) FROM outbox GROUP BY status"))
    lost = sum(1 for chat, _ in chats if chat not in per_chat)
    duplicated = sum(n - 1 for n in per_chat.values() if n > 1)
    rate = len(sent) / seconds
    print(
        f"   {len(sent):,} of {queued:,} queued messages sent in {seconds:.2f} s ({passes} passes):"
        f" {rate:.1f} msgs/s = {rate / 30:.0%} of the 30/s ceiling"
    )
    print(
        f"   429s caused: {violations}; lost: {lost}; duplicated: {duplicated}; "
        f"outbox rows by status: {rows}; the server answered at most {in_flight} at once"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", type=int, default=10_000)
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="part 3: seconds the Bot API server takes to answer each message (default 0)",
    )
    parser.add_argument(
        "--part", type=int, action="append", choices=(1, 2, 3), help="run only this part"
    )
    args = parser.parse_args()
    parts = set(args.part or (1, 2, 3))
    tmp = Path(tempfile.mkdtemp(prefix="pricewatch-alerts-bench-"))
    if 1 in parts:
        bench_detection(tmp, args.variants, args.repeat)
    if 2 in parts:
        bench_matching(tmp, args.variants, args.subscriptions, args.repeat)
    if 3 in parts:
        bench_delivery(tmp, args.messages, args.latency)
    print(f"\n(temporary files in {tmp})")


if __name__ == "__main__":
    main()
