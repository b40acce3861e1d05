"""Reading a Scrapyd job's results back (the scheduler side of `pricewatch.backends`).

The worker side (`scrapers.scrapyd_support`) writes the spider's raw `ProductItem`s as a
JSON-lines feed and an outcome sidecar (the close reason and the stats `crawl_outcome` reads)
next to it; this module parses both. It lives in the core so that ingesting a job never imports
the Scrapy project.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from decimal import Decimal, InvalidOperation
from typing import Any

from pricewatch.items import ListingItem, ProductItem

OUTCOME_SUFFIX = ".outcome.json"
OUTCOME_FORMAT = 1
# Stats read as numbers on ingest (crawl_outcome, the crawl counts).
COUNTERS = (
    "item_scraped_count",
    "pricewatch/dropped",
    "pricewatch/pages_ok",
    "pricewatch/page_errors",
    "pricewatch/products_read",
    "pricewatch/products_failed",
)


class FeedError(Exception):
    """A job's items feed or outcome file cannot be read; the message says where and why."""


@dataclasses.dataclass(frozen=True)
class JobOutcome:
    """What the worker reported when its spider closed."""

    reason: str
    stats: dict[str, Any]


def parse_outcome(text: str | bytes) -> JobOutcome:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FeedError(f"unreadable outcome file: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != OUTCOME_FORMAT:
        raise FeedError(f"outcome file in an unknown format (expected format {OUTCOME_FORMAT})")
    reason, stats = data.get("reason"), data.get("stats")
    if not isinstance(reason, str) or not isinstance(stats, dict):
        raise FeedError("outcome file without a close reason and stats")
    for key in COUNTERS:
        value = stats.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool):
            raise FeedError(f"outcome file: {key} is not a count: {value!r}")
    return JobOutcome(reason=reason, stats=stats)


_ITEM_FIELDS = {f.name: f for f in dataclasses.fields(ListingItem)}
_ITEM_HINTS = typing.get_type_hints(ListingItem)
_DECIMAL_FIELDS = frozenset(
    name
    for name, hint in _ITEM_HINTS.items()
    if hint is Decimal or Decimal in typing.get_args(hint)
)
_REQUIRED_FIELDS = frozenset(
    name
    for name, f in _ITEM_FIELDS.items()
    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
)


def item_from_json(data: Any) -> ListingItem:
    """A `ListingItem` from one line of Scrapy's JSON-lines feed (Decimals arrive as strings,
    exactly as the spider parsed them)."""
    if not isinstance(data, dict):
        raise FeedError(f"not a listing: {data!r:.80}")
    missing = _REQUIRED_FIELDS - data.keys()
    if missing:
        raise FeedError(f"listing without {', '.join(sorted(missing))}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name not in _ITEM_FIELDS:
            continue  # a newer worker's extra field: the ingester reads what it knows
        if name in _DECIMAL_FIELDS and value is not None:
            try:
                value = Decimal(str(value))
            except InvalidOperation as exc:
                raise FeedError(f"{name} {value!r} is not a number") from exc
        values[name] = value
    return ListingItem(**values)


def listings_from_json(data: Any) -> list[ListingItem]:
    """The variants of one line of the feed: a `ProductItem`'s (``{"shop": ..., "product_id":
    ..., "variants": [...]}``), or one bare `ListingItem` (as a worker from before products
    wrote them)."""
    if not isinstance(data, dict) or "variants" not in data:
        return [item_from_json(data)]
    variants = data["variants"]
    if not isinstance(variants, list):
        raise FeedError(f"variants is not a list: {variants!r:.80}")
    items = []
    for number, variant in enumerate(variants, start=1):
        try:
            items.append(item_from_json(variant))
        except FeedError as exc:
            raise FeedError(f"variant {number}: {exc}") from exc
    return items


def product_from_json(data: Any) -> ProductItem:
    """One line of the feed as a `ProductItem`, its error (a product the spider could not
    parse) included; a bare `ListingItem` line (a worker from before products) is a product of
    one variant."""
    variants = listings_from_json(data)
    if isinstance(data, dict) and "variants" in data:
        error = data.get("error")
        return ProductItem(
            shop=str(data.get("shop") or ""),
            product_id=str(data.get("product_id") or ""),
            variants=variants,
            error=str(error) if error is not None else None,
        )
    item = variants[0]
    return ProductItem(shop=item.shop, product_id=item.product_id, variants=variants)


def parse_products(text: str | bytes) -> list[ProductItem]:
    """Every product of a JSON-lines items feed, in order."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    products = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            products.append(product_from_json(json.loads(line)))
        except (ValueError, FeedError) as exc:
            raise FeedError(f"items feed line {number}: {exc}") from exc
    return products


def parse_items(text: str | bytes) -> list[ListingItem]:
    """Every listing of a JSON-lines items feed, in order."""
    return [item for product in parse_products(text) for item in product.variants]
