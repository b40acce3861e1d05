"""Alert delivery: the outbox, sent to Telegram within its limits, each message once.

`deliver_once` is one pass over the outbox: per chat, alerts whose news is no longer true are
skipped, the rest become a digest (`bot.messages.render_digest`) and each part is sent when the
rate limiter allows it and marked ``sent`` *immediately* after Telegram accepts it, in its own
transaction. So a process killed between two sends has marked exactly what was sent: a restart
neither loses an alert nor sends one twice. (What no client can rule out, as the Bot API has
no idempotency key: a kill after Telegram accepted a message and before its row was marked, or
a ``TimedOut`` for a message that did arrive. Either is sent again: a rare duplicate is the
price of never losing an alert.)

Sends to different chats overlap: a round trip to Telegram takes 50-150 ms, so one message at a
time would be 7-20 a second where Telegram allows 30. Up to ``max_in_flight`` messages are on
their way at once, never two to one chat (a chat's next part goes only after its previous one
was answered, so a chat's messages arrive in order). It all stays on the event loop's one
thread: each answer is recorded when it arrives, synchronously, in its own transaction (no
await inside one), so two transactions never interleave.

What each answer from Telegram means here:

* ``RetryAfter`` (429): flood control is per bot, so every send stops for ``retry_after``
  seconds (the limiter is paused and the pass ends: no new send starts, those already on their
  way are answered and recorded); the message's rows wait that long.
* ``TimedOut`` / ``NetworkError`` (5xx, connection trouble): the message's rows are retried
  with exponential back-off (2, 4, 8 ... seconds, at most 10 minutes) and given up (``failed``)
  after ``max_attempts``; the pass ends (as with a 429, after the sends on their way), as the
  next send would most likely fail too.
* ``Forbidden`` (the user blocked the bot, the bot was removed from the group) and
  ``BadRequest: chat not found``: the chat is marked inactive and all its pending rows failed
  ("blocked"); no retry. ``ChatMigrated`` (a group became a supergroup) likewise.
* any other ``BadRequest``: the message itself is wrong; its rows are failed with the error.
* ``InvalidToken``: a configuration error, not the message's fault: rows are left untouched and
  the error is raised (once the sends on their way are answered and recorded).

`delivery_loop` runs passes until asked to stop, waiting on the stop event between passes.
Setting ``stop`` starts no new send (a wait for the rate limiter ends at once); the pass returns
once the sends on their way are answered and recorded.

The bot needs a connection for each send in flight: a `telegram.Bot` made with
``request=delivery_request()``, or an Application's bot (`bot.app`). The bot token is never
logged: error texts are scrubbed of it before they are logged or stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import telegram
from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from bot.messages import MessagePart, render_digest
from bot.ratelimit import RateLimiter, retry_after_seconds
from bot.render import inline_markup
from pricewatch.catalog import load_catalog
from pricewatch.deals import deal_context
from pricewatch.outbox import (
    Alert,
    due_alerts,
    mark_failed,
    mark_retry,
    mark_sent,
    mark_skipped,
)
from pricewatch.store import Store, StoreError
from pricewatch.subscriptions import set_chat_active

logger = logging.getLogger(__name__)

BACKOFF_BASE = 2.0  # seconds before the first retry of a network error; doubles each attempt
BACKOFF_CAP = 600.0  # never wait more than 10 minutes between two attempts
# A chat whose own limit (a busy group's per-minute window) needs a longer wait than this is
# left for a later pass instead of holding up every other chat.
MAX_INLINE_WAIT = 1.5
DUE_PER_PASS = 1000  # outbox rows read per pass; a full pass is followed at once by the next
# Messages on their way to Telegram at once (to different chats). At 30 messages a second and
# round trips up to ~0.5 s, 16 keeps the limit, not the round trip, the bottleneck.
MAX_IN_FLIGHT = 16
ADMIN_COOLDOWN = 3600.0  # seconds before admins hear about the same trouble again
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass
class DeliveryReport:
    """What one pass did. Message counts are Telegram messages; the rest count outbox rows."""

    sent_messages: int = 0
    sent_alerts: int = 0
    skipped: int = 0  # no longer true when their turn came
    retried: int = 0  # to be tried again later (429 or network trouble)
    failed: int = 0  # given up: blocked chats, bad requests, too many attempts
    chats_blocked: int = 0
    due: int = 0  # rows that were due when the pass started
    deferred_chats: int = 0  # left for a later pass by their own rate limit
    retry_after: float = 0.0  # Telegram's flood wait, if the pass ended on one
    errors: list[str] = field(default_factory=list)  # give-ups a person should look at

    @property
    def busy(self) -> bool:
        """Whether the pass did anything worth a log line."""
        return bool(self.sent_messages or self.skipped or self.retried or self.failed)

    def summary(self) -> str:
        text = (
            f"sent {self.sent_messages} message(s) with {self.sent_alerts} alert(s); "
            f"skipped {self.skipped}, retried {self.retried}, failed {self.failed}, "
            f"chats blocked {self.chats_blocked}"
        )
        if self.retry_after:
            text += f"; flood wait {self.retry_after:g} s"
        return text


class _Next(Enum):
    """After one message: go on with the chat, leave it for this pass, or end the pass."""

    CONTINUE = "continue"
    LEAVE_CHAT = "leave chat"
    END_PASS = "end pass"


def backoff_delay(attempts: int) -> float:
    """Seconds before the next try of a message that has failed ``attempts`` times before this
    failure: 2, 4, 8 ... capped at 10 minutes."""
    return min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** min(attempts, 30))


def scrub(text: str, token: str) -> str:
    """Error text safe to log or store: the bot token (which can appear in URLs) removed."""
    return text.replace(token, "<token>") if token else text


def delivery_request(max_in_flight: int = MAX_IN_FLIGHT) -> HTTPXRequest:
    """The HTTP client for a `telegram.Bot` that delivers: a connection for every message in
    flight. (A plain ``Bot(token)`` has 256 since PTB 22.4 but only one before: the sends would
    queue for it and fail with a pool timeout after a second.)"""
    return HTTPXRequest(connection_pool_size=max_in_flight)


def _pending_ids(store: Store, chat_id: int) -> list[int]:
    """Every pending row of a chat, due or not (a blocked chat will not get any of them)."""
    rows = store.db.execute(
        "SELECT id FROM outbox WHERE chat_id = ? AND status = 'pending'", [chat_id]
    )
    return [int(row[0]) for row in rows]


@dataclass
class _ChatJob:
    """One chat's messages of this pass, in order."""

    chat_id: int
    chat_type: str
    parts: deque[MessagePart]
    attempts: dict[int, int]  # outbox id -> attempts so far (for the back-off)


async def deliver_once(
    bot: telegram.Bot,
    store: Store,
    limiter: RateLimiter,
    *,
    now: str | None = None,
    max_attempts: int = 8,
    stop: asyncio.Event | None = None,
    limit: int = DUE_PER_PASS,
    max_in_flight: int = MAX_IN_FLIGHT,
) -> DeliveryReport:
    """Send what is due and report. ``now`` is the outbox's notion of the time (for tests);
    ``stop`` ends the pass before its next send; ``limit`` caps the rows read per pass;
    ``max_in_flight`` caps the messages on their way at once (the bot's connection pool must
    be at least as large).

    Chats are served in rounds: the first message of every chat, then the second of those
    that have more, and so on. A chat with a long digest thus never holds up the others while
    it waits out its own one-message-a-second limit. Within a round, sends to different chats
    overlap; a round ends when all its sends are answered, so no chat ever has two messages on
    their way.
    """
    if max_in_flight < 1:
        raise ValueError("max_in_flight must be at least 1")
    report = DeliveryReport()
    if limiter.paused_for() > 0:
        return report  # Telegram asked the whole bot to wait; rows stay as they are
    due = due_alerts(store, now=now, limit=limit)
    report.due = sum(len(alerts) for alerts in due.values())
    jobs = [
        job for chat_id, alerts in due.items() if (job := _prepare(store, chat_id, alerts, report))
    ]
    if jobs:
        await _Pass(bot, store, limiter, report, max_attempts, stop, max_in_flight).run(jobs)
    if report.busy:
        logger.info("delivery: %s", report.summary())
    return report


class _Pass:
    """The sends of one `deliver_once`: dispatched in order, round by round, up to
    ``max_in_flight`` at once; each answer recorded by the task that awaited it."""

    def __init__(
        self,
        bot: telegram.Bot,
        store: Store,
        limiter: RateLimiter,
        report: DeliveryReport,
        max_attempts: int,
        stop: asyncio.Event | None,
        max_in_flight: int,
    ) -> None:
        self.bot = bot
        self.store = store
        self.limiter = limiter
        self.report = report
        self.max_attempts = max_attempts
        self.stop = stop
        self.max_in_flight = max_in_flight
        # Set when no new send may start: a 429, a network error, a failure (or ``stop``).
        self.halt = asyncio.Event()
        self.interrupts = (self.halt,) if stop is None else (self.halt, stop)
        self.in_flight: set[asyncio.Task[_Next]] = set()
        self.failure: BaseException | None = None

    def _halted(self) -> bool:
        return (
            self.halt.is_set()
            or (self.stop is not None and self.stop.is_set())
            or self.limiter.paused_for() > 0
        )

    async def run(self, jobs: list[_ChatJob]) -> None:
        try:
            while jobs and not self._halted():
                jobs = await self._round(jobs)
        except BaseException:
            # Cancelled (or broken) while sends are on their way: they go with the pass.
            for task in self.in_flight:
                task.cancel()
            raise
        if self.failure is not None:
            raise self.failure

    async def _round(self, jobs: list[_ChatJob]) -> list[_ChatJob]:
        """Send the next message of each chat (until halted); return the chats with more."""
        dispatched: list[tuple[_ChatJob, asyncio.Task[_Next]]] = []
        for job in jobs:
            await self._wait_in_flight(below=self.max_in_flight)
            if self._halted():
                break
            if self.limiter.delay(job.chat_id, job.chat_type) > MAX_INLINE_WAIT:
                self.report.deferred_chats += 1  # still due: a later pass sends it
                continue
            if not await self.limiter.acquire(job.chat_id, job.chat_type, cancel=self.interrupts):
                break  # stopped, or a send that ended halted the pass while this one waited
            task = asyncio.create_task(self._send(job))
            self.in_flight.add(task)
            dispatched.append((job, task))
        await self._wait_in_flight(below=1)
        return [
            job
            for job, task in dispatched
            if not task.cancelled()
            and task.exception() is None
            and task.result() is _Next.CONTINUE
            and job.parts
        ]

    async def _send(self, job: _ChatJob) -> _Next:
        try:
            step = await _send_part(
                self.bot, self.store, self.limiter, job, self.report, self.max_attempts
            )
        except BaseException:
            self.halt.set()
            raise
        if step is _Next.END_PASS:
            self.halt.set()
        return step

    async def _wait_in_flight(self, below: int) -> None:
        """Until fewer than ``below`` sends are on their way; note how the finished ones ended."""
        while len(self.in_flight) >= below:
            done, _pending = await asyncio.wait(self.in_flight, return_when=asyncio.FIRST_COMPLETED)
            self.in_flight -= done
            for task in done:
                if task.cancelled():
                    continue
                error = task.exception()
                if error is not None and self.failure is None:
                    self.failure = error


def _prepare(
    store: Store, chat_id: int, alerts: Sequence[Alert], report: DeliveryReport
) -> _ChatJob | None:
    """Skip what is no longer true, or muted; render the rest as this chat's messages."""
    stale = [alert.outbox_id for alert in alerts if not alert.still_true]
    if stale:
        report.skipped += mark_skipped(store, stale, "no longer true")
    muted = [alert.outbox_id for alert in alerts if alert.still_true and alert.muted]
    if muted:
        report.skipped += mark_skipped(store, muted, "muted")
    current = [alert for alert in alerts if alert.still_true and not alert.muted]
    if not current:
        return None
    deals = deal_context(store, current, load_catalog().retail_prices())
    return _ChatJob(
        chat_id,
        current[0].chat_type,
        deque(render_digest(current, deals, charts=True)),
        {alert.outbox_id: alert.attempts for alert in current},
    )


async def _send_part(
    bot: telegram.Bot,
    store: Store,
    limiter: RateLimiter,
    job: _ChatJob,
    report: DeliveryReport,
    max_attempts: int,
) -> _Next:
    """Send the chat's next message (its slot in the limiter is reserved) and record the
    outcome in the outbox."""
    part = job.parts.popleft()
    try:
        message = await send_part(bot, job.chat_id, part)
    except (InvalidToken, EndPointNotFound):
        raise  # the bot is misconfigured: no message is at fault, leave them all pending
    except TelegramError as error:
        limiter.settle(job.chat_id, job.chat_type)
        return _handle_error(
            bot, store, limiter, job.chat_id, part, error, job.attempts, report, max_attempts
        )
    limiter.settle(job.chat_id, job.chat_type)
    # At once and in its own transaction: a crash after this line cannot resend it.
    mark_sent(store, part.outbox_ids, message.message_id)
    logger.debug(
        "delivery: message %s to chat %s sent and marked (%d alerts)",
        message.message_id,
        job.chat_id,
        len(part.outbox_ids),
    )
    report.sent_messages += 1
    report.sent_alerts += len(part.outbox_ids)
    return _Next.CONTINUE


def _unreachable(error: TelegramError) -> bool:
    """The chat cannot be written to at all (not just this message)."""
    return isinstance(error, Forbidden | ChatMigrated) or (
        isinstance(error, BadRequest) and "chat not found" in error.message.lower()
    )


async def send_part(bot: telegram.Bot, chat_id: int, part: MessagePart) -> telegram.Message:
    """One message: a photo with its caption when it has one, else text with its link
    preview. A photo Telegram refuses (it could not fetch the shop's image, or the image is
    not one) is sent again as text, so the alert is never lost for its picture."""
    markup = inline_markup(part.buttons)
    if part.photo:
        try:
            return await bot.send_photo(
                chat_id,
                part.photo,
                caption=part.text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
        except BadRequest as error:
            if _unreachable(error):
                raise
            logger.info(
                "delivery: chat %s: the photo was refused (%s), sent as text",
                chat_id,
                scrub(error.message, bot.token),
            )
    preview = (
        LinkPreviewOptions(url=part.preview_url, prefer_large_media=True)
        if part.preview_url
        else _NO_PREVIEW
    )
    return await bot.send_message(
        chat_id,
        part.text,
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
        link_preview_options=preview,
    )


def _handle_error(
    bot: telegram.Bot,
    store: Store,
    limiter: RateLimiter,
    chat_id: int,
    part: MessagePart,
    error: TelegramError,
    attempts: dict[int, int],
    report: DeliveryReport,
    max_attempts: int,
) -> _Next:
    """Record what a failed send means for its rows and say how the pass goes on."""
    text = scrub(f"{type(error).__name__}: {error.message}", bot.token)
    ids = part.outbox_ids
    if isinstance(error, RetryAfter):
        seconds = retry_after_seconds(error)
        limiter.pause(seconds)
        report.retry_after = max(report.retry_after, seconds)
        report.retried += mark_retry(store, ids, text, seconds)
        logger.warning("delivery: Telegram flood control, every send waits %g s", seconds)
        return _Next.END_PASS
    if _unreachable(error):
        reason = "blocked" if not isinstance(error, ChatMigrated) else "chat migrated"
        set_chat_active(store, chat_id, False)
        report.failed += mark_failed(store, _pending_ids(store, chat_id), f"{reason}: {text}")
        report.chats_blocked += 1
        logger.info("delivery: chat %s is unreachable (%s), marked inactive", chat_id, text)
        return _Next.LEAVE_CHAT
    if isinstance(error, BadRequest):
        report.failed += mark_failed(store, ids, text)
        report.errors.append(f"chat {chat_id}: {text}")
        logger.warning("delivery: Telegram refused a message to chat %s: %s", chat_id, text)
        return _Next.CONTINUE
    # TimedOut, NetworkError (502, connection refused...) and anything else Telegram says:
    # worth another try later, unless this message has been tried often enough.
    tried = max(attempts.get(oid, 0) for oid in ids)
    if tried + 1 >= max_attempts:
        report.failed += mark_failed(store, ids, f"gave up after {tried + 1} attempts: {text}")
        report.errors.append(f"chat {chat_id}: gave up after {tried + 1} attempts: {text}")
        logger.warning("delivery: gave up on a message to chat %s: %s", chat_id, text)
    else:
        delay = backoff_delay(tried)
        report.retried += mark_retry(store, ids, text, delay)
        logger.info("delivery: %s; chat %s retried in %g s", text, chat_id, delay)
    # A network error most likely hits the next send too; anything else: this chat's later
    # messages stay due for the next pass, so they are not sent before this one by much.
    return _Next.END_PASS if isinstance(error, NetworkError) else _Next.LEAVE_CHAT


class _AdminNotifier:
    """Tells admin chats about trouble a person should look at, each kind once an hour."""

    def __init__(self, bot: telegram.Bot, limiter: RateLimiter, chat_ids: Sequence[int]) -> None:
        self.bot = bot
        self.limiter = limiter
        self.chat_ids = tuple(chat_ids)
        self._told: dict[str, float] = {}

    async def notify(self, key: str, text: str) -> None:
        if not self.chat_ids or self.limiter.paused_for() > 0:
            return  # no one to tell, or Telegram asked for quiet: the next trouble will do
        moment = time.monotonic()
        if moment - self._told.get(key, float("-inf")) < ADMIN_COOLDOWN:
            return
        self._told[key] = moment

        body = f"<b>Alert delivery</b>\n{html.escape(text[:3500])}"
        for chat_id in self.chat_ids:
            try:
                await self.limiter.acquire(chat_id, "private" if chat_id > 0 else "group")
                await self.bot.send_message(
                    chat_id, body, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW
                )
            except TelegramError as error:
                logger.warning(
                    "delivery: could not tell admin chat %s: %s",
                    chat_id,
                    scrub(str(error), self.bot.token),
                )


async def delivery_loop(
    bot: telegram.Bot,
    db_path: Path,
    *,
    stop: asyncio.Event,
    admin_chat_ids: Sequence[int] = (),
    interval: float = 2.0,
    limiter: RateLimiter | None = None,
    max_in_flight: int = MAX_IN_FLIGHT,
) -> None:
    """Deliver the outbox until ``stop`` is set: a pass, then a wait of ``interval`` seconds on
    ``stop`` (so stopping is immediate), and again. A pass that hit the per-pass row limit is
    followed by the next one at once. Errors of one pass (Telegram, the database, the network)
    are logged, told to the admin chats (once an hour per kind) and retried with a growing
    wait; they never end the loop."""
    limiter = limiter or RateLimiter()
    admins = _AdminNotifier(bot, limiter, admin_chat_ids)
    failures = 0
    with Store(db_path) as store:
        while not stop.is_set():
            wait = interval
            try:
                report = await deliver_once(
                    bot, store, limiter, stop=stop, max_in_flight=max_in_flight
                )
            except (TelegramError, StoreError, sqlite3.Error, OSError) as error:
                failures += 1
                wait = min(60.0, interval * 2.0 ** min(failures, 10))
                text = scrub(f"{type(error).__name__}: {error}", bot.token)
                logger.error("delivery: pass failed (%s); next try in %g s", text, wait)
                if not isinstance(error, InvalidToken):  # the bot cannot speak: no one to tell
                    await admins.notify(type(error).__name__, f"A delivery pass failed: {text}")
            else:
                failures = 0
                for problem in report.errors:
                    await admins.notify(
                        problem.split(":", 1)[-1], f"An alert could not be sent: {problem}"
                    )
                if report.due >= DUE_PER_PASS and report.sent_messages:
                    wait = 0.0  # more is waiting and it is moving: no pause between passes
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
