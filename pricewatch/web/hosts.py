"""Answer only requests addressed to this server: a guard against DNS rebinding.

A web page on ``evil.example`` can make its own name resolve to 127.0.0.1 a moment later; the
browser then lets that page read ``http://evil.example:8001/`` as its own origin, and so read
the database served on this machine (the bot's tables with Telegram chats included, through
own SQL, which a loopback server allows). Every such request carries the attacker's name in
its ``Host`` header, so requests whose Host is not an address this server answers at are
refused with 421 Misdirected Request before Datasette sees them.

Who is allowed, for ``pricewatch web --host H --port P``:

* H itself, with port P (and without a port when P is 80);
* on a loopback address, every loopback name: ``127.0.0.1``, ``localhost``, ``[::1]``;
* on every interface (0.0.0.0 or ::), any IP address literal as well: a rebinding page is
  always reached through a name, never through an address;
* names given with ``--allow-host`` (a reverse proxy's name, the machine's own name).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
ALL_INTERFACES = ("0.0.0.0", "::", "")
REFUSED = (
    b"421 Misdirected Request: this server only answers requests addressed to it "
    b"(its Host header did not name it). Open it at the address `pricewatch web` printed.\n"
)


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _name(host: str) -> str:
    """A host name or address as compared: lower case, no brackets, no trailing dot."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host.removesuffix(".")


def split_host_header(value: str) -> tuple[str, int | None] | None:
    """ "localhost:8001" -> ("localhost", 8001); "[::1]:80" -> ("::1", 80); None if unreadable."""
    value = value.strip()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        host, rest = value[1:end], value[end + 1 :]
    elif value.count(":") == 1:
        host, _, port = value.partition(":")
        rest = ":" + port
    else:
        host, rest = value, ""
    if not rest:
        return _name(host), None
    if not rest.startswith(":") or not rest[1:].isdigit() or len(rest) > 6:
        return None
    return _name(host), int(rest[1:])


class HostPolicy:
    """Which Host headers a server bound to ``host``:``port`` answers."""

    def __init__(self, host: str, port: int, extra: Iterable[str] = ()) -> None:
        self.port = port
        bound = _name(host)
        names = {bound, *(_name(name) for name in extra)}
        address = _ip(bound)
        self.any_address = bound in ALL_INTERFACES
        if bound == "localhost" or (address is not None and address.is_loopback):
            names.update(LOOPBACK_NAMES)
        if self.any_address:
            names.update(LOOPBACK_NAMES)
        self.names = frozenset(names - {""})

    def allows(self, header: str | None) -> bool:
        if not header:
            return False
        parsed = split_host_header(header)
        if parsed is None:
            return False
        host, port = parsed
        if port is None:
            port = 80  # a browser leaves out the default port
        if port != self.port:
            return False
        return host in self.names or (self.any_address and _ip(host) is not None)


class HostCheck:
    """ASGI middleware: a request whose Host header the policy does not allow gets 421."""

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.policy.allows(_host_of(scope)):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 421,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(REFUSED)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": REFUSED})


def _host_of(scope: Scope) -> str | None:
    hosts = [value for name, value in scope.get("headers", ()) if name.lower() == b"host"]
    if len(hosts) != 1:  # none, or two that may disagree: nothing to trust
        return None
    try:
        return bytes(hosts[0]).decode("ascii")
    except UnicodeDecodeError:
        return None
