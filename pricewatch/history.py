"""Questions asked of the database: what is tracked, what it costs now, what it cost before.

Read-only; shared by the CLI, the bot and the web view. A variant's stock is reported as
*unknown* unless the shop's latest finished crawl saw it: a failed crawl, a block page or a
variant missing from the feed never turns into "sold out" here.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pricewatch.models import Stock
from pricewatch.prices import from_minor
from pricewatch.store import Store, money


class UnknownStyleError(LookupError):
    """A style code that is not tracked; carries the closest known codes."""

    def __init__(self, style_code: str, suggestions: list[str]) -> None:
        self.style_code = style_code
        self.suggestions = suggestions
        hint = f" (did you mean {', '.join(suggestions)}?)" if suggestions else ""
        super().__init__(f"style code {style_code} is not tracked{hint}")


@dataclass(frozen=True)
class Offer:
    """A variant as it stands now at one shop."""

    style_code: str
    shop: str
    size_label: str
    size_us: float | None
    width: str | None
    price: Decimal
    compare_at: Decimal | None
    currency: str
    stock: Stock
    url: str
    last_seen: str


@dataclass(frozen=True)
class ColorwaySummary:
    style_code: str
    name: str | None
    family: str
    shops: tuple[str, ...]
    sizes_in_stock: int
    cheapest: tuple[Offer, ...]  # the cheapest in-stock offer per currency


@dataclass(frozen=True)
class HistoryRow:
    """One change of one variant: its state from ``first_seen`` until ``last_seen``."""

    first_seen: str
    last_seen: str
    shop: str
    style_code: str
    size_label: str
    size_us: float | None
    price: Decimal
    compare_at: Decimal | None
    currency: str
    stock: Stock


@dataclass(frozen=True)
class Change:
    """What one crawl changed: ``old`` is None for a variant seen the first time."""

    shop: str
    style_code: str
    size_label: str
    size_us: float | None
    old: HistoryRow | None
    new: HistoryRow


# stock is trusted only if the shop's latest finished crawl saw the variant
_CURRENT = """
SELECT v.style_code, s.name AS shop, v.size_label, v.size_us, v.width, v.price_minor,
       v.compare_at_minor, v.currency,
       CASE WHEN v.last_crawl_id = (SELECT max(c.id) FROM crawls c
                                    WHERE c.shop_id = v.shop_id AND c.status != 'running')
            THEN v.stock ELSE 'unknown' END AS stock,
       p.url, v.last_seen, v.shop_variant_id
FROM variants v JOIN shops s ON s.id = v.shop_id JOIN products p ON p.id = v.product_id
WHERE v.price_minor IS NOT NULL
"""


def _offer(row: Sequence[Any]) -> Offer:
    code, shop, label, size_us, width, price, compare, currency, stock, url, seen, vid = row
    product_url = str(url)
    return Offer(
        style_code=str(code),
        shop=str(shop),
        size_label=str(label),
        size_us=float(size_us) if isinstance(size_us, int | float) else None,
        width=str(width) if width else None,
        price=from_minor(int(price), str(currency)),
        compare_at=money(compare if isinstance(compare, int) else None, str(currency)),
        currency=str(currency),
        stock=Stock(str(stock)),
        url=f"{product_url.split('?')[0]}?variant={vid}"
        if "/products/" in product_url
        else product_url,
        last_seen=str(seen),
    )


def tracked_styles(store: Store) -> list[str]:
    return [row[0] for row in store.db.execute("SELECT style_code FROM colorways ORDER BY 1")]


def require_style(store: Store, style_code: str) -> str:
    """The style code, upper-cased, if tracked; else `UnknownStyleError` with suggestions."""
    code = style_code.strip().upper()
    known = tracked_styles(store)
    if code not in known:
        raise UnknownStyleError(code, difflib.get_close_matches(code, known, n=3, cutoff=0.6))
    return code


def current_offers(
    store: Store,
    style_code: str | None = None,
    size_us: float | None = None,
    shop: str | None = None,
) -> list[Offer]:
    """Every variant's current state, cheapest first (in stock before unknown and sold out)."""
    sql, params = _CURRENT, list[Any]()
    if style_code:
        sql += " AND v.style_code = ?"
        params.append(style_code)
    if size_us is not None:
        sql += " AND v.size_us = ?"
        params.append(size_us)
    if shop:
        sql += " AND s.name = ? COLLATE NOCASE"
        params.append(shop)
    offers = [_offer(row) for row in store.db.execute(sql, params)]
    rank = {Stock.IN_STOCK: 0, Stock.UNKNOWN: 1, Stock.SOLD_OUT: 2}
    return sorted(
        offers, key=lambda o: (rank[o.stock], o.currency, o.price, o.shop, o.size_us or 0)
    )


def colorways(store: Store) -> list[ColorwaySummary]:
    """What is tracked: one line per style code, over every shop."""
    names = {
        row[0]: (row[1], row[2])
        for row in store.db.execute("SELECT style_code, name, family FROM colorways")
    }
    by_style: dict[str, list[Offer]] = {code: [] for code in names}
    for offer in current_offers(store):
        by_style.setdefault(offer.style_code, []).append(offer)
    summaries = []
    for code in sorted(by_style):
        offers = by_style[code]
        in_stock = [o for o in offers if o.stock == Stock.IN_STOCK]
        cheapest: dict[str, Offer] = {}
        for offer in in_stock:  # already sorted cheapest first within a currency
            cheapest.setdefault(offer.currency, offer)
        name, family = names.get(code, (None, "2002R"))
        summaries.append(
            ColorwaySummary(
                style_code=code,
                name=name,
                family=family,
                shops=tuple(sorted({o.shop for o in offers})),
                sizes_in_stock=len({(o.shop, o.size_label) for o in in_stock}),
                cheapest=tuple(cheapest.values()),
            )
        )
    return summaries


_HISTORY = """
SELECT h.first_seen, coalesce(h.last_seen, h.first_seen), s.name, v.style_code, v.size_label,
       v.size_us, h.price_minor, h.compare_at_minor, h.currency, h.stock
FROM history h JOIN variants v ON v.id = h.variant_id JOIN shops s ON s.id = v.shop_id
"""


def _history_row(row: Sequence[Any]) -> HistoryRow:
    first, last, shop, code, label, size_us, price, compare, currency, stock = row
    return HistoryRow(
        first_seen=str(first),
        last_seen=str(last),
        shop=str(shop),
        style_code=str(code),
        size_label=str(label),
        size_us=float(size_us) if isinstance(size_us, int | float) else None,
        price=from_minor(int(price), str(currency)),
        compare_at=money(compare if isinstance(compare, int) else None, str(currency)),
        currency=str(currency),
        stock=Stock(str(stock)),
    )


def price_history(
    store: Store,
    style_code: str,
    size_us: float | None = None,
    shop: str | None = None,
    since: str | None = None,
) -> list[HistoryRow]:
    """Every change of a colorway (optionally one size, one shop, since a time), oldest first."""
    code = require_style(store, style_code)
    sql, params = _HISTORY + " WHERE v.style_code = ?", list[Any]([code])
    if size_us is not None:
        sql += " AND v.size_us = ?"
        params.append(size_us)
    if shop:
        sql += " AND s.name = ? COLLATE NOCASE"
        params.append(shop)
    if since:
        sql += " AND coalesce(h.last_seen, h.first_seen) >= ?"
        params.append(since)
    sql += " ORDER BY h.first_seen, s.name, v.size_us, h.id"
    return [_history_row(row) for row in store.db.execute(sql, params)]


def crawl_changes(store: Store, crawl_ids: Iterable[int]) -> list[Change]:
    """What the given crawls changed, each with the state it replaced."""
    ids = list(crawl_ids)
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = store.db.execute(
        _HISTORY.replace("SELECT ", "SELECT h.id, h.variant_id, ", 1)
        + f" WHERE h.crawl_id IN ({marks}) ORDER BY v.style_code, s.name, v.size_us",
        ids,
    ).fetchall()
    changes = []
    for history_id, variant_id, *rest in rows:
        new = _history_row(tuple(rest))
        before = store.db.execute(
            _HISTORY + " WHERE h.variant_id = ? AND h.id < ? ORDER BY h.id DESC LIMIT 1",
            [variant_id, history_id],
        ).fetchone()
        old = _history_row(before) if before else None
        changes.append(Change(new.shop, new.style_code, new.size_label, new.size_us, old, new))
    return changes
