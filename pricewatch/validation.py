"""Validation: which of a crawl's raw listings can be trusted. Pure: no I/O but the log.

A listing is dropped, with its reason, when its price is missing, zero, absurd or not exact in
its currency, its size cannot be read, its currency is not the shop's, or it says nothing about
availability. A dropped listing is *unknown* for this crawl: the shop still lists that size, so
its stored state stays as it was and it does not count as missing (README, What to trust).
A product the spider could not parse (`ProductItem.error`) is unknown the same way, all of it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from pricewatch.config import ShopConfig
from pricewatch.items import ListingItem, ProductItem
from pricewatch.models import Listing, Stock
from pricewatch.prices import PriceError, price_cap, to_minor
from pricewatch.sizes import SizeError, parse_size

logger = logging.getLogger(__name__)

# The size label of a listing that covers every size: a product page with one offer for the
# whole colorway (JSON-LD without per-size offers). Its stock is the colorway's, never a size's.
ALL_SIZES = "all sizes"


class InvalidListing(ValueError):
    """A listing refused by validation; the message is the reason."""


def validate(item: ListingItem, size_system: str = "us") -> Listing:
    """The trusted `Listing` for an item, or `InvalidListing` saying why not."""
    if not item.style_code or not item.family:
        raise InvalidListing("no 2002R style code")
    if not item.currency:
        raise InvalidListing("no currency")
    if item.price is None:
        raise InvalidListing("missing price")
    if item.price <= 0:
        raise InvalidListing(f"price {item.price} is not a price")
    if item.price > price_cap(item.currency):
        raise InvalidListing(f"absurd price {item.price} {item.currency}")
    try:
        to_minor(item.price, item.currency)
        if item.compare_at is not None:
            to_minor(item.compare_at, item.currency)
    except PriceError as exc:
        raise InvalidListing(f"price not exact in {item.currency}: {exc}") from exc
    if item.available is None:
        raise InvalidListing("no availability")
    size_label, size_us, width = ALL_SIZES, None, item.width
    if item.size_label.strip():
        try:
            size = parse_size(item.size_label, size_system)
        except SizeError as exc:
            raise InvalidListing(f"unreadable size {item.size_label!r}: {exc}") from exc
        size_label, size_us, width = size.label, size.size_us, item.width or size.width
    return Listing(
        shop=item.shop,
        product_id=item.product_id,
        variant_id=item.variant_id,
        style_code=item.style_code,
        family=item.family,
        title=item.title,
        url=item.url,
        size_label=size_label,
        size_us=size_us,
        price=item.price,
        currency=item.currency,
        stock=Stock.IN_STOCK if item.available else Stock.SOLD_OUT,
        compare_at=item.compare_at,
        colorway_name=item.colorway_name,
        image=item.image,
        handle=item.handle,
        width=width,
        sku=item.sku,
        gtin=item.gtin,
    )


def validate_item(item: ListingItem, shop: ShopConfig | None) -> Listing:
    """`validate` at one shop: its own currency first, its size system; the reason names the
    listing's URL. Without a shop (a spider that is not one of ours): US sizes, any currency."""
    if shop is not None and item.currency != shop.currency:
        raise InvalidListing(
            f"{item.url}: currency {item.currency}, but {shop.name} sells in {shop.currency}"
        )
    try:
        return validate(item, shop.size_system if shop is not None else "us")
    except InvalidListing as exc:
        raise InvalidListing(f"{item.url}: {exc}") from exc


@dataclass
class Validated:
    """A crawl's products, judged: what can be trusted, and what was listed but cannot be."""

    listings: list[Listing] = field(default_factory=list)
    untrusted: set[str] = field(default_factory=set)  # variant ids listed but dropped
    failed_products: set[str] = field(default_factory=set)  # product ids that did not parse
    # A product failed without an id: this crawl cannot prove any variant absent.
    blind: bool = False
    products: int = 0  # products read, failed ones included
    failed: int = 0  # products the spider could not parse
    variants: int = 0  # variants read
    dropped: int = 0  # variants dropped by validation
    first_error: str | None = None  # the first failed product's reason, for the crawl record

    @property
    def all_failed(self) -> bool:
        """Every product read failed to parse: nothing of the shop can be trusted."""
        return self.products > 0 and self.failed >= self.products


def validate_products(products: Iterable[ProductItem], shop: ShopConfig | None) -> Validated:
    """Judge every variant of every product; a product the spider could not parse leaves all
    of its variants unknown. Each drop is logged with its reason."""
    result = Validated()
    for product in products:
        result.products += 1
        if product.error is not None:
            # The spider said so already, at WARNING; this line ties it to the crawl's record.
            logger.info(
                "%s: product %s could not be read: %s",
                product.shop,
                product.product_id or "(no id)",
                product.error,
            )
            result.failed += 1
            result.first_error = result.first_error or product.error
            if product.product_id:
                result.failed_products.add(product.product_id)
            else:
                result.blind = True
        for variant in product.variants:
            result.variants += 1
            try:
                result.listings.append(validate_item(variant, shop))
            except InvalidListing as exc:
                result.dropped += 1
                result.untrusted.add(variant.variant_id)
                logger.info("Dropped: %s", exc)
    return result
