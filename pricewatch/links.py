"""Links a buyer acts on: the shop's cart with one size in it.

Shopify's cart permalink, ``<shop>/cart/<variant id>:<quantity>``, puts that variant in a fresh
cart and opens it, on every Shopify shop (help.shopify.com, "Creating cart permalinks"); it
needs the numeric variant id, which the Shopify spider stores as the shop's variant id. Page
shops (JSON-LD, HTML) have no such link: their alerts link the product page.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["cart_url"]


def cart_url(product_url: str, platform: str, shop_variant_id: object) -> str | None:
    """``https://kith.com/cart/40001:1`` for a Shopify variant; None where there is none.

    The cart lives at the root of the shop's host even when its product pages sit under a
    market prefix (``/en-gb/products/...``)."""
    variant = str(shop_variant_id or "")
    if platform != "shopify" or not variant.isdigit():
        return None
    parts = urlsplit(product_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}/cart/{variant}:1"
