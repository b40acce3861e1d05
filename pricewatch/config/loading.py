"""Reading the config: from the file, the environment and the command line, validated.

Where settings come from, first match wins:
- the config file: ``--config PATH``, else env ``PRICEWATCH_CONFIG``, else ``./pricewatch.toml``,
  else the default config shipped in the package (real Shopify shops);
- the database: ``--db PATH``, else env ``PRICEWATCH_DB``, else ``db`` in the config file
  (relative to that file), else ``data/pricewatch.db`` in the working directory.

This module is the only place that reads the environment; everything else gets a `Config`.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pricewatch.config.cron import cron_problem, known_time_zone
from pricewatch.config.schema import (
    _TUPLE_KEYS,
    DEFAULT_CONFIG_NAME,
    DEFAULT_DB,
    FETCH_MODES,
    LOG_LEVELS,
    PAGE_PLATFORMS,
    PLATFORMS,
    AlertsConfig,
    Config,
    ConfigError,
    CrawlConfig,
    HtmlSelectors,
    LogConfig,
    ScheduleConfig,
    ShopConfig,
    TelegramConfig,
)
from pricewatch.prices import is_valid_currency
from pricewatch.sizes import SIZE_SYSTEMS


def packaged_config(name: str) -> str:
    """Text of a config shipped in the package: "default" (real shops) or "demo"."""
    return (resources.files("pricewatch") / "configs" / f"{name}.toml").read_text("utf-8")


def find_config_file(explicit: str | Path | None, env: Mapping[str, str]) -> Path | None:
    if explicit:
        return Path(explicit)
    if env.get("PRICEWATCH_CONFIG"):
        return Path(env["PRICEWATCH_CONFIG"])
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    return local if local.exists() else None


def load_config(
    path: str | Path | None = None,
    *,
    db: str | Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Read the config once, from the first source that applies (see the module docstring)."""
    env = os.environ if env is None else env
    config_file = find_config_file(path, env)
    if config_file is None:
        config = parse_config(packaged_config("default"), source="<packaged default config>")
    else:
        try:
            text = config_file.read_text("utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {config_file}: {exc.strerror}") from exc
        config = parse_config(text, source=str(config_file), base_dir=config_file.parent)
    if db:
        config = config.replace(db_path=Path(db))
    elif env.get("PRICEWATCH_DB"):
        config = config.replace(db_path=Path(env["PRICEWATCH_DB"]))
    return config.replace(telegram=_telegram_from_env(config.telegram, env))


def _telegram_from_env(telegram: TelegramConfig, env: Mapping[str, str]) -> TelegramConfig:
    """The token from env TELEGRAM_BOT_TOKEN, else from token_file; the base URL from env
    TELEGRAM_BASE_URL over the config file."""
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip() or None
    if token is None and telegram.token_file:
        try:
            token = Path(telegram.token_file).expanduser().read_text("utf-8").strip() or None
        except OSError as exc:
            raise ConfigError(
                f"cannot read the bot token file {telegram.token_file}: {exc.strerror}"
            ) from exc
    base_url = env.get("TELEGRAM_BASE_URL", "").strip() or telegram.base_url
    base_file_url = telegram.base_file_url
    if env.get("TELEGRAM_BASE_URL") and base_file_url == TelegramConfig.base_file_url:
        base_file_url = base_url.replace("/bot", "/file/bot", 1)
    return dataclasses.replace(
        telegram, token=token, base_url=base_url, base_file_url=base_file_url
    )


def resolve_db_path(
    db: str | Path | None,
    env: Mapping[str, str] | None = None,
    config_path: str | Path | None = None,
) -> Path:
    """The database every command uses, resolved one way: ``--db``, env ``PRICEWATCH_DB``, the
    config's ``db`` (from ``--config``, env ``PRICEWATCH_CONFIG`` or ./pricewatch.toml), then
    the default. A missing or broken config is a `ConfigError` here too: a command that only
    reads must not quietly read another database than the one the config names."""
    env = os.environ if env is None else env
    if db:
        return Path(db)
    if env.get("PRICEWATCH_DB"):
        return Path(env["PRICEWATCH_DB"])
    return load_config(config_path, env=env).db_path


def parse_config(text: str, *, source: str = "<string>", base_dir: Path | None = None) -> Config:
    """Parse and validate TOML config text; errors name the file and line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    locate = _Locator(text, source)

    unknown = set(data) - {"db", "crawl", "alerts", "shops", "telegram", "schedule", "log"}
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(f"{locate.key(key)}: unknown setting {key!r}")

    crawl = _parse_crawl(data.get("crawl", {}), locate)
    alerts = _parse_section(data.get("alerts", {}), AlertsConfig(), "alerts", locate)
    log = _parse_section(data.get("log", {}), LogConfig(), "log", locate)
    if log.level.upper() not in LOG_LEVELS:
        raise ConfigError(
            f"{locate.key('level')}: [log] level must be one of {', '.join(LOG_LEVELS)}, "
            f"got {log.level!r}"
        )
    if log.file and base_dir is not None and not Path(log.file).is_absolute():
        log = dataclasses.replace(log, file=str(base_dir / log.file))
    schedule = _parse_schedule(data.get("schedule", {}), locate)
    telegram = _parse_telegram(data.get("telegram", {}), locate)
    raw_shops = data.get("shops", [])
    if not isinstance(raw_shops, list):
        raise ConfigError(f"{locate.key('shops')}: shops must be an array of tables: [[shops]]")
    shops: list[ShopConfig] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_shops):
        shop = _parse_shop(raw, index, locate)
        folded = shop.name.casefold()
        if folded in seen:
            raise ConfigError(
                f"{locate.in_shop(index, 'name')}: duplicate shop name {shop.name!r} "
                f"(first defined at line {locate.shop_line(seen[folded])})"
            )
        seen[folded] = index
        if shop.schedule:
            problem = cron_problem(shop.schedule, schedule.timezone, schedule.min_interval)
            if problem:
                raise ConfigError(
                    f"{locate.in_shop(index, 'schedule')}: shop {shop.name!r} has a bad "
                    f"schedule {shop.schedule!r}: {problem}"
                )
        shops.append(shop)

    db_path = DEFAULT_DB
    if "db" in data:
        if not isinstance(data["db"], str) or not data["db"]:
            raise ConfigError(f"{locate.key('db')}: db must be a file path")
        db_path = Path(data["db"])
        if base_dir is not None and not db_path.is_absolute():
            db_path = base_dir / db_path
    return Config(
        shops=tuple(shops),
        db_path=db_path,
        crawl=crawl,
        source=source,
        alerts=alerts,
        log=log,
        schedule=schedule,
        telegram=telegram,
    )


_SHOP_KEYS = {f.name for f in dataclasses.fields(ShopConfig)}


def _parse_shop(raw: Any, index: int, locate: _Locator) -> ShopConfig:
    where = locate.shop(index)
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: each [[shops]] entry must be a table")
    unknown = set(raw) - _SHOP_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(f"{locate.in_shop(index, key)}: unknown shop setting {key!r}")
    for key in ("name", "platform", "url", "currency"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ConfigError(f"{where}: shop setting {key!r} is required (a non-empty string)")
    name = raw["name"].strip()
    if raw["platform"] not in PLATFORMS:
        raise ConfigError(
            f"{locate.in_shop(index, 'platform')}: shop {name!r} has unknown platform "
            f"{raw['platform']!r} (known: {', '.join(PLATFORMS)})"
        )
    url = raw["url"].strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ConfigError(
            f"{locate.in_shop(index, 'url')}: shop {name!r} has a bad url {raw['url']!r} "
            "(expected a base URL like https://kith.com)"
        )
    currency = raw["currency"].strip().upper()
    if not is_valid_currency(currency):
        raise ConfigError(
            f"{locate.in_shop(index, 'currency')}: shop {name!r} has a bad currency "
            f"{raw['currency']!r} (expected an ISO code like USD)"
        )
    collection = raw.get("collection")
    if collection is not None and (
        not isinstance(collection, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", collection)
    ):
        raise ConfigError(
            f"{locate.in_shop(index, 'collection')}: shop {name!r} has a bad collection "
            f"{collection!r} (expected a collection handle like 'new-balance')"
        )
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{locate.in_shop(index, 'enabled')}: enabled must be true or false")
    size_system = raw.get("size_system", "us")
    if size_system not in SIZE_SYSTEMS:
        raise ConfigError(
            f"{locate.in_shop(index, 'size_system')}: shop {name!r} has unknown size_system "
            f"{size_system!r} (known: {', '.join(SIZE_SYSTEMS)})"
        )
    pages = _parse_page_settings(raw, index, name, locate)
    sfcc = _parse_sfcc_settings(raw, index, name, locate)
    fetch = raw.get("fetch", "http")
    if fetch not in FETCH_MODES:
        raise ConfigError(
            f"{locate.in_shop(index, 'fetch')}: shop {name!r} has unknown fetch {fetch!r} "
            f"(known: {', '.join(FETCH_MODES)})"
        )
    schedule = raw.get("schedule")
    if schedule is not None:
        if not isinstance(schedule, str):
            raise ConfigError(f"{locate.in_shop(index, 'schedule')}: schedule must be a string")
        problem = cron_problem(schedule)
        if problem:
            raise ConfigError(
                f"{locate.in_shop(index, 'schedule')}: shop {name!r} has a bad schedule "
                f"{schedule!r}: {problem}"
            )
    return ShopConfig(
        schedule=schedule,
        name=name,
        platform=raw["platform"],
        url=url,
        currency=currency,
        collection=collection,
        enabled=enabled,
        size_system=size_system,
        fetch=fetch,
        **pages,
        **sfcc,
    )


_SFCC_SITE = re.compile(r"Sites-[A-Za-z0-9_]+-Site/[a-z]{2}(?:_[A-Z]{2})?")
_SFCC_CATEGORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def _parse_sfcc_settings(
    raw: dict[str, Any], index: int, name: str, locate: _Locator
) -> dict[str, Any]:
    """sfcc_site and sfcc_category: Commerce Cloud shops only, checked."""
    values: dict[str, Any] = {}
    for key, pattern, example in (
        ("sfcc_site", _SFCC_SITE, "Sites-NBUS-Site/en_US"),
        ("sfcc_category", _SFCC_CATEGORY, "2002r"),
    ):
        if key not in raw:
            continue
        if raw["platform"] != "sfcc":
            raise ConfigError(
                f"{locate.in_shop(index, key)}: {key} is for Commerce Cloud shops "
                '(platform = "sfcc")'
            )
        value = raw[key]
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise ConfigError(
                f"{locate.in_shop(index, key)}: shop {name!r} has a bad {key} {value!r} "
                f"(expected something like {example!r})"
            )
        values[key] = value
    return values


_PAGE_KEYS = (
    "sitemap",
    "sitemap_follow",
    "url_patterns",
    "listing_urls",
    "product_urls",
    "max_products",
    "selectors",
    "size_from_sku",
)
_SELECTOR_KEYS = {f.name for f in dataclasses.fields(HtmlSelectors)}


def _parse_page_settings(
    raw: dict[str, Any], index: int, name: str, locate: _Locator
) -> dict[str, Any]:
    """The settings of a product-page shop (jsonld, html), checked; {} for a Shopify shop."""
    platform = raw["platform"]
    if platform not in PAGE_PLATFORMS:
        for key in _PAGE_KEYS:
            if key in raw:
                raise ConfigError(
                    f"{locate.in_shop(index, key)}: {key} is for product-page shops "
                    f"(platform {' or '.join(PAGE_PLATFORMS)}); {platform} shops do not use it"
                )
        return {}
    if "collection" in raw:
        raise ConfigError(
            f"{locate.in_shop(index, 'collection')}: collection is a Shopify setting; a "
            f"{platform} shop lists its pages with sitemap, listing_urls or product_urls"
        )
    values: dict[str, Any] = {}
    sitemap = raw.get("sitemap")
    if sitemap is not None:
        values["sitemap"] = _page_url(sitemap, "sitemap", index, name, locate)
    for key in _TUPLE_KEYS:
        items = raw.get(key, [])
        if isinstance(items, str):
            items = [items]  # one URL or pattern may be written without the brackets
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            raise ConfigError(
                f"{locate.in_shop(index, key)}: shop {name!r}: {key} must be a list of strings"
            )
        if key in ("sitemap_follow", "url_patterns"):
            for pattern in items:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ConfigError(
                        f"{locate.in_shop(index, key)}: shop {name!r} has a bad {key} "
                        f"regular expression {pattern!r}: {exc}"
                    ) from exc
        else:
            items = [_page_url(item, key, index, name, locate) for item in items]
        values[key] = tuple(items)
    if not (sitemap or values["listing_urls"] or values["product_urls"]):
        raise ConfigError(
            f"{locate.shop(index)}: shop {name!r} ({platform}) needs sitemap, listing_urls or "
            "product_urls: where its product pages are"
        )
    if values["listing_urls"] and not values["url_patterns"]:
        # A listing page links to everything (menus, footers); only patterns say which links
        # are product pages.
        raise ConfigError(
            f"{locate.in_shop(index, 'listing_urls')}: shop {name!r}: listing_urls need "
            "url_patterns (regular expressions of product page URLs)"
        )
    max_products = raw.get("max_products", ShopConfig.max_products)
    if isinstance(max_products, bool) or not isinstance(max_products, int) or max_products < 1:
        raise ConfigError(
            f"{locate.in_shop(index, 'max_products')}: max_products must be a positive integer"
        )
    values["max_products"] = max_products
    size_from_sku = raw.get("size_from_sku")
    if size_from_sku is not None:
        where = locate.in_shop(index, "size_from_sku")
        try:
            compiled = re.compile(size_from_sku) if isinstance(size_from_sku, str) else None
        except re.error as exc:
            raise ConfigError(f"{where}: shop {name!r}: bad size_from_sku {exc}") from exc
        if compiled is None or "size" not in compiled.groupindex:
            raise ConfigError(
                f"{where}: shop {name!r}: size_from_sku must be a regular expression with a "
                'group named "size", like "-C11(?P<size>[0-9]{3})0000$"'
            )
        values["size_from_sku"] = size_from_sku
    selectors = raw.get("selectors")
    if platform == "html":
        values["selectors"] = _parse_selectors(selectors, index, name, locate)
    elif selectors is not None:
        raise ConfigError(
            f"{locate.in_shop(index, 'selectors')}: selectors are for html shops; a jsonld "
            "shop reads the page's JSON-LD"
        )
    return values


def _page_url(value: Any, key: str, index: int, name: str, locate: _Locator) -> str:
    """An absolute http(s) URL, or a path on the shop's url (kept as a path: it follows the
    shop's url wherever that points, a replica's port included)."""
    if isinstance(value, str):
        value = value.strip()
        parts = urlsplit(value)
        if value.startswith("/") and not value.startswith("//"):
            return value
        if parts.scheme in ("http", "https") and parts.hostname:
            return value
    raise ConfigError(
        f"{locate.in_shop(index, key)}: shop {name!r} has a bad {key} {value!r} "
        "(expected https://... or a path like /sitemap.xml)"
    )


def _parse_selectors(raw: Any, index: int, name: str, locate: _Locator) -> HtmlSelectors:
    # Imported here: every command reads the config, few configs have html shops.
    import soupsieve

    if not isinstance(raw, dict):
        raise ConfigError(
            f"{locate.shop(index)}: html shop {name!r} needs a [shops.selectors] table "
            '(at least price = "<CSS selector>")'
        )
    unknown = set(raw) - _SELECTOR_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(
            f"{locate.in_shop(index, key)}: unknown selector {key!r} "
            f"(known: {', '.join(sorted(_SELECTOR_KEYS))})"
        )
    if "price" not in raw:
        raise ConfigError(
            f"{locate.in_shop(index, 'selectors')}: html shop {name!r}: selectors need price "
            "(the CSS selector of the price, used when the page has no microdata/OpenGraph price)"
        )
    for key, selector in raw.items():
        where = locate.in_shop(index, key)
        if not isinstance(selector, str) or not selector.strip():
            raise ConfigError(f"{where}: selector {key} must be a CSS selector (a string)")
        try:
            soupsieve.compile(selector)
        except soupsieve.SelectorSyntaxError as exc:
            message = str(exc).splitlines()[0]
            raise ConfigError(f"{where}: bad CSS selector {key} = {selector!r}: {message}") from exc
    return HtmlSelectors(**{key: value.strip() for key, value in raw.items()})


_Section = TypeVar("_Section", CrawlConfig, AlertsConfig, TelegramConfig, ScheduleConfig, LogConfig)


CRAWL_BACKENDS = ("local", "scrapyd")


def _parse_crawl(raw: Any, locate: _Locator) -> CrawlConfig:
    """[crawl]: plain settings, plus the backend and its list of Scrapyd URLs."""
    if not isinstance(raw, dict) or "scrapyd_urls" not in raw:
        crawl = _parse_section(raw, CrawlConfig(), "crawl", locate)
    else:
        rest = {k: v for k, v in raw.items() if k != "scrapyd_urls"}  # a list, not a scalar
        crawl = _parse_section(rest, CrawlConfig(), "crawl", locate)
        crawl = dataclasses.replace(
            crawl, scrapyd_urls=_parse_scrapyd_urls(raw["scrapyd_urls"], locate)
        )
    if crawl.backend not in CRAWL_BACKENDS:
        raise ConfigError(
            f"{locate.key('backend')}: [crawl] backend {crawl.backend!r} is not one of "
            f"{', '.join(CRAWL_BACKENDS)}"
        )
    if crawl.backend == "scrapyd" and not crawl.scrapyd_urls:
        raise ConfigError(
            f'{locate.key("backend")}: [crawl] backend = "scrapyd" needs scrapyd_urls = '
            '["http://host:6800", ...]'
        )
    if crawl.worker_recycle_crawls < 1 or crawl.worker_max_memory <= 0:
        raise ConfigError(
            f"{locate.key('worker_recycle_crawls')}: [crawl] worker_recycle_crawls must be at "
            "least 1 and worker_max_memory more than 0"
        )
    if not re.fullmatch(r"[A-Za-z0-9_-]+", crawl.scrapyd_project):
        raise ConfigError(
            f"{locate.key('scrapyd_project')}: [crawl] scrapyd_project must be a name of "
            f"letters, digits, '_' and '-', got {crawl.scrapyd_project!r}"
        )
    return crawl


def _parse_scrapyd_urls(raw: Any, locate: _Locator) -> tuple[str, ...]:
    where = locate.key("scrapyd_urls")
    if not isinstance(raw, list) or not all(isinstance(u, str) for u in raw):
        raise ConfigError(f"{where}: [crawl] scrapyd_urls must be a list of URLs (strings)")
    urls: list[str] = []
    for url in raw:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"{where}: [crawl] scrapyd_urls has a bad URL {url!r} "
                "(expected a Scrapyd base URL like http://10.0.0.5:6800)"
            )
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ConfigError(
                f"{where}: [crawl] scrapyd_urls: {parts.hostname} must be a plain base URL, "
                "without credentials, query or fragment"
            )
        urls.append(url.strip().rstrip("/"))
    if len(set(urls)) != len(urls):
        raise ConfigError(f"{where}: [crawl] scrapyd_urls lists a URL twice")
    return tuple(urls)


def _parse_schedule(raw: Any, locate: _Locator) -> ScheduleConfig:
    schedule = _parse_section(raw, ScheduleConfig(), "schedule", locate)
    if not known_time_zone(schedule.timezone):
        raise ConfigError(
            f"{locate.key('timezone')}: bad [schedule] timezone {schedule.timezone!r}: no such "
            "time zone (an IANA name, like 'UTC', 'Europe/Berlin' or 'America/New_York')"
        )
    problem = cron_problem(schedule.default, schedule.timezone, schedule.min_interval)
    if problem:
        key = "default" if "default" in raw else "schedule"
        raise ConfigError(
            f"{locate.key(key)}: bad [schedule] default {schedule.default!r}: {problem}"
        )
    return schedule


def _parse_section(raw: Any, defaults: _Section, section: str, locate: _Locator) -> _Section:
    """A table of plain settings (numbers, booleans, strings) over a frozen dataclass."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{locate.key(section)}: [{section}] must be a table")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if not hasattr(defaults, key):
            raise ConfigError(f"{locate.key(key)}: unknown [{section}] setting {key!r}")
        default = getattr(defaults, key)
        expected = str if default is None else type(default)  # optional settings are text
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(
                f"{locate.key(key)}: [{section}] {key} must be a {expected.__name__}, got {value!r}"
            )
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            raise ConfigError(f"{locate.key(key)}: [{section}] {key} must not be negative")
        values[key] = value
    return dataclasses.replace(defaults, **values)


def _parse_telegram(raw: Any, locate: _Locator) -> TelegramConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{locate.key('telegram')}: [telegram] must be a table")
    if "token" in raw:
        raise ConfigError(
            f"{locate.key('token')}: do not put the bot token in the config file: set env "
            'TELEGRAM_BOT_TOKEN or token_file = "path/to/file"'
        )
    admins = raw.get("admin_chat_ids", [])
    if not isinstance(admins, list) or not all(
        isinstance(a, int) and not isinstance(a, bool) for a in admins
    ):
        raise ConfigError(
            f"{locate.key('admin_chat_ids')}: [telegram] admin_chat_ids must be a list of "
            "chat ids (integers)"
        )
    rest = {k: v for k, v in raw.items() if k != "admin_chat_ids"}
    telegram = _parse_section(rest, TelegramConfig(), "telegram", locate)
    for key in ("base_url", "base_file_url"):
        parts = urlsplit(getattr(telegram, key))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{locate.key(key)}: [telegram] {key} must be an http(s) URL")
    return dataclasses.replace(telegram, admin_chat_ids=tuple(admins))


class _Locator:
    """Finds the line a setting came from, so errors can say "pricewatch.toml:12"."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.lines = text.splitlines()
        self.shop_starts = [
            i for i, line in enumerate(self.lines) if line.strip().startswith("[[shops]]")
        ]

    def _at(self, line_index: int | None) -> str:
        return f"{self.source}:{line_index + 1}" if line_index is not None else self.source

    def key(self, key: str) -> str:
        pattern = re.compile(rf"^\s*(\[+\s*)?{re.escape(key)}\b")
        for i, line in enumerate(self.lines):
            if pattern.match(line):
                return self._at(i)
        return self.source

    def shop_line(self, index: int) -> int:
        return self.shop_starts[index] + 1 if index < len(self.shop_starts) else 0

    def shop(self, index: int) -> str:
        if index < len(self.shop_starts):
            return self._at(self.shop_starts[index])
        return f"{self.source} (shop #{index + 1})"

    def in_shop(self, index: int, key: str) -> str:
        if index >= len(self.shop_starts):
            return self.shop(index)
        start = self.shop_starts[index]
        end = self.shop_starts[index + 1] if index + 1 < len(self.shop_starts) else len(self.lines)
        # `key = ...`, or a sub-table of the shop: `[shops.selectors]`
        pattern = re.compile(rf"^\s*(?:{re.escape(key)}\s*=|\[\s*shops\.{re.escape(key)}\s*\])")
        for i in range(start, end):
            if pattern.match(self.lines[i]):
                return self._at(i)
        return self._at(start)
