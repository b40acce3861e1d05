"""Deal context for an alert: is this price low for the colorway, what it retails at, and what
the same size costs at the other shops now.

A buyer judges "$127.50" by three numbers: the lowest price seen for that colorway in that size
(any shop, same currency), the retail price, and the cheapest other shop now. All three come
from the database (and the colorway catalog), read when the alert is sent, so they are as fresh
as the last crawl. Only in-stock prices count: a price nobody could pay is no benchmark.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from pricewatch.changes import EventKind
from pricewatch.history import parse_timestamp
from pricewatch.models import Stock
from pricewatch.outbox import Alert
from pricewatch.prices import from_minor
from pricewatch.store import Store, money

__all__ = ["LOW_WINDOW_DAYS", "Deal", "Elsewhere", "deal_context", "low_mark"]

LOW_WINDOW_DAYS = 90
# Kinds whose price is news: a sell-out or a delisting has no price worth judging.
_PRICED = frozenset(
    {
        EventKind.PRICE_DROP,
        EventKind.RESTOCK,
        EventKind.NEW_SIZE,
        EventKind.NEW_COLORWAY,
        EventKind.PRICE_RISE,
    }
)

# In-stock prices of the colorway in the size and currency, before the alert's own state.
_LOWS = """
SELECT min(CASE WHEN h.first_seen >= ? THEN h.price_minor END), min(h.price_minor),
       min(h.first_seen)
FROM history h
JOIN variants v ON v.id = h.variant_id
WHERE v.style_code = ? AND v.size_us = ? AND h.currency = ? AND h.stock = ?
  AND h.first_seen < ? AND h.id NOT IN (SELECT history_id FROM variants WHERE id = ?)
"""

_ELSEWHERE = """
SELECT s.name, v.price_minor
FROM variants v
JOIN shops s ON s.id = v.shop_id
WHERE v.style_code = ? AND v.size_us = ? AND v.currency = ? AND v.stock = ? AND v.misses = 0
  AND v.shop_id != (SELECT shop_id FROM variants WHERE id = ?)
ORDER BY v.price_minor, s.name
LIMIT 1
"""


@dataclass(frozen=True)
class Elsewhere:
    shop: str
    price: Decimal
    currency: str


@dataclass(frozen=True)
class Deal:
    """What an alert's price is worth, all optional."""

    low: str | None = None  # "lowest ever", "lowest in 90 days", "lowest in 12 days"
    retail: Decimal | None = None  # the colorway's retail price, in the alert's currency
    elsewhere: Elsewhere | None = None  # the cheapest other shop now, same size and currency


def low_mark(
    price: Decimal,
    window_low: Decimal | None,
    ever_low: Decimal | None,
    first_seen: datetime | None,
    now: datetime,
    *,
    window_days: int = LOW_WINDOW_DAYS,
) -> str | None:
    """The mark a price earns against what was seen before it (pure).

    "lowest ever" needs a history at least ``window_days`` long and a price below every price
    in it; "lowest in 90 days" a price at or below the window's lowest; a shorter history says
    its own length ("lowest in 12 days"), so a week of data never claims "ever". A price equal
    to an older low is "lowest in 90 days", not "ever": it was seen before.
    """
    if ever_low is None or first_seen is None:
        return None  # nothing to compare with
    tracked_days = (now - first_seen) / timedelta(days=1)
    if tracked_days >= window_days:
        if price < ever_low:
            return "lowest ever"
        if window_low is not None and price <= window_low:
            return f"lowest in {window_days} days"
        return None
    if price <= ever_low and tracked_days >= 1:
        return f"lowest in {int(tracked_days)} days"
    return None


def deal_context(
    store: Store,
    alerts: Iterable[Alert],
    retail: Mapping[str, tuple[Decimal, str]] | None = None,
    *,
    now: datetime | None = None,
) -> dict[int, Deal]:
    """The deal of each priced alert with a US size, by outbox id. ``retail`` maps a style
    code to its retail price and currency (the catalog's)."""
    deals: dict[int, Deal] = {}
    for alert in alerts:
        if alert.kind not in _PRICED or alert.new_price is None or alert.size_us is None:
            continue
        moment = now or parse_timestamp(alert.created.replace("Z", "+00:00"))
        window_start = moment - timedelta(days=LOW_WINDOW_DAYS)
        params = [
            window_start.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            alert.style_code,
            alert.size_us,
            alert.currency,
            Stock.IN_STOCK.value,
            alert.created,
            alert.variant_id,
        ]
        window_minor, ever_minor, first = store.db.execute(_LOWS, params).fetchone()
        low = None
        if alert.kind != EventKind.PRICE_RISE:
            low = low_mark(
                alert.new_price,
                money(window_minor, alert.currency),
                money(ever_minor, alert.currency),
                parse_timestamp(first.replace("Z", "+00:00")) if first else None,
                moment,
            )
        row = store.db.execute(
            _ELSEWHERE,
            [
                alert.style_code,
                alert.size_us,
                alert.currency,
                Stock.IN_STOCK.value,
                alert.variant_id,
            ],
        ).fetchone()
        known = (retail or {}).get(alert.style_code)
        deals[alert.outbox_id] = Deal(
            low=low,
            retail=known[0] if known and known[1] == alert.currency else None,
            elsewhere=(
                Elsewhere(str(row[0]), from_minor(row[1], alert.currency), alert.currency)
                if row
                else None
            ),
        )
    return deals
