"""Chats, their subscriptions, and which events each subscription should hear about.

A subscription names a colorway (or any 2002R), sizes (or any), a shop (or any), a max price
(or none) and the event kinds it wants. `wants(...)` is the pure rule that decides whether one
event becomes a message for one subscription, so alerts neither nag nor stay silent:
- a restock (always after a sell-out a crawl saw) is news whatever the subscriber was told
  last, at most once per variant per ``[alerts] restock_cooldown`` per chat;
- a price drop is news only if it is below the last price this subscriber was told (and at or
  below their max price, when that max is in the offer's currency);
- a price change of a size that is not in stock is not news (nobody can buy it), unless the
  subscription asks for sold-out news (`sold_out` among its kinds);
- a sell-out is news if the subscriber does not already know it is sold out.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pricewatch.changes import DEFAULT_KINDS, Event, EventKind
from pricewatch.models import Stock, utc_now

if TYPE_CHECKING:  # the store calls into this module: import it for types only
    from pricewatch.store import Store

MAX_SUBSCRIPTIONS_PER_CHAT = 25
# Kinds where a max price matters: the ones that invite buying.
PRICED_KINDS = {
    EventKind.RESTOCK,
    EventKind.PRICE_DROP,
    EventKind.NEW_COLORWAY,
    EventKind.NEW_SIZE,
}


class SubscriptionError(ValueError):
    """A subscription that cannot be made; the message is for the person who asked."""


@dataclass(frozen=True)
class Subscription:
    id: int
    chat_id: int
    style_code: str | None  # None: any 2002R
    sizes: tuple[float, ...]  # US men's; empty: any size
    shop: str | None  # None: any shop
    max_price: Decimal | None
    kinds: tuple[EventKind, ...]
    created: str
    # The currency of max_price; None: whatever the offer's (subscriptions made before
    # currencies were asked for). A max in one currency never filters offers in another.
    max_currency: str | None = None


@dataclass(frozen=True)
class Told:
    """What a subscriber was last told about one variant."""

    price: Decimal | None
    currency: str | None
    stock: Stock | None


def _subscription(row: Sequence[Any]) -> Subscription:
    sid, chat_id, style, sizes, shop, max_price, kinds, created, max_currency = row
    return Subscription(
        id=int(sid),
        chat_id=int(chat_id),
        style_code=style,
        sizes=_sizes(sizes or "[]"),
        shop=shop,
        max_price=Decimal(max_price) if max_price is not None else None,
        kinds=_kinds(kinds),
        created=str(created),
        max_currency=max_currency,
    )


# A crawl whose events touch a popular colorway reads thousands of subscriptions, and most
# share a handful of size lists and the default kinds: parse each distinct text once.
@functools.lru_cache(maxsize=4096)
def _sizes(text: str) -> tuple[float, ...]:
    return tuple(float(s) for s in json.loads(text))


@functools.lru_cache(maxsize=1024)
def _kinds(text: str) -> tuple[EventKind, ...]:
    return tuple(EventKind(k) for k in json.loads(text))


_COLUMNS = "id, chat_id, style_code, sizes, shop, max_price, kinds, created, max_currency"


def upsert_chat(store: Store, chat_id: int, chat_type: str = "private", title: str = "") -> None:
    """Remember a chat; a chat that talks to us again is active again."""
    with store.write():
        store.db.execute(
            "INSERT INTO chats (chat_id, type, title, active, created) VALUES (?, ?, ?, 1, ?) "
            "ON CONFLICT(chat_id) DO UPDATE SET type = excluded.type, title = excluded.title, "
            "active = 1",
            [chat_id, chat_type, title, utc_now()],
        )


def set_chat_active(store: Store, chat_id: int, active: bool) -> None:
    with store.write():
        store.db.execute(
            "UPDATE chats SET active = ? WHERE chat_id = ?", [1 if active else 0, chat_id]
        )


def add_subscription(
    store: Store,
    chat_id: int,
    *,
    style_code: str | None,
    sizes: Iterable[float] = (),
    shop: str | None = None,
    max_price: Decimal | None = None,
    kinds: Iterable[EventKind] = DEFAULT_KINDS,
    limit: int = MAX_SUBSCRIPTIONS_PER_CHAT,
    max_currency: str | None = None,
) -> Subscription:
    """Add one subscription for a chat (the chat must have been seen: `upsert_chat`)."""
    sizes = tuple(sorted(set(sizes)))
    kinds = tuple(dict.fromkeys(EventKind(k) for k in kinds))
    if not kinds:
        raise SubscriptionError("choose at least one kind of alert")
    if max_price is not None and max_price <= 0:
        raise SubscriptionError("the max price must be more than 0")
    with store.write():
        count = store.db.execute(
            "SELECT count(*) FROM subscriptions WHERE chat_id = ?", [chat_id]
        ).fetchone()[0]
        if count >= limit:
            raise SubscriptionError(
                f"this chat already has {count} subscriptions (the limit is {limit}): "
                "remove one with /unsubscribe first"
            )
        cursor = store.db.execute(
            "INSERT INTO subscriptions (chat_id, style_code, sizes, shop, max_price, kinds, "
            "created, max_currency) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                chat_id,
                style_code.upper() if style_code else None,
                json.dumps(list(sizes)),
                shop,
                str(max_price) if max_price is not None else None,
                json.dumps([str(k) for k in kinds]),
                utc_now(),
                max_currency.upper() if max_currency else None,
            ],
        )
        row = store.db.execute(
            f"SELECT {_COLUMNS} FROM subscriptions WHERE id = ?", [cursor.lastrowid]
        ).fetchone()
    return _subscription(row)


def list_subscriptions(store: Store, chat_id: int) -> list[Subscription]:
    rows = store.db.execute(
        f"SELECT {_COLUMNS} FROM subscriptions WHERE chat_id = ? ORDER BY id", [chat_id]
    )
    return [_subscription(row) for row in rows]


def remove_subscription(store: Store, chat_id: int, subscription_id: int) -> bool:
    """Remove one of this chat's subscriptions; False if it is not (or no longer) there."""
    with store.write():
        store.db.execute("DELETE FROM told WHERE subscription_id = ?", [subscription_id])
        deleted = store.db.execute(
            "DELETE FROM subscriptions WHERE id = ? AND chat_id = ?", [subscription_id, chat_id]
        ).rowcount
    return bool(deleted)


def forget_chat(store: Store, chat_id: int) -> int:
    """/stop: delete the chat, its subscriptions and whatever was still to be sent to it."""
    with store.write():
        store.db.execute(
            "DELETE FROM told WHERE subscription_id IN "
            "(SELECT id FROM subscriptions WHERE chat_id = ?)",
            [chat_id],
        )
        removed = store.db.execute(
            "DELETE FROM subscriptions WHERE chat_id = ?", [chat_id]
        ).rowcount
        store.db.execute("DELETE FROM outbox WHERE chat_id = ?", [chat_id])
        store.db.execute("DELETE FROM mutes WHERE chat_id = ?", [chat_id])
        store.db.execute("DELETE FROM chats WHERE chat_id = ?", [chat_id])
    return int(removed)


MUTE_HOURS = 24


def mute_colorway(store: Store, chat_id: int, style_code: str, hours: float = MUTE_HOURS) -> str:
    """No alerts about this colorway to this chat for ``hours`` (the alert's mute button);
    alerts queued meanwhile are skipped, not kept for later. Returns until when."""
    until = utc_now(hours * 3600)
    with store.write():
        store.db.execute(
            "INSERT INTO mutes (chat_id, style_code, until) VALUES (?, ?, ?) "
            "ON CONFLICT(chat_id, style_code) DO UPDATE SET until = excluded.until",
            [chat_id, style_code, until],
        )
    return until


def active_subscriptions(
    store: Store, style_codes: Iterable[str] | None = None
) -> list[Subscription]:
    """Subscriptions of active chats; with `style_codes`, only those that can want events of
    these colorways (theirs, and "any 2002R"), so a crawl never parses every subscription."""
    sql = (
        f"SELECT {', '.join('s.' + c.strip() for c in _COLUMNS.split(','))} "
        "FROM subscriptions s JOIN chats c ON c.chat_id = s.chat_id WHERE c.active = 1"
    )
    params: list[str] = []
    codes = sorted(set(style_codes)) if style_codes is not None else None
    # Past SQLite's bound-parameter limit, reading them all is simpler and still correct.
    if codes is not None and len(codes) <= 500:
        marks = ",".join("?" * len(codes))
        sql += f" AND (s.style_code IS NULL OR s.style_code IN ({marks}))"
        params = codes
    return [_subscription(row) for row in store.db.execute(sql, params)]


def matches(subscription: Subscription, event: Event, shop: str) -> bool:
    """Whether the event is about what the subscription watches (colorway, shop, size)."""
    if subscription.style_code and subscription.style_code != event.style_code:
        return False
    if subscription.shop and subscription.shop.casefold() != shop.casefold():
        return False
    return not subscription.sizes or event.size_us in subscription.sizes


def wants(
    subscription: Subscription,
    event: Event,
    shop: str,
    told: Told | None,
    *,
    restock_cooling_down: bool = False,
) -> bool:
    """Whether this event is news for this subscription. Pure.

    `restock_cooling_down`: this chat was sent a restock of this variant less than
    ``[alerts] restock_cooldown`` ago (stock that flaps does not nag)."""
    return matches(subscription, event, shop) and is_news(
        subscription, event, told, restock_cooling_down=restock_cooling_down
    )


def is_news(
    subscription: Subscription,
    event: Event,
    told: Told | None,
    *,
    restock_cooling_down: bool = False,
) -> bool:
    """`wants` for an event already known to match the subscription (`matches`). Pure."""
    if event.kind not in subscription.kinds:
        return False
    new = event.new
    if (
        subscription.max_price is not None
        and event.kind in PRICED_KINDS
        and new is not None
        and new.price > subscription.max_price
        and subscription.max_currency in (None, new.currency)
    ):
        return False
    if event.kind == EventKind.RESTOCK:
        # An observed sell-out ended (the only way `diff` makes a restock): news whatever this
        # subscriber was last told, a quick return included (cancelled orders, cart releases).
        return not restock_cooling_down
    if (
        event.kind in (EventKind.PRICE_DROP, EventKind.PRICE_RISE)
        and new is not None
        and new.stock != Stock.IN_STOCK
        and EventKind.SOLD_OUT not in subscription.kinds
    ):
        return False  # nobody can buy it: recorded, told with the restock if it comes back
    if told is None or new is None:
        return True
    if event.kind == EventKind.PRICE_DROP:
        return told.currency != new.currency or told.price is None or new.price < told.price
    if event.kind in (EventKind.SOLD_OUT, EventKind.DELISTED):
        return told.stock != Stock.SOLD_OUT
    return True


class SubscriptionIndex:
    """Subscriptions by style code, so one event is matched against the few that can want it
    rather than against every subscription."""

    def __init__(self, subscriptions: Iterable[Subscription]) -> None:
        self.by_style: dict[str | None, list[Subscription]] = {}
        for subscription in subscriptions:
            self.by_style.setdefault(subscription.style_code, []).append(subscription)

    def candidates(self, style_code: str) -> list[Subscription]:
        return self.by_style.get(style_code, []) + self.by_style.get(None, [])
