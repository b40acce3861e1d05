"""Parsing of product pages: pure functions from a page to offers, no Scrapy engine needed.

`scrapers.parsing.jsonld` reads schema.org JSON-LD (and microdata turned into the same shape);
`scrapers.parsing.html` reads pages without usable JSON-LD through configured CSS selectors.
"""
