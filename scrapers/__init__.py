"""Scrapy side of pricewatch: spiders per retailer platform, items, middlewares, pipelines.

Spiders only parse and yield `ListingItem`s; `pipelines` validates them and stores them through
`pricewatch.store`. Settings live in `scrapers.settings`; `pricewatch.crawl` runs the engine.
"""
