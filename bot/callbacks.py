"""Callback data of inline buttons: a named action and its arguments, ``action:arg:arg``.

Telegram gives a button at most 64 bytes of callback data and hands them back verbatim, from
any version of the bot that drew the button, so data is parsed as untrusted input: an unknown
action or a malformed argument is None (the handler answers "that menu has expired").
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = ["MAX_DATA_BYTES", "Action", "decode", "encode", "pattern"]

MAX_DATA_BYTES = 64  # Telegram's limit for callback_data


class Action(StrEnum):
    FLOW = "flow"  # flow:<flow id>:<step action>:<arg>, the guided /subscribe
    REMOVE = "remove"  # remove:<subscription id>, a remove button of /subscriptions
    CHART = "chart"  # chart:<style code>:<US size or ->
    MUTE = "mute"  # mute:<style code>, no alerts about it for 24 h
    CONFIRM = "confirm"  # confirm:<what>:<arg>, the second tap of a destructive command
    CANCEL = "cancel"  # cancel:<what>, the way out of a confirmation


_ARG = re.compile(r"[A-Za-z0-9_.*\-]{0,40}")


def encode(action: Action, *args: str) -> str:
    """``encode(Action.CHART, "M2002RDA", "10")`` -> ``"chart:M2002RDA:10"``."""
    data = ":".join([action.value, *args])
    if len(data.encode()) > MAX_DATA_BYTES or not all(_ARG.fullmatch(a) for a in args):
        raise ValueError(f"callback data out of bounds: {data!r}")
    return data


def decode(data: str | None) -> tuple[Action, tuple[str, ...]] | None:
    """The action and arguments of a button's data; None for anything we did not make."""
    if not data or len(data.encode()) > MAX_DATA_BYTES:
        return None
    name, *args = data.split(":")
    try:
        action = Action(name)
    except ValueError:
        return None
    if not all(_ARG.fullmatch(a) for a in args):
        return None
    return action, tuple(args)


def pattern(action: Action) -> str:
    """The CallbackQueryHandler pattern of one action's buttons."""
    return rf"^{action.value}(?::|$)"
