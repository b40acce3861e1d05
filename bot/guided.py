"""The guided ``/subscribe``: a menu message whose buttons (and typed sizes or prices) move one
person's `Flow` on, step by step, to a subscription. Pure state and screens; `bot.handlers`
keeps each person's flow and sends the screens.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from bot.callbacks import Action, decode, encode
from bot.manage import subscribe
from bot.parsing import (
    MAX_SIZES,
    BadInput,
    SubscribeRequest,
    load_catalog,
    parse_max,
    parse_sizes,
    style_code_of,
    tokenize,
)
from bot.render import (
    Button,
    Keyboard,
    Reply,
    colorway_label,
    describe,
    esc,
    format_amount,
    kind_label,
    max_label,
    quote,
    sentence,
    sizes_label,
)
from pricewatch.catalog import FAMILIES
from pricewatch.changes import DEFAULT_KINDS, EventKind
from pricewatch.history import (
    colorways,
)
from pricewatch.lookup import family_of
from pricewatch.prices import format_price
from pricewatch.sizes import format_size
from pricewatch.store import Store
from pricewatch.styles import KNOWN_COLORWAYS

FLOW_TTL_SECONDS = 3600.0  # a guided /subscribe menu older than this has expired
COLORWAYS_PER_PAGE = 8
COMMON_SIZES = (7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0, 10.5, 11.0, 11.5, 12.0, 12.5, 13.0)
PRICE_BUTTONS = (Decimal(120), Decimal(130), Decimal(150), Decimal(180), Decimal(200))
STALE_MENU = "That menu has expired — send /subscribe again"


class Step(StrEnum):
    COLORWAY = "colorway"
    SIZES = "sizes"
    SHOP = "shop"
    PRICE = "price"
    KINDS = "kinds"
    CONFIRM = "confirm"


_STEP_NUMBER = {Step.COLORWAY: 1, Step.SIZES: 2, Step.SHOP: 3, Step.PRICE: 4, Step.KINDS: 5}
# which step each button belongs to: a button of another step is from an older screen


class FlowAction(StrEnum):
    """What a button of the guided /subscribe does."""

    PAGE = "page"
    FAMILY = "family"
    COLORWAY = "colorway"
    SIZE = "size"
    ANY_SIZE = "any_size"
    SIZES_DONE = "sizes_done"
    SHOP = "shop"
    PRICE = "price"
    KIND = "kind"
    KINDS_DONE = "kinds_done"
    SUBSCRIBE = "subscribe"
    CANCEL = "cancel"


_ACTION_STEP = {
    FlowAction.PAGE: Step.COLORWAY,
    FlowAction.FAMILY: Step.COLORWAY,
    FlowAction.COLORWAY: Step.COLORWAY,
    FlowAction.SIZE: Step.SIZES,
    FlowAction.ANY_SIZE: Step.SIZES,
    FlowAction.SIZES_DONE: Step.SIZES,
    FlowAction.SHOP: Step.SHOP,
    FlowAction.PRICE: Step.PRICE,
    FlowAction.KIND: Step.KINDS,
    FlowAction.KINDS_DONE: Step.KINDS,
    FlowAction.SUBSCRIBE: Step.CONFIRM,
}


@dataclass(frozen=True)
class FlowOptions:
    """What the menu offers, fixed when the flow starts (buttons refer to shops by index)."""

    colorways: tuple[tuple[str, str | None], ...]  # in family order, then by name
    shops: tuple[str, ...]
    cheapest: Mapping[str, str]  # style code -> "$139.99 at Kith"
    families: tuple[tuple[str, tuple[str, ...]], ...] = ()  # family -> its codes, in order


@dataclass
class Flow:
    """One person's guided /subscribe in one chat. Buttons carry ``id``; a press whose id is
    not the current flow's is from an old menu (stale)."""

    id: str
    options: FlowOptions
    started: float  # time.monotonic() when it started
    step: Step = Step.COLORWAY
    page: int = 0
    family: str | None = None  # the family whose colorways the menu shows (None: choose one)
    style_code: str | None = None
    sizes: set[float] = field(default_factory=set)
    shop: str | None = None
    max_price: Decimal | None = None
    kinds: set[EventKind] = field(default_factory=lambda: set(DEFAULT_KINDS))
    message_id: int | None = None
    max_currency: str | None = None
    prompted: Step | None = None  # the step a "type it" prompt was last sent for

    def request(self) -> SubscribeRequest:
        return SubscribeRequest(
            style_code=self.style_code,
            sizes=tuple(sorted(self.sizes)),
            shop=self.shop,
            max_price=self.max_price,
            kinds=tuple(k for k in EventKind if k in self.kinds),
            max_currency=self.max_currency,
        )


@dataclass(frozen=True)
class FlowOutcome:
    screen: Reply | None = None  # the menu as it is now (edit the message to this)
    toast: str | None = None  # answer_callback_query text
    error: str | None = None  # typed input that could not be used (plain text)
    confirm: bool = False  # subscribe now
    finished: bool = False  # forget the flow


def flow_options(store: Store, config_shops: Iterable[str] = ()) -> FlowOptions:
    """What the menu offers: every tracked colorway and every one the catalog names (a release
    people wait for), grouped by family with names in full; the shops; the cheapest now."""
    catalog = load_catalog(store, config_shops)
    names: dict[str, str | None] = {
        code: KNOWN_COLORWAYS.get(code) or name for code, name in catalog.names.items()
    }
    for code, name in KNOWN_COLORWAYS.items():
        names.setdefault(code, name)
    cheapest: dict[str, str] = {}
    for summary in colorways(store):
        if summary.cheapest:
            offer = summary.cheapest[0]
            cheapest[summary.style_code] = (
                f"{format_price(offer.price, offer.currency)} at {offer.shop}"
            )
    grouped: dict[str, list[str]] = {family: [] for family in FAMILIES}
    for code in sorted(names, key=lambda c: ((names[c] or c).casefold(), c)):
        grouped.setdefault(family_of(code), []).append(code)
    families = tuple((family, tuple(codes)) for family, codes in grouped.items() if codes)
    return FlowOptions(
        colorways=tuple((code, names[code]) for _, codes in families for code in codes),
        shops=catalog.shops,
        cheapest=cheapest,
        families=families,
    )


def new_flow(
    options: FlowOptions,
    *,
    started: float,
    style_code: str | None = None,
    sizes: Iterable[float] = (),
    flow_id: str | None = None,
) -> Flow:
    """A new guided flow; with a style code (a deep link) it starts at the size step."""
    flow = Flow(id=flow_id or secrets.token_hex(3), options=options, started=started)
    if style_code is not None:
        flow.style_code = style_code
        flow.step = Step.SIZES
        flow.sizes = set(sizes)
    return flow


def flow_is_current(flow: Flow | None, flow_id: str, now: float) -> bool:
    return flow is not None and flow.id == flow_id and now - flow.started < FLOW_TTL_SECONDS


def parse_flow_data(data: str) -> tuple[str, FlowAction, str] | None:
    """ "flow:<flow id>:<action>:<arg>" -> (flow id, action, arg); None if we did not make it."""
    decoded = decode(data)
    if decoded is None or decoded[0] != Action.FLOW or len(decoded[1]) != 3:
        return None
    flow_id, action, arg = decoded[1]
    if not re.fullmatch(r"[0-9a-f]{6}", flow_id) or action not in FlowAction.__members__.values():
        return None
    return flow_id, FlowAction(action), arg


def _data(flow: Flow, action: FlowAction, arg: str = "") -> str:
    return encode(Action.FLOW, flow.id, action.value, arg)


def _rows(buttons: Sequence[Button], width: int) -> Keyboard:
    return tuple(tuple(buttons[i : i + width]) for i in range(0, len(buttons), width))


def _so_far(flow: Flow) -> str:
    names = dict(flow.options.colorways)
    parts = [colorway_label(flow.style_code, names)]
    if _STEP_NUMBER.get(flow.step, 6) > 2:
        parts.append(sizes_label(flow.sizes))
    if _STEP_NUMBER.get(flow.step, 6) > 3:
        parts.append(flow.shop or "any shop")
    if _STEP_NUMBER.get(flow.step, 6) > 4:
        parts.append(max_label(flow.max_price, flow.max_currency))
    return esc(", ".join(parts))


def _colorway_screen(flow: Flow, head: str, cancel: tuple[Button, ...]) -> Reply:
    """A family to choose first (when there are several), then its colorways, a page at a
    time, one per row with its name in full."""
    families = flow.options.families
    any_row = (Button("Any 2002R", _data(flow, FlowAction.COLORWAY, "*")),)
    if flow.family is None and len(families) > 1:
        buttons = [
            Button(f"{family} ({len(codes)})", _data(flow, FlowAction.FAMILY, str(index)))
            for index, (family, codes) in enumerate(families)
        ]
        text = f"{head}\nWhich colorway? Pick a family, or “Any 2002R”."
        return Reply(text, (*_rows(buttons, 2), any_row, cancel))
    codes = dict(families).get(flow.family or "", tuple(c for c, _ in flow.options.colorways))
    names = dict(flow.options.colorways)
    pages = max(1, -(-len(codes) // COLORWAYS_PER_PAGE))
    page = min(flow.page, pages - 1)
    shown = codes[page * COLORWAYS_PER_PAGE : (page + 1) * COLORWAYS_PER_PAGE]
    keyboard: list[tuple[Button, ...]] = [
        (
            Button(
                quote(f"{names.get(code) or code} · {code}", 60),
                _data(flow, FlowAction.COLORWAY, code),
            ),
        )
        for code in shown
    ]
    nav = []
    if page > 0:
        nav.append(Button("‹ Back", _data(flow, FlowAction.PAGE, str(page - 1))))
    if page < pages - 1:
        nav.append(Button("More ›", _data(flow, FlowAction.PAGE, str(page + 1))))
    if len(families) > 1:
        nav.insert(0, Button("‹ Families", _data(flow, FlowAction.FAMILY, "-")))
    if nav:
        keyboard.append(tuple(nav))
    keyboard += [any_row, cancel]
    where = f" {flow.family}:" if flow.family else ""
    text = f"{head}\nWhich colorway?{where} Tap one, or “Any 2002R”."
    if pages > 1:
        text += f" (page {page + 1} of {pages})"
    return Reply(text, tuple(keyboard))


def flow_screen(flow: Flow) -> Reply:
    """The menu for the flow's current step: text and buttons."""
    cancel = (Button("✖ Cancel", _data(flow, FlowAction.CANCEL)),)
    step = flow.step
    head = f"<b>New subscription</b> · step {_STEP_NUMBER.get(step, 5)} of 5"
    if step == Step.COLORWAY:
        return _colorway_screen(flow, head, cancel)
    if step == Step.SIZES:
        sizes = sorted(set(COMMON_SIZES) | flow.sizes)
        buttons = [
            Button(
                ("✅ " if s in flow.sizes else "") + format_size(s),
                _data(flow, FlowAction.SIZE, format_size(s)),
            )
            for s in sizes
        ]
        keyboard = [
            *_rows(buttons, 4),
            (
                Button("Any size", _data(flow, FlowAction.ANY_SIZE)),
                Button("Done ›", _data(flow, FlowAction.SIZES_DONE)),
            ),
            cancel,
        ]
        chosen = sizes_label(flow.sizes) if flow.sizes else "none yet (Done with none = any size)"
        text = (
            f"{head} · {_so_far(flow)}\nWhich size(s)? Tap to select (US men's), then Done. "
            f"Or type sizes like 10, uk9.5, eu44.\nSelected: {esc(chosen)}"
        )
        return Reply(text, tuple(keyboard))
    if step == Step.SHOP:
        buttons = [
            Button(quote(shop, 28), _data(flow, FlowAction.SHOP, str(i)))
            for i, shop in enumerate(flow.options.shops)
        ]
        keyboard = [
            *_rows(buttons, 2),
            (Button("Any shop", _data(flow, FlowAction.SHOP, "*")),),
            cancel,
        ]
        return Reply(f"{head} · {_so_far(flow)}\nWhich shop?", tuple(keyboard))
    if step == Step.PRICE:
        # no currency on the buttons: like a typed "140", they apply to offers in any one
        prices = [
            Button(format_amount(p, None), _data(flow, FlowAction.PRICE, str(p)))
            for p in PRICE_BUTTONS
        ]
        keyboard = [
            (Button("No limit", _data(flow, FlowAction.PRICE, "-")),),
            *_rows(prices, 3),
            cancel,
        ]
        text = (
            f"{head} · {_so_far(flow)}\nAlert only at or below a price? Tap one, or type a "
            "number like 140 (with a currency, €140 or 140 GBP, for offers in it only)."
        )
        cheapest = flow.options.cheapest.get(flow.style_code or "")
        if cheapest:
            text += f"\nCheapest now: {esc(cheapest)}"
        return Reply(text, tuple(keyboard))
    if step == Step.KINDS:
        buttons = [
            Button(
                ("✅ " if kind in flow.kinds else "▫️ ") + kind_label(kind),
                _data(flow, FlowAction.KIND, str(i)),
            )
            for i, kind in enumerate(EventKind)
        ]
        keyboard = [
            *_rows(buttons, 2),
            (Button("Done ›", _data(flow, FlowAction.KINDS_DONE)),),
            cancel,
        ]
        return Reply(
            f"{head} · {_so_far(flow)}\nWhich alerts? Tap to switch on or off.", tuple(keyboard)
        )
    request = flow.request()
    names = dict(flow.options.colorways)
    text = "<b>Subscribe to</b>\n" + esc(
        describe(
            request.style_code,
            request.sizes,
            request.shop,
            request.max_price,
            request.kinds,
            names,
            max_currency=request.max_currency,
        )
    )
    keyboard = [
        (
            Button("✅ Subscribe", _data(flow, FlowAction.SUBSCRIBE)),
            Button("✖ Cancel", _data(flow, FlowAction.CANCEL)),
        )
    ]
    return Reply(text, tuple(keyboard))


def flow_press(flow: Flow, action: FlowAction | str, arg: str) -> FlowOutcome:
    """A button of the current flow was pressed: move the flow on (mutates ``flow``)."""
    try:
        action = FlowAction(action)
    except ValueError:
        return FlowOutcome(toast=STALE_MENU)
    if action == FlowAction.CANCEL:
        return FlowOutcome(
            Reply("Cancelled. Send /subscribe to start again."), "Cancelled", finished=True
        )
    if _ACTION_STEP.get(action) != flow.step:
        return FlowOutcome(toast="That button is from an earlier step; use the latest menu.")
    try:
        if action == FlowAction.PAGE:
            flow.page = max(0, int(arg))
        elif action == FlowAction.FAMILY:
            families = flow.options.families
            flow.family = None if arg == "-" else families[int(arg)][0]
            flow.page = 0
        elif action == FlowAction.COLORWAY:
            codes = {code for code, _ in flow.options.colorways}
            if arg != "*" and arg not in codes:
                return FlowOutcome(toast=STALE_MENU)
            flow.style_code = None if arg == "*" else arg
            flow.step = Step.SIZES
        elif action == FlowAction.SIZE:
            size = float(arg)
            flow.sizes.symmetric_difference_update({size})
        elif action == FlowAction.ANY_SIZE:
            flow.sizes.clear()
            flow.step = Step.SHOP
        elif action == FlowAction.SIZES_DONE:
            flow.step = Step.SHOP
        elif action == FlowAction.SHOP:
            flow.shop = None if arg == "*" else flow.options.shops[int(arg)]
            flow.step = Step.PRICE
        elif action == FlowAction.PRICE:
            flow.max_price, flow.max_currency = (None, None) if arg == "-" else parse_max(arg)
            flow.step = Step.KINDS
        elif action == FlowAction.KIND:
            flow.kinds.symmetric_difference_update({list(EventKind)[int(arg)]})
        elif action == FlowAction.KINDS_DONE:
            if not flow.kinds:
                return FlowOutcome(toast="Choose at least one kind of alert")
            flow.step = Step.CONFIRM
        elif action == FlowAction.SUBSCRIBE:
            return FlowOutcome(confirm=True, finished=True)
    except (ValueError, IndexError, BadInput):  # data we did not make: treat as an old menu
        return FlowOutcome(toast=STALE_MENU)
    return FlowOutcome(flow_screen(flow))


TYPING_HINTS = {
    Step.SIZES: ("type sizes in reply to this message, like 10, uk9.5, eu44", "10, uk9.5, eu44"),
    Step.PRICE: ("type a max price in reply to this message, like 140 or €140", "140"),
}


def typing_prompt(flow: Flow) -> tuple[str, str] | None:
    """(text, placeholder) of a "type it" prompt for the flow's step, once per step: in groups
    the bot only reads messages that reply to its own (privacy mode), so typed sizes and prices
    are asked for with a ForceReply. None when there is nothing (new) to ask."""
    hint = TYPING_HINTS.get(flow.step)
    if hint is None or flow.prompted == flow.step:
        return None
    flow.prompted = flow.step
    return hint


def flow_text(flow: Flow, text: str) -> FlowOutcome | None:
    """Typed sizes (size step) or a typed max price (price step); None at other steps."""
    try:
        if flow.step == Step.SIZES:
            flow.sizes.update(parse_sizes(tokenize(text)))
            if len(flow.sizes) > MAX_SIZES:
                flow.sizes = set(sorted(flow.sizes)[:MAX_SIZES])
            return FlowOutcome(flow_screen(flow))
        if flow.step == Step.PRICE:
            flow.max_price, flow.max_currency = parse_max(text)
            flow.step = Step.KINDS
            return FlowOutcome(flow_screen(flow))
    except BadInput as exc:
        return FlowOutcome(error=sentence(str(exc)))
    return None


def finish_flow(store: Store, chat_id: int, flow: Flow, *, limit: int) -> Reply:
    """The confirm button: subscribe as chosen."""
    return subscribe(store, chat_id, flow.request(), limit=limit)


def deep_link(payload: str, tracked: Collection[str]) -> tuple[str, tuple[float, ...]] | None:
    """A /start payload such as "M2002RDA" or "M2002RDA_10" (t.me/<bot>?start=M2002RDA_10)."""
    words = payload.replace("-", "_").split("_")
    code = style_code_of(words[0], tracked) if words and words[0] else None
    if code is None:
        return None
    try:
        sizes = parse_sizes(words[1:2])
    except BadInput:
        sizes = ()
    return code, sizes
