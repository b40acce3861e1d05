"""The real Application (`bot.app.run_bot`) talking to the local Bot API server over HTTP.

Each test starts a server and the bot (in a thread with its own event loop), types commands and
presses buttons as a person would, and checks what the server recorded and the rows in SQLite.
Waits are on recorded calls (`wait_for`), never on sleeps. To check that something was *not*
answered, a later command is sent and waited for: updates are handled in order.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot import answers, guided, handlers, ratelimit, render
from bot.app import BotConfigError, build_application, run_bot
from pricewatch.cli import cli
from pricewatch.config import Config
from pricewatch.models import Listing, Stock
from pricewatch.store import Store
from tests.bot.botapi import ApiCall, BotApiServer
from tests.bot.shopdata import ADMIN_CHAT, TOKEN, bot_config, build_catalog, crawl, listing

BOT = "pricewatch2002r_bot"
USER = 5001
GROUP = -1001234567890


class RunningBot:
    """`run_bot` in a thread with its own event loop, stopped through its stop event."""

    def __init__(self, config: Config, *, deliver: bool) -> None:
        self.config = config
        self.deliver = deliver
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_event: asyncio.Event | None = None
        self.error: BaseException | None = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._main, name="bot", daemon=True)

    def _main(self) -> None:
        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            self.stop_event = asyncio.Event()
            self.ready.set()
            await run_bot(
                self.config,
                stop_event=self.stop_event,
                deliver=self.deliver,
                delivery_interval=0.1,  # seconds between outbox passes: keep the test quick
            )

        try:
            asyncio.run(main())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread by stop()
            self.error = exc
        finally:
            self.ready.set()

    def start(self) -> None:
        self.thread.start()
        assert self.ready.wait(10)

    def stop(self) -> None:
        if self.loop is not None and self.stop_event is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(15)
        assert not self.thread.is_alive(), "run_bot did not stop"
        if self.error is not None:
            raise self.error


@dataclass
class Chat:
    """The test's view of the conversation: type, press, and wait for what the bot sent."""

    server: BotApiServer
    db: Path
    config: Config

    def _count(self, predicate: Callable[[ApiCall], bool]) -> int:
        return sum(1 for call in self.server.calls if predicate(call))

    def after(self, action: Callable[[], Any], predicate: Callable[[ApiCall], bool]) -> ApiCall:
        """Do ``action`` and return the next call matching ``predicate``."""
        seen = self._count(predicate)
        action()
        return self.server.wait_for(predicate, count=seen + 1)[-1]

    def say(self, chat_id: int, text: str, **kwargs: Any) -> ApiCall:
        """Send text; return the bot's next message (text or photo) to that chat."""
        return self.after(lambda: self.server.send_text(chat_id, text, **kwargs), sent_to(chat_id))

    def press(self, chat_id: int, data: str, *, message_id: int | None = None) -> ApiCall:
        """Press a button; return the answerCallbackQuery (sent after any edit)."""
        return self.after(
            lambda: self.server.press_button(chat_id, data, message_id=message_id),
            lambda c: c.method == "answerCallbackQuery",
        )

    def menu(self, chat_id: int) -> dict[str, Any]:
        """The bot's latest message in the chat that still has buttons."""
        with_keyboard = [m for m in self.server.bot_messages(chat_id) if "reply_markup" in m]
        return with_keyboard[-1]

    def button(self, chat_id: int, label: str) -> str:
        """callback_data of the button whose text is ``label`` (or ends with ``:label``)."""
        for row in self.menu(chat_id)["reply_markup"]["inline_keyboard"]:
            for b in row:
                if b["text"] == label or b.get("callback_data", "").endswith(f":{label}"):
                    return str(b["callback_data"])
        raise AssertionError(f"no button {label!r} in {self.menu(chat_id)}")

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with Store(self.db) as store:
            return [tuple(row) for row in store.db.execute(sql, params).fetchall()]


def sent_to(chat_id: int) -> Callable[[ApiCall], bool]:
    return lambda c: c.ok and c.method in ("sendMessage", "sendPhoto") and c.chat_id == chat_id


@pytest.fixture
def server() -> Iterator[BotApiServer]:
    with BotApiServer(token=TOKEN, bot_username=BOT) as running:
        yield running


def start_bot(
    server: BotApiServer, tmp_path: Path, *, deliver: bool = False, **config: Any
) -> tuple[Chat, RunningBot]:
    db = build_catalog(tmp_path / "bot.db")
    cfg = bot_config(db, base_url=server.base_url, base_file_url=server.base_file_url, **config)
    bot = RunningBot(cfg, deliver=deliver)
    bot.start()
    server.wait_until_polling()
    return Chat(server, db, cfg), bot


@pytest.fixture
def chat(server: BotApiServer, tmp_path: Path) -> Iterator[Chat]:
    talk, bot = start_bot(server, tmp_path)
    yield talk
    bot.stop()


# -- start, menu, help ---------------------------------------------------------------------------


def test_menu_start_and_help(chat: Chat) -> None:
    [commands] = chat.server.wait_for(lambda c: c.method == "setMyCommands")
    names = [c["command"] for c in commands.params["commands"]]
    assert names == [name for name, _ in answers.menu_commands(charts=True)]
    assert {"start", "help", "subscribe", "subscriptions", "unsubscribe", "price"} <= set(names)
    assert {"colorways", "stop", "status"} <= set(names)

    reply = chat.say(USER, "/start")
    assert reply.text and "2002R price watch" in reply.text
    assert reply.params["parse_mode"] == "HTML"
    assert chat.rows("SELECT type, active FROM chats WHERE chat_id = ?", USER) == [("private", 1)]
    assert "/unsubscribe" in (chat.say(USER, "/help").text or "")


def test_start_deep_link_offers_to_subscribe(chat: Chat) -> None:
    chat.say(USER, "/start M2002RDA")
    offer = chat.server.wait_for(sent_to(USER), count=2)[-1]
    assert "Which size(s)?" in (offer.text or "")
    assert "M2002RDA (Protection Pack Rain Cloud)" in (offer.text or "")
    chat.press(USER, chat.button(USER, "10"))
    chat.press(USER, chat.button(USER, "Done ›"))
    assert "Which shop?" in chat.server.bot_messages(USER)[-1]["text"]


# -- subscribing ---------------------------------------------------------------------------------


def test_one_line_subscribe_list_and_unsubscribe(chat: Chat) -> None:
    reply = chat.say(USER, "/subscribe M2002RDA 10 max=150")
    assert (
        "✅ Subscribed (1): M2002RDA (Protection Pack Rain Cloud), US 10, any shop, "
        "max 150 (any currency)" in (reply.text or "")
    )
    assert chat.rows("SELECT chat_id, style_code, sizes, max_price FROM subscriptions") == [
        (USER, "M2002RDA", "[10.0]", "150")
    ]
    chat.say(USER, '/subscribe any uk9.5 shop="kith" kinds=restock')
    listed = chat.say(USER, "/subscriptions")
    assert "1. M2002RDA (Protection Pack Rain Cloud), US 10" in (listed.text or "")
    assert "2. any 2002R, US 10, Kith, no price limit, alerts: restock" in (listed.text or "")
    assert [b["text"] for row in listed.params["reply_markup"]["inline_keyboard"] for b in row] == [
        "✖ 1 M2002RDA · US 10",
        "✖ 2 any 2002R · US 10 · Kith",
    ]  # /subscriptions has its remove buttons

    menu = chat.say(USER, "/unsubscribe")
    buttons = [
        b["callback_data"] for row in menu.params["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert buttons == ["remove:1", "remove:2"]
    answer = chat.press(USER, "remove:1", message_id=menu.result["message_id"])
    assert answer.params["text"] == "Removed"
    [edited] = [
        m for m in chat.server.bot_messages(USER) if m["message_id"] == menu.result["message_id"]
    ]
    assert [
        b["callback_data"] for row in edited["reply_markup"]["inline_keyboard"] for b in row
    ] == ["remove:2"]
    assert chat.say(USER, "/unsubscribe 1").text == "Removed subscription 1."
    assert chat.rows("SELECT count(*) FROM subscriptions") == [(0,)]
    # the menu's last button, pressed after the subscription went another way
    assert chat.press(USER, "remove:2", message_id=menu.result["message_id"]).params["text"] == (
        "That one was already removed"
    )


def test_a_max_price_in_euros_is_stored_and_shown_in_euros(chat: Chat) -> None:
    reply = chat.say(USER, "/subscribe M2002RDA 10 max=€130")
    assert "US 10, any shop, max €130, alerts" in (reply.text or "")
    assert chat.rows("SELECT max_price, max_currency FROM subscriptions") == [("130", "EUR")]
    assert "max €130" in (chat.say(USER, "/subscriptions").text or "")
    refused = chat.say(USER, "/subscribe M2002RDA 10 max=1e309")
    assert refused.text == "I couldn't read “1e309” as a price; try max=150"
    refused = chat.say(USER, "/subscribe M2002RDA 10 max=0.001")
    assert refused.text == "Max price must be at least 0.01"
    assert chat.rows("SELECT count(*) FROM subscriptions") == [(1,)]


def test_guided_flow_with_buttons_and_a_typed_price(chat: Chat) -> None:
    first = chat.say(USER, "/subscribe")
    assert "Which colorway? Pick a family" in (first.text or "")
    chat.press(USER, chat.button(USER, "Protection Pack (8)"))
    names = [b["text"] for row in chat.menu(USER)["reply_markup"]["inline_keyboard"] for b in row]
    assert names[:2] == [
        "Protection Pack Dark Navy · M2002RDF",
        "Protection Pack Fall 2023 · M2002RDN",
    ]
    chat.press(USER, chat.button(USER, "M2002RDA"))
    for size in ("10", "10.5"):
        chat.press(USER, chat.button(USER, size))
    chat.press(USER, chat.button(USER, "Done ›"))
    chat.press(USER, chat.button(USER, "Kith"))
    assert "Cheapest now: $139.99 at Kith" in chat.server.bot_messages(USER)[-1]["text"]
    typed = chat.say(USER, "140")  # a typed max price: the menu moves below it
    assert "Which alerts?" in (typed.text or "")
    chat.press(USER, chat.button(USER, "Done ›"))
    confirm = chat.server.bot_messages(USER)[-1]
    assert "US 10, 10.5, Kith, max 140 (any currency)" in confirm["text"]
    answer = chat.press(USER, chat.button(USER, "✅ Subscribe"))
    assert answer.ok
    done = chat.server.bot_messages(USER)[-1]
    assert done["text"].startswith("✅ Subscribed (1)") and "reply_markup" not in done
    assert chat.rows("SELECT style_code, sizes, shop, max_price FROM subscriptions") == [
        ("M2002RDA", "[10.0, 10.5]", "Kith", "140")
    ]
    # the first menu lost its buttons when the flow moved below the typed price
    [menu] = [
        m for m in chat.server.bot_messages(USER) if m["message_id"] == first.result["message_id"]
    ]
    assert "reply_markup" not in menu


def test_stale_buttons_get_a_friendly_answer(chat: Chat) -> None:
    old = chat.say(USER, "/subscribe")
    chat.press(USER, chat.button(USER, "Protection Pack (8)"))
    old_data = chat.button(USER, "M2002RDA")
    chat.say(USER, "/subscribe")  # a new flow: the first menu is now stale
    answer = chat.press(USER, old_data, message_id=old.result["message_id"])
    assert answer.params["text"] == guided.STALE_MENU
    chat.press(USER, chat.button(USER, "✖ Cancel"))
    assert chat.server.bot_messages(USER)[-1]["text"].startswith("Cancelled.")
    # a button of the cancelled flow, and one of a bot version that no longer exists
    assert chat.press(USER, old_data, message_id=old.result["message_id"]).params["text"] == (
        guided.STALE_MENU
    )
    chat.server.push_update(
        {
            "callback_query": {
                "id": "77",
                "from": {"id": USER, "is_bot": False, "first_name": "John"},
                "chat_instance": "1",
                "data": "legacy:button",
                "message": chat.server.bot_messages(USER)[0],
            }
        }
    )
    [legacy] = chat.server.wait_for(
        lambda c: c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == "77"
    )
    assert legacy.params["text"] == guided.STALE_MENU
    assert chat.say(USER, "/help").ok  # nothing broke


def test_bad_input_gets_friendly_replies(chat: Chat) -> None:
    cases = {
        "/subscribe M2002XDA 10": "I don't track M2002XDA yet. Did you mean M2002RDA?",
        "/subscribe M2002RDA 99": "99 is not a US men's size. If you meant EU, send EU 99.",
        "/subscribe M2002RDA 10 max=-5": "Max price must be more than 0",
        "/subscribe M2002RDA 10 foo=1": "I don't know the option “foo=”",
        "/price M2002RXX": "I don't track M2002RXX yet. Did you mean M2002RXU?",
        "/subscribe " + "M2002RDA " * 600: "That is too long for me to read",
        "/nonsense": "I don't know /nonsense. Send /help",
        "x" * 5000: "I answer commands: send /help to see them.",
    }
    for text, expected in cases.items():
        reply = chat.say(USER, text)
        assert reply.text and expected in reply.text, (text[:40], reply.text)
        assert "M2002RDA " * 6 not in reply.text and "x" * 51 not in reply.text
    untracked = chat.say(USER, "/subscribe M2002RDN 10").text or ""
    assert "not seen in any shop yet; you'll hear when it appears" in untracked
    assert chat.rows("SELECT style_code FROM subscriptions") == [("M2002RDN",)]
    errors = [c for c in chat.server.calls if not c.ok and c.method != "getUpdates"]
    assert errors == []  # every reply was valid HTML under 4,096 characters


def test_subscription_cap(server: BotApiServer, tmp_path: Path) -> None:
    chat, bot = start_bot(server, tmp_path, max_subscriptions=2)
    try:
        chat.say(USER, "/subscribe M2002RDA 10")
        chat.say(USER, "/subscribe M2002RXU 10")
        reply = chat.say(USER, "/subscribe any 10")
        assert (reply.text or "").startswith("Sorry: this chat already has 2 subscriptions")
    finally:
        bot.stop()


# -- groups --------------------------------------------------------------------------------------


def test_group_commands_and_group_subscriptions(chat: Chat) -> None:
    reply = chat.say(GROUP, f"/price@{BOT} M2002RDA", chat_title="2002R <Heads>")
    assert reply.text and reply.text.startswith("<b>M2002RDA (Protection Pack Rain Cloud)</b>")
    assert chat.rows("SELECT type, title FROM chats WHERE chat_id = ?", GROUP) == [
        ("supergroup", "2002R <Heads>")
    ]
    chat.say(GROUP, f"/subscribe@{BOT} any 10")
    assert chat.rows("SELECT chat_id FROM subscriptions") == [(GROUP,)]  # the group subscribes
    # a bare unknown command in a group may be another bot's: no answer to it
    chat.server.send_text(GROUP, "/weather")
    assert (chat.say(GROUP, f"/help@{BOT}").text or "").startswith("<b>2002R price watch</b>")
    assert not any("weather" in t for t in chat.server.sent_texts(GROUP))


def test_in_a_group_only_admins_change_subscriptions_and_confirm_first(chat: Chat) -> None:
    admin, member = 111, 222
    chat.server.set_admins(GROUP, admin)
    chat.say(GROUP, f"/subscribe@{BOT} M2002RDA 10", user_id=member)  # anyone may add
    assert chat.rows("SELECT count(*) FROM subscriptions WHERE chat_id = ?", GROUP) == [(1,)]
    for command in (f"/stop@{BOT}", f"/unsubscribe@{BOT} 1", f"/unsubscribe@{BOT} all"):
        refused = chat.say(GROUP, command, user_id=member)
        assert refused.text == "Only this group's admins can change its subscriptions."
    listed = chat.say(GROUP, f"/subscriptions@{BOT}", user_id=member)
    [[remove]] = listed.params["reply_markup"]["inline_keyboard"]

    def press(data: str, user_id: int, message_id: int) -> ApiCall:
        return chat.after(
            lambda: chat.server.press_button(GROUP, data, message_id=message_id, user_id=user_id),
            lambda c: c.method == "answerCallbackQuery",
        )

    answer = press(remove["callback_data"], member, listed.result["message_id"])
    assert answer.params == {
        "callback_query_id": answer.params["callback_query_id"],
        "text": "Only this group's admins can change its subscriptions.",
        "show_alert": True,
    }
    press(remove["callback_data"], admin, listed.result["message_id"])  # the question, first
    [question] = [
        m for m in chat.server.bot_messages(GROUP) if m["message_id"] == listed.result["message_id"]
    ]
    assert question["text"].startswith("Remove subscription 1: M2002RDA")
    assert chat.rows("SELECT count(*) FROM subscriptions WHERE chat_id = ?", GROUP) == [(1,)]
    confirm = question["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert press(confirm, member, listed.result["message_id"]).params["show_alert"] is True
    assert press(confirm, admin, listed.result["message_id"]).params["text"] == "Removed"
    assert chat.rows("SELECT count(*) FROM subscriptions WHERE chat_id = ?", GROUP) == [(0,)]
    stop = chat.say(GROUP, f"/stop@{BOT}", user_id=admin)
    assert stop.text.startswith("Delete this chat's 0 subscription(s)")


def test_a_group_menu_asks_for_typed_sizes_with_a_force_reply_and_is_its_owners(
    chat: Chat,
) -> None:
    owner, other = 111, 222
    menu = chat.say(GROUP, f"/subscribe@{BOT}", user_id=owner, first_name="Ann")
    family = chat.button(GROUP, "Protection Pack (8)")
    chat.after(
        lambda: chat.server.press_button(GROUP, family, user_id=owner),
        lambda c: c.method == "answerCallbackQuery",
    )
    rda = chat.button(GROUP, "M2002RDA")
    answer = chat.after(
        lambda: chat.server.press_button(GROUP, rda, user_id=other),
        lambda c: c.method == "answerCallbackQuery",
    )
    assert answer.params["text"] == "That menu is Ann's: send /subscribe for your own."
    prompt = chat.after(lambda: chat.server.press_button(GROUP, rda, user_id=owner), sent_to(GROUP))
    assert prompt.params["reply_markup"] == {
        "force_reply": True,
        "selective": True,
        "input_field_placeholder": "10, uk9.5, eu44",
    }
    assert prompt.text == (
        '<a href="tg://user?id=111">Ann</a>: or type sizes in reply to this message, '
        "like 10, uk9.5, eu44."
    )
    # privacy mode: a plain message is not delivered, a reply to the prompt is
    screen = chat.say(
        GROUP, "10, uk 10", user_id=owner, reply_to_message_id=prompt.result["message_id"]
    )
    assert "Selected: US 10, 10.5" in (screen.text or "")
    assert menu.result["message_id"] != screen.result["message_id"]  # the menu moved below


# -- prices, colorways, charts -------------------------------------------------------------------


def test_price_in_one_size(chat: Chat) -> None:
    reply = chat.say(USER, "/price M2002RDA 10")
    lines = (reply.text or "").split("\n")
    assert lines[1].startswith("1. <b>$139.99</b> (was $150.00) · Kith · in stock · US 10 ")
    assert lines[2].startswith("2. <b>$145.00</b> · Bodega · stock unknown · US 10")
    assert reply.params["link_preview_options"] == {"is_disabled": True}
    [[chart_button]] = reply.params["reply_markup"]["inline_keyboard"]
    assert chart_button == {"text": "📈 Price history chart", "callback_data": "chart:M2002RDA:10"}
    photo = chat.after(lambda: chat.server.press_button(USER, "chart:M2002RDA:10"), sent_to(USER))
    assert photo.method == "sendPhoto" and photo.photo and photo.photo.startswith(b"\x89PNG")


def test_history_chart(chat: Chat) -> None:
    photo = chat.say(USER, "/history M2002RDA 10")
    assert photo.method == "sendPhoto" and (photo.text or "").startswith("M2002RDA")
    assert "No price history" in (chat.say(USER, "/history M2002RDA 13").text or "")


def test_colorways(chat: Chat) -> None:
    text = chat.say(USER, "/colorways").text or ""
    assert "<b>M2002RDA</b> Protection Pack Rain Cloud — from <b>$139.99 at Kith</b>" in text
    assert "<b>M2002RHO</b> Core Pack Phantom — nothing in stock right now" in text


# -- stop, status, errors ------------------------------------------------------------------------


def test_stop_asks_then_forgets_the_chat(chat: Chat) -> None:
    chat.say(USER, "/subscribe M2002RDA 10")
    question = chat.say(USER, "/stop")
    assert question.text == "Delete this chat's 1 subscription(s) and everything I know about it?"
    cancel = chat.press(USER, "cancel:stop", message_id=question.result["message_id"])
    assert cancel.ok and chat.rows("SELECT count(*) FROM subscriptions") == [(1,)]
    question = chat.say(USER, "/stop")
    chat.press(USER, "confirm:stop:", message_id=question.result["message_id"])
    [done] = [
        m
        for m in chat.server.bot_messages(USER)
        if m["message_id"] == question.result["message_id"]
    ]
    assert "deleted this chat's 1 subscription(s)" in done["text"]
    assert chat.rows("SELECT count(*) FROM subscriptions") == [(0,)]
    assert chat.rows("SELECT count(*) FROM chats WHERE chat_id = ?", USER) == [(0,)]


def test_status_is_for_admins(chat: Chat) -> None:
    assert chat.say(USER, "/status").text == "Sorry, /status is for admins."
    text = chat.say(ADMIN_CHAT, "/status").text or ""
    assert "<b>Crawl status</b>" in text and "✅ <b>Kith</b>: ok" in text
    assert "❌ <b>Bodega</b>: failed" in text and "Outbox: 0 message(s) waiting" in text


def test_one_error_handler_logs_and_apologises(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    def broken(*_: Any) -> list[render.Reply]:
        raise RuntimeError("the database caught fire")

    monkeypatch.setattr(answers, "colorways_replies", broken)
    update = chat.server.send_text(USER, "/colorways")
    reply = chat.server.wait_for(sent_to(USER))[-1]
    assert reply.text == handlers.ERROR_TEXT
    failure = [
        r for r in caplog.records if r.getMessage() == f"update {update['update_id']} failed"
    ]
    assert failure and failure[0].exc_info and "caught fire" in str(failure[0].exc_info[1])
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text


def test_a_reply_refused_with_429_is_sent_again(
    chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    chat.server.fail_next("sendMessage", status=429, retry_after=1, chat_id=USER)
    reply = chat.say(USER, "/help")  # the next accepted message: the retry, after 1 s
    assert reply.text == answers.help_text(charts=True)
    statuses = [c.status for c in chat.server.calls if c.method == "sendMessage"]
    assert statuses == [429, 200]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]


def test_a_reply_still_refused_gets_one_log_line_and_no_apology(
    server: BotApiServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(ratelimit, "REPLY_RETRIES", 1)  # one retry: a shorter test
    chat, bot = start_bot(server, tmp_path)
    try:
        server.fail_next("sendMessage", status=429, retry_after=1, times=2, chat_id=USER)
        update = server.send_text(USER, "/help")
        # updates are handled one at a time: this reply comes after the error handler ran
        chat.say(ADMIN_CHAT, "/help")
    finally:
        bot.stop()
    to_user = [c.status for c in server.calls if c.method == "sendMessage" and c.chat_id == USER]
    assert to_user == [429, 429]  # sent, sent again; no "Something went wrong" into the 429
    assert handlers.ERROR_TEXT not in server.sent_texts()
    complaints = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in complaints] == [
        f"update {update['update_id']}: no reply, Telegram flood control: "
        "Flood control exceeded. Retry in 1 seconds"
    ]
    assert not [r for r in caplog.records if r.exc_info or r.exc_text]  # no traceback


def test_alert_delivery_gets_a_429_at_once(server: BotApiServer, tmp_path: Path) -> None:
    """Delivery pauses and requeues on a 429 itself: the replies' retries are not for it."""
    chat, bot = start_bot(server, tmp_path, deliver=True)
    try:
        chat.say(USER, "/subscribe M2002RDA 10")
        server.fail_next("sendMessage", status=429, retry_after=1, chat_id=USER)
        with Store(chat.db) as store:  # the next crawl drops the price
            crawl(
                store,
                "Kith",
                price_drop_at_kith(),
            )
        server.wait_for(lambda c: sent_to(USER)(c) and "129.99" in (c.text or ""))
    finally:
        bot.stop()
    # delivery saw the 429 and requeued the row (an attempt more, the error kept): had the
    # limiter retried it unseen, it would be ("sent", 1) with no error
    assert chat.rows("SELECT status, attempts FROM outbox") == [("sent", 2)]
    [(error,)] = chat.rows("SELECT error FROM outbox")
    assert error and error.startswith("RetryAfter")


def test_the_mute_button_under_an_alert_mutes_that_colorway_here_for_a_day(
    server: BotApiServer, tmp_path: Path
) -> None:
    chat, bot = start_bot(server, tmp_path, deliver=True)
    try:
        chat.say(USER, "/subscribe M2002RDA 10")
        with Store(chat.db) as store:
            crawl(store, "Kith", price_drop_at_kith())
        alert = server.wait_for(lambda c: sent_to(USER)(c) and "129.99" in (c.text or ""))[-1]
        buttons = [b for row in alert.params["reply_markup"]["inline_keyboard"] for b in row]
        assert buttons[-1] == {
            "text": "🔕 Mute M2002RDA for 24 h",
            "callback_data": "mute:M2002RDA",
        }
        answer = chat.press(USER, "mute:M2002RDA", message_id=alert.result["message_id"])
    finally:
        bot.stop()
    assert answer.params["text"] == "Muted M2002RDA here for 24 h"
    [(until,)] = chat.rows("SELECT until FROM mutes WHERE chat_id = ?", USER)
    left = dtm.datetime.fromisoformat(until.rstrip("Z")) - dtm.datetime.now(dtm.UTC).replace(
        tzinfo=None
    )
    assert 23.9 * 3600 < left.total_seconds() <= 24 * 3600


def test_a_chat_that_blocked_the_bot_is_marked_inactive(chat: Chat) -> None:
    chat.say(USER, "/start")
    chat.server.block_chat(USER)
    chat.server.send_text(USER, "/help")
    chat.server.wait_for(lambda c: c.status == 403 and c.chat_id == USER)
    chat.server.unblock_chat(USER)
    chat.say(ADMIN_CHAT, "/help")  # handled after the failed reply and its error handler
    assert chat.rows("SELECT active FROM chats WHERE chat_id = ?", USER) == [(0,)]


def test_removed_from_a_group(chat: Chat) -> None:
    chat.say(GROUP, f"/help@{BOT}")
    member = {"id": 123456, "is_bot": True, "first_name": "2002R Price Watch", "username": BOT}
    chat.server.push_update(
        {
            "my_chat_member": {
                "chat": {"id": GROUP, "title": "2002R Group", "type": "supergroup"},
                "from": {"id": 7, "is_bot": False, "first_name": "Admin"},
                "date": int(time.time()),
                "old_chat_member": {"status": "member", "user": member},
                "new_chat_member": {"status": "kicked", "user": member, "until_date": 0},
            }
        }
    )
    chat.say(USER, "/help")
    assert chat.rows("SELECT active FROM chats WHERE chat_id = ?", GROUP) == [(0,)]


# -- building and running ------------------------------------------------------------------------


def test_missing_token_is_a_clear_config_error(tmp_path: Path) -> None:
    with pytest.raises(BotConfigError, match="set TELEGRAM_BOT_TOKEN"):
        build_application(bot_config(tmp_path / "x.db", token=None))


def test_application_is_wired(tmp_path: Path) -> None:
    application = build_application(bot_config(tmp_path / "x.db"), db_path=tmp_path / "other.db")
    assert application.bot_data[handlers.DB_PATH] == tmp_path / "other.db"
    assert application.bot.base_url == f"https://api.telegram.org/bot{TOKEN}"
    assert logging.getLogger("httpx").level == logging.WARNING
    assert len(application.error_handlers) == 1


def price_drop_at_kith() -> list[Listing]:
    """Kith's next crawl: M2002RDA US 10 drops to $129.99 (the shop labels it in three systems)."""
    return [
        listing("Kith", "M2002RDA", "9", "150.00"),
        listing("Kith", "M2002RDA", "10", "129.99", label="US 10 / UK 9.5 / EU 44"),
        listing("Kith", "M2002RDA", "11", "150.00", Stock.SOLD_OUT),
        listing("Kith", "M2002RXU", "10", "170.00"),
    ]


def test_run_bot_delivers_alerts_from_the_outbox(server: BotApiServer, tmp_path: Path) -> None:
    chat, bot = start_bot(server, tmp_path, deliver=True)
    try:
        chat.say(USER, "/subscribe M2002RDA 10 max=150")
        with Store(chat.db) as store:  # the next crawl drops the price
            crawl(
                store,
                "Kith",
                price_drop_at_kith(),
            )
        alert = chat.server.wait_for(lambda c: sent_to(USER)(c) and "129.99" in (c.text or ""))
        assert alert[0].text and "M2002RDA" in alert[0].text
    finally:
        bot.stop()


# -- the `pricewatch bot` command ----------------------------------------------------------------

CONFIG_TOML = """
[telegram]
admin_chat_ids = [4242]

[[shops]]
name = "Kith"
platform = "shopify"
url = "https://kith.example"
currency = "USD"
"""


def test_cli_without_a_token_says_so_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "pricewatch.toml").write_text(CONFIG_TOML, "utf-8")
    result = CliRunner().invoke(
        cli,
        ["bot", "--config", str(tmp_path / "pricewatch.toml"), "--db", str(tmp_path / "x.db")],
        env={"TELEGRAM_BOT_TOKEN": ""},
    )
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Config error: no Telegram bot token: set TELEGRAM_BOT_TOKEN "
        "(or [telegram] token_file in the config)"
    ]


def test_cli_runs_the_bot_until_sigterm(server: BotApiServer, tmp_path: Path) -> None:
    (tmp_path / "pricewatch.toml").write_text(CONFIG_TOML, "utf-8")
    db = build_catalog(tmp_path / "bot.db")
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": server.base_url,
        "PYTHONPATH": str(Path(__file__).parents[2]),
    }
    # the checkout's code (PYTHONPATH), as the installed `pricewatch` script would run it
    command = [sys.executable, "-c", "from pricewatch.cli import main; main()", "bot"]
    command += ["--no-delivery"]
    command += ["--config", str(tmp_path / "pricewatch.toml"), "--db", str(db)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        server.wait_for(lambda c: c.method == "setMyCommands", timeout=30)
        server.wait_until_polling(timeout=30)
        server.send_text(ADMIN_CHAT, "/status")
        [reply] = server.wait_for(sent_to(ADMIN_CHAT))
        assert "<b>Crawl status</b>" in (reply.text or "")
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Application started" in err  # INFO logging is on...
    assert TOKEN not in err and TOKEN.split(":")[1] not in err  # ...and the token is not in it
