"""What every platform spider shares: which shop it crawls, and how it reports trouble.

Spiders do not decide whether a crawl succeeded; they record what they saw in the crawl stats
(pages read, pages that failed and why, block pages) and `scrapers.pipelines.StorePipeline`
turns that into the crawl's status.
"""

from __future__ import annotations

import html
import re
from typing import Any, Self

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadTimeoutError, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import TimeoutError as TxTimeoutError
from twisted.python.failure import Failure

from pricewatch.config import Config, ShopConfig, load_config
from scrapers.items import ProductItem

# Pages that answer 200 but are a wall, not data (Shopify throttle, Cloudflare, PerimeterX,
# DataDome, Akamai/newbalance.com "Oops!", Shopify password page).
BLOCK_MARKERS = (
    ("sending large amounts of web requests", "Shopify throttle page"),
    ("just a moment", "Cloudflare challenge"),
    ("cf-chl", "Cloudflare challenge"),
    ("attention required", "Cloudflare block"),
    ("px-captcha", "PerimeterX captcha"),
    ("captcha-delivery.com", "DataDome captcha"),
    ("datadome", "DataDome captcha"),
    ("oops! something went wrong", "Akamai block page"),
    ("access denied", "access denied page"),
    ("g-recaptcha", "captcha page"),
    ("h-captcha", "captcha page"),
    ("captcha", "captcha page"),
    ("password", "password page"),
)
# Walls that an error status can carry too (a 403 challenge is a block, a bare 403 is not).
CHALLENGES = {
    "Cloudflare challenge",
    "PerimeterX captcha",
    "DataDome captcha",
    "captcha page",
    "Akamai block page",
}
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.I | re.S)


def block_marker(response: Response) -> str | None:
    """The anti-bot wall a response shows, if it shows a known one."""
    if (response.headers.get(b"cf-mitigated") or b"").lower() == b"challenge":
        return "Cloudflare challenge"
    head = response.body[:20000].lower()
    for marker, reason in BLOCK_MARKERS:
        if marker.encode() in head or (marker == "password" and "/password" in response.url):
            return reason
    return None


def block_reason(response: Response) -> str:
    """Why a page that should have been data is a wall; names the anti-bot vendor if seen."""
    marker = block_marker(response)
    if marker:
        return f"{marker} ({response.url})"
    match = _TITLE.search(response.body[:20000])
    title = match.group(1).decode("utf-8", "replace") if match else "no title"
    title = html.unescape(" ".join(title.split()))[:80]  # '"Rain Cloud"', not '&quot;...
    return f"HTML page instead of product data: {title!r} ({response.url})"


class PlatformSpider(scrapy.Spider):
    """Base for the per-platform spiders. Run with ``-a shop=NAME`` (a shop in the config)."""

    platform: str = ""
    shop: ShopConfig

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        config = crawler.settings.get("PRICEWATCH_CONFIG")
        config_json = crawler.settings.get("PRICEWATCH_CONFIG_JSON")
        if not isinstance(config, Config) and config_json:
            # a Scrapyd job: settings arrive as command-line strings (pricewatch.backends)
            config = Config.from_json(config_json)
        elif not isinstance(config, Config):
            config = load_config()  # `scrapy crawl` outside pricewatch: read the usual places
        name = kwargs.get("shop")
        if not name:
            raise ValueError(f"run the {cls.name} spider with -a shop=NAME")
        spider.shop = config.shop(name)
        if spider.shop.platform != cls.platform:
            raise ValueError(f"shop {name!r} is a {spider.shop.platform} shop, not {cls.platform}")
        return spider

    # -- reporting (read by StorePipeline) ------------------------------------------------

    def page_ok(self) -> None:
        self.crawler.stats.inc_value("pricewatch/pages_ok")

    def page_failed(self, reason: str) -> None:
        self.crawler.stats.inc_value("pricewatch/page_errors")
        self.crawler.stats.set_value("pricewatch/error", reason)
        self.logger.warning("page failed: %s", reason)

    def page_blocked(self, response: Response) -> None:
        reason = block_reason(response)
        self.crawler.stats.set_value("pricewatch/blocked", reason)
        self.logger.warning("blocked: %s", reason)

    def product_unreadable(self, item: ProductItem, exc: Exception | None = None) -> None:
        """One product could not be parsed (`ProductItem.error`): counted, so the crawl's
        record says how many, and logged on one line; the traceback is for DEBUG only, since a
        shop with a malformed product would otherwise fill the log every crawl."""
        self.crawler.stats.inc_value("pricewatch/products_failed")
        product = item.product_id or "(no id)"
        self.logger.warning("product unreadable: %s %s: %s", item.shop, product, item.error)
        if exc is not None:
            self.logger.debug("product %s of %s unreadable", product, item.shop, exc_info=exc)

    def incomplete(self, reason: str) -> None:
        """The crawl stopped early on purpose (a page limit): what was seen is not everything."""
        self.crawler.stats.set_value("pricewatch/incomplete", reason)
        self.logger.warning("incomplete: %s", reason)

    def request_failed(self, failure: Failure) -> None:
        """Errback: a request that never produced a usable response, after retries."""
        request = failure.request  # type: ignore[attr-defined]
        if failure.check(HttpError):
            response = failure.value.response
            status = response.status
            if status in (403, 429, 503) and block_marker(response) in CHALLENGES:
                self.page_blocked(response)  # an anti-bot challenge, not a closed feed
                return
            hint = {
                401: "password page up?",
                403: "products.json closed or blocked",
                404: "not a Shopify shop, or wrong URL/collection",
                429: "rate limited",
                430: "Shopify security rejection",
            }.get(status, "server error" if status >= 500 else "")
            reason = f"HTTP {status}{f' ({hint})' if hint else ''} at {response.url}"
        elif failure.check(TxTimeoutError, DownloadTimeoutError):
            reason = f"timed out at {request.url}"
        elif failure.check(IgnoreRequest):
            why = failure.getErrorMessage() or "disallowed by robots.txt"
            reason = f"not fetched ({why}) {request.url}"
        else:
            reason = f"{failure.type.__name__}: {failure.getErrorMessage()} at {request.url}"
        self.page_failed(reason)
