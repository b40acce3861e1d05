"""The replica shop: a local HTTP server that answers like a Shopify storefront.

It serves the public endpoints the spider reads (``/products.json``,
``/collections/<handle>/products.json``, ``/products/<handle>.js``), a product page, a home page,
``/robots.txt`` and ``/password``, from fixture data a test can change while it runs
(:meth:`ReplicaShop.set_price` & co.), and it misbehaves on demand (:meth:`ReplicaShop.misbehave`):
HTTP 500/403/429, a throttle or Cloudflare page, a truncated body, a slow answer, an empty feed,
a password-page redirect. Standard library only; everything on 127.0.0.1.

    with ReplicaShop() as shop:            # port 0: a free port
        fetch(shop.url + "/products.json?limit=250&page=1")
        shop.set_price("M2002RDA", "129.99", size="10")
        shop.misbehave("429", times=1)      # the next JSON request gets a 429

Formats are modelled on real captures (see catalog.py and tests/fixtures/realdata/SOURCES.md);
the Shopify behaviours (limit cap 250, default 30, empty page at the end, the 25,000 page*limit
error, 302 to /password, the throttle page text) on docs/retailers.md section 3.
"""

from __future__ import annotations

import copy
import html
import json
import secrets
import threading
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal
from types import EllipsisType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pricewatch.replica.base import BaseHandler, ReplicaServer, html_page
from pricewatch.replica.catalog import (
    Product,
    barcode_for,
    is_sale,
    load_catalog,
    normalize_price,
    now_shopify,
    public_product,
    style_code_of,
    to_ajax,
)

__all__ = ["COLLECTIONS", "MODES", "ReplicaShop"]

#: misbehaviour modes accepted by :meth:`ReplicaShop.misbehave`
MODES = (
    "500",
    "timeout",
    "truncated",
    "429",
    "block",
    "block-cloudflare",
    "empty",
    "403",
    "password",
    "layout",
    "hold",
)
#: collection handles served under /collections/<handle>/products.json
COLLECTIONS = ("all", "new-balance", "2002r")

SHOPIFY_MAX_LIMIT = 250
SHOPIFY_DEFAULT_LIMIT = 30
SHOPIFY_MAX_PAGE_TIMES_LIMIT = 25_000
_JSON = "application/json; charset=utf-8"
_HTML = "text/html; charset=utf-8"
_CURRENCY_SYMBOLS = {"USD": "$", "CAD": "$", "AUD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


@dataclass
class _Misbehaviour:
    mode: str
    pages: frozenset[int] | None
    remaining: int | None
    delay: float
    retry_after: int


class ReplicaShop(ReplicaServer):
    """A Shopify storefront on 127.0.0.1 whose catalog a test can change.

    ``products=None`` loads a fresh copy of the default catalog (catalog.json). Products carry a
    private ``_style_code`` key (stripped before serving) by which the state-changing methods find
    them; sizes match a variant's ``option1`` (or its full ``title``, e.g. ``"10 / 2E"``) exactly.
    """

    def __init__(
        self,
        products: list[dict[str, Any]] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        page_size_cap: int = SHOPIFY_MAX_LIMIT,
        currency: str = "USD",
        robots_txt: str | None = None,
        name: str = "Replica Kicks",
    ) -> None:
        if page_size_cap < 1:
            raise ValueError("page_size_cap must be at least 1")
        super().__init__(host=host, port=port, name=name)
        self.page_size_cap = page_size_cap
        self.currency = currency
        self.robots_txt = robots_txt
        self._misbehaviour: _Misbehaviour | None = None
        # misbehave("hold"): a request arrived and waits; setting release_held answers it.
        self.request_held = threading.Event()
        self.release_held = threading.Event()
        self._products: list[Product] = []
        for product in load_catalog() if products is None else copy.deepcopy(products):
            self._check_new(product)
            self._products.append(product)

    def __repr__(self) -> str:
        return f"<ReplicaShop {self.url or 'not started'} products={len(self._products)}>"

    # ------------------------------------------------------------------ state
    def products(self) -> list[dict[str, Any]]:
        """The current catalog (deep copy, private ``_`` keys included)."""
        with self._lock:
            return copy.deepcopy(self._products)

    def product(self, style_code: str) -> dict[str, Any]:
        """One product by style code (deep copy); KeyError if absent."""
        with self._lock:
            return copy.deepcopy(self._find(style_code))

    def set_price(
        self,
        style_code: str,
        price: str,
        size: str | None = None,
        compare_at: str | EllipsisType | None = ...,
    ) -> None:
        """Set ``price`` of one size (None: every size). ``compare_at``: ``...`` leaves it,
        None writes null, "0.00" means no sale, a value above the price is a sale."""
        new_price = normalize_price(price)
        new_compare: str | None = None
        keep_compare = isinstance(compare_at, EllipsisType)
        if isinstance(compare_at, str):
            new_compare = normalize_price(compare_at)
        with self._lock:
            product = self._find(style_code)
            stamp = now_shopify()
            for variant in self._select(product, size):
                variant["price"] = new_price
                if not keep_compare:
                    variant["compare_at_price"] = new_compare
                variant["updated_at"] = stamp
            product["updated_at"] = stamp

    def set_available(self, style_code: str, available: bool, size: str | None = None) -> None:
        """Set ``available`` of one size (None: every size)."""
        with self._lock:
            product = self._find(style_code)
            stamp = now_shopify()
            for variant in self._select(product, size):
                variant["available"] = bool(available)
                variant["updated_at"] = stamp
            product["updated_at"] = stamp

    def add_product(self, product: dict[str, Any]) -> None:
        """Add a product (real /products.json shape, ideally with ``_style_code``; see
        :func:`pricewatch.replica.catalog.make_product`). It is listed first, as a new
        product is in a shop's feed."""
        new = copy.deepcopy(product)
        with self._lock:
            self._check_new(new)
            self._products.insert(0, new)

    def add_size(self, style_code: str, size: str, price: str, available: bool = True) -> None:
        """Add a variant. It gets the highest variant id (ids are then not in size order, as
        in real shops) and the last position; sku follows the product's sku scheme."""
        new_price = normalize_price(price)
        with self._lock:
            product = self._find(style_code)
            variants: list[Product] = product["variants"]
            if any(_matches(v, size) for v in variants):
                raise ValueError(f"{style_code} already has size {size!r}")
            options: list[dict[str, Any]] = product.setdefault("options", [])
            if not options:
                options.append({"name": "Size", "position": 1, "values": []})
            parts = [p.strip() for p in size.split(" / ")] if len(options) > 1 else [size]
            if len(parts) != len(options):
                raise ValueError(
                    f"size {size!r} needs {len(options)} parts: "
                    + " / ".join(o["name"] for o in options)
                )
            new_id = self._max_variant_id() + 32768
            template = variants[0] if variants else {}
            template_compare = template.get("compare_at_price", "0.00")
            stamp = now_shopify()
            opts = [*parts, None, None, None][:3]
            variants.append(
                {
                    "id": new_id,
                    "title": " / ".join(parts),
                    "option1": opts[0],
                    "option2": opts[1],
                    "option3": opts[2],
                    "sku": _next_sku(product, parts, new_id),
                    "requires_shipping": True,
                    "taxable": True,
                    "featured_image": None,
                    "available": bool(available),
                    "price": new_price,
                    "grams": template.get("grams", 0),
                    "compare_at_price": None if template_compare is None else "0.00",
                    "position": len(variants) + 1,
                    "product_id": product["id"],
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
            for option, part in zip(options, parts, strict=True):
                if part not in option["values"]:
                    option["values"].append(part)
            product["updated_at"] = stamp

    def remove_product(self, style_code: str) -> None:
        with self._lock:
            self._products.remove(self._find(style_code))

    def remove_size(self, style_code: str, size: str) -> None:
        with self._lock:
            product = self._find(style_code)
            gone = self._select(product, size)
            product["variants"] = [v for v in product["variants"] if v not in gone]
            for position, variant in enumerate(product["variants"], start=1):
                variant["position"] = position
            for index, option in enumerate(product.get("options", [])):
                key = f"option{index + 1}"
                used = {v.get(key) for v in product["variants"]}
                option["values"] = [value for value in option["values"] if value in used]
            product["updated_at"] = now_shopify()

    # ------------------------------------------------------------------ misbehaviour
    def misbehave(
        self,
        mode: str | None,
        *,
        pages: set[int] | None = None,
        times: int | None = None,
        delay: float = 30.0,
        retry_after: int = 1,
    ) -> None:
        """Make the JSON endpoints misbehave (``mode=None`` restores normal service).

        ``pages``: only listing requests for these page numbers (a request without ``page`` is
        page 1; ``.js`` requests are then unaffected). ``times``: only the next N matching
        requests, then normal again. ``delay``: seconds a "timeout" request sleeps before
        answering normally (a "hold" request: at most, until ``release_held`` is set).
        ``retry_after``: the 429's Retry-After header."""
        if mode is None:
            with self._lock:
                self._misbehaviour = None
            return
        if mode not in MODES:
            raise ValueError(f"unknown misbehaviour {mode!r}; one of {', '.join(MODES)}")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for 'until cleared')")
        with self._lock:
            self._misbehaviour = _Misbehaviour(
                mode=mode,
                pages=frozenset(pages) if pages is not None else None,
                remaining=times,
                delay=float(delay),
                retry_after=int(retry_after),
            )

    def _take_misbehaviour(self, page: int | None) -> _Misbehaviour | None:
        with self._lock:
            current = self._misbehaviour
            if current is None:
                return None
            if current.pages is not None and (page is None or page not in current.pages):
                return None
            if current.remaining is not None:
                current.remaining -= 1
                if current.remaining <= 0:
                    self._misbehaviour = None
            return replace(current)

    # ------------------------------------------------------------------ views for the handler
    def _listing(self, collection: str, limit: int, page: int) -> list[Product]:
        with self._lock:
            chosen = [p for p in self._products if _in_collection(p, collection)]
            start = (page - 1) * limit
            return [public_product(p) for p in chosen[start : start + limit]]

    def _by_handle(self, handle: str) -> Product | None:
        with self._lock:
            for product in self._products:
                if product.get("handle") == handle:
                    return public_product(product)
        return None

    def _all_public(self) -> list[Product]:
        with self._lock:
            return [public_product(p) for p in self._products]

    # ------------------------------------------------------------------ helpers
    def _find(self, style_code: str) -> Product:
        wanted = style_code.strip().upper()
        for product in self._products:
            code = style_code_of(product)
            if code is not None and code.upper() == wanted:
                return product
        raise KeyError(f"no product with style code {style_code!r}")

    @staticmethod
    def _select(product: Product, size: str | None) -> list[Product]:
        variants: list[Product] = product["variants"]
        if size is None:
            return list(variants)
        chosen = [v for v in variants if _matches(v, size)]
        if not chosen:
            sizes = ", ".join(repr(v["title"]) for v in variants)
            raise KeyError(f"{style_code_of(product)} has no size {size!r} (sizes: {sizes})")
        return chosen

    def _max_variant_id(self) -> int:
        return max((int(v["id"]) for p in self._products for v in p["variants"]), default=0)

    def _check_new(self, product: Product) -> None:
        missing = [k for k in ("id", "title", "handle", "variants") if k not in product]
        if missing:
            raise ValueError(f"product lacks {', '.join(missing)} (see catalog.make_product)")
        taken = {v.get("id") for other in self._products for v in other["variants"]}
        clash = taken.intersection(v.get("id") for v in product["variants"])
        if clash:
            raise ValueError(f"duplicate variant ids {sorted(clash)}")
        for other in self._products:
            if other["id"] == product["id"]:
                raise ValueError(f"duplicate product id {product['id']}")
            if other["handle"] == product["handle"]:
                raise ValueError(f"duplicate handle {product['handle']!r}")
            code, other_code = style_code_of(product), style_code_of(other)
            if code is not None and other_code is not None and code.upper() == other_code.upper():
                raise ValueError(f"duplicate style code {code!r}")


def _matches(variant: Product, size: str) -> bool:
    return bool(variant.get("option1") == size or variant.get("title") == size)


def _next_sku(product: Product, parts: list[str], variant_id: int) -> str:
    code = style_code_of(product) or ""
    skus = [str(v.get("sku") or "") for v in product["variants"]]
    if code and any(code in s for s in skus):
        return "-".join([code, *parts])
    numeric = [s for s in skus if s.isdigit()]
    if numeric and all(len(s) in (12, 13) for s in numeric):
        return barcode_for({"id": variant_id, "sku": ""})
    internal = [s for s in numeric if len(s) not in (12, 13)]
    if internal:
        widest = max(internal, key=len)
        return str(max(int(s) for s in internal) + 1).zfill(len(widest))
    return ""


def _in_collection(product: Product, collection: str) -> bool:
    if collection == "all":
        return True
    if collection == "new-balance":
        return str(product.get("vendor", "")).lower() == "new balance"
    if collection == "2002r":
        texts = [str(product.get("title", "")), *map(str, product.get("tags", []))]
        return any("2002r" in text.lower() for text in texts)
    return False


# ---------------------------------------------------------------------- HTTP server


class _Handler(BaseHandler):
    server_software = "cloudflare"
    _truncate = False

    # -- routing
    def _dispatch(self, *, head: bool) -> None:
        shop: ReplicaShop = self.server.shop
        shop._log_request(self.command, self.path)
        self._head = head
        self._truncate = False
        split = urlsplit(self.path)
        path = unquote(split.path)
        query = parse_qs(split.query, keep_blank_values=True)

        listing: str | None = None  # collection handle of a listing request
        ajax_handle: str | None = None
        if path == "/products.json":
            listing = "all"
        elif path.startswith("/collections/") and path.endswith("/products.json"):
            listing = path[len("/collections/") : -len("/products.json")]
        elif path.startswith("/products/") and path.endswith(".js"):
            ajax_handle = path[len("/products/") : -len(".js")]

        if listing is not None or ajax_handle is not None:
            page_no = _lenient_page(query) if listing is not None else None
            trouble = shop._take_misbehaviour(page_no)
            if trouble is not None:
                if trouble.mode == "timeout":
                    if self.server.stopping.wait(trouble.delay):
                        self.close_connection = True  # shop stopped while we slept: hang up
                        return
                elif trouble.mode == "hold":  # answer when the test says so (or after delay)
                    shop.request_held.set()
                    shop.release_held.wait(trouble.delay)
                elif trouble.mode == "truncated":
                    self._truncate = True  # answer normally, then cut the JSON body in half
                elif trouble.mode == "layout" and listing is not None:
                    # the shop's feed changed shape: 200, valid JSON, no "products" list
                    self._json(200, {"data": {"catalog": {"edges": []}}, "api": "2026-10"})
                    return
                elif trouble.mode == "empty":
                    if listing is not None:
                        self._json(200, {"products": []})
                    else:
                        self._not_found()
                    return
                else:
                    self._misbehave(trouble)
                    return
            if listing is not None:
                self._products_json(listing, query)
            else:
                self._product_js(ajax_handle or "")
            return

        if path == "/robots.txt":
            self._send(200, _robots(shop).encode("utf-8"), "text/plain; charset=utf-8")
        elif path == "/password":
            self._send(200, _password_page(shop).encode("utf-8"), _HTML)
        elif path in ("/", ""):
            self._send(200, _home_page(shop).encode("utf-8"), _HTML)
        elif path.startswith("/products/") and "/" not in path[len("/products/") :]:
            product = shop._by_handle(path[len("/products/") :])
            if product is None:
                self._not_found()
            else:
                self._send(200, _product_page(shop, product).encode("utf-8"), _HTML)
        else:
            self._not_found()

    # -- endpoints
    def _products_json(self, collection: str, query: dict[str, list[str]]) -> None:
        shop = self.server.shop
        try:
            limit = _int_param(query, "limit", SHOPIFY_DEFAULT_LIMIT)
            page = _int_param(query, "page", 1)
        except ValueError as error:
            self._json(400, {"errors": str(error)})
            return
        limit = max(1, min(limit, SHOPIFY_MAX_LIMIT))
        page = max(1, page)
        if page * limit > SHOPIFY_MAX_PAGE_TIMES_LIMIT:
            self._json(400, {"errors": "Page * Limit exceeds the 25000 limit."})
            return
        if collection not in COLLECTIONS:
            self._json(404, {"errors": "Not Found"})
            return
        products = shop._listing(collection, min(limit, shop.page_size_cap), page)
        self._json(200, {"products": products})

    def _product_js(self, handle: str) -> None:
        product = self.server.shop._by_handle(handle)
        if product is None:
            self._not_found()
        else:
            self._json(200, to_ajax(product))

    def _misbehave(self, trouble: _Misbehaviour) -> None:
        shop = self.server.shop
        mode = trouble.mode
        if mode == "500":
            self._send(500, _ERROR_500.encode("utf-8"), _HTML)
        elif mode == "403":
            self._send(403, _FORBIDDEN.encode("utf-8"), _HTML)
        elif mode == "429":
            self._send(
                429,
                _TOO_MANY.encode("utf-8"),
                _HTML,
                extra={"Retry-After": str(trouble.retry_after)},
            )
        elif mode == "block":
            self._send(200, _THROTTLE_PAGE.encode("utf-8"), _HTML)
        elif mode == "block-cloudflare":
            self._send(
                403,
                _CLOUDFLARE_PAGE.encode("utf-8"),
                "text/html; charset=UTF-8",
                extra={
                    "cf-mitigated": "challenge",
                    "Cache-Control": (
                        "private, max-age=0, no-store, no-cache, must-revalidate, "
                        "post-check=0, pre-check=0"
                    ),
                    "Expires": "Thu, 01 Jan 1970 00:00:01 GMT",
                },
                shopify=False,
            )
        elif mode == "password":
            location = f"{shop.url}/password"
            body = f'<html><body>You are being <a href="{location}">redirected</a>.</body></html>'
            self._send(302, body.encode("utf-8"), _HTML, extra={"Location": location})
        else:  # pragma: no cover - MODES is checked in misbehave()
            self._send(500, _ERROR_500.encode("utf-8"), _HTML)

    # -- responses
    def _json(self, status: int, data: Any) -> None:
        body = _dumps(data)
        if self._truncate:
            # valid headers (Content-Length matches what is sent), JSON cut in half
            self._send(status, body[: max(1, len(body) // 2)], _JSON, close=True)
        else:
            self._send(status, body, _JSON)

    def _not_found(self) -> None:
        self._send(404, _NOT_FOUND.encode("utf-8"), _HTML)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        *,
        extra: dict[str, str] | None = None,
        shopify: bool = True,
        close: bool = False,
    ) -> None:
        headers: dict[str, str] = {}
        if shopify:
            headers["X-Shopify-Stage"] = "production"
            headers["X-Cache"] = "miss"
            headers["X-Request-Id"] = str(uuid.uuid4())
            headers["X-Content-Type-Options"] = "nosniff"
            headers["Powered-By"] = "Shopify"
        headers["CF-Ray"] = f"{secrets.token_hex(8)}-EWR"
        super()._send(status, body, content_type, extra={**headers, **(extra or {})}, close=close)


ReplicaShop.handler_class = _Handler  # the handler is defined after the shop it serves


def _dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _int_param(query: dict[str, list[str]], name: str, default: int) -> int:
    values = query.get(name)
    if not values:
        return default
    raw = values[-1].strip()
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"Invalid value for {name}: {values[-1]!r} is not an integer.") from None


def _lenient_page(query: dict[str, list[str]]) -> int | None:
    try:
        return max(1, _int_param(query, "page", 1))
    except ValueError:
        return None


# ---------------------------------------------------------------------- pages


def _money(shop: ReplicaShop, amount: str) -> str:
    symbol = _CURRENCY_SYMBOLS.get(shop.currency, "")
    return f"{symbol}{Decimal(amount):,.2f} {shop.currency}"


def _page(title: str, body: str, head: str = "") -> str:
    return html_page(title, body, head)


def _shopify_js(shop: ReplicaShop) -> str:
    currency = json.dumps({"active": shop.currency, "rate": "1.0"})
    return (
        "<script>var Shopify = Shopify || {};\n"
        'Shopify.shop = "replica-2002r.myshopify.com";\n'
        f"Shopify.currency = {currency};</script>\n"
    )


def _product_page(shop: ReplicaShop, product: Product) -> str:
    variants: list[Product] = product["variants"]
    cheapest = min(variants, key=lambda v: Decimal(v["price"])) if variants else None
    price = cheapest["price"] if cheapest else "0.00"
    url = f"{shop.url}/products/{product['handle']}"
    offers = [
        {
            "@type": "Offer",
            "availability": "http://schema.org/" + ("InStock" if v["available"] else "OutOfStock"),
            "price": v["price"],
            "priceCurrency": shop.currency,
            "sku": v["sku"],
            "url": f"{url}?variant={v['id']}",
        }
        for v in variants
    ]
    ld = {
        "@context": "http://schema.org/",
        "@type": "Product",
        "name": product["title"],
        "url": url,
        "brand": {"@type": "Brand", "name": product["vendor"]},
        "offers": offers,
    }
    ld_json = json.dumps(ld, ensure_ascii=False).replace("</", "<\\/")
    head = (
        f'<meta property="og:type" content="product">\n'
        f'<meta property="og:title" content="{html.escape(product["title"])}">\n'
        f'<meta property="og:url" content="{html.escape(url)}">\n'
        f'<meta property="og:price:amount" content="{price}">\n'
        f'<meta property="og:price:currency" content="{html.escape(shop.currency)}">\n'
        + _shopify_js(shop)
        + f'<script type="application/ld+json">{ld_json}</script>\n'
    )
    rows = []
    for v in variants:
        sale = (
            f" <s>{_money(shop, v['compare_at_price'])}</s>"
            if is_sale(v["compare_at_price"])
            and Decimal(v["compare_at_price"]) > Decimal(v["price"])
            else ""
        )
        stock = "In stock" if v["available"] else "Sold out"
        rows.append(
            f'<tr data-variant-id="{v["id"]}"><td>{html.escape(v["title"])}</td>'
            f"<td>{_money(shop, v['price'])}{sale}</td><td>{stock}</td></tr>"
        )
    body = (
        f'<header><a href="/">{html.escape(shop.name)}</a></header>\n<main>\n'
        f'<h1 class="product__title">{html.escape(product["title"])}</h1>\n'
        f'<p class="product__vendor">{html.escape(product["vendor"])}</p>\n'
        f'<p class="price"><span class="price-item">{_money(shop, price)}</span></p>\n'
        '<table class="sizes">\n<tr><th>Size</th><th>Price</th><th>Stock</th></tr>\n'
        + "\n".join(rows)
        + f'\n</table>\n<div class="product__description">{product["body_html"]}</div>\n</main>'
    )
    return _page(f"{product['title']} – {shop.name}", body, head)


def _home_page(shop: ReplicaShop) -> str:
    items = "\n".join(
        f'<li><a href="/products/{html.escape(p["handle"])}">{html.escape(p["title"])}</a></li>'
        for p in shop._all_public()
    )
    body = (
        f"<h1>{html.escape(shop.name)}</h1>\n<p>A replica Shopify storefront (made-up data) "
        f'for the 2002R price watch. Feed: <a href="/products.json">/products.json</a></p>\n'
        f"<ul>\n{items}\n</ul>"
    )
    return _page(shop.name, body, _shopify_js(shop))


def _password_page(shop: ReplicaShop) -> str:
    body = (
        f"<h1>{html.escape(shop.name)}</h1>\n"
        '<p class="message">Opening soon</p>\n'
        '<form method="post" action="/password" id="login_form">\n'
        '<label for="password">Enter store using password</label>\n'
        '<input type="password" name="password" id="password">\n'
        '<button type="submit">Enter</button>\n</form>\n'
        "<p>Are you the store owner? Log in here</p>"
    )
    return _page(shop.name, body)


_ROBOTS_COMMON = """Disallow: /a/downloads/-/*
Disallow: /admin
Disallow: /cart
Disallow: /orders
Disallow: /checkouts/
Disallow: /checkout
Disallow: /{shop_id}/checkouts
Disallow: /{shop_id}/orders
Disallow: /carts
Disallow: /account
Disallow: /collections/*sort_by*
Disallow: /*/collections/*sort_by*
Disallow: /collections/*+*
Disallow: /collections/*%2B*
Disallow: /collections/*%2b*
Disallow: /*/collections/*+*
Disallow: /*/collections/*%2B*
Disallow: /*/collections/*%2b*
Disallow: */collections/*filter*&*filter*
Disallow: /blogs/*+*
Disallow: /blogs/*%2B*
Disallow: /blogs/*%2b*
Disallow: /*/blogs/*+*
Disallow: /*/blogs/*%2B*
Disallow: /*/blogs/*%2b*
Disallow: /*?*oseid=*
Disallow: /*preview_theme_id*
Disallow: /*preview_script_id*
Disallow: /policies/
Disallow: /*/policies/
Disallow: /*/*?*ls=*&ls=*
Disallow: /*/*?*ls%3D*%3Fls%3D*
Disallow: /*/*?*ls%3d*%3fls%3d*
Disallow: /search
Disallow: /apple-app-site-association
Disallow: /.well-known/shopify/monorail
Disallow: /cdn/wpm/*.js
"""

_ROBOTS_TEMPLATE = (
    "# we use Shopify as our ecommerce platform\n\nUser-agent: *\n"
    + _ROBOTS_COMMON
    + """Disallow: /recommendations/products
Disallow: /*/recommendations/products
Sitemap: {url}/sitemap.xml

# Google adsbot ignores robots.txt unless specifically named!
User-agent: adsbot-google
Disallow: /checkouts/
Disallow: /checkout
Disallow: /carts
Disallow: /orders
Disallow: /{shop_id}/checkouts
Disallow: /{shop_id}/orders
Disallow: /*?*oseid=*
Disallow: /*preview_theme_id*
Disallow: /*preview_script_id*
Disallow: /cdn/wpm/*.js

User-agent: Nutch
Disallow: /

User-agent: AhrefsBot
Crawl-delay: 10
"""
    + _ROBOTS_COMMON
    + "\nUser-agent: AhrefsSiteAudit\nCrawl-delay: 10\n"
    + _ROBOTS_COMMON
    + """
User-agent: MJ12bot
Crawl-delay: 10

User-agent: Pinterest
Crawl-delay: 1
"""
)


def _robots(shop: ReplicaShop) -> str:
    """Shopify's default robots.txt (shape of a 2025 store's copy), or ``robots_txt``."""
    if shop.robots_txt is not None:
        return shop.robots_txt
    return _ROBOTS_TEMPLATE.format(url=shop.url, shop_id="62020020002")


_NOT_FOUND = _page(
    "404 Not Found",
    "<h1>404 Page Not Found</h1>\n<p>The page you were looking for does not exist.</p>",
)
_ERROR_500 = _page(
    "Internal Server Error",
    "<h1>There was an error processing your request</h1>\n"
    "<p>Sorry, we're having trouble right now. Please try again in a few minutes.</p>",
)
_FORBIDDEN = _page("403 Forbidden", "<h1>403 Forbidden</h1>\n<p>Access denied.</p>")
_TOO_MANY = _page(
    "Too Many Requests",
    "<h1>429 Too Many Requests</h1>\n<p>Too many requests. Please try again later.</p>",
)
_THROTTLE_PAGE = _page(
    "Temporarily unavailable",
    '<div class="page">\n<h1>Access temporarily unavailable</h1>\n'
    "<p>This page is temporarily unavailable because a device from your location is sending "
    "large amounts of web requests. Visitors from other locations can still view the page.</p>\n"
    "<p>Please try again in a few minutes.</p>\n</div>",
)
_CLOUDFLARE_PAGE = (
    '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
    '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">'
    '<meta http-equiv="X-UA-Compatible" content="IE=Edge">'
    '<meta name="robots" content="noindex,nofollow">'
    '<meta name="viewport" content="width=device-width,initial-scale=1">'
    "</head><body>"
    '<div class="main-wrapper" role="main"><div class="main-content">'
    '<h1 class="zone-name-title h1">Verifying you are human. This may take a few seconds.</h1>'
    '<noscript><div class="h2"><span id="challenge-error-text">Enable JavaScript and cookies '
    "to continue</span></div></noscript></div></div>"
    "<script>(function(){window._cf_chl_opt={cvId: '3',cZone: 'replica.invalid',"
    "cType: 'managed',cRay: '0000000000000000'};}());</script>"
    "</body></html>"
)
