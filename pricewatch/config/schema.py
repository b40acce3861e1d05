"""The config's shape: frozen dataclasses with every default defined once, and the errors.

Read by `pricewatch.config.loading`, evaluated by `pricewatch.config.cron`; everything else
receives a `Config`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PLATFORMS = ("shopify", "jsonld", "html", "sfcc")
# Platforms that read product pages one by one and so need to be told where the pages are.
PAGE_PLATFORMS = ("jsonld", "html")
# How a shop's pages are fetched: a plain HTTP client, or a real Chromium (scrapy-playwright,
# the `.[browser]` extra) for shops that refuse plain clients or build their data in JavaScript.
FETCH_MODES = ("http", "browser")
DEFAULT_DB = Path("data") / "pricewatch.db"
DEFAULT_CONFIG_NAME = "pricewatch.toml"
# A browser-like UA gets the same JSON as everyone else; the contact URL says who we are.
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36 pricewatch-2002r/0.1 (+https://github.com/pricewatch-2002r)"
)


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and why."""


@dataclass(frozen=True)
class HtmlSelectors:
    """CSS selectors for a product page without usable JSON-LD (``platform = "html"``).

    Microdata and OpenGraph ``product:price:amount`` are read first; these are the fallback and
    the only source of per-size stock. A selector's element gives its ``content`` or ``value``
    attribute when it has one, else its text."""

    price: str
    title: str | None = None
    currency: str | None = None
    # One element per size (a button, an <option>, a <li>); its text is the size label.
    sizes: str | None = None
    # A size element that matches this selector, or contains a match, is sold out:
    # ".sold-out", "[disabled]", "[aria-disabled=true]", "[class*=unavailable]".
    sold_out: str | None = None
    style_code: str | None = None


@dataclass(frozen=True)
class ShopConfig:
    name: str
    platform: str
    url: str
    currency: str
    collection: str | None = None
    enabled: bool = True
    # What a bare size number means at this shop ("9" is UK 9 at a UK shop).
    size_system: str = "us"
    # Product-page platforms (jsonld, html): where the product pages are. URLs may be paths on
    # the shop's url ("/sitemap_index.xml"). Patterns are regular expressions (re.search).
    sitemap: str | None = None  # a sitemap, a sitemap index, or a robots.txt naming sitemaps
    sitemap_follow: tuple[str, ...] = ()  # which sitemaps of an index to read (default: all)
    url_patterns: tuple[str, ...] = ()  # which URLs are product pages (default: every URL)
    listing_urls: tuple[str, ...] = ()  # pages linking to products (rel=next pages followed)
    product_urls: tuple[str, ...] = ()  # product pages crawled every time
    # A whole catalog's sitemap must not turn into 10,000 requests; more pages -> partial.
    max_products: int = 300
    selectors: HtmlSelectors | None = None  # platform "html" only
    # Where an offer's size is only in its SKU (Zalando's "MU312M00L-C110400000", Zara's
    # "84518927-040-42"): a regular expression whose group "size" is the size label. Never
    # guessed without one: a wrong guess would alert on the wrong shoe.
    size_from_sku: str | None = None
    fetch: str = "http"
    # Salesforce Commerce Cloud stores (platform "sfcc"): the site and locale of the store's
    # controllers, and the category whose grid lists the colorways (docs/retailers.md 2.1-2.2).
    sfcc_site: str = "Sites-NBUS-Site/en_US"
    sfcc_category: str = "2002r"
    # A cron expression for this shop instead of [schedule] default (a drop day, say).
    schedule: str | None = None


@dataclass(frozen=True)
class CrawlConfig:
    user_agent: str = DEFAULT_USER_AGENT
    obey_robots: bool = True
    autothrottle: bool = True
    # Shopify throttles clients that poll every few seconds; 1.5 s between pages is polite.
    download_delay: float = 1.5
    timeout: float = 30.0
    retries: int = 3
    # First retry waits this many seconds, then twice as long each time (plus jitter).
    backoff: float = 2.0
    # A Retry-After longer than this fails the page instead of stalling the crawl.
    max_retry_after: float = 120.0
    max_pages: int = 40
    # Seconds a whole crawl may take before its child process is stopped.
    time_limit: float = 900.0
    # Successful crawls a variant may be missing from before it is treated as gone.
    missing_after: int = 3
    # Where crawls run: "local" (a child process here) or "scrapyd" (jobs on Scrapyd servers,
    # pricewatch.backends). Scrapyd URLs are base URLs like http://10.0.0.5:6800.
    backend: str = "local"
    scrapyd_urls: tuple[str, ...] = ()
    scrapyd_project: str = "pricewatch"
    # `pricewatch run` and `schedule` crawl in one long-lived worker process (start-up paid
    # once); isolate = true starts a child process per crawl instead.
    isolate: bool = False
    # The Chromium that shops with fetch = "browser" are read through (Debian's package).
    browser_path: str = "/usr/bin/chromium"
    # The worker is replaced, once idle, after this many crawls or past this many MiB.
    worker_recycle_crawls: int = 200
    worker_max_memory: float = 300.0


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

# The [crawl] defaults, for Scrapy components run without a config (`scrapy crawl`, tests).
CRAWL_DEFAULTS = CrawlConfig()


@dataclass(frozen=True)
class ScheduleConfig:
    # Cron expressions (minute hour day month weekday), in `timezone`.
    default: str = "*/30 * * * *"
    timezone: str = "UTC"
    # Seconds of random delay per run, so shops are not all hit in the same second.
    jitter: float = 60.0
    # No shop is polled more often than this, whatever its cron says: Shopify blocks clients
    # that poll every few seconds (docs/retailers.md 3.4).
    min_interval: float = 300.0
    # On start, crawl at once every shop not crawled within min_interval, rather than wait
    # for its next cron time.
    run_at_start: bool = True


@dataclass(frozen=True)
class AlertsConfig:
    # A sold-out alert waits this long; a restock meanwhile cancels the sold-out alert only.
    flap_window: float = 1800.0
    # A price this many times above or below the last confirmed one waits for a second crawl.
    outlier_factor: float = 3.0
    # At most one restock alert per variant per chat in this many seconds (flapping stock).
    restock_cooldown: float = 600.0
    max_subscriptions_per_chat: int = 25


@dataclass(frozen=True)
class LogConfig:
    # Where the service commands (run, schedule, bot) log: stderr, and this file if set
    # (relative to the config file). --log-file and -v/-q on the command line win.
    file: str | None = None
    level: str = "INFO"  # DEBUG, INFO, WARNING or ERROR


@dataclass(frozen=True)
class TelegramConfig:
    # The Bot API server: Telegram's, a self-hosted one, or the tests' local one.
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    admin_chat_ids: tuple[int, ...] = ()
    # From env TELEGRAM_BOT_TOKEN or the file named by token_file; never from the repo.
    token: str | None = field(default=None, repr=False)
    token_file: str | None = None


@dataclass(frozen=True)
class Config:
    shops: tuple[ShopConfig, ...]
    db_path: Path = DEFAULT_DB
    crawl: CrawlConfig = field(default_factory=CrawlConfig)
    source: str = "<defaults>"
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    log: LogConfig = field(default_factory=LogConfig)

    def shop(self, name: str) -> ShopConfig:
        for shop in self.shops:
            if shop.name.casefold() == name.casefold():
                return shop
        known = ", ".join(s.name for s in self.shops) or "none"
        raise ConfigError(f"no shop named {name!r} in {self.source} (known: {known})")

    def select_shops(self, names: tuple[str, ...] | list[str] = ()) -> tuple[ShopConfig, ...]:
        """The named shops (enabled or not), or every enabled shop when no name is given."""
        if names:
            return tuple(self.shop(n) for n in names)
        return tuple(s for s in self.shops if s.enabled)

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> str:
        """Serialised for a crawl child process, which reads it back with `from_json`."""
        data = dataclasses.asdict(self)
        data["db_path"] = str(self.db_path)
        data["telegram"]["token"] = None  # a crawl needs no token: keep it out of the child
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> Config:
        data = json.loads(text)
        return cls(
            shops=tuple(_shop_from_json(s) for s in data["shops"]),
            db_path=Path(data["db_path"]),
            crawl=CrawlConfig(
                **{**data["crawl"], "scrapyd_urls": tuple(data["crawl"].get("scrapyd_urls", ()))}
            ),
            source=data["source"],
            alerts=AlertsConfig(**data["alerts"]),
            log=LogConfig(**data.get("log", {})),
            schedule=ScheduleConfig(**data["schedule"]),
            telegram=TelegramConfig(
                **{**data["telegram"], "admin_chat_ids": tuple(data["telegram"]["admin_chat_ids"])}
            ),
        )


def _shop_from_json(data: dict[str, Any]) -> ShopConfig:
    """A `ShopConfig` from `dataclasses.asdict` output: JSON turned its tuples into lists."""
    values = dict(data)
    for key in _TUPLE_KEYS:
        if key in values:
            values[key] = tuple(values[key])
    if isinstance(values.get("selectors"), dict):
        values["selectors"] = HtmlSelectors(**values["selectors"])
    return ShopConfig(**values)


# ShopConfig fields that are tuples (TOML and JSON give lists).
_TUPLE_KEYS = ("sitemap_follow", "url_patterns", "listing_urls", "product_urls")
