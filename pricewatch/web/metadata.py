"""Datasette metadata for the pricewatch database: titles, descriptions, units, canned queries.

Prices are integer minor units next to a currency, so one column mixes USD cents with whole yen:
no single Pint unit fits it, and the unit is written in each column's description instead. The
canned queries show prices as exact decimal text.
"""

from __future__ import annotations

from typing import Any

from pricewatch.web.queries import CHEAPEST_NOW, PRICE_HISTORY, RECENT_EVENTS

MINOR = (
    "integer minor units of the row's currency (cents: 14499 = 144.99 USD; JPY and KRW have "
    "none: 21000 = ¥21,000)"
)
WHEN = "ISO 8601 UTC time, e.g. 2026-11-25T13:45:00.123456Z"
STOCK = "in_stock, sold_out or unknown"

TABLES: dict[str, dict[str, Any]] = {
    "shops": {
        "title": "Shops",
        "description": "One row per shop in the config.",
        "columns": {
            "name": "Shop name as in the config",
            "platform": "Spider used to read it (shopify, ...)",
            "url": "Base URL",
            "currency": "ISO 4217 code of the shop's prices",
            "first_seen": WHEN,
        },
    },
    "colorways": {
        "title": "Colorways",
        "description": "One row per New Balance style code, shared by every shop that sells it.",
        "columns": {
            "style_code": "Style code, e.g. M2002RDA",
            "name": "Colorway name, e.g. Rain Cloud",
            "family": "2002R, GORE-TEX, Mule or Kids",
            "first_seen": WHEN,
        },
    },
    "products": {
        "title": "Products",
        "description": "A colorway at one shop: the shop's page and title.",
        "columns": {
            "shop_product_id": "The shop's own product id",
            "title": "Title as the shop writes it",
            "url": "Product page",
            "colorway_name": "Colorway name as the shop writes it",
            "first_seen": WHEN,
            "last_seen": WHEN,
        },
    },
    "variants": {
        "title": "Variants (current state)",
        "description": (
            "A product in one size, with its latest known price and stock. The stock here is "
            "the last state stored; it is current only if the shop's latest finished crawl "
            "saw the variant (last_crawl_id), as the cheapest_now query checks."
        ),
        "columns": {
            "size_label": "Size as the shop labels it",
            "size_us": "US men's size (number)",
            "width": "Width (D, 2E, ...) when the shop gives it",
            "price_minor": f"Current price: {MINOR}",
            "compare_at_minor": f"Price before a sale (compare-at): {MINOR}",
            "currency": "ISO 4217 currency code",
            "stock": STOCK,
            "history_id": "The history row of the current state",
            "last_crawl_id": "The last ok crawl that saw this variant",
            "misses": "Ok crawls in a row that did not list it",
            "first_seen": WHEN,
            "last_seen": WHEN,
        },
    },
    "history": {
        "title": "Price and stock history",
        "description": (
            "One row per change of (price, compare-at, currency, stock) of a variant; a row "
            "holds from first_seen until the next change, and was last confirmed at last_seen."
        ),
        "columns": {
            "price_minor": f"Price: {MINOR}",
            "compare_at_minor": f"Price before a sale: {MINOR}",
            "currency": "ISO 4217 currency code",
            "stock": STOCK,
            "first_seen": f"When this state was first seen ({WHEN})",
            "last_seen": f"When a crawl last confirmed it ({WHEN})",
            "crawl_id": "The crawl that saw the change",
        },
    },
    "crawls": {
        "title": "Crawls",
        "description": (
            "One row per crawl of one shop. Only an ok crawl changes what is known; failed, "
            "blocked and partial crawls leave the last known state as it was."
        ),
        "columns": {
            "status": "running, ok, partial, failed or blocked",
            "started": WHEN,
            "finished": WHEN,
            "changes": "History rows written (count)",
            "dropped": "Listings refused by validation (count)",
            "error": "Why it was not ok",
        },
    },
    "events": {
        "title": "Events",
        "description": "What crawls found worth telling: restocks, sell-outs, price moves.",
        "columns": {
            "kind": "restock, sold_out, price_drop, price_rise, new_colorway, new_size, delisted",
            "old_price_minor": f"Price before: {MINOR}",
            "new_price_minor": f"Price after: {MINOR}",
            "created": WHEN,
        },
    },
}

# The bot's tables name people (Telegram chats): never listed or served as tables. Own SQL
# could still read them, so `serve` allows it only to a browser on the same machine.
PRIVATE_TABLES = ("chats", "subscriptions", "told", "outbox")

QUERIES: dict[str, dict[str, Any]] = {
    "cheapest_now": {
        "title": "Cheapest now, per colorway and size",
        "description": (
            "The cheapest in-stock offer of each colorway in each size (and width, and "
            "currency: USD is never compared with EUR). In stock means the shop's latest "
            "finished crawl saw it in stock; a failed crawl makes a shop's stock unknown, "
            "and unknown is not shown here. Prices are exact decimals in their currency; "
            "style_code optionally narrows it to one colorway."
        ),
        "sql": CHEAPEST_NOW,
        "hide_sql": True,  # long: the price formatting spells out every currency's exponent
        "params": ["style_code"],
    },
    "price_history": {
        "title": "Price history of one colorway",
        "description": (
            "Every change of price or stock of one style code (e.g. M2002RDA), newest first; "
            "size_us optionally narrows it to one US men's size (e.g. 10 or 9.5)."
        ),
        "sql": PRICE_HISTORY,
        "hide_sql": True,
        "params": ["style_code", "size_us"],
    },
    "recent_events": {
        "title": "Recent events",
        "description": (
            "The latest restocks, sell-outs and price moves, newest first (up to 500); "
            "style_code optionally narrows them to one colorway."
        ),
        "sql": RECENT_EVENTS,
        "hide_sql": True,
        "params": ["style_code"],
    },
}


def metadata(
    database: str, *, tables: set[str] | None = None, allow_sql: bool = True
) -> dict[str, Any]:
    """Datasette metadata for a database served under the name ``database`` (the file's stem).

    ``tables``: the tables the file has, when known; queries over a missing table are left out
    (a database from before the events table has no recent_events). ``allow_sql``: whether
    visitors may run their own SELECTs.
    """
    queries = {
        name: query
        for name, query in QUERIES.items()
        if tables is None or name != "recent_events" or "events" in tables
    }
    table_meta = {name: dict(meta) for name, meta in TABLES.items()}
    for name in PRIVATE_TABLES:
        table_meta[name] = {"hidden": True, "allow": False}
    database_meta: dict[str, Any] = {
        "title": "2002R prices",
        "description": (
            "Prices and stock of New Balance 2002R colorways across shops, as crawled. "
            "Start with the queries below."
        ),
        "tables": table_meta,
        "queries": queries,
    }
    if not allow_sql:
        database_meta["allow_sql"] = False
    return {
        "title": "2002R price watch",
        "description": "Read-only view of the pricewatch database.",
        "databases": {database: database_meta},
    }
