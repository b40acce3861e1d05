"""The long-lived crawl worker: ``python -m pricewatch.crawl_worker`` (what `pricewatch.worker`
starts for `pricewatch run` and `schedule`).

Scrapy is imported once and the reactor keeps running: each crawl is started with Scrapy's
`CrawlerRunner`, several at once, each shop's spider writing its own crawl (its own transaction)
through the usual pipeline. It talks JSON lines: the config first, then requests on stdin
(``{"id": 7, "shops": ["Kith"]}``, ``{"cancel": 7}``, ``{"exit": true}``), and on its own
channel (the original stdout; Python's stdout goes to stderr, so nothing a library prints can
garble it) one ``{"id": 7, "done": true, "rss_mb": 84.1}`` per finished request. Stdin closed
(the parent gone) stops it.
"""

import argparse
import json
import os
import sys
import threading
from pathlib import Path
from typing import IO, Any

from pricewatch.config import Config
from pricewatch.crawl import crawl_settings, skip_unlogged_records


def _reactor() -> Any:
    """The installed Twisted reactor (typed loosely: its interfaces are zope's)."""
    from twisted.internet import reactor

    return reactor


def rss_mb() -> float:
    """This process's resident memory now, in MiB (Linux; elsewhere its peak)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Worker:
    """Requests in, crawls on the reactor, one answer per request."""

    def __init__(self, config: Config, settings: Any, channel: IO[str]) -> None:
        from scrapy.crawler import CrawlerRunner

        self.config = config
        self.runner = CrawlerRunner(settings)
        self.channel = channel
        self.crawlers: dict[int, list[Any]] = {}
        self.exiting = False
        self.stopping = False

    def start(self, request_id: int, shop_names: list[str]) -> None:
        """Start the request's crawls (in the reactor thread)."""
        from twisted.internet.defer import DeferredList

        crawls = []
        self.crawlers[request_id] = []
        for shop in self.config.select_shops(shop_names):
            crawler = self.runner.create_crawler(shop.platform)
            self.crawlers[request_id].append(crawler)
            crawls.append(self.runner.crawl(crawler, shop=shop.name))
        DeferredList(crawls, consumeErrors=True).addBoth(lambda _: self.finish(request_id))

    def cancel(self, request_id: int) -> None:
        """Stop the request's crawls gracefully: their spiders close, recorded as not ok."""
        for crawler in self.crawlers.get(request_id, []):
            crawler.stop()

    def finish(self, request_id: int) -> None:
        self.crawlers.pop(request_id, None)
        self.answer({"id": request_id, "done": True, "rss_mb": round(rss_mb(), 1)})
        if self.exiting and not self.crawlers:
            self.stop()

    def exit(self) -> None:
        """Stop once the running crawls are done (a recycled worker, or the parent gone)."""
        self.exiting = True
        if not self.crawlers:
            self.stop()

    def answer(self, message: dict[str, Any]) -> None:
        self.channel.write(json.dumps(message) + "\n")
        self.channel.flush()

    def stop(self) -> None:
        reactor = _reactor()
        if reactor.running and not self.stopping:  # exit and end of input can both ask
            self.stopping = True
            reactor.stop()


def _read_requests(worker: Worker, lines: IO[str]) -> None:
    """stdin, in its own thread: each request handed to the reactor thread."""
    call = _reactor().callFromThread
    for line in lines:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if "shops" in message:
            call(worker.start, int(message["id"]), list(message["shops"]))
        elif "cancel" in message:
            call(worker.cancel, int(message["cancel"]))
        elif message.get("exit"):
            call(worker.exit)
    call(worker.exit)  # the parent is gone: finish what runs, then stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pricewatch.crawl_worker")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--log-file", type=Path, help="Scrapy's whole log (INFO) goes here")
    args = parser.parse_args(argv)
    # The answers' own channel: the real stdout, which nothing else may write to from here on.
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    config = Config.from_json(sys.stdin.readline())
    settings = crawl_settings(config, log_level=args.log_level, log_file=args.log_file)

    from scrapy.utils.log import configure_logging
    from scrapy.utils.reactor import install_reactor

    install_reactor(settings["TWISTED_REACTOR"])
    configure_logging(settings)
    skip_unlogged_records(settings)
    reactor = _reactor()
    worker = Worker(config, settings, channel)
    reader = threading.Thread(target=_read_requests, args=(worker, sys.stdin), daemon=True)
    reactor.callWhenRunning(reader.start)
    reactor.callWhenRunning(worker.answer, {"ready": True})
    reactor.run(installSignalHandlers=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
