"""Telegram's flood limits, enforced on our side so the bot is not answered 429.

Telegram asks bots for about 30 messages per second overall, one message per second to one
private chat, and at most 20 messages per minute to one group (a group, supergroup or channel;
their chat ids are negative). python-telegram-bot's AIORateLimiter covers the overall and group
limits but not the per-chat one, and by default retries nothing, so all three live here:

* overall: at most ``global_per_second`` sends in any window of one second;
* a private chat: two sends at least ``private_interval`` seconds apart;
* a group: at most ``group_per_minute`` sends in any window of 60 seconds;
* after a 429, Telegram's ``retry_after`` holds every send (its flood wait is for the whole bot).

The class is pure bookkeeping over an injected clock, so tests drive it with a fake clock:
``delay()`` says how long until a send is allowed and ``record()`` counts one. ``acquire()`` is
the async convenience that waits (with an injectable ``sleep``) and reserves the slot; tasks
sharing one limiter may call it at once.

One `RateLimiter` serves the whole bot: `BotRateLimiter` is the Application's PTB rate limiter
over it (every reply to people takes its slot there, and a reply answered 429 waits out the
``retry_after`` and is sent again, up to ``REPLY_RETRIES`` times), and alert delivery, handed
the same instance, reserves its own slots and requeues on a 429 itself (`no_reply_retries`).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from telegram._utils.types import JSONDict
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

GROUP_TYPES = frozenset({"group", "supergroup", "channel"})

# Bookkeeping for chats not written to recently is dropped now and then, so a bot that talks to
# many chats does not keep a timestamp per chat forever.
_PRUNE_EVERY = 1000


def is_group(chat_id: int, chat_type: str) -> bool:
    """Groups, supergroups and channels (negative ids) share the per-minute limit."""
    return chat_type in GROUP_TYPES or chat_id < 0


class RateLimiter:
    """Sliding-window limits over an injected monotonic clock (seconds)."""

    def __init__(
        self,
        global_per_second: int = 30,
        private_interval: float = 1.0,
        group_per_minute: int = 20,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if global_per_second < 1 or group_per_minute < 1 or private_interval < 0:
            raise ValueError("rate limits must be positive")
        self.global_per_second = global_per_second
        self.private_interval = private_interval
        self.group_per_minute = group_per_minute
        self.clock = clock
        self.sleep = sleep
        self._global: deque[float] = deque()  # send times within the last second, oldest first
        self._private: dict[int, float] = {}  # chat -> time of its last send
        self._groups: dict[int, deque[float]] = {}  # chat -> send times within the last minute
        self._paused_until = float("-inf")
        self._records = 0

    # -- the pure part -------------------------------------------------------------------

    def delay(self, chat_id: int, chat_type: str = "private") -> float:
        """Seconds until a message to this chat may be sent; 0.0 means now."""
        now = self.clock()
        waits = [self._paused_until - now]
        window = self._trim(self._global, now - 1.0)
        if len(window) >= self.global_per_second:
            waits.append(window[-self.global_per_second] + 1.0 - now)
        if is_group(chat_id, chat_type):
            sent = self._groups.get(chat_id)
            if sent is not None:
                self._trim(sent, now - 60.0)
                if len(sent) >= self.group_per_minute:
                    waits.append(sent[-self.group_per_minute] + 60.0 - now)
        else:
            last = self._private.get(chat_id)
            if last is not None:
                waits.append(last + self.private_interval - now)
        return max(0.0, *waits)

    def record(self, chat_id: int, chat_type: str = "private") -> None:
        """Count one message to this chat as sent now."""
        now = self.clock()
        self._global.append(now)
        if is_group(chat_id, chat_type):
            self._groups.setdefault(chat_id, deque()).append(now)
        else:
            self._private[chat_id] = now
        self._records += 1
        if self._records % _PRUNE_EVERY == 0:
            self._prune(now)

    def settle(self, chat_id: int, chat_type: str = "private") -> None:
        """The message reserved last for this chat has been answered: count its per-chat limit
        from now. Telegram times a message when it arrives, somewhere between our reservation
        and the answer; a slow request must not let the next one to the same chat arrive less
        than the interval after it. (The overall and group windows have slack for this.)"""
        now = self.clock()
        if is_group(chat_id, chat_type):
            sent = self._groups.get(chat_id)
            if sent:
                sent[-1] = max(sent[-1], now)  # still sorted: it was the newest entry
        elif chat_id in self._private:
            self._private[chat_id] = max(self._private[chat_id], now)

    def pause(self, seconds: float) -> None:
        """Hold every send for this long (Telegram's RetryAfter applies to the whole bot)."""
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    def paused_for(self) -> float:
        """Seconds left of a pause set by `pause`, 0.0 if none."""
        return max(0.0, self._paused_until - self.clock())

    # -- waiting -------------------------------------------------------------------------

    async def acquire(
        self,
        chat_id: int,
        chat_type: str = "private",
        *,
        cancel: Collection[asyncio.Event] = (),
    ) -> bool:
        """Wait until a message to this chat is allowed, then reserve it (``record``) and
        return True. If one of the ``cancel`` events is set before that (it ends the wait at
        once), reserve nothing and return False.

        Checking and reserving happen with no await between them, so tasks sharing one
        limiter cannot both take the last slot.
        """
        while True:
            if any(event.is_set() for event in cancel):
                return False
            wait = self.delay(chat_id, chat_type)
            if wait <= 0:
                self.record(chat_id, chat_type)
                return True
            if cancel:
                await self._sleep_unless(wait, cancel)
            else:
                await self.sleep(wait)

    async def _sleep_unless(self, seconds: float, cancel: Collection[asyncio.Event]) -> None:
        """``sleep(seconds)``, cut short when one of the ``cancel`` events is set."""
        waits: list[asyncio.Future[object]] = [asyncio.ensure_future(self.sleep(seconds))]
        waits += [asyncio.ensure_future(event.wait()) for event in cancel]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    # -- housekeeping --------------------------------------------------------------------

    @staticmethod
    def _trim(times: deque[float], expired_at: float) -> deque[float]:
        """Drop times at or before ``expired_at``: a window is (now - length, now]."""
        while times and times[0] <= expired_at:
            times.popleft()
        return times

    def _prune(self, now: float) -> None:
        self._private = {
            chat: last for chat, last in self._private.items() if last + self.private_interval > now
        }
        for chat in [chat for chat, sent in self._groups.items() if not self._trim(sent, now - 60)]:
            del self._groups[chat]


# -- one limiter for every message the bot sends ------------------------------------------------

#: How often a reply that Telegram answered 429 is sent again (each after its retry_after).
REPLY_RETRIES = 3

T = TypeVar("T")

# True in the alert delivery's task and the tasks it starts: delivery reserves each message's
# slot itself (it decides which chat goes next) and requeues on a 429 itself. A context
# variable, as delivery sends through the same Bot (and so the same rate limiter) as replies.
_self_paced: contextvars.ContextVar[bool] = contextvars.ContextVar("self_paced", default=False)


async def no_reply_retries(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` (as a task's whole body) as a sender that paces itself: its sends take
    no slot from the limiter (it took them) and a 429 reaches it at once. The setting stays
    inside the task's own context."""
    _self_paced.set(True)
    return await coroutine


def _limited(endpoint: str) -> bool:
    """Messages count against Telegram's limits (sendMessage, sendPhoto...); edits, callback
    answers and getUpdates do not."""
    return endpoint.startswith("send") and endpoint != "sendChatAction"


def _chat_id(data: dict[str, Any]) -> int | None:
    value = data.get("chat_id")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None  # "@channelname": counted in the overall limit only


class BotRateLimiter(BaseRateLimiter[int]):
    """The Application's one rate limiter, over the same `RateLimiter` as alert delivery: the
    overall, per-chat and per-group limits for every message, and a reply that Telegram
    answered 429 sent again after its ``retry_after``, up to ``reply_retries`` times (the
    whole bot waits: Telegram's flood wait is per bot)."""

    def __init__(self, limiter: RateLimiter | None = None, reply_retries: int | None = None):
        self.limiter = limiter or RateLimiter()
        self.reply_retries = REPLY_RETRIES if reply_retries is None else reply_retries

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        if _self_paced.get() or not _limited(endpoint):
            return await callback(*args, **kwargs)
        chat_id = _chat_id(data)
        retries = self.reply_retries if rate_limit_args is None else rate_limit_args
        while True:
            await self.limiter.acquire(chat_id or 0, "private" if (chat_id or 0) > 0 else "group")
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as error:
                seconds = retry_after_seconds(error)
                self.limiter.pause(seconds)
                if retries <= 0:
                    raise
                retries -= 1
                logging.getLogger(__name__).info(
                    "a reply got a 429: sent again after %g s", seconds
                )
                continue
            if chat_id is not None:
                self.limiter.settle(chat_id, "private" if chat_id > 0 else "group")
            return result


def retry_after_seconds(error: RetryAfter) -> float:
    """``RetryAfter.retry_after`` in seconds: an int in PTB 22 by default (with a deprecation
    warning), a timedelta with ``PTB_TIMEDELTA=1`` and in later versions; both are accepted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
