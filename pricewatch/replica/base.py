"""What every replica shop shares: a threaded HTTP server on 127.0.0.1 that a test starts and
stops, a log of the requests it received, and the handler plumbing (quiet logging, HEAD,
connections closed on stop so a sleeping request never outlives its shop).

A replica subclasses :class:`ReplicaServer` and names its request handler (a
:class:`BaseHandler` subclass with a ``_dispatch(head=...)`` method). The product-page replicas
(jsonld_shop, html_shop) share :class:`PageShop`: colorways with a price and stock per size that
a test changes while the shop runs, and walls instead of pages on demand. Standard library only.
"""

from __future__ import annotations

import contextlib
import copy
import html
import socket
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, unquote, urlsplit

from pricewatch.replica.catalog import normalize_price

__all__ = [
    "PAGE_MODES",
    "WALLS",
    "BaseHandler",
    "Colorway",
    "PageHandler",
    "PageShop",
    "ReplicaHTTPServer",
    "ReplicaServer",
    "html_page",
    "now_w3c",
]


class ReplicaServer:
    """Lifecycle and request log of a replica shop; subclasses serve the content."""

    handler_class: ClassVar[type[BaseHandler]]

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, name: str = "Replica") -> None:
        self.host = host
        self.port = port
        self.name = name
        self.url = ""
        #: (method, path?query) of every request received, in arrival order
        self.requests: list[tuple[str, str]] = []
        #: unexpected exceptions raised while answering (a test may assert it stays empty)
        self.errors: list[BaseException] = []
        self._lock = threading.RLock()
        self._requests_changed = threading.Condition()
        self._server: ReplicaHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Self:
        """Bind (port 0 = a free port), serve in a daemon thread, set :attr:`url`."""
        if self._server is not None:
            return self
        server = ReplicaHTTPServer((self.host, self.port), self.handler_class)
        server.shop = self
        self.port = int(server.server_address[1])
        self.url = f"http://{self.host}:{self.port}"
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"replica-shop-{self.port}",
            daemon=True,
        )
        self._server, self._thread = server, thread
        thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: wakes sleeping ("timeout") requests and closes open connections."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.stopping.set()
        server.shutdown()
        server.server_close()
        server.close_connections()
        if thread is not None:
            thread.join(timeout=2)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def wait_idle(self, timeout: float = 10) -> bool:
        """Block until no request is being answered (a sleeping one included); False on
        timeout. Tests wait on this instead of sleeping until a handler is done."""
        server = self._server
        return server is None or server.wait_idle(timeout)

    # ------------------------------------------------------------------ request log
    def wait_for_requests(self, n: int, timeout: float = 10) -> bool:
        """Block until at least ``n`` requests were received; False on timeout."""
        with self._requests_changed:
            return self._requests_changed.wait_for(lambda: len(self.requests) >= n, timeout)

    def _log_request(self, method: str, target: str) -> None:
        with self._requests_changed:
            self.requests.append((method, target))
            self._requests_changed.notify_all()


class ReplicaHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for sleeping or idle keep-alive handlers
    shop: Any  # the ReplicaServer (subclass) being served; its handler knows which

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Condition()
        super().__init__(address, handler)

    def track(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(conn)

    def untrack(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(conn)
            self._connections_lock.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Until every connection's handler has finished (False on timeout)."""
        with self._connections_lock:
            return self._connections_lock.wait_for(lambda: not self._connections, timeout)

    def close_connections(self) -> None:
        with self._connections_lock:
            conns, self._connections = list(self._connections), set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Record instead of printing a traceback to stderr."""
        exc = sys.exc_info()[1]
        if exc is not None and not isinstance(exc, ConnectionError | TimeoutError):
            self.shop.errors.append(exc)


class BaseHandler(BaseHTTPRequestHandler):
    server: ReplicaHTTPServer
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections are dropped after this
    server_software = "nginx"  # the Server header
    _head = False

    # -- plumbing
    def version_string(self) -> str:
        return self.server_software

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the replica logs nothing to stderr."""

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def do_GET(self) -> None:
        self._dispatch(head=False)

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def _dispatch(self, *, head: bool) -> None:
        raise NotImplementedError

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        *,
        extra: dict[str, str] | None = None,
        close: bool = False,
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if not self._head:
                self.wfile.write(body)
            self.wfile.flush()
        except (ConnectionError, TimeoutError):
            self.close_connection = True


def html_page(title: str, body: str, head: str = "", lang: str = "en") -> str:
    """A whole HTML document around ``body`` (already HTML)."""
    return (
        f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width,initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n{head}</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


# ---------------------------------------------------------------------- product-page shops

#: misbehaviour modes of the product-page replicas (:meth:`PageShop.misbehave`)
PAGE_MODES = ("block-akamai", "block-perimeterx", "block-datadome", "no-data", "500", "404")
#: which requests a misbehaviour hits
SCOPES = ("all", "products", "sitemaps", "listings")

# Walls answered with 200, as the vendors serve them to a plain HTTP client. MADE UP in the
# vendors' known shapes: Akamai's "Oops! Something went wrong" page with its error code on
# newbalance.com (docs/retailers.md 2.5), PerimeterX's #px-captcha page, DataDome's
# captcha-delivery.com script page.
WALLS = {
    "block-akamai": html_page(
        "Oops! Something went wrong",
        "<h1>Oops! Something went wrong</h1>\n"
        "<p>We're sorry, but we could not complete your request. Please try again later.</p>\n"
        "<p>Error code: 0.4f2e1702.1764070000.1a2b3c4d</p>",
    ),
    "block-perimeterx": html_page(
        "Access to this page has been denied",
        '<div class="px-captcha-container"><h1>Please verify you are a human</h1>\n'
        '<div id="px-captcha"></div>\n<p>Press &amp; Hold</p></div>\n'
        "<script>window._pxAppId = 'PXr2002rep';window._pxJsClientSrc = "
        "'/r2002rep/init.js';window._pxHostUrl = '/r2002rep/xhr';</script>",
    ),
    "block-datadome": (
        "<html><head><title>replica.invalid</title></head><body>"
        '<p id="cmsg">Please enable JS and disable any ad blocker</p>'
        "<script>var dd={'rt':'c','cid':'AHrlqAAAAAMA2002R','hsh':'2002R2002R',"
        "'t':'fe','s':43337,'host':'geo.captcha-delivery.com'}</script>"
        '<script src="https://ct.captcha-delivery.com/c.js"></script></body></html>'
    ),
}
ERROR_500 = html_page("500 Internal Server Error", "<h1>Internal Server Error</h1>")
NOT_FOUND = html_page("Page not found", "<h1>Sorry, we couldn't find that page</h1>")


@dataclass
class Colorway:
    """One colorway's page at a product-page shop: its price, and stock per size label."""

    style: str
    name: str
    price: str  # "149.99"
    sizes: dict[str, bool]  # size label -> in stock, in page order
    path: str  # its page, e.g. /pd/2002r/M2002RDA-D-07.html
    kind: str  # how its page is written (each shop names its own kinds)
    list_price: str | None = None  # the price before a sale
    size_prices: dict[str, str] = field(default_factory=dict)  # sizes priced differently
    brand: str = "New Balance"
    lastmod: str = field(default_factory=lambda: now_w3c())

    def price_of(self, size: str) -> str:
        return self.size_prices.get(size, self.price)


@dataclass
class _PageTrouble:
    mode: str
    scope: str
    remaining: int | None


class PageShop(ReplicaServer):
    """A replica shop of product pages (one per colorway) whose state a test can change and
    which can answer with a wall instead of a page."""

    kinds: ClassVar[tuple[str, ...]] = ()

    # Each kind of page shop names itself, its currency and what it sells by default.
    default_name = "Replica"
    default_currency = "USD"

    @staticmethod
    def default_colorways() -> list[Colorway]:
        return []

    def __init__(
        self,
        colorways: list[Colorway] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str | None = None,
        currency: str | None = None,
    ) -> None:
        super().__init__(host=host, port=port, name=name or self.default_name)
        self.currency = currency or self.default_currency
        if colorways is None:
            colorways = self.default_colorways()
        self._colorways: dict[str, Colorway] = {}
        self._trouble: _PageTrouble | None = None
        for colorway in colorways:
            self.add_colorway(colorway)

    # ------------------------------------------------------------------ state
    def colorways(self) -> list[Colorway]:
        """Deep copies of the colorways, in catalog order."""
        with self._lock:
            return copy.deepcopy(list(self._colorways.values()))

    def colorway(self, style: str) -> Colorway:
        with self._lock:
            return copy.deepcopy(self._find(style))

    def add_colorway(self, colorway: Colorway) -> None:
        """Add a colorway: its page appears, and the sitemap lists it with today's lastmod."""
        if self.kinds and colorway.kind not in self.kinds:
            raise ValueError(f"unknown page kind {colorway.kind!r} (known: {self.kinds})")
        with self._lock:
            if colorway.style.upper() in self._colorways:
                raise ValueError(f"duplicate style code {colorway.style!r}")
            if any(c.path == colorway.path for c in self._colorways.values()):
                raise ValueError(f"duplicate page {colorway.path!r}")
            self._colorways[colorway.style.upper()] = copy.deepcopy(colorway)

    def remove_colorway(self, style: str) -> None:
        """Take a colorway's page down (404) and out of the sitemap."""
        with self._lock:
            del self._colorways[self._find(style).style.upper()]

    def set_price(self, style: str, price: str, size: str | None = None) -> None:
        """Set the price of one size, or of every size (``size=None``)."""
        new_price = normalize_price(price)
        with self._lock:
            colorway = self._find(style)
            if size is None:
                colorway.price, colorway.size_prices = new_price, {}
            else:
                self._check_size(colorway, size)
                colorway.size_prices[size] = new_price
            colorway.lastmod = now_w3c()

    def set_available(self, style: str, available: bool, size: str | None = None) -> None:
        """Set stock of one size, or of every size (``size=None``)."""
        with self._lock:
            colorway = self._find(style)
            for label in [size] if size is not None else list(colorway.sizes):
                self._check_size(colorway, label)
                colorway.sizes[label] = bool(available)
            colorway.lastmod = now_w3c()

    def _find(self, style: str) -> Colorway:
        try:
            return self._colorways[style.strip().upper()]
        except KeyError:
            raise KeyError(f"no colorway with style code {style!r}") from None

    @staticmethod
    def _check_size(colorway: Colorway, size: str) -> None:
        if size not in colorway.sizes:
            raise KeyError(f"{colorway.style} has no size {size!r} (sizes: {list(colorway.sizes)})")

    def _by_path(self, path: str) -> Colorway | None:
        with self._lock:
            for colorway in self._colorways.values():
                if colorway.path == path:
                    return copy.deepcopy(colorway)
        return None

    # ------------------------------------------------------------------ misbehaviour
    def misbehave(self, mode: str | None, *, scope: str = "all", times: int | None = None) -> None:
        """Answer ``scope``'s requests (robots.txt excepted) with a wall (``block-akamai``,
        ``block-perimeterx``, ``block-datadome``: HTTP 200), a product page without product
        data (``no-data``), a 500 or a 404; ``times``: only the next N such requests.
        ``mode=None`` restores normal service."""
        if mode is None:
            with self._lock:
                self._trouble = None
            return
        if mode not in PAGE_MODES:
            raise ValueError(f"unknown misbehaviour {mode!r}; one of {', '.join(PAGE_MODES)}")
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}; one of {', '.join(SCOPES)}")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for 'until cleared')")
        with self._lock:
            self._trouble = _PageTrouble(mode, scope, times)

    def _take_trouble(self, kind: str) -> str | None:
        """The misbehaviour for a request of this kind ("products", "sitemaps", "listings")."""
        with self._lock:
            trouble = self._trouble
            if trouble is None or trouble.scope not in ("all", kind):
                return None
            if trouble.remaining is not None:
                trouble.remaining -= 1
                if trouble.remaining <= 0:
                    self._trouble = None
            return trouble.mode


class PageHandler(BaseHandler):
    """Routing shared by the product-page replicas: walls first, then the shop's pages."""

    server_software = "AkamaiGHost"

    def _dispatch(self, *, head: bool) -> None:
        shop: PageShop = self.server.shop
        shop._log_request(self.command, self.path)
        self._head = head
        split = urlsplit(self.path)
        path = unquote(split.path)
        kind = self.request_kind(path)
        trouble = shop._take_trouble(kind) if kind else None
        if trouble in WALLS:
            self._send(200, WALLS[trouble].encode("utf-8"), _HTML)
        elif trouble == "500":
            self._send(500, ERROR_500.encode("utf-8"), _HTML)
        elif trouble == "404":
            self._send(404, NOT_FOUND.encode("utf-8"), _HTML)
        else:
            self.route(path, parse_qs(split.query), no_data=trouble == "no-data")

    def request_kind(self, path: str) -> str | None:
        """ "products", "sitemaps", "listings", or None for pages no misbehaviour touches."""
        raise NotImplementedError

    def route(self, path: str, query: dict[str, list[str]], *, no_data: bool) -> None:
        raise NotImplementedError

    def page(self, text: str) -> None:
        self._send(200, text.encode("utf-8"), _HTML)

    def not_found(self) -> None:
        self._send(404, NOT_FOUND.encode("utf-8"), _HTML)


_HTML = "text/html; charset=utf-8"


def now_w3c() -> str:
    """The current time as sitemaps write lastmod: ``2026-11-25T10:07:09+00:00``."""
    return datetime.now(UTC).isoformat(timespec="seconds")
