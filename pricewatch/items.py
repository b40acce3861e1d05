"""What a crawl hands to the core: one product with its variants as read from a shop, not yet
trusted. Spiders (`scrapers/`) yield these; `pricewatch.validation` judges them and
`pricewatch.recording.record_crawl` stores what it trusts. They live in the core so the core
never imports the Scrapy project (`scrapers.items` re-exports them for spiders)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class ListingItem:
    """One variant (a size of a colorway at a shop). Parsed, not yet trusted:
    `pricewatch.validation.validate` turns it into a `pricewatch.models.Listing` or drops it
    with a reason."""

    shop: str
    product_id: str
    variant_id: str
    title: str
    url: str
    size_label: str
    price: Decimal | None
    currency: str | None
    available: bool | None
    style_code: str | None = None
    family: str | None = None
    compare_at: Decimal | None = None
    colorway_name: str | None = None
    image: str | None = None
    handle: str | None = None
    width: str | None = None
    sku: str | None = None
    gtin: str | None = None


@dataclass
class ProductItem:
    """The Scrapy item a spider yields: one product of a shop with every variant read from it.

    One item per product, not per variant: each Scrapy item costs the engine far more than its
    parsing (spider middlewares, item pipelines, the item_scraped signal, a log record, each an
    asyncio task or coroutine), and a product has ten or more sizes. Validation still judges
    every variant on its own: an invalid one is dropped with its reason, the others are kept."""

    shop: str
    product_id: str
    variants: list[ListingItem] = field(default_factory=list)
    # Set when the product could not be parsed: the reason. Its variants are then unknown for
    # this crawl (not missing), and the rest of the shop is still recorded.
    error: str | None = None


def by_product(variants: Iterable[ListingItem]) -> Iterator[ProductItem]:
    """The variants as one `ProductItem` per product, in order (a product's variants come one
    after another, as the parsers yield them)."""
    for (shop, product_id), group in itertools.groupby(
        variants, key=lambda v: (v.shop, v.product_id)
    ):
        yield ProductItem(shop=shop, product_id=product_id, variants=list(group))
