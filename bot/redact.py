"""Keep the bot token out of everything people read: log lines, tracebacks, error messages.

The token is a password: whoever has it *is* the bot. It sits in every Bot API URL
(``https://api.telegram.org/bot<TOKEN>/getMe``), so it turns up in python-telegram-bot's
``InvalidToken`` text ("The token `...` was rejected"), in httpx's INFO line for every request
and in any exception that quotes a URL; and logs end up in cron mail and shared log files.

`protect(token)` (called once the token is known, by `bot.app.build_application`) makes every
log record of the process redacted from then on, whichever logger or handler it goes through,
including handlers added later; `scrub_exception` redacts an exception (and its causes) in
place before it leaves the bot. Where the token has to be named, `token_hint` says "the token
ending …yz42": enough to tell two tokens apart, nowhere near enough to use one.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["protect", "redact", "scrub_exception", "token_hint", "token_tail"]

# The secret half of a token (after the colon, 35 characters for a real one) is redacted on its
# own too: it also appears URL-encoded ("123%3Aabc") or split from the bot id. Anything shorter
# than this is not redacted alone, so a test token cannot blank out ordinary words.
_MIN_SECRET = 6

_lock = threading.Lock()
_tokens: list[str] = []
# text to hide -> what to write instead, longest first; replaced whole, never changed in place,
# as other threads read it without the lock
_secrets: dict[str, str] = {}
_factory_installed = False


def token_tail(token: str) -> str:
    """ "…yz42": the last 4 characters of a real token, 2 of a short one."""
    shown = 4 if len(token) >= 20 else 2
    return f"…{token[-shown:]}"


def token_hint(token: str) -> str:
    """ "the token ending …yz42"."""
    return f"the token ending {token_tail(token)}"


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """``text`` with every protected token (or the given ones) replaced by its hint."""
    table = _table(secrets) if secrets is not None else _secrets
    for secret, replacement in table.items():
        if secret in text:
            text = text.replace(secret, replacement)
    return text


def _table(tokens: Iterable[str]) -> dict[str, str]:
    table: dict[str, str] = {}
    for token in tokens:
        if not token:
            continue
        hint = f"<{token_hint(token)}>"
        table[token] = hint
        _bot_id, _, secret = token.partition(":")
        if len(secret) >= _MIN_SECRET:
            table[secret] = hint
    # the whole token before its secret half, or "123:" would be left in front of the hint
    return dict(sorted(table.items(), key=lambda item: -len(item[0])))


def _contains_secret(text: str) -> bool:
    return any(secret in text for secret in _secrets)


def protect(token: str) -> None:
    """From now on, no log record of this process shows ``token``; httpx and httpcore (which
    log request URLs, token included) only speak at WARNING."""
    global _factory_installed, _secrets
    if not token:
        return
    with _lock:
        if token not in _tokens:
            _tokens.append(token)
            _secrets = _table(_tokens)
        if not _factory_installed:
            logging.setLogRecordFactory(_redacting_factory(logging.getLogRecordFactory()))
            _factory_installed = True
    # httpx logs "HTTP Request: POST https://.../bot<TOKEN>/getUpdates" at INFO, every few
    # seconds while polling: redacted or not, that is noise in the bot's log
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:  # NOTSET too: it would follow the root's INFO
            logger.setLevel(logging.WARNING)


def _redacting_factory(previous: Callable[..., logging.LogRecord]) -> Callable[..., Any]:
    # A record factory rather than a Filter: filters see only records of their own logger (not
    # its children, e.g. "telegram.ext.Updater") or of the handlers they were added to, while
    # every record of every logger is made here, before any handler formats it.
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _secrets:
            _redact_record(record)
        return record

    return factory


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string is for the handler to report;
        # logging must never raise at the line that logs
        message = str(record.msg)
    if _contains_secret(message):
        record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[1] is not None:
        scrub_exception(record.exc_info[1])
        text = logging.Formatter().formatException(record.exc_info)
        if _contains_secret(text):
            # still there (an exception whose text is not its args): keep only the text
            record.exc_info, record.exc_text = None, redact(text)
    if record.stack_info and _contains_secret(record.stack_info):
        record.stack_info = redact(record.stack_info)


def scrub_exception(error: BaseException) -> BaseException:
    """Redact the protected tokens out of ``error``'s message and those of its causes and
    contexts, in place (so a traceback printed later shows none); returns ``error``."""
    seen: set[int] = set()
    current: BaseException | None = error
    pending: list[BaseException] = []
    while current is not None or pending:
        if current is None:
            current = pending.pop()
        if id(current) in seen:
            current = None
            continue
        seen.add(id(current))
        _scrub_one(current)
        if current.__context__ is not None and current.__context__ is not current.__cause__:
            pending.append(current.__context__)
        current = current.__cause__
    return error


def _scrub_one(error: BaseException) -> None:
    message = getattr(error, "message", None)  # telegram.error.TelegramError prints this
    if isinstance(message, str) and _contains_secret(message):
        # a read-only property cannot be redacted: its args below are what it shows
        with contextlib.suppress(AttributeError):
            error.message = redact(message)  # type: ignore[attr-defined]
    if any(isinstance(arg, str) and _contains_secret(arg) for arg in error.args):
        error.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in error.args)
