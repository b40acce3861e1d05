"""A replica New Balance store on Salesforce Commerce Cloud: one page per colorway with
schema.org JSON-LD, a sitemap index, robots.txt, and walls on demand.

MADE-UP DATA IN REAL SHAPES. No capture of a newbalance.com product page exists
(tests/fixtures/realdata/SOURCES.md), so every price, stock flag and page is invented; the style
codes are those of the replica Shopify catalog (catalog.json), so one colorway can be followed
across both shops. The shapes come from docs/retailers.md section 2 and the real JSON-LD pages of
SOURCES.md section B:
- page URLs ``/pd/<model-slug>/<STYLE>-D-<nn>.html`` (docs/retailers.md 2.2; newbalance.de writes
  ``/pd/2002r-protection-pack/M2002RDA-D-07.html``);
- four ways of writing JSON-LD, one per ``kind``:
  ``offers``: a ``Product`` whose ``offers`` list has one Offer per size, the size only in the
  SKU suffix (as zalando.ie does), string prices, ``https://schema.org/...`` availability,
  relative offer URLs, and a broken JSON-LD block beside it;
  ``group``: an ``@graph`` with a ``ProductGroup`` (``variesBy`` size, docs/retailers.md 2.4) whose
  ``hasVariant`` Products carry ``size`` and an Offer with a number price and bare
  ``OutOfStock``;
  ``sfcc``: ``"@type": "product"`` in lower case with an ``AggregateOffer`` whose
  ``lowprice``/``highprice`` are SFCC price objects (as stockcenter.com.ar, SOURCES.md B1):
  one offer for every size, with the list price of a sale;
  ``sizes``: a top-level array of Products, one per size (as zara.com);
- ``/sitemap_index.xml`` naming ``/sitemap_0.xml`` (product pages, with lastmod) and
  ``/sitemap_1.xml`` (category and content pages);
- walls that answer 200 (:meth:`PageShop.misbehave`): Akamai's "Oops! Something went wrong"
  (docs/retailers.md 2.5), PerimeterX, DataDome, or a product page with no product data.

    with JsonLdShop() as shop:
        shop.set_price("M2002RDA", "129.99", size="10")
        shop.set_available("M2002RDA", False, size="10.5")
        shop.misbehave("block-akamai", scope="products")
"""

from __future__ import annotations

import html
import json
import zlib
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from pricewatch.replica.base import Colorway, PageHandler, PageShop, html_page

__all__ = ["DEFAULT_COLORWAYS", "KINDS", "JsonLdShop", "nb_colorway"]

KINDS = ("offers", "group", "sfcc", "sizes")
US_SIZES = ("7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "11.5", "12", "13")
_XML = "application/xml; charset=utf-8"


def nb_colorway(
    style: str,
    name: str,
    price: str,
    kind: str,
    *,
    sold_out: tuple[str, ...] = (),
    sizes: tuple[str, ...] = US_SIZES,
    list_price: str | None = None,
    slug: str = "2002r",
) -> Colorway:
    """A colorway at the replica NB store; its page is ``/pd/<slug>/<STYLE>-D-<nn>.html``."""
    number = zlib.crc32(style.encode()) % 20 + 1
    return Colorway(
        style=style,
        name=name,
        price=price,
        sizes={size: size not in sold_out for size in sizes},
        path=f"/pd/{slug}/{style}-D-{number:02d}.html",
        kind=kind,
        list_price=list_price,
    )


def default_colorways() -> list[Colorway]:
    """The replica NB store's catalog: six 2002R colorways (each page kind at least once)
    and two other models that must stay out."""
    return [
        nb_colorway(
            "M2002RDA",
            "2002R Protection Pack - Rain Cloud",
            "149.99",
            "offers",
            sold_out=("7", "7.5", "12"),
            slug="2002r-protection-pack",
        ),
        nb_colorway(
            "M2002RDB", "2002R Protection Pack - Phantom", "149.99", "group", sold_out=("9",)
        ),
        nb_colorway("M2002RHO", "2002R - Phantom", "139.99", "sfcc", list_price="149.99"),
        nb_colorway(
            "M2002RXU", "2002R GORE-TEX - Olive/Black", "179.99", "sizes", sold_out=("10", "13")
        ),
        nb_colorway("U2002RCA", "2002R - Sea Salt", "149.99", "offers"),
        nb_colorway("M2002NA", "2002R Mule Protection Pack - Rain Cloud", "164.99", "group"),
        nb_colorway("M990GL6", "Made in USA 990v6 - Grey", "199.99", "offers", slug="990v6"),
        nb_colorway("U9060GRY", "9060 - Grey", "149.99", "sfcc", slug="9060"),
    ]


DEFAULT_COLORWAYS = tuple(c.style for c in default_colorways())


class JsonLdShop(PageShop):
    """A Commerce-Cloud-like New Balance store on 127.0.0.1 (see the module docstring)."""

    kinds = KINDS
    default_name = "Replica NB"
    default_currency = "USD"
    default_colorways = staticmethod(default_colorways)

    #: True: every product page writes its JSON-LD with JavaScript (see `_scripted_blocks`)
    scripted = False

    def page_url(self, style: str) -> str:
        return self.url + self.colorway(style).path

    def __repr__(self) -> str:
        return f"<JsonLdShop {self.url or 'not started'} colorways={len(self.colorways())}>"


class _Handler(PageHandler):
    def request_kind(self, path: str) -> str | None:
        if path.startswith("/pd/") or path.endswith("/Product-Variation"):
            return "products"
        if path.endswith("/Search-UpdateGrid"):
            return "listings"
        if path.startswith("/sitemap"):
            return "sitemaps"
        if path.startswith("/c/"):
            return "listings"
        return None

    def route(self, path: str, query: dict[str, list[str]], *, no_data: bool) -> None:
        shop: JsonLdShop = self.server.shop
        if path == "/robots.txt":
            # made up: newbalance.com's real robots.txt is not in any stored source
            robots = (
                "User-agent: *\n"
                + "".join(f"Disallow: {SFCC_PATH}/{c}-\n" for c in ("Cart", "Checkout", "Account"))
                + f"Disallow: /search\nSitemap: {shop.url}/sitemap_index.xml\n"
            )
            self._send(200, robots.encode("utf-8"), "text/plain; charset=utf-8")
        elif path == "/sitemap_index.xml":
            self._send(200, _sitemap_index(shop).encode("utf-8"), _XML)
        elif path == "/sitemap_0.xml":
            self._send(200, _product_sitemap(shop).encode("utf-8"), _XML)
        elif path == "/sitemap_1.xml":
            self._send(200, _content_sitemap(shop).encode("utf-8"), _XML)
        elif path in ("/", "/c/2002r"):
            self.page(_category_page(shop))
        elif path == f"{SFCC_PATH}/Search-UpdateGrid":
            self.page(_grid(shop, query))
        elif path == f"{SFCC_PATH}/Product-Variation":
            variation = _variation(shop, query)
            if variation is None:
                self.not_found()
            else:
                self._send(200, json.dumps(variation).encode(), "application/json")
        else:
            colorway = shop._by_path(path)
            if colorway is None:
                self.not_found()
            else:
                self.page(_product_page(shop, colorway, with_data=not no_data))


JsonLdShop.handler_class = _Handler

# Salesforce Commerce Cloud's controllers (docs/retailers.md 2.1-2.3), as newbalance.com names them.
SFCC_SITE = "Sites-NBUS-Site/en_US"
SFCC_PATH = f"/on/demandware.store/{SFCC_SITE}"


def master_of(style: str) -> str:
    """The Commerce Cloud master ID a colorway hangs under: one per model line, like the real
    M2002RV1-42829 (docs/retailers.md 2.2); made up, as every value here."""
    line = style[: style.index("2002") + 5] if "2002" in style else style[:5]
    return f"{line}V1-{zlib.crc32(line.encode()) % 90000 + 10000}"


def _grid(shop: JsonLdShop, query: dict[str, list[str]]) -> str:
    """Search-UpdateGrid: HTML product tiles of a category, a page at a time."""
    cgid = (query.get("cgid") or [""])[0]
    start = int((query.get("start") or ["0"])[0] or 0)
    size = int((query.get("sz") or ["12"])[0] or 12)
    members = [c for c in shop.colorways() if c.path.split("/")[2].startswith(cgid)]
    tiles = []
    for colorway in members[start : start + size]:
        master = master_of(colorway.style)
        link = (
            f"/pd/{colorway.path.split('/')[2]}/{master}.html?dwvar_{master}_style={colorway.style}"
        )
        tiles.append(
            f'<div class="product" data-pid="{master}"><div class="product-tile">'
            f'<a class="tile-link" href="{html.escape(link)}">{html.escape(colorway.name)}</a>'
            "</div></div>"
        )
    return "\n".join(tiles)


def _variation(shop: JsonLdShop, query: dict[str, list[str]]) -> dict[str, Any] | None:
    """Product-Variation: one colorway in one width as JSON, per-size ``selectable``."""
    master = (query.get("pid") or [""])[0]
    style = (query.get(f"dwvar_{master}_style") or [""])[0]
    width = (query.get(f"dwvar_{master}_width") or ["D"])[0]
    colorway = next((c for c in shop.colorways() if c.style == style), None)
    if colorway is None or master_of(style) != master or width != "D":
        return None
    price: dict[str, Any] = {"sales": {"value": float(colorway.price), "currency": shop.currency}}
    if colorway.list_price:
        price["list"] = {"value": float(colorway.list_price), "currency": shop.currency}
    sizes = [
        {
            "id": size,
            "value": size,
            "displayValue": size,
            "selectable": stock,
            "variantID": f"{style}{size.replace('.', '')}D"[:20],
        }
        for size, stock in colorway.sizes.items()
    ]
    return {
        "action": "Product-Variation",
        "product": {
            "id": style,
            "masterId": master,
            "productName": colorway.name,
            "brand": colorway.brand,
            "available": any(colorway.sizes.values()),
            "price": price,
            "selectedProductUrl": f"/pd/2002r/{master}.html?dwvar_{master}_style={style}",
            "images": {
                "productDetail": [
                    {"url": f"https://nb.scene7.com/is/image/NB/{style.lower()}_nb_02_i"}
                ]
            },
            "variationAttributes": [
                {
                    "attributeId": "style",
                    "values": [{"id": style, "value": style, "selected": True}],
                },
                {"attributeId": "size", "values": sizes},
                {
                    "attributeId": "width",
                    "values": [{"id": "D", "value": "D", "selected": True, "selectable": True}],
                },
            ],
        },
    }


# ---------------------------------------------------------------------------- sitemaps


def _urlset(entries: list[tuple[str, str | None]]) -> str:
    rows = "".join(
        f"<url><loc>{escape(loc)}</loc>"
        + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "")
        + "<changefreq>daily</changefreq></url>\n"
        for loc, lastmod in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + rows + "</urlset>\n"
    )


def _sitemap_index(shop: JsonLdShop) -> str:
    newest = max((c.lastmod for c in shop.colorways()), default="")
    rows = "".join(
        f"<sitemap><loc>{shop.url}/sitemap_{n}.xml</loc><lastmod>{newest}</lastmod></sitemap>\n"
        for n in (0, 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + rows
        + "</sitemapindex>\n"
    )


def _product_sitemap(shop: JsonLdShop) -> str:
    return _urlset([(shop.url + c.path, c.lastmod) for c in shop.colorways()])


def _content_sitemap(shop: JsonLdShop) -> str:
    paths = ("/", "/c/2002r", "/c/men/shoes", "/about-us", "/size-chart")
    return _urlset([(shop.url + path, None) for path in paths])


# ---------------------------------------------------------------------------- pages


def _category_page(shop: JsonLdShop) -> str:
    tiles = "\n".join(
        f'<div class="product-tile"><a class="tile-link" href="{html.escape(c.path)}">'
        f"{html.escape(c.name)}</a></div>"
        for c in shop.colorways()
    )
    body = (
        f'<header><a href="/">{html.escape(shop.name)}</a> <a href="/c/men/shoes">Men</a></header>'
        f'\n<main><h1>2002R</h1>\n<div class="product-grid">\n{tiles}\n</div></main>'
    )
    return html_page(f"2002R | {shop.name}", body)


def _product_page(shop: JsonLdShop, colorway: Colorway, *, with_data: bool = True) -> str:
    blocks = _jsonld_blocks(shop, colorway) if with_data else []
    if shop.scripted:
        head = _scripted_blocks(blocks)
    else:
        head = "".join(
            f'<script type="application/ld+json">{_script_safe(block)}</script>\n'
            for block in blocks
        )
    buttons = "\n".join(
        f'<button class="size-btn{"" if stock else " disabled"}" data-attr-value="{size}">'
        f"{size}</button>"
        for size, stock in colorway.sizes.items()
    )
    body = (
        f'<header><a href="/">{html.escape(shop.name)}</a></header>\n<main class="pdp">\n'
        f'<h1 class="product-name">{html.escape(colorway.name)}</h1>\n'
        f'<div class="prices"><span class="sales"><span class="value" content="{colorway.price}">'
        f"${Decimal(colorway.price):,.2f}</span></span></div>\n"
        f'<div class="size-attribute">{buttons}</div>\n</main>'
    )
    return html_page(f"{colorway.name} | {shop.name}", body, head)


def _scripted_blocks(blocks: list[str]) -> str:
    """The JSON-LD written into the page by its JavaScript once it runs, as single-page shops
    do: the page as sent holds no ld+json block (its type is assembled at run time), so only a
    client that runs scripts (a browser) finds the product."""
    data = json.dumps(blocks).replace("</", "<\\/")
    return (
        "<script>\nfor (const text of " + data + ") {\n"
        "  const block = document.createElement('script');\n"
        "  block.type = 'application/' + 'ld' + '+json';\n"
        "  block.textContent = text;\n"
        "  document.head.appendChild(block);\n}\n</script>\n"
    )


def _script_safe(text: str) -> str:
    """JSON inside <script>: a "</" would end the script early."""
    return text.replace("</", "<\\/")


def _availability(in_stock: bool, kind: str) -> str:
    word = "InStock" if in_stock else "OutOfStock"
    return {
        "offers": f"https://schema.org/{word}",
        "group": f"http://schema.org/{word}" if in_stock else word,  # bare "OutOfStock"
        "sfcc": f"http://schema.org/{word}",
        "sizes": word,
    }[kind]


def _sku(colorway: Colorway, size: str) -> str:
    return f"{colorway.style}-D-{size}"


def _jsonld_blocks(shop: JsonLdShop, colorway: Colorway) -> list[str]:
    """The page's JSON-LD blocks, as text (one may be broken on purpose)."""
    style, kind = colorway.style, colorway.kind
    product: dict[str, Any]
    image = f"https://nb.scene7.com/is/image/NB/{style.lower()}_nb_02_i?$pdpflexf2$"
    brand = {"@type": "Brand", "name": colorway.brand}
    organization = json.dumps(
        {"@context": "https://schema.org", "@type": "Organization", "name": "New Balance"}
    )
    if kind == "offers":
        offers = [
            {
                "@type": "Offer",
                "sku": _sku(colorway, size),
                "price": colorway.price_of(size),
                "priceCurrency": shop.currency,
                "availability": _availability(stock, kind),
                "url": f"{colorway.path}?dwvar_{style}_size={size}",
            }
            for size, stock in colorway.sizes.items()
        ]
        product = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": colorway.name,
            "sku": style,
            "brand": brand,
            "image": [image],
            "color": colorway.name.rpartition(" - ")[2],
            "url": colorway.path,
            "offers": offers,
        }
        # A real page's third-party tag manager sometimes cuts a block short.
        broken = '{"@context": "https://schema.org", "@type": "BreadcrumbList", "item'
        return [json.dumps(product), broken, organization]
    if kind == "group":
        variants = [
            {
                "@type": "Product",
                "sku": _sku(colorway, size),
                "name": colorway.name,
                "size": size,
                "offers": {
                    "@type": "Offer",
                    "price": float(colorway.price_of(size)),
                    "priceCurrency": shop.currency,
                    "availability": _availability(stock, kind),
                },
            }
            for size, stock in colorway.sizes.items()
        ]
        graph = {
            "@context": "https://schema.org",
            "@graph": [
                {
                    "@type": "ProductGroup",
                    "name": colorway.name,
                    "productGroupID": style,
                    "brand": brand,
                    "url": shop.url + colorway.path,
                    "image": image,
                    "variesBy": ["https://schema.org/size"],
                    "hasVariant": variants,
                },
                {
                    "@type": "BreadcrumbList",
                    "itemListElement": [
                        {"@type": "ListItem", "position": 1, "name": "Men", "item": "/c/men"},
                        {"@type": "ListItem", "position": 2, "name": "2002R", "item": "/c/2002r"},
                    ],
                },
            ],
        }
        return [json.dumps(graph), organization]
    if kind == "sfcc":
        prices = [Decimal(colorway.price_of(size)) for size in colorway.sizes] or [
            Decimal(colorway.price)
        ]

        def sfcc_price(amount: Decimal) -> dict[str, Any]:
            listed = colorway.list_price
            return {
                "sales": _sfcc_money(amount, shop.currency),
                "list": _sfcc_money(Decimal(listed), shop.currency) if listed else None,
            }

        product = {
            "@context": "http://schema.org/",
            "@type": "product",
            "name": colorway.name,
            "mpn": style,
            "sku": style,
            "brand": {"@type": "Thing", "name": colorway.brand},
            "image": [None, None],
            "offers": {
                "url": {},
                "@type": "AggregateOffer",
                "lowprice": sfcc_price(min(prices)),
                "highprice": sfcc_price(max(prices)),
                "availability": _availability(any(colorway.sizes.values()), kind),
            },
        }
        return [json.dumps(product)]
    # kind == "sizes": one Product per size, as a top-level array
    products = [
        {
            "@context": "http://schema.org/",
            "@type": "Product",
            "sku": f"{style}-{size}",
            "mpn": f"{style}-{size}",
            "name": colorway.name,
            "brand": colorway.brand,
            "offers": {
                "@type": "Offer",
                "priceCurrency": shop.currency,
                "price": colorway.price_of(size),
                "availability": _availability(stock, kind),
                "url": shop.url + colorway.path,
            },
        }
        for size, stock in colorway.sizes.items()
    ]
    return [json.dumps(products), organization]


def _sfcc_money(amount: Decimal, currency: str) -> dict[str, Any]:
    """SFCC's price model object: ``value`` a JSON number, ``decimalPrice`` a string."""
    number: int | float = int(amount) if amount == amount.to_integral_value() else float(amount)
    return {
        "value": number,
        "currency": currency,
        "formatted": f"${amount:,.2f}",
        "decimalPrice": f"{amount:.2f}",
    }
