"""Settings, read once into frozen dataclasses.

Where settings come from, first match wins:
- the config file: ``--config PATH``, else env ``PRICEWATCH_CONFIG``, else ``./pricewatch.toml``,
  else the default config shipped in the package (real Shopify shops);
- the database: ``--db PATH``, else env ``PRICEWATCH_DB``, else ``db`` in the config file
  (relative to that file), else ``data/pricewatch.db`` in the working directory.

This package is the only place that reads the environment; everything else gets a `Config`.
The config is in three parts, one job each: `schema` (the dataclasses and every default),
`loading` (file, environment, validation) and `cron` (schedules). This package re-exports
them, so `from pricewatch.config import Config, load_config` is all a caller needs.
"""

from pricewatch.config.cron import cron_problem, next_run
from pricewatch.config.loading import (
    CRAWL_BACKENDS,
    find_config_file,
    load_config,
    packaged_config,
    parse_config,
    resolve_db_path,
)
from pricewatch.config.schema import (
    CRAWL_DEFAULTS,
    DEFAULT_CONFIG_NAME,
    DEFAULT_DB,
    DEFAULT_USER_AGENT,
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

__all__ = [
    "CRAWL_BACKENDS",
    "CRAWL_DEFAULTS",
    "DEFAULT_CONFIG_NAME",
    "DEFAULT_DB",
    "DEFAULT_USER_AGENT",
    "FETCH_MODES",
    "LOG_LEVELS",
    "PAGE_PLATFORMS",
    "PLATFORMS",
    "AlertsConfig",
    "Config",
    "ConfigError",
    "CrawlConfig",
    "HtmlSelectors",
    "LogConfig",
    "ScheduleConfig",
    "ShopConfig",
    "TelegramConfig",
    "cron_problem",
    "find_config_file",
    "load_config",
    "next_run",
    "packaged_config",
    "parse_config",
    "resolve_db_path",
]
