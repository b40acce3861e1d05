"""A replica multi-brand sneaker shop whose product pages have no JSON-LD: only HTML.

MADE-UP DATA. A European shop (EUR, EU sizes) of the kind docs/retailers.md lists beside the Shopify
stores; the style codes are those of the replica Shopify catalog. What a spider meets there:
- a listing page, ``/c/new-balance-2002r``, in two pages (``rel="next"``), that links to the
  products among menu, footer and other-brand links;
- product pages ``/p/<slug>-<style>`` written three ways (``kind``): ``og`` (OpenGraph
  ``product:price:amount`` in the head and a visible "149,95 €"), ``text`` (only the visible
  price) and ``microdata`` (a schema.org Offer in ``itemprop`` attributes);
- size buttons ``.size-picker .size-button`` with the label as text ("EU 44"), sold-out sizes
  marked ``.size-button--sold-out`` and ``disabled``, and the same sizes again in a mobile
  picker (counted once);
- the walls and the page without product data of :meth:`PageShop.misbehave`.

Selectors that read it (see tests/support.py ``html_shop_config``)::

    [shops.selectors]
    title = "h1.product-name"
    price = ".product-price .price"
    sizes = ".size-picker .size-button"
    sold_out = ".size-button--sold-out"
    style_code = ".product-code"
"""

from __future__ import annotations

import html
from decimal import Decimal

from pricewatch.replica.base import Colorway, PageHandler, PageShop, html_page

__all__ = ["EU_SIZES", "KINDS", "LISTING_PATH", "HtmlShop", "shop_colorway"]

KINDS = ("og", "text", "microdata")
# EU labels of US 7-12 on New Balance's chart (docs/retailers.md 5.2).
EU_SIZES = ("EU 40", "EU 40.5", "EU 41.5", "EU 42", "EU 42.5", "EU 43", "EU 44", "EU 44.5", "EU 45")
LISTING_PATH = "/c/new-balance-2002r"
PER_PAGE = 3


def shop_colorway(
    style: str,
    name: str,
    price: str,
    kind: str,
    *,
    sold_out: tuple[str, ...] = (),
    sizes: tuple[str, ...] = EU_SIZES,
    brand: str = "New Balance",
) -> Colorway:
    slug = "-".join(name.lower().replace('"', "").replace("/", " ").split())
    return Colorway(
        style=style,
        name=name,
        price=price,
        sizes={size: size not in sold_out for size in sizes},
        path=f"/p/{slug}-{style.lower()}",
        kind=kind,
        brand=brand,
    )


def default_colorways() -> list[Colorway]:
    """Four 2002R colorways (every page kind) and a 990v6 that must stay out."""
    return [
        shop_colorway(
            "M2002RDA", 'New Balance 2002R "Rain Cloud"', "149.95", "og", sold_out=("EU 40",)
        ),
        shop_colorway("M2002RDF", "New Balance 2002R Protection Pack Dark Navy", "159.95", "text"),
        shop_colorway(
            "ML2002RA",
            "New Balance ML2002RA Grey",
            "129.95",
            "microdata",
            sold_out=("EU 44", "EU 44.5"),
        ),
        shop_colorway("M990GL6", "New Balance Made in USA 990v6 Grey", "219.95", "og"),
        shop_colorway("U2002RBL", 'New Balance 2002R "Triple Black"', "149.95", "text"),
    ]


class HtmlShop(PageShop):
    """An HTML-only sneaker shop on 127.0.0.1 (see the module docstring)."""

    kinds = KINDS
    default_name = "Replica Sneaker Store"
    default_currency = "EUR"
    default_colorways = staticmethod(default_colorways)

    def __repr__(self) -> str:
        return f"<HtmlShop {self.url or 'not started'} colorways={len(self.colorways())}>"


class _Handler(PageHandler):
    server_software = "nginx"

    def request_kind(self, path: str) -> str | None:
        if path.startswith("/p/"):
            return "products"
        if path.startswith("/c/"):
            return "listings"
        return None

    def route(self, path: str, query: dict[str, list[str]], *, no_data: bool) -> None:
        shop: HtmlShop = self.server.shop
        if path == "/robots.txt":
            robots = "User-agent: *\nDisallow: /checkout\nDisallow: /account\n"
            self._send(200, robots.encode("utf-8"), "text/plain; charset=utf-8")
        elif path == LISTING_PATH:
            try:
                page = max(1, int(query.get("page", ["1"])[-1]))
            except ValueError:
                page = 1
            self.page(_listing_page(shop, page))
        elif path == "/":
            self.page(html_page(shop.name, f'<a href="{LISTING_PATH}">New Balance 2002R</a>'))
        elif path == "/p/gift-card":
            self.page(_gift_card_page(shop))
        else:
            colorway = shop._by_path(path)
            if colorway is None:
                self.not_found()
            else:
                self.page(_product_page(shop, colorway, with_data=not no_data))


HtmlShop.handler_class = _Handler


def _euros(amount: str) -> str:
    """German/French style: "1.299,95 €"."""
    text = f"{Decimal(amount):,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{text} €"


def _nav() -> str:
    return (
        '<nav><a href="/">Home</a> <a href="/c/nike">Nike</a> <a href="/c/adidas">adidas</a> '
        f'<a href="{LISTING_PATH}">New Balance 2002R</a> <a href="/p/gift-card">Gift card</a></nav>'
    )


def _listing_page(shop: HtmlShop, page: int) -> str:
    colorways = shop.colorways()
    chosen = colorways[(page - 1) * PER_PAGE : page * PER_PAGE]
    tiles = "\n".join(
        f'<li class="product-tile"><a href="{html.escape(c.path)}">'
        f'<span class="name">{html.escape(c.name)}</span></a>'
        f'<span class="price">{_euros(c.price)}</span></li>'
        for c in chosen
    )
    pager = ""
    if page * PER_PAGE < len(colorways):
        pager = f'<a rel="next" href="{LISTING_PATH}?page={page + 1}">Next page</a>'
    body = f'{_nav()}\n<main><h1>New Balance 2002R</h1>\n<ul class="grid">\n{tiles}\n</ul>\n'
    body += f"{pager}</main>\n<footer><a href='/about'>About</a></footer>"
    return html_page(f"New Balance 2002R – {shop.name}", body)


def _product_page(shop: HtmlShop, colorway: Colorway, *, with_data: bool = True) -> str:
    name = html.escape(colorway.name)
    head = f'<meta property="og:title" content="{name}">\n'
    head += '<meta property="og:type" content="product">\n'
    head += f'<link rel="canonical" href="{shop.url}{colorway.path}">\n'
    if not with_data:
        body = f"{_nav()}\n<main><h1>{name}</h1><p>Loading…</p></main>"
        return html_page(colorway.name, body, head)
    if colorway.kind == "og":
        head += (
            f'<meta property="product:price:amount" content="{colorway.price}">\n'
            f'<meta property="product:price:currency" content="{shop.currency}">\n'
        )
    buttons = "\n".join(
        '<li><button type="button" class="size-button'
        + ("" if stock else ' size-button--sold-out" disabled="disabled')
        + f'" data-size="{html.escape(size)}">{html.escape(size)}</button></li>'
        for size, stock in colorway.sizes.items()
    )
    code = f'<p class="product-code">Style code: {colorway.style}</p>'
    price = f'<div class="product-price"><span class="price">{_euros(colorway.price)}</span></div>'
    if colorway.kind == "microdata":
        in_stock = any(colorway.sizes.values())
        availability = "https://schema.org/" + ("InStock" if in_stock else "OutOfStock")
        price = (
            '<div itemscope itemtype="https://schema.org/Product">'
            f'<meta itemprop="name" content="{name}">'
            f'<meta itemprop="brand" content="{html.escape(colorway.brand)}">'
            '<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
            f'<meta itemprop="price" content="{colorway.price}">'
            f'<meta itemprop="priceCurrency" content="{shop.currency}">'
            f'<link itemprop="availability" href="{availability}">'
            f"</div></div>\n{price}"
        )
        code = ""  # the style code is only in the title and the URL
    body = (
        f"{_nav()}\n<main class='product'>\n<h1 class=\"product-name\">{name}</h1>\n{code}\n"
        f'{price}\n<ul class="size-picker">\n{buttons}\n</ul>\n'
        # the phone layout repeats the sizes; a parser must not count them twice
        f'<div class="mobile-only"><ul class="size-picker">\n{buttons}\n</ul></div>\n</main>'
    )
    return html_page(f"{colorway.name} – {shop.name}", body, head)


def _gift_card_page(shop: HtmlShop) -> str:
    """A product that is no shoe: a spider reads it (its URL looks like any product's) and
    keeps it out (no 2002R style code)."""
    head = (
        '<meta property="og:title" content="Gift card">\n'
        '<meta property="product:price:amount" content="25.00">\n'
        f'<meta property="product:price:currency" content="{shop.currency}">\n'
    )
    body = (
        f'{_nav()}\n<main class="product"><h1 class="product-name">Gift card</h1>\n'
        f'<div class="product-price"><span class="price">{_euros("25.00")}</span></div></main>'
    )
    return html_page(f"Gift card – {shop.name}", body, head)
