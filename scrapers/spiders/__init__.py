"""One spider per retailer platform; shops are configuration (`platform = "..."`).

Each platform's spider lives in the module named after it (``platform = "sfcc"``: `sfcc.py`)
and is imported only when a shop of that platform is crawled: `scrapers.loader`.
"""
