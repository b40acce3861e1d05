"""Alert messages: content, escaping of shop text, and clean splits under 4,096 characters."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from bot.messages import (
    MAX_MESSAGE_LENGTH,
    MessagePart,
    alert_line,
    gone_text,
    price_text,
    render_digest,
    size_text,
    telegram_length,
)
from pricewatch.changes import EventKind
from pricewatch.models import Stock
from pricewatch.outbox import Alert

URL = "https://replica.example/products/new-balance-2002r-m2002rda?variant=40001"


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


def test_one_alert_message_says_everything_a_subscriber_needs() -> None:
    [part] = render_digest([make_alert()])
    assert part == MessagePart(
        "<b>Rain Cloud</b> (M2002RDA)\n"
        "• <b>Price drop</b>: US 10 at Replica Kicks, $144.99 → $139.99, in stock. "
        f'<a href="{URL}">View</a>',
        (1,),
    )


def test_shop_text_is_escaped_everywhere() -> None:
    nasty = "<b>&\"'"
    alert = make_alert(
        shop=nasty,
        colorway_name=f"Rain {nasty} Cloud",
        size_label=f"UK 9.5 {nasty}",
        url=f'{URL}&x="><script>',
    )
    [part] = render_digest([alert])
    assert "&lt;b&gt;&amp;&quot;&#x27;" in part.text
    assert "<b>&" not in part.text and "<script>" not in part.text
    checker = parse(part.text)
    shown = "".join(checker.text)
    assert f"at {nasty}," in shown and f"Rain {nasty} Cloud" in shown
    assert checker.links == [f'{URL}&x="><script>']  # the link survives, unbroken


def test_several_alerts_become_one_digest_grouped_by_colorway() -> None:
    alerts = [
        make_alert(1),
        make_alert(2, style_code="ML2002RA", colorway_name=None, kind=EventKind.NEW_COLORWAY),
        make_alert(3, kind=EventKind.RESTOCK, size_us=11.0, size_label="UK 10.5", old_price=None),
    ]
    [part] = render_digest(alerts)
    assert part.outbox_ids == (1, 3, 2)  # grouped: both M2002RDA alerts first
    lines = part.text.split("\n")
    assert lines[0] == "<b>3 alerts</b>"
    assert lines[2] == "<b>Rain Cloud</b> (M2002RDA)"
    assert lines[3].startswith("• <b>Price drop</b>: US 10 at")
    assert lines[4].startswith("• <b>Back in stock</b>: US 11 (UK 10.5) at Replica Kicks, $139.99.")
    assert lines[6] == "<b>ML2002RA</b>"
    assert lines[7].startswith("• <b>New colorway</b>:")
    parse(part.text)


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        (EventKind.PRICE_DROP, "Price drop"),
        (EventKind.PRICE_RISE, "Price rise"),
        (EventKind.RESTOCK, "Back in stock"),
        (EventKind.SOLD_OUT, "Sold out"),
        (EventKind.NEW_COLORWAY, "New colorway"),
        (EventKind.NEW_SIZE, "New size"),
        (EventKind.DELISTED, "Delisted"),
    ],
)
def test_every_kind_has_a_plain_label(kind: EventKind, label: str) -> None:
    assert alert_line(make_alert(kind=kind)).startswith(f"• <b>{label}</b>: ")


def test_sizes_show_the_shops_label_only_when_it_differs() -> None:
    assert size_text(make_alert(size_label="10")) == "US 10"
    assert size_text(make_alert(size_label="US 10")) == "US 10"
    assert size_text(make_alert(size_label="10.0")) == "US 10"
    assert size_text(make_alert(size_label="UK 9.5")) == "US 10 (UK 9.5)"
    assert size_text(make_alert(size_us=9.5, size_label="")) == "US 9.5"
    assert size_text(make_alert(size_us=None, size_label="4Y")) == "4Y"


def test_prices_and_stock() -> None:
    assert price_text(make_alert()) == "$144.99 → $139.99"
    assert price_text(make_alert(old_price=None)) == "$139.99"
    assert price_text(make_alert(currency="EUR", old_price=Decimal("139.99"))) == "€139.99"
    sold_out = alert_line(make_alert(kind=EventKind.SOLD_OUT, new_stock=Stock.SOLD_OUT))
    assert "sold out" not in sold_out.split("</b>", 1)[1]  # the label already says it
    unknown = alert_line(make_alert(new_stock=Stock.UNKNOWN))
    assert "stock unknown" in unknown
    assert "no longer listed" in alert_line(make_alert(kind=EventKind.DELISTED))


def test_only_web_links_are_linked() -> None:
    assert "<a " not in alert_line(make_alert(url="javascript:alert(1)"))
    assert "<a " not in alert_line(make_alert(url="https://x.example/" + "a" * 2000))


def test_300_alerts_split_cleanly_and_every_alert_is_in_exactly_one_part() -> None:
    alerts = [
        make_alert(
            1000 + i,
            style_code=f"M2002R{i % 7:02d}",
            colorway_name=f"Colorway <{i % 7}> & friends",
            shop=f'Shop "{i % 5}" & <Co>\'s {"x" * (i % 40)}',
            size_us=7 + (i % 12) / 2,
            size_label=f"UK {6.5 + (i % 12) / 2}",
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
        checker = parse(part.text)
        assert len(checker.links) == len(part.outbox_ids)  # one whole line per alert
        seen.extend(part.outbox_ids)
    assert sorted(seen) == [a.outbox_id for a in alerts]
    assert len(seen) == len(set(seen))
    # parts are well used: splitting is not one alert per message
    assert len(parts) <= sum(telegram_length(p.text) for p in parts) // 3000 + 1


def test_a_colorway_continued_in_the_next_part_gets_its_heading_again() -> None:
    alerts = [make_alert(i, shop="S" * 70) for i in range(60)]
    parts = render_digest(alerts)
    assert len(parts) >= 2
    for part in parts:
        assert part.text.split("\n")[2] == "<b>Rain Cloud</b> (M2002RDA)"


def test_split_respects_a_smaller_limit_and_never_cuts_a_line() -> None:
    alerts = [make_alert(i) for i in range(10)]
    parts = render_digest(alerts, max_length=600)
    assert all(telegram_length(p.text) <= 600 for p in parts)
    lines = [line for p in parts for line in p.text.split("\n") if line.startswith("•")]
    assert lines == [alert_line(a) for a in alerts]


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
    line = alert_line(restock)
    assert line.startswith(
        "• <b>Back in stock</b>: US 10 at Replica Kicks, $140.00 → $120.00, back after 4 min."
    )
    never_told = dataclasses.replace(restock, told_price=None, since=None)
    assert "$120.00, in stock" not in alert_line(never_told)
    assert alert_line(never_told).startswith(
        "• <b>Back in stock</b>: US 10 at Replica Kicks, $120.00."
    )


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
