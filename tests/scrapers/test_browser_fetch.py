"""fetch = "browser": a shop read through a real Chromium (scrapy-playwright), offline, against a
replica page whose product data only exists once its JavaScript has run."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest

from pricewatch.config import Config, ShopConfig
from pricewatch.crawl import run_crawl
from pricewatch.replica import JsonLdShop
from pricewatch.store import Store
from scrapers.browser import BROWSER_MISSING, BrowserFetchMiddleware
from tests.support import FAST_CRAWL, jsonld_shop_config

CHROMIUM = Path(FAST_CRAWL.browser_path)
needs_browser = pytest.mark.skipif(
    importlib.util.find_spec("scrapy_playwright") is None or not CHROMIUM.exists(),
    reason="needs scrapy-playwright ('.[browser]') and Chromium at "
    f"{CHROMIUM} (Debian: apt-get install chromium); CI installs neither",
)


def config_for(tmp_path: Path, shop: JsonLdShop, fetch: str) -> Config:
    page = shop.page_url("M2002RDA").removeprefix(shop.url)
    settings = jsonld_shop_config(
        "NB", shop, sitemap=None, sitemap_follow=(), product_urls=(page,), fetch=fetch
    )
    return Config(shops=(settings,), db_path=tmp_path / "b.db", crawl=FAST_CRAWL)


def stored_sizes(db: Path) -> set[float]:
    with Store(db) as store:
        rows = store.db.execute("SELECT size_us FROM variants WHERE style_code = 'M2002RDA'")
        return {row[0] for row in rows}


@needs_browser
def test_a_page_built_by_javascript_is_read_through_the_browser(tmp_path: Path) -> None:
    with JsonLdShop() as shop:
        shop.scripted = True
        plain = config_for(tmp_path / "plain", shop, "http")
        [without] = run_crawl(plain, plain.shops)
        browser = config_for(tmp_path / "browser", shop, "browser")
        [report] = run_crawl(browser, browser.shops)
    # a plain client sees a page with no product: a wall, not a sell-out
    assert without.status == "blocked" and stored_sizes(plain.db_path) == set()
    assert report.status == "ok", report.error
    assert 10.0 in stored_sizes(browser.db_path) and report.variants >= 10


def test_without_the_extra_a_browser_shop_is_turned_away_with_the_reason() -> None:
    class Spider:
        shop = dataclasses.replace(jsonld_shop_config("NB", JsonLdShop()), fetch="browser")

    class Crawler:
        spider = Spider()

    middleware = BrowserFetchMiddleware(Crawler())  # type: ignore[arg-type]
    middleware.available = False
    import asyncio

    with pytest.raises(IgnoreRequest, match="pip install"):
        asyncio.run(middleware.process_request(Request("https://nb.example/pd/x.html")))
    middleware.available = True
    request = Request("https://nb.example/pd/x.html")
    asyncio.run(middleware.process_request(request))
    assert request.meta["playwright"] is True
    robots = Request("https://nb.example/robots.txt")
    asyncio.run(middleware.process_request(robots))
    assert "playwright" not in robots.meta
    assert BROWSER_MISSING.startswith("fetch = browser")


@needs_browser
def test_a_commerce_cloud_store_through_the_browser(tmp_path: Path) -> None:
    """Product-Variation's JSON as Chromium shows it (its JSON viewer page) is still read."""
    with JsonLdShop() as shop:
        nb = ShopConfig(name="NB", platform="sfcc", url=shop.url, currency="USD", fetch="browser")
        config = Config(shops=(nb,), db_path=tmp_path / "sfcc.db", crawl=FAST_CRAWL)
        [report] = run_crawl(config, config.shops)
    assert report.status == "ok", report.error
    assert 10.0 in stored_sizes(config.db_path) and report.variants > 50
