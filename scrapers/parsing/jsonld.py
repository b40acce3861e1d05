"""schema.org Product offers from a page's JSON-LD, however the page breaks the spec.

What real pages send (tests/fixtures/realdata, SOURCES.md section B) and what this module takes:
- ``Product``, ``ProductGroup`` with ``hasVariant``, ``@graph``, a top-level array with one
  ``Product`` per size (Zara), ``"@type": "product"`` in lower case (John Lewis), types as IRIs;
- ``offers`` as one ``Offer``, a list with one Offer per size whose size is only in the SKU
  suffix (Zalando), or an ``AggregateOffer`` (``lowprice`` spelt in lower case);
- availability as ``http://schema.org/InStock``, ``https://schema.org/InStock`` or bare
  ``OutOfStock``;
- prices as strings ("49.1"), integers (209000 KRW), or Salesforce Commerce Cloud's own price
  objects that are not schema.org at all (``{"sales": {"value": 3499, "currency": "ARS"}}``);
- relative offer URLs, ``"url": {}``, ``"image": [null, ...]``;
- several JSON-LD blocks per page, some of them broken JSON (skipped and counted, never fatal).

Every price goes through `pricewatch.prices.parse_price`; every 2002R style code through
`pricewatch.styles.identify_2002r`. A page with one offer for the whole colorway gives one
`Offer` with an empty ``size_label``: its price and stock are the colorway's, and no per-size
stock is made up from it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import unquote_plus, urljoin, urlsplit

from lxml.html import HtmlElement

from pricewatch.prices import PriceError, parse_price
from pricewatch.styles import identify_2002r, url_code_text
from scrapers.parsing.failures import ProductFailure, error_reason

__all__ = [
    "Offer",
    "PageData",
    "availability",
    "extract_jsonld",
    "jsonld_blocks",
    "jsonld_items",
    "parse_document",
    "price_value",
    "product_offers",
]


@dataclass(frozen=True)
class Offer:
    """One offer as a page states it: a colorway in one size, or in every size (size "")."""

    name: str
    size_label: str  # "" when the offer covers every size
    price: Decimal | None
    currency: str | None
    available: bool | None
    url: str | None
    sku: str | None = None
    product_sku: str | None = None  # the colorway's SKU (Zalando "AD542B1O1-Q11"), if given
    brand: str | None = None
    color: str | None = None
    image: str | None = None
    gtin: str | None = None
    compare_at: Decimal | None = None
    style_code: str | None = None
    family: str | None = None
    width: str | None = None
    problem: str | None = None  # why price is None although the page had a value


@dataclass(frozen=True)
class PageData:
    """What a product page holds: its offers, how many products they belong to, how many
    JSON-LD blocks were unreadable, and the products that could not be read (their offers are
    not among ``offers``)."""

    offers: tuple[Offer, ...] = ()
    products: int = 0
    broken_blocks: int = 0
    source: str = "json-ld"
    failures: tuple[ProductFailure, ...] = ()

    @property
    def found(self) -> bool:
        """Whether the page had product data at all (a block page has none)."""
        return self.products > 0


# schema.org ItemAvailability (and OpenGraph's product:availability words) -> can it be bought.
# Pre-orders and back-orders can be ordered now, which is what "back in my size" means;
# InStoreOnly cannot be bought from the site.
_AVAILABILITY = {
    "instock": True,
    "limitedavailability": True,
    "onlineonly": True,
    "preorder": True,
    "presale": True,
    "backorder": True,
    "madetoorder": True,
    "availablefororder": True,
    "available": True,
    "outofstock": False,
    "soldout": False,
    "discontinued": False,
    "instoreonly": False,
    "oos": False,
    "unavailable": False,
}
_PRODUCT_TYPES = {"product", "individualproduct", "productmodel", "someproducts"}
# Lists of other products (recommendations, breadcrumbs) are not this page's product.
_NOT_THIS_PAGE = {"itemlist", "breadcrumblist", "offercatalog"}
_GTIN_KEYS = ("gtin13", "gtin12", "gtin14", "gtin8", "gtin")


def parse_document(html: str | bytes, encoding: str = "utf-8") -> HtmlElement:
    """An lxml tree of a page, as extruct parses it (Scrapy responses have one already:
    ``response.selector.root``)."""
    # extruct's package import pulls in rdflib and mf2py (0.2-0.5 s): imported when a tree is
    # needed, so a crawl of Shopify shops only never pays for it
    from extruct.utils import parse_html

    tree: HtmlElement = parse_html(html, encoding=encoding)
    return tree


def jsonld_items(document: HtmlElement) -> tuple[list[Any], int]:
    """The JSON-LD items of every block on the page, and how many blocks were unreadable.

    Each block is read on its own with `read_block` (as extruct reads one), so one broken block
    (a trailing comma that even jstyleson cannot mend, a truncated script) is skipped instead of
    failing the whole page."""
    items: list[Any] = []
    broken = 0
    for script in document.xpath("//script[@type]"):
        kind = str(script.get("type", "")).split(";")[0].strip().lower()
        if kind != "application/ld+json":
            continue
        try:
            items.extend(read_block(script.xpath("string()")))
        except ValueError:  # json.JSONDecodeError and jstyleson's errors are ValueErrors
            broken += 1
    return items, broken


# A <script type="application/ld+json"> element and its text, found in the raw page: HTML ends
# script text at the first "</script", whatever it is inside, so a non-greedy match reads the
# block exactly as an HTML parser would. The type may be quoted or not, in any case, with
# parameters ("application/ld+json; charset=utf-8").
_JSONLD_BLOCK = re.compile(
    rb"""<script\b[^>]*?\btype\s*=\s*["']?\s*application/ld\+json\s*(?:;[^"'>]*)?["']?[^>]*>"""
    rb"(.*?)</script\s*>",
    re.IGNORECASE | re.DOTALL,
)
_COMMENT_LINE = re.compile(r"^\s*(//.*|<!--.*-->)")


def jsonld_blocks(page: bytes, encoding: str = "utf-8") -> list[str]:
    """The text of each JSON-LD block, cut out of the page's raw bytes (no HTML parse)."""
    return [match.decode(encoding, errors="replace") for match in _JSONLD_BLOCK.findall(page)]


def read_block(text: str) -> list[Any]:
    """One block's items, read as extruct reads it (``json.loads(strict=False)``, then
    jstyleson for comments and trailing commas); a ValueError if it cannot be read."""
    try:
        data = json.loads(text, strict=False)
    except ValueError:
        import jstyleson  # extruct's own fallback, only for the rare broken block

        data = jstyleson.loads(_COMMENT_LINE.sub("", text), strict=False)
    if isinstance(data, list):
        return [item for item in data if item]
    return [data] if isinstance(data, dict) and data else []


def extract_jsonld(
    page: str | bytes | HtmlElement,
    base_url: str,
    encoding: str = "utf-8",
    *,
    size_from_sku: str | None = None,
) -> PageData:
    """Every offer of every product in the page's JSON-LD. Raw pages (bytes or text) are not
    parsed as HTML: the blocks are cut out of them and only they are read (a 250 KB page in
    well under a millisecond, where an lxml parse takes several); a parsed tree (what the
    html spider has anyway) has its blocks read the same way, one by one."""
    if isinstance(page, HtmlElement):
        items, broken = jsonld_items(page)
    else:
        raw = page.encode("utf-8") if isinstance(page, str) else page
        items, broken = [], 0
        for block in jsonld_blocks(raw, encoding if isinstance(page, bytes) else "utf-8"):
            try:
                items.extend(read_block(block))
            except ValueError:  # json.JSONDecodeError and jstyleson's errors are ValueErrors
                broken += 1
    failures: list[ProductFailure] = []
    offers, products = product_offers(items, base_url, failures, size_from_sku)
    return PageData(tuple(offers), products, broken, "json-ld", tuple(failures))


# ---------------------------------------------------------------------------- values


def availability(value: Any) -> bool | None:
    """In stock (True), sold out (False) or not said (None), from any spelling seen:
    ``http://schema.org/InStock``, ``https://schema.org/OutOfStock``, ``OutOfStock``,
    ``schema:PreOrder``, OpenGraph's ``in stock`` / ``oos``."""
    if isinstance(value, list):
        value = next((v for v in value if v), None)
    if isinstance(value, dict):
        value = value.get("@id") or value.get("name")
    if isinstance(value, bool):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    token = re.split(r"[/#:]", value.strip().rstrip("/"))[-1]
    return _AVAILABILITY.get(re.sub(r"[^a-z]", "", token.lower()))


def price_value(value: Any) -> tuple[Decimal | None, str | None, Decimal | None]:
    """(price, currency stated with it, list price) from a JSON-LD price value.

    Strings, numbers, schema.org MonetaryAmount / PriceSpecification objects, and Salesforce
    Commerce Cloud's price model pasted into JSON-LD (``{"sales": {"value": 3499, "currency":
    "ARS", "decimalPrice": "3499.00"}, "list": null}``). Raises PriceError for a value that
    is there but is no price (a negative number, ``{}``)."""
    if value is None or value == "":
        return None, None, None
    if isinstance(value, str | int | float | Decimal) and not isinstance(value, bool):
        return parse_price(value), None, None
    if isinstance(value, dict):
        if isinstance(value.get("sales"), dict):
            sales = value["sales"]
            amount = _first_present(sales, "decimalPrice", "value")
            price, _, _ = price_value(amount)
            listed = value.get("list")
            list_price = None
            if isinstance(listed, dict):
                list_price, _, _ = price_value(_first_present(listed, "decimalPrice", "value"))
            return price, _text(sales.get("currency")), list_price
        amount = _first_present(value, "price", "value", "amount")
        if amount is not None and not isinstance(amount, dict):
            price, _, _ = price_value(amount)
            return price, _text(_first_present(value, "priceCurrency", "currency")), None
    raise PriceError(f"not a price: {value!r}")


# ---------------------------------------------------------------------------- products


@dataclass
class _Entry:
    """A Product node (or a variant of a ProductGroup) and its raw offers."""

    node: dict[str, Any]
    group: dict[str, Any] | None
    offers: list[dict[str, Any]] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)  # one per offer, "" = not known


def product_offers(
    items: Sequence[Any],
    base_url: str,
    failures: list[ProductFailure] | None = None,
    size_from_sku: str | None = None,
) -> tuple[list[Offer], int]:
    """The offers of every product in JSON-LD items, and the number of products (colorways)
    they belong to. Each offer is recognised as a 2002R (style code) or not on its own.
    ``size_from_sku`` (the shop's config): where a size is only in the SKU, the regular
    expression whose group "size" reads it; without it no size is taken from a SKU.

    A product that cannot be read gives no offers and, if ``failures`` is given, a
    `ProductFailure` there; the other products of the page are read as usual. The steps
    before the offers (finding products, their raw offers and sizes) only read values
    through type checks, so they cannot raise on any JSON."""
    entries = list(_find_products(items))
    for entry in entries:
        entry.offers = _raw_offers(entry.node)
        entry.sizes = [_explicit_size(offer, entry.node) for offer in entry.offers]
    if size_from_sku:
        _size_from_skus(entries, _sku_pattern(size_from_sku))
    offers: list[Offer] = []
    colorways: set[str] = set()
    for entry in entries:
        # Who the product is, before anything that can fail: a failure is reported under the
        # style code its variants are stored by.
        style = _entry_style(entry)
        failure = None
        try:
            entry_offers = [_offer(entry, raw, size, base_url) for raw, size in _sized(entry)]
        # The one place a product's exception stops: one product node the parser cannot read
        # (a shape nobody foresaw, a bug) costs that product, not the page or the shop.
        except Exception as exc:  # noqa: BLE001
            entry_offers, failure = [], ProductFailure(style, error_reason(exc), exc)
        if not entry_offers and failure is None and style and _has_unreadable_offers(entry):
            # A 2002R whose offers are there but none is an object: its sizes are unknown
            # for this crawl, not gone (other models' pages are no concern of ours).
            shape = type(_get(entry.node, "offers")).__name__
            failure = ProductFailure(
                style, f"malformed product: 'offers' is {shape} without a readable offer"
            )
        if failure is not None and failures is not None:
            failures.append(failure)
        offers.extend(entry_offers)
        for offer in entry_offers:
            colorways.add(offer.style_code or offer.product_sku or offer.name or offer.url or "")
        if not entry_offers:
            colorways.add(_text(entry.node.get("name")) or str(id(entry.node)))
    return offers, len(colorways)


def _entry_style(entry: _Entry) -> str:
    """The product's 2002R style code from what the product node itself says (name, SKUs,
    URL, brand), or "" when they do not name one. Reads only through type checks."""
    product, group = entry.node, entry.group or {}
    skus = [_offer_sku(offer, product) for offer in entry.offers]
    skus += [_text(product.get(key)) for key in ("sku", "mpn", "productID")]
    skus.append(_text(group.get("productGroupID")))
    match = identify_2002r(
        title=_text(product.get("name")) or _text(group.get("name")) or "",
        handle=_text(product.get("url")) or _text(group.get("url")) or "",
        skus=[sku for sku in skus if sku],
        vendor=_brand(product.get("brand")) or _brand(group.get("brand")) or "",
    )
    return match.style_code if match else ""


def _has_unreadable_offers(entry: _Entry) -> bool:
    stated = _get(entry.node, "offers")
    return stated not in (None, "", [], {}) and not entry.offers


def _find_products(
    node: Any, group: dict[str, Any] | None = None, depth: int = 0
) -> Iterator[_Entry]:
    if depth > 12:  # JSON-LD nests a few levels; anything deeper is not a product page
        return
    if isinstance(node, list):
        for item in node:
            yield from _find_products(item, group, depth + 1)
        return
    if not isinstance(node, dict):
        return
    types = _types(node)
    if "productgroup" in types:
        variants = [v for v in _as_list(node.get("hasVariant")) if isinstance(v, dict)]
        if not variants:
            yield _Entry(node, None)  # a group without variants reads like a product
        for variant in variants:
            yield _Entry(variant, node)
        return
    if types & _PRODUCT_TYPES:
        yield _Entry(node, group)
        return
    if types & _NOT_THIS_PAGE:
        return
    for key, value in node.items():
        if key != "@context":
            yield from _find_products(value, group, depth + 1)


def _raw_offers(product: dict[str, Any]) -> list[dict[str, Any]]:
    """The product's offers as Offer-like dicts; an AggregateOffer without a list of offers
    is one offer for every size, priced at its lowPrice (what the page shows as the price)."""
    offers: list[dict[str, Any]] = []
    # Strings and numbers where an Offer belongs are no offer; a list of them is its objects.
    for offer in _objects(_get(product, "offers")):
        nested = _objects(_get(offer, "offers"))
        if "aggregateoffer" in _types(offer) and nested:
            # Inner offers inherit what the aggregate states once (currency, availability).
            shared = {k: v for k, v in offer.items() if k.lower() not in ("offers", "@type")}
            offers.extend({**shared, **inner} for inner in nested)
        elif "aggregateoffer" in _types(offer) and _get(offer, "price") is None:
            offers.append({**offer, "price": _get(offer, "lowPrice")})
        else:
            offers.append(offer)
    return offers


# Commerce Cloud's variation URLs name the size: ".../M2002RDA-D-07.html?dwvar_M2002RDA_size=10".
_DWVAR_SIZE = re.compile(r"[?&#]dwvar_[^=&#]+_size=(?P<size>[^&#]+)")


def _explicit_size(offer: dict[str, Any], product: dict[str, Any]) -> str:
    """A size the page names: the offer's or its itemOffered's ``size``, the product's
    ``size`` (text or SizeSpecification), an additionalProperty named size, or the size a
    Commerce Cloud variation URL of the offer selects (``dwvar_<master>_size=10``)."""
    item = offer.get("itemOffered")
    for source in (offer, item if isinstance(item, dict) else {}, product):
        size = _get(source, "size")
        if isinstance(size, dict):
            size = size.get("name") or size.get("value")
        if isinstance(size, str | int | float) and not isinstance(size, bool) and str(size):
            return str(size).strip()
        for prop in _as_list(_get(source, "additionalProperty")):
            if isinstance(prop, dict) and str(prop.get("name", "")).strip().lower() == "size":
                value = prop.get("value")
                if isinstance(value, str | int | float) and not isinstance(value, bool):
                    return str(value).strip()
    url = offer.get("url")
    match = _DWVAR_SIZE.search(url) if isinstance(url, str) else None
    return unquote_plus(match.group("size")).strip() if match else ""


@functools.lru_cache(maxsize=64)
def _sku_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _sku_size(sku: str | None, pattern: re.Pattern[str]) -> str:
    match = pattern.search(sku or "")
    return (match.group("size") or "") if match else ""


def _size_from_skus(entries: list[_Entry], pattern: re.Pattern[str]) -> None:
    """Sizes only the SKUs tell, read with the shop's own pattern: per-size offers of one
    product (Zalando's ``MU312M00L-C110400000``), or sibling Products of one item, one per size
    (Zara's ``84518927-040-35`` ... ``-42``, a ProductGroup varying by size). Colour variants
    (On's ProductGroup ``variesBy`` color) stay separate colorways."""
    for entry in entries:
        if len(entry.offers) > 1 and not all(entry.sizes):
            labels = [_sku_size(_offer_sku(offer, entry.node), pattern) for offer in entry.offers]
            entry.sizes = [given or label for given, label in zip(entry.sizes, labels, strict=True)]
    # Sibling products with one offer each: the sizes of one item, or its colours.
    siblings: dict[Any, list[_Entry]] = {}
    for entry in entries:
        if len(entry.offers) == 1 and not entry.sizes[0]:
            siblings.setdefault(_sibling_key(entry), []).append(entry)
    for members in siblings.values():
        if len(members) < 2 or not _varies_by_size(members):
            continue
        for member in members:
            member.sizes = [_sku_size(_offer_sku(member.offers[0], member.node), pattern)]


def _sibling_key(entry: _Entry) -> Any:
    if entry.group is not None:
        return ("group", id(entry.group))
    offer_url = entry.offers[0].get("url") if entry.offers else None
    url = offer_url if isinstance(offer_url, str) else _text(entry.node.get("url"))
    return ("name", _text(entry.node.get("name")), _path(url or ""))


def _varies_by_size(members: list[_Entry]) -> bool:
    group = members[0].group
    if group is not None:
        varies = " ".join(str(v) for v in _as_list(group.get("variesBy"))).lower()
        if "size" in varies:
            return True
        if varies:
            return False  # varies by colour (or anything else): each variant is a colorway
    names = {_text(m.node.get("name")) for m in members}
    colors = {_text(m.node.get("color")) for m in members}
    return len(names) == 1 and len(colors) == 1


def _sized(entry: _Entry) -> list[tuple[dict[str, Any], str]]:
    """The entry's offers with their sizes. Several offers whose sizes nothing tells apart
    are not sizes; the first (the one the page shows) stands for the colorway."""
    pairs = list(zip(entry.offers, entry.sizes, strict=True))
    if len(pairs) > 1 and not all(size for _, size in pairs):
        return pairs[:1] if not any(size for _, size in pairs) else [p for p in pairs if p[1]]
    return pairs


def _offer(entry: _Entry, raw: dict[str, Any], size: str, base_url: str) -> Offer:
    product, group = entry.node, entry.group or {}
    name = _text(product.get("name")) or _text(group.get("name")) or ""
    brand = _brand(product.get("brand")) or _brand(group.get("brand"))
    problem = None
    try:
        price, stated_currency, list_price = price_value(_get(raw, "price"))
        if price is None:
            spec = next(
                (s for s in _as_list(_get(raw, "priceSpecification")) if isinstance(s, dict)),
                None,
            )
            if spec is not None:
                price, stated_currency, list_price = price_value(spec)
    except PriceError as exc:
        price, stated_currency, list_price, problem = None, None, None, str(exc)
    currency = (_text(_get(raw, "priceCurrency")) or stated_currency or "").upper() or None
    stock = availability(_get(raw, "availability"))
    if stock is None:
        stock = availability(product.get("availability"))
    url = _url(raw.get("url"), base_url) or _url(product.get("url"), base_url)
    url = url or _url(group.get("url"), base_url) or base_url
    sku = _offer_sku(raw, product)
    if entry.group is not None:
        product_sku = _text(group.get("productGroupID"))
    elif len(entry.offers) > 1 or not size:
        product_sku = _text(product.get("sku"))
    else:
        product_sku = None  # one Product per size (Zara): its SKU is the size's
    skus = [sku, _text(product.get("sku")), product_sku, _text(product.get("mpn"))]
    match = identify_2002r(
        title=name,
        handle=url_code_text(url),
        skus=[s for s in skus if s],
        vendor=brand or "",
    )
    gtins = (_text(_get(raw, key)) or _text(product.get(key)) for key in _GTIN_KEYS)
    on_sale = list_price is not None and price is not None and list_price > price
    return Offer(
        name=name,
        size_label=size,
        price=price,
        currency=currency,
        available=stock,
        url=url,
        sku=sku,
        product_sku=product_sku,
        brand=brand,
        color=_text(product.get("color")),
        image=_image(product.get("image"), base_url) or _image(group.get("image"), base_url),
        gtin=next((g for g in gtins if g), None),
        compare_at=list_price if on_sale else None,
        style_code=match.style_code if match else None,
        family=match.family if match else None,
        width=match.width if match else None,
        problem=problem,
    )


def _offer_sku(offer: dict[str, Any], product: dict[str, Any]) -> str | None:
    return _text(_get(offer, "sku")) or _text(product.get("sku"))


# ---------------------------------------------------------------------------- helpers


def _types(node: dict[str, Any]) -> set[str]:
    """Lower-case local names of a node's @type: "Product", "product", "schema:Product" and
    "http://schema.org/Product" are all "product"."""
    names = set()
    for value in _as_list(node.get("@type") or node.get("type")):
        if isinstance(value, str):
            names.add(re.split(r"[/#:]", value.strip())[-1].lower())
    return names


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _objects(value: Any) -> list[dict[str, Any]]:
    """The objects of a value that should be an object or a list of them; lists inside the
    list are opened (``[[{...}]]``), anything else (text, numbers, null) is left out."""
    found: list[dict[str, Any]] = []
    for item in _as_list(value):
        if isinstance(item, dict):
            found.append(item)
        elif isinstance(item, list):
            found.extend(i for i in item if isinstance(i, dict))
    return found


def _get(node: dict[str, Any], key: str) -> Any:
    """A property by name, whatever its case ("lowprice" for "lowPrice" on an SFCC page)."""
    if key in node:
        return node[key]
    wanted = key.lower()
    for name, value in node.items():
        if name.lower() == wanted:
            return value
    return None


def _first_present(node: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = _get(node, key)
        if value is not None and value != "":
            return value
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        text = str(value).strip()
        return text or None
    return None


def _brand(value: Any) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if v), None)
    if isinstance(value, dict):
        value = value.get("name")
    return _text(value)


def _url(value: Any, base_url: str) -> str | None:
    text = _text(value)
    if not text:
        return None
    try:
        return urljoin(base_url, text)
    except ValueError:  # "http://[oops" (a malformed host) is no URL: absent, like "url": {}
        return None


def _path(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:
        return url


def _image(value: Any, base_url: str) -> str | None:
    for item in _as_list(value):
        if isinstance(item, dict):
            item = item.get("url") or item.get("contentUrl")
        url = _url(item, base_url)
        if url:
            return url
    return None
