"""Build and run the bot: `build_application` wires handlers; `run_bot` polls until stopped.

    asyncio.run(run_bot(load_config()))      # what `pricewatch bot` does

Long polling, so no public URL is needed. The Bot API server is configurable (`[telegram]
base_url`, env TELEGRAM_BASE_URL) for a self-hosted server or the tests' local one. The token
comes from env TELEGRAM_BOT_TOKEN (read by `pricewatch.config`) and is never logged or shown:
`bot.redact` redacts it out of every log record and out of any exception `run_bot` raises.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import handlers
from bot.answers import menu_commands
from bot.callbacks import Action, pattern
from bot.ratelimit import BotRateLimiter, RateLimiter, no_reply_retries
from bot.redact import protect, scrub_exception
from pricewatch.config import Config, ConfigError

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]
DELIVERY_STOP_TIMEOUT = 10.0
# Connections for the bot's requests (getUpdates has its own): the alert delivery's messages in
# flight (bot.delivery.MAX_IN_FLIGHT, 16) and replies to people at the same time. PTB's default
# for an Application, said here because delivery depends on it.
CONNECTION_POOL_SIZE = 256

BotApplication = Application[Any, Any, Any, Any, Any, Any]
LIMITER = "rate_limiter"  # bot_data key: the one RateLimiter of replies and alert delivery


class BotConfigError(ConfigError):
    """The bot cannot start with this config (no token)."""


def build_application(
    config: Config, *, db_path: Path | None = None, rate_limit: bool = True
) -> BotApplication:
    """The Application with every handler registered; nothing is sent until it is started."""
    token = config.telegram.token
    if not token:
        raise BotConfigError(
            "no Telegram bot token: set TELEGRAM_BOT_TOKEN (or [telegram] token_file in the config)"
        )
    # before the first request: every URL, and so many an error text, contains the token
    protect(token)
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(token)
        .base_url(config.telegram.base_url)
        .base_file_url(config.telegram.base_file_url)
        .connection_pool_size(CONNECTION_POOL_SIZE)
        .post_init(_post_init)
    )
    limiter = RateLimiter()
    if rate_limit:
        # one limiter for replies and alerts: Telegram's overall, per-chat and per-group limits
        builder = builder.rate_limiter(BotRateLimiter(limiter))
    application: BotApplication = builder.build()
    application.bot_data[handlers.CONFIG] = config
    application.bot_data[handlers.DB_PATH] = Path(db_path or config.db_path)
    application.bot_data[handlers.CHARTS] = True  # matplotlib is a dependency: always
    application.bot_data[LIMITER] = limiter
    register_handlers(application)
    return application


def register_handlers(application: BotApplication) -> None:
    # group -1 runs before the others for every update: each chat that talks to us is known
    application.add_handler(TypeHandler(Update, handlers.track_chat), group=-1)
    application.add_handler(
        ChatMemberHandler(handlers.my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    commands: dict[str, Callable[[Update, handlers.Context], Coroutine[Any, Any, None]]] = {
        "start": handlers.start,
        "help": handlers.help_command,
        "subscribe": handlers.subscribe,
        "subscriptions": handlers.subscriptions,
        "unsubscribe": handlers.unsubscribe,
        "price": handlers.price,
        "history": handlers.history,
        "colorways": handlers.colorways,
        "stop": handlers.stop,
        "status": handlers.status,
    }
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback))
    buttons = {
        Action.FLOW: handlers.flow_button,
        Action.REMOVE: handlers.remove_button,
        Action.CONFIRM: handlers.confirm_button,
        Action.CANCEL: handlers.cancel_button,
        Action.CHART: handlers.chart_button,
        Action.MUTE: handlers.mute_button,
    }
    for action, callback in buttons.items():
        application.add_handler(CallbackQueryHandler(callback, pattern=pattern(action)))
    application.add_handler(CallbackQueryHandler(handlers.stale_button))
    application.add_handler(MessageHandler(filters.COMMAND, handlers.unknown_command))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, handlers.text_message))
    application.add_error_handler(handlers.on_error)


async def _post_init(application: BotApplication) -> None:
    """Telegram's command menu: every command with a short description."""
    charts = bool(application.bot_data.get(handlers.CHARTS))
    await application.bot.set_my_commands(
        [BotCommand(name, description) for name, description in menu_commands(charts=charts)]
    )
    log.info("bot @%s ready", application.bot.username)


def _delivery_loop() -> Callable[..., Coroutine[Any, Any, None]] | None:
    """bot.delivery.delivery_loop if that module is installed (it sends the outbox)."""
    try:
        from bot.delivery import delivery_loop
    except ModuleNotFoundError as exc:
        if exc.name != "bot.delivery":
            raise  # bot.delivery exists but something it imports is missing: say so
        return None
    return delivery_loop


def _on_signals(stop: asyncio.Event) -> Callable[[], None]:
    """SIGINT and SIGTERM set ``stop`` (main thread only: tests run the bot in a thread)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # no signal support (Windows)
            continue
        installed.append(sig)

    def remove() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return remove


async def run_bot(
    config: Config,
    *,
    stop_event: asyncio.Event | None = None,
    db_path: Path | None = None,
    deliver: bool = True,
    delivery_interval: float = 2.0,
) -> None:
    """Answer people (long polling) and deliver alerts until ``stop_event`` is set (or, without
    one, until SIGINT or SIGTERM); then stop polling, let delivery finish the message it is
    sending, and shut down cleanly. Whatever it raises names no token (``InvalidToken`` says
    "the token ending …42"): callers print it, or let Python print its traceback."""
    try:
        await _run_bot(
            config,
            stop_event=stop_event,
            db_path=db_path,
            deliver=deliver,
            delivery_interval=delivery_interval,
        )
    except Exception as exc:
        scrub_exception(exc)
        raise


async def _run_bot(
    config: Config,
    *,
    stop_event: asyncio.Event | None,
    db_path: Path | None,
    deliver: bool,
    delivery_interval: float,
) -> None:
    application = build_application(config, db_path=db_path)
    # with a stop_event the caller (e.g. the scheduler) owns SIGINT/SIGTERM: replacing its
    # handlers here, and removing them on the way out, would leave it deaf to Ctrl-C
    stop = stop_event or asyncio.Event()
    remove_signals = _on_signals(stop) if stop_event is None else (lambda: None)
    delivery: asyncio.Task[None] | None = None
    failure: BaseException | None = None
    try:
        async with application:  # initialize (getMe) ... shutdown
            if application.post_init:  # only run_polling() calls it by itself
                await application.post_init(application)
            updater = application.updater
            if updater is None:
                raise BotConfigError("the Application was built without an Updater")
            await application.start()
            try:
                await updater.start_polling(
                    drop_pending_updates=False, allowed_updates=ALLOWED_UPDATES
                )
                delivery = _start_delivery(application, config, stop, deliver, delivery_interval)
                await stop.wait()
            finally:
                # also after a failed start: shutdown() refuses a still-running Application
                stop.set()
                if delivery is not None:
                    failure = await _finish(delivery)
                if updater.running:
                    await updater.stop()
                if application.running:
                    await application.stop()
    finally:
        remove_signals()
    if failure is not None:
        raise failure  # the delivery loop crashed: after a clean shutdown, say why


def _start_delivery(
    application: BotApplication,
    config: Config,
    stop: asyncio.Event,
    deliver: bool,
    interval: float,
) -> asyncio.Task[None] | None:
    """The outbox's delivery loop as a task beside polling, if bot.delivery is installed."""
    delivery_loop = _delivery_loop() if deliver else None
    if delivery_loop is None:
        if deliver:
            log.warning("bot.delivery is not installed: alerts will not be sent")
        return None
    task = asyncio.create_task(
        # delivery pauses and requeues on a 429 itself: the limiter must not sit on it
        no_reply_retries(
            delivery_loop(
                application.bot,
                application.bot_data[handlers.DB_PATH],
                stop=stop,
                admin_chat_ids=config.telegram.admin_chat_ids,
                interval=interval,
                limiter=application.bot_data[LIMITER],
            )
        ),
        name="delivery",
    )
    # a dead delivery loop stops the bot: a bot that silently sends no alerts is worse than
    # one that exits for its supervisor to restart
    task.add_done_callback(lambda _task: stop.set())
    return task


async def _finish(task: asyncio.Task[None]) -> BaseException | None:
    """Let the delivery loop end after the message it is sending (cancel it if it hangs);
    return what it failed with, if it did."""
    if not task.done():
        try:
            await asyncio.wait_for(task, DELIVERY_STOP_TIMEOUT)  # cancels it on timeout
        except TimeoutError:
            log.warning("delivery did not stop within %.0f s: cancelled", DELIVERY_STOP_TIMEOUT)
            return None
        except Exception as exc:
            log.exception("delivery failed")
            return exc
        return None
    if task.cancelled():
        return None
    error = task.exception()
    if error is not None:
        log.error("delivery failed", exc_info=error)
    return error
