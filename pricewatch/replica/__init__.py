"""A replica Shopify storefront for tests and ``pricewatch demo``.

:class:`ReplicaShop` serves the real storefront JSON formats (``/products.json``,
``/collections/<handle>/products.json``, ``/products/<handle>.js``) on 127.0.0.1 from made-up
New Balance 2002R fixture data (see :mod:`pricewatch.replica.catalog`), lets a test change
prices and stock while it runs, and misbehaves on demand. Standard library only.

:class:`JsonLdShop` (a Salesforce Commerce Cloud New Balance store: JSON-LD product pages and a
sitemap) and :class:`HtmlShop` (a shop with HTML-only product pages and listing pages) serve
the product-page platforms, with walls (Akamai, PerimeterX, DataDome) on demand.
"""

from pricewatch.replica.catalog import load_catalog, make_product, public_product, to_ajax
from pricewatch.replica.html_shop import HtmlShop
from pricewatch.replica.jsonld_shop import JsonLdShop
from pricewatch.replica.server import COLLECTIONS, MODES, ReplicaShop

__all__ = [
    "COLLECTIONS",
    "MODES",
    "HtmlShop",
    "JsonLdShop",
    "ReplicaShop",
    "load_catalog",
    "make_product",
    "public_product",
    "to_ajax",
]
