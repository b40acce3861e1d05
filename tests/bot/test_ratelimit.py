"""Telegram's flood limits on our side, driven by a fake clock (nothing here sleeps)."""

from __future__ import annotations

import asyncio
import datetime as dtm

import pytest
from telegram.error import RetryAfter

from bot.ratelimit import BotRateLimiter, RateLimiter, is_group, no_reply_retries
from tests.bot.delivery_support import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(clock: FakeClock) -> RateLimiter:
    return RateLimiter(clock=clock, sleep=clock.sleep)


def test_a_burst_of_30_to_different_chats_goes_at_once(limiter: RateLimiter) -> None:
    for chat in range(1, 31):
        assert limiter.delay(chat, "private") == 0
        limiter.record(chat, "private")


def test_the_31st_message_in_a_second_waits(limiter: RateLimiter, clock: FakeClock) -> None:
    for chat in range(1, 31):
        limiter.record(chat, "private")
        clock.advance(1 / 64)  # 30 sends in under half a second (binary fractions: exact)
    # until the first send leaves the one-second window
    assert limiter.delay(31, "private") == 1 - 30 / 64
    clock.advance(1 - 30 / 64)
    assert limiter.delay(31, "private") == 0
    limiter.record(31, "private")
    assert limiter.delay(32, "private") == 1 / 64  # the second send is the next to leave


def test_a_second_message_to_one_private_chat_waits_a_second(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    limiter.record(42, "private")
    assert limiter.delay(42, "private") == pytest.approx(1.0)
    assert limiter.delay(43, "private") == 0  # another chat is not held up
    clock.advance(0.25)
    assert limiter.delay(42, "private") == 0.75
    clock.advance(0.75)
    assert limiter.delay(42, "private") == 0


def test_a_group_gets_20_messages_a_minute(limiter: RateLimiter, clock: FakeClock) -> None:
    group = -1001234567890
    for _ in range(20):
        assert limiter.delay(group, "supergroup") == 0  # a group may burst, unlike a user
        limiter.record(group, "supergroup")
        clock.advance(1.0)
    # the 21st within the minute waits until the first is a minute old
    assert limiter.delay(group, "supergroup") == pytest.approx(40.0)
    assert limiter.delay(-42, "group") == 0  # another group is not held up
    assert limiter.delay(7, "private") == 0
    clock.advance(40.0)
    assert limiter.delay(group, "supergroup") == 0


def test_groups_are_known_by_type_or_by_a_negative_id() -> None:
    assert is_group(-5, "private")  # an inconsistent row errs on the strict side
    assert is_group(5, "channel") and is_group(5, "group") and is_group(5, "supergroup")
    assert not is_group(5, "private")


def test_different_chats_only_share_the_overall_limit(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    limiter.record(1, "private")
    limiter.record(-1, "group")
    for chat in range(2, 30):
        assert limiter.delay(chat, "private") == 0
        limiter.record(chat, "private")
    # 30 sent in this instant: now everyone waits for the overall window, even a new chat
    assert limiter.delay(500, "private") == pytest.approx(1.0)
    assert limiter.delay(-2, "group") == pytest.approx(1.0)


def test_pause_holds_every_chat(limiter: RateLimiter, clock: FakeClock) -> None:
    limiter.pause(5)
    assert limiter.paused_for() == pytest.approx(5)
    assert limiter.delay(1, "private") == pytest.approx(5)
    assert limiter.delay(-1, "group") == pytest.approx(5)
    limiter.pause(2)  # a shorter pause does not shorten the one running
    clock.advance(5)
    assert limiter.paused_for() == 0 and limiter.delay(1, "private") == 0


def test_settle_counts_a_slow_send_from_its_answer(limiter: RateLimiter, clock: FakeClock) -> None:
    limiter.record(42, "private")
    clock.advance(0.8)  # the request took 0.8 s: it may have reached Telegram just now
    limiter.settle(42, "private")
    assert limiter.delay(42, "private") == pytest.approx(1.0)


def test_acquire_waits_for_the_computed_delay_then_reserves(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    async def main() -> None:
        await limiter.acquire(42, "private")
        await limiter.acquire(42, "private")
        await limiter.acquire(43, "private")

    asyncio.run(main())
    assert clock.slept == [pytest.approx(1.0)]
    assert limiter.delay(42, "private") == pytest.approx(1.0)


def test_concurrent_acquirers_never_share_a_slot(clock: FakeClock) -> None:
    limiter = RateLimiter(global_per_second=5, clock=clock, sleep=clock.sleep)
    times: list[float] = []

    async def send(chat: int) -> None:
        await limiter.acquire(chat, "private")
        times.append(clock())

    async def main() -> None:
        await asyncio.gather(*(send(chat) for chat in range(1, 16)))

    asyncio.run(main())
    times.sort()
    for i in range(len(times) - 5):
        assert times[i + 5] - times[i] >= 1.0 - 1e-9  # never 6 in one second


def test_acquire_gives_up_when_cancelled_and_reserves_nothing(clock: FakeClock) -> None:
    waiting = asyncio.Event()

    async def sleep_forever(seconds: float) -> None:
        waiting.set()
        await asyncio.Future()  # never done: only the cancel event can end this wait

    limiter = RateLimiter(clock=clock, sleep=sleep_forever)
    limiter.record(42, "private")

    async def main() -> tuple[bool, bool]:
        cancel, unrelated = asyncio.Event(), asyncio.Event()
        acquiring = asyncio.create_task(limiter.acquire(42, cancel=(unrelated, cancel)))
        await waiting.wait()
        cancel.set()
        got = await asyncio.wait_for(acquiring, 10)
        already = await limiter.acquire(43, cancel=(cancel,))  # set before: no slot, no wait
        return got, already

    assert asyncio.run(main()) == (False, False)
    assert len(limiter._global) == 1  # only the send recorded before: nothing reserved
    assert list(limiter._private) == [42]


def test_bookkeeping_for_quiet_chats_is_dropped(limiter: RateLimiter, clock: FakeClock) -> None:
    for chat in range(1, 2001):
        limiter.record(chat, "private" if chat % 2 else "group")
        clock.advance(0.1)
    assert len(limiter._private) < 100 and len(limiter._groups) < 700


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(global_per_second=0)


# -- the Application's one limiter ---------------------------------------------------------------


class Telegram:
    """A stand-in for PTB's request callback: records the fake time of each call, and raises
    RetryAfter for the first ``refuse`` calls."""

    def __init__(self, clock: FakeClock, refuse: int = 0) -> None:
        self.clock = clock
        self.refuse = refuse
        self.calls: list[float] = []

    async def __call__(self) -> dict[str, object]:
        self.calls.append(self.clock.now)
        if self.refuse:
            self.refuse -= 1
            raise RetryAfter(dtm.timedelta(seconds=5))
        return {"ok": True}


def send(bot_limiter: BotRateLimiter, telegram: Telegram, chat_id: int, method: str) -> object:
    return bot_limiter.process_request(telegram, (), {}, method, {"chat_id": chat_id}, None)


def test_replies_keep_the_per_chat_rule_too(limiter: RateLimiter, clock: FakeClock) -> None:
    bot_limiter = BotRateLimiter(limiter)
    telegram = Telegram(clock)

    async def scenario() -> None:
        for _ in range(3):
            await send(bot_limiter, telegram, 7, "sendMessage")
        await send(bot_limiter, telegram, 8, "sendMessage")  # another chat: at once
        await send(bot_limiter, telegram, 7, "answerCallbackQuery")  # not a message: at once

    asyncio.run(scenario())
    start = telegram.calls[0]
    assert [t - start for t in telegram.calls] == [0.0, 1.0, 2.0, 2.0, 2.0]


def test_a_reply_refused_with_429_waits_it_out_and_the_whole_bot_waits(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    bot_limiter = BotRateLimiter(limiter, reply_retries=1)
    telegram = Telegram(clock, refuse=1)
    asyncio.run(send(bot_limiter, telegram, 7, "sendMessage"))
    assert [t - telegram.calls[0] for t in telegram.calls] == [0.0, 5.0]
    telegram.refuse = 2
    with pytest.raises(RetryAfter):  # refused again after its one retry: the caller hears
        asyncio.run(send(bot_limiter, telegram, 7, "sendMessage"))
    assert limiter.paused_for() == 5.0  # delivery, sharing the limiter, holds too


def test_delivery_paces_itself_through_the_same_limiter(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    bot_limiter = BotRateLimiter(limiter)
    telegram = Telegram(clock, refuse=1)

    async def delivery() -> None:
        assert await limiter.acquire(7)  # delivery reserves its slot itself ...
        with pytest.raises(RetryAfter):  # ... and gets a 429 at once, to requeue it
            await send(bot_limiter, telegram, 7, "sendMessage")
        await send(bot_limiter, telegram, 7, "sendMessage")  # no second reservation

    asyncio.run(no_reply_retries(delivery()))
    assert telegram.calls == [clock.now, clock.now]  # nothing waited in between
