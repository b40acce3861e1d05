"""Alert messages: what a buyer sees (exact HTML), deal context, cart links and pictures,
escaping of shop text, summaries of big sales and clean splits under Telegram's limits."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from bot.messages import (
    MAX_CAPTION_LENGTH,
    MAX_MESSAGE_LENGTH,
    MessagePart,
    change_text,
    gone_text,
    news_text,
    price_text,
    render_digest,
    size_text,
    sizes_text,
    telegram_length,
)
from bot.render import Button
from pricewatch.changes import EventKind
from pricewatch.deals import Deal, Elsewhere
from pricewatch.models import Stock
from pricewatch.outbox import Alert

PRODUCT = "https://replica.example/products/new-balance-2002r-m2002rda"
URL = f"{PRODUCT}?variant=40001"
CART = "https://replica.example/cart/40001:1"
IMAGE = "https://cdn.replica.example/m2002rda.jpg"


def make_alert(outbox_id: int = 1, **changes: object) -> Alert:
    alert = Alert(
        outbox_id=outbox_id,
        chat_id=1001,
        chat_type="private",
        kind=EventKind.PRICE_DROP,
        style_code="M2002RDA",
        colorway_name="Rain Cloud",
        shop="Replica Kicks",
        size_us=10.0,
        size_label="10",
        old_price=Decimal("144.99"),
        new_price=Decimal("139.99"),
        currency="USD",
        old_stock=Stock.IN_STOCK,
        new_stock=Stock.IN_STOCK,
        url=URL,
        created="2026-11-25T10:00:00.000000Z",
        attempts=0,
        still_true=True,
        variant_id=outbox_id,
        product_url=PRODUCT,
        image=IMAGE,
        width="D",
        cart_url=CART,
    )
    return dataclasses.replace(alert, **changes)  # type: ignore[arg-type]


class TagChecker(HTMLParser):
    """Fails on what Telegram's HTML parser refuses: unknown or unbalanced tags."""

    ALLOWED = {"b", "a"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in self.ALLOWED, tag
        self.stack.append(tag)
        if tag == "a":
            self.links.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(text: str) -> TagChecker:
    checker = TagChecker()
    checker.feed(text)
    checker.close()
    assert checker.stack == [], f"unclosed tags {checker.stack}"
    # Every & starts a whole entity: nothing was cut in the middle of one.
    assert re.fullmatch(r"(?:[^&]|&(?:lt|gt|amp|quot|#x27|#\d+);)*", text, re.S), text
    return checker


def test_one_price_drop_is_a_photo_with_the_change_in_money_and_percent_and_a_cart_button() -> None:
    alert = make_alert(old_price=Decimal("150.00"), new_price=Decimal("127.50"))
    deal = Deal(
        low="lowest in 90 days",
        retail=Decimal("150.00"),
        elsewhere=Elsewhere("Bodega", Decimal("140.00"), "USD"),
    )
    [part] = render_digest([alert], {1: deal}, charts=True)
    assert part == MessagePart(
        "<b>Price drop</b> · <b>Rain Cloud</b> (M2002RDA) · Replica Kicks\n"
        "US 10: $150.00 → $127.50, -$22.50 (-15%), lowest in 90 days\n"
        "Retail $150.00 · cheapest elsewhere in US 10: $140.00 at Bodega",
        (1,),
        photo=IMAGE,
        buttons=(
            (Button("Add US 10 to cart", url=CART),),
            (Button("View at Replica Kicks", url=URL), Button("📈 Chart", "chart:M2002RDA:10")),
            (Button("🔕 Mute M2002RDA for 24 h", "mute:M2002RDA"),),
        ),
    )
    assert telegram_length(part.text) <= MAX_CAPTION_LENGTH


def test_without_a_picture_the_alert_is_text_with_the_product_page_as_preview() -> None:
    [part] = render_digest([make_alert(image=None)])
    assert part.photo is None and part.preview_url == URL
    assert part.buttons[0] == (Button("Add US 10 to cart", url=CART),)


def test_sizes_with_the_same_news_share_a_line_and_widths_show_when_not_standard() -> None:
    alerts = [
        make_alert(1, size_us=10.5, width="2E"),
        make_alert(2, size_us=9.0),
        make_alert(3, size_us=10.5, width="D", cart_url="https://replica.example/cart/3:1"),
        make_alert(4, size_us=8.0, new_price=Decimal("129.99")),
    ]
    [part] = render_digest(alerts)
    lines = part.text.split("\n")
    assert lines[1:] == [
        "US 9, 10.5, 10.5 2E: $144.99 → $139.99, -$5.00 (-3%)",
        "US 8: $144.99 → $129.99, -$15.00 (-10%)",
    ]
    assert part.outbox_ids == (2, 3, 1, 4)
    # a women's code: B is its standard width, D is not
    assert size_text(make_alert(style_code="W2002RAA", width="B")) == "US 10"
    assert size_text(make_alert(style_code="W2002RAA", width="D")) == "US 10 D"


def test_a_new_colorway_is_one_entry_listing_its_sizes_with_prices_where_they_differ() -> None:
    sizes = [8.0, 8.5, 9.0, 9.5, 10.0, 10.5, 11.0]
    alerts = [
        make_alert(
            i,
            kind=EventKind.NEW_COLORWAY,
            size_us=size,
            old_price=None,
            old_stock=None,
            new_price=Decimal("160.00") if size >= 10.5 else Decimal("150.00"),
            cart_url=f"https://replica.example/cart/{i}:1",
        )
        for i, size in enumerate(sizes, start=1)
    ]
    [part] = render_digest(alerts)
    lines = part.text.split("\n")
    assert lines[:3] == [
        "<b>New colorway</b> · <b>Rain Cloud</b> (M2002RDA) · Replica Kicks",
        "US 8, 8.5, 9, 9.5, 10: $150.00",
        "US 10.5, 11: $160.00",
    ]
    # seven sizes are too many buttons: the cart links go in the text, one per size
    assert lines[3].startswith('🛒 <a href="https://replica.example/cart/1:1">US 8</a> · ')
    assert parse(part.text).links[:7] == [
        f"https://replica.example/cart/{i}:1" for i in range(1, 8)
    ]
    assert part.buttons[0] == (Button("View at Replica Kicks", url=PRODUCT),)


def test_many_sizes_put_cart_links_in_the_text_and_keep_the_product_button() -> None:
    alerts = [
        make_alert(i, size_us=7.0 + i / 2, cart_url=f"https://replica.example/cart/{i}:1")
        for i in range(8)
    ]
    [part] = render_digest(alerts, charts=True)
    checker = parse(part.text)
    assert checker.links[:8] == [f"https://replica.example/cart/{i}:1" for i in range(8)]
    assert part.buttons == (
        (Button("View at Replica Kicks", url=PRODUCT), Button("📈 Chart", "chart:M2002RDA:-")),
        (Button("🔕 Mute M2002RDA for 24 h", "mute:M2002RDA"),),
    )


def test_shop_text_is_escaped_everywhere() -> None:
    nasty = "<b>&\"'"
    alert = make_alert(
        shop=nasty,
        colorway_name=f"Rain {nasty} Cloud",
        size_us=None,
        size_label=f"UK 9.5 {nasty}",
        image=None,
        url=f'{URL}&x="><script>',
    )
    other = make_alert(2, style_code="M2002RHO", url=f'{URL}&x="><script>')
    [part] = render_digest([alert, other])
    assert "&lt;b&gt;&amp;&quot;&#x27;" in part.text
    assert "<b>&" not in part.text and "<script>" not in part.text
    checker = parse(part.text)
    shown = "".join(checker.text)
    assert f"· {nasty}\n" in shown and f"Rain {nasty} Cloud" in shown
    assert f"UK 9.5 {nasty}" in shown
    assert f'{URL}&x="><script>' in checker.links  # the link survives, unbroken


def test_several_products_are_one_digest_explicit_subscriptions_first() -> None:
    alerts = [
        make_alert(1, explicit=False, style_code="ML2002RA", colorway_name=None),
        make_alert(2, kind=EventKind.RESTOCK, size_us=11.0, old_stock=Stock.SOLD_OUT),
        make_alert(3, explicit=False, style_code="ML2002RA", colorway_name=None, size_us=9.0),
    ]
    [part] = render_digest(alerts)
    assert part.outbox_ids == (2, 3, 1)
    assert part.photo is None and part.preview_url == IMAGE
    lines = part.text.split("\n")
    assert lines[0] == "<b>3 alerts</b>"
    assert lines[2] == "<b>Back in stock</b> · <b>Rain Cloud</b> (M2002RDA) · Replica Kicks"
    assert lines[3] == "US 11: $139.99"
    assert lines[4] == f'🛒 <a href="{CART}">US 11</a> · <a href="{URL}">View</a>'
    assert lines[6] == "<b>Price drop</b> · <b>ML2002RA</b> · Replica Kicks"
    assert lines[7] == "US 9, 10: $144.99 → $139.99, -$5.00 (-3%)"


def test_a_big_sale_is_one_message_with_the_best_discounts_first_and_the_rest_counted() -> None:
    alerts = []
    oid = 0
    for colorway in range(12):  # 12 colorways x 16 sizes, from 5% to 27% off
        for size in range(16):
            oid += 1
            off = Decimal(5 + 2 * colorway) / 100
            alerts.append(
                make_alert(
                    oid,
                    explicit=colorway == 0,
                    style_code=f"M2002R{chr(65 + colorway)}A",
                    product_url=f"{PRODUCT}-{colorway}",
                    old_price=Decimal("150.00"),
                    new_price=Decimal("150.00") * (1 - off),
                    size_us=6.0 + size / 2,
                )
            )
    parts = render_digest(alerts[:189])
    assert len(parts) == 1
    [part] = parts
    assert sorted(part.outbox_ids) == list(range(1, 190))  # every alert is told about
    text = part.text
    assert text.startswith(
        "<b>189 alerts</b>\n\n<b>12 colorways</b>: 189 sizes cheaper, up to -27%."
    )
    headings = [line for line in text.split("\n") if line.startswith("<b>Price drop</b>")]
    assert len(headings) == 8
    assert "M2002RAA" in headings[0]  # the explicit subscription first
    assert "M2002RLA" in headings[1]  # then the biggest discount
    assert text.rstrip().endswith(
        "…and 64 more in 4 colorways: /price M2002REA · /price M2002RDA · /price M2002RCA …"
    )
    assert telegram_length(text) <= MAX_MESSAGE_LENGTH
    parse(text)


def test_a_long_one_product_alert_continues_after_the_caption() -> None:
    alerts = [
        make_alert(
            i,
            size_us=4.0 + i / 2,
            new_price=Decimal("100.00") + i,
            colorway_name="Rain Cloud " + "x" * 100,
        )
        for i in range(40)
    ]
    parts = render_digest(alerts)
    assert len(parts) == 2
    caption, rest = parts
    assert caption.photo == IMAGE and telegram_length(caption.text) <= MAX_CAPTION_LENGTH
    assert rest.photo is None and rest.buttons == ()
    assert rest.text.startswith("<b>Price drop</b> · <b>Rain Cloud xxx")  # heading again
    assert sorted(caption.outbox_ids + rest.outbox_ids) == list(range(40))
    assert not set(caption.outbox_ids) & set(rest.outbox_ids)


def test_long_digests_split_cleanly_and_every_alert_is_in_exactly_one_part() -> None:
    alerts = [
        make_alert(
            1000 + i,
            style_code=f"M2002R{i % 7:02d}",
            product_url=f"{PRODUCT}{i % 7}",
            colorway_name=f"Colorway <{i % 7}> & friends",
            shop='Shop "1" & <Co>\'s',
            size_us=4 + (i // 7) / 4,
            new_price=Decimal("100.00") + i,
            url=f"{URL}{i}&utm=a&b=<{i}>",
        )
        for i in range(300)
    ]
    parts = render_digest(alerts)
    assert len(parts) > 1
    seen: list[int] = []
    for number, part in enumerate(parts, start=1):
        assert telegram_length(part.text) <= MAX_MESSAGE_LENGTH
        assert part.text.startswith(f"<b>300 alerts</b> (part {number} of {len(parts)})\n\n")
        parse(part.text)
        seen.extend(part.outbox_ids)
    assert sorted(seen) == [a.outbox_id for a in alerts]
    assert len(seen) == len(set(seen))
    assert len(parts) <= sum(telegram_length(p.text) for p in parts) // 3000 + 1


def test_money_and_percent() -> None:
    assert change_text(Decimal("150"), Decimal("127.50"), "USD") == (
        "$150.00 → $127.50, -$22.50 (-15%)"
    )
    assert change_text(Decimal("150"), Decimal("165"), "EUR") == "€150.00 → €165.00, +€15.00 (+10%)"
    assert change_text(Decimal("200"), Decimal("199"), "USD").endswith("(-0.5%)")
    assert price_text(make_alert(old_price=None)) == "$139.99"
    assert news_text(make_alert(new_stock=Stock.UNKNOWN)).endswith("stock unknown")
    assert news_text(make_alert(kind=EventKind.DELISTED)) == "no longer listed"
    assert news_text(make_alert(kind=EventKind.SOLD_OUT, new_stock=Stock.SOLD_OUT)) == ""


def test_sizes_in_order_with_us_said_once() -> None:
    alerts = [
        make_alert(1, size_us=10.0, width="2E"),
        make_alert(2, size_us=8.0),
        make_alert(3, size_us=None, size_label="4Y"),
    ]
    assert sizes_text(alerts) == "US 8, 10 2E, 4Y"


def test_only_web_links_are_linked() -> None:
    other = make_alert(2, style_code="M2002RHO")
    for bad in ("javascript:alert(1)", "https://x.example/" + "a" * 2000):
        [part] = render_digest(
            [make_alert(url=bad, cart_url=None, image=bad, product_url=bad), other]
        )
        assert bad not in part.text


def test_length_counts_utf16_like_telegram() -> None:
    assert telegram_length("abc") == 3
    assert telegram_length("→") == 1
    assert telegram_length("👟") == 2  # outside the BMP: two code units


def test_nothing_to_say_is_no_message() -> None:
    assert render_digest([]) == []


def test_a_restock_says_how_long_it_was_gone_and_the_price_against_the_last_told() -> None:
    restock = make_alert(
        kind=EventKind.RESTOCK,
        old_price=Decimal("150.00"),  # when it sold out
        new_price=Decimal("120.00"),
        told_price=Decimal("140.00"),  # what this chat heard last
        old_stock=Stock.SOLD_OUT,
        since="2026-11-25T09:56:00.000000Z",
    )
    assert news_text(restock) == "$140.00 → $120.00, -$20.00 (-14%), back after 4 min"
    never_told = dataclasses.replace(restock, told_price=None, since=None)
    assert news_text(never_told) == "$120.00"


@pytest.mark.parametrize(
    ("since", "said"),
    [
        ("2026-11-25T09:59:30.000000Z", "back after 30 s"),
        ("2026-11-25T07:00:00.000000Z", "back after 3 h"),
        ("2026-11-22T10:00:00.000000Z", "back after 3 days"),
        ("not a time", ""),
        ("2026-11-25T10:05:00.000000Z", ""),  # clocks that disagree say nothing
    ],
)
def test_how_long_a_size_was_gone(since: str, said: str) -> None:
    assert gone_text(since, "2026-11-25T10:00:00.000000Z") == said
