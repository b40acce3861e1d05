"""The local Bot API server, exercised by the real python-telegram-bot 22 client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import json
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes
from telegram.helpers import escape_markdown
from telegram.request import HTTPXRequest

from tests.bot.botapi import DEFAULT_TOKEN, ApiCall, BotApiServer

T = TypeVar("T")

# RetryAfter's own constructor reads `retry_after`, which warns in PTB 22 (int → timedelta).
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)

# 1x1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)

KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Watch size 10", callback_data="watch:M2002RDA:10"),
            InlineKeyboardButton("Shop", url="https://example.com/2002r"),
        ]
    ]
)


def make_bot(server: BotApiServer, token: str | None = None) -> Bot:
    return Bot(token or server.token, base_url=server.base_url, base_file_url=server.base_file_url)


def with_bot(server: BotApiServer, scenario: Callable[[Bot], Awaitable[T]]) -> T:
    async def main() -> T:
        async with make_bot(server) as bot:
            return await scenario(bot)

    return asyncio.run(main())


def retry_after_seconds(exc: RetryAfter) -> float:
    # PTB 22 returns an int (with a deprecation warning) unless PTB_TIMEDELTA=true, then a
    # timedelta.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def shape(value: Any) -> Any:
    """Key structure of a JSON value: dict keys (recursively), list of first element's shape."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def post_raw(url: str, body: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# ---------------------------------------------------------------- basic methods


def test_get_me_returns_the_bot_user(server: BotApiServer) -> None:
    me = with_bot(server, lambda bot: bot.get_me())

    assert me.id == 123456
    assert me.is_bot
    assert me.username == "pricewatch2002r_bot"
    assert me.can_read_all_group_messages is False  # privacy mode, like a fresh real bot
    assert server.calls[0].method == "getMe"


def test_send_message_records_text_parse_mode_and_keyboard(server: BotApiServer) -> None:
    async def scenario(bot: Bot) -> Any:
        return await bot.send_message(
            42, "<b>2002R</b> now $129.99", parse_mode=ParseMode.HTML, reply_markup=KEYBOARD
        )

    message = with_bot(server, scenario)

    assert message.chat_id == 42
    assert message.from_user is not None and message.from_user.username == server.bot_username
    assert message.reply_markup == KEYBOARD  # round-trips through the wire and back
    [call] = server.sent_messages(42)
    assert call.method == "sendMessage"
    assert call.chat_id == 42
    assert call.text == "<b>2002R</b> now $129.99"
    assert call.params["parse_mode"] == "HTML"
    assert call.reply_markup == KEYBOARD.to_dict()
    assert call.result["message_id"] == message.message_id
    assert server.sent_texts() == ["<b>2002R</b> now $129.99"]


def test_send_photo_keeps_the_uploaded_bytes(server: BotApiServer) -> None:
    async def scenario(bot: Bot) -> tuple[Any, bytes]:
        message = await bot.send_photo(42, PNG, caption="Price history", filename="chart.png")
        file = await bot.get_file(message.photo[-1].file_id)
        return message, bytes(await file.download_as_bytearray())

    message, downloaded = with_bot(server, scenario)

    [call] = server.sent_messages(42)
    assert call.method == "sendPhoto"
    assert call.photo == PNG
    assert call.text == "Price history"
    assert (message.photo[-1].width, message.photo[-1].height) == (1, 1)
    assert message.caption == "Price history"
    assert downloaded == PNG


def test_send_photo_rejects_bytes_that_are_no_image(server: BotApiServer) -> None:
    with pytest.raises(BadRequest, match="Image_process_failed"):
        with_bot(server, lambda bot: bot.send_photo(42, b"not an image", filename="x.png"))
    assert server.sent_messages() == []


def test_set_get_and_delete_my_commands(server: BotApiServer) -> None:
    commands = [BotCommand("start", "Subscribe"), BotCommand("price", "Cheapest 2002R now")]

    async def scenario(bot: Bot) -> tuple[Any, Any, Any]:
        assert await bot.set_my_commands(commands)
        stored = await bot.get_my_commands()
        other_language = await bot.get_my_commands(language_code="de")
        assert await bot.delete_my_commands()
        return stored, other_language, await bot.get_my_commands()

    stored, other_language, after_delete = with_bot(server, scenario)

    assert list(stored) == commands
    assert other_language == ()
    assert after_delete == ()


def test_invalid_command_name_is_rejected(server: BotApiServer) -> None:
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        with_bot(server, lambda bot: bot.set_my_commands([BotCommand("Price-Now", "x")]))


# ---------------------------------------------------------------- updates


def test_get_updates_returns_fed_updates_and_honours_offset(server: BotApiServer) -> None:
    first = server.send_text(42, "/start")
    second = server.send_text(42, "hello")

    async def scenario(bot: Bot) -> tuple[Any, Any, Any]:
        both = await bot.get_updates()
        again = await bot.get_updates()  # nothing confirmed yet
        after = await bot.get_updates(offset=both[0].update_id + 1)
        return both, again, after

    both, again, after = with_bot(server, scenario)

    assert [u.update_id for u in both] == [first["update_id"], second["update_id"]]
    assert second["update_id"] == first["update_id"] + 1
    assert [u.update_id for u in again] == [u.update_id for u in both]
    assert [u.message.text for u in after if u.message] == ["hello"]
    start = both[0].message
    assert start is not None
    assert start.text == "/start"
    assert start.parse_entities() == {start.entities[0]: "/start"}
    assert start.chat.type == "private"
    assert start.from_user is not None and start.from_user.id == 42
    assert both[1].message is not None
    assert both[1].message.message_id == start.message_id + 1
    assert [u["update_id"] for u in server.pending_updates] == [second["update_id"]]


def test_long_poll_returns_as_soon_as_an_update_is_pushed(server: BotApiServer) -> None:
    async def scenario(bot: Bot) -> tuple[float, Any]:
        poll = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.to_thread(server.wait_until_polling, 5)
        pushed = time.monotonic()
        server.send_text(42, "any news?")
        updates = await poll
        return time.monotonic() - pushed, updates

    elapsed, updates = with_bot(server, scenario)

    assert [u.message.text for u in updates if u.message] == ["any news?"]
    assert elapsed < 1.0, f"long poll took {elapsed:.2f} s after the update was pushed"


def test_long_poll_without_updates_waits_for_its_timeout(server: BotApiServer) -> None:
    async def scenario(bot: Bot) -> tuple[float, Any]:
        started = time.monotonic()
        updates = await bot.get_updates(timeout=dtm.timedelta(seconds=0.3))
        return time.monotonic() - started, updates

    elapsed, updates = with_bot(server, scenario)

    assert updates == ()
    assert 0.25 <= elapsed < 1.5


def test_stop_ends_a_waiting_long_poll_at_once() -> None:
    server = BotApiServer().start()

    async def main() -> tuple[float, Any]:
        async with make_bot(server) as bot:
            poll = asyncio.create_task(bot.get_updates(timeout=5))
            await asyncio.to_thread(server.wait_until_polling, 5)
            stopping = time.monotonic()
            await asyncio.to_thread(server.stop)
            return time.monotonic() - stopping, await poll

    elapsed, updates = asyncio.run(main())

    assert updates == ()
    assert elapsed < 1.5


def test_second_poller_terminates_the_first_with_conflict(server: BotApiServer) -> None:
    async def main() -> None:
        async with make_bot(server) as first, make_bot(server) as second:
            poll = asyncio.create_task(first.get_updates(timeout=5))
            await asyncio.to_thread(server.wait_until_polling, 5)
            assert await second.get_updates(timeout=0) == ()
            with pytest.raises(Conflict, match="terminated by other getUpdates request"):
                await poll

    asyncio.run(main())


def test_webhook_blocks_get_updates_until_deleted(server: BotApiServer) -> None:
    async def scenario(bot: Bot) -> None:
        assert await bot.set_webhook("https://bot.example.com/hook")
        assert (await bot.get_webhook_info()).url == "https://bot.example.com/hook"
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        assert await bot.delete_webhook()
        assert (await bot.get_webhook_info()).url == ""
        assert await bot.get_updates() == ()

    with_bot(server, scenario)
    [set_call] = [c for c in server.calls if c.method == "setWebhook"]
    assert set_call.params["url"] == "https://bot.example.com/hook"


def test_updates_have_the_shapes_of_real_telegram_captures(server: BotApiServer) -> None:
    # Shapes of tests/fixtures/realdata/telegram-*-silikidi-Telegram-JSON-Response.json
    # (getUpdates /start message; update-group-command; update-callback_query).
    user = {
        "id": 1850121251,
        "is_bot": False,
        "first_name": "JOHN",
        "last_name": "DOE",
        "username": "johndoe",
        "language_code": "en",
    }
    private_chat = {
        "id": 1850121251,
        "first_name": "JOHN",
        "last_name": "DOE",
        "username": "johndoe",
        "type": "private",
    }
    real_start = {
        "update_id": 166770233,
        "message": {
            "message_id": 977,
            "from": user,
            "chat": private_chat,
            "date": 1634907081,
            "text": "/start",
            "entities": [{"offset": 0, "length": 6, "type": "bot_command"}],
        },
    }
    real_group = {
        "update_id": 603402578,
        "message": {
            "message_id": 344,
            "from": user,
            "chat": {
                "id": -713953955,
                "title": "GROUPME",
                "type": "group",
                "all_members_are_administrators": True,
            },
            "date": 1634896615,
            "text": "/start@simrsjsonbot",
            "entities": [{"offset": 0, "length": 19, "type": "bot_command"}],
        },
    }
    real_callback: dict[str, Any] = {
        "update_id": 420112307,
        "callback_query": {
            "id": "7866573844579717058",
            "from": user,
            "message": {
                "message_id": 391,
                "from": {
                    "id": 202666666207,
                    "is_bot": True,
                    "first_name": "FORM BOT",
                    "username": "simrsformbot",
                },
                "chat": private_chat,
                "date": 1635743365,
                "text": "Demo inlinekeyboards_3",
                "reply_markup": {
                    "inline_keyboard": [
                        [
                            {"text": "👆 EMPTY", "callback_data": "emptyness"},
                            {"text": "🤘 CALLBACK_DATA", "callback_data": "Hello world!"},
                            {"text": "🤟 URL", "url": "https://telegram-bot-script.blogspot.com/"},
                        ]
                    ]
                },
            },
            "chat_instance": "7721309288641021086",
            "data": "Hello world!",
        },
    }
    start = server.send_text(1850121251, "/start", first_name="JOHN", last_name="DOE")
    group = server.send_text(
        -713953955,
        "/start@pricewatch2002r_bot",
        chat_title="GROUPME",
        first_name="JOHN",
        last_name="DOE",
    )
    keyboard = InlineKeyboardMarkup.de_json(
        real_callback["callback_query"]["message"]["reply_markup"], None
    )
    with_bot(server, lambda bot: bot.send_message(1850121251, "Pick one", reply_markup=keyboard))
    callback = server.press_button(1850121251, "Hello world!")

    assert shape(start) == shape(real_start)
    assert shape(group) == shape(real_group)
    assert shape(callback) == shape(real_callback)
    assert group["message"]["entities"] == [{"offset": 0, "length": 26, "type": "bot_command"}]
    assert group["message"]["chat"]["type"] == "group"
    assert group["message"]["from"]["id"] == 1850121251
    assert callback["callback_query"]["message"]["reply_markup"] == keyboard.to_dict()


def test_command_entities_use_utf16_offsets_like_telegram(server: BotApiServer) -> None:
    update = server.send_text(42, "👟 see /price@pricewatch2002r_bot or /help.")

    message = Update.de_json(update, None).message
    assert message is not None
    assert list(message.parse_entities().values()) == ["/price@pricewatch2002r_bot", "/help"]
    assert update["message"]["entities"][0] == {"offset": 7, "length": 26, "type": "bot_command"}


def test_privacy_mode_hides_group_chatter_but_not_commands(server: BotApiServer) -> None:
    server.send_text(-1001234567890, "anyone seen the 2002R Rain Cloud?")
    server.send_text(-1001234567890, "/start@some_other_bot")
    command = server.send_text(-1001234567890, "/price")
    mention = server.send_text(-1001234567890, "@pricewatch2002r_bot price?")

    pending = server.pending_updates
    assert [u["update_id"] for u in pending] == [command["update_id"], mention["update_id"]]
    assert pending[0]["message"]["chat"]["type"] == "supergroup"


# ---------------------------------------------------------------- callback queries and edits


def test_press_button_delivers_a_callback_query_that_can_be_answered_once(
    server: BotApiServer,
) -> None:
    async def scenario(bot: Bot) -> Update:
        sent = await bot.send_message(42, "2002R Protection Pack: $150", reply_markup=KEYBOARD)
        server.press_button(42, "watch:M2002RDA:10")
        [update] = await bot.get_updates()
        query = update.callback_query
        assert query is not None
        assert query.message is not None and query.message.message_id == sent.message_id
        assert await query.answer("Watching size 10")
        with pytest.raises(BadRequest, match="Query is too old"):
            await query.answer("again")
        return update

    update = with_bot(server, scenario)

    query = update.callback_query
    assert query is not None and isinstance(query.message, Message)
    assert query.data == "watch:M2002RDA:10"
    assert query.from_user.id == 42
    assert query.chat_instance
    assert query.message.text == "2002R Protection Pack: $150"
    assert query.message.reply_markup == KEYBOARD
    [answer] = [c for c in server.calls if c.method == "answerCallbackQuery" and c.ok]
    assert answer.chat_id == 42
    assert answer.params["text"] == "Watching size 10"
    with pytest.raises(ValueError, match="no button with callback_data 'nope'"):
        server.press_button(42, "nope")


def test_edits_behave_like_telegram(server: BotApiServer) -> None:
    async def scenario(bot: Bot) -> None:
        sent = await bot.send_message(42, "Size 10: $150", reply_markup=KEYBOARD)
        with pytest.raises(BadRequest, match="Message is not modified"):
            await sent.edit_text("Size 10: $150", reply_markup=KEYBOARD)
        edited = await sent.edit_text("Size 10: $129")  # no reply_markup: keyboard removed
        assert isinstance(edited, Message)
        assert edited.text == "Size 10: $129"
        assert edited.reply_markup is None
        assert await sent.edit_reply_markup(KEYBOARD)
        assert await sent.delete()
        with pytest.raises(BadRequest, match="Message to delete not found"):
            await sent.delete()
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await sent.edit_text("gone")

    with_bot(server, scenario)

    assert server.bot_messages(42) == []
    assert [c.method for c in server.calls if c.ok and c.method.startswith("edit")] == [
        "editMessageText",
        "editMessageReplyMarkup",
    ]
    assert server.sent_texts(42) == ["Size 10: $150"]  # edits are not in sent_messages


# ---------------------------------------------------------------- parse modes


@pytest.mark.parametrize(
    ("text", "parse_mode", "error"),
    [
        ("2002R now $129.99", ParseMode.MARKDOWN_V2, "character '.' is reserved"),
        ("*2002R now", ParseMode.MARKDOWN_V2, "can't find end of bold entity"),
        ("<blink>2002R</blink>", ParseMode.HTML, 'unsupported start tag "blink"'),
        ("<b>2002R</i>", ParseMode.HTML, "unmatched end tag"),
        ("price_drop alert", ParseMode.MARKDOWN, "can't find end of the entity"),
    ],
)
def test_malformed_markup_is_rejected_like_telegram(
    server: BotApiServer, text: str, parse_mode: str, error: str
) -> None:
    with pytest.raises(BadRequest) as raised:
        with_bot(server, lambda bot: bot.send_message(42, text, parse_mode=parse_mode))

    assert error in raised.value.message.lower()
    assert raised.value.message.lower().startswith("can't parse entities")
    assert server.sent_messages() == []


def test_correctly_escaped_markup_is_accepted(server: BotApiServer) -> None:
    title = "New Balance 2002R <Protection Pack> & Rain Cloud (M2002RDA) - $129.99!"

    async def scenario(bot: Bot) -> None:
        await bot.send_message(
            42, f"*{escape_markdown(title, version=2)}*", parse_mode=ParseMode.MARKDOWN_V2
        )
        await bot.send_message(
            42,
            f'<b>{html.escape(title)}</b> <a href="https://example.com/?a=1&amp;b=2">shop</a>',
            parse_mode=ParseMode.HTML,
        )

    with_bot(server, scenario)
    assert len(server.sent_messages(42)) == 2


def test_empty_and_oversized_messages_are_rejected(server: BotApiServer) -> None:
    async def scenario(bot: Bot) -> None:
        with pytest.raises(BadRequest, match="Message text is empty"):
            await bot.send_message(42, "   ")
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(42, "x" * 4097)
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            button = InlineKeyboardButton("x", callback_data="w" * 65)
            await bot.send_message(42, "ok", reply_markup=InlineKeyboardMarkup([[button]]))

    with_bot(server, scenario)


# ---------------------------------------------------------------- faults


def test_fail_next_429_raises_retry_after(server: BotApiServer) -> None:
    server.fail_next("sendMessage", status=429, retry_after=1)

    async def scenario(bot: Bot) -> None:
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(42, "first")
        assert retry_after_seconds(raised.value) == 1
        await bot.send_message(42, "second")  # the fault was used up

    with_bot(server, scenario)

    attempt, delivered = [c for c in server.calls if c.method == "sendMessage"]
    assert attempt.status == 429
    assert attempt.result["parameters"] == {"retry_after": 1}
    assert attempt.result["description"] == "Too Many Requests: retry after 1"
    assert delivered.ok
    assert server.sent_texts(42) == ["second"]
    assert server.limit_violations == 0  # injected faults are not limit violations


@pytest.mark.parametrize(
    ("status", "exception", "message"),
    [
        (403, Forbidden, "Forbidden: bot was blocked by the user"),
        (400, BadRequest, "Chat not found"),
        (502, NetworkError, "Bad Gateway"),
        (500, NetworkError, "Internal Server Error"),
    ],
)
def test_fail_next_other_statuses_map_to_ptb_exceptions(
    server: BotApiServer, status: int, exception: type[Exception], message: str
) -> None:
    server.fail_next("sendmessage", status=status, times=2)

    async def scenario(bot: Bot) -> None:
        for _ in range(2):
            with pytest.raises(exception) as raised:
                await bot.send_message(42, "hi")
            assert type(raised.value) is exception
            assert str(raised.value) == message
        await bot.send_message(42, "hi")

    with_bot(server, scenario)
    assert [c.status for c in server.calls if c.method == "sendMessage"] == [status, status, 200]


def test_block_chat_makes_every_send_forbidden(server: BotApiServer) -> None:
    server.block_chat(42)
    server.block_chat(-1001234567890)

    async def scenario(bot: Bot) -> None:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(42, "price drop!")
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_photo(42, PNG)
        with pytest.raises(Forbidden, match="kicked from the supergroup chat"):
            await bot.send_message(-1001234567890, "price drop!")
        await bot.send_message(43, "price drop!")  # other chats unaffected

    with_bot(server, scenario)
    assert [c.chat_id for c in server.sent_messages()] == [43]


def test_wrong_token_raises_invalid_token(server: BotApiServer) -> None:
    async def main() -> None:
        async with make_bot(server, token="654321:WRONG"):
            pass

    with pytest.raises(InvalidToken):
        asyncio.run(main())
    assert [(c.method, c.status, c.params) for c in server.calls] == [("getMe", 401, {})]


def test_raw_wire_format(server: BotApiServer) -> None:
    url = f"{server.base_url}{server.token}"

    form = b'chat_id=42&text=42&reply_markup={"inline_keyboard":[]}'
    assert post_raw(f"{url}/sendMessage", form, "application/x-www-form-urlencoded")[0] == 200
    body = json.dumps({"chat_id": 42, "text": "json body"}).encode()
    status, answer = post_raw(f"{url}/sendMessage", body, "application/json")
    assert status == 200 and answer["ok"] is True and answer["result"]["text"] == "json body"
    assert post_raw(f"{url}/fooBar", b"", "application/json") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )
    assert post_raw(f"{server.base_url}1:bad/getMe", b"", "application/json") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    first = server.calls[0]
    assert first.params == {"chat_id": 42, "text": "42", "reply_markup": {"inline_keyboard": []}}


# ---------------------------------------------------------------- flood limits


def test_limits_are_off_by_default(server: BotApiServer) -> None:
    async def scenario(bot: Bot) -> None:
        for n in range(5):
            await bot.send_message(42, f"message {n}")

    with_bot(server, scenario)
    assert len(server.sent_messages(42)) == 5
    assert server.limit_violations == 0


def test_enforced_private_limit_rejects_a_second_message_within_a_second() -> None:
    with BotApiServer(enforce_limits=True) as server:

        async def scenario(bot: Bot) -> None:
            await bot.send_message(42, "one")
            with pytest.raises(RetryAfter) as raised:
                await bot.send_message(42, "two")
            assert retry_after_seconds(raised.value) == 1
            await bot.send_message(43, "another user is fine")

        with_bot(server, scenario)

        assert server.limit_violations == 1
        assert server.sent_texts() == ["one", "another user is fine"]


def test_enforced_private_limit_allows_messages_spaced_by_the_rate() -> None:
    with BotApiServer(enforce_limits=True, private_per_second=20) as server:

        async def scenario(bot: Bot) -> None:
            await bot.send_message(42, "one")
            await asyncio.sleep(0.06)  # let 1/20 s pass: the limit itself is under test
            await bot.send_message(42, "two")

        with_bot(server, scenario)
        assert server.limit_violations == 0


def test_enforced_group_limit_per_minute() -> None:
    with BotApiServer(enforce_limits=True, group_per_minute=2) as server:

        async def scenario(bot: Bot) -> None:
            await bot.send_message(-1001234567890, "one")
            await bot.send_message(-1001234567890, "two")  # bursts are fine in groups
            with pytest.raises(RetryAfter) as raised:
                await bot.send_message(-1001234567890, "three")
            assert retry_after_seconds(raised.value) == 30  # one slot per 60/2 s

        with_bot(server, scenario)
        assert server.limit_violations == 1


def test_enforced_global_limit_per_second() -> None:
    with BotApiServer(enforce_limits=True, global_per_second=3) as server:

        async def scenario(bot: Bot) -> None:
            for chat_id in (1, 2, 3):
                await bot.send_message(chat_id, "drop")
            with pytest.raises(RetryAfter):
                await bot.send_message(4, "drop")

        with_bot(server, scenario)
        assert server.limit_violations == 1
        assert [c.status for c in server.calls if c.method == "sendMessage"] == [
            200,
            200,
            200,
            429,
        ]


# ---------------------------------------------------------------- round trips, messages in flight


def with_pooled_bot(server: BotApiServer, scenario: Callable[[Bot], Awaitable[T]]) -> T:
    """`with_bot` with connections for several requests at once, whatever PTB's default."""

    async def main() -> T:
        request = HTTPXRequest(connection_pool_size=8)
        async with Bot(server.token, base_url=server.base_url, request=request) as bot:
            return await scenario(bot)

    return asyncio.run(main())


def test_a_response_delay_answers_late_without_holding_up_other_messages() -> None:
    with BotApiServer(response_delay=0.5) as server:

        async def scenario(bot: Bot) -> list[float]:
            async def send(chat_id: int) -> float:
                started = time.monotonic()
                await bot.send_message(chat_id, "drop")
                return time.monotonic() - started

            sends = asyncio.gather(send(42), send(43))
            # both arrive and wait together: one delayed answer does not block the server
            await server.wait_for_in_flight_async(2)
            return await sends

        waited = with_pooled_bot(server, scenario)
        assert min(waited) >= 0.5
        assert (server.max_in_flight, server.max_in_flight_per_chat, server.in_flight) == (2, 1, 0)
        assert sorted(server.sent_texts()) == ["drop", "drop"]


def test_held_answers_wait_for_release_and_in_flight_counts_per_chat(
    server: BotApiServer,
) -> None:
    server.hold_answers(42)

    async def scenario(bot: Bot) -> None:
        first = asyncio.ensure_future(bot.send_message(42, "one"))
        second = asyncio.ensure_future(bot.send_message(42, "two"))
        await bot.send_message(43, "not held")  # answered while chat 42's answers wait
        await server.wait_for_in_flight_async(2)
        assert not first.done() and not second.done()
        assert server.sent_texts(42) == []  # recorded when answered
        server.release_answers()
        await asyncio.gather(first, second)

    with_pooled_bot(server, scenario)
    assert server.max_in_flight_per_chat == 2  # two to one chat at once: it tells
    assert server.max_in_flight >= 2 and server.in_flight == 0
    assert sorted(server.sent_texts(42)) == ["one", "two"]
    with_pooled_bot(server, lambda bot: bot.send_message(42, "released: no longer held"))


def test_fail_next_for_one_chat_leaves_the_others_alone(server: BotApiServer) -> None:
    server.fail_next("sendMessage", status=429, retry_after=2, chat_id=43)

    async def scenario(bot: Bot) -> None:
        await bot.send_message(42, "fine")
        with pytest.raises(RetryAfter):
            await bot.send_message(43, "flood wait")
        await bot.send_message(43, "fine now")

    with_bot(server, scenario)
    assert [(c.chat_id, c.status) for c in server.calls if c.method == "sendMessage"] == [
        (42, 200),
        (43, 429),
        (43, 200),
    ]


# ---------------------------------------------------------------- wait_for


def test_wait_for_times_out_with_a_dump_of_recent_calls(server: BotApiServer) -> None:
    with_bot(server, lambda bot: bot.send_message(42, "hello"))

    with pytest.raises(AssertionError) as raised:
        server.wait_for(lambda c: c.method == "sendPhoto", timeout=0.05)

    report = str(raised.value)
    assert "0 matched" in report
    assert 'sendMessage(chat_id=42) -> ok {"text": "hello"}' in report


def test_wait_for_counts_matching_calls(server: BotApiServer) -> None:
    def send_three() -> None:
        with_bot(server, lambda bot: _send_many(bot, 42, 3))

    sender = threading.Thread(target=send_three)
    sender.start()
    calls = server.wait_for_message(42, timeout=5, count=3)
    sender.join(5)

    assert [c.text for c in calls] == ["0", "1", "2"]
    assert all(isinstance(c, ApiCall) for c in calls)


async def _send_many(bot: Bot, chat_id: int, count: int) -> None:
    for n in range(count):
        await bot.send_message(chat_id, str(n))


# ---------------------------------------------------------------- telegram.ext Application


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("hi")


def _application(server: BotApiServer) -> Application[Any, Any, Any, Any, Any, Any]:
    application = (
        ApplicationBuilder()
        .token(server.token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", _start))
    return application


def test_application_answers_start_in_private_and_group_chats(server: BotApiServer) -> None:
    async def main() -> None:
        application = _application(server)
        await application.initialize()
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            server.send_text(42, "/start")
            [private] = await server.wait_for_async(
                lambda c: c.method == "sendMessage" and c.chat_id == 42, timeout=5
            )
            group_update = server.send_text(-1001234567890, "/start@pricewatch2002r_bot")
            [group] = await server.wait_for_async(
                lambda c: c.method == "sendMessage" and c.chat_id == -1001234567890, timeout=5
            )
        finally:
            await application.updater.stop()
            await application.stop()
            await application.shutdown()
        assert private.ok and private.text == "hi"
        assert group.ok and group.text == "hi"
        # PTB quotes the command in groups: the reply points at the user's message.
        assert (
            group.params["reply_parameters"]["message_id"]
            == (group_update["message"]["message_id"])
        )
        assert group.result["reply_to_message"]["text"] == "/start@pricewatch2002r_bot"

    asyncio.run(main())

    assert server.pending_updates == []  # PTB confirmed everything on stop
    assert [c.method for c in server.calls[:2]] == ["getMe", "deleteWebhook"]


def test_application_in_another_thread_with_blocking_wait_for(server: BotApiServer) -> None:
    ready = threading.Event()
    loop_box: list[asyncio.AbstractEventLoop] = []
    stop_box: list[asyncio.Event] = []

    async def run_bot() -> None:
        application = _application(server)
        stop = asyncio.Event()
        loop_box.append(asyncio.get_running_loop())
        stop_box.append(stop)
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0, timeout=1)
            ready.set()
            await stop.wait()
            await application.updater.stop()
            await application.stop()

    thread = threading.Thread(target=asyncio.run, args=(run_bot(),))
    thread.start()
    try:
        assert ready.wait(5)
        server.send_text(7, "/start")
        [reply] = server.wait_for_message(7, timeout=5)
    finally:
        if loop_box:
            loop_box[0].call_soon_threadsafe(stop_box[0].set)
        thread.join(5)

    assert reply.text == "hi"
    assert not thread.is_alive()


def test_default_token_is_the_documented_one() -> None:
    server = BotApiServer()
    assert server.token == DEFAULT_TOKEN == "123456:TEST-TOKEN"
    assert server.bot_username == "pricewatch2002r_bot"
    server.stop()  # stopping a server that never started is harmless
