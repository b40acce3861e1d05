"""The acceptance tests of issue 4, end to end.

1. A replica shop, the real crawl (Scrapy in a child process), subscriptions, the outbox and the
   real python-telegram-bot client talking to the local Bot API server: a price drop in one
   size reaches exactly the chat subscribed to that size, once.
2. A delivery process killed (SIGKILL) between two sends loses nothing and sends nothing twice
   when delivery starts again.
"""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

from bot.delivery import deliver_once
from bot.ratelimit import RateLimiter
from pricewatch.config import Config
from pricewatch.crawl import run_crawl
from pricewatch.outbox import outbox_length
from pricewatch.replica import ReplicaShop
from pricewatch.store import Store
from pricewatch.subscriptions import add_subscription, upsert_chat
from tests.bot.botapi import BotApiServer
from tests.bot.delivery_support import (
    outbox,
    queue_price_drops,
    sent_per_chat,
    with_bot,
)

REPO = Path(__file__).resolve().parents[2]


def crawl_ok(config: Config) -> None:
    [report] = run_crawl(config, config.shops)
    assert report.ok, report.error


def deliver(server: BotApiServer, db: Path) -> int:
    with Store(db) as store:
        report = with_bot(server, lambda bot: deliver_once(bot, store, RateLimiter()))
    assert report.failed == report.retried == 0
    return report.sent_messages


def test_a_price_drop_reaches_the_subscriber_of_that_size_once(
    config: Config, replica: ReplicaShop, server: BotApiServer
) -> None:
    with Store(config.db_path) as store:
        upsert_chat(store, 1001)
        upsert_chat(store, 1002)
        add_subscription(store, 1001, style_code="M2002RDA", sizes=[10.0], max_price=Decimal("150"))
        add_subscription(store, 1002, style_code="M2002RDA", sizes=[11.0])
    crawl_ok(config)  # the baseline: nothing to tell
    assert deliver(server, config.db_path) == 0

    replica.set_price("M2002RDA", "139.99", size="10")
    crawl_ok(config)
    assert deliver(server, config.db_path) == 1

    [call] = server.sent_messages()  # a photo of the shoe, the news as its caption
    product = replica.product("M2002RDA")
    assert call.method == "sendPhoto" and call.params["photo"] == product["images"][0]["src"]
    assert call.chat_id == 1001 and call.params["parse_mode"] == "HTML"
    [variant] = [v for v in product["variants"] if v["option1"] == "10"]
    with Store(config.db_path) as store:
        [(name,)] = store.db.execute(
            "SELECT name FROM colorways WHERE style_code = 'M2002RDA'"
        ).fetchall()
    link = f"{replica.url}/products/{product['handle']}?variant={variant['id']}"
    assert name and "2002R" not in name  # the colorway's own name, e.g. "Rain Cloud"
    assert call.params["caption"] == (
        f"<b>Price drop</b> · <b>{name}</b> (M2002RDA) · Replica\n"
        "US 10: $144.99 → $139.99, -$5.00 (-3%)"
    )
    # one tap to buy: Shopify's cart permalink with this size, then the size's page and chart
    assert call.params["reply_markup"]["inline_keyboard"] == [
        [{"text": "Add US 10 to cart", "url": f"{replica.url}/cart/{variant['id']}:1"}],
        [
            {"text": "View at Replica", "url": link},
            {"text": "📈 Chart", "callback_data": "chart:M2002RDA:10"},
        ],
        [{"text": "🔕 Mute M2002RDA for 24 h", "callback_data": "mute:M2002RDA"}],
    ]
    assert server.sent_messages(1002) == []

    crawl_ok(config)  # nothing changed: nothing more is sent
    assert deliver(server, config.db_path) == 0
    assert len(server.sent_messages()) == 1
    with Store(config.db_path) as store:
        assert outbox(store) == [(1001, "sent", 1)]


def test_a_delivery_process_killed_between_two_sends_loses_and_repeats_nothing(
    tmp_path: Path, server: BotApiServer
) -> None:
    db = tmp_path / "crash.db"
    chats = list(range(3001, 3006))
    with Store(db) as store:
        queue_price_drops(store, chats, alerts_per_chat=2)

    # The production delivery loop in a child process, at one message a second overall, so
    # after its second message it is waiting for the third: there it is killed.
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.bot.delivery_support",
            "--db",
            str(db),
            "--base-url",
            server.base_url,
            "--per-second",
            "1",
        ],
        cwd=REPO,
        env={**os.environ, "TELEGRAM_BOT_TOKEN": server.token},
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read_log() -> None:
        for line in child.stderr or ():
            lines.put(line)

    reader = threading.Thread(target=read_log)
    reader.start()
    try:
        marked = 0
        while marked < 2:  # the child logs each message once its row is marked sent
            line = lines.get(timeout=30)
            assert server.token not in line
            marked += "sent and marked" in line
        child.send_signal(signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        reader.join(10)

    assert len(server.sent_messages()) == 2, "the child was not killed between two sends"
    with Store(db) as store:
        sent = store.db.execute(
            "SELECT chat_id, message_id FROM outbox WHERE status = 'sent' ORDER BY chat_id"
        ).fetchall()
        assert {chat for chat, _ in sent} == {c.chat_id for c in server.sent_messages()}
        assert outbox_length(store) == 2 * (len(chats) - 2)  # the rest still waits

    # Delivery starts again: the rest is sent, nothing twice.
    assert deliver(server, db) == len(chats) - 2
    assert deliver(server, db) == 0
    assert sent_per_chat(server) == dict.fromkeys(chats, 1)
    with Store(db) as store:
        assert {status for _, status, _ in outbox(store)} == {"sent"}
        by_chat = dict(
            store.db.execute("SELECT DISTINCT chat_id, message_id FROM outbox").fetchall()
        )
        assert by_chat == {c.chat_id: c.result["message_id"] for c in server.sent_messages()}
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
