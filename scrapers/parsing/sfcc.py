"""Salesforce Commerce Cloud stores (New Balance's own): the category grid and Product-Variation.

Shapes from docs/retailers.md 2.2-2.3 (the controllers New Balance's own site calls):
- ``Search-UpdateGrid?cgid=<category>&start=<n>&sz=<n>`` answers HTML product tiles whose links
  name the master and the colorway: ``/pd/2002r/M2002RV1-42829.html?dwvar_M2002RV1-42829_style=
  M2002RDA``;
- ``Product-Variation?pid=<master>&dwvar_<master>_style=<style>&dwvar_<master>_width=D`` answers
  JSON: ``product.productName``, ``product.price.sales.value`` (and ``list`` on a sale),
  ``product.variationAttributes`` whose ``size`` values carry ``selectable`` (purchasable) and
  ``variantID``, and the ``width`` values.
No raw capture of either exists in a stored source: the parsers follow that description and the
replica store (`pricewatch.replica.jsonld_shop`) serves it. Pure functions, no Scrapy.
"""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from pricewatch.config import ShopConfig
from pricewatch.items import ListingItem, ProductItem
from pricewatch.prices import PriceError, parse_price
from pricewatch.styles import find_style_codes, identify_2002r

__all__ = ["grid_colorways", "variation_item", "variation_widths"]

_TILE_LINK = re.compile(
    r'href="(?P<href>/pd/[^"]*?/(?P<master>[A-Za-z0-9]+V\d-\d+(?:-[A-Z]+-[A-Z]+)?)\.html[^"]*)"'
)


def grid_colorways(page: str) -> list[tuple[str, str]]:
    """(master ID, style code) of every colorway tile of a grid page, in page order, once."""
    found: dict[tuple[str, str], None] = {}
    for match in _TILE_LINK.finditer(page):
        master = match.group("master")
        query = parse_qs(urlsplit(html.unescape(match.group("href"))).query)
        for style in query.get(f"dwvar_{master}_style", []):
            codes = find_style_codes(style)
            if codes:
                found[(master, codes[0])] = None
    return list(found)


def _attribute(product: dict[str, Any], name: str) -> list[dict[str, Any]]:
    for attribute in product.get("variationAttributes") or []:
        if isinstance(attribute, dict) and attribute.get("attributeId") == name:
            return [v for v in attribute.get("values") or [] if isinstance(v, dict)]
    return []


def variation_widths(data: dict[str, Any]) -> list[str]:
    """The widths a colorway is sold in (each its own Product-Variation request)."""
    product = data.get("product") if isinstance(data, dict) else None
    if not isinstance(product, dict):
        return []
    widths = [str(v.get("value") or v.get("id") or "") for v in _attribute(product, "width")]
    return [w for w in widths if w] or ["D"]


def _money(price: Any, key: str) -> Decimal | None:
    value = price.get(key) if isinstance(price, dict) else None
    amount = value.get("value") if isinstance(value, dict) else None
    try:
        return parse_price(amount) if isinstance(amount, int | float | str) else None
    except PriceError:
        return None


def variation_item(
    data: Any, shop: ShopConfig, master: str, style: str, width: str, base_url: str
) -> ProductItem:
    """One colorway in one width, a ListingItem per size; a response that is not the expected
    object is the product's error (its sizes unknown for this crawl, not gone)."""
    product_id = f"{master}:{style}:{width}"
    product = data.get("product") if isinstance(data, dict) else None
    if not isinstance(product, dict):
        return ProductItem(shop.name, product_id, error="Product-Variation without a product")
    name = str(product.get("productName") or "").strip()
    match = identify_2002r(
        title=f"New Balance {name} {style}", vendor=str(product.get("brand") or "New Balance")
    )
    price = product.get("price")
    sales, listed = _money(price, "sales"), _money(price, "list")
    url = urljoin(base_url, str(product.get("selectedProductUrl") or ""))
    images = (product.get("images") or {}).get("productDetail") or []
    image = images[0].get("url") if images and isinstance(images[0], dict) else None
    variants = [
        ListingItem(
            shop=shop.name,
            product_id=product_id,
            variant_id=str(size.get("variantID") or f"{style}-{width}-{size.get('value')}"),
            title=f"New Balance {name}",
            url=url,
            size_label=str(size.get("displayValue") or size.get("value") or ""),
            price=sales,
            currency=shop.currency,
            available=size.get("selectable") if isinstance(size.get("selectable"), bool) else None,
            style_code=match.style_code if match else None,
            family=match.family if match else None,
            compare_at=listed
            if listed is not None and sales is not None and listed > sales
            else None,
            colorway_name=name or None,
            image=str(image) if image else None,
            width=width,
        )
        for size in _attribute(product, "size")
    ]
    return ProductItem(shop.name, product_id, variants=variants)
