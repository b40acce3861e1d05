"""Helpers for the delivery tests: alerts queued through the real crawl write path, a bot
pointed at the local Bot API server, and a delivery process to kill.

Run as a module, this is that process: the production `bot.delivery.delivery_loop` against a
Bot API server, until SIGTERM (or SIGKILL, which is the point)::

    TELEGRAM_BOT_TOKEN=... python -m tests.bot.delivery_support --db PATH --base-url URL
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from telegram import Bot

from bot.delivery import delivery_loop, delivery_request
from bot.ratelimit import RateLimiter
from pricewatch.models import CrawlStatus, Listing, Stock
from pricewatch.store import Store
from pricewatch.subscriptions import add_subscription, upsert_chat
from tests.bot.botapi import BotApiServer
from tests.support import finish, make_listing

T = TypeVar("T")

FAR_FUTURE = "9999-01-01T00:00:00.000000Z"


class FakeClock:
    """A monotonic clock the test moves; its ``sleep`` moves it instead of waiting."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # still a real await: other tasks run


def listing(code: str, size: str, price: str, stock: Stock = Stock.IN_STOCK) -> Listing:
    return make_listing(code, size, price, stock, colorway_name=f"Colorway {code}")


def crawl(store: Store, listings: list[Listing]) -> None:
    crawl_id = store.start_crawl("Kith", "shopify", "https://kith.example", "USD")
    finish(store, crawl_id, CrawlStatus.OK, listings, flap_window=0)


def catalog(alerts: int, price: str) -> list[Listing]:
    """``alerts`` variants: colorways M2002R00, M2002R01 ... in sizes 4 to 15.5, each size a
    cent dearer than the one before (so each size's alert is a line of its own). A digest of
    190 is three messages: eight products, not yet a sale that is summarised."""
    sizes = [f"{4 + half / 2:g}" for half in range(24)]
    return [
        listing(
            f"M2002R{i // len(sizes):02d}",
            sizes[i % len(sizes)],
            str(Decimal(price) + Decimal(i % len(sizes)) / 100),
        )
        for i in range(alerts)
    ]


def queue_price_drops(
    store: Store, chats: Iterable[int | tuple[int, str]], alerts_per_chat: int = 1
) -> None:
    """Every chat subscribes to any 2002R; a baseline crawl, then a crawl where every price
    drops: each chat gets ``alerts_per_chat`` price-drop alerts in the outbox."""
    for chat in chats:
        chat_id, chat_type = chat if isinstance(chat, tuple) else (chat, "private")
        upsert_chat(store, chat_id, chat_type)
        add_subscription(store, chat_id, style_code=None)
    crawl(store, catalog(alerts_per_chat, "150.00"))
    crawl(store, catalog(alerts_per_chat, "139.99"))


def outbox(store: Store) -> list[tuple[int, str, int]]:
    """(chat, status, attempts) of every outbox row."""
    return [
        (int(chat), str(status), int(attempts))
        for chat, status, attempts in store.db.execute(
            "SELECT chat_id, status, attempts FROM outbox ORDER BY chat_id, id"
        )
    ]


def make_bot(server: BotApiServer) -> Bot:
    """A bot as delivery needs it: a connection for every message in flight."""
    return Bot(
        server.token,
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        request=delivery_request(),
    )


def with_bot(server: BotApiServer, scenario: Callable[[Bot], Awaitable[T]]) -> T:
    """Run ``scenario(bot)`` with an initialised bot on a fresh event loop."""

    async def main() -> T:
        async with make_bot(server) as bot:
            return await scenario(bot)

    return asyncio.run(main())


def sent_per_chat(server: BotApiServer) -> dict[int, int]:
    """Messages the server accepted, per chat."""
    counts: dict[int, int] = {}
    for call in server.sent_messages():
        assert isinstance(call.chat_id, int)
        counts[call.chat_id] = counts.get(call.chat_id, 0) + 1
    return counts


async def _run(db: Path, base_url: str, per_second: int) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    limiter = RateLimiter(global_per_second=per_second)
    token = os.environ["TELEGRAM_BOT_TOKEN"]
    async with Bot(token, base_url=base_url, request=delivery_request()) as bot:
        await delivery_loop(bot, db, stop=stop, interval=0.1, limiter=limiter)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--per-second", type=int, default=30, help="overall messages per second")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # httpx logs URLs, with the token
    logging.getLogger("bot.delivery").setLevel(logging.DEBUG)  # a line per message sent
    asyncio.run(_run(args.db, args.base_url, args.per_second))


if __name__ == "__main__":
    main()
