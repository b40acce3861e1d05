"""Delivery with several messages on their way at once: the bound, one per chat, order, limits,
stop. Moments are made with the server's held answers and waited for on conditions, never on
sleeps; nothing is timed."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest
from telegram import Bot

from bot.app import CONNECTION_POOL_SIZE, build_application
from bot.delivery import MAX_IN_FLIGHT, DeliveryReport, deliver_once
from bot.messages import render_digest
from bot.ratelimit import RateLimiter
from pricewatch.outbox import due_alerts, outbox_length
from pricewatch.store import Store
from tests.bot.botapi import BotApiServer
from tests.bot.delivery_support import (
    FAR_FUTURE,
    FakeClock,
    make_bot,
    outbox,
    queue_price_drops,
    sent_per_chat,
)
from tests.bot.shopdata import bot_config

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)

BotFactory = Callable[[BotApiServer, Path], AbstractAsyncContextManager[Bot]]


def fake_limiter() -> RateLimiter:
    clock = FakeClock()
    return RateLimiter(clock=clock, sleep=clock.sleep)


@asynccontextmanager
async def delivery_bot(server: BotApiServer, tmp_path: Path) -> AsyncIterator[Bot]:
    """A `telegram.Bot` as tests, benches and the delivery child make it."""
    async with make_bot(server) as bot:
        yield bot


@asynccontextmanager
async def application_bot(server: BotApiServer, tmp_path: Path) -> AsyncIterator[Bot]:
    """The bot `pricewatch bot` and `pricewatch run` deliver with: the Application's."""
    config = bot_config(
        tmp_path / "app.db",
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        token=server.token,
    )
    application = build_application(config)
    async with application:
        yield application.bot


def test_the_applications_pool_has_room_for_every_send_in_flight() -> None:
    assert CONNECTION_POOL_SIZE >= MAX_IN_FLIGHT


@pytest.mark.parametrize("bot_factory", [delivery_bot, application_bot], ids=["bot", "app"])
def test_up_to_max_in_flight_messages_are_on_their_way_at_once(
    server: BotApiServer, store: Store, tmp_path: Path, bot_factory: BotFactory
) -> None:
    chats = list(range(2001, 2001 + MAX_IN_FLIGHT + 4))
    queue_price_drops(store, chats)
    server.hold_answers()  # nothing is answered until every slot is taken

    async def scenario() -> DeliveryReport:
        async with bot_factory(server, tmp_path) as bot:
            task = asyncio.create_task(deliver_once(bot, store, fake_limiter(), now=FAR_FUTURE))
            # with one connection, or sends one at a time, this never happens
            await server.wait_for_in_flight_async(MAX_IN_FLIGHT)
            in_flight = server.in_flight
            server.release_answers()
            report = await task
            assert in_flight == MAX_IN_FLIGHT  # and no more: the rest waited for a slot
            return report

    report = asyncio.run(scenario())
    assert report.sent_messages == len(chats)
    assert server.max_in_flight == MAX_IN_FLIGHT
    assert sent_per_chat(server) == dict.fromkeys(chats, 1)
    assert outbox_length(store) == 0


def part_numbers(texts: list[str]) -> list[int]:
    """k of each "(part k of n)" title, in the order given."""
    return [int(match.group(1)) for text in texts if (match := re.search(r"part (\d+) of", text))]


def test_with_round_trips_sends_overlap_within_the_limits_one_per_chat_in_order(
    store: Store,
) -> None:
    # three users and a group get digests of three parts each, 40 users one message each:
    # more than 30 messages, so the overall limit holds them up too
    digests = [7, 8, 9, (-100777, "supergroup")]
    queue_price_drops(store, digests, alerts_per_chat=190)
    singles = list(range(3001, 3041))
    queue_price_drops(store, singles)
    due = due_alerts(store, now=FAR_FUTURE)
    messages = {chat: len(render_digest(alerts)) for chat, alerts in due.items()}
    assert set(messages) == {7, 8, 9, -100777, *singles}
    with BotApiServer(enforce_limits=True, response_delay=0.1) as server:

        async def scenario() -> DeliveryReport:
            async with make_bot(server) as bot:
                return await deliver_once(bot, store, RateLimiter(), max_in_flight=8)

        report = asyncio.run(scenario())
        assert server.limit_violations == 0  # overall, per user, per group
        assert 1 < server.max_in_flight <= 8
        assert server.max_in_flight_per_chat == 1
        texts = {chat: server.sent_texts(chat) for chat in (7, 8, 9, -100777)}
        answered = {c.chat_id: c.result["message_id"] for c in server.sent_messages()}
        counts = sent_per_chat(server)
    assert (report.failed, report.retried, report.deferred_chats) == (0, 0, 0)
    assert outbox_length(store) == 0
    # every message exactly once; a digest's parts in order
    assert counts == messages
    assert all(counts[chat] == 3 for chat in (7, 8, 9, -100777))
    assert all(part_numbers(chat_texts) == [1, 2, 3] for chat_texts in texts.values())
    for chat in singles:
        assert store.db.execute(
            "SELECT status, message_id FROM outbox WHERE chat_id = ?", [chat]
        ).fetchall() == [("sent", answered[chat])]


def test_stop_mid_pass_sends_nothing_new_and_leaves_the_rest_pending(
    server: BotApiServer, store: Store
) -> None:
    chats = list(range(2001, 2011))
    queue_price_drops(store, chats)
    server.hold_answers()

    async def scenario() -> DeliveryReport:
        stop = asyncio.Event()
        async with make_bot(server) as bot:
            task = asyncio.create_task(
                deliver_once(bot, store, fake_limiter(), now=FAR_FUTURE, stop=stop, max_in_flight=3)
            )
            await server.wait_for_in_flight_async(3)
            stop.set()
            server.release_answers()
            return await task

    report = asyncio.run(scenario())
    # the three on their way were answered and recorded; nothing else was tried
    assert report.sent_messages == 3
    assert len([c for c in server.calls if c.method == "sendMessage"]) == 3
    sent = sent_per_chat(server)
    assert outbox(store) == [
        (chat, "sent", 1) if chat in sent else (chat, "pending", 0) for chat in chats
    ]


def test_stop_ends_a_wait_for_the_rate_limiter(server: BotApiServer, store: Store) -> None:
    queue_price_drops(store, [7], alerts_per_chat=190)  # three parts, a second apart
    waiting = asyncio.Event()

    async def sleep_until_cancelled(seconds: float) -> None:
        waiting.set()
        await asyncio.Future()  # a wait nothing but stop can end

    limiter = RateLimiter(clock=FakeClock(), sleep=sleep_until_cancelled)

    async def scenario() -> DeliveryReport:
        stop = asyncio.Event()
        async with make_bot(server) as bot:
            task = asyncio.create_task(deliver_once(bot, store, limiter, now=FAR_FUTURE, stop=stop))
            await asyncio.wait_for(waiting.wait(), 10)  # part 2 waits for chat 7's second
            stop.set()
            return await asyncio.wait_for(task, 10)

    report = asyncio.run(scenario())
    assert report.sent_messages == 1 and len(server.sent_messages()) == 1
    statuses = [status for _, status, _ in outbox(store)]
    assert statuses.count("pending") > 0 and set(statuses) == {"sent", "pending"}
