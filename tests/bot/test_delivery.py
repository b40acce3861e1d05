"""Delivery against the local Bot API server: digests, 429, 403, network errors, the limits."""

from __future__ import annotations

import asyncio
import datetime as dtm
import itertools
import logging
import time

import pytest
from telegram import Bot
from telegram.error import InvalidToken

from bot.delivery import (
    DeliveryReport,
    backoff_delay,
    deliver_once,
    delivery_loop,
    retry_after_seconds,
    scrub,
)
from bot.ratelimit import RateLimiter
from pricewatch.models import utc_now
from pricewatch.outbox import outbox_length
from pricewatch.store import Store
from pricewatch.subscriptions import add_subscription, mute_colorway, upsert_chat
from tests.bot.botapi import BotApiServer
from tests.bot.delivery_support import (
    FAR_FUTURE,
    FakeClock,
    crawl,
    make_bot,
    outbox,
    queue_price_drops,
    sent_per_chat,
    with_bot,
)
from tests.support import make_listing

# Reading RetryAfter.retry_after warns in PTB 22 (int -> timedelta); PTB's own code reads it.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(clock: FakeClock) -> RateLimiter:
    """Telegram's limits on a fake clock: tests never wait for them (the server does not
    enforce limits unless a test asks it to)."""
    return RateLimiter(clock=clock, sleep=clock.sleep)


def deliver(
    server: BotApiServer,
    store: Store,
    limiter: RateLimiter,
    now: str | None = FAR_FUTURE,
    max_attempts: int = 8,
) -> DeliveryReport:
    return with_bot(
        server,
        lambda bot: deliver_once(bot, store, limiter, now=now, max_attempts=max_attempts),
    )


def not_before(store: Store, chat_id: int) -> str:
    [(value,)] = store.db.execute(
        "SELECT not_before FROM outbox WHERE chat_id = ? AND status = 'pending'", [chat_id]
    ).fetchall()
    return str(value)


def just_before(stamp: str) -> str:
    moment = dtm.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    return (moment - dtm.timedelta(microseconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seconds_between(earlier: str, later: str) -> float:
    parse = dtm.datetime.fromisoformat
    return (parse(later.rstrip("Z")) - parse(earlier.rstrip("Z"))).total_seconds()


def test_several_alerts_reach_one_chat_as_one_digest(
    server: BotApiServer, store: Store, limiter: RateLimiter
) -> None:
    queue_price_drops(store, [1001], alerts_per_chat=3)
    report = deliver(server, store, limiter)
    assert (report.sent_messages, report.sent_alerts, report.failed) == (1, 3, 0)
    [call] = server.sent_messages(1001)
    assert call.params["parse_mode"] == "HTML"
    # one product: its page is the preview (the replica listing has no picture)
    assert call.params["link_preview_options"]["url"].startswith("https://kith.example/products/")
    assert call.text is not None and call.text.startswith("<b>Price drop</b> · ")
    assert "US 4: $150.00 → $139.99, -$10.01 (-7%)" in call.text
    assert call.text.count(": $150.0") == 3  # a line per size, as each size's price differs
    rows = store.db.execute("SELECT status, message_id FROM outbox").fetchall()
    assert rows == [("sent", call.result["message_id"])] * 3
    # nothing is sent twice
    assert deliver(server, store, limiter).sent_messages == 0
    assert len(server.sent_messages()) == 1


def test_a_long_digest_is_sent_in_parts_each_marked_on_its_own(
    server: BotApiServer, store: Store, limiter: RateLimiter, clock: FakeClock
) -> None:
    queue_price_drops(store, [1001, 1002], alerts_per_chat=190)
    report = deliver(server, store, limiter)
    texts = server.sent_texts(1001)
    assert len(texts) > 1 and report.sent_messages == 2 * len(texts)
    assert all(len(text) <= 4096 for text in texts)  # the server refuses longer ones anyway
    ids = store.db.execute(
        "SELECT message_id, count(*) FROM outbox WHERE chat_id = 1001 GROUP BY message_id"
    ).fetchall()
    assert len(ids) == len(texts) and sum(n for _, n in ids) == 190
    # served in rounds: the second chat's first part did not wait for the first chat's parts
    order = [call.chat_id for call in server.sent_messages()]  # in the order answered
    assert order.index(1002) < [i for i, chat in enumerate(order) if chat == 1001][1]
    assert clock.slept and max(clock.slept) <= 1.0


def test_stale_stock_alerts_are_skipped_not_sent(
    server: BotApiServer, store: Store, limiter: RateLimiter
) -> None:
    queue_price_drops(store, [1001])  # a price drop: still true
    # a restock that sold out again before it could be sent
    store.db.execute("UPDATE events SET kind = 'restock', new_stock = 'in_stock'")
    store.db.execute("UPDATE variants SET stock = 'sold_out'")
    store.db.conn.commit()
    report = deliver(server, store, limiter)
    assert (report.skipped, report.sent_messages) == (1, 0)
    assert outbox(store) == [(1001, "skipped", 0)]
    assert server.sent_messages() == []


class SettleSignal(RateLimiter):
    """The limiter on the fake clock, telling when a message to ``chat_id`` has been answered
    (`settle`). Delivery records that answer before its next await, so once the event is seen
    the outcome is in the outbox and the pass knows it."""

    def __init__(self, clock: FakeClock, chat_id: int) -> None:
        super().__init__(clock=clock, sleep=clock.sleep)
        self.chat_id = chat_id
        self.answered = asyncio.Event()

    def settle(self, chat_id: int, chat_type: str = "private") -> None:
        super().settle(chat_id, chat_type)
        if chat_id == self.chat_id:
            self.answered.set()


def fail_one_while_others_in_flight(
    server: BotApiServer, store: Store, limiter: SettleSignal, held: list[int]
) -> DeliveryReport:
    """One pass, four sends at a time: the answers to ``held`` wait until the failure of
    ``limiter.chat_id`` has been recorded, so it comes while they are in flight."""
    server.hold_answers(*held)

    async def scenario(bot: Bot) -> DeliveryReport:
        task = asyncio.create_task(deliver_once(bot, store, limiter, max_in_flight=4))
        await asyncio.wait_for(limiter.answered.wait(), 10)
        server.release_answers()
        return await task

    return with_bot(server, scenario)


def test_retry_after_is_honoured_for_every_chat_and_the_message_sent_once(
    server: BotApiServer, store: Store, clock: FakeClock
) -> None:
    chats = list(range(1001, 1009))
    queue_price_drops(store, chats)
    server.fail_next("sendMessage", status=429, retry_after=3, chat_id=1001)
    limiter = SettleSignal(clock, 1001)
    before = utc_now()
    report = fail_one_while_others_in_flight(server, store, limiter, [1002, 1003, 1004])
    # the messages already on their way were answered and recorded; no new send started
    assert (report.retried, report.sent_messages, report.retry_after) == (1, 3, 3.0)
    tried = [(c.chat_id, c.status) for c in server.calls if c.method == "sendMessage"]
    assert sorted(tried) == [(1001, 429), (1002, 200), (1003, 200), (1004, 200)]
    assert outbox(store) == [
        (1001, "pending", 1),
        *[(chat, "sent", 1) for chat in (1002, 1003, 1004)],
        *[(chat, "pending", 0) for chat in range(1005, 1009)],
    ]
    assert 3.0 <= seconds_between(before, not_before(store, 1001)) < 4.0
    assert limiter.paused_for() == 3.0
    # while paused, nothing at all is sent, whatever is due
    assert deliver(server, store, limiter).sent_messages == 0
    clock.advance(3.0)
    # the paused chat's row waits for its own time; the others go now
    due_at = not_before(store, 1001)
    report = deliver(server, store, limiter, now=just_before(due_at))
    assert report.sent_messages == 4 and 1001 not in sent_per_chat(server)
    report = deliver(server, store, limiter, now=due_at)
    assert report.sent_messages == 1
    assert sent_per_chat(server) == dict.fromkeys(chats, 1)
    assert outbox(store) == [(1001, "sent", 2), *[(chat, "sent", 1) for chat in chats[1:]]]


def test_a_network_error_ends_the_pass_after_the_sends_on_their_way(
    server: BotApiServer, store: Store, clock: FakeClock
) -> None:
    chats = list(range(1001, 1009))
    queue_price_drops(store, chats)
    server.fail_next("sendMessage", status=502, chat_id=1001)
    limiter = SettleSignal(clock, 1001)
    before = utc_now()
    report = fail_one_while_others_in_flight(server, store, limiter, [1002, 1003, 1004])
    assert (report.retried, report.sent_messages, report.retry_after) == (1, 3, 0.0)
    assert sent_per_chat(server) == dict.fromkeys([1002, 1003, 1004], 1)
    assert outbox(store) == [
        (1001, "pending", 1),
        *[(chat, "sent", 1) for chat in (1002, 1003, 1004)],
        *[(chat, "pending", 0) for chat in range(1005, 1009)],
    ]
    assert 2.0 <= seconds_between(before, not_before(store, 1001)) < 3.0  # its back-off
    assert limiter.paused_for() == 0  # the other chats may go at once
    report = deliver(server, store, limiter, now=not_before(store, 1001))
    assert report.sent_messages == 5
    assert sent_per_chat(server) == dict.fromkeys(chats, 1)


def test_an_invalid_token_is_raised_once_the_sends_on_their_way_are_recorded(
    server: BotApiServer, store: Store, limiter: RateLimiter
) -> None:
    chats = list(range(1001, 1009))
    queue_price_drops(store, chats)
    server.fail_next("sendMessage", status=401, chat_id=1001)
    server.hold_answers(1002, 1003, 1004)

    async def scenario(bot: Bot) -> None:
        task = asyncio.create_task(deliver_once(bot, store, limiter, max_in_flight=4))
        await server.wait_for_async(lambda c: c.chat_id == 1001)
        server.release_answers()
        await task

    with pytest.raises(InvalidToken):
        with_bot(server, scenario)
    accepted = {c.chat_id: c.result["message_id"] for c in server.sent_messages()}
    assert {1002, 1003, 1004} <= set(accepted) and 1001 not in accepted
    rows = store.db.execute("SELECT chat_id, status, message_id, attempts FROM outbox").fetchall()
    for chat, status, message_id, attempts in rows:
        if chat in accepted:  # every message Telegram accepted is marked, with its id
            assert (status, message_id, attempts) == ("sent", accepted[chat], 1)
        else:  # the rest is untouched
            assert (status, attempts) == ("pending", 0)


@pytest.mark.parametrize("how", ["blocked by the user", "chat not found"])
def test_an_unreachable_chat_is_made_inactive_and_others_are_still_served(
    server: BotApiServer, store: Store, limiter: RateLimiter, how: str
) -> None:
    queue_price_drops(store, [1001, 1002, 1003], alerts_per_chat=2)
    # 1001's second alert is not due yet: it never will be, the chat is gone
    store.db.execute(
        "UPDATE outbox SET not_before = ? WHERE id = "
        "(SELECT max(id) FROM outbox WHERE chat_id = 1001)",
        ["9999-12-31T00:00:00.000000Z"],
    )
    store.db.conn.commit()
    if how == "blocked by the user":
        server.block_chat(1001)
    else:
        server.fail_next("sendMessage", status=400)  # "Bad Request: chat not found"
    report = deliver(server, store, limiter, now="9000-01-01T00:00:00.000000Z")
    assert (report.chats_blocked, report.failed, report.retried) == (1, 2, 0)
    assert sent_per_chat(server) == {1002: 1, 1003: 1}  # one digest of two alerts each
    rows = store.db.execute("SELECT status, error FROM outbox WHERE chat_id = 1001").fetchall()
    assert [status for status, _ in rows] == ["failed", "failed"]
    assert all(error.startswith("blocked: ") for _, error in rows)
    assert store.db.execute("SELECT active FROM chats WHERE chat_id = 1001").fetchone() == (0,)
    # no retry, ever: later passes do not try the chat again
    deliver(server, store, limiter, now="9999-12-31T23:00:00.000000Z")
    assert len([c for c in server.calls if c.chat_id == 1001]) == 1


def test_a_refused_message_is_failed_with_the_reason_and_the_chat_stays(
    server: BotApiServer, store: Store, limiter: RateLimiter, caplog: pytest.LogCaptureFixture
) -> None:
    queue_price_drops(store, [1001, 1002])
    server.fail_next(
        "sendMessage", status=400, description="Bad Request: can't parse entities: oops"
    )
    with caplog.at_level(logging.WARNING, logger="bot.delivery"):
        report = deliver(server, store, limiter)
    assert (report.failed, report.sent_messages, report.chats_blocked) == (1, 1, 0)
    assert report.errors == ["chat 1001: BadRequest: Can't parse entities: oops"]
    assert store.db.execute("SELECT active FROM chats WHERE chat_id = 1001").fetchone() == (1,)
    assert "Can't parse entities" in caplog.text
    assert server.token not in caplog.text


def test_network_errors_are_retried_with_back_off_then_sent_once(
    server: BotApiServer, store: Store, limiter: RateLimiter
) -> None:
    queue_price_drops(store, [1001])
    server.fail_next("sendMessage", status=502, times=2)
    stamps = []
    due: str | None = None
    for _ in (1, 2):
        before = utc_now()
        report = deliver(server, store, limiter, now=due)
        assert (report.retried, report.sent_messages) == (1, 0)
        due = not_before(store, 1001)
        stamps.append(seconds_between(before, due))
        # not before its time
        assert deliver(server, store, limiter, now=just_before(due)).sent_messages == 0
    assert 2.0 <= stamps[0] < 3.0 and 4.0 <= stamps[1] < 5.0  # 2 s, then 4 s
    report = deliver(server, store, limiter, now=due)
    assert report.sent_messages == 1
    assert sent_per_chat(server) == {1001: 1}
    assert outbox(store) == [(1001, "sent", 3)]


def test_a_message_is_given_up_after_max_attempts(
    server: BotApiServer, store: Store, limiter: RateLimiter
) -> None:
    queue_price_drops(store, [1001])
    server.fail_next("sendMessage", status=502, times=3)
    reports = [deliver(server, store, limiter, max_attempts=3) for _ in range(3)]
    assert [r.retried for r in reports] == [1, 1, 0] and reports[-1].failed == 1
    [(status, error)] = store.db.execute("SELECT status, error FROM outbox").fetchall()
    assert status == "failed" and error.startswith("gave up after 3 attempts: NetworkError")
    assert deliver(server, store, limiter).sent_messages == 0 and server.sent_messages() == []


def test_an_unreachable_server_is_a_network_error(store: Store, limiter: RateLimiter) -> None:
    queue_price_drops(store, [1001])
    with BotApiServer() as server:
        base_url = server.base_url

    async def scenario() -> DeliveryReport:
        # the server is gone: the port refuses connections
        bot = Bot("123456:TEST-TOKEN", base_url=base_url)
        return await deliver_once(bot, store, limiter, now=FAR_FUTURE)

    report = asyncio.run(scenario())
    assert (report.retried, report.failed) == (1, 0)
    assert outbox(store) == [(1001, "pending", 1)]


def test_an_invalid_token_leaves_every_row_pending(
    server: BotApiServer, store: Store, limiter: RateLimiter
) -> None:
    queue_price_drops(store, [1001])

    async def scenario() -> None:
        bot = Bot("999:WRONG", base_url=server.base_url)
        await deliver_once(bot, store, limiter, now=FAR_FUTURE)

    with pytest.raises(InvalidToken):
        asyncio.run(scenario())
    assert outbox(store) == [(1001, "pending", 0)]


def test_within_telegrams_limits_not_one_429(store: Store) -> None:
    # one user gets a digest of 190 alerts (three messages, which must be >= 1 s apart) ...
    queue_price_drops(store, [7], alerts_per_chat=190)
    # ... while 40 users and a group get one alert each (more than 30 messages in a second)
    queue_price_drops(store, [*range(2001, 2041), (-100777, "supergroup")])
    with BotApiServer(enforce_limits=True) as server:
        started = time.monotonic()
        report = with_bot(server, lambda bot: deliver_once(bot, store, RateLimiter()))
        elapsed = time.monotonic() - started
        assert server.limit_violations == 0
        counts = sent_per_chat(server)
        user_times = [call.time for call in server.sent_messages(7)]
    assert (report.failed, report.retried, report.deferred_chats) == (0, 0, 0)
    assert counts == {**dict.fromkeys(range(2001, 2041), 1), -100777: 1, 7: 3}
    assert outbox_length(store) == 0
    assert all(b - a >= 0.95 for a, b in itertools.pairwise(user_times))
    assert elapsed >= 2.0  # 44 messages: the overall and the per-user limits both held


def test_retry_after_seconds_accepts_int_and_timedelta() -> None:
    from telegram.error import RetryAfter

    assert retry_after_seconds(RetryAfter(5)) == 5.0
    assert retry_after_seconds(RetryAfter(dtm.timedelta(seconds=2.5))) == 2.5


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff_delay(n) for n in range(4)] == [2, 4, 8, 16]
    assert backoff_delay(9) == 600 and backoff_delay(1000) == 600


def test_the_token_is_scrubbed_from_error_texts() -> None:
    token = "123456:TEST-TOKEN"
    assert scrub(f"POST http://x/bot{token}/sendMessage failed", token) == (
        "POST http://x/bot<token>/sendMessage failed"
    )


def test_delivery_loop_delivers_and_stops_at_once(server: BotApiServer, store: Store) -> None:
    queue_price_drops(store, [1001, 1002])

    async def scenario(bot: Bot) -> float:
        stop = asyncio.Event()
        task = asyncio.create_task(
            delivery_loop(bot, store.path, stop=stop, interval=30.0, admin_chat_ids=[99])
        )
        await server.wait_for_async(lambda c: c.method == "sendMessage", count=2)
        started = time.monotonic()
        stop.set()  # the loop is waiting its 30 s interval: it must end now
        await asyncio.wait_for(task, 5)
        return time.monotonic() - started

    assert with_bot(server, scenario) < 1.0
    assert sent_per_chat(server) == {1001: 1, 1002: 1}


def test_delivery_loop_tells_admins_about_give_ups(server: BotApiServer, store: Store) -> None:
    queue_price_drops(store, [1001])
    server.fail_next("sendMessage", status=400, description="Bad Request: message is too long")

    async def scenario(bot: Bot) -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(
            delivery_loop(bot, store.path, stop=stop, interval=0.05, admin_chat_ids=[99])
        )
        await server.wait_for_async(lambda c: c.chat_id == 99 and c.ok)
        stop.set()
        await asyncio.wait_for(task, 5)

    with_bot(server, scenario)
    [text] = server.sent_texts(99)
    assert "could not be sent" in text and "chat 1001" in text and "Message is too long" in text
    assert make_bot(server).token not in text


def _queue_one_drop_with_picture(store: Store) -> None:
    upsert_chat(store, 1001)
    add_subscription(store, 1001, style_code="M2002RDA", sizes=[10.0])
    image = "https://cdn.kith.example/m2002rda.jpg"
    crawl(store, [make_listing(price="150.00", variant_id="40001", image=image)])
    crawl(store, [make_listing(price="127.50", variant_id="40001", image=image)])


def test_one_product_is_sent_as_its_photo_with_the_news_as_caption(
    server: BotApiServer, store: Store, limiter: RateLimiter
) -> None:
    _queue_one_drop_with_picture(store)
    assert deliver(server, store, limiter).sent_alerts == 1
    [call] = server.sent_messages(1001)
    assert call.method == "sendPhoto"
    assert call.params["photo"] == "https://cdn.kith.example/m2002rda.jpg"
    assert call.params["caption"].endswith("US 10: $150.00 → $127.50, -$22.50 (-15%)")
    assert store.db.execute("SELECT status FROM outbox").fetchall() == [("sent",)]


def test_a_photo_telegram_refuses_is_sent_as_text_and_the_alert_is_not_lost(
    server: BotApiServer, store: Store, limiter: RateLimiter
) -> None:
    _queue_one_drop_with_picture(store)
    server.fail_next(
        "sendPhoto", status=400, description="Bad Request: wrong file identifier/HTTP URL specified"
    )
    report = deliver(server, store, limiter)
    assert (report.sent_alerts, report.failed) == (1, 0)
    [call] = server.sent_messages(1001)
    assert call.method == "sendMessage"
    assert call.text is not None and "-$22.50 (-15%)" in call.text
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Add US 10 to cart"
    assert store.db.execute("SELECT status, message_id FROM outbox").fetchall() == [
        ("sent", call.result["message_id"])
    ]


def test_a_muted_colorway_is_skipped_for_that_chat_only(
    server: BotApiServer, store: Store, limiter: RateLimiter
) -> None:
    queue_price_drops(store, [1001, 1002])  # one price drop of M2002R00 each
    mute_colorway(store, 1001, "M2002R00")
    report = deliver(server, store, limiter, now=utc_now())
    assert (report.sent_alerts, report.skipped) == (1, 1)
    assert sent_per_chat(server) == {1002: 1}
    assert store.db.execute(
        "SELECT chat_id, status, error FROM outbox ORDER BY chat_id"
    ).fetchall() == [(1001, "skipped", "muted"), (1002, "sent", None)]


def test_a_price_alert_names_the_catalogs_retail_price(
    server: BotApiServer, store: Store, limiter: RateLimiter
) -> None:
    upsert_chat(store, 1001)
    add_subscription(store, 1001, style_code="M2002RXU")
    crawl(store, [make_listing("M2002RXU", price="180.00", variant_id="7")])
    crawl(store, [make_listing("M2002RXU", price="144.00", variant_id="7")])
    deliver(server, store, limiter)
    [call] = server.sent_messages(1001)
    assert call.text is not None
    assert "US 10: $180.00 → $144.00, -$36.00 (-20%)\nRetail $180.00" in call.text
