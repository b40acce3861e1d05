"""pricewatch: the core shared by the spiders (scrapers/), the bot (bot/) and the scheduler.

One job per module: `config` reads settings once, `prices`/`sizes`/`styles` parse shop text into
typed values, `store` owns the SQLite database, `history` answers questions about it, `crawl`
runs Scrapy, and `cli` is the thin `pricewatch` command on top.
"""

__version__ = "0.1.0"
