"""The database in a browser: Datasette with pricewatch's metadata and canned queries.

Datasette is an optional extra (``pip install '.[web]'`` in the pricewatch checkout); nothing
here imports it until a server is made.
"""

from __future__ import annotations

from pricewatch.web.metadata import QUERIES, metadata
from pricewatch.web.server import WebUnavailableError, make_datasette, serve

__all__ = ["QUERIES", "WebUnavailableError", "make_datasette", "metadata", "serve"]
