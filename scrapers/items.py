"""The items spiders yield. They are defined in the core (`pricewatch.items`), which validates
and records them without importing this Scrapy project."""

from pricewatch.items import ListingItem, ProductItem, by_product

__all__ = ["ListingItem", "ProductItem", "by_product"]
