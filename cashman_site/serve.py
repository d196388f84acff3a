"""Cashman's production HTTP server: granian serving cashman_site.wsgi, configured from the
environment. `scripts/entrypoint.sh` runs it as `python -m cashman_site.serve`.

granian (a Rust HTTP server, WSGI workers with a few Python threads each) was chosen over gunicorn
by measurement: 1.4 to 1.6x gunicorn's throughput on the benchmark's list on a quiet machine, 1.1
to 1.25x with the cores shared (bench/README.md, "The server").
What production needs, and where each comes from (cashman_site/tests/test_server.py proves each):

- Graceful shutdown: on SIGTERM (or SIGINT) granian stops accepting and lets requests in flight
  finish; a worker still busy after CASHMAN_GRACEFUL_TIMEOUT is killed. Exit status 0.
- A hung request: granian has no request timeout. `RequestWatchdog` (below, in the main process)
  sees every worker's requests in flight through a small shared-memory file per worker
  (`RequestSlots`, written by `ServedApplication`); a worker whose request overruns
  CASHMAN_REQUEST_TIMEOUT is asked to stop (SIGTERM: its other requests finish), then killed
  once only overrunning requests are left, and granian starts a new one (respawn_failed_workers).
  It works from outside the worker, so a request that holds the GIL cannot stop it.
- Reload: SIGHUP replaces the workers one at a time, so the others keep serving: the new one
  starts, and once it listens (`CashmanServer`: granian itself waits only a fixed time, too short
  when Django loads slowly) and CASHMAN_RESPAWN_INTERVAL more, the old one drains. Set
  `sysctl net.ipv4.tcp_migrate_req=1` (compose does): each worker has its own listening socket
  (SO_REUSEPORT), and without it connections still queued on an old worker's socket when it
  closes are reset.
- Limits: granian refuses a request head (request line and headers) over about
  CASHMAN_MAX_HEADERS_TOTAL_BYTES, or with more than 100 headers (431, or 414), without a JSON
  body; Django's RequestSizeLimitMiddleware refuses, as JSON, a request target over
  CASHMAN_MAX_REQUEST_LINE_BYTES (414) or a header over CASHMAN_MAX_HEADER_BYTES (431), the
  limits gunicorn had.
- X-Forwarded-*: as under gunicorn. Django reads X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER) and
  X-Forwarded-For (CASHMAN_NUM_PROXIES) itself; REMOTE_ADDR is the peer. `ServedApplication` does
  what gunicorn did with FORWARDED_ALLOW_IPS (default 127.0.0.1,::1): from those peers,
  X-Forwarded-Proto/-Ssl/-Protocol set `wsgi.url_scheme`, and contradictory ones are a 400. It
  also keeps the process's environment variables out of the request's (granian puts them there).
  Not the same: gunicorn dropped header names with underscores, granian maps `X_Forwarded_For`
  onto HTTP_X_FORWARDED_FOR, and nothing after it can tell them apart; the proxy must drop such
  headers (nginx does by default), as it must strip clients' X-Forwarded-* already.
- Keep-alive: HTTP/1.1 connections are kept open between requests, up to CASHMAN_KEEPALIVE
  seconds idle (which is also the time a client has to send a request's headers).
- Logs: every request writes one JSON line (logger cashman.request); granian's own lines and the
  watchdog's are JSON too (CASHMAN_ACCESS_LOG=true adds granian's access line).

Only from the real environment (this runs before Django reads `.env`), see `.env.example`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import logging
import logging.config
import mmap
import os
import shutil
import signal
import struct
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger("cashman.server")

#: Where the main process tells its workers to keep their RequestSlots files (internal).
SLOTS_DIR_VARIABLE = "CASHMAN_SERVER_SLOTS_DIR"
#: The GUNICORN_* variables still read, each for its CASHMAN_* successor (deprecated).
DEPRECATED_ALIASES = {
    "CASHMAN_BIND": "GUNICORN_BIND",
    "CASHMAN_WORKERS": "GUNICORN_WORKERS",
    "CASHMAN_THREADS": "GUNICORN_THREADS",
    "CASHMAN_REQUEST_TIMEOUT": "GUNICORN_TIMEOUT",
    "CASHMAN_GRACEFUL_TIMEOUT": "GUNICORN_GRACEFUL_TIMEOUT",
    "CASHMAN_KEEPALIVE": "GUNICORN_KEEPALIVE",
}


def _default_workers() -> int:
    # One process per core the container may use (sched_getaffinity): each runs CASHMAN_THREADS
    # requests at once, and Python runs one at a time per process. Capped like gunicorn's was.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, 8))


@dataclass(frozen=True)
class ServerConfig:
    host: str = "0.0.0.0"  # noqa: S104 - all interfaces: inside a container
    port: int = 8000
    workers: int = 1
    threads: int = 2
    request_timeout: float = 30
    graceful_timeout: float = 30
    respawn_interval: float = 1
    keepalive: float = 5
    max_headers_total_bytes: int = 65536
    access_log: bool = False
    log_level: str = "info"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ServerConfig:
        def get(name: str) -> str | None:
            value = environ.get(name)
            alias = DEPRECATED_ALIASES.get(name)
            if not value and alias and environ.get(alias):
                logger.warning("%s is deprecated: set %s instead", alias, name)
                value = environ[alias]
            return value or None

        def number(name: str, default: float, kind: Callable[[str], Any] = float) -> Any:
            value = get(name)
            try:
                result = kind(value) if value is not None else default
            except ValueError:
                raise SystemExit(f"{name} must be a number, not {value!r}") from None
            if result < 0:
                raise SystemExit(f"{name} must not be negative")
            return result

        for name in sorted(environ):
            if name.startswith("GUNICORN_") and name not in DEPRECATED_ALIASES.values():
                logger.warning(
                    "%s is no longer read (the server is granian): see .env.example", name
                )
        host, port = parse_bind(get("CASHMAN_BIND") or "0.0.0.0:8000")
        return cls(
            host=host,
            port=port,
            workers=max(1, number("CASHMAN_WORKERS", _default_workers(), int)),
            threads=max(1, number("CASHMAN_THREADS", 2, int)),
            request_timeout=number("CASHMAN_REQUEST_TIMEOUT", 30),
            graceful_timeout=number("CASHMAN_GRACEFUL_TIMEOUT", 30),
            respawn_interval=number("CASHMAN_RESPAWN_INTERVAL", 1),
            keepalive=number("CASHMAN_KEEPALIVE", 5),
            # hyper (granian's HTTP layer) needs at least 8 KiB to read a request's head in.
            max_headers_total_bytes=max(
                8192, number("CASHMAN_MAX_HEADERS_TOTAL_BYTES", 65536, int)
            ),
            access_log=(get("CASHMAN_ACCESS_LOG") or "false").lower() in ("1", "true", "yes", "on"),
            log_level=(get("CASHMAN_SERVER_LOG_LEVEL") or "info").lower(),
        )


def parse_bind(bind: str) -> tuple[str, int]:
    """`host:port`, `[v6]:port` or `:port` (all interfaces) into (host, port)."""
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit():
        raise SystemExit(f"CASHMAN_BIND must be host:port, not {bind!r}")
    host = host.strip("[]") or "0.0.0.0"  # noqa: S104
    if host == "localhost":
        host = "127.0.0.1"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise SystemExit(f"CASHMAN_BIND's host must be an IP address, not {host!r}") from None
    return host, int(port)


# --- What each worker keeps of its requests in flight, for the watchdog ------------------------

_SLOT = struct.Struct("<Q248s")  # request number (0: free), then "METHOD /path", NUL-padded


class RequestSlots:
    """A worker's requests in flight, in a small file mapped into memory: one slot per request
    being served, holding a number unique to the request and its method and path. The main
    process reads the file; no clock is shared, so libfaketime or a clock jump cannot fool it.
    """

    def __init__(self, path: Path, count: int) -> None:
        self.path = path
        with open(path, "w+b") as handle:
            handle.truncate(count * _SLOT.size)
            self._map = mmap.mmap(handle.fileno(), count * _SLOT.size)
        self._free = deque(range(count))
        self._numbers = itertools.count(1)

    def enter(self, label: str) -> int | None:
        try:
            slot = self._free.popleft()  # atomic: threads of the worker share the slots
        except IndexError:
            return None  # more requests at once than slots: this one goes unwatched
        _SLOT.pack_into(self._map, slot * _SLOT.size, next(self._numbers), label.encode()[:248])
        return slot

    def leave(self, slot: int | None) -> None:
        if slot is not None:
            _SLOT.pack_into(self._map, slot * _SLOT.size, 0, b"")
            self._free.append(slot)


def read_slots(path: Path) -> list[tuple[int, int, str]]:
    """The busy slots of a RequestSlots file: (slot, request number, "METHOD /path")."""
    data = path.read_bytes()
    busy = []
    for slot in range(len(data) // _SLOT.size):
        number, label = _SLOT.unpack_from(data, slot * _SLOT.size)
        if number:
            busy.append((slot, number, label.rstrip(b"\0").decode(errors="replace")))
    return busy


# --- The WSGI application each worker serves ---------------------------------------------------

# gunicorn's secure_scheme_headers: from a trusted peer, each present one must agree.
SECURE_SCHEME_HEADERS = {
    "HTTP_X_FORWARDED_PROTOCOL": "ssl",
    "HTTP_X_FORWARDED_PROTO": "https",
    "HTTP_X_FORWARDED_SSL": "on",
}
# What granian (or any WSGI server) sets from the request itself, never from the process.
_REQUEST_KEYS = frozenset(
    {"CONTENT_LENGTH", "CONTENT_TYPE", "PATH_INFO", "QUERY_STRING", "REMOTE_ADDR", "REQUEST_METHOD"}
    | {"SCRIPT_NAME", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL"}
)


class TrustedPeers:
    """gunicorn's forwarded_allow_ips: addresses and networks, or `*` for any peer."""

    def __init__(self, spec: str) -> None:
        entries = [entry.strip() for entry in spec.split(",") if entry.strip()]
        self.anyone = "*" in entries
        self.addresses = {e for e in entries if e != "*" and "/" not in e}
        self.networks = [ipaddress.ip_network(e, strict=False) for e in entries if "/" in e]

    def __contains__(self, address: str) -> bool:
        if self.anyone or address in self.addresses:
            return True
        if not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)


class ServedApplication:
    """The WSGI application as the server runs it: Django's, plus what gunicorn did in front of
    it (the forwarded scheme from trusted peers, nothing of the process's environment in a
    request's), and the bookkeeping of each request in flight for the watchdog."""

    def __init__(
        self,
        app: Callable,
        *,
        trusted: TrustedPeers,
        slots: RequestSlots | None = None,
        process_env: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.trusted = trusted
        self.slots = slots
        env = os.environ if process_env is None else process_env
        self._process_env = [(k, v) for k, v in env.items() if k not in _REQUEST_KEYS]

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        for key, value in self._process_env:
            if environ.get(key) == value:
                del environ[key]
        if environ.get("REMOTE_ADDR", "") in self.trusted:
            scheme: str | None = None
            for header, secure in SECURE_SCHEME_HEADERS.items():
                sent = environ.get(header)
                if sent is None:
                    continue
                this = "https" if sent.strip() == secure else "http"
                if scheme is not None and this != scheme:
                    body = b"Invalid request: contradictory scheme headers\n"
                    start_response(
                        "400 Bad Request",
                        [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
                    )
                    return [body]
                scheme = this
            if scheme is not None:
                environ["wsgi.url_scheme"] = scheme
        slots = self.slots
        slot = None
        if slots is not None:
            slot = slots.enter(
                f"{environ.get('REQUEST_METHOD', '')} {environ.get('PATH_INFO', '')}"
            )
        try:
            result = self.app(environ, start_response)
        except BaseException:
            if slots is not None:
                slots.leave(slot)
            raise
        if getattr(result, "streaming", True) is False:
            # A Django response whose body is already in memory: handed over as one list, which
            # granian sends as one body with a Content-Length, with no Python thread waiting on
            # the client. Closed first (Django's request_finished), as nothing is left to run.
            try:
                whole = [result.content]  # type: ignore[attr-defined]
            finally:
                try:
                    result.close()  # type: ignore[attr-defined]
                finally:
                    if slots is not None:
                        slots.leave(slot)
            return whole
        if slots is None:
            return result
        return _Finished(result, lambda: slots.leave(slot))


class _Finished:
    """The response, calling `done` once it is closed: the server closes it after the last byte
    is sent, or when the client goes away."""

    def __init__(self, result: Iterable[bytes], done: Callable[[], None]) -> None:
        self.result, self.done = result, done

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.result)

    def close(self) -> None:
        try:
            close = getattr(self.result, "close", None)
            if close is not None:
                close()
        finally:
            self.done()


def served_application() -> ServedApplication:
    """granian's factory: runs in each worker, which loads Django here."""
    from cashman_site.wsgi import application

    slots = None
    folder = os.environ.get(SLOTS_DIR_VARIABLE)
    if folder:
        threads = int(os.environ.get("CASHMAN_THREADS") or 2)
        slots = RequestSlots(Path(folder) / f"{os.getpid()}.slots", count=4 * threads + 4)
    trusted = TrustedPeers(os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"))
    return ServedApplication(application, trusted=trusted, slots=slots)


# --- The watchdog, in the main process ---------------------------------------------------------


def _is_live_child(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0] != "Z" and int(fields[1]) == os.getpid()


class RequestWatchdog:
    """Ends a worker whose request has run for `timeout` seconds; granian starts another.

    Every `interval` it reads each worker's RequestSlots file. A request seen for `timeout`
    seconds gets its worker a SIGTERM: the worker stops accepting and its other requests finish.
    Once only overrunning requests are left (or after `grace` seconds), SIGKILL. The client of
    the hung request gets its connection closed, as under gunicorn's timeout.
    """

    def __init__(
        self,
        folder: Path,
        *,
        timeout: float,
        grace: float,
        interval: float | None = None,
        is_worker: Callable[[int], bool] = _is_live_child,
        send: Callable[[int, int], None] = os.kill,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder, self.timeout, self.grace = folder, timeout, grace
        self.interval = interval if interval is not None else min(1.0, max(timeout / 10, 0.05))
        self.is_worker, self.send, self.clock = is_worker, send, clock
        self._seen: dict[tuple[int, int, int], float] = {}
        self._ending: dict[int, float] = {}
        self._stopped = False

    def start(self) -> None:
        if self.timeout > 0:
            threading.Thread(target=self._run, name="request-watchdog", daemon=True).start()

    def stop(self) -> None:
        self._stopped = True

    def _run(self) -> None:
        # time.sleep, not Event.wait(timeout): a timed wait on a lock waits for an absolute
        # deadline that libfaketime (CI's any-day runs) moves a year ahead, so it never returns.
        while not self._stopped:
            time.sleep(self.interval)
            try:
                self.check()
            except Exception:
                logger.exception("The request watchdog failed; it goes on")

    def check(self) -> None:
        now = self.clock()
        seen: dict[tuple[int, int, int], float] = {}
        for path in self.folder.glob("*.slots"):
            pid = int(path.stem)
            if not self.is_worker(pid):
                path.unlink(missing_ok=True)
                self._ending.pop(pid, None)
                continue
            try:
                busy = read_slots(path)
            except OSError:
                continue
            overrun = []
            for slot, number, label in busy:
                key = (pid, slot, number)
                seen[key] = self._seen.get(key, now)
                if now - seen[key] >= self.timeout:
                    overrun.append(label)
            self._act(pid, len(busy), overrun, now)
        self._seen = seen

    def _act(self, pid: int, busy: int, overrun: list[str], now: float) -> None:
        since = self._ending.get(pid)
        if since is None:
            if overrun:
                logger.error(
                    "A request ran over CASHMAN_REQUEST_TIMEOUT (%g s): %s; ending worker %d",
                    self.timeout,
                    ", ".join(overrun),
                    pid,
                )
                self._signal(pid, signal.SIGTERM)
                self._ending[pid] = now
        elif len(overrun) == busy or now - since >= self.grace:
            self._signal(pid, signal.SIGKILL)

    def _signal(self, pid: int, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.send(pid, signum)


# --- The main process --------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "cashman_site.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "loggers": {
        "_granian": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "granian.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "cashman.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}


def _listening_inodes(port: int) -> set[str]:
    """The inodes of the sockets listening on `port` (this network namespace), from /proc."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    return inodes


def is_listening(pid: int, port: int) -> bool:
    """Whether process `pid` holds a socket listening on `port`."""
    inodes = _listening_inodes(port)
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return True
    return False


#: The granian feature release whose internals `CashmanServer` overrides (`_respawn_workers`,
#: `_spawn_worker`, a worker's `start` and `inner`). On any other, granian's own Server runs,
#: with a warning, and `test_server.py` fails until the override is checked against it.
GRANIAN_WRITTEN_FOR = (2, 8)


def granian_written_for() -> bool:
    import importlib.metadata

    installed = importlib.metadata.version("granian").split(".")
    return tuple(int(part) for part in installed[:2]) == GRANIAN_WRITTEN_FOR


def build_server(config: ServerConfig) -> Any:
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    class CashmanServer(Server):  # type: ignore[valid-type, misc]
        """granian, with one change: when it replaces a worker (SIGHUP, or one that died), the
        old one is stopped only once the new one listens. granian itself waits a fixed
        respawn_interval, and a worker that takes longer to load Django than that leaves the
        port without a listener (granian issue 921): requests are refused."""

        _respawning = False

        def _respawn_workers(self, *args: Any, **kwargs: Any) -> None:
            self._respawning = True
            try:
                super()._respawn_workers(*args, **kwargs)
            finally:
                self._respawning = False

        def _spawn_worker(self, *args: Any, **kwargs: Any) -> Any:
            worker = super()._spawn_worker(*args, **kwargs)
            if self._respawning:
                start = worker.start

                def start_and_wait() -> None:
                    start()
                    wait_until_listening(worker.inner, config.port)

                worker.start = start_and_wait
            return worker

    server_class = CashmanServer
    if not granian_written_for():
        logger.warning(
            "granian is not the release the reload fix was written for (%s): SIGHUP may drop "
            "requests while a new worker loads",
            ".".join(map(str, GRANIAN_WRITTEN_FOR)),
        )
        server_class = Server
    return server_class(
        "cashman_site.serve:served_application",
        factory=True,
        address=config.host,
        port=config.port,
        interface=Interfaces.WSGI,
        http=HTTPModes.http1,
        workers=config.workers,
        blocking_threads=config.threads,
        http1_settings=HTTP1Settings(
            # hyper's timer for a request's headers, which also runs while a kept-alive
            # connection waits for its next request: so it is the keep-alive timeout too.
            header_read_timeout=max(1, int(config.keepalive * 1000)),
            keep_alive=True,
            max_buffer_size=config.max_headers_total_bytes,
        ),
        log_level=LogLevels(config.log_level),  # ValueError for a level granian lacks
        log_dictconfig=LOGGING,
        log_access=config.access_log,
        respawn_failed_workers=True,
        respawn_interval=config.respawn_interval,
        workers_kill_timeout=config.graceful_timeout or None,
    )


def wait_until_listening(process: Any, port: int, timeout: float = 120) -> None:
    """Until `process` (a multiprocessing.Process) listens on `port`, or has died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.is_alive():
        if process.pid is not None and is_listening(process.pid, port):
            return
        time.sleep(0.05)  # polling another process
    if process.is_alive():
        logger.warning("Worker %s does not listen after %g s; going on", process.pid, timeout)


def main() -> None:
    logging.config.dictConfig(LOGGING)
    config = ServerConfig.from_env(os.environ)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cashman_site.settings.production")
    os.environ["CASHMAN_THREADS"] = str(config.threads)
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
    slots_dir = Path(tempfile.mkdtemp(prefix="cashman-server-", dir=base))
    os.environ[SLOTS_DIR_VARIABLE] = str(slots_dir)
    watchdog = RequestWatchdog(
        slots_dir, timeout=config.request_timeout, grace=config.graceful_timeout
    )
    server = build_server(config)
    server.on_startup(watchdog.start)
    server.on_shutdown(watchdog.stop)
    try:
        server.serve()
    finally:
        shutil.rmtree(slots_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
