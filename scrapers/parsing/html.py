"""Product pages without usable JSON-LD, read from configured CSS selectors with BeautifulSoup.

Order of trust, most structured first: schema.org microdata (``itemprop="price"``), then
OpenGraph ``product:price:amount`` / ``og:price:amount``, then the shop's ``selectors.price``.
Per-size stock comes only from the size elements (``selectors.sizes``), each sold out when it
matches or contains ``selectors.sold_out``; without size elements the page is one offer for
every size, in stock only if microdata or OpenGraph says so (never guessed from a price).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from lxml.html import HtmlElement, tostring

from pricewatch.config import HtmlSelectors
from pricewatch.prices import PriceError, parse_money, parse_price
from pricewatch.styles import find_style_codes, identify_2002r, url_code_text
from scrapers.parsing.failures import ProductFailure
from scrapers.parsing.jsonld import Offer, PageData, availability, parse_document, product_offers

if TYPE_CHECKING:
    from bs4 import BeautifulSoup

# bs4, soupsieve and extruct are imported where they are used: a crawl process that runs only
# Shopify spiders imports this module (through scrapers.spiders) and should not pay ~0.4 s.

__all__ = ["DEFAULT_SOLD_OUT", "extract_html", "microdata_items", "opengraph"]

# What marks a sold-out size button when the config names no marker: the attributes and class
# names shop themes use. Without a marker every size would look in stock, which is the one
# mistake a restock alert must not make.
DEFAULT_SOLD_OUT = (
    "[disabled], [aria-disabled=true], .sold-out, .soldout, .is-sold-out, .unavailable, "
    ".out-of-stock, .disabled"
)
_WHITESPACE = re.compile(r"\s+")


def microdata_items(document: HtmlElement, base_url: str) -> list[dict[str, Any]]:
    """Microdata items in JSON-LD shape (``{"@type": ..., prop: value}``), so the JSON-LD
    product reader takes them as they are."""
    from extruct.w3cmicrodata import MicrodataExtractor

    items = MicrodataExtractor().extract_items(document, base_url)
    return [_as_jsonld(item) for item in items]


def opengraph(document: HtmlElement) -> dict[str, str]:
    """OpenGraph properties of the page, the first value of each (og:title, product:price:amount,
    og:price:amount, product:availability, ...)."""
    from extruct.opengraph import OpenGraphExtractor

    values: dict[str, str] = {}
    for item in OpenGraphExtractor().extract_items(document):
        for name, value in item.get("properties", []):
            values.setdefault(str(name).lower(), str(value))
    return values


def extract_html(
    page: str | bytes | HtmlElement,
    base_url: str,
    selectors: HtmlSelectors,
    *,
    html_text: str | None = None,
) -> PageData:
    """The offers of a product page read from microdata, OpenGraph and the CSS selectors.

    ``page`` is the page or its lxml tree (a Scrapy response's ``selector.root``); pass the
    text as ``html_text`` too when giving a tree, for BeautifulSoup."""
    if isinstance(page, HtmlElement):
        document = page
        text = html_text if html_text is not None else _tree_text(page)
    else:
        document = parse_document(page)
        text = page.decode("utf-8", "replace") if isinstance(page, bytes) else page
    from bs4 import BeautifulSoup

    failures: list[ProductFailure] = []
    micro, _ = product_offers(microdata_items(document, base_url), base_url, failures)
    micro = [o for o in micro if o.price is not None]
    og = opengraph(document)
    soup = BeautifulSoup(text, "lxml")

    title = (
        _selected_text(soup, selectors.title)
        or og.get("og:title")
        or (micro[0].name if micro else None)
        or (soup.title.get_text(" ", strip=True) if soup.title else "")
    )
    price, currency, problem = _page_price(micro, og, soup, selectors)
    if price is None and problem is None:
        if failures:  # the page's product is there, in microdata nobody could read
            return PageData(products=len(failures), source="html", failures=tuple(failures))
        return PageData(source="html")  # no price anywhere: not a product page (or a wall)
    stated_stock = micro[0].available if micro else None
    for key in ("product:availability", "og:availability"):
        if stated_stock is None:
            stated_stock = availability(og.get(key))

    url = _canonical(soup, og, base_url)
    code_text = _selected_text(soup, selectors.style_code) or ""
    skus = [s for s in (micro[0].sku if micro else None,) if s]
    match = identify_2002r(
        title=title,
        handle=url_code_text(url),
        skus=[*find_style_codes(code_text), *skus],
        vendor=(micro[0].brand or "") if micro else "",
    )
    image = (micro[0].image if micro else None) or _url(og.get("og:image"), base_url)
    common: dict[str, Any] = {
        "name": title,
        "price": price,
        "currency": currency,
        "url": url,
        "brand": micro[0].brand if micro else None,
        "image": image,
        "style_code": match.style_code if match else None,
        "family": match.family if match else None,
        "width": match.width if match else None,
        "problem": problem,
    }
    sizes = _sizes(soup, selectors)
    if sizes:
        offers = tuple(
            Offer(size_label=label, available=available, **common) for label, available in sizes
        )
    else:
        sku = skus[0] if skus else None
        offers = (Offer(size_label="", available=stated_stock, sku=sku, **common),)
    return PageData(offers, 1, 0, "html")


def _page_price(
    micro: list[Offer], og: dict[str, str], soup: BeautifulSoup, selectors: HtmlSelectors
) -> tuple[Decimal | None, str | None, str | None]:
    """(price, currency, problem): microdata, then OpenGraph, then the price selector."""
    if micro:
        return micro[0].price, micro[0].currency or _og_currency(og), None
    og_amount = og.get("product:price:amount") or og.get("og:price:amount")
    if og_amount:
        try:
            return parse_price(og_amount), _og_currency(og), None
        except PriceError as exc:
            return None, None, str(exc)
    currency = _selected_text(soup, selectors.currency)
    text = _selected_text(soup, selectors.price)
    if not text:
        return None, None, None
    try:
        amount, text_currency = parse_money(text)
    except PriceError as exc:
        return None, None, str(exc)
    code = (currency or "").strip().upper()
    return amount, (code if len(code) == 3 else None) or text_currency, None


def _og_currency(og: dict[str, str]) -> str | None:
    value = og.get("product:price:currency") or og.get("og:price:currency")
    return value.strip().upper() if value else None


def _sizes(soup: BeautifulSoup, selectors: HtmlSelectors) -> list[tuple[str, bool]]:
    """(label, in stock) of each size element; labels repeated on a page (a mobile and a
    desktop picker) count once."""
    import soupsieve

    if not selectors.sizes:
        return []
    sold_out = soupsieve.compile(selectors.sold_out or DEFAULT_SOLD_OUT)
    seen: dict[str, bool] = {}
    for element in soup.select(selectors.sizes):
        label = _WHITESPACE.sub(" ", element.get_text(" ", strip=True))
        if not label:
            label = str(element.get("data-size") or element.get("value") or "").strip()
        if not label or label in seen:
            continue
        gone = sold_out.match(element) or sold_out.select_one(element) is not None
        seen[label] = not gone
    return list(seen.items())


def _selected_text(soup: BeautifulSoup, selector: str | None) -> str | None:
    if not selector:
        return None
    element = soup.select_one(selector)
    if element is None:
        return None
    for attribute in ("content", "value"):
        value = element.get(attribute)
        if isinstance(value, str) and value.strip():
            return value.strip()
    text = _WHITESPACE.sub(" ", element.get_text(" ", strip=True))
    return text or None


def _canonical(soup: BeautifulSoup, og: dict[str, str], base_url: str) -> str:
    from bs4 import Tag

    link = soup.find("link", rel="canonical")
    href = link.get("href") if isinstance(link, Tag) else None
    return _url(href, base_url) or _url(og.get("og:url"), base_url) or base_url


def _url(value: Any, base_url: str) -> str | None:
    return urljoin(base_url, value.strip()) if isinstance(value, str) and value.strip() else None


def _as_jsonld(value: Any) -> Any:
    if isinstance(value, list):
        return [_as_jsonld(v) for v in value]
    if isinstance(value, dict) and "properties" in value:
        node = {"@type": value.get("type")}
        node.update({k: _as_jsonld(v) for k, v in value["properties"].items()})
        return node
    return value


def _tree_text(document: HtmlElement) -> str:
    text: str = tostring(document, encoding="unicode")
    return text
