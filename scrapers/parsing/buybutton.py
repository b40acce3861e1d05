"""Can the page's product be bought: the state of its add-to-cart buttons, read from the raw
bytes (a JSON-LD page is never parsed as HTML, scrapers.parsing.jsonld).

Why: a shop's JSON-LD often says InStock from a template while the page's only buy button is
disabled (StockCenter's Commerce Cloud page, tests/fixtures/realdata). A restock alert on such a
page would send a buyer to a product nobody can buy, so the button has the last word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from scrapers.parsing.jsonld import Offer

__all__ = ["apply_buy_button", "buy_button_state"]

# A <button> or submit <input> that adds to the cart, bag or basket, by its id, class, name,
# data attributes or label ("add-to-cart", "AddToCart", "add_to_bag", aria-label="Add to bag",
# Shopify's name="add"). Hidden inputs carrying the cart URL are not buttons.
_BUTTON = re.compile(
    rb"<(?:button|input)\b(?P<attrs>[^>]*?"
    rb"(?:add[-_ ]?to[-_ ]?(?:cart|bag|basket)|\bname\s*=\s*[\"']add[\"'])"
    rb"[^>]*)>",
    re.IGNORECASE,
)
_HIDDEN = re.compile(rb"\btype\s*=\s*[\"']?hidden\b", re.IGNORECASE)
_DISABLED = re.compile(
    rb"(?:^|\s)disabled(?:\s*=\s*[\"']?(?:disabled|true)?[\"']?)?(?=[\s/]|$)"
    rb"|\baria-disabled\s*=\s*[\"']?true\b",
    re.IGNORECASE,
)


def buy_button_state(page: bytes) -> bool | None:
    """True when the page has an enabled add-to-cart button, False when every one it has is
    disabled, None when it has none (a button built by JavaScript says nothing either way)."""
    states = [
        not _DISABLED.search(match.group("attrs"))
        for match in _BUTTON.finditer(page)
        if not _HIDDEN.search(match.group("attrs"))
    ]
    if not states:
        return None
    return any(states)


def apply_buy_button(offers: Iterable[Offer], button: bool | None) -> tuple[Offer, ...]:
    """The offers with the page's button state applied to one colorway's page.

    No enabled button: a stated in stock becomes unknown (never in stock). An offer that states
    no availability is in stock under an enabled button, else unknown. Pages with several
    colorways are left as they are: the button belongs to the one shown, which the page does
    not say."""
    offers = tuple(offers)
    if button is None or len({o.style_code for o in offers}) > 1:
        return offers
    out: list[Offer] = []
    for offer in offers:
        if offer.available is None:
            # an enabled button says it can be bought; a disabled one is no sell-out (Commerce
            # Cloud disables it until a size is chosen: StockCenter's real page), so unknown
            offer = replace(offer, available=True if button else None)
        elif offer.available and not button:
            offer = replace(offer, available=None)
        out.append(offer)
    return tuple(out)
