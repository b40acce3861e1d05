"""Subscriptions people manage: subscribe, list, remove, forget the chat.

A chat's subscriptions are numbered 1..N in the order they were made (``/unsubscribe 2``
means the second one listed); buttons carry the subscription's own id, so a tap never removes
another one after the list changed. A new subscription is told what it matches right now and
which existing one it overlaps. What cannot be undone with one command (``/stop``,
``/unsubscribe all``, and in groups any removal) asks for a second tap on a confirm button;
who may tap it in a group (its admins) is `bot.handlers`' business.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.callbacks import Action, decode, encode
from bot.parsing import BadInput, SubscribeRequest, load_catalog, parse_subscribe, suggest_styles
from bot.render import (
    MAX_MESSAGE_LENGTH,
    Button,
    Reply,
    describe_subscription,
    error_reply,
    esc,
    quote,
    sizes_label,
    split_replies,
)
from pricewatch.history import current_offers
from pricewatch.models import Stock
from pricewatch.prices import format_price
from pricewatch.sizes import format_size
from pricewatch.store import Store
from pricewatch.subscriptions import (
    Subscription,
    SubscriptionError,
    add_subscription,
    forget_chat,
    list_subscriptions,
    remove_subscription,
)

ADMINS_ONLY = "Only this group's admins can change its subscriptions."
NOTHING_CHANGED = "Nothing changed."


# -- pure rules -----------------------------------------------------------------------------------


def overlaps(a: Subscription | SubscribeRequest, b: Subscription | SubscribeRequest) -> bool:
    """Whether some alert could match both: colorway, sizes and shop all compatible (None and
    no sizes mean any), and at least one kind of alert in common."""
    if a.style_code is not None and b.style_code is not None and a.style_code != b.style_code:
        return False
    if a.sizes and b.sizes and not set(a.sizes) & set(b.sizes):
        return False
    if a.shop and b.shop and a.shop.casefold() != b.shop.casefold():
        return False
    return bool(set(a.kinds) & set(b.kinds))


def same(a: Subscription, request: SubscribeRequest) -> bool:
    return (
        a.style_code == request.style_code
        and a.sizes == tuple(sorted(set(request.sizes)))
        and (a.shop or "").casefold() == (request.shop or "").casefold()
        and a.max_price == request.max_price
        and a.max_currency == request.max_currency
        and set(a.kinds) == set(request.kinds)
    )


# -- subscribing ----------------------------------------------------------------------------------


def current_state(store: Store, request: SubscribeRequest) -> str:
    """What the subscription matches right now, plain text: "Now: in stock at $139.99 at Kith
    (US 10)", "Now: sold out everywhere (2 shops)", or "Now: not listed in any shop yet"."""
    offers = [
        offer
        for offer in current_offers(store, request.style_code, None, request.shop)
        if not request.sizes or offer.size_us in request.sizes
    ]
    if not offers:
        return "Now: not listed in any shop yet."
    in_stock = [o for o in offers if o.stock == Stock.IN_STOCK]
    if not in_stock:
        shops = len({o.shop for o in offers})
        unknown = any(o.stock == Stock.UNKNOWN for o in offers)
        what = "not known to be in stock" if unknown else "sold out everywhere"
        return f"Now: {what} ({shops} shop{'s' if shops != 1 else ''})."
    best = in_stock[0]  # current_offers: in stock first, cheapest first
    size = f"US {format_size(best.size_us)}" if best.size_us is not None else best.size_label
    code = f"{best.style_code} " if request.style_code is None else ""
    text = (
        f"Now: in stock at {format_price(best.price, best.currency)} at {best.shop} ({code}{size})"
    )
    if (
        request.max_price is not None
        and best.price > request.max_price
        and (request.max_currency in (None, best.currency))
    ):
        text += ", above your max"
    return text + "."


def subscribe(store: Store, chat_id: int, request: SubscribeRequest, *, limit: int) -> Reply:
    """Add the subscription (the chat must be known: `upsert_chat`) and say what it is, what
    it matches now and which of the chat's subscriptions it overlaps."""
    catalog = load_catalog(store)
    existing = list_subscriptions(store, chat_id)
    for number, old in enumerate(existing, start=1):
        if same(old, request):
            return Reply(f"You already have this subscription ({number}). See /subscriptions.")
    try:
        subscription = add_subscription(
            store,
            chat_id,
            style_code=request.style_code,
            sizes=request.sizes,
            shop=request.shop,
            max_price=request.max_price,
            kinds=request.kinds,
            limit=limit,
            max_currency=request.max_currency,
        )
    except SubscriptionError as exc:
        return Reply("Sorry: " + esc(exc))
    number = len(existing) + 1
    lines = [
        f"✅ Subscribed ({number}): {esc(describe_subscription(subscription, catalog.names))}."
    ]
    code = subscription.style_code
    if code is not None and code not in catalog.names:
        note = (
            f"Note: I don't track {code} yet: not seen in any shop yet; "
            "you'll hear when it appears."
        )
        suggestions = suggest_styles(code, catalog.names.keys())
        if suggestions:
            note += (
                f" Did you mean {' or '.join(suggestions)}? If so, "
                f"/unsubscribe {number} and subscribe to that one."
            )
        lines.append(esc(note))
    else:
        lines.append(esc(current_state(store, request)))
    shared = [str(n) for n, old in enumerate(existing, start=1) if overlaps(old, subscription)]
    if shared:
        which = " and ".join(shared)
        lines.append(
            f"It overlaps your subscription{'s' if len(shared) > 1 else ''} {which}: "
            "an alert that matches both comes once."
        )
    lines.append(f"All of them: /subscriptions · remove this one: /unsubscribe {number}")
    return Reply("\n".join(lines))


def subscribe_command(
    store: Store, chat_id: int, text: str, *, limit: int, config_shops: Sequence[str] = ()
) -> Reply:
    """/subscribe with arguments, answered."""
    try:
        request = parse_subscribe(text, load_catalog(store, config_shops))
    except BadInput as exc:
        return error_reply(exc)
    return subscribe(store, chat_id, request, limit=limit)


# -- listing and removing -------------------------------------------------------------------------


def _button_label(number: int, subscription: Subscription) -> str:
    parts = [subscription.style_code or "any 2002R"]
    if subscription.sizes:
        parts.append(sizes_label(subscription.sizes))
    if subscription.shop:
        parts.append(quote(subscription.shop, 16))
    return f"✖ {number} " + " · ".join(parts)


def subscriptions_reply(store: Store, chat_id: int, *, title: str = "") -> list[Reply]:
    """The chat's subscriptions, numbered, with a remove button each."""
    subscriptions = list_subscriptions(store, chat_id)
    if not subscriptions:
        return [Reply("No subscriptions yet. Add one with /subscribe.")]
    names = load_catalog(store).names
    lines = [title or f"<b>Subscriptions</b> ({len(subscriptions)}), tap ✖ to remove one:"]
    lines += [
        f"{n}. {esc(describe_subscription(s, names))}" for n, s in enumerate(subscriptions, 1)
    ]
    keyboard = tuple(
        (Button(_button_label(n, s), encode(Action.REMOVE, str(s.id))),)
        for n, s in enumerate(subscriptions, 1)
    )
    text = "\n".join(lines)
    if len(text) > MAX_MESSAGE_LENGTH:
        return split_replies(text, keyboard)
    return [Reply(text, keyboard)]


def parse_remove_data(data: str) -> int | None:
    """The subscription id of a remove button (``remove:<id>``)."""
    decoded = decode(data)
    if decoded is None or decoded[0] != Action.REMOVE or len(decoded[1]) != 1:
        return None
    number = decoded[1][0]
    return int(number) if number.isdigit() and len(number) <= 12 else None


def confirm(question: str, yes: str, action: str, arg: str = "") -> Reply:
    """A question with a confirm and a cancel button."""
    keyboard = (
        (
            Button(yes, encode(Action.CONFIRM, action, arg)),
            Button("Keep it as it is", encode(Action.CANCEL, action)),
        ),
    )
    return Reply(question, keyboard)


def _remove_question(store: Store, chat_id: int, subscription_id: int) -> Reply:
    names = load_catalog(store).names
    for number, subscription in enumerate(list_subscriptions(store, chat_id), start=1):
        if subscription.id == subscription_id:
            described = esc(describe_subscription(subscription, names))
            return confirm(
                f"Remove subscription {number}: {described}?",
                "✖ Remove it",
                "remove",
                str(subscription_id),
            )
    return Reply("That subscription was already removed. See /subscriptions.")


def unsubscribe_command(store: Store, chat_id: int, text: str, *, group: bool = False) -> Reply:
    """/unsubscribe (the list with buttons), /unsubscribe 3 (its number), /unsubscribe all.
    In a group every removal asks to confirm; "all" asks everywhere."""
    words = text.split()
    if not words:
        return subscriptions_reply(store, chat_id)[-1]
    word = words[0].lstrip("#")
    subscriptions = list_subscriptions(store, chat_id)
    if word.lower() == "all" and len(words) == 1:
        if not subscriptions:
            return Reply("No subscriptions to remove.")
        return confirm(
            f"Remove all {len(subscriptions)} subscription(s) of this chat?",
            "✖ Remove all",
            "remove_all",
        )
    if len(words) != 1 or not word.isdigit() or len(word) > 4:
        return Reply(
            "Send /unsubscribe 3 (the number from /subscriptions), or just /unsubscribe "
            "for buttons."
        )
    number = int(word)
    if not 1 <= number <= len(subscriptions):
        return Reply(f"This chat has no subscription {number}. See /subscriptions.")
    subscription = subscriptions[number - 1]
    if group:
        return _remove_question(store, chat_id, subscription.id)
    remove_subscription(store, chat_id, subscription.id)
    return Reply(f"Removed subscription {number}.")


def remove_pressed(
    store: Store, chat_id: int, subscription_id: int, *, group: bool = False
) -> tuple[str, Reply]:
    """A remove button: (toast, what the message shows now). In a group: the question first."""
    if group:
        return "", _remove_question(store, chat_id, subscription_id)
    removed = remove_subscription(store, chat_id, subscription_id)
    toast = "Removed" if removed else "That one was already removed"
    return toast, subscriptions_reply(store, chat_id)[-1]


def stop_question(store: Store, chat_id: int) -> Reply:
    """/stop: asks first, as it deletes everything about the chat."""
    count = len(list_subscriptions(store, chat_id))
    return confirm(
        f"Delete this chat's {count} subscription(s) and everything I know about it?",
        "🗑 Yes, forget this chat",
        "stop",
    )


def confirm_pressed(store: Store, chat_id: int, data: str) -> tuple[str, Reply]:
    """The confirm button of a question above: do it; (toast, the message's new text)."""
    decoded = decode(data)
    if decoded is None or decoded[0] != Action.CONFIRM or not decoded[1]:
        return "That button no longer works", Reply(NOTHING_CHANGED)
    action, *args = decoded[1]
    if action == "stop":
        removed = forget_chat(store, chat_id)
        return "Done", Reply(
            f"Done: I deleted this chat's {removed} subscription(s) and everything I knew "
            "about it. Send /start any time to come back."
        )
    if action == "remove_all":
        removed = sum(
            remove_subscription(store, chat_id, s.id) for s in list_subscriptions(store, chat_id)
        )
        return "Removed", Reply(f"Removed {removed} subscription(s).")
    if action == "remove" and args and args[0].isdigit():
        removed_one = remove_subscription(store, chat_id, int(args[0]))
        toast = "Removed" if removed_one else "That one was already removed"
        return toast, subscriptions_reply(store, chat_id)[-1]
    return "That button no longer works", Reply(NOTHING_CHANGED)
