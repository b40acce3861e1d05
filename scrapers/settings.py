"""Scrapy settings for pricewatch: the one place they live.

`pricewatch.crawl.scrapy_settings` overlays the `[crawl]` section of the config on these.
"""

from scrapy.settings import default_settings as _scrapy

from pricewatch.config import CRAWL_DEFAULTS as _defaults  # lower case: not a setting
from pricewatch.config import DEFAULT_DB, DEFAULT_USER_AGENT

# Every default the config has is defined there, once; these read it (the [crawl] section of a
# config overrides them for a crawl).

BOT_NAME = "pricewatch"
SPIDER_MODULES = ["scrapers.spiders"]
NEWSPIDER_MODULE = "scrapers.spiders"
SPIDER_LOADER_CLASS = "scrapers.loader.PlatformSpiderLoader"  # imports one platform's spider

# Polite by default: robots.txt, one request at a time per shop, AutoThrottle on top of a delay.
ROBOTSTXT_OBEY = _defaults.obey_robots
USER_AGENT = DEFAULT_USER_AGENT
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = _defaults.download_delay
DOWNLOAD_DELAY_JITTER = 0.5  # +-50%: requests do not tick like a metronome
AUTOTHROTTLE_ENABLED = _defaults.autothrottle
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = _defaults.timeout
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's remote control runs code sent to a local HTTP port: never on in a crawler.
REMOTE_CONTROL_ENABLED = False
# Off above, and not even imported: Scrapy imports every component it lists before asking
# whether it is on, and these imports (aiohttp's web server for the remote control, tldextract
# and requests for cookies) were a sixth of a crawl process's start-up. Setting
# COOKIES_ENABLED alone no longer turns cookies on: put the middleware back in the list too.
_not_loaded = {  # lower case: not a setting
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.memdebug.MemoryDebugger",
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware",
}
EXTENSIONS_BASE = {k: v for k, v in _scrapy.EXTENSIONS_BASE.items() if k not in _not_loaded}
DOWNLOADER_MIDDLEWARES_BASE = {
    k: v for k, v in _scrapy.DOWNLOADER_MIDDLEWARES_BASE.items() if k not in _not_loaded
}

# Retries with exponential back-off that honour Retry-After (429, 503) replace Scrapy's own.
RETRY_ENABLED = True
RETRY_TIMES = _defaults.retries
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429, 430]
PRICEWATCH_RETRY_BACKOFF = _defaults.backoff
PRICEWATCH_MAX_RETRY_AFTER = _defaults.max_retry_after
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "scrapers.middlewares.BackoffRetryMiddleware": 550,
    "scrapers.browser.BrowserFetchMiddleware": 560,
}

ITEM_PIPELINES = {
    "scrapers.pipelines.StorePipeline": 800,
}
PRICEWATCH_MAX_PAGES = _defaults.max_pages
PRICEWATCH_DB = str(DEFAULT_DB)

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
