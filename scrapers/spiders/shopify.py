"""One spider for every Shopify shop: the public storefront feed ``/products.json``.

Paged with ``?limit=250&page=N`` until an empty page (docs/retailers.md 3.2), or a collection's
``/collections/<handle>/products.json``. Real feeds differ from the docs, and this parser takes
what the captures in tests/fixtures show: prices are strings, ``compare_at_price`` "0.00" or null
means no sale, the style code hides in the handle, tags or body_html, ``sku`` is an internal id or
a UPC, sizes are "10", "0C", "M9 / W10.5", or a UK size at a UK shop.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import scrapy
from scrapy.http import Response
from w3lib.html import remove_tags

from pricewatch.config import CRAWL_DEFAULTS, ShopConfig
from pricewatch.prices import PriceError, parse_price
from pricewatch.styles import colorway_name, identify_2002r
from scrapers.items import ListingItem, ProductItem
from scrapers.parsing.failures import ProductErrorHandler, error_reason
from scrapers.spiders.base import PlatformSpider

PAGE_LIMIT = 250  # Shopify's maximum page size


class ShopifySpider(PlatformSpider):
    name = "shopify"
    platform = "shopify"

    def feed_url(self, page: int) -> str:
        path = f"/collections/{self.shop.collection}" if self.shop.collection else ""
        return f"{self.shop.url}{path}/products.json?limit={PAGE_LIMIT}&page={page}"

    async def start(self) -> Any:
        yield self.page_request(1)

    def page_request(self, page: int) -> scrapy.Request:
        return scrapy.Request(
            self.feed_url(page),
            callback=self.parse,
            errback=self.request_failed,
            cb_kwargs={"page": page},
            headers={"Accept": "application/json"},
        )

    def parse(self, response: Response, page: int = 1) -> Iterator[Any]:
        if _looks_like_html(response):
            self.page_blocked(response)
            return
        try:
            data = json.loads(response.body)
        except ValueError as exc:
            self.page_failed(f"invalid JSON on page {page} ({exc}) at {response.url}")
            return
        if not isinstance(data, dict) or not isinstance(data.get("products"), list):
            self.page_failed(
                f"unexpected JSON on page {page}: no 'products' list at {response.url}"
            )
            return
        self.page_ok()
        products = data["products"]
        self.crawler.stats.inc_value("pricewatch/products_read", len(products))
        yield from parse_products(products, self.shop, on_error=self.product_unreadable)
        if not products:
            return  # an empty page is the end of the catalog
        if page >= self.settings.getint("PRICEWATCH_MAX_PAGES", CRAWL_DEFAULTS.max_pages):
            self.incomplete(f"stopped after {page} pages (max_pages); set a collection")
            return
        yield self.page_request(page + 1)


def parse_products(
    products: list[Any], shop: ShopConfig, on_error: ProductErrorHandler | None = None
) -> Iterator[ProductItem]:
    """One `ProductItem` per 2002R product in one page of a products.json feed.

    A product that cannot be parsed is never the page's failure: it becomes an item with its
    id, no variants and the reason in ``error`` (the core then treats that product's known
    variants as unknown for this crawl, not as missing), and the products after it are still
    read. ``on_error`` hears of each such product with its exception, so the spider can count
    and log it while this function stays pure."""
    for product in products:
        if not isinstance(product, dict):
            continue  # not a product at all: nothing to identify, nothing known to lose
        try:
            item = parse_product(product, shop)
        # The one place a product's exception stops: whatever a shop sends in one product (a
        # field no check foresaw, a bug in the parsing it reaches) must cost that product, not
        # the crawl of the whole shop. Identification cannot raise (every field is read through
        # the type-checking helpers below), so in practice this catches only products already
        # known to be 2002R; if it ever did raise, an error item for a product that may not be
        # a 2002R is harmless (no known variants) while dropping a 2002R silently is not.
        except Exception as exc:  # noqa: BLE001
            item = ProductItem(
                shop=shop.name, product_id=product_id_of(product), error=error_reason(exc)
            )
            if on_error is not None:
                on_error(item, exc)
        else:
            if item is not None and item.error is not None and on_error is not None:
                on_error(item, None)  # unreadable without an exception (no variants to read)
        if item is not None:
            yield item


def parse_product(product: dict[str, Any], shop: ShopConfig) -> ProductItem | None:
    """The product with every variant, or None when it is not a 2002R (or has no variant).

    A field of the wrong type (``"tags": {}``, ``"option1": 10``, ``"images": [5]``) is read as
    absent, or as text when it is a number; validation then drops what that leaves unusable
    (a variant without a price) with its reason. Raises only on a bug."""
    raw_variants = product.get("variants")
    variant_list = raw_variants if isinstance(raw_variants, list) else []
    variants = [v for v in variant_list if isinstance(v, dict)]
    title = _text(product.get("title"))
    handle = _text(product.get("handle"))
    match = identify_2002r(
        title=title,
        handle=handle,
        tags=_tags(product.get("tags")),
        body=remove_tags(_text(product.get("body_html"))),
        skus=[_text(v.get("sku")) for v in variants],
        vendor=_text(product.get("vendor")),
    )
    if match is None:
        return None
    product_id = product_id_of(product)
    if not variants:
        if raw_variants is None or raw_variants == []:
            return None  # nothing listed, as before: not this function's news
        # A 2002R whose sizes cannot be read: unknown for this crawl, never "all gone".
        shape = type(raw_variants).__name__
        return ProductItem(
            shop=shop.name,
            product_id=product_id,
            error=f"malformed product: 'variants' is {shape} without a readable variant",
        )
    size_position, width_position = _option_positions(product)
    image = _first_image(product)
    name = colorway_name(title, match.style_code)
    items: list[ListingItem] = []
    for variant in variants:
        size_label = _text(variant.get(f"option{size_position}")) or _text(variant.get("title"))
        width = match.width
        if width_position:
            width = _text(variant.get(f"option{width_position}")) or width
        price, compare_at = _prices(variant)
        sku = _text(variant.get("sku")).strip() or None
        barcode = _text(variant.get("barcode")).strip()
        # Kith's internal ids are 8 digits too: only UPC-A / EAN-13 / GTIN-14 lengths count.
        gtin = barcode or (sku if sku and sku.isdigit() and len(sku) in (12, 13, 14) else None)
        available = variant.get("available")
        variant_id = _id(variant.get("id"))
        url = f"{shop.url}/products/{handle}"
        items.append(
            ListingItem(
                shop=shop.name,
                product_id=product_id,
                variant_id=variant_id or f"{product_id}:{size_label}",
                title=title,
                url=f"{url}?variant={variant_id}" if variant_id else url,
                size_label=size_label.strip(),
                price=price,
                # products.json carries no currency: the shop's is the truth
                currency=shop.currency,
                available=available if isinstance(available, bool) else None,
                style_code=match.style_code,
                family=match.family,
                compare_at=compare_at,
                colorway_name=name,
                image=_variant_image(variant) or image,
                handle=handle or None,
                width=width or None,
                sku=sku,
                gtin=gtin or None,
            )
        )
    return ProductItem(shop=shop.name, product_id=product_id, variants=items)


def product_id_of(product: dict[str, Any]) -> str:
    """The id a product's variants are stored under: its ``id``, else ``product_id`` (the
    product_listings API), else its handle; "" when it has none of them. Never raises, so an
    unreadable product is still reported under the id its variants are known by."""
    return _id(product.get("id")) or _id(product.get("product_id")) or _text(product.get("handle"))


def _prices(variant: dict[str, Any]) -> tuple[Decimal | None, Decimal | None]:
    # Each on its own: an unreadable compare-at (a list, "abc") says nothing about the price.
    try:
        price = parse_price(variant.get("price"))
    except PriceError:
        price = None  # the pipeline drops a listing without a price, with the reason
    try:
        compare_at = parse_price(variant.get("compare_at_price"))
    except PriceError:
        compare_at = None
    # "0.00", null, or a compare-at not above the price all mean: not on sale.
    if compare_at is None or price is None or compare_at <= price:
        compare_at = None
    return price, compare_at


def _option_positions(product: dict[str, Any]) -> tuple[int, int | None]:
    size, width = 1, None
    for index, option in enumerate(_list(product.get("options")), start=1):
        if not isinstance(option, dict):
            continue
        name = _text(option.get("name")).strip().lower()
        position = option.get("position")
        if not isinstance(position, int) or isinstance(position, bool):
            position = index
        if name in ("size", "shoe size", "us size", "uk size", "eu size", "taille", "talla"):
            size = position
        elif name == "width":
            width = position
    return size, width


def _first_image(product: dict[str, Any]) -> str | None:
    images = _list(product.get("images"))
    if images and isinstance(images[0], dict):
        return _absolute(images[0].get("src"))
    if images and isinstance(images[0], str):
        return _absolute(images[0])
    return None


def _variant_image(variant: dict[str, Any]) -> str | None:
    featured = variant.get("featured_image")
    return _absolute(featured.get("src")) if isinstance(featured, dict) else None


def _absolute(src: Any) -> str | None:
    if not isinstance(src, str) or not src:
        return None
    return f"https:{src}" if src.startswith("//") else src


# Typed reads of a feed's fields. A field of the wrong type is absent: real feeds have sent
# numbers where text belongs, and one odd field must not make a product unreadable.


def _text(value: Any) -> str:
    """A text field: a string as it is, a number as its digits ("option1": 10 is size "10"),
    anything else (null, bool, list, object) as ""."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _id(value: Any) -> str:
    """An id: Shopify's are integers, some APIs send strings; "" for anything else (a
    float, an object) rather than an id made up from its repr."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else ""


def _tags(value: Any) -> list[str]:
    # The product_listings API sends one comma-separated string, products.json a list.
    if isinstance(value, str):
        return [t.strip() for t in value.split(",")]
    return [t for t in _list(value) if isinstance(t, str)]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _looks_like_html(response: Response) -> bool:
    content_type = (response.headers.get(b"Content-Type") or b"").lower()
    return b"html" in content_type or response.body.lstrip()[:1] == b"<"
