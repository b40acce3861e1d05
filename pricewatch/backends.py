"""Where crawls run: in a child process here, or as jobs on Scrapyd servers.

`backend_for(config)` picks one from ``[crawl] backend``; both return the same `CrawlReport`s,
read from the same ``crawls`` table, so the scheduler and ``pricewatch crawl`` never care which.

- `LocalBackend` (``backend = "local"``, the default): `pricewatch.crawl.run_crawl`, a child
  process per crawl whose pipeline writes to SQLite.
- `ScrapydBackend` (``backend = "scrapyd"``, ``scrapyd_urls = [...]``): for users who outgrow one
  machine. Scrapyd (https://scrapyd.readthedocs.io) runs each crawl as a job; this side only talks
  to its JSON API and owns the database:

  1. **Deploy.** An egg of the ``pricewatch`` and ``scrapers`` packages (built here from the
     imported packages, so it works from a checkout and from an installed wheel alike, see
     `build_egg`, once per backend instance) is uploaded with addversion.json to a server whose
     listversions.json does not list its version (asked before each crawl: a Scrapyd restarted
     with an empty eggs_dir forgets). The version is the package version plus a hash of the
     files, so changed code is a new version, and every job is pinned to it.
  2. **Schedule.** One job per shop with schedule.json, on the servers in turn (a server that
     does not answer daemonstatus.json is skipped), pinned to the deployed ``_version``, with
     ``shop=NAME`` as the spider argument and setting overrides: the config as JSON
     (``PRICEWATCH_CONFIG_JSON``, one shop, no secrets), the ``[crawl]`` settings, no item
     pipelines (the worker writes no SQLite: it may be another machine), and the
     `scrapers.scrapyd_support.OutcomeSidecar` extension.
  3. **Wait.** listjobs.json every ``poll_interval`` seconds until the job is finished; past the
     time limit (or on `cancel`) the job is stopped with cancel.json and recorded as failed.
  4. **Ingest.** The job's JSON-lines items feed (Scrapyd's ``items_dir``, served at the job's
     ``items_url``) and its outcome sidecar (close reason and the ``pricewatch/*`` stats) are
     downloaded (`pricewatch.scrapyd_feed`), and `pricewatch.recording.record_crawl` validates,
     stores, diffs and queues alerts exactly as for a local crawl.

  Anything wrong with a server (unreachable, refusing, losing the job) fails that shop's crawl
  with the reason; the other shops go on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.client import HTTPException
from importlib import import_module
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode, urljoin

from pricewatch import __version__
from pricewatch.config import Config, ShopConfig, TelegramConfig
from pricewatch.crawl import (
    SCRAPY_SETTINGS_MODULE,
    CrawlError,
    CrawlReport,
    run_crawl,
    scrapy_settings,
)
from pricewatch.models import CrawlStatus
from pricewatch.recording import record_crawl
from pricewatch.scrapyd_feed import OUTCOME_SUFFIX, FeedError, parse_outcome, parse_products
from pricewatch.store import DEFAULT_LEASE_SECONDS, CrawlCounts, ShopBusy, Store

logger = logging.getLogger(__name__)

# The packages a worker needs; their dependencies (Scrapy, sqlite-utils, ...) must be installed
# on the worker (`pip install '.[scrapyd]'` from a checkout of this repository).
EGG_PACKAGES = ("pricewatch", "scrapers")
SETTINGS_MODULE = SCRAPY_SETTINGS_MODULE
SIDECAR_EXTENSION = "scrapers.scrapyd_support.OutcomeSidecar"
# Fixed timestamps: the same files always make the same egg.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class ScrapydError(Exception):
    """A Scrapyd server could not be used: unreachable, refused a request, or lost a job."""


class CrawlBackend(Protocol):
    """Runs the crawls of some shops and reports each one as recorded in the database."""

    def crawl(
        self,
        config: Config,
        shops: tuple[ShopConfig, ...],
        *,
        time_limit: float | None = None,
        log_level: str = "WARNING",
        cancel: threading.Event | None = None,
    ) -> list[CrawlReport]: ...


class LocalBackend:
    """A child process per crawl, on this machine (`pricewatch.crawl.run_crawl`)."""

    def crawl(
        self,
        config: Config,
        shops: tuple[ShopConfig, ...],
        *,
        time_limit: float | None = None,
        log_level: str = "WARNING",
        cancel: threading.Event | None = None,
    ) -> list[CrawlReport]:
        return run_crawl(config, shops, log_level=log_level, time_limit=time_limit, cancel=cancel)


def backend_for(config: Config, *, long_lived: bool = False) -> CrawlBackend:
    """The backend ``[crawl] backend`` names (the config was validated when it was read). A
    long-lived caller (`pricewatch run`, `schedule`) crawling locally gets the crawl worker,
    unless ``[crawl] isolate`` asks for a child process per crawl."""
    if config.crawl.backend == "scrapyd":
        return ScrapydBackend(config.crawl.scrapyd_urls, config.crawl.scrapyd_project)
    if long_lived and not config.crawl.isolate:
        from pricewatch.worker import CrawlWorker

        return CrawlWorker(config)
    return LocalBackend()


# -- the egg ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Egg:
    version: str
    data: bytes


def _package_files(package: str) -> list[tuple[str, Path]]:
    """(name in the egg, file) for every source and data file of an imported package."""
    module = import_module(package)
    if not module.__file__:
        raise ScrapydError(f"cannot build the egg: package {package} has no files")
    root = Path(module.__file__).parent
    files = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root.parent)
        if (
            path.is_file()
            and path.suffix not in (".pyc", ".pyo")
            and not any(p == "__pycache__" or p.startswith(".") for p in relative.parts)
        ):
            files.append((relative.as_posix(), path))
    return files


def egg_version(version: str) -> str:
    """The version as Scrapyd stores it (it replaces other characters in egg file names), so
    that what listversions.json reports compares equal."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", version)


def build_egg(packages: Sequence[str] = EGG_PACKAGES) -> Egg:
    """An egg Scrapyd can run: the packages, plus EGG-INFO naming the Scrapy settings module
    (``[scrapy] settings = scrapers.settings``: Scrapyd's runner reads that entry point).

    Built by hand rather than with scrapyd-deploy: that tool writes a setup.py into the project
    and runs setuptools' deprecated ``bdist_egg``, whose metadata comes from pyproject.toml and
    so loses the ``scrapy`` entry point; it also needs a checkout, where this needs only the
    imported packages."""
    files = [entry for package in packages for entry in _package_files(package)]
    digest = hashlib.sha256()
    contents = []
    for name, path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ScrapydError(f"cannot build the egg: {exc}") from exc
        digest.update(name.encode() + b"\0" + data + b"\0")
        contents.append((name, data))
    version = egg_version(f"{__version__}-{digest.hexdigest()[:12]}")
    metadata = {
        "EGG-INFO/PKG-INFO": (
            f"Metadata-Version: 2.1\nName: pricewatch-2002r\nVersion: {version}\n"
        ),
        "EGG-INFO/entry_points.txt": f"[scrapy]\nsettings = {SETTINGS_MODULE}\n",
        "EGG-INFO/top_level.txt": "".join(f"{p}\n" for p in packages),
        "EGG-INFO/zip-safe": "\n",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as egg:
        for name, data in [*contents, *((k, v.encode()) for k, v in metadata.items())]:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            egg.writestr(info, data)
    return Egg(version=version, data=buffer.getvalue())


# -- talking to one server --------------------------------------------------------------------


class _Server:
    """One Scrapyd server's JSON API, with the standard library (no extra dependency)."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Scrapyd({self.url})"

    def absolute(self, path: str) -> str:
        # listjobs.json gives "/items/..." paths; keep a reverse proxy's prefix in self.url.
        return urljoin(self.url + "/", path.lstrip("/"))

    def get(self, endpoint: str, *, timeout: float | None = None, **params: str) -> dict[str, Any]:
        query = f"?{urlencode(params)}" if params else ""
        request = urllib.request.Request(f"{self.url}/{endpoint}{query}")
        return self._json(endpoint, request, timeout)

    def post(
        self,
        endpoint: str,
        fields: Sequence[tuple[str, str]],
        files: Mapping[str, bytes] | None = None,
    ) -> dict[str, Any]:
        if files:
            body, content_type = _multipart(fields, files)
        else:
            body = urlencode(fields).encode()
            content_type = "application/x-www-form-urlencoded"
        request = urllib.request.Request(
            f"{self.url}/{endpoint}", data=body, headers={"Content-Type": content_type}
        )
        return self._json(endpoint, request)

    def fetch(self, url: str) -> bytes | None:
        """A file Scrapyd serves (items, logs); None if it has no such file."""
        try:
            return self._open(urllib.request.Request(url))
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise ScrapydError(f"Scrapyd at {self.url}: HTTP {exc.code} for {url}") from exc

    def _open(self, request: urllib.request.Request, timeout: float | None = None) -> bytes:
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:
                body: bytes = response.read()
                return body
        except urllib.error.HTTPError:
            raise  # the server answered: the caller decides what the status means
        except urllib.error.URLError as exc:
            raise ScrapydError(f"cannot reach Scrapyd at {self.url}: {exc.reason}") from exc
        except (OSError, HTTPException) as exc:  # timeouts, resets, garbled responses
            raise ScrapydError(f"cannot reach Scrapyd at {self.url}: {exc}") from exc

    def _json(
        self, endpoint: str, request: urllib.request.Request, timeout: float | None = None
    ) -> dict[str, Any]:
        try:
            body = self._open(request, timeout)
        except urllib.error.HTTPError as exc:
            body = exc.read()  # Scrapyd explains errors in a JSON body, whatever the status
            if not body.lstrip().startswith(b"{"):
                raise ScrapydError(
                    f"Scrapyd at {self.url}: HTTP {exc.code} for {endpoint}"
                ) from exc
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise ScrapydError(f"Scrapyd at {self.url}: {endpoint} did not answer JSON") from exc
        if not isinstance(data, dict):
            raise ScrapydError(f"Scrapyd at {self.url}: {endpoint} answered {data!r:.80}")
        if data.get("status") != "ok":
            raise ScrapydError(
                f"Scrapyd at {self.url} refused {endpoint}: {_tail(data.get('message'))}"
            )
        return data


def _tail(message: Any, lines: int = 3, limit: int = 600) -> str:
    """The end of a message: Scrapyd returns a whole traceback when an egg fails to load."""
    text = str(message or "no reason given").strip()
    return "\n".join(text.splitlines()[-lines:])[-limit:]


def _multipart(fields: Sequence[tuple[str, str]], files: Mapping[str, bytes]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, data in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{name}.egg"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# -- the backend ------------------------------------------------------------------------------


@dataclass
class _Job:
    shop: ShopConfig
    crawl_id: int
    server: _Server | None = None
    job_id: str = ""
    # listjobs.json polls that did not list the job, and since when the server is unreachable
    unseen: int = 0
    unreachable_since: float | None = None


class ScrapydBackend:
    """Crawls as Scrapyd jobs, ingested into the local database (see the module docstring)."""

    def __init__(
        self,
        urls: Sequence[str],
        project: str = "pricewatch",
        *,
        poll_interval: float = 0.5,
        request_timeout: float = 30.0,
        lost_after: float = 30.0,
        cancel_grace: float = 5.0,
    ) -> None:
        if not urls:
            raise ScrapydError("the scrapyd backend needs at least one Scrapyd URL")
        self.servers = [_Server(url, request_timeout) for url in urls]
        self.project = project
        self.poll_interval = poll_interval
        # A server that stops answering for this long has lost its jobs as far as we know.
        self.lost_after = lost_after
        # After cancel.json (SIGINT: Scrapy closes cleanly), how long before SIGKILL.
        self.cancel_grace = cancel_grace
        self._egg: Egg | None = None
        self._next = 0
        # The scheduler may crawl different shops from different threads at once.
        self._lock = threading.Lock()
        self._deploy_lock = threading.Lock()  # one upload of the egg, not one per thread

    # -- deploy

    @property
    def egg(self) -> Egg:
        with self._lock:
            if self._egg is None:
                self._egg = build_egg()
            return self._egg

    def _deploy(self, server: _Server) -> None:
        """Upload the egg unless the server lists its version already. Asked before every
        crawl (one cheap GET), because a Scrapyd restarted with an empty eggs_dir forgets."""
        egg = self.egg
        with self._deploy_lock:
            versions = server.get("listversions.json", project=self.project).get("versions", [])
            if egg.version in versions:
                return
            answer = server.post(
                "addversion.json",
                [("project", self.project), ("version", egg.version)],
                {"egg": egg.data},
            )
            if not answer.get("spiders"):
                raise ScrapydError(f"Scrapyd at {server.url} found no spiders in the egg")
            logger.info("deployed %s %s to %s", self.project, egg.version, server.url)

    def _usable_servers(self) -> tuple[list[_Server], dict[str, str]]:
        """The servers that answer and have the egg, and why the others are left out."""
        usable, problems = [], {}
        for server in self.servers:
            try:
                # quick: a server that black-holes requests must not hold up every crawl
                server.get("daemonstatus.json", timeout=min(server.timeout, 5.0))
                self._deploy(server)
            except ScrapydError as exc:
                problems[server.url] = str(exc)
                logger.warning("%s", exc)
            else:
                usable.append(server)
        return usable, problems

    # -- crawl

    def crawl(
        self,
        config: Config,
        shops: tuple[ShopConfig, ...],
        *,
        time_limit: float | None = None,
        log_level: str = "WARNING",
        cancel: threading.Event | None = None,
    ) -> list[CrawlReport]:
        if not shops:
            raise CrawlError("no shops to crawl (every shop in the config is disabled?)")
        limit = time_limit if time_limit is not None else config.crawl.time_limit
        deadline = time.monotonic() + limit if limit else None
        with Store(config.db_path) as store:
            usable, problems = self._usable_servers()
            jobs: list[_Job] = []
            recorded: list[int] = []  # every shop's crawl, in order: run, or skipped
            lease = limit + 60 if limit else DEFAULT_LEASE_SECONDS
            for shop in shops:
                try:
                    crawl_id = store.start_crawl(
                        shop.name, shop.platform, shop.url, shop.currency, lease_seconds=lease
                    )
                except ShopBusy as exc:  # another process is crawling it: recorded as skipped
                    logger.warning("%s: skipped: %s", shop.name, exc)
                    recorded.append(exc.crawl_id)
                    continue
                jobs.append(_Job(shop, crawl_id))
                recorded.append(crawl_id)
            running: list[_Job] = []
            try:
                for job in jobs:
                    try:
                        self._schedule(job, config, log_level, usable, problems)
                    except ScrapydError as exc:
                        self._fail(store, job, str(exc))
                    else:
                        running.append(job)
                self._wait(store, config, running, deadline, limit, cancel)
            except BaseException:
                # Ctrl-C or a bug here: no job left crawling for nobody. The crawls stay
                # "running" and the next start_crawl closes them as interrupted.
                self._stop(running)
                raise
            return [_report(store, crawl_id) for crawl_id in recorded]

    def _schedule(
        self,
        job: _Job,
        config: Config,
        log_level: str,
        usable: list[_Server],
        problems: dict[str, str],
    ) -> None:
        """Start the shop's job on the next server in turn, or on the one after if it fails."""
        with self._lock:
            start = self._next
            self._next += 1
        candidates = [usable[(start + i) % len(usable)] for i in range(len(usable))]
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", job.shop.name).strip("-").lower() or "shop"
        job_id = f"{slug}-{uuid.uuid4().hex[:12]}"
        fields = [
            ("project", self.project),
            ("spider", job.shop.platform),  # one spider per platform, named after it
            ("_version", self.egg.version),
            ("jobid", job_id),
            ("shop", job.shop.name),
            *(("setting", f"{k}={v}") for k, v in job_settings(config, job.shop, log_level)),
        ]
        for server in candidates:
            try:
                server.post("schedule.json", fields)
            except ScrapydError as exc:
                problems[server.url] = str(exc)
                logger.warning("%s: %s", job.shop.name, exc)
                continue
            job.server, job.job_id = server, job_id
            logger.info("%s: job %s scheduled on %s", job.shop.name, job_id, server.url)
            return
        why = "; ".join(problems.values()) or "none configured"  # each names its server
        raise ScrapydError(f"no Scrapyd server could take the job ({why})")

    def _wait(
        self,
        store: Store,
        config: Config,
        jobs: list[_Job],
        deadline: float | None,
        limit: float,
        cancel: threading.Event | None,
    ) -> None:
        """Poll until every job is finished and ingested, failed, or past the deadline."""
        pending = list(jobs)
        while pending:
            if cancel is not None and cancel.is_set():
                self._give_up(store, pending, "stopped: pricewatch was shutting down")
                return
            if deadline is not None and time.monotonic() >= deadline:
                self._give_up(store, pending, f"time limit of {limit:g} s exceeded")
                return
            for server, on_server in _by_server(pending):
                try:
                    listing = server.get("listjobs.json", project=self.project)
                except ScrapydError as exc:
                    now = time.monotonic()
                    for job in on_server:
                        job.unreachable_since = job.unreachable_since or now
                        if now - job.unreachable_since >= self.lost_after:
                            self._fail(store, job, f"lost contact during the crawl: {exc}")
                            pending.remove(job)
                    continue
                finished = {j.get("id"): j for j in listing.get("finished", [])}
                active = _active_ids(listing)
                for job in on_server:
                    job.unreachable_since = None
                    if job.job_id in finished:
                        self._ingest(store, config, job, finished[job.job_id])
                        pending.remove(job)
                    elif job.job_id not in active:
                        job.unseen += 1
                        if job.unseen >= 2:  # twice, to be sure: Scrapyd forgot it (restarted)
                            self._fail(store, job, f"Scrapyd at {server.url} lost job {job.job_id}")
                            pending.remove(job)
            if pending:
                if cancel is not None:
                    cancel.wait(self.poll_interval)
                else:
                    time.sleep(self.poll_interval)

    def _give_up(self, store: Store, jobs: list[_Job], why: str) -> None:
        for job in jobs:
            self._fail(store, job, why)
        self._stop(jobs)

    def _stop(self, jobs: Iterable[_Job]) -> None:
        """Cancel jobs (SIGINT: Scrapy closes the spider), then kill what is still running."""
        jobs = [job for job in jobs if job.server is not None]
        for signal in ("INT", "KILL"):
            for job in jobs:
                assert job.server is not None
                with contextlib.suppress(ScrapydError):
                    job.server.post(
                        "cancel.json",
                        [("project", self.project), ("job", job.job_id), ("signal", signal)],
                    )
            deadline = time.monotonic() + self.cancel_grace
            while jobs and time.monotonic() < deadline:
                jobs = [job for job in jobs if not self._ended(job)]
                if jobs:
                    time.sleep(self.poll_interval)
            if not jobs:
                return

    def _ended(self, job: _Job) -> bool:
        assert job.server is not None
        try:
            listing = job.server.get("listjobs.json", project=self.project)
        except ScrapydError:
            return True  # nothing more we can do about it from here
        return job.job_id not in _active_ids(listing)

    def _fail(self, store: Store, job: _Job, why: str) -> None:
        logger.warning("%s: %s", job.shop.name, why)
        store.finish_crawl(job.crawl_id, CrawlStatus.FAILED, CrawlCounts(), why)

    # -- ingest

    def _ingest(self, store: Store, config: Config, job: _Job, finished: dict[str, Any]) -> None:
        """Download a finished job's items and outcome, and record the crawl as if local."""
        server = job.server
        assert server is not None
        log = f" (log: {server.absolute(finished['log_url'])})" if finished.get("log_url") else ""
        if not finished.get("items_url"):
            self._fail(
                store,
                job,
                f"Scrapyd at {server.url} keeps no items: set items_dir (a local directory) "
                "in its scrapyd.conf",
            )
            return
        items_url = server.absolute(finished["items_url"])
        try:
            sidecar = server.fetch(items_url + OUTCOME_SUFFIX)
            if sidecar is None:
                self._fail(
                    store, job, f"the job ended without reporting its outcome (crashed?){log}"
                )
                return
            outcome = parse_outcome(sidecar)
            feed = server.fetch(items_url)
            if feed is None and outcome.stats.get("item_scraped_count"):
                raise FeedError(
                    f"its items feed is gone from {items_url} (raise jobs_to_keep in scrapyd.conf)"
                )
            products = parse_products(feed or b"")
        except (ScrapydError, FeedError) as exc:
            self._fail(store, job, f"cannot read job {job.job_id}: {exc}{log}")
            return
        recorded = record_crawl(
            store, job.crawl_id, job.shop, products, outcome.stats, outcome.reason, config
        )
        logger.info(
            "%s: crawl %s on %s, %d listings, %d changes%s",
            job.shop.name,
            recorded.status,
            server.url,
            recorded.counts.variants,
            len(recorded.changes),
            f" ({recorded.error})" if recorded.error else "",
        )


def job_settings(config: Config, shop: ShopConfig, log_level: str) -> list[tuple[str, str]]:
    """The Scrapy settings a shop's job runs with, as schedule.json ``setting=KEY=VALUE``
    strings: the same ``[crawl]`` settings as a local crawl, the config the spider reads, and
    the worker-side changes (no pipelines, the outcome sidecar)."""
    # One shop and no secrets: this text is visible in Scrapyd's listjobs.json and `ps`.
    worker_config = config.replace(
        shops=(shop,),
        telegram=TelegramConfig(),
        crawl=dataclasses.replace(config.crawl, backend="local", scrapyd_urls=()),
    )
    settings: dict[str, Any] = {
        key: value
        for key, value in scrapy_settings(config, log_level=log_level).items()
        if key not in ("PRICEWATCH_CONFIG", "PRICEWATCH_DB")  # objects and local paths
    }
    settings["PRICEWATCH_CONFIG_JSON"] = worker_config.to_json()
    settings["ITEM_PIPELINES"] = "{}"
    settings["EXTENSIONS"] = json.dumps({SIDECAR_EXTENSION: 900})
    return [(key, _setting_text(value)) for key, value in settings.items()]


def _setting_text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"  # what Settings.getbool reads from text
    return str(value)


def _active_ids(listing: dict[str, Any]) -> set[str]:
    """The ids of a listjobs.json answer's pending and running jobs."""
    return {str(j.get("id")) for key in ("pending", "running") for j in listing.get(key, [])}


def _by_server(jobs: list[_Job]) -> list[tuple[_Server, list[_Job]]]:
    groups: dict[str, tuple[_Server, list[_Job]]] = {}
    for job in jobs:
        assert job.server is not None
        groups.setdefault(job.server.url, (job.server, []))[1].append(job)
    return list(groups.values())


def _report(store: Store, crawl_id: int) -> CrawlReport:
    row = store.db.execute(
        "SELECT c.id, s.name, c.status, coalesce(c.products, 0), coalesce(c.variants, 0), "
        "coalesce(c.changes, 0), coalesce(c.dropped, 0), c.error, c.started, c.finished "
        "FROM crawls c JOIN shops s ON s.id = c.shop_id WHERE c.id = ?",
        [crawl_id],
    ).fetchone()
    return CrawlReport(*row)
