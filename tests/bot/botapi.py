"""A local Telegram Bot API server for tests.

The real python-telegram-bot client talks to it over HTTP on 127.0.0.1::

    with BotApiServer() as server:
        app = (
            ApplicationBuilder()
            .token(server.token)
            .base_url(server.base_url)
            .base_file_url(server.base_file_url)
            .build()
        )
        ...
        server.send_text(42, "/start")
        [reply] = server.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 42)

The server runs aiohttp on its own event loop in a daemon thread, so sync tests, async tests
(``asyncio.run``) and a bot running in another thread or process can all use it.

Wire format, as python-telegram-bot 22 produces it (``telegram/_bot.py`` ``_do_post`` and
``telegram/request/_httpxrequest.py``): every call is ``POST {base_url}{token}/{method}``, i.e.
``/bot<token>/<method>``. The body is ``application/x-www-form-urlencoded`` (or
``multipart/form-data`` when a file is uploaded; the file is a part named after the parameter,
e.g. ``photo``, or an ``attach://<name>`` reference). String parameters arrive as they are, every
other value is JSON-encoded inside its form field (``chat_id=42``, ``reply_markup={"inline_...``,
``disable_notification=true``). ``None`` parameters are not sent. JSON bodies and query strings
are accepted too. Parameters are decoded back into Python values here (see ``_decode_params``).

Answers are ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description":
..., "parameters": {...}}`` with the same HTTP status. PTB maps them (``request/_baserequest.py``):
``parameters.retry_after`` → ``RetryAfter``; 403 → ``Forbidden``; 401/404 → ``InvalidToken``;
400 → ``BadRequest``; 409 → ``Conflict``; anything else (502, 500...) → ``NetworkError``.

What is deliberately like the real Bot API (each an error real bots run into):

* ``parse_mode`` is checked: HTML with an unsupported or unbalanced tag, MarkdownV2 with an
  unescaped reserved character (``.``, ``-``, ``!``, ``(``...) or an unclosed entity, legacy
  Markdown with an unclosed ``*``/``_``/`` ` `` → 400 "Bad Request: can't parse entities: ...".
  Pass ``validate_markup=False`` to switch this off. Text is echoed back as sent (not rendered).
* empty text → 400 "message text is empty"; > 4096 chars → "message is too long";
  caption > 1024 → "message caption is too long"; ``callback_data`` > 64 bytes →
  "BUTTON_DATA_INVALID"; bytes that are not PNG/JPEG/GIF/WebP as a photo →
  "IMAGE_PROCESS_FAILED"; an unknown ``file_id`` → "wrong file identifier/HTTP URL specified".
* editing a message to identical text and markup → 400 "message is not modified: ...";
  ``editMessageText`` without ``reply_markup`` removes the inline keyboard; editing/deleting a
  missing message → 400 "message to edit not found" / "message to delete not found".
* ``answerCallbackQuery`` for an unknown or already answered query → 400 "query is too old ...".
* a call with any other token than the server's → 401 "Unauthorized" (recorded as a call
  with ``status`` 401 and no parameters), as for a revoked or mistyped token;
* ``getUpdates`` while a webhook is set → 409; a second concurrent ``getUpdates`` ends the one
  already waiting with 409 "Conflict: terminated by other getUpdates request ...".
* privacy mode (``privacy_mode=True``, the Telegram default, reported by ``getMe`` as
  ``can_read_all_group_messages: false``): in groups only commands (``/cmd`` or
  ``/cmd@<this bot>``) and messages mentioning ``@<bot_username>`` are delivered.

Flood limits (``enforce_limits=True``) are leaky buckets like PTB's ``AIORateLimiter`` uses
(see :meth:`BotApiServer._check_limits`); they count ``sendMessage`` and ``sendPhoto`` only.

Round trips: a real Bot API answers after 50-150 ms, loopback at once. ``response_delay=0.1``
answers every ``sendMessage``/``sendPhoto`` (accepted or refused) that long after it arrived; the
message is checked, counted and timed on arrival, as Telegram does, and the wait blocks no other
request. ``max_in_flight`` is the most of them the server was answering at once and
``max_in_flight_per_chat`` the most to one chat; ``hold_answers()`` keeps their answers back
until ``release_answers()``, for tests that need requests in flight at a known moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import TracebackType
from typing import Any

from aiohttp import web

__all__ = ["DEFAULT_TOKEN", "DEFAULT_USER_ID", "ApiCall", "BotApiServer"]

DEFAULT_TOKEN = "123456:TEST-TOKEN"
DEFAULT_BOT_USERNAME = "pricewatch2002r_bot"
#: ``from.id`` of users writing in groups when ``user_id`` is not given (from the real captures).
DEFAULT_USER_ID = 1850121251

#: sendMessage/sendPhoto limits and other sizes, as documented by Telegram.
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
#: A message is accepted if its bucket would have room this many seconds later (clock jitter
#: between a client-side rate limiter and this server), but never more than half a message early.
LIMIT_TOLERANCE = 0.05
#: Methods that count towards the flood limits.
LIMITED_METHODS = frozenset({"sendMessage", "sendPhoto"})

_DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)  # i.e. everything except chat_member, message_reaction and message_reaction_count

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

# Parameters whose form value is a plain string even when it looks like JSON ("42", "true").
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "url",
        "language_code",
        "action",
        "secret_token",
        "ip_address",
        "photo",
        "file_id",
        "certificate",
        "title",
        "description",
        "short_description",
        "name",
        "emoji",
    }
)

_BOT_COMMAND_RE = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")
_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")

_CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: _CONFLICT_OTHER_POLL,
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True)
class ApiCall:
    """One request the bot made (recorded when the server answered it).

    ``params`` are decoded (``chat_id`` an int, ``reply_markup`` a dict...). ``status`` is the
    HTTP status answered (200 = ok) and ``result`` the ``result`` on success or the whole error
    body otherwise. ``photo`` holds the uploaded photo bytes of a ``sendPhoto``; ``files`` every
    uploaded part by name.
    """

    method: str
    params: dict[str, Any]
    time: float
    chat_id: int | str | None
    photo: bytes | None = None
    status: int = 200
    result: Any = None
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def text(self) -> str | None:
        """``text`` (or ``caption``) as the bot sent it."""
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        value = self.params.get("reply_markup")
        return value if isinstance(value, dict) else None

    def summary(self) -> str:
        params = {k: v for k, v in self.params.items() if k != "chat_id"}
        shown = json.dumps(params, ensure_ascii=False, default=str)
        if len(shown) > 200:
            shown = shown[:197] + "..."
        status = "ok" if self.ok else f"{self.status} {_error_text(self.result)}"
        return f"{self.method}(chat_id={self.chat_id!r}) -> {status} {shown}"


def _error_text(result: Any) -> str:
    if isinstance(result, dict):
        return str(result.get("description", ""))
    return ""


class _ApiError(Exception):
    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


@dataclass
class _Described:
    """A successful result that also carries a ``description`` (setWebhook, deleteWebhook)."""

    result: Any
    description: str


@dataclass
class _Fault:
    method: str
    status: int
    retry_after: int
    remaining: int
    description: str | None
    chat_id: int | str | None = None  # only calls to this chat, if set


@dataclass
class _Bucket:
    level: float
    last: float


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _command_entities(text: str) -> list[dict[str, Any]]:
    """``bot_command`` entities as Telegram sets them (offsets/lengths in UTF-16 code units)."""
    return [
        {
            "offset": _utf16_len(text[: match.start()]),
            "length": _utf16_len(match.group()),
            "type": "bot_command",
        }
        for match in _BOT_COMMAND_RE.finditer(text)
    ]


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


class _TelegramHtmlChecker(HTMLParser):
    ALLOWED = frozenset(
        {
            "b",
            "strong",
            "i",
            "em",
            "u",
            "ins",
            "s",
            "strike",
            "del",
            "span",
            "tg-spoiler",
            "a",
            "code",
            "pre",
            "blockquote",
            "tg-emoji",
        }
    )

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.stack: list[str] = []
        self.error: str | None = None
        self.parts: list[str] = []

    def _offset(self) -> int:
        line, column = self.getpos()
        return _byte_offset(self.source, self.line_starts[line - 1] + column)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.error:
            return
        if tag not in self.ALLOWED:
            self.error = f'Unsupported start tag "{tag}" at byte offset {self._offset()}'
        elif tag == "span" and dict(attrs).get("class") != "tg-spoiler":
            self.error = f'Tag "span" must have class "tg-spoiler" at byte offset {self._offset()}'
        else:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.error:
            self.error = f'Unsupported start tag "{tag}/" at byte offset {self._offset()}'

    def handle_endtag(self, tag: str) -> None:
        if self.error:
            return
        if not self.stack:
            self.error = f"Unexpected end tag at byte offset {self._offset()}"
        elif self.stack[-1] != tag:
            self.error = (
                f"Unmatched end tag at byte offset {self._offset()}, "
                f'expected "</{self.stack[-1]}>", found "</{tag}>"'
            )
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _check_html(text: str) -> str:
    checker = _TelegramHtmlChecker(text)
    checker.feed(text)
    checker.close()
    if checker.error is None and checker.stack:
        checker.error = f'Can\'t find end tag corresponding to start tag "{checker.stack[-1]}"'
    if checker.error:
        raise _bad_request(f"can't parse entities: {checker.error}")
    return "".join(checker.parts)


_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_TOGGLES = {"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough"}


def _find_unescaped(text: str, needle: str, start: int) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(needle, i):
            return i
        i += 1
    return -1


def _check_markdown_v2(text: str) -> str:
    def fail(message: str) -> _ApiError:
        return _bad_request(f"can't parse entities: {message}")

    stack: list[tuple[str, int]] = []
    plain: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 < len(text):
                plain.append(text[i + 1])
            i += 2
            continue
        if char == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = _find_unescaped(text, fence, i + len(fence))
            if end < 0:
                name = "Pre" if fence == "```" else "Code"
                raise fail(
                    f"Can't find end of {name} entity at byte offset {_byte_offset(text, i)}"
                )
            plain.append(text[i + len(fence) : end])
            i = end + len(fence)
            continue
        token = "__" if text.startswith("__", i) else "||" if text.startswith("||", i) else char
        if token in _MDV2_TOGGLES or token == "||":
            if any(open_token == token for open_token, _ in stack):
                while stack and stack.pop()[0] != token:
                    pass
            else:
                stack.append((token, i))
            i += len(token)
            continue
        if char == "[" or (char == "!" and text.startswith("![", i)):
            stack.append(("[", i))
            i += 1 if char == "[" else 2
            continue
        if char == "]" and stack and stack[-1][0] == "[":
            start = stack.pop()[1]
            if not text.startswith("(", i + 1):
                raise fail(
                    f"Can't find end of TextUrl entity at byte offset {_byte_offset(text, start)}"
                )
            end = _find_unescaped(text, ")", i + 2)
            if end < 0:
                raise fail(
                    f"Can't find end of TextUrl entity at byte offset {_byte_offset(text, start)}"
                )
            i = end + 1
            continue
        if char == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1  # block quotation
            continue
        if char in _MDV2_RESERVED:
            raise fail(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        plain.append(char)
        i += 1
    if stack:
        token, start = stack[-1]
        name = {"[": "TextUrl", "||": "Spoiler"}.get(token) or _MDV2_TOGGLES[token]
        raise fail(f"Can't find end of {name} entity at byte offset {_byte_offset(text, start)}")
    return "".join(plain)


def _check_markdown(text: str) -> str:
    plain: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in "_*`[":
            plain.append(text[i + 1])
            i += 2
            continue
        if char in "_*`":
            fence = "```" if text.startswith("```", i) else char
            end = text.find(fence, i + len(fence))
            if end < 0:
                raise _bad_request(
                    "can't parse entities: Can't find end of the entity starting at byte offset "
                    f"{_byte_offset(text, i)}"
                )
            plain.append(text[i + len(fence) : end])
            i = end + len(fence)
            continue
        plain.append(char)
        i += 1
    return "".join(plain)


def _rendered_text(text: str, parse_mode: Any, validate: bool) -> str:
    """The visible text (markup removed), raising 400 the way Telegram does for bad markup."""
    if parse_mode is None or not validate:
        return text
    mode = str(parse_mode).lower()
    if mode == "html":
        return _check_html(text)
    if mode == "markdownv2":
        return _check_markdown_v2(text)
    if mode == "markdown":
        return _check_markdown(text)
    raise _bad_request(f"unsupported parse_mode {parse_mode}")


def _image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG/JPEG/GIF/WebP image, None when the bytes are not one."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return (0, 0)
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            length = int.from_bytes(data[i + 2 : i + 4], "big")
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                return int.from_bytes(data[i + 7 : i + 9], "big"), int.from_bytes(
                    data[i + 5 : i + 7], "big"
                )
            i += 2 + length
        return (0, 0)
    return None


def _decode_value(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key == "chat_id":
        with contextlib.suppress(ValueError):
            return int(value)
        return value
    if key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _decode_params(raw: dict[str, Any]) -> dict[str, Any]:
    return {key: _decode_value(key, value) for key, value in raw.items()}


def _update_type(update: dict[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


class BotApiServer:
    """Local Telegram Bot API; see the module docstring for the wire format and fidelity."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = DEFAULT_BOT_USERNAME,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        enforce_limits: bool = False,
        global_per_second: float = 30,
        private_per_second: float = 1,
        group_per_minute: float = 20,
        privacy_mode: bool = True,
        validate_markup: bool = True,
        bot_first_name: str = "2002R Price Watch",
        response_delay: float = 0.0,
    ) -> None:
        if not re.fullmatch(r"\d+:[\w-]+", token):
            raise ValueError(f"not a bot token: {token!r}")
        self.token = token
        self.bot_username = bot_username
        self.host = host
        self.port = port
        self.enforce_limits = enforce_limits
        self.global_per_second = global_per_second
        self.private_per_second = private_per_second
        self.group_per_minute = group_per_minute
        self.privacy_mode = privacy_mode
        self.validate_markup = validate_markup
        if response_delay < 0:
            raise ValueError("response_delay must not be negative")
        #: seconds between a message's arrival and its answer (see the module docstring)
        self.response_delay = response_delay
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }

        self._lock = threading.RLock()
        self._calls_changed = threading.Condition(self._lock)
        self._calls: list[ApiCall] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(100_000_001)
        self._query_ids = itertools.count(4_382_110_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._message_ids: dict[int | str, Iterator[int]] = {}
        self._messages: dict[int | str, dict[int, dict[str, Any]]] = {}
        self._chats: dict[int | str, dict[str, Any]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._admins: dict[int, list[int]] = {}  # group id -> admin user ids (creator first)
        self._open_queries: dict[str, dict[str, Any]] = {}
        self._files: dict[str, tuple[bytes, str]] = {}  # file_id -> (bytes, file_path)
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._webhook: dict[str, Any] = {}
        self._allowed_updates: list[str] | None = None
        self._blocked: set[int | str] = set()
        self._faults: list[_Fault] = []
        self._buckets: dict[Any, _Bucket] = {}
        self._limit_violations = 0
        self._pollers_waiting = 0
        self._poll_generation = 0
        # messages (LIMITED_METHODS) being answered now: per chat, and the most ever at once
        self._in_flight: dict[Any, int] = {}
        self._max_in_flight = 0
        self._max_in_flight_per_chat = 0
        self._hold_all = False
        self._held_chats: set[int | str] = set()
        self._release_event: asyncio.Event | None = None  # replaced at each release

        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        # Set (and replaced by a fresh one) in the loop thread whenever the queue changes.
        self._updates_event: asyncio.Event | None = None
        self._stopping = False

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/bot`` — PTB appends the token and ``/<method>``."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """``http://127.0.0.1:PORT/file/bot`` — PTB appends the token and ``/<file_path>``."""
        return f"http://{self.host}:{self.port}/file/bot"

    def start(self) -> BotApiServer:
        if self._thread is not None:
            raise RuntimeError("BotApiServer already started")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self.host, self.port))
        sock.listen(128)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._serve(sock),), name="BotApiServer", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("BotApiServer did not start within 10 s")
        if self._startup_error is not None:
            raise RuntimeError("BotApiServer failed to start") from self._startup_error
        return self

    def stop(self) -> None:
        """Stop serving; waiting ``getUpdates`` calls return ``[]`` at once."""
        with self._lock:
            self._stopping = True
        loop, stop_event, thread = self._loop, self._stop_event, self._thread
        if loop is not None and stop_event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(stop_event.set)
        if thread is not None:
            thread.join(10)

    def __enter__(self) -> BotApiServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def _serve(self, sock: socket.socket) -> None:
        try:
            self._loop = asyncio.get_running_loop()
            self._stop_event = asyncio.Event()
            self._updates_event = asyncio.Event()
            self._release_event = asyncio.Event()
            app = web.Application(client_max_size=60 * 1024 * 1024)
            app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
            app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
            await runner.setup()
            await web.SockSite(runner, sock).start()
        except BaseException as exc:
            self._startup_error = exc
            self._ready.set()
            raise
        self._ready.set()
        try:
            await self._stop_event.wait()
            self._signal_pollers()
            self._release_held()
        finally:
            await runner.cleanup()

    def _signal_pollers(self) -> None:
        """Wake every waiting long poll (runs in the server's loop thread)."""
        assert self._updates_event is not None
        self._updates_event.set()
        self._updates_event = asyncio.Event()

    def _wake_pollers(self) -> None:
        """Called from any thread after the update queue changed."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # loop closed meanwhile
            loop.call_soon_threadsafe(self._signal_pollers)

    # ------------------------------------------------------------------ inspection

    @property
    def calls(self) -> list[ApiCall]:
        """Every authorised request, in the order answered (a copy)."""
        with self._lock:
            return list(self._calls)

    @property
    def limit_violations(self) -> int:
        with self._lock:
            return self._limit_violations

    @property
    def in_flight(self) -> int:
        """Messages (``sendMessage``/``sendPhoto``) arrived and not yet answered."""
        with self._lock:
            return sum(self._in_flight.values())

    @property
    def max_in_flight(self) -> int:
        """The most messages the server was answering at once (arrived, not yet answered)."""
        with self._lock:
            return self._max_in_flight

    @property
    def max_in_flight_per_chat(self) -> int:
        """The most messages to one chat the server was answering at once."""
        with self._lock:
            return self._max_in_flight_per_chat

    def wait_for_in_flight(self, count: int, timeout: float = 10) -> None:
        """Block until at least ``count`` messages are in flight at once (with
        :meth:`hold_answers`, the moment the client has sent that many without an answer)."""
        deadline = time.monotonic() + timeout
        with self._calls_changed:
            while sum(self._in_flight.values()) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"{sum(self._in_flight.values())} message(s) in flight after {timeout} s,"
                        f" not {count}"
                    )
                self._calls_changed.wait(remaining)

    async def wait_for_in_flight_async(self, count: int, timeout: float = 10) -> None:
        """:meth:`wait_for_in_flight` without blocking the running event loop."""
        await asyncio.to_thread(self.wait_for_in_flight, count, timeout)

    def hold_answers(self, *chat_ids: int | str) -> None:
        """Keep back the answers to ``sendMessage``/``sendPhoto`` (to these chats; to every chat
        if none is given) until :meth:`release_answers`. Messages are still checked, counted
        and stored on arrival; only the answer waits."""
        with self._lock:
            if chat_ids:
                self._held_chats.update(chat_ids)
            else:
                self._hold_all = True

    def release_answers(self) -> None:
        """Answer every held message now, and hold no more."""
        with self._lock:
            self._hold_all = False
            self._held_chats.clear()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # loop closed meanwhile
                loop.call_soon_threadsafe(self._release_held)

    def _release_held(self) -> None:
        """Wake every held answer (runs in the server's loop thread)."""
        assert self._release_event is not None
        self._release_event.set()
        self._release_event = asyncio.Event()

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued and not yet confirmed by a ``getUpdates`` offset (copies)."""
        with self._lock:
            return copy.deepcopy(self._updates)

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def sent_messages(self, chat_id: int | str | None = None) -> list[ApiCall]:
        """Successful ``sendMessage`` and ``sendPhoto`` calls (not edits, not failed attempts),
        optionally only those to ``chat_id``."""
        with self._lock:
            return [
                call
                for call in self._calls
                if call.ok
                and call.method in ("sendMessage", "sendPhoto")
                and (chat_id is None or call.chat_id == chat_id)
            ]

    def sent_texts(self, chat_id: int | str | None = None) -> list[str]:
        """``text``/``caption`` of :meth:`sent_messages`."""
        return [call.text or "" for call in self.sent_messages(chat_id)]

    def bot_messages(self, chat_id: int | str) -> list[dict[str, Any]]:
        """The bot's messages in ``chat_id`` as they are now (after edits, without deleted)."""
        with self._lock:
            return [
                copy.deepcopy(message)
                for message in self._messages.get(chat_id, {}).values()
                if message.get("from", {}).get("id") == self.bot_user["id"]
            ]

    def wait_for(
        self, predicate: Callable[[ApiCall], bool], timeout: float = 10, count: int = 1
    ) -> list[ApiCall]:
        """Block until ``count`` recorded calls match ``predicate``; return the first ``count``.

        Raises AssertionError listing the recent calls on timeout. Do not call it on the event
        loop that runs the bot (it blocks); use :meth:`wait_for_async` there.
        """
        deadline = time.monotonic() + timeout
        with self._calls_changed:
            while True:
                matches = [call for call in self._calls if predicate(call)]
                if len(matches) >= count:
                    return matches[:count]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._timeout_report(timeout, count, len(matches)))
                self._calls_changed.wait(remaining)

    async def wait_for_async(
        self, predicate: Callable[[ApiCall], bool], timeout: float = 10, count: int = 1
    ) -> list[ApiCall]:
        """:meth:`wait_for` without blocking the running event loop."""
        return await asyncio.to_thread(self.wait_for, predicate, timeout, count)

    def wait_for_message(
        self, chat_id: int | str, timeout: float = 10, count: int = 1
    ) -> list[ApiCall]:
        """Wait for ``count`` successful sendMessage/sendPhoto calls to ``chat_id``."""
        return self.wait_for(
            lambda c: c.ok and c.method in ("sendMessage", "sendPhoto") and c.chat_id == chat_id,
            timeout,
            count,
        )

    def wait_until_polling(self, timeout: float = 10) -> None:
        """Block until a ``getUpdates`` long poll is waiting on the server."""
        deadline = time.monotonic() + timeout
        with self._calls_changed:
            while self._pollers_waiting == 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no getUpdates long poll waiting after {timeout} s")
                self._calls_changed.wait(remaining)

    def _timeout_report(self, timeout: float, count: int, matched: int) -> str:
        polls = sum(call.method == "getUpdates" for call in self._calls)
        recent = [call for call in self._calls if call.method != "getUpdates"][-25:]
        lines = [
            f"timed out after {timeout} s waiting for {count} matching call(s), {matched} matched;"
            f" {len(self._calls)} call(s) recorded ({polls} getUpdates not shown),"
            f" {len(self._updates)} update(s) not yet fetched by the bot. Recent calls:"
        ]
        lines += [f"  {call.summary()}" for call in recent] or ["  (none)"]
        return "\n".join(lines)

    # ------------------------------------------------------------------ feeding updates

    def _next_message_id(self, chat_id: int | str) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def _chat_for(self, chat_id: int | str) -> dict[str, Any]:
        known = self._chats.get(chat_id)
        if known is not None:
            return dict(known)
        if isinstance(chat_id, int) and chat_id > 0:
            return {"id": chat_id, "type": "private"}
        if isinstance(chat_id, int) and str(chat_id).startswith("-100"):
            return {"id": chat_id, "title": "2002R Group", "type": "supergroup"}
        if isinstance(chat_id, int):
            return {"id": chat_id, "title": "2002R Group", "type": "group"}
        return {"id": -1001000000001, "title": chat_id, "username": chat_id[1:], "type": "channel"}

    def _queue(self, update: dict[str, Any]) -> None:
        with self._lock:
            self._updates.append(update)
        self._wake_pollers()

    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        first_name: str = "John",
        username: str | None = "johndoe",
        last_name: str | None = None,
        language_code: str | None = "en",
        chat_type: str = "private",
        chat_title: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """Queue a ``message`` Update as if a user typed ``text``; return that Update.

        ``bot_command`` entities are set for commands anywhere in the text (``/cmd``,
        ``/cmd@botname``). ``chat_id < 0`` makes a group chat: ``supergroup`` for ``-100...``
        ids, else ``group`` (or pass ``chat_type``). In private chats the user is the chat.
        With privacy mode on, a group message that is neither a command for this bot nor
        mentions it is recorded but not delivered (like Telegram), unless it replies to one of the
        bot's messages (``reply_to_message_id``): replies to the bot always reach it, which is
        what ForceReply prompts rely on.
        """
        if chat_id < 0 and chat_type == "private":
            chat_type = "supergroup" if str(chat_id).startswith("-100") else "group"
        if chat_type == "private":
            if chat_id <= 0:
                raise ValueError("a private chat id is the user's (positive) id")
            if user_id is not None and user_id != chat_id:
                raise ValueError("in a private chat user_id must equal chat_id")
            user_id = chat_id
        elif user_id is None:
            user_id = DEFAULT_USER_ID
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name is not None:
            user["last_name"] = last_name
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        if chat_type == "private":
            chat = {k: v for k, v in user.items() if k in ("id", "first_name", "last_name")}
            if username is not None:
                chat["username"] = username
            chat["type"] = "private"
        else:
            known_title = self._chats.get(chat_id, {}).get("title")
            title = chat_title or known_title or "2002R Group"
            chat = {"id": chat_id, "title": title, "type": chat_type}
            if chat_type == "group":  # still sent by Telegram for basic groups (see captures)
                chat["all_members_are_administrators"] = True
        with self._lock:
            self._users[user_id] = user
            self._chats[chat_id] = chat
            message: dict[str, Any] = {
                "message_id": self._next_message_id(chat_id),
                "from": copy.deepcopy(user),
                "chat": dict(chat),
                "date": int(time.time()),
                "text": text,
            }
            entities = _command_entities(text)
            if entities:
                message["entities"] = entities
            replied = None
            if reply_to_message_id is not None:
                replied = self._messages.get(chat_id, {}).get(reply_to_message_id)
                if replied is None:
                    raise LookupError(f"no message {reply_to_message_id} in chat {chat_id}")
                replied = copy.deepcopy(replied)
                replied.pop("reply_to_message", None)
                message["reply_to_message"] = replied
            self._messages.setdefault(chat_id, {})[message["message_id"]] = message
            update = {"update_id": next(self._update_ids), "message": copy.deepcopy(message)}
            to_bot = (
                replied is not None and replied.get("from", {}).get("id") == self.bot_user["id"]
            )
            delivered = chat_type == "private" or to_bot or self._delivered_in_group(text, entities)
        if delivered:
            self._queue(update)
        return copy.deepcopy(update)

    def _delivered_in_group(self, text: str, entities: list[dict[str, Any]]) -> bool:
        if not self.privacy_mode:
            return True
        if f"@{self.bot_username}".lower() in text.lower():
            return True
        if not text.startswith("/") or not entities or entities[0]["offset"] != 0:
            return False
        command = text[1 : entities[0]["length"]]
        return "@" not in command or command.split("@", 1)[1].lower() == self.bot_username.lower()

    def press_button(
        self,
        chat_id: int,
        data: str,
        *,
        message_id: int | None = None,
        user_id: int | None = None,
    ) -> dict[str, Any]:
        """Queue a ``callback_query`` Update for a button of a message the bot sent.

        The message is ``message_id`` or the bot's latest message in the chat that has an inline
        keyboard; ``data`` must be the ``callback_data`` of one of its buttons. The update
        carries the message as it is now (text, reply_markup), plus ``chat_instance``.
        """
        with self._lock:
            messages = self._messages.get(chat_id, {})
            if message_id is None:
                candidates = [
                    m
                    for m in messages.values()
                    if m.get("from", {}).get("id") == self.bot_user["id"]
                    and "inline_keyboard" in m.get("reply_markup", {})
                ]
                if not candidates:
                    raise LookupError(
                        f"the bot sent no message with an inline keyboard to {chat_id}"
                    )
                message = candidates[-1]
            else:
                chosen = messages.get(message_id)
                if chosen is None or chosen.get("from", {}).get("id") != self.bot_user["id"]:
                    raise LookupError(f"no bot message {message_id} in chat {chat_id}")
                message = chosen
            buttons = [
                button.get("callback_data")
                for row in message.get("reply_markup", {}).get("inline_keyboard", [])
                for button in row
            ]
            if data not in buttons:
                raise ValueError(
                    f"message {message['message_id']} in chat {chat_id} has no button with "
                    f"callback_data {data!r}; it has {buttons!r}"
                )
            if user_id is None:
                user_id = chat_id if chat_id > 0 else DEFAULT_USER_ID
            user = self._users.get(user_id) or {
                "id": user_id,
                "is_bot": False,
                "first_name": "John",
                "username": "johndoe",
                "language_code": "en",
            }
            query_id = str(next(self._query_ids))
            query = {
                "id": query_id,
                "from": copy.deepcopy(user),
                "message": copy.deepcopy(message),
                "chat_instance": str((abs(chat_id) * 2654435761 + 7721309288641) % 10**19),
                "data": data,
            }
            self._open_queries[query_id] = {"chat_id": chat_id, "answered": False}
            update = {"update_id": next(self._update_ids), "callback_query": query}
        self._queue(update)
        return copy.deepcopy(update)

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw Update dict (``update_id`` is assigned if missing); return it."""
        update = copy.deepcopy(update)
        with self._lock:
            if "update_id" not in update:
                update = {"update_id": next(self._update_ids), **update}
            else:
                self._update_ids = itertools.count(
                    max(next(self._update_ids), update["update_id"] + 1)
                )
        self._queue(update)
        return copy.deepcopy(update)

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        description: str | None = None,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (case-insensitive; ``"*"`` = any method
        but getUpdates), to ``chat_id`` only if given, with an error. 429 carries
        ``parameters.retry_after``; default descriptions: 400 "Bad Request: chat not found", 403
        "Forbidden: bot was blocked by the user", 409 getUpdates conflict, 502 "Bad Gateway"...
        Queued faults apply in order."""
        with self._lock:
            self._faults.append(
                _Fault(method.lower(), status, retry_after, times, description, chat_id)
            )

    def set_admins(self, chat_id: int, *user_ids: int) -> None:
        """Who ``getChatMember`` reports as the group's administrators (the first one as its
        creator); everyone else is a plain member."""
        with self._lock:
            self._admins[chat_id] = list(user_ids)

    def block_chat(self, chat_id: int | str) -> None:
        """From now on every call with this ``chat_id`` → 403 (blocked by the user / kicked)."""
        with self._lock:
            self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int | str) -> None:
        with self._lock:
            self._blocked.discard(chat_id)

    def _take_fault(self, method: str, chat_id: Any = None) -> _ApiError | None:
        for fault in self._faults:
            if fault.remaining <= 0 or (fault.chat_id is not None and fault.chat_id != chat_id):
                continue
            if fault.method == method.lower() or (fault.method == "*" and method != "getUpdates"):
                fault.remaining -= 1
                if fault.status == 429:
                    return _ApiError(
                        429,
                        fault.description or f"Too Many Requests: retry after {fault.retry_after}",
                        {"retry_after": fault.retry_after},
                    )
                description = fault.description or _DEFAULT_DESCRIPTIONS.get(
                    fault.status, f"Error {fault.status}"
                )
                return _ApiError(fault.status, description)
        return None

    def _check_blocked(self, chat_id: Any) -> None:
        if not isinstance(chat_id, int | str) or chat_id not in self._blocked:
            return
        chat_type = self._chat_for(chat_id)["type"]
        if chat_type == "private":
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_type == "group":
            raise _ApiError(403, "Forbidden: bot was kicked from the group chat")
        raise _ApiError(403, f"Forbidden: bot was kicked from the {chat_type} chat")

    def _check_limits(self, chat_id: int | str, now: float) -> None:
        """Flood limits as leaky buckets (the model of PTB's AIORateLimiter/aiolimiter).

        Every counted message must fit all of its buckets:

        * overall: capacity ``global_per_second``, drains ``global_per_second``/s;
        * a private chat (id > 0): capacity 1, drains ``private_per_second``/s — i.e. with the
          default 1/s two messages to one user must be >= 1 s apart (no burst);
        * a group/supergroup (id < 0): capacity ``group_per_minute``, drains
          ``group_per_minute``/60 per s — a burst of 20, then one every 3 s.

        A message is accepted if it would fit ``LIMIT_TOLERANCE`` seconds later (at most half a
        message of slack). Otherwise → 429 "Too Many Requests: retry after N" with
        ``parameters.retry_after`` = seconds until it fits (rounded up, >= 1), the message is not
        sent, nothing is consumed and ``limit_violations`` is incremented.
        """
        if not self.enforce_limits:
            return
        buckets: list[tuple[Any, float, float]] = [
            ("global", self.global_per_second, self.global_per_second)
        ]
        if isinstance(chat_id, int) and chat_id > 0:
            buckets.append((("private", chat_id), 1.0, self.private_per_second))
        else:
            buckets.append((("group", chat_id), self.group_per_minute, self.group_per_minute / 60))
        waits: list[float] = []
        levels: list[float] = []
        for key, capacity, rate in buckets:
            bucket = self._buckets.get(key)
            level = 0.0 if bucket is None else max(0.0, bucket.level - (now - bucket.last) * rate)
            levels.append(level)
            slack = min(rate * LIMIT_TOLERANCE, 0.5)
            if level + 1 > capacity + slack:
                waits.append((level + 1 - capacity) / rate)
        if waits:
            self._limit_violations += 1
            retry_after = max(1, math.ceil(max(waits) - 1e-9))
            raise _ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        for (key, _capacity, _rate), level in zip(buckets, levels, strict=True):
            self._buckets[key] = _Bucket(level + 1, now)

    # ------------------------------------------------------------------ HTTP

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        path = request.match_info["path"]
        with self._lock:
            found = next((data for data, p in self._files.values() if p == path), None)
        if found is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=found, content_type="application/octet-stream")

    async def _read_request(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, bytes] = {}
        if request.content_type == "application/json":
            body = await request.read()
            if body.strip():
                data = json.loads(body)
                if not isinstance(data, dict):
                    raise _bad_request("parameters must be a JSON object")
                raw.update(data)
        elif request.body_exists:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = value.file.read()
                else:
                    raw[key] = value
        return _decode_params(raw), files

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        received = time.monotonic()
        name = request.match_info["method"]
        if request.match_info["token"] != self.token:
            # as Telegram answers a revoked or mistyped token; recorded (status 401, no
            # parameters) so a test can wait for the rejection
            rejected = {"ok": False, "error_code": 401, "description": "Unauthorized"}
            with self._calls_changed:
                self._calls.append(
                    ApiCall(
                        method=self._METHODS.get(name.lower(), name),
                        params={},
                        time=received,
                        chat_id=None,
                        status=401,
                        result=rejected,
                    )
                )
                self._calls_changed.notify_all()
            return web.json_response(rejected, status=401)
        method = self._METHODS.get(name.lower())
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        photo: bytes | None = None
        body: dict[str, Any]
        flight: tuple[Any] | None = None  # (chat,) of a message in flight, once it arrived
        try:
            try:
                params, files = await self._read_request(request)
            except ValueError as exc:
                raise _bad_request(f"can't parse request: {exc}") from exc
            if method is None:
                raise _ApiError(404, "Not Found: method not found")
            if method in LIMITED_METHODS:
                flight = self._arrive(params.get("chat_id"))
            if method == "getUpdates":
                result: Any = await self._get_updates(params)
            else:
                with self._lock:
                    fault = self._take_fault(method, params.get("chat_id"))
                    if fault is not None:
                        raise fault
                    self._check_blocked(params.get("chat_id"))
                    handler = getattr(self, self._HANDLERS[method])
                    if method == "sendPhoto":
                        photo, result = handler(params, files, received)
                    else:
                        result = handler(params, files, received)
            body = {"ok": True, "result": result}
            if isinstance(result, _Described):
                body = {"ok": True, "result": result.result, "description": result.description}
            status = 200
        except _ApiError as error:
            status, body = error.status, error.body()
        if flight is not None:
            try:
                await self._answer_later(flight[0])
            finally:
                self._leave(flight[0])
        chat_id = params.get("chat_id")
        if chat_id is None and method == "answerCallbackQuery":
            with self._lock:
                query = self._open_queries.get(str(params.get("callback_query_id")))
            chat_id = query["chat_id"] if query else None
        call = ApiCall(
            method=method or name,
            params=params,
            time=received,
            chat_id=chat_id,
            photo=photo,
            status=status,
            result=body["result"] if status == 200 else body,
            files=files,
        )
        with self._calls_changed:
            self._calls.append(call)
            self._calls_changed.notify_all()
        return web.json_response(body, status=status)

    def _arrive(self, chat_id: Any) -> tuple[Any]:
        """Count a message in flight from its arrival; returns its chat as a 1-tuple."""
        key = chat_id if isinstance(chat_id, int | str) else repr(chat_id)
        with self._calls_changed:
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
            self._max_in_flight_per_chat = max(self._max_in_flight_per_chat, self._in_flight[key])
            self._max_in_flight = max(self._max_in_flight, sum(self._in_flight.values()))
            self._calls_changed.notify_all()
        return (key,)

    def _leave(self, key: Any) -> None:
        with self._calls_changed:
            self._in_flight[key] -= 1
            if not self._in_flight[key]:
                del self._in_flight[key]
            self._calls_changed.notify_all()

    async def _answer_later(self, key: Any) -> None:
        """The round trip: ``response_delay``, then any hold (see `hold_answers`); stopping
        the server answers at once."""
        if self.response_delay > 0 and self._stop_event is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_event.wait(), self.response_delay)
        # No await between checking the hold and taking the event: a release after the check
        # sets exactly this event.
        with self._lock:
            held = not self._stopping and (self._hold_all or key in self._held_chats)
        event = self._release_event
        if held and event is not None:
            await event.wait()

    # ------------------------------------------------------------------ getUpdates

    def _select_updates(self, limit: int) -> list[dict[str, Any]]:
        allowed = set(self._allowed_updates or ()) or _DEFAULT_ALLOWED_UPDATES
        self._updates = [u for u in self._updates if _update_type(u) in allowed]
        return copy.deepcopy(self._updates[:limit])

    def _confirm(self, offset: Any) -> None:
        if not isinstance(offset, int) or offset == 0:
            return
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        else:
            self._updates = self._updates[offset:]

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        assert self._loop is not None
        timeout = min(max(float(params.get("timeout") or 0), 0.0), 50.0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        with self._lock:
            fault = self._take_fault("getUpdates")
            if fault is not None:
                raise fault
            if self._webhook.get("url"):
                raise _ApiError(409, _CONFLICT_WEBHOOK)
            if params.get("allowed_updates") is not None:
                self._allowed_updates = list(params["allowed_updates"])
            self._confirm(params.get("offset"))
            self._poll_generation += 1
            generation = self._poll_generation
        self._signal_pollers()  # an older long poll sees it was superseded
        deadline = self._loop.time() + timeout
        while True:
            # No await between reading the event and checking the queue: a change signalled
            # after the check sets exactly this event.
            event = self._updates_event
            assert event is not None
            with self._lock:
                if generation != self._poll_generation:
                    raise _ApiError(409, _CONFLICT_OTHER_POLL)
                batch = self._select_updates(limit)
                if batch or self._stopping:
                    return batch
            remaining = deadline - self._loop.time()
            if remaining <= 0:
                return []
            with self._calls_changed:
                self._pollers_waiting += 1
                self._calls_changed.notify_all()
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
            finally:
                with self._lock:
                    self._pollers_waiting -= 1

    # ------------------------------------------------------------------ methods

    _METHODS: dict[str, str] = {
        name.lower(): name
        for name in (
            "getMe",
            "getUpdates",
            "sendMessage",
            "sendPhoto",
            "editMessageText",
            "editMessageReplyMarkup",
            "deleteMessage",
            "answerCallbackQuery",
            "getChatMember",
            "sendChatAction",
            "setMyCommands",
            "getMyCommands",
            "deleteMyCommands",
            "setWebhook",
            "deleteWebhook",
            "getWebhookInfo",
            "getFile",
            "close",
            "logOut",
        )
    }
    _HANDLERS: dict[str, str] = {
        name: "_m_" + re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower() for name in _METHODS.values()
    }

    def _require_chat(self, params: dict[str, Any]) -> int | str:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        if not isinstance(chat_id, int | str):
            raise _bad_request("chat not found")
        return chat_id

    def _validate_text(self, text: Any, parse_mode: Any, *, caption: bool = False) -> None:
        if not isinstance(text, str):
            if caption and text is None:
                return
            raise _bad_request("message text is empty")
        visible = _rendered_text(text, parse_mode, self.validate_markup)
        if caption:
            if _utf16_len(visible) > MAX_CAPTION_LENGTH:
                raise _bad_request("message caption is too long")
            return
        if not visible.strip():
            raise _bad_request("message text is empty")
        if _utf16_len(visible) > MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")

    def _validate_markup(self, markup: Any) -> dict[str, Any] | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not (
                    0 < len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
                ):
                    raise _bad_request("BUTTON_DATA_INVALID")
        return markup

    def _reply_to(self, chat_id: int | str, params: dict[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply"))
            target_chat = reply.get("chat_id", chat_id)
        elif params.get("reply_to_message_id") is not None:
            message_id = params["reply_to_message_id"]
            allow_missing = bool(params.get("allow_sending_without_reply"))
            target_chat = chat_id
        else:
            return None
        original = self._messages.get(target_chat, {}).get(int(message_id or 0))
        if original is None:
            if allow_missing:
                return None
            raise _bad_request("message to be replied not found")
        replied = copy.deepcopy(original)
        replied.pop("reply_to_message", None)
        return replied

    def _store_bot_message(
        self, chat_id: int | str, params: dict[str, Any], content: dict[str, Any]
    ) -> dict[str, Any]:
        reply_to = self._reply_to(chat_id, params)
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "from": dict(self.bot_user),
            "chat": self._chat_for(chat_id),
            "date": int(time.time()),
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = copy.deepcopy(markup)
        self._messages.setdefault(chat_id, {})[message["message_id"]] = message
        return copy.deepcopy(message)

    def _m_get_me(self, params: dict[str, Any], files: dict[str, bytes], now: float) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_send_message(self, params: dict[str, Any], files: dict[str, bytes], now: float) -> Any:
        chat_id = self._require_chat(params)
        text = params.get("text")
        self._validate_text(text, params.get("parse_mode"))
        self._validate_markup(params.get("reply_markup"))
        self._reply_to(chat_id, params)
        self._check_limits(chat_id, now)
        content: dict[str, Any] = {"text": text}
        if isinstance(params.get("entities"), list):
            content["entities"] = params["entities"]
        if isinstance(params.get("link_preview_options"), dict):
            content["link_preview_options"] = params["link_preview_options"]
        return self._store_bot_message(chat_id, params, content)

    def _m_send_photo(
        self, params: dict[str, Any], files: dict[str, bytes], now: float
    ) -> tuple[bytes | None, Any]:
        chat_id = self._require_chat(params)
        ref = params.get("photo")
        data: bytes | None = files.get("photo")
        if data is None and isinstance(ref, str) and ref.startswith("attach://"):
            data = files.get(ref.removeprefix("attach://"))
            if data is None:
                raise _bad_request(f"file {ref} not found in the request")
        file_id: str | None = None
        if data is None:
            if not isinstance(ref, str) or not ref:
                raise _bad_request("there is no photo in the request")
            if ref in self._files:
                file_id, data = ref, self._files[ref][0]
            elif not ref.startswith(("http://", "https://")):
                raise _bad_request("wrong file identifier/HTTP URL specified")
        size = (1280, 720) if data is None else _image_size(data)
        if size is None:
            raise _bad_request("IMAGE_PROCESS_FAILED")
        self._validate_text(params.get("caption"), params.get("parse_mode"), caption=True)
        self._validate_markup(params.get("reply_markup"))
        self._reply_to(chat_id, params)
        self._check_limits(chat_id, now)
        number = next(self._file_ids)
        sizes = self._photo_sizes(file_id or f"AgACAgIAAxkBAAI{number:08d}", number, size, data)
        if file_id is None and data is not None:
            extension = {b"\x89P": "png", b"GI": "gif", b"RI": "webp"}.get(data[:2], "jpg")
            for index, photo_size in enumerate(sizes):
                path = f"photos/file_{number}_{index}.{extension}"
                self._files[photo_size["file_id"]] = (data, path)
        content: dict[str, Any] = {"photo": sizes}
        if params.get("caption") is not None:
            content["caption"] = params["caption"]
        if isinstance(params.get("caption_entities"), list):
            content["caption_entities"] = params["caption_entities"]
        return data, self._store_bot_message(chat_id, params, content)

    @staticmethod
    def _photo_sizes(
        file_id: str, number: int, size: tuple[int, int], data: bytes | None
    ) -> list[dict[str, Any]]:
        width, height = size
        longest = max(width, height, 1)
        sides = [side for side in (90, 320, 800) if side < longest] + [min(longest, 1280)]
        sizes = []
        for index, side in enumerate(sides):
            scale = side / longest
            last = index == len(sides) - 1
            sizes.append(
                {
                    "file_id": file_id if last else f"{file_id}-{side}",
                    "file_unique_id": f"AQAD{number:06d}{side}",
                    "file_size": len(data) if data is not None and last else 1000 + side,
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                }
            )
        return sizes

    def _find_bot_message(
        self, params: dict[str, Any], missing: str
    ) -> tuple[int | str, dict[str, Any]] | None:
        if params.get("inline_message_id") is not None:
            return None
        chat_id = self._require_chat(params)
        message = self._messages.get(chat_id, {}).get(int(params.get("message_id") or 0))
        if message is None:
            raise _bad_request(missing)
        if message.get("from", {}).get("id") != self.bot_user["id"]:
            raise _bad_request("message can't be edited")
        return chat_id, message

    def _m_edit_message_text(
        self, params: dict[str, Any], files: dict[str, bytes], now: float
    ) -> Any:
        found = self._find_bot_message(params, "message to edit not found")
        text = params.get("text")
        self._validate_text(text, params.get("parse_mode"))
        markup = self._validate_markup(params.get("reply_markup"))
        if found is None:
            return True  # inline message
        _chat_id, message = found
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        if message["text"] == text and message.get("reply_markup") == markup:
            raise _ApiError(400, _NOT_MODIFIED)
        message["text"] = text
        message["edit_date"] = int(time.time())
        self._set_markup(message, markup)
        return copy.deepcopy(message)

    def _m_edit_message_reply_markup(
        self, params: dict[str, Any], files: dict[str, bytes], now: float
    ) -> Any:
        found = self._find_bot_message(params, "message to edit not found")
        markup = self._validate_markup(params.get("reply_markup"))
        if found is None:
            return True
        _chat_id, message = found
        if message.get("reply_markup") == markup:
            raise _ApiError(400, _NOT_MODIFIED)
        message["edit_date"] = int(time.time())
        self._set_markup(message, markup)
        return copy.deepcopy(message)

    @staticmethod
    def _set_markup(message: dict[str, Any], markup: dict[str, Any] | None) -> None:
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = copy.deepcopy(markup)
        else:
            message.pop("reply_markup", None)

    def _m_delete_message(self, params: dict[str, Any], files: dict[str, bytes], now: float) -> Any:
        chat_id = self._require_chat(params)
        if self._messages.get(chat_id, {}).pop(int(params.get("message_id") or 0), None) is None:
            raise _bad_request("message to delete not found")
        return True

    def _m_answer_callback_query(
        self, params: dict[str, Any], files: dict[str, bytes], now: float
    ) -> Any:
        query = self._open_queries.get(str(params.get("callback_query_id")))
        if query is None or query["answered"]:
            raise _ApiError(400, _QUERY_INVALID)
        query["answered"] = True
        return True

    def _m_get_chat_member(
        self, params: dict[str, Any], files: dict[str, bytes], now: float
    ) -> Any:
        chat_id = self._require_chat(params)
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise _bad_request("invalid user_id specified")
        user = self._users.get(user_id, {"id": user_id, "is_bot": False, "first_name": "User"})
        admins = self._admins.get(int(chat_id), [])
        if isinstance(chat_id, int) and chat_id > 0:
            admins = [chat_id]  # a private chat's user
        if user_id not in admins:
            return {"status": "member", "user": user}
        if user_id == admins[0]:
            return {"status": "creator", "user": user, "is_anonymous": False}
        rights = dict.fromkeys(
            [
                "can_be_edited",
                "can_manage_chat",
                "can_delete_messages",
                "can_manage_video_chats",
                "can_restrict_members",
                "can_promote_members",
                "can_change_info",
                "can_invite_users",
                "can_post_stories",
                "can_edit_stories",
                "can_delete_stories",
            ],
            False,
        )
        return {"status": "administrator", "user": user, "is_anonymous": False, **rights}

    def _m_send_chat_action(
        self, params: dict[str, Any], files: dict[str, bytes], now: float
    ) -> Any:
        self._require_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _m_set_my_commands(
        self, params: dict[str, Any], files: dict[str, bytes], now: float
    ) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_NAME_RE.match(
                str(command.get("command", ""))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        if commands:
            self._commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self._commands.pop(key, None)
        return True

    def _m_get_my_commands(
        self, params: dict[str, Any], files: dict[str, bytes], now: float
    ) -> Any:
        return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    def _m_delete_my_commands(
        self, params: dict[str, Any], files: dict[str, bytes], now: float
    ) -> Any:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _m_set_webhook(self, params: dict[str, Any], files: dict[str, bytes], now: float) -> Any:
        url = str(params.get("url") or "")
        if not url:
            return self._m_delete_webhook(params, files, now)
        if not url.startswith("https://"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._webhook = {"url": url, "max_connections": int(params.get("max_connections") or 40)}
        if params.get("allowed_updates") is not None:
            self._allowed_updates = list(params["allowed_updates"])
        return _Described(True, "Webhook was set")

    def _m_delete_webhook(self, params: dict[str, Any], files: dict[str, bytes], now: float) -> Any:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        was_set = bool(self._webhook.get("url"))
        self._webhook = {}
        return _Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    def _m_get_webhook_info(
        self, params: dict[str, Any], files: dict[str, bytes], now: float
    ) -> Any:
        info: dict[str, Any] = {
            "url": self._webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook.get("url"):
            info["max_connections"] = self._webhook["max_connections"]
            if self._allowed_updates:
                info["allowed_updates"] = list(self._allowed_updates)
        return info

    def _m_get_file(self, params: dict[str, Any], files: dict[str, bytes], now: float) -> Any:
        file_id = str(params.get("file_id") or "")
        stored = self._files.get(file_id)
        if stored is None:
            raise _bad_request("invalid file_id")
        data, path = stored
        return {
            "file_id": file_id,
            "file_unique_id": "AQAD" + file_id[-8:],
            "file_size": len(data),
            "file_path": path,
        }

    def _m_close(self, params: dict[str, Any], files: dict[str, bytes], now: float) -> Any:
        return True

    def _m_log_out(self, params: dict[str, Any], files: dict[str, bytes], now: float) -> Any:
        return True
