"""Shops read through a real Chromium (``fetch = "browser"``): scrapy-playwright, requests marked.

scrapy-playwright's download handler serves only the requests marked ``meta["playwright"]``;
every other request of the same process goes through Scrapy's own HTTP client as before. This
middleware marks the requests of spiders whose shop says ``fetch = "browser"``, or, when the
extra is not installed (``pip install '.[browser]'``), turns them away with a reason the crawl
record shows, instead of silently fetching them without a browser. The handler itself is
switched on by `pricewatch.crawl.crawl_settings`, for configs that have such a shop.
"""

from __future__ import annotations

from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

from pricewatch.crawl import browser_installed

BROWSER_MISSING = "fetch = browser needs scrapy-playwright: pip install '.[browser]'"


class BrowserFetchMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.available = browser_installed()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        shop = getattr(self.crawler.spider, "shop", None)
        if shop is None or getattr(shop, "fetch", "http") != "browser":
            return
        if request.url.endswith(("/robots.txt", ".xml", ".xml.gz")):
            return  # machine files: a browser would wrap them in an HTML viewer
        if not self.available:
            raise IgnoreRequest(BROWSER_MISSING)
        request.meta.setdefault("playwright", True)
