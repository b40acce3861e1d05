"""From events to the outbox, inside the crawl's own transaction.

For each event of a successful crawl: store it once, find the subscriptions that want it
(`pricewatch.subscriptions.wants`), remember what each subscriber is now told, and write one
outbox row per (event, chat). Being in the crawl's transaction is what makes delivery safe: a
crash either keeps the crawl, its events and their outbox rows, or none of them.

Flapping stock neither nags nor hides a restock: a sold-out alert waits ``[alerts]
flap_window`` seconds before it may be sent, and a restock that comes while it waits cancels
that sold-out alert only. The restock itself always goes out (saying how long the size was
gone, and the price against the last one told), at most once per variant per chat per
``restock_cooldown``. A newer price alert for the same variant replaces one still waiting.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from pricewatch.changes import Event, EventKind
from pricewatch.config import AlertsConfig
from pricewatch.lean import sqlite_utils
from pricewatch.models import Stock, utc_now
from pricewatch.prices import from_minor, to_minor
from pricewatch.subscriptions import (
    SubscriptionIndex,
    Told,
    active_subscriptions,
    is_news,
    matches,
)

if TYPE_CHECKING:  # the store calls into this module: import it for types only
    from pricewatch.store import Store

STOCK_KINDS = {EventKind.RESTOCK, EventKind.SOLD_OUT, EventKind.DELISTED}
PRICE_KINDS = {EventKind.PRICE_DROP, EventKind.PRICE_RISE}
DEFERRED_KINDS = {EventKind.SOLD_OUT, EventKind.DELISTED}


@dataclass(frozen=True)
class AlertCounts:
    events: int = 0
    queued: int = 0  # outbox rows written
    cancelled: int = 0  # waiting rows made moot by this crawl (flaps, newer prices)


def _minor(amount: Decimal | None, currency: str) -> int | None:
    return None if amount is None else to_minor(amount, currency)


def queue_alerts(
    store: Store,
    *,
    crawl_id: int,
    shop_id: int,
    shop: str,
    events: Sequence[tuple[int, Event]],
    settings: AlertsConfig,
) -> AlertCounts:
    """Store events (with their variant ids) and queue what subscribers should hear."""
    if not events:
        return AlertCounts()
    db = store.db
    now = utc_now()
    event_ids: list[tuple[int, int, Event]] = []
    for variant_id, event in events:
        state = event.new or event.old
        currency = state.currency if state else "USD"
        cursor = db.execute(
            "INSERT OR IGNORE INTO events (crawl_id, shop_id, variant_id, kind, style_code, "
            "size_us, size_label, old_price_minor, new_price_minor, currency, old_stock, "
            "new_stock, created, since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                crawl_id,
                shop_id,
                variant_id,
                event.kind,
                event.style_code,
                event.size_us,
                event.size_label,
                _minor(event.old.price, event.old.currency) if event.old else None,
                _minor(event.new.price, event.new.currency) if event.new else None,
                currency,
                event.old.stock if event.old else None,
                event.new.stock if event.new else None,
                now,
                event.since,
            ],
        )
        if cursor.rowcount:  # detection run twice on one crawl adds nothing
            event_ids.append((int(cursor.lastrowid or 0), variant_id, event))
    if not event_ids:
        return AlertCounts()

    index = SubscriptionIndex(
        active_subscriptions(store, {event.style_code for _, _, event in event_ids})
    )
    told = _told(db, [variant_id for _, variant_id, _ in event_ids])
    cooling = _restocks_sent_since(
        db,
        [vid for _, vid, event in event_ids if event.kind == EventKind.RESTOCK],
        utc_now(-settings.restock_cooldown),
    )
    cancelled = 0
    deferred_until = utc_now(settings.flap_window)
    # Written in bulk at the end (same transaction): one event can reach thousands of chats.
    remembered: dict[tuple[int, int], Told] = {}
    outbox_rows: list[tuple[int, int, str, str, int | None]] = []
    for event_id, variant_id, event in event_ids:
        chats: dict[int, int | None] = {}  # chat -> the price it was last told (restocks)
        if event.kind == EventKind.RESTOCK:
            # Back: a sold-out alert still held back by the flap window is moot for everyone.
            cancelled += db.execute(
                "UPDATE outbox SET status = 'skipped', error = 'flapped' WHERE status = "
                "'pending' AND event_id IN (SELECT id FROM events WHERE variant_id = ? "
                "AND kind IN ('sold_out', 'delisted'))",
                [variant_id],
            ).rowcount
        for subscription in index.candidates(event.style_code):
            key = (subscription.id, variant_id)
            if not matches(subscription, event, shop) or event.new is None:
                continue
            known = told.get(key)
            news = is_news(
                subscription,
                event,
                known,
                restock_cooling_down=(subscription.chat_id, variant_id) in cooling,
            )
            if news:
                told_price = (
                    _minor(known.price, event.new.currency)
                    if known and known.price is not None and known.currency == event.new.currency
                    else None
                )
                chats.setdefault(subscription.chat_id, told_price)
                told[key] = Told(event.new.price, event.new.currency, event.new.stock)
            elif event.kind in STOCK_KINDS:
                # not told, but a stock change of something watched: remembered for the
                # sell-out rule (a subscriber who knows it is sold out is not told again)
                told[key] = Told(
                    known.price if known else None,
                    known.currency if known else None,
                    event.new.stock,
                )
            else:
                continue
            remembered[key] = told[key]
        if not chats:
            continue
        if event.kind == EventKind.RESTOCK:
            cooling.update((chat_id, variant_id) for chat_id in chats)
        moot, marked = _cancel_waiting(db, set(chats), variant_id, event.kind)
        cancelled += marked
        not_before = deferred_until if event.kind in DEFERRED_KINDS else now
        for chat_id in sorted(chats):
            if chat_id in moot and event.kind in DEFERRED_KINDS:
                continue  # sold out again before the restock went out: nothing to say
            outbox_rows.append((chat_id, event_id, now, not_before, chats[chat_id]))
    db.conn.executemany(
        "INSERT INTO told (subscription_id, variant_id, price_minor, currency, stock, updated) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(subscription_id, variant_id) DO UPDATE SET "
        "price_minor = excluded.price_minor, currency = excluded.currency, "
        "stock = excluded.stock, updated = excluded.updated",
        [(*key, *_told_row(told_now), now) for key, told_now in remembered.items()],
    )
    queued = db.conn.executemany(
        "INSERT OR IGNORE INTO outbox (chat_id, event_id, created, not_before, status, "
        "attempts, told_price_minor) VALUES (?, ?, ?, ?, 'pending', 0, ?)",
        outbox_rows,
    ).rowcount
    return AlertCounts(events=len(event_ids), queued=queued, cancelled=cancelled)


def _restocks_sent_since(
    db: sqlite_utils.Database, variant_ids: list[int], since: str
) -> set[tuple[int, int]]:
    """(chat, variant) pairs that were sent, or are about to be sent, a restock since then."""
    if not variant_ids:
        return set()
    return {
        (int(chat_id), int(variant_id))
        for chat_id, variant_id in db.execute(
            "SELECT o.chat_id, e.variant_id FROM events e JOIN outbox o ON o.event_id = e.id "
            "WHERE e.variant_id IN (SELECT value FROM json_each(?)) AND e.kind = 'restock' "
            "AND o.created > ? AND o.status IN ('pending', 'sent')",
            [json.dumps(sorted(set(variant_ids))), since],
        )
    }


def _told_row(told: Told) -> tuple[int | None, str | None, Stock | None]:
    price = (
        to_minor(told.price, told.currency) if told.price is not None and told.currency else None
    )
    return price, told.currency, told.stock


def _cancel_waiting(
    db: sqlite_utils.Database, chats: set[int], variant_id: int, kind: str
) -> tuple[set[int], int]:
    """Mark unsent rows for these chats and this variant that the new event makes moot.
    Returns the chats that had such rows, and how many rows were marked."""
    if kind in STOCK_KINDS:
        undone = {
            EventKind.RESTOCK: ("sold_out", "delisted"),
            EventKind.SOLD_OUT: ("restock",),
            EventKind.DELISTED: ("restock",),
        }[EventKind(kind)]
        reason = "flapped"
    elif kind in PRICE_KINDS:
        undone, reason = ("price_drop", "price_rise"), "superseded"
    else:
        return set(), 0
    marks = ",".join("?" * len(undone))
    waiting = (
        "status = 'pending' AND event_id IN (SELECT id FROM events WHERE variant_id = ? "
        f"AND kind IN ({marks}))"
    )
    moot = {
        int(row[0])
        for row in db.execute(
            f"SELECT DISTINCT chat_id FROM outbox WHERE {waiting}", [variant_id, *undone]
        )
    } & chats
    if not moot:
        return moot, 0
    marked = db.execute(
        f"UPDATE outbox SET status = 'skipped', error = ? WHERE {waiting} "
        "AND chat_id IN (SELECT value FROM json_each(?))",
        [reason, variant_id, *undone, json.dumps(sorted(moot))],
    ).rowcount
    return moot, int(marked)


def _told(db: sqlite_utils.Database, variant_ids: list[int]) -> dict[tuple[int, int], Told]:
    told: dict[tuple[int, int], Told] = {}
    unique = sorted(set(variant_ids))
    for start in range(0, len(unique), 500):  # stay under SQLite's bound-parameter limit
        chunk = unique[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for sid, vid, price, currency, stock in db.execute(
            "SELECT subscription_id, variant_id, price_minor, currency, stock FROM told "
            f"WHERE variant_id IN ({marks})",
            chunk,
        ):
            told[(int(sid), int(vid))] = Told(
                from_minor(price, currency) if price is not None and currency else None,
                currency,
                Stock(stock) if stock else None,
            )
    return told
