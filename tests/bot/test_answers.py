"""The bot without Telegram (bot.answers, bot.guided, bot.parsing, bot.render): parsing, replies,
guided flow, all over a real SQLite file written through `Store`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot import answers, guided, manage, parsing, render
from bot.guided import Step
from bot.parsing import BadInput, Catalog
from bot.render import Photo, Reply
from pricewatch.changes import DEFAULT_KINDS, EventKind
from pricewatch.models import Stock
from pricewatch.store import Store
from pricewatch.subscriptions import list_subscriptions, upsert_chat
from tests.bot.shopdata import ADMIN_CHAT, bot_config, build_catalog, crawl, listing

CHAT = 1001
CATALOG = Catalog(
    names={"M2002RDA": "Protection Pack Rain Cloud", "M2002RXU": None, "M2002RHO": "Phantom"},
    shops=("Bodega", "Kith", "Shoe Palace"),
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return build_catalog(tmp_path / "bot.db")


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    with Store(db) as opened:
        upsert_chat(opened, CHAT)
        yield opened


def problem(text: str, catalog: Catalog = CATALOG) -> str:
    with pytest.raises(BadInput) as caught:
        parsing.parse_subscribe(text, catalog)
    return str(caught.value)


def all_buttons(reply: Reply) -> list[render.Button]:
    return [button for row in reply.keyboard for button in row]


# -- /subscribe in one line ----------------------------------------------------------------------


def test_one_line_subscription() -> None:
    request = parsing.parse_subscribe("M2002RDA 10 max=150", CATALOG)
    assert request == parsing.SubscribeRequest(
        "M2002RDA", (10.0,), None, Decimal(150), DEFAULT_KINDS
    )
    assert parsing.parse_subscribe("any 10.5", CATALOG).style_code is None
    assert parsing.parse_subscribe("m2002rda", CATALOG).style_code == "M2002RDA"


@pytest.mark.parametrize(
    ("text", "sizes"),
    [
        ("M2002RDA uk9.5", (10.0,)),
        ("M2002RDA uk 9.5", (10.0,)),
        ("M2002RDA eu44", (10.0,)),
        ("M2002RDA w11.5", (10.0,)),
        ("M2002RDA 10,10.5", (10.0, 10.5)),
        ("M2002RDA 10,5", (10.5,)),  # a decimal comma
        ("M2002RDA 9 10 uk10.5", (9.0, 10.0, 11.0)),
        ("M2002RDA sizes=9,10", (9.0, 10.0)),
        ("M2002RDA", ()),
    ],
)
def test_sizes_in_us_uk_eu_and_womens(text: str, sizes: tuple[float, ...]) -> None:
    assert parsing.parse_subscribe(text, CATALOG).sizes == sizes


def test_options_shop_kinds_and_max() -> None:
    request = parsing.parse_subscribe(
        'M2002RDA 10 shop="shoe palace" kinds=restock,price-drop max=$139.99', CATALOG
    )
    assert request.shop == "Shoe Palace"
    assert request.kinds == (EventKind.RESTOCK, EventKind.PRICE_DROP)
    assert request.max_price == Decimal("139.99")
    # phones type curly quotes
    assert parsing.parse_subscribe("any shop=“Shoe Palace”", CATALOG).shop == "Shoe Palace"
    assert parsing.parse_subscribe("any shop=kith", CATALOG).shop == "Kith"
    assert parsing.parse_subscribe("any kinds=all", CATALOG).kinds == tuple(EventKind)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("M2002RDA 99", "99 is not a US men's size. If you meant EU, send EU 99."),
        ("M2002RDA 10 max=-5", "max price must be more than 0"),
        ("M2002RDA 10 max=0", "max price must be more than 0"),
        ("M2002RDA 10 max=abc", "I couldn't read “abc” as a price; try max=150"),
        ("M2002RDA 10 max=$-5", "max price must be more than 0"),
        ("M2002RDA 10 max=nan", "I couldn't read “nan” as a price"),
        ("M2002RDA 10 foo=1", "I don't know the option “foo=”"),
        ("M2002RDA shop=Footlocker", "I don't know the shop “Footlocker”. Shops: Bodega, Kith"),
        ("M2002RDA kinds=restock,bogus", "I don't know the alert kind “bogus”"),
        ("M2002RDA max=150 max=140", "max= is given twice"),
        ('M2002RDA shop="Shoe Palace', "A quote is not closed"),
        ("M2002XDA 10", "I don't track M2002XDA yet. Did you mean M2002RDA?"),
        ("hello 10", "I don't know the colorway “hello”. Send /colorways to see what I track."),
        ("10 max=150", "Which colorway? Start with a style code, a name or “any”"),
        ("", "Tell me what to watch"),
        ("M2002RDA uk", "UK what?"),
        ("max=150", "Start with a style code or “any”"),
    ],
)
def test_bad_input_gets_a_clear_message(text: str, message: str) -> None:
    assert message in problem(text)


def test_long_input_is_refused_without_echoing_it() -> None:
    assert problem("M2002RDA " + "x" * 5000) == parsing.TOO_LONG
    # under the length limit, a huge word is quoted back cut to a few characters
    message = problem("M2002RDA " + "9" * 200)
    assert "9" * 21 not in message and "…" in message
    message = problem("A" * 250)
    assert "A" * (render.QUOTE_LIMIT + 1) not in message


def test_quote_is_one_printable_line_at_most_50_characters() -> None:
    assert render.quote("a\nb\tc\x00d") == "a b cd"
    assert len(render.quote("x" * 5000)) == render.QUOTE_LIMIT


# -- subscribing, listing, removing --------------------------------------------------------------


def test_subscribe_and_describe(store: Store) -> None:
    reply = manage.subscribe_command(store, CHAT, "M2002RDA 10 max=150", limit=25)
    [subscription] = list_subscriptions(store, CHAT)
    assert (subscription.style_code, subscription.sizes, subscription.max_price) == (
        "M2002RDA",
        (10.0,),
        Decimal(150),
    )
    described = (
        "M2002RDA (Protection Pack Rain Cloud), US 10, any shop, max 150 (any currency), "
        "alerts: restock, price drop, new colorway, new size"
    )
    assert reply.text.split("\n") == [
        f"✅ Subscribed (1): {described}.",
        "Now: in stock at $139.99 at Kith (US 10).",  # what it matches, at once
        "All of them: /subscriptions · remove this one: /unsubscribe 1",
    ]
    [listed] = manage.subscriptions_reply(store, CHAT)
    assert f"1. {described}" in listed.text  # numbered per chat, whatever the row id
    assert [b.text for b in all_buttons(listed)] == ["✖ 1 M2002RDA · US 10"]
    described_any = render.describe(None, (9.5, 10), "Kith", None, [EventKind.RESTOCK], {})
    assert described_any == "any 2002R, US 9.5, 10, Kith, no price limit, alerts: restock"


def test_a_duplicate_and_the_cap(store: Store) -> None:
    manage.subscribe_command(store, CHAT, "M2002RDA 10", limit=2)
    again = manage.subscribe_command(store, CHAT, "m2002rda 10", limit=2)
    assert "You already have this subscription" in again.text
    manage.subscribe_command(store, CHAT, "any 10", limit=2)
    capped = manage.subscribe_command(store, CHAT, "M2002RXU", limit=2)
    assert capped.text.startswith("Sorry: this chat already has 2 subscriptions (the limit is 2)")
    assert len(list_subscriptions(store, CHAT)) == 2


def test_untracked_but_real_code_is_accepted_with_a_note(store: Store) -> None:
    reply = manage.subscribe_command(store, CHAT, "M2002RDN 10", limit=25)
    assert "Subscribed" in reply.text
    assert "not seen in any shop yet; you'll hear when it appears" in reply.text
    assert "Did you mean M2002RDA?" in reply.text
    reply = manage.subscribe_command(store, CHAT, "M2002RXX", limit=25)
    assert "I don't track M2002RXX yet" in reply.text and "Did you mean M2002RXU?" in reply.text
    assert [s.style_code for s in list_subscriptions(store, CHAT)] == ["M2002RDN", "M2002RXX"]


def test_bad_input_is_a_reply_not_an_exception(store: Store) -> None:
    reply = manage.subscribe_command(store, CHAT, "M2002RDA 10 max=-5", limit=25)
    assert reply == Reply("Max price must be more than 0")
    assert list_subscriptions(store, CHAT) == []


# -- max= : an amount a shop could ask, in the currency it names -------------------------------


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("150", "150", None),  # no currency: the max applies to offers in any currency
        ("$139.99", "139.99", "USD"),
        ("€130", "130", "EUR"),
        ("130eur", "130", "EUR"),
        ("£99", "99", "GBP"),
        ('"130 EUR"', "130", "EUR"),
        ("130 EUR", "130", "EUR"),  # the currency as a word of its own
        ("130 usd", "130", "USD"),
        ("¥30000", "30000", "JPY"),  # above the 5,000 of most currencies: yen are small
        ("0.01", "0.01", None),
        ("$5000", "5000", "USD"),
        ("1,299.50€", "1299.50", "EUR"),
    ],
)
def test_max_price_and_its_currency(text: str, amount: str, currency: str | None) -> None:
    request = parsing.parse_subscribe(f"M2002RDA 10 max={text}", CATALOG)
    assert (request.max_price, request.max_currency) == (Decimal(amount), currency)
    assert request.sizes == (10.0,)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1e309", "I couldn't read “1e309” as a price"),  # was stored as "max $1"
        ("1e-7", "I couldn't read “1e-7” as a price"),  # was stored as "max $1"
        ("0.001", "max price must be at least 0.01"),  # was "$0.00": it could never fire
        ("€0.001", "max price must be at least €0.01"),
        ("¥0.5", "max price must be at least ¥1"),
        ("¥130.5", "a price in JPY has no decimals"),
        ("$1.5555", "a price in USD has at most 2 decimals"),
        ("1.999", "max price can have at most 2 decimals"),
        ("5000.01", "max price must be at most 5,000 (for yen or won"),
        ("$100000", "max price must be at most $5,000"),
        ("¥500001", "max price must be at most ¥500,000"),
        ("130kr", "I don't know the currency “kr”"),  # SEK, DKK, NOK or ISK?
        ("130bucks", "I don't know the currency “bucks”"),
        ("inf", "I couldn't read “inf” as a price"),
    ],
)
def test_max_price_out_of_range_or_unreadable(text: str, message: str) -> None:
    assert message in problem(f"M2002RDA 10 max={text}")


def test_a_currency_word_after_max_is_not_a_size() -> None:
    eu = parsing.parse_subscribe("M2002RDA max=130 eur 44", CATALOG)  # "eur 44" is an EU size
    assert (eu.max_price, eu.max_currency, eu.sizes) == (Decimal(130), None, (10.0,))
    usd = parsing.parse_subscribe("M2002RDA max=130 USD 10", CATALOG)
    assert (usd.max_currency, usd.sizes) == ("USD", (10.0,))
    assert "couldn't read 'kith' as a shoe size" in problem("M2002RDA max=130 kith")


def test_the_max_is_stored_and_shown_with_its_currency(store: Store) -> None:
    reply = manage.subscribe_command(store, CHAT, "M2002RDA 10 max=€130", limit=25)
    assert "US 10, any shop, max €130, alerts" in reply.text
    [subscription] = list_subscriptions(store, CHAT)
    assert (subscription.max_price, subscription.max_currency) == (Decimal(130), "EUR")
    # the same amount in another currency is another subscription; in the same, a duplicate
    dollars = manage.subscribe_command(store, CHAT, "M2002RDA 10 max=$130", limit=25)
    assert "max $130" in dollars.text
    anywhere = manage.subscribe_command(store, CHAT, "M2002RDA 10 max=130", limit=25)
    assert "max 130 (any currency)" in anywhere.text
    again = manage.subscribe_command(store, CHAT, "M2002RDA 10 max=130EUR", limit=25)
    assert "You already have this subscription" in again.text
    [listed] = manage.subscriptions_reply(store, CHAT)
    assert "max €130" in listed.text and "max $130" in listed.text
    assert [(s.max_price, s.max_currency) for s in list_subscriptions(store, CHAT)] == [
        (Decimal(130), "EUR"),
        (Decimal(130), "USD"),
        (Decimal(130), None),
    ]


def test_the_guided_flow_reads_a_typed_currency(store: Store) -> None:
    flow = guided.new_flow(guided.flow_options(store), started=0.0, style_code="M2002RDA")
    guided.flow_press(flow, "sizes_done", "")
    guided.flow_press(flow, "shop", "*")
    outcome = guided.flow_text(flow, "0.001")
    assert outcome is not None and outcome.error == "Max price must be at least 0.01"
    outcome = guided.flow_text(flow, "£99")
    assert outcome is not None and (flow.max_price, flow.max_currency) == (Decimal(99), "GBP")
    assert outcome.screen is not None and "max £99" in outcome.screen.text
    guided.flow_press(flow, "kinds_done", "")
    guided.flow_press(flow, "subscribe", "")
    reply = guided.finish_flow(store, CHAT, flow, limit=25)
    assert "max £99" in reply.text
    [subscription] = list_subscriptions(store, CHAT)
    assert subscription.max_currency == "GBP"


def test_unsubscribe_buttons_and_numbers(store: Store) -> None:
    upsert_chat(store, 999)
    manage.subscribe_command(store, 999, "M2002RHO", limit=25)  # another chat's comes first
    for line in ("M2002RDA 10", "any 9.5 shop=Kith", "M2002RXU"):
        manage.subscribe_command(store, CHAT, line, limit=25)
    first, second, third = (s.id for s in list_subscriptions(store, CHAT))
    menu = manage.unsubscribe_command(store, CHAT, "")
    assert [b.data for b in all_buttons(menu)] == [
        f"remove:{first}",
        f"remove:{second}",
        f"remove:{third}",
    ]
    assert all_buttons(menu)[1].text == "✖ 2 any 2002R · US 9.5 · Kith"
    assert manage.parse_remove_data(f"remove:{first}") == first
    assert manage.parse_remove_data("remove:x") is None

    toast, after = manage.remove_pressed(store, CHAT, first)
    assert toast == "Removed"
    assert [b.data for b in all_buttons(after)] == [f"remove:{second}", f"remove:{third}"]
    assert after.text.split("\n")[1].startswith("1. any 2002R, US 9.5, Kith")  # renumbered
    toast, _ = manage.remove_pressed(store, CHAT, first)  # pressed twice
    assert toast == "That one was already removed"

    assert manage.unsubscribe_command(store, 999, "2").text == (
        "This chat has no subscription 2. See /subscriptions."
    )  # numbers are per chat
    assert manage.unsubscribe_command(store, CHAT, "#2").text == "Removed subscription 2."
    assert [s.id for s in list_subscriptions(store, CHAT)] == [second]
    assert "Send /unsubscribe 3" in manage.unsubscribe_command(store, CHAT, "M2002RDA").text
    question = manage.unsubscribe_command(store, CHAT, "all")  # asks first
    assert question.text == "Remove all 1 subscription(s) of this chat?"
    assert [b.data for b in all_buttons(question)] == ["confirm:remove_all:", "cancel:remove_all"]
    assert len(list_subscriptions(store, CHAT)) == 1
    assert manage.confirm_pressed(store, CHAT, "confirm:remove_all:")[1].text == (
        "Removed 1 subscription(s)."
    )
    assert manage.unsubscribe_command(store, CHAT, "").keyboard == ()


def test_in_a_group_a_removal_asks_first(store: Store) -> None:
    group = -100123
    upsert_chat(store, group, "supergroup")
    manage.subscribe_command(store, group, "M2002RDA 10", limit=25)
    [subscription] = list_subscriptions(store, group)
    question = manage.unsubscribe_command(store, group, "1", group=True)
    assert question.text.startswith("Remove subscription 1: M2002RDA")
    assert [b.data for b in all_buttons(question)] == [
        f"confirm:remove:{subscription.id}",
        "cancel:remove",
    ]
    _, by_button = manage.remove_pressed(store, group, subscription.id, group=True)
    assert by_button == question
    assert list_subscriptions(store, group) == [subscription]  # nothing removed yet
    toast, _ = manage.confirm_pressed(store, group, f"confirm:remove:{subscription.id}")
    assert toast == "Removed" and list_subscriptions(store, group) == []
    assert manage.confirm_pressed(store, group, "confirm:bogus")[1].text == manage.NOTHING_CHANGED


def test_stop_asks_then_forgets_the_chat(store: Store) -> None:
    manage.subscribe_command(store, CHAT, "M2002RDA 10", limit=25)
    question = manage.stop_question(store, CHAT)
    assert question.text == ("Delete this chat's 1 subscription(s) and everything I know about it?")
    assert len(list_subscriptions(store, CHAT)) == 1  # asking deletes nothing
    toast, done = manage.confirm_pressed(store, CHAT, all_buttons(question)[0].data or "")
    assert toast == "Done"
    assert "deleted this chat's 1 subscription(s)" in done.text
    assert store.db.execute("SELECT count(*) FROM chats WHERE chat_id = ?", [CHAT]).fetchone() == (
        0,
    )


def test_a_new_subscription_is_told_what_it_overlaps_and_what_it_matches_now(
    store: Store,
) -> None:
    manage.subscribe_command(store, CHAT, "any 10", limit=25)
    manage.subscribe_command(store, CHAT, "M2002RXU", limit=25)
    reply = manage.subscribe_command(store, CHAT, "M2002RDA 10 shop=Kith", limit=25)
    assert "It overlaps your subscription 1: an alert that matches both comes once." in reply.text
    reply = manage.subscribe_command(store, CHAT, "M2002RXU 10 kinds=sold_out", limit=25)
    assert "overlaps" not in reply.text  # no kind of alert in common with 1 or 2
    assert "Now: in stock at $170.00 at Kith (US 10)." in reply.text
    assert "Now: not listed in any shop yet." in (
        manage.subscribe_command(store, CHAT, "M2002RHO 13", limit=25).text
    )
    assert "Now: not known to be in stock (1 shop)." in (  # Bodega's last crawl failed
        manage.subscribe_command(store, CHAT, "M2002RHO 9.5", limit=25).text
    )
    upsert_chat(store, 5)
    upsert_chat(store, 6)
    assert "Now: in stock at $139.99 at Kith (M2002RDA US 10)" in (
        manage.subscribe_command(store, 5, "any 10", limit=25).text
    )
    sold_out = manage.subscribe_command(store, CHAT, "M2002RDA 11", limit=25).text
    assert "Now: sold out everywhere (1 shop)." in sold_out
    above = manage.subscribe_command(store, 6, "M2002RDA 10 max=120", limit=25).text
    assert "Now: in stock at $139.99 at Kith (US 10), above your max." in above


# -- /price, /colorways --------------------------------------------------------------------------


def test_price_in_one_size_in_stock_first_cheapest_first(store: Store) -> None:
    [reply] = answers.price_replies(store, "M2002RDA 10", charts=True)
    lines = reply.text.split("\n")
    assert lines[0] == "<b>M2002RDA (Protection Pack Rain Cloud)</b> · US 10"
    assert lines[1] == (
        "1. <b>$139.99</b> (was $150.00) · Kith · in stock · "
        "US 10 (shop label 'US 10 / UK 9.5 / EU 44') · "
        '<a href="https://kith.example/products/m2002rda?variant=Kith-M2002RDA-10">open</a>'
    )
    # Bodega's last crawl failed: its stock is unknown, never "sold out"
    assert lines[2].startswith("2. <b>$145.00</b> · Bodega · stock unknown · US 10 · <a href=")
    assert "sold out" not in reply.text
    assert reply.keyboard == ((render.Button("📈 Price history chart", "chart:M2002RDA:10"),),)
    assert answers.parse_chart_data("chart:M2002RDA:10") == ("M2002RDA", 10.0)
    assert answers.parse_chart_data("chart:M2002RDA:-") == ("M2002RDA", None)
    for bad in ("c:M2002RDA:10", "chart:M2002RDA", "chart:m2002rda:10", "chart:M2002RDA:10:x"):
        assert answers.parse_chart_data(bad) is None


def test_mute_button_data(store: Store) -> None:
    assert answers.mute_data("M2002RDA") == "mute:M2002RDA"
    assert answers.mute_pressed(store, CHAT, "mute:M2002RDA") == "Muted M2002RDA here for 24 h"
    for bad in ("mute:", "mute:x y", "mute:M2002RDA:1", "chart:M2002RDA:10"):
        assert answers.mute_pressed(store, CHAT, bad) == answers.STALE_BUTTON
    assert store.db.execute("SELECT chat_id, style_code FROM mutes").fetchall() == [
        (CHAT, "M2002RDA")
    ]


def test_price_in_every_size_one_line_per_shop(store: Store) -> None:
    [reply] = answers.price_replies(store, "m2002rda", charts=False)
    lines = reply.text.split("\n")
    assert lines[1].startswith(
        "<b>Kith</b>: from <b>$139.99</b> · in stock: US 9, 10 · sold out: US 11 · <a href="
    )
    assert lines[2].startswith("<b>Bodega</b>: <b>$145.00</b> · stock unknown: US 10 · <a href=")
    assert reply.keyboard == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("M2002RXX", "I don't track M2002RXX yet. Did you mean M2002RXU?"),
        ("", "Which colorway? Like /price M2002RDA 10"),
        ("any 10", "Which colorway? Like /price M2002RDA 10"),
        ("M2002RDA 99", "99 is not a US men"),
        ("M2002RDA 9 10", "One size at a time"),
        ("x" * 5000, "That is too long"),
    ],
)
def test_price_bad_input(store: Store, text: str, message: str) -> None:
    [reply] = answers.price_replies(store, text)
    assert message in reply.text
    assert "x" * 51 not in reply.text


def test_price_in_a_size_nobody_lists(store: Store) -> None:
    [reply] = answers.price_replies(store, "M2002RDA 13")
    assert "No shop lists it in US 13 right now." in reply.text
    assert "Sizes listed: US 9, 10, 11" in reply.text


def test_colorways(store: Store) -> None:
    [reply] = answers.colorways_replies(store)
    lines = reply.text.split("\n")
    assert lines[:3] == ["<b>Tracked 2002R colorways</b> (3):", "", "<b>Core</b>"]
    assert lines[3] == "<b>M2002RHO</b> Core Pack Phantom — nothing in stock right now · 1 shop"
    assert lines[5:7] == [  # grouped by family, names in full (the catalog's)
        "<b>Protection Pack</b>",
        "<b>M2002RDA</b> Protection Pack Rain Cloud — from <b>$139.99 at Kith</b> "
        "· 2 in stock · 2 shops",
    ]


def test_shop_and_user_text_is_escaped(tmp_path: Path) -> None:
    with Store(tmp_path / "escape.db") as store:
        crawl(
            store,
            "A&B <Shop>",
            [listing("A&B <Shop>", "M2002RZZ", "10", "150", name="<script>alert(1)</script>")],
        )
        upsert_chat(store, CHAT)
        texts = [r.text for r in answers.price_replies(store, "M2002RZZ")]
        texts += [r.text for r in answers.colorways_replies(store)]
        texts.append(manage.subscribe_command(store, CHAT, "M2002RZZ shop=<b>x</b>", limit=5).text)
        texts.append(answers.unknown_command_text("/<i>"))
    joined = "\n".join(texts)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in joined
    assert "A&amp;B &lt;Shop&gt;" in joined
    assert "“&lt;b&gt;x&lt;/b&gt;”" in joined and "&lt;i&gt;" in joined
    assert "<script>" not in joined and "<Shop>" not in joined and "<b>x" not in joined


def test_long_replies_are_split_on_line_boundaries(tmp_path: Path) -> None:
    codes = [f"M2002R{a}{b}" for a in "ABCDEFGHJK" for b in "ABCDEFGHJKLMNPQRSTUV"]
    with Store(tmp_path / "many.db") as store:
        crawl(
            store,
            "Kith",
            [
                listing("Kith", code, "10", "150", name="A long colorway name " * 3)
                for code in codes
            ],
        )
        replies = answers.colorways_replies(store)
    assert len(replies) > 1
    assert all(len(r.text) <= render.MAX_MESSAGE_LENGTH for r in replies)
    lines = "\n".join(r.text for r in replies).split("\n")
    shown = [line for line in lines if line.startswith("<b>M2002R")]
    assert len(shown) == len(codes)  # nothing lost, nothing cut
    assert all(re.fullmatch(r"<b>M2002R\w+</b> .* · 1 shop", line) for line in shown)


def test_split_message() -> None:
    text = "\n".join(f"line {i:04d} " + "x" * 90 for i in range(200))
    parts = render.split_message(text)
    assert all(len(p) <= 4096 for p in parts) and len(parts) == 5
    assert "\n".join(parts) == text
    assert render.split_message("short") == ["short"]
    assert [len(p) for p in render.split_message("y" * 5000)] == [4096, 904]
    replies = render.split_replies(text, ((render.Button("b", "d"),),))
    assert [bool(r.keyboard) for r in replies] == [False] * 4 + [True]


# -- admin ---------------------------------------------------------------------------------------


def test_status_for_admins_only(store: Store, db: Path) -> None:
    config = bot_config(db)
    [refused] = answers.status_replies(store, config, CHAT)
    assert refused.text == "Sorry, /status is for admins."
    [reply] = answers.status_replies(store, config, ADMIN_CHAT, now=datetime.now(UTC))
    assert "✅ <b>Kith</b>: ok, " in reply.text
    assert "❌ <b>Bodega</b>: failed, " in reply.text
    assert "HTTP 503 from /products.json · 1 failed in 24 h" in reply.text
    assert "Outbox: 0 message(s) waiting" in reply.text


# -- menu and help -------------------------------------------------------------------------------


def test_every_command_is_in_the_menu_and_in_help() -> None:
    names = [name for name, _ in answers.menu_commands()]
    assert names == [
        "start", "help", "subscribe", "subscriptions", "unsubscribe", "price", "history",
        "colorways", "stop", "status",
    ]  # fmt: skip
    assert all(re.fullmatch(r"[a-z_]{1,32}", n) for n in names)
    assert all(1 <= len(d) <= 256 for _, d in answers.menu_commands())
    assert all(f"/{name}" in answers.help_text() for name in names)
    assert "history" not in [n for n, _ in answers.menu_commands(charts=False)]


# -- the guided flow -----------------------------------------------------------------------------


def test_guided_flow_from_colorway_to_subscription(store: Store) -> None:
    options = guided.flow_options(store, ["Kith", "Bodega"])
    assert options.shops == ("Bodega", "Kith")
    assert options.cheapest["M2002RDA"] == "$139.99 at Kith"
    flow = guided.new_flow(options, started=0.0, flow_id="abc123")
    screen = guided.flow_screen(flow)  # families first: every one the catalog knows
    assert [b.text for b in all_buttons(screen)] == [
        "Inline (1)",
        "Core (2)",
        "Protection Pack (8)",
        "GORE-TEX (2)",
        "Mule (2)",
        "Collab (1)",
        "Any 2002R",
        "✖ Cancel",
    ]
    assert all_buttons(screen)[4].data == "flow:abc123:family:4"
    guided.flow_press(flow, "family", "4")
    mules = guided.flow_screen(flow)
    assert "Which colorway? Mule:" in mules.text
    assert [b.text for b in all_buttons(mules)][:3] == [
        "2002R Mule · M2002RMB",
        "Protection Pack Mule Raincloud · M2002NA",
        "‹ Families",
    ]
    guided.flow_press(flow, "family", "-")
    guided.flow_press(flow, "family", "2")
    pack = [b.text for b in all_buttons(guided.flow_screen(flow))]
    assert "Protection Pack Rain Cloud · M2002RDA" in pack  # names in full

    steps = [
        ("colorway", "M2002RDA", Step.SIZES),
        ("size", "10", Step.SIZES),
        ("size", "10.5", Step.SIZES),
        ("size", "10.5", Step.SIZES),  # a second tap unselects
        ("sizes_done", "", Step.SHOP),
        ("shop", "1", Step.PRICE),
        ("price", "150", Step.KINDS),
        ("kind", "0", Step.KINDS),  # restock off
        ("kinds_done", "", Step.CONFIRM),
    ]
    for action, arg, step in steps:
        outcome = guided.flow_press(flow, action, arg)
        assert outcome.screen is not None and flow.step == step
    assert "Subscribe to</b>\nM2002RDA (Protection Pack Rain Cloud), US 10, Kith, max 150 " in (
        outcome.screen.text
    )
    done = guided.flow_press(flow, "subscribe", "")
    assert done.confirm and done.finished
    reply = guided.finish_flow(store, CHAT, flow, limit=25)
    assert "Subscribed" in reply.text
    [subscription] = list_subscriptions(store, CHAT)
    assert subscription.shop == "Kith" and subscription.sizes == (10.0,)
    assert subscription.kinds == (EventKind.PRICE_DROP, EventKind.NEW_COLORWAY, EventKind.NEW_SIZE)


def test_flow_screens_keyboards() -> None:
    options = guided.FlowOptions(
        colorways=tuple((f"M2002R{chr(65 + i)}A", None) for i in range(19)),
        shops=("Bodega", "Kith"),
        cheapest={},
    )
    flow = guided.new_flow(options, started=0.0, flow_id="0a0b0c")
    first = guided.flow_screen(flow)
    assert "(page 1 of 3)" in first.text
    assert len([b for b in all_buttons(first) if ":colorway:M2002R" in (b.data or "")]) == 8
    assert [b.text for b in all_buttons(first) if ":page:" in (b.data or "")] == ["More ›"]
    guided.flow_press(flow, "page", "2")
    last = guided.flow_screen(flow)
    assert [b.text for b in all_buttons(last) if ":page:" in (b.data or "")] == ["‹ Back"]
    guided.flow_press(flow, "colorway", "*")
    sizes = guided.flow_screen(flow)
    assert [b.text for b in all_buttons(sizes)][:3] == ["7", "7.5", "8"]
    guided.flow_press(flow, "size", "9.5")
    assert "✅ 9.5" in [b.text for b in all_buttons(guided.flow_screen(flow))]
    guided.flow_press(flow, "any_size", "")  # any size clears the selection
    assert flow.sizes == set() and flow.step == Step.SHOP
    shops = [b.text for b in all_buttons(guided.flow_screen(flow))]
    assert shops == ["Bodega", "Kith", "Any shop", "✖ Cancel"]
    guided.flow_press(flow, "shop", "*")
    prices = [b.text for b in all_buttons(guided.flow_screen(flow))]
    assert prices[:4] == ["No limit", "120", "130", "150"]  # no currency: applies to any
    guided.flow_press(flow, "price", "-")
    kinds = [b.text for b in all_buttons(guided.flow_screen(flow))]
    assert kinds[:2] == ["✅ restock", "▫️ sold out"] and kinds[-2:] == ["Done ›", "✖ Cancel"]
    for screen in (first, last, sizes):
        assert all(len((b.data or "").encode()) <= 64 for b in all_buttons(screen))


def test_flow_refuses_old_and_foreign_buttons() -> None:
    options = guided.FlowOptions((("M2002RDA", None),), ("Kith",), {})
    flow = guided.new_flow(options, started=100.0, flow_id="abcdef")
    assert guided.flow_is_current(flow, "abcdef", 200.0)
    assert not guided.flow_is_current(flow, "fedcba", 200.0)  # another (older) flow's button
    assert not guided.flow_is_current(flow, "abcdef", 100.0 + guided.FLOW_TTL_SECONDS)
    assert not guided.flow_is_current(None, "abcdef", 200.0)
    parsed = guided.parse_flow_data("flow:abcdef:colorway:M2002RDA")
    assert parsed == ("abcdef", "colorway", "M2002RDA")
    assert guided.parse_flow_data("flow:abcdef:no_such_action:") is None
    assert guided.parse_flow_data("f:abcdef:c:M2002RDA") is None  # an older bot's button
    assert guided.parse_flow_data("flow:zz:colorway:M2002RDA") is None
    assert guided.flow_press(flow, "sizes_done", "").toast  # a size button at the colorway step
    assert guided.flow_press(flow, "colorway", "M2002RZZ").toast == guided.STALE_MENU
    guided.flow_press(flow, "colorway", "M2002RDA")
    assert guided.flow_press(flow, "size", "not-a-size").toast == guided.STALE_MENU
    cancelled = guided.flow_press(flow, "cancel", "")
    assert cancelled.finished and cancelled.screen is not None
    assert "Cancelled" in cancelled.screen.text


def test_flow_typed_sizes_and_price() -> None:
    flow = guided.new_flow(guided.FlowOptions((), (), {}), started=0.0, style_code="M2002RDA")
    assert flow.step == Step.SIZES  # a deep link starts at the sizes
    outcome = guided.flow_text(flow, "uk9.5, 14")
    assert outcome is not None and flow.sizes == {10.0, 14.0}
    assert outcome.screen is not None and "Selected: US 10, 14" in outcome.screen.text
    outcome = guided.flow_text(flow, "99")
    assert outcome is not None and outcome.error and "99 is not a US men's size" in outcome.error
    guided.flow_press(flow, "sizes_done", "")
    guided.flow_press(flow, "shop", "*")
    outcome = guided.flow_text(flow, "-5")
    assert outcome is not None and outcome.error == "Max price must be more than 0"
    outcome = guided.flow_text(flow, "$140")
    assert outcome is not None and flow.max_price == Decimal(140) and flow.step == Step.KINDS
    assert guided.flow_text(flow, "hello") is None  # nothing to type at this step
    for index in (0, 2, 4, 5):  # every default kind off
        guided.flow_press(flow, "kind", str(index))
    assert flow.kinds == set()
    assert guided.flow_press(flow, "kinds_done", "").toast == "Choose at least one kind of alert"


def test_deep_links() -> None:
    tracked = {"M2002RDA"}
    assert guided.deep_link("M2002RDA", tracked) == ("M2002RDA", ())
    assert guided.deep_link("m2002rda_10", tracked) == ("M2002RDA", (10.0,))
    assert guided.deep_link("M2002RDN-99", tracked) == ("M2002RDN", ())
    assert guided.deep_link("hello", tracked) is None


# -- charts --------------------------------------------------------------------------------------


def test_history_chart(store: Store) -> None:
    photo = answers.history_command(store, "M2002RDA 10")
    assert isinstance(photo, Photo) and photo.data.startswith(b"\x89PNG")
    assert photo.caption.startswith("M2002RDA") and len(photo.caption) <= 1024
    missing = answers.history_command(store, "M2002RDA 13")
    assert isinstance(missing, Reply) and "No price history for M2002RDA in US 13" in missing.text
    unknown = answers.history_command(store, "M2002RXX")
    assert isinstance(unknown, Reply) and "Did you mean M2002RXU?" in unknown.text


def test_stock_words() -> None:
    assert [render.stock_label(s) for s in Stock] == ["in stock", "sold out", "stock unknown"]
    assert render.format_money(Decimal("150.00")) == "$150"
    assert render.format_money(Decimal("139.99")) == "$139.99"


# -- colorways by name -----------------------------------------------------------------------------


def test_names_work_wherever_a_style_code_does(store: Store) -> None:
    reply = manage.subscribe_command(store, CHAT, "rain cloud 10 max=150", limit=25)
    assert reply.text.startswith("✅ Subscribed (1): M2002RDA (Protection Pack Rain Cloud), US 10")
    assert parsing.parse_subscribe("peace be the journey uk 9", CATALOG).style_code == "ML2002R1"
    assert parsing.parse_subscribe("salehe 9.5 shop=Kith", CATALOG).sizes == (9.5,)
    [price] = answers.price_replies(store, "rain cloud 10")
    assert price.text.startswith("<b>M2002RDA (Protection Pack Rain Cloud)</b> · US 10")
    [ambiguous] = answers.price_replies(store, "phantom")
    assert ambiguous.text == (  # the one a shop lists (M2002RHO) first
        "“phantom” could be 2 colorways: did you mean Core Pack Phantom (M2002RHO) "
        "or Protection Pack Phantom (M2002RDB)?"
    )
    no_code = manage.subscribe_command(store, CHAT, "jjjjound 10", limit=25)
    assert no_code.text.startswith("JJJJound GORE-TEX has no known style code yet")
    chart = answers.history_command(store, "rain cloud 10")
    assert isinstance(chart, render.Photo) and chart.caption.startswith("M2002RDA")
