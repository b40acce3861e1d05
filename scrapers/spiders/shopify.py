"""One spider for every Shopify shop: the public storefront feed ``/products.json``.

Paged with ``?limit=250&page=N`` until an empty page (RETAILERS.md 3.2), or a collection's
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

from pricewatch.config import ShopConfig
from pricewatch.prices import PriceError, parse_price
from pricewatch.styles import colorway_name, identify_2002r
from scrapers.items import ListingItem, by_product
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
        yield from by_product(parse_products(products, self.shop))
        if not products:
            return  # an empty page is the end of the catalog
        if page >= self.settings.getint("PRICEWATCH_MAX_PAGES", 40):
            self.incomplete(f"stopped after {page} pages (max_pages); set a collection")
            return
        yield self.page_request(page + 1)


def parse_products(products: list[Any], shop: ShopConfig) -> Iterator[ListingItem]:
    """Every variant of every 2002R product in one page of a products.json feed."""
    for product in products:
        if isinstance(product, dict):
            yield from parse_product(product, shop)


def parse_product(product: dict[str, Any], shop: ShopConfig) -> Iterator[ListingItem]:
    variants = [v for v in product.get("variants") or [] if isinstance(v, dict)]
    title = str(product.get("title") or "")
    handle = str(product.get("handle") or "")
    tags = product.get("tags") or []
    if isinstance(tags, str):  # the product_listings API sends one comma-separated string
        tags = [t.strip() for t in tags.split(",")]
    match = identify_2002r(
        title=title,
        handle=handle,
        tags=tags,
        body=remove_tags(product.get("body_html") or ""),
        skus=[str(v.get("sku") or "") for v in variants],
        vendor=str(product.get("vendor") or ""),
    )
    if match is None:
        return
    size_position, width_position = _option_positions(product)
    image = _first_image(product)
    product_id = str(product.get("id") or product.get("product_id") or handle)
    name = colorway_name(title, match.style_code)
    for variant in variants:
        size_label = str(variant.get(f"option{size_position}") or variant.get("title") or "")
        width = match.width
        if width_position:
            width = str(variant.get(f"option{width_position}") or "") or width
        price, compare_at = _prices(variant)
        sku = str(variant.get("sku") or "").strip() or None
        barcode = str(variant.get("barcode") or "").strip()
        # Kith's internal ids are 8 digits too: only UPC-A / EAN-13 / GTIN-14 lengths count.
        gtin = barcode or (sku if sku and sku.isdigit() and len(sku) in (12, 13, 14) else None)
        available = variant.get("available")
        yield ListingItem(
            shop=shop.name,
            product_id=product_id,
            variant_id=str(variant.get("id") or f"{product_id}:{size_label}"),
            title=title,
            url=f"{shop.url}/products/{handle}?variant={variant.get('id')}",
            size_label=size_label.strip(),
            price=price,
            currency=shop.currency,  # products.json carries no currency: the shop's is the truth
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


def _prices(variant: dict[str, Any]) -> tuple[Decimal | None, Decimal | None]:
    try:
        price = parse_price(variant.get("price"))
        compare_at = parse_price(variant.get("compare_at_price"))
    except PriceError:
        return None, None  # the pipeline drops a listing without a price, with the reason
    # "0.00", null, or a compare-at not above the price all mean: not on sale.
    if compare_at is None or price is None or compare_at <= price:
        compare_at = None
    return price, compare_at


def _option_positions(product: dict[str, Any]) -> tuple[int, int | None]:
    size, width = 1, None
    for index, option in enumerate(product.get("options") or [], start=1):
        if not isinstance(option, dict):
            continue
        name = str(option.get("name") or "").strip().lower()
        position = option.get("position")
        if not isinstance(position, int):
            position = index
        if name in ("size", "shoe size", "us size", "uk size", "eu size", "taille", "talla"):
            size = position
        elif name == "width":
            width = position
    return size, width


def _first_image(product: dict[str, Any]) -> str | None:
    images = product.get("images") or []
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


def _looks_like_html(response: Response) -> bool:
    content_type = (response.headers.get(b"Content-Type") or b"").lower()
    return b"html" in content_type or response.body.lstrip()[:1] == b"<"
