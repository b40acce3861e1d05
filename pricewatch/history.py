"""Questions asked of the database: what is tracked, what it costs now, what it cost before.

Read-only; shared by the CLI, the bot and the web view. A variant's stock is reported as
*unknown* unless the shop's latest finished crawl saw it: a failed crawl, a block page or a
variant missing from the feed never turns into "sold out" here.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import Any

from pricewatch.models import Stock
from pricewatch.prices import from_minor
from pricewatch.store import Store, gc_paused, money


class UnknownStyleError(LookupError):
    """A style code that is not tracked; carries the closest known codes."""

    def __init__(self, style_code: str, suggestions: list[str]) -> None:
        self.style_code = style_code
        self.suggestions = suggestions
        hint = f" (did you mean {', '.join(suggestions)}?)" if suggestions else ""
        super().__init__(f"style code {style_code} is not tracked{hint}")


class UnknownShopError(LookupError):
    """A shop name the database has never crawled; the message lists the ones it has."""

    def __init__(self, shop: str, known: list[str]) -> None:
        self.shop = shop
        super().__init__(
            f"no shop named {shop!r} in the database (known: {', '.join(known) or 'none'})"
        )


def require_shop(store: Store, shop: str) -> str:
    """The shop's name as stored (any case), or `UnknownShopError` listing the known ones."""
    known = [row[0] for row in store.db.execute("SELECT name FROM shops ORDER BY name")]
    for name in known:
        if name.casefold() == shop.strip().casefold():
            return name
    raise UnknownShopError(shop, known)


class SinceError(ValueError):
    """A ``--since`` value that is neither a duration (30d, 12h, 2w, 6m) nor an ISO date."""


class NoHistoryError(LookupError):
    """A tracked colorway with no history for the size / shop / period asked about."""


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


# Not frozen, on purpose: a frozen dataclass costs 1 us a row to build (every field through
# object.__setattr__), 4 ms of a colorway's 4,000-row history; slots cost 0.2 us.
@dataclass(slots=True)
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


def variant_url(product_url: str, variant_key: object) -> str:
    """A link to one size: Shopify product pages select a size with ?variant=ID."""
    if "/products/" not in product_url:
        return product_url
    return f"{product_url.split('?')[0]}?variant={variant_key}"


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
        url=variant_url(product_url, vid),
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
    sql, params = _variant_filter(_CURRENT + " AND", style_code, size_us, shop)
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


_STOCKS = {stock.value: stock for stock in Stock}


def _history_row(row: Sequence[Any]) -> HistoryRow:
    # A crawl's changes and the states they replaced (`price_history` builds its thousands of
    # rows itself, more cheaply): the stored values are trusted as written.
    first, last, shop, code, label, size_us, price, compare, currency, stock = row
    return HistoryRow(
        first_seen=first,
        last_seen=last,
        shop=shop,
        style_code=code,
        size_label=label,
        size_us=size_us,
        price=from_minor(price, currency),
        compare_at=money(compare, currency),
        currency=currency,
        stock=_STOCKS[stock],
    )


def _variant_filter(
    sql: str, style_code: str | None, size_us: float | None, shop: str | None
) -> tuple[str, list[Any]]:
    """`sql` (ending in WHERE or AND) narrowed to a style code, size and shop, each optional:
    variants as ``v``, shops as ``s``."""
    terms, params = ["1"], list[Any]()  # "1": true, so WHERE or AND always has a term
    for term, value in (
        ("v.style_code = ?", style_code or None),
        ("v.size_us = ?", size_us),
        ("s.name = ? COLLATE NOCASE", shop or None),
    ):
        if value is not None:
            terms.append(term)
            params.append(value)
    return f"{sql} {' AND '.join(terms)}", params


def _history_where(
    code: str, size_us: float | None, shop: str | None, since: str | None
) -> tuple[str, list[Any]]:
    # style code (+ size) first: the planner walks idx_variants_style_code_size_us, then
    # idx_history_variant_covering per variant, never the whole history table
    sql, params = _variant_filter(" WHERE", code, size_us, shop)
    if since:
        sql += " AND coalesce(h.last_seen, h.first_seen) >= ?"
        params.append(since)
    return sql, params


def price_history(
    store: Store,
    style_code: str,
    size_us: float | None = None,
    shop: str | None = None,
    since: str | None = None,
) -> list[HistoryRow]:
    """Every change of a colorway (optionally one size, one shop, since a time), oldest first.

    ``since`` is an ISO timestamp or anything `parse_since` reads ("30d", "2026-10-01"); a row
    still true after it counts, even if it started before.
    """
    code = require_style(store, style_code)
    if shop is not None:
        shop = require_shop(store, shop)
    since_ts = parse_since(since) if since else None
    variants, history_sql, since_params = _variant_history_queries(code, size_us, shop, since_ts)
    with gc_paused():
        rows = _read_history(store, code, variants, history_sql, since_params)
    # Each variant's rows came in time order off its covering index, the variants in the
    # order ties are shown (shop, size): a stable sort by time only merges those runs.
    rows.sort(key=_FIRST_SEEN)
    return rows


def _read_history(
    store: Store,
    code: str,
    variants: tuple[str, list[Any]],
    history_sql: str,
    since_params: list[Any],
) -> list[HistoryRow]:
    rows: list[HistoryRow] = []
    for variant_id, shop_name, label, size_us_, usual in store.db.execute(*variants):
        usual_amounts = _Amounts(usual)
        rows += [
            HistoryRow(
                first,
                last,
                shop_name,
                code,
                label,
                size_us_,
                (amounts := usual_amounts if other is None else _Amounts(other))[price],
                None if compare is None else amounts[compare],
                amounts.currency,
                _STOCKS[stock],
            )
            for first, last, price, compare, other, stock in store.db.execute(
                history_sql, [usual, variant_id, *since_params]
            ).fetchall()  # in one call: 5% quicker than stepping the cursor row by row
        ]
    return rows


_FIRST_SEEN = attrgetter("first_seen")


class _Amounts(dict[int, Decimal]):
    """Minor units -> Decimal in one currency, each worked out once: a variant's history
    repeats a dozen prices over thousands of rows, and a dict lookup is the cheapest read."""

    def __init__(self, currency: str) -> None:
        super().__init__()
        self.currency = currency

    def __missing__(self, minor: int) -> Decimal:
        self[minor] = amount = from_minor(minor, self.currency)
        return amount


def _variant_history_queries(
    code: str, size_us: float | None, shop: str | None, since: str | None
) -> tuple[tuple[str, list[Any]], str, list[Any]]:
    """The colorway's variants (in the order ties in time are shown: shop, size, variant) and the
    query of one variant's history, whose parameters are the variant's currency and id, then
    the rest given."""
    sql, params = _variant_filter(
        "SELECT v.id, s.name, v.size_label, v.size_us, v.currency FROM variants v"
        " JOIN shops s ON s.id = v.shop_id WHERE",
        code,
        size_us,
        shop,
    )
    sql += " ORDER BY s.name, v.size_us, v.id"
    # A row's currency is its variant's but for a shop that changed currency: read as NULL
    # when it is the usual one, as 4,000 copies of "USD" cost more than the rest of a row.
    history = (
        "SELECT first_seen, coalesce(last_seen, first_seen), price_minor, compare_at_minor,"
        " nullif(currency, ?), stock FROM history WHERE variant_id = ?"
    )
    since_params: list[Any] = []
    if since:
        history += " AND coalesce(last_seen, first_seen) >= ?"
        since_params.append(since)
    return (sql, params), history + " ORDER BY first_seen, id", since_params


# history has no index on crawl_id: reach a crawl's rows through its shop's variants and the
# (variant_id, first_seen) index instead of scanning the table. A crawl writes its rows after it
# starts, so first_seen >= started bounds each variant's search to its newest rows.
_CRAWL_CHANGES = """
SELECT h.id, h.variant_id, h.first_seen, coalesce(h.last_seen, h.first_seen), s.name,
       v.style_code, v.size_label, v.size_us, h.price_minor, h.compare_at_minor, h.currency,
       h.stock
FROM crawls c
CROSS JOIN variants v ON v.shop_id = c.shop_id
CROSS JOIN history h ON h.variant_id = v.id AND h.first_seen >= c.started AND h.crawl_id = c.id
JOIN shops s ON s.id = c.shop_id
WHERE c.id IN ({marks})
ORDER BY v.style_code, s.name, v.size_us
"""


def crawl_changes(store: Store, crawl_ids: Iterable[int]) -> list[Change]:
    """What the given crawls changed, each with the state it replaced."""
    ids = list(crawl_ids)
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = store.db.execute(_CRAWL_CHANGES.format(marks=marks), ids).fetchall()
    changes = []
    for history_id, variant_id, *rest in rows:
        new = _history_row(tuple(rest))
        before = store.db.execute(  # the state before it in time (the variant's index)
            _HISTORY + " WHERE h.variant_id = ? AND (h.first_seen, h.id) < (?, ?) "
            "ORDER BY h.first_seen DESC, h.id DESC LIMIT 1",
            [variant_id, new.first_seen, history_id],
        ).fetchone()
        old = _history_row(before) if before else None
        changes.append(Change(new.shop, new.style_code, new.size_label, new.size_us, old, new))
    return changes


# -- periods and summaries -----------------------------------------------------------------

_DURATION = re.compile(r"(\d+)\s*([hdwmy])")
# a month is 30 days and a year 365: "since 6m" is a rough window, not calendar arithmetic
_UNIT_HOURS = {"h": 1, "d": 24, "w": 24 * 7, "m": 24 * 30, "y": 24 * 365}


def format_timestamp(moment: datetime) -> str:
    """An aware datetime as stored: "2026-11-25T13:45:00.123456Z" (UTC, sortable as text)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> datetime:
    """A stored timestamp back to an aware UTC datetime."""
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_since(text: str, now: datetime | None = None) -> str:
    """A period before ``now`` (30d, 12h, 2w, 6m = months of 30 days, 1y) or an ISO date or
    time (2026-10-01, UTC unless it says otherwise), as a stored timestamp."""
    value = text.strip() if isinstance(text, str) else ""
    problem = f"cannot read {value!r} as a period: use 30d, 12h, 2w, 6m or a date like 2026-10-01"
    match = _DURATION.fullmatch(value.lower())
    if match and int(match[1]) == 0:
        raise SinceError(problem)
    try:
        if match:
            hours = int(match[1]) * _UNIT_HOURS[match[2]]
            return format_timestamp((now or datetime.now(UTC)) - timedelta(hours=hours))
        return format_timestamp(parse_timestamp(value))
    except (ValueError, OverflowError) as exc:  # a bad date, or 10000y before year 1
        raise SinceError(problem) from exc


@dataclass(frozen=True)
class PricePoint:
    """A price a colorway was on sale at, in stock: where, in which size, first seen when."""

    price: Decimal
    currency: str
    shop: str
    size_label: str
    size_us: float | None
    when: str


@dataclass(frozen=True)
class HistorySummary:
    """The figures under a history: prices are per currency (USD is never compared with EUR)
    and count only while in stock, because a sold-out size's price could not be paid."""

    style_code: str
    name: str | None
    size_us: float | None
    shop: str | None
    since: str | None
    changes: int  # history rows in the period
    lowest_ever: tuple[PricePoint, ...]
    lowest_in_period: tuple[PricePoint, ...]  # the same as lowest_ever without a period
    cheapest_now: tuple[Offer, ...]  # in stock per the shop's latest crawl, one per currency
    last_in_stock: str | None  # the last crawl that saw it in stock
    days_since_in_stock: int | None  # 0 if in stock now; None if never seen in stock


_LOWEST = """
SELECT first_seen, shop, size_label, size_us, price_minor, currency FROM (
  SELECT h.first_seen, s.name AS shop, v.size_label, v.size_us, h.price_minor, h.currency,
         row_number() OVER (PARTITION BY h.currency
                            ORDER BY h.price_minor, h.first_seen, h.id) AS n
  FROM history h JOIN variants v ON v.id = h.variant_id JOIN shops s ON s.id = v.shop_id
  {where} AND h.stock = ?
) WHERE n = 1 ORDER BY currency
"""
_FROM = "FROM history h JOIN variants v ON v.id = h.variant_id JOIN shops s ON s.id = v.shop_id"
_LAST_IN_STOCK = (
    f"SELECT max(coalesce(h.last_seen, h.first_seen)) {_FROM} {{where}} AND h.stock = ?"
)
_COUNT = f"SELECT count(*) {_FROM} {{where}}"


def colorway_name(store: Store, style_code: str) -> str | None:
    row = store.db.execute(
        "SELECT name FROM colorways WHERE style_code = ?", [style_code]
    ).fetchone()
    return str(row[0]) if row and row[0] else None


def _lowest(store: Store, where: str, params: list[Any]) -> tuple[PricePoint, ...]:
    rows = store.db.execute(_LOWEST.format(where=where), [*params, Stock.IN_STOCK.value])
    return tuple(
        PricePoint(
            price=from_minor(int(price), str(currency)),
            currency=str(currency),
            shop=str(shop),
            size_label=str(label),
            size_us=float(size_us) if isinstance(size_us, int | float) else None,
            when=str(first_seen),
        )
        for first_seen, shop, label, size_us, price, currency in rows
    )


def history_summary(
    store: Store,
    style_code: str,
    size_us: float | None = None,
    shop: str | None = None,
    since: str | None = None,
    *,
    now: datetime | None = None,
) -> HistorySummary:
    """Lowest ever, lowest in the period, cheapest now and where, days since last in stock."""
    code = require_style(store, style_code)
    now = now or datetime.now(UTC)
    since_ts = parse_since(since, now) if since else None
    where_all, params_all = _history_where(code, size_us, shop, None)
    where, params = _history_where(code, size_us, shop, since_ts)
    lowest_ever = _lowest(store, where_all, params_all)
    cheapest: dict[str, Offer] = {}
    for offer in current_offers(store, code, size_us, shop):  # cheapest first per currency
        if offer.stock == Stock.IN_STOCK:
            cheapest.setdefault(offer.currency, offer)
    last = store.db.execute(
        _LAST_IN_STOCK.format(where=where_all), [*params_all, Stock.IN_STOCK.value]
    ).fetchone()[0]
    if cheapest:
        days: int | None = 0
    elif last:
        days = max(0, math.floor((now - parse_timestamp(str(last))) / timedelta(days=1)))
    else:
        days = None
    return HistorySummary(
        style_code=code,
        name=colorway_name(store, code),
        size_us=size_us,
        shop=shop,
        since=since_ts,
        changes=int(store.db.execute(_COUNT.format(where=where), params).fetchone()[0]),
        lowest_ever=lowest_ever,
        lowest_in_period=_lowest(store, where, params) if since_ts else lowest_ever,
        cheapest_now=tuple(cheapest.values()),
        last_in_stock=str(last) if last else None,
        days_since_in_stock=days,
    )
