"""Fixture catalog of the replica Shopify shop, and the Shopify formats built from it.

MADE-UP DATA IN THE REAL FORMAT. No capture of a real shop's ``/products.json`` that contains a
New Balance 2002R exists (see tests/fixtures/realdata/SOURCES.md: "No New Balance 2002R product
appears in any artefact"), so ``catalog.json`` is written by us. The style codes and colorway
names are the sourced ones of docs/retailers.md section 4.2 and the regular prices lie
in the sourced USD range of section 4.3 ($144.99-$180; $165 for the M2002NA mule, $180 for the
GORE-TEX M2002RXU), but which shop sells what at which price, the sale prices, and every id,
sku, date, stock flag, description and image URL are invented. The *shape* is copied from real
captures (atmos USA, Kith, Undefeated, Footpatrol ``/products.json``; bornlivingyoga ``.js``),
and so are their quirks: prices are strings ("145.00"), ``compare_at_price`` "0.00" or null
means "no sale", skus are internal numbers, UPC barcodes or "<STYLE>-<size>", the style code
sits in the handle for some products, only in the tags or only in ``body_html`` for others,
variant ids are not in size order, sizes come as "9.5", "10 / 2E" (a width option), "4C"
(toddler) and "M9 / W10.5" (unisex), and duplicate handles get Shopify's "-1" suffix.

``catalog.json`` is a list of products exactly as ``/products.json`` serves them, plus private
keys starting with ``_`` (``_style_code``, ``_comment``) that the server strips before sending.
It was generated once with :func:`make_product` plus per-product tweaks for the quirks (the
one-off generator is not kept: edit the JSON directly).
Kids code ``IV2002RA``, ``M2002BK`` (original 2002) and the T-shirt's ``MT41578`` are made up
(no source gives them); their ``_comment`` says so.
"""

from __future__ import annotations

import copy
import functools
import json
import zlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

__all__ = [
    "barcode_for",
    "cents",
    "is_sale",
    "load_catalog",
    "make_product",
    "normalize_price",
    "now_shopify",
    "public_product",
    "style_code_of",
    "to_ajax",
]

Product = dict[str, Any]

PRIVATE_PREFIX = "_"
_SHOP_TZ = timezone(timedelta(hours=-5))
_CDN = "https://cdn.shopify.com/s/files/1/0620/2002/0002/files"


@functools.cache
def _catalog_text() -> str:
    return resources.files("pricewatch.replica").joinpath("catalog.json").read_text("utf-8")


def load_catalog() -> list[Product]:
    """A fresh (deep) copy of the default catalog, private keys included."""
    products: list[Product] = json.loads(_catalog_text())
    return products


def now_shopify() -> str:
    """The current time the way Shopify writes it: ``2026-11-25T10:07:09-05:00``."""
    return datetime.now(UTC).astimezone(_SHOP_TZ).isoformat(timespec="seconds")


def normalize_price(price: str | int | float | Decimal) -> str:
    """``"145"``, ``145``, ``"145.0"`` -> ``"145.00"`` (Shopify's decimal string)."""
    try:
        value = Decimal(str(price).strip())
    except InvalidOperation:
        raise ValueError(f"not a price: {price!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"not a price: {price!r}")
    return str(value.quantize(Decimal("0.01")))


def cents(price: str) -> int:
    """``"144.99"`` -> ``14499`` (the Ajax ``.js`` format's integer minor units)."""
    return int((Decimal(price) * 100).to_integral_value())


def is_sale(compare_at: str | None) -> bool:
    """Whether a ``compare_at_price`` value is set (null and "0.00" both mean "no sale")."""
    return compare_at is not None and Decimal(compare_at) > 0


def style_code_of(product: Product) -> str | None:
    code = product.get("_style_code")
    return code if isinstance(code, str) else None


def public_product(product: Product) -> Product:
    """A deep copy without the private ``_`` keys: what ``/products.json`` sends."""
    out = {k: copy.deepcopy(v) for k, v in product.items() if not k.startswith(PRIVATE_PREFIX)}
    out["variants"] = [
        {k: copy.deepcopy(v) for k, v in variant.items() if not k.startswith(PRIVATE_PREFIX)}
        for variant in product.get("variants", [])
    ]
    return out


def barcode_for(variant: Product) -> str:
    """A stable made-up UPC-A for a variant (its sku when the sku already is a UPC)."""
    sku = str(variant.get("sku") or "")
    if sku.isdigit() and len(sku) in (12, 13):
        return sku
    body = f"1966{int(variant['id']) % 10**7:07d}"
    odd = sum(int(d) for d in body[0::2])
    even = sum(int(d) for d in body[1::2])
    return body + str((10 - (odd * 3 + even) % 10) % 10)


def _stable_int(text: str, modulo: int) -> int:
    return zlib.crc32(text.encode("utf-8")) % modulo


def _slug(text: str) -> str:
    out = []
    for ch in text.lower():
        out.append(ch if ch.isalnum() else "-")
    return "-".join(part for part in "".join(out).split("-") if part)


def make_product(
    style_code: str,
    title: str,
    price: str,
    sizes: Sequence[str],
    *,
    product_id: int | None = None,
    handle: str | None = None,
    vendor: str = "New Balance",
    product_type: str = "Sneakers",
    body_html: str | None = None,
    tags: Sequence[str] | None = None,
    compare_at: str | None = "0.00",
    available: bool | Iterable[str] = True,
    sku: str = "internal",
    grams: int = 1361,
    created_at: str | None = None,
    option_names: Sequence[str] = ("Size",),
) -> Product:
    """Build one product in the real ``/products.json`` shape (plus ``_style_code``).

    ``sizes`` are the ``option1`` values in position order; with two ``option_names`` a size
    is written ``"10 / 2E"`` and split into ``option1``/``option2``. ``available`` is a bool for
    every size or the collection of sizes in stock. ``sku`` is "internal" (retailer numbers),
    "upc" (12-digit barcodes) or "style" ("M2002RDA-10"). Ids are stable: derived from the
    style code unless ``product_id`` is given.
    """
    if sku not in ("internal", "upc", "style"):
        raise ValueError(f"sku must be internal, upc or style, not {sku!r}")
    pid = (
        product_id
        if product_id is not None
        else 8_000_000_000_000 + _stable_int(style_code, 10**12)
    )
    stamp = created_at or now_shopify()
    price = normalize_price(price)
    compare = None if compare_at is None else normalize_price(compare_at)
    in_stock: set[str] | None = None if isinstance(available, bool) else set(available)
    first_variant = 46_000_000_000_000 + _stable_int(style_code + "/v", 10**9) * 1000
    first_sku = 30_000_000 + _stable_int(style_code + "/sku", 9_000_000) * 10
    variants: list[Product] = []
    option_values: list[list[str]] = [[] for _ in option_names]
    for index, size in enumerate(sizes):
        parts = [p.strip() for p in size.split(" / ")] if len(option_names) > 1 else [size]
        if len(parts) != len(option_names):
            raise ValueError(f"size {size!r} does not fit options {list(option_names)}")
        for values, part in zip(option_values, parts, strict=True):
            if part not in values:
                values.append(part)
        variant_id = first_variant + index * 32768
        if sku == "style":
            variant_sku = "-".join([style_code, *parts])
        elif sku == "upc":
            variant_sku = barcode_for({"id": variant_id, "sku": ""})
        else:
            variant_sku = str(first_sku + index)
        opts = [*parts, None, None, None][:3]
        variants.append(
            {
                "id": variant_id,
                "title": " / ".join(parts),
                "option1": opts[0],
                "option2": opts[1],
                "option3": opts[2],
                "sku": variant_sku,
                "requires_shipping": True,
                "taxable": True,
                "featured_image": None,
                "available": (available if in_stock is None else size in in_stock),
                "price": price,
                "grams": grams,
                "compare_at_price": compare,
                "position": index + 1,
                "product_id": pid,
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
    image_id = 40_000_000_000_000 + _stable_int(style_code + "/img", 10**12)
    return {
        "_style_code": style_code,
        "id": pid,
        "title": title,
        "handle": handle or _slug(f"{title} {style_code}"),
        "body_html": body_html if body_html is not None else f"<p>{title}</p>",
        "published_at": stamp,
        "created_at": stamp,
        "updated_at": stamp,
        "vendor": vendor,
        "product_type": product_type,
        "tags": list(tags) if tags is not None else [style_code],
        "variants": variants,
        "images": [
            {
                "id": image_id,
                "created_at": stamp,
                "position": 1,
                "updated_at": stamp,
                "product_id": pid,
                "variant_ids": [],
                "src": f"{_CDN}/{style_code}_1.jpg?v={1_700_000_000 + _stable_int(stamp, 10**8)}",
                "width": 2000,
                "height": 2000,
            }
        ],
        "options": [
            {"name": name, "position": i + 1, "values": values}
            for i, (name, values) in enumerate(zip(option_names, option_values, strict=True))
        ],
    }


def to_ajax(product: Product) -> Product:
    """The ``/products/<handle>.js`` (Ajax API) form of a product: integer cents, product-level
    ``available``, ``price_min``/``price_max``, ``type``, ``public_title``, ``barcode``, as in the
    bornlivingyoga capture and shopify.dev's Product API reference. No ``inventory_quantity``."""
    variants = product.get("variants", [])
    prices = [cents(v["price"]) for v in variants] or [0]
    compares = [cents(v["compare_at_price"]) for v in variants if is_sale(v["compare_at_price"])]
    images = [_protocol_relative(img["src"]) for img in product.get("images", [])]
    ajax_variants = []
    for v in variants:
        values = [v[k] for k in ("option1", "option2", "option3") if v.get(k) is not None]
        public_title = None if v["title"] == "Default Title" else v["title"]
        ajax_variants.append(
            {
                "id": v["id"],
                "title": v["title"],
                "option1": v["option1"],
                "option2": v["option2"],
                "option3": v["option3"],
                "sku": v["sku"],
                "requires_shipping": v["requires_shipping"],
                "taxable": v["taxable"],
                "featured_image": v["featured_image"],
                "available": v["available"],
                "name": product["title"] + (f" - {public_title}" if public_title else ""),
                "public_title": public_title,
                "options": values,
                "price": cents(v["price"]),
                "weight": v["grams"],
                "compare_at_price": (
                    cents(v["compare_at_price"]) if is_sale(v["compare_at_price"]) else None
                ),
                "inventory_management": "shopify",
                "barcode": barcode_for(v),
                "requires_selling_plan": False,
                "selling_plan_allocations": [],
                "quantity_rule": {"min": 1, "max": None, "increment": 1},
            }
        )
    return {
        "id": product["id"],
        "title": product["title"],
        "handle": product["handle"],
        "description": product["body_html"],
        "published_at": product["published_at"],
        "created_at": product["created_at"],
        "vendor": product["vendor"],
        "type": product["product_type"],
        "tags": list(product["tags"]),
        "price": min(prices),
        "price_min": min(prices),
        "price_max": max(prices),
        "available": any(v["available"] for v in variants),
        "price_varies": min(prices) != max(prices),
        "compare_at_price": min(compares) if compares else None,
        "compare_at_price_min": min(compares) if compares else 0,
        "compare_at_price_max": max(compares) if compares else 0,
        "compare_at_price_varies": bool(compares) and min(compares) != max(compares),
        "variants": ajax_variants,
        "images": images,
        "featured_image": images[0] if images else None,
        "options": [opt["name"] for opt in product.get("options", [])],
        "media": [
            {
                "alt": None,
                "id": img["id"] + 1,
                "position": img["position"],
                "preview_image": {
                    "aspect_ratio": round(img["width"] / img["height"], 3),
                    "height": img["height"],
                    "width": img["width"],
                    "src": _protocol_relative(img["src"]),
                },
                "aspect_ratio": round(img["width"] / img["height"], 3),
                "height": img["height"],
                "media_type": "image",
                "src": _protocol_relative(img["src"]),
                "width": img["width"],
            }
            for img in product.get("images", [])
        ],
        "requires_selling_plan": False,
        "selling_plan_groups": [],
        "content": product["body_html"],
    }


def _protocol_relative(url: str) -> str:
    return url.removeprefix("https:").removeprefix("http:")
