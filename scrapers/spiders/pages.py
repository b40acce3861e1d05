"""Shops read one product page at a time (platforms jsonld and html): finding the pages.

A shop's product URLs come from its sitemap (Scrapy's SitemapSpider: a sitemap index, its
sitemaps, or a robots.txt naming them; ``sitemap_follow`` picks the sitemaps of an index and
``url_patterns`` the product URLs), from listing pages (links matching ``url_patterns``,
``rel=next`` pages followed up to ``max_pages``), or from a fixed list (``product_urls``).
A 2002R page that appears in the sitemap is crawled like the others, so a colorway the shop
just added is stored on the next crawl and `pricewatch.changes` makes it ``new_colorway``.

What counts as trouble: a sitemap or listing page that is an HTML wall, or a product page with
no product data where one was expected, is a block page (`PlatformSpider.page_blocked`): the
crawl is ``blocked`` and stops at once, since asking a wall for more pages only digs deeper
(Akamai's blocks are by IP reputation and last tens of minutes, docs/retailers.md 2.5). That is why
product pages are requested one at a time from a queue: Scrapy's CloseSpider still downloads
every request already handed to the downloader. A product page that answers 404/410 is a
product gone from the shop, not a failed crawl.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import replace
from typing import Any, Self
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.http import Response, TextResponse, XmlResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.spiders import SitemapSpider
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.response import get_base_url
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from pricewatch.config import CRAWL_DEFAULTS, ShopConfig
from pricewatch.styles import colorway_name, identify_2002r, url_code_text
from scrapers.items import ListingItem, ProductItem, by_product
from scrapers.parsing.buybutton import apply_buy_button, buy_button_state
from scrapers.parsing.failures import error_reason
from scrapers.parsing.jsonld import Offer, PageData
from scrapers.spiders.base import PlatformSpider, block_marker

GONE = (404, 410)
# Product pages in flight at once. One: a shop is crawled one page at a time anyway
# (CONCURRENT_REQUESTS_PER_DOMAIN = 1), and after a wall not a single page more is asked for.
PRODUCTS_IN_FLIGHT = 1


class ProductPageSpider(PlatformSpider, SitemapSpider):
    """Base of the product-page spiders; a subclass says how a page becomes offers."""

    # Every sitemap and every URL in it reaches our own filter (_parse_sitemap), which applies
    # the shop's sitemap_follow and url_patterns and adds the errback SitemapSpider leaves out.
    sitemap_rules = [("", "parse_product")]
    sitemap_follow = [""]

    def extract(self, response: Response) -> PageData:
        """The product data of a page (subclasses: JSON-LD, or HTML selectors)."""
        raise NotImplementedError

    # -- discovery ------------------------------------------------------------------------

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider._product_patterns = [re.compile(p) for p in spider.shop.url_patterns]
        spider._sitemap_patterns = [re.compile(p) for p in spider.shop.sitemap_follow]
        spider._product_urls = set()  # every product page queued this crawl
        spider._queue = deque()  # product pages not requested yet
        spider._in_flight = 0
        spider._stopped = False  # a wall was met: no more product pages
        return spider

    _product_patterns: list[re.Pattern[str]]
    _sitemap_patterns: list[re.Pattern[str]]
    _product_urls: set[str]
    _queue: deque[str]
    _in_flight: int
    _stopped: bool

    async def start(self) -> AsyncIterator[Any]:
        shop = self.shop
        for url in shop.product_urls:
            self.queue_product(self.absolute(url), listed=True)
        for request in self.next_products():
            yield request
        for url in shop.listing_urls:
            yield self.listing_request(self.absolute(url), 1)
        if shop.sitemap:
            yield scrapy.Request(
                self.absolute(shop.sitemap),
                callback=self._parse_sitemap,
                errback=self.request_failed,
            )

    def absolute(self, url: str) -> str:
        """A config URL: absolute, or a path on the shop's url."""
        return urljoin(self.shop.url + "/", url)

    def is_product_url(self, url: str) -> bool:
        if urlsplit(url).scheme not in ("http", "https"):
            return False
        return not self._product_patterns or any(p.search(url) for p in self._product_patterns)

    def queue_product(self, url: str, *, listed: bool = False) -> None:
        """Queue a product page, once per URL and at most ``max_products`` a crawl
        (``listed``: a URL from the config, taken whatever the patterns say)."""
        url = url.split("#", 1)[0]
        if url in self._product_urls or not (listed or self.is_product_url(url)):
            return
        if len(self._product_urls) >= self.shop.max_products:
            self.incomplete(
                f"more than {self.shop.max_products} product pages (max_products); "
                "narrow url_patterns or raise max_products"
            )
            return
        self._product_urls.add(url)
        self._queue.append(url)

    def next_products(self) -> Iterator[scrapy.Request]:
        """The next product page requests, keeping PRODUCTS_IN_FLIGHT in flight."""
        while self._queue and self._in_flight < PRODUCTS_IN_FLIGHT and not self._stopped:
            self._in_flight += 1
            yield scrapy.Request(
                self._queue.popleft(),
                callback=self.parse_product,
                errback=self.product_failed,
                # queue_product already keeps URLs unique; a request the dupe filter dropped
                # silently would stall the queue.
                dont_filter=True,
            )

    def listing_request(self, url: str, page: int) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_listing,
            errback=self.request_failed,
            cb_kwargs={"page": page},
        )

    def _parse_sitemap(self, response: Response) -> Iterable[scrapy.Request]:
        # SitemapSpider's own parser, behind the checks it does not make: it logs a wall or a
        # broken sitemap as "Ignoring invalid sitemap" and carries on with nothing.
        if not response.url.endswith("/robots.txt"):
            if _looks_like_html(response):
                self.blocked(response)
            if _sitemap_type(response) not in ("urlset", "sitemapindex"):
                self.page_failed(f"not a sitemap at {response.url}")
                return []
        self.page_ok()
        requests: list[scrapy.Request] = []
        for request in super()._parse_sitemap(response):
            if request.callback == self._parse_sitemap:
                patterns = self._sitemap_patterns
                if not patterns or any(p.search(request.url) for p in patterns):
                    requests.append(request.replace(errback=self.request_failed))
            else:
                self.queue_product(request.url)
        return requests + list(self.next_products())

    def parse_listing(self, response: Response, page: int = 1) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            self.page_failed(f"not a web page at {response.url}")
            return
        hosts = {urlsplit(response.url).hostname, urlsplit(self.shop.url).hostname}
        links = [response.urljoin(href) for href in response.css("a::attr(href)").getall()]
        products = [u for u in links if urlsplit(u).hostname in hosts and self.is_product_url(u)]
        if not products and block_marker(response):
            self.blocked(response)
        self.page_ok()
        for url in products:
            self.queue_product(url)
        yield from self.next_products()
        next_page = response.css('link[rel~="next"]::attr(href), a[rel~="next"]::attr(href)').get()
        if next_page:
            if page >= self.settings.getint("PRICEWATCH_MAX_PAGES", CRAWL_DEFAULTS.max_pages):
                self.incomplete(f"stopped after {page} listing pages (max_pages)")
            else:
                yield self.listing_request(response.urljoin(next_page), page + 1)

    # -- product pages --------------------------------------------------------------------

    def parse_product(self, response: Response) -> Iterator[Any]:
        self._in_flight -= 1
        # Who the page is about, before anything that can fail: its URL's style code, "" when
        # the URL names none (the id a page that cannot be read at all is reported under).
        page_product = page_style(response.url)
        try:
            data = self.extract(response) if isinstance(response, TextResponse) else PageData()
            data = with_buy_button(data, response.body)
            products = list(product_items(data, self.shop, response.url)) if data.found else []
        # The one place a page's exception stops (a product's own stops in the parser, see
        # scrapers.parsing.jsonld.product_offers): a page the parsers cannot read is that
        # product's drop, and the queue goes on; an exception out of here would end the
        # callback before next_products and leave the rest of the shop uncrawled.
        except Exception as exc:  # noqa: BLE001
            item = ProductItem(
                shop=self.shop.name, product_id=page_product, error=error_reason(exc)
            )
            self.page_ok()  # the page came; its product is what failed
            self.crawler.stats.inc_value("pricewatch/products_read")
            self.product_unreadable(item, exc)
            yield item
            yield from self.next_products()
            return
        if not data.found:
            self.blocked(response)  # a wall, or no product where a product was expected
        self.page_ok()
        self.crawler.stats.inc_value("pricewatch/products_read", data.products)
        if data.broken_blocks:
            self.crawler.stats.inc_value("pricewatch/broken_jsonld", data.broken_blocks)
        for offer in data.offers:
            if offer.problem:
                self.logger.info("%s: %s", response.url, offer.problem)
        raised = {f.product_id: f.exception for f in data.failures}
        for product in products:
            if product.error is not None:
                self.product_unreadable(product, raised.get(product.product_id))
        yield from products
        yield from self.next_products()

    def product_failed(self, failure: Failure) -> list[scrapy.Request]:
        """Errback of product pages: a page that is gone is news about the product (its
        variants go missing, and after ``missing_after`` crawls delisted), not a failure."""
        self._in_flight -= 1
        if failure.check(HttpError) and failure.value.response.status in GONE:
            self.crawler.stats.inc_value("pricewatch/products_gone")
            self.logger.info("product page gone: %s", failure.value.response.url)
        else:
            self.request_failed(failure)
        if self.crawler.stats.get_value("pricewatch/blocked"):
            self._stopped = True  # a challenge behind an error status (request_failed)
        return list(self.next_products())

    def blocked(self, response: Response) -> None:
        """Record the wall and stop: no further page of this shop is asked for."""
        self._stopped = True
        self.page_blocked(response)
        raise CloseSpider("blocked")

    def base_url(self, response: Response) -> str:
        return get_base_url(response) if isinstance(response, TextResponse) else response.url


def with_buy_button(data: PageData, page: bytes) -> PageData:
    """The page's data with its add-to-cart state applied (scrapers.parsing.buybutton): stock
    a buyer could act on, never an InStock the page's disabled button contradicts."""
    if not data.offers:
        return data
    return replace(data, offers=apply_buy_button(data.offers, buy_button_state(page)))


def page_style(url: str) -> str:
    """The 2002R style code a product page's URL names, or "" (never raises)."""
    match = identify_2002r(title="", handle=url_code_text(url))
    return match.style_code if match else ""


def product_items(data: PageData, shop: ShopConfig, page_url: str) -> Iterator[ProductItem]:
    """One `ProductItem` per 2002R colorway of a page: its sizes, or, for a colorway the
    parser could not read in full, its error and no sizes. A colorway is one product even
    when the page gives it as several (a ProductGroup's per-size variants): if any part of
    it is unreadable, its sizes are unknown for this crawl rather than partly missing."""
    failed: dict[str, str] = {}
    for failure in data.failures:
        failed.setdefault(failure.product_id, failure.reason)
    for product in by_product(listing_items(data.offers, shop, page_url)):
        if product.product_id not in failed:
            yield product
    for product_id, reason in failed.items():
        yield ProductItem(shop=shop.name, product_id=product_id, error=reason)


def listing_items(
    offers: Iterable[Offer], shop: ShopConfig, page_url: str
) -> Iterator[ListingItem]:
    """A ListingItem per size of every 2002R colorway among the offers.

    A colorway's product id is its style code at this shop; a size's variant id is its SKU
    when the SKUs tell the sizes apart, else "<style>:<size>"; one offer for every size is
    "<style>:all" with an empty size label (the pipeline stores it as "all sizes")."""
    by_style: dict[str, list[Offer]] = defaultdict(list)
    for offer in offers:
        if offer.style_code and offer.family:
            by_style[offer.style_code].append(offer)
    for style, group in by_style.items():
        sized = [o for o in group if o.size_label]
        chosen = sized or group[:1]  # per-size offers beat a colorway-wide one
        skus = [o.sku for o in chosen]
        unique_skus = all(skus) and len(set(skus)) == len(skus)
        for offer in chosen:
            if not offer.size_label:
                variant_id = f"{style}:all"
            elif unique_skus and offer.sku:
                variant_id = offer.sku
            else:
                variant_id = f"{style}:{offer.size_label}"
            yield ListingItem(
                shop=shop.name,
                product_id=style,
                variant_id=variant_id,
                title=offer.name,
                url=offer.url or page_url,
                size_label=offer.size_label,
                price=offer.price,
                # A page that states no currency is priced in the shop's currency.
                currency=offer.currency or shop.currency,
                available=offer.available,
                style_code=style,
                family=offer.family,
                compare_at=offer.compare_at,
                colorway_name=colorway_name(offer.name, style),
                image=offer.image,
                width=offer.width,
                sku=offer.sku,
                gtin=offer.gtin,
            )


def _looks_like_html(response: Response) -> bool:
    content_type = (response.headers.get(b"Content-Type") or b"").lower()
    head = response.body[:512].lstrip().lower()
    return b"html" in content_type or head.startswith((b"<!doctype html", b"<html"))


def _sitemap_type(response: Response) -> str | None:
    body = response.body
    if gzip_magic_number(response):
        try:
            body = gunzip(body)
        except OSError:
            return None
    if not isinstance(response, XmlResponse) and not body.lstrip().startswith(b"<"):
        return None
    try:
        return Sitemap(body).type
    except (ValueError, SyntaxError, StopIteration):  # XMLSyntaxError is a SyntaxError;
        return None  # StopIteration: a body with no element at all
