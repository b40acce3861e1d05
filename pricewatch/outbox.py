"""The outbox: alerts waiting to be sent, read and marked by the delivery loop.

Rows are written by `pricewatch.alerts` in the crawl's transaction (so none is lost) and marked
``sent`` one message at a time, right after Telegram accepted it (so a restart resends only what
was not yet sent). A stock alert whose news is no longer true when its turn comes (the shoe sold
out again before the restock alert went) is marked ``skipped`` instead of being sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pricewatch.changes import EventKind
from pricewatch.history import variant_url
from pricewatch.links import cart_url
from pricewatch.models import Stock, utc_now
from pricewatch.prices import from_minor
from pricewatch.store import Store


@dataclass(frozen=True)
class Alert:
    """One outbox row, with everything its message says."""

    outbox_id: int
    chat_id: int
    chat_type: str
    kind: EventKind
    style_code: str
    colorway_name: str | None
    shop: str
    size_us: float | None
    size_label: str
    old_price: Decimal | None
    new_price: Decimal | None
    currency: str
    old_stock: Stock | None
    new_stock: Stock | None
    url: str
    created: str
    attempts: int
    still_true: bool  # the variant is still in the state the alert announces
    since: str | None = None  # a restock: when the size was first seen sold out
    told_price: Decimal | None = None  # a restock: the price this chat was last told
    variant_id: int = 0
    product_url: str = ""  # the product page (``url`` may select the size in it)
    image: str | None = None  # the product's picture, as the shop gives it
    width: str | None = None  # "D", "2E", "B": None when the shop does not say
    cart_url: str | None = None  # one tap to the shop's cart with this size in it
    explicit: bool = True  # the chat subscribed to this colorway by name, not "any 2002R"
    muted: bool = False  # the chat muted this colorway for now


_DUE = """
SELECT o.id, o.chat_id, coalesce(c.type, 'private'), e.kind, e.style_code, cw.name, s.name,
       e.size_us, e.size_label, e.old_price_minor, e.new_price_minor, e.currency, e.old_stock,
       e.new_stock, p.url, v.shop_variant_id, e.created, o.attempts, v.stock, v.misses,
       e.since, o.told_price_minor, v.id, v.width, p.image, s.platform,
       EXISTS(SELECT 1 FROM subscriptions sub
              WHERE sub.chat_id = o.chat_id AND sub.style_code = e.style_code),
       EXISTS(SELECT 1 FROM mutes m
              WHERE m.chat_id = o.chat_id AND m.style_code = e.style_code AND m.until > ?)
FROM outbox o
JOIN events e ON e.id = o.event_id
JOIN variants v ON v.id = e.variant_id
JOIN products p ON p.id = v.product_id
JOIN shops s ON s.id = e.shop_id
LEFT JOIN colorways cw ON cw.style_code = e.style_code
LEFT JOIN chats c ON c.chat_id = o.chat_id
WHERE o.status = 'pending' AND o.not_before <= ? AND coalesce(c.active, 1) = 1
ORDER BY o.chat_id, o.id
LIMIT ?
"""


def _alert(row: Sequence[Any]) -> Alert:
    (
        oid,
        chat_id,
        chat_type,
        kind,
        code,
        name,
        shop,
        size_us,
        label,
        old_minor,
        new_minor,
        currency,
        old_stock,
        new_stock,
        url,
        variant_key,
        created,
        attempts,
        stock_now,
        misses,
        since,
        told_minor,
        variant_id,
        width,
        image,
        platform,
        explicit,
        muted,
    ) = row
    kind = EventKind(kind)
    if kind == EventKind.DELISTED:
        still_true = bool(misses)  # still absent from the shop's feed
    elif kind in (EventKind.RESTOCK, EventKind.SOLD_OUT):
        still_true = stock_now == new_stock
    else:
        still_true = True
    return Alert(
        outbox_id=int(oid),
        chat_id=int(chat_id),
        chat_type=str(chat_type),
        kind=kind,
        style_code=str(code),
        colorway_name=name,
        shop=str(shop),
        size_us=size_us,
        size_label=str(label or ""),
        old_price=from_minor(old_minor, currency) if old_minor is not None else None,
        new_price=from_minor(new_minor, currency) if new_minor is not None else None,
        currency=str(currency),
        old_stock=Stock(old_stock) if old_stock else None,
        new_stock=Stock(new_stock) if new_stock else None,
        url=variant_url(url, variant_key),
        created=str(created),
        attempts=int(attempts or 0),
        still_true=still_true,
        since=since,
        told_price=from_minor(told_minor, currency) if told_minor is not None else None,
        variant_id=int(variant_id),
        product_url=str(url),
        image=str(image) if image else None,
        width=str(width) if width else None,
        cart_url=cart_url(str(url), str(platform), variant_key),
        explicit=bool(explicit),
        muted=bool(muted),
    )


def due_alerts(
    store: Store, *, now: str | None = None, limit: int = 1000
) -> dict[int, list[Alert]]:
    """Pending alerts that may be sent now, grouped by chat (oldest first)."""
    grouped: dict[int, list[Alert]] = {}
    moment = now or utc_now()
    for row in store.db.execute(_DUE, [moment, moment, limit]):
        alert = _alert(row)
        grouped.setdefault(alert.chat_id, []).append(alert)
    return grouped


def _ids(outbox_ids: Iterable[int]) -> list[int]:
    return sorted(set(outbox_ids))


def _update(store: Store, sql: str, params: list[Any], outbox_ids: Iterable[int]) -> int:
    ids = _ids(outbox_ids)
    if not ids:
        return 0
    marks = ",".join("?" * len(ids))
    with store.write():
        return int(
            store.db.execute(
                f"{sql} WHERE status = 'pending' AND id IN ({marks})", [*params, *ids]
            ).rowcount
        )


def mark_sent(store: Store, outbox_ids: Iterable[int], message_id: int | None = None) -> int:
    return _update(
        store,
        "UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, attempts = attempts + 1",
        [utc_now(), message_id],
        outbox_ids,
    )


def mark_skipped(store: Store, outbox_ids: Iterable[int], reason: str) -> int:
    return _update(store, "UPDATE outbox SET status = 'skipped', error = ?", [reason], outbox_ids)


def mark_retry(store: Store, outbox_ids: Iterable[int], error: str, delay_seconds: float) -> int:
    """Try again later (network error, RetryAfter): the row stays pending."""
    return _update(
        store,
        "UPDATE outbox SET attempts = attempts + 1, error = ?, not_before = ?",
        [error, utc_now(delay_seconds)],
        outbox_ids,
    )


def mark_failed(store: Store, outbox_ids: Iterable[int], error: str) -> int:
    """Give up (the chat blocked the bot, or too many attempts)."""
    return _update(
        store,
        "UPDATE outbox SET status = 'failed', attempts = attempts + 1, error = ?",
        [error],
        outbox_ids,
    )


def outbox_length(store: Store) -> int:
    return int(
        store.db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]
    )
