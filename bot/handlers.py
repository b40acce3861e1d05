"""python-telegram-bot handlers: one thin function per command or button.

Each handler reads the update, asks `bot.answers` or `bot.guided` (in a worker thread, with a
`Store` opened for that call: WAL lets it read while a crawl writes, and a busy database never
stalls the event loop), and sends the `Reply` it gets. Nothing here decides what to say.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from telegram import (
    Chat,
    ForceReply,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot import answers, guided, manage, parsing, render
from bot.guided import Flow
from bot.render import Photo, Reply, inline_markup
from pricewatch.config import Config
from pricewatch.store import Store
from pricewatch.subscriptions import set_chat_active, upsert_chat

log = logging.getLogger(__name__)

# application.bot_data keys
CONFIG = "config"
DB_PATH = "db_path"
CHARTS = "charts"
# context.user_data key: this person's guided /subscribe flows, by chat id
FLOWS = "subscribe_flows"
# context.chat_data key: whose each menu in the chat is (flow id -> user id, first name)
MENUS = "subscribe_menus"
MAX_MENUS = 50

ERROR_TEXT = "Something went wrong on my side; it has been logged."
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

Context = ContextTypes.DEFAULT_TYPE
P = ParamSpec("P")
T = TypeVar("T")


# -- plumbing ----------------------------------------------------------------------------------


async def in_store(
    context: Context, fn: Callable[Concatenate[Store, P], T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """Run ``fn(store, ...)`` in a worker thread with a Store of its own."""
    path: Path = context.bot_data[DB_PATH]

    def work() -> T:
        with Store(path) as store:
            return fn(store, *args, **kwargs)

    return await asyncio.to_thread(work)


def config_of(context: Context) -> Config:
    config: Config = context.bot_data[CONFIG]
    return config


def charts_on(context: Context) -> bool:
    return bool(context.bot_data.get(CHARTS))


async def send(chat: Chat, replies: Reply | Sequence[Reply]) -> Message | None:
    """Send replies in order; return the last message."""
    last = None
    for reply in [replies] if isinstance(replies, Reply) else replies:
        last = await chat.send_message(
            reply.text,
            parse_mode=ParseMode.HTML,
            reply_markup=inline_markup(reply.keyboard),
            link_preview_options=NO_PREVIEW,
        )
    return last


async def send_result(chat: Chat, result: Photo | Reply) -> None:
    if isinstance(result, Photo):
        # the caption is plain text (no parse mode): nothing in it needs escaping
        await chat.send_photo(result.data, caption=result.caption)
    else:
        await send(chat, result)


async def edit(update: Update, reply: Reply) -> None:
    """Show ``reply`` in the message whose button was pressed."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.edit_message_text(
            reply.text,
            parse_mode=ParseMode.HTML,
            reply_markup=inline_markup(reply.keyboard),
            link_preview_options=NO_PREVIEW,
        )
    except BadRequest as exc:
        if "not modified" not in exc.message:  # a double tap re-sends the same screen
            raise


def command_text(message: Message | None) -> str:
    """What follows ``/command`` (or ``/command@bot``): the raw arguments, quotes and all.
    (``context.args`` is split on spaces, which would break ``shop="Shoe Palace"``.)"""
    if message is None or not message.text:
        return ""
    entity = (message.entities or (None,))[0]
    if entity is None or entity.offset != 0:
        return ""
    return message.text[entity.length :].strip()


def flows_of(context: Context) -> dict[int, Flow]:
    if context.user_data is None:  # updates without a user (channel posts)
        return {}
    flows: dict[int, Flow] = context.user_data.setdefault(FLOWS, {})
    return flows


def is_group(chat: Chat) -> bool:
    return chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


async def may_change(update: Update, context: Context) -> bool:
    """Whether this person may change the chat's subscriptions: anyone in a private chat; in
    a group its administrators (asked with getChatMember), or an anonymous admin writing as
    the group itself."""
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if chat is None or not is_group(chat):
        return True
    if message is not None and message.sender_chat is not None and update.callback_query is None:
        return message.sender_chat.id == chat.id
    if user is None:
        return False
    member = await context.bot.get_chat_member(chat.id, user.id)
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


# -- every update -------------------------------------------------------------------------------


async def track_chat(update: Update, context: Context) -> None:
    """Runs first for every update: remember the chat (a group subscribes as a group)."""
    chat = update.effective_chat
    if chat is None or update.my_chat_member is not None:
        return
    await in_store(context, upsert_chat, chat.id, chat.type, chat.title or "")


async def my_chat_member(update: Update, context: Context) -> None:
    """Added to a group, removed from it, or blocked by a person."""
    change = update.my_chat_member
    if change is None:
        return
    chat = change.chat
    if change.new_chat_member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        await in_store(context, set_chat_active, chat.id, False)
    else:
        await in_store(context, upsert_chat, chat.id, chat.type, chat.title or "")


# -- commands -----------------------------------------------------------------------------------


async def start(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    await send(chat, Reply(answers.welcome_text()))
    payload = command_text(update.effective_message)
    if payload:  # a deep link: t.me/<bot>?start=M2002RDA_10
        await start_flow(update, context, payload=payload)


async def help_command(update: Update, context: Context) -> None:
    if update.effective_chat:
        await send(update.effective_chat, Reply(answers.help_text(charts=charts_on(context))))


async def subscribe(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    text = command_text(update.effective_message)
    if not text:
        await start_flow(update, context)
        return
    config = config_of(context)
    reply = await in_store(
        context,
        manage.subscribe_command,
        chat.id,
        text,
        limit=config.alerts.max_subscriptions_per_chat,
        config_shops=[s.name for s in config.shops if s.enabled],
    )
    await send(chat, reply)


async def start_flow(update: Update, context: Context, *, payload: str = "") -> None:
    """The guided /subscribe: a menu message whose buttons move the flow on."""
    chat = update.effective_chat
    if chat is None:
        return
    if context.user_data is None:
        await send(chat, Reply(f"Subscribe in one line, like <code>{parsing.EXAMPLE}</code>"))
        return
    config = config_of(context)
    options = await in_store(context, guided.flow_options, [s.name for s in config.shops])
    style: str | None = None
    sizes: tuple[float, ...] = ()
    if payload:
        link = guided.deep_link(payload, {code for code, _ in options.colorways})
        if link is None:
            return  # an unknown payload: the welcome said enough
        style, sizes = link
    flow = guided.new_flow(options, started=time.monotonic(), style_code=style, sizes=sizes)
    message = await send(chat, guided.flow_screen(flow))
    flow.message_id = message.message_id if message else None
    flows_of(context)[chat.id] = flow
    user = update.effective_user
    if context.chat_data is not None and user is not None:
        menus: dict[str, tuple[int, str]] = context.chat_data.setdefault(MENUS, {})
        menus[flow.id] = (user.id, user.first_name)
        for old in list(menus)[:-MAX_MENUS]:  # only recent menus can still be tapped
            del menus[old]
    await prompt_typing(update, flow)


async def prompt_typing(update: Update, flow: Flow) -> None:
    """In a group, ask for typed input with a ForceReply addressed to the menu's owner."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or not is_group(chat):
        return
    prompt = guided.typing_prompt(flow)
    if prompt is None:
        return
    text, placeholder = prompt
    mention = f'<a href="tg://user?id={user.id}">{render.esc(user.first_name)}</a>'
    await chat.send_message(
        f"{mention}: or {text}.",
        parse_mode=ParseMode.HTML,
        reply_markup=ForceReply(selective=True, input_field_placeholder=placeholder),
    )


async def subscriptions(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat:
        await send(chat, await in_store(context, manage.subscriptions_reply, chat.id))


async def unsubscribe(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    text = command_text(update.effective_message)
    if text and not await may_change(update, context):
        await send(chat, Reply(manage.ADMINS_ONLY))
        return
    reply = await in_store(context, manage.unsubscribe_command, chat.id, text, group=is_group(chat))
    await send(chat, reply)


async def price(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat:
        text = command_text(update.effective_message)
        replies = await in_store(context, answers.price_replies, text, charts=charts_on(context))
        await send(chat, replies)


async def history(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    if not charts_on(context):
        await send(chat, Reply("Price charts are not available on this server."))
        return
    text = command_text(update.effective_message)
    await send_result(chat, await in_store(context, answers.history_command, text))


async def colorways(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat:
        await send(chat, await in_store(context, answers.colorways_replies))


async def stop(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    if not await may_change(update, context):
        await send(chat, Reply(manage.ADMINS_ONLY))
        return
    await send(chat, await in_store(context, manage.stop_question, chat.id))


async def status(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat:
        config = config_of(context)
        await send(chat, await in_store(context, answers.status_replies, config, chat.id))


async def unknown_command(update: Update, context: Context) -> None:
    """A command no handler took. In groups only answer one addressed to this bot by name:
    a bare /foo there may be meant for another bot."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None or not message.text:
        return
    command = message.text.split()[0]
    name, _, addressee = command.partition("@")
    if addressee and addressee.casefold() != (context.bot.username or "").casefold():
        return
    if is_group(chat) and not addressee:
        return
    await send(chat, Reply(answers.unknown_command_text(name)))


async def text_message(update: Update, context: Context) -> None:
    """Plain text: typed sizes or a typed price for a guided /subscribe; else a hint."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None or not message.text:
        return
    flow = flows_of(context).get(chat.id)
    current = flow is not None and guided.flow_is_current(flow, flow.id, time.monotonic())
    outcome = guided.flow_text(flow, message.text) if flow is not None and current else None
    if outcome is None:
        if is_group(chat):  # in groups, chatter is not for us
            return
        hint = (
            "Tap a button in the menu above, or send /subscribe to start again."
            if current
            else "I answer commands: send /help to see them."
        )
        await send(chat, Reply(hint))
        return
    if outcome.error:
        await send(chat, Reply(render.esc(outcome.error)))
        return
    if outcome.screen and flow is not None:
        old = flow.message_id
        sent = await send(chat, outcome.screen)
        flow.message_id = sent.message_id if sent else None
        if old is not None:  # the menu moved below the typed text: the old one goes quiet
            try:
                await context.bot.edit_message_reply_markup(chat.id, old, reply_markup=None)
            except BadRequest:
                log.debug("old menu %s in chat %s could not be edited", old, chat.id)


# -- buttons ------------------------------------------------------------------------------------


async def flow_button(update: Update, context: Context) -> None:
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None:
        return
    parsed = guided.parse_flow_data(query.data or "")
    flows = flows_of(context)
    flow = flows.get(chat.id)
    if parsed is None or not guided.flow_is_current(flow, parsed[0], time.monotonic()):
        menus = context.chat_data.get(MENUS, {}) if context.chat_data is not None else {}
        owner = menus.get(parsed[0]) if parsed is not None else None
        if owner is not None and owner[0] != query.from_user.id:
            await query.answer(
                f"That menu is {owner[1][:40]}'s: send /subscribe for your own.", show_alert=True
            )
            return
        await query.answer(guided.STALE_MENU)
        return
    assert flow is not None  # flow_is_current said so
    _flow_id, action, arg = parsed
    outcome = guided.flow_press(flow, action, arg)
    if outcome.finished:
        flows.pop(chat.id, None)
    if outcome.confirm:
        limit = config_of(context).alerts.max_subscriptions_per_chat
        reply = await in_store(context, guided.finish_flow, chat.id, flow, limit=limit)
        await edit(update, reply)
        await query.answer("Done")
        return
    if outcome.screen:
        await edit(update, outcome.screen)
    await query.answer(outcome.toast)
    if not outcome.finished:
        await prompt_typing(update, flow)


async def remove_button(update: Update, context: Context) -> None:
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None:
        return
    subscription_id = manage.parse_remove_data(query.data or "")
    if subscription_id is None:
        await query.answer(guided.STALE_MENU)
        return
    if not await may_change(update, context):
        await query.answer(manage.ADMINS_ONLY, show_alert=True)
        return
    toast, reply = await in_store(
        context, manage.remove_pressed, chat.id, subscription_id, group=is_group(chat)
    )
    await edit(update, reply)
    await query.answer(toast or None)


async def confirm_button(update: Update, context: Context) -> None:
    """The second tap of /stop, /unsubscribe all, or a removal in a group."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None:
        return
    if not await may_change(update, context):
        await query.answer(manage.ADMINS_ONLY, show_alert=True)
        return
    toast, reply = await in_store(context, manage.confirm_pressed, chat.id, query.data or "")
    if (query.data or "").startswith("confirm:stop"):
        flows_of(context).pop(chat.id, None)
    await edit(update, reply)
    await query.answer(toast)


async def cancel_button(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is not None:
        await edit(update, Reply(manage.NOTHING_CHANGED))
        await query.answer()


async def chart_button(update: Update, context: Context) -> None:
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None:
        return
    parsed = answers.parse_chart_data(query.data or "")
    if parsed is None or not charts_on(context):
        await query.answer("That chart is not available any more.")
        return
    await query.answer("Drawing the chart…")
    await send_result(chat, await in_store(context, answers.chart, *parsed))


async def mute_button(update: Update, context: Context) -> None:
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None:
        return
    if not await may_change(update, context):  # a group's alerts are its admins' to mute
        await query.answer(manage.ADMINS_ONLY, show_alert=True)
        return
    await query.answer(await in_store(context, answers.mute_pressed, chat.id, query.data or ""))


async def stale_button(update: Update, context: Context) -> None:
    """Any button no other handler knows: from an old version of the bot, or an old menu."""
    if update.callback_query:
        await update.callback_query.answer(guided.STALE_MENU)


# -- errors -------------------------------------------------------------------------------------


async def on_error(update: object, context: Context) -> None:
    """The one error handler: log with the update id (never the token), tell the chat. A 429
    (the reply was sent again and again refused) gets one log line and nothing sent: anything
    sent now would meet the same flood control."""
    update_id = update.update_id if isinstance(update, Update) else None
    error = context.error
    chat = update.effective_chat if isinstance(update, Update) else None
    if isinstance(error, RetryAfter):
        log.warning("update %s: no reply, Telegram flood control: %s", update_id, error.message)
        return
    if isinstance(error, Forbidden) and chat is not None:
        # blocked by the person or removed from the group: stop writing to them
        log.info("chat %s is gone (update %s): %s", chat.id, update_id, error)
        await in_store(context, set_chat_active, chat.id, False)
        return
    log.error("update %s failed", update_id, exc_info=error)
    if chat is None:
        return
    if isinstance(update, Update) and update.callback_query:
        # answered already, or too old: the message below is what matters
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer()
    try:
        await chat.send_message(ERROR_TEXT)
    except TelegramError as exc:
        log.warning("could not tell chat %s about the error: %s", chat.id, exc)
