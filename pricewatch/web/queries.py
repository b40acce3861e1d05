"""The canned queries of `pricewatch web`, as SQL over the store's tables.

Prices are stored as integer minor units next to their currency; the queries turn them into
exact decimal text ("144.99", "21000" for JPY) with integer arithmetic, never through a float,
using each currency's exponent from `pricewatch.prices.MINOR_UNITS`.
"""

from __future__ import annotations

from pricewatch.models import Stock
from pricewatch.prices import MINOR_UNITS


def price_sql(minor: str, currency: str) -> str:
    """An SQL expression: minor units of ``currency`` as exact decimal text, NULL for NULL."""
    by_exponent: dict[int, list[str]] = {}
    for code, exponent in sorted(MINOR_UNITS.items()):
        by_exponent.setdefault(exponent, []).append(code)

    def decimal_text(exponent: int) -> str:
        if exponent == 0:
            return f"CAST({minor} AS TEXT)"
        scale = 10**exponent
        zeros = "0" * exponent  # left-pads the fraction: 5 cents -> "05"
        return (
            f"({minor} / {scale}) || '.' || substr('{zeros}' || ({minor} % {scale}), -{exponent})"
        )

    cases = " ".join(
        f"WHEN {currency} IN ({', '.join(repr(c) for c in codes)}) THEN {decimal_text(exponent)}"
        for exponent, codes in sorted(by_exponent.items())
    )
    return f"CASE WHEN {minor} IS NULL THEN NULL {cases} ELSE {decimal_text(2)} END"


def _variant_url(url: str, variant_id: str) -> str:
    # the same link `history.current_offers` gives: the product page with the size selected
    return (
        f"CASE WHEN instr({url}, '/products/') THEN "
        f"CASE WHEN instr({url}, '?') THEN substr({url}, 1, instr({url}, '?') - 1) "
        f"ELSE {url} END || '?variant=' || {variant_id} ELSE {url} END"
    )


# Stock is trusted only if the shop's latest finished crawl saw the variant: the rule of
# `history._CURRENT`, applied per shop once instead of per variant.
CHEAPEST_NOW = f"""
WITH latest AS (
  SELECT s.id AS shop_id, s.name AS shop,
         (SELECT max(c.id) FROM crawls c
          WHERE c.shop_id = s.id AND c.status != 'running') AS crawl_id
  FROM shops s
),
live AS (
  SELECT v.style_code, v.size_us, v.size_label, v.width, latest.shop, v.price_minor,
         v.compare_at_minor, v.currency, v.last_seen,
         {_variant_url("p.url", "v.shop_variant_id")} AS url,
         row_number() OVER (
           PARTITION BY v.style_code, coalesce(v.size_us, v.size_label), coalesce(v.width, ''),
                        v.currency
           ORDER BY v.price_minor, latest.shop) AS n
  FROM variants v
  JOIN latest ON latest.shop_id = v.shop_id AND v.last_crawl_id = latest.crawl_id
  JOIN products p ON p.id = v.product_id
  WHERE v.stock = '{Stock.IN_STOCK.value}' AND v.price_minor IS NOT NULL
    AND (:style_code = '' OR v.style_code = upper(trim(:style_code)))
)
SELECT live.style_code, colorways.name AS colorway, live.size_us, live.size_label, live.width,
       live.shop, {price_sql("live.price_minor", "live.currency")} AS price, live.currency,
       {price_sql("live.compare_at_minor", "live.currency")} AS was, live.url,
       live.last_seen
FROM live LEFT JOIN colorways ON colorways.style_code = live.style_code
WHERE live.n = 1
ORDER BY live.style_code, live.size_us IS NULL, live.size_us, live.size_label, live.currency
"""

PRICE_HISTORY = f"""
SELECT h.first_seen AS since, coalesce(h.last_seen, h.first_seen) AS until, s.name AS shop,
       v.size_us, v.size_label, {price_sql("h.price_minor", "h.currency")} AS price, h.currency,
       {price_sql("h.compare_at_minor", "h.currency")} AS was, h.stock
FROM history h JOIN variants v ON v.id = h.variant_id JOIN shops s ON s.id = v.shop_id
WHERE v.style_code = upper(trim(:style_code))
  AND (:size_us = '' OR v.size_us = :size_us)
ORDER BY h.first_seen DESC, s.name, v.size_us
"""

# Assumes the events table of schema version 2 (see README "Data model"); only columns the
# alerts need are used, the size label comes from the variant.
RECENT_EVENTS = f"""
SELECT e.created, e.kind, e.style_code, colorways.name AS colorway, s.name AS shop,
       e.size_us, v.size_label,
       {price_sql("e.old_price_minor", "e.currency")} AS old_price,
       {price_sql("e.new_price_minor", "e.currency")} AS new_price, e.currency,
       e.old_stock, e.new_stock
FROM events e
JOIN shops s ON s.id = e.shop_id
LEFT JOIN variants v ON v.id = e.variant_id
LEFT JOIN colorways ON colorways.style_code = e.style_code
WHERE (:style_code = '' OR e.style_code = upper(trim(:style_code)))
ORDER BY e.id DESC
LIMIT 500
"""
