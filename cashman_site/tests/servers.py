"""Real servers for the tests marked `server`, in one place for every app's tests: a site (the
production settings on one database, SQLite or PostgreSQL), the production HTTP server in front
of it (granian through cashman_site/serve.py, as scripts/entrypoint.sh runs it), started,
waited for, requested and stopped one way; a plain static web server for pages that must come
from another origin; and a private PostgreSQL cluster that a test may stop and start.

Ports come from CASHMAN_TEST_PORTS (default 18000-18999), so parallel runs on one machine can be
given ranges that do not overlap.
"""

import contextlib
import http.server
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# What the settings and the server read; the test process's own values must not leak into a server.
READ_PREFIXES = (
    "DJANGO_",
    "DATABASE_URL",
    "REDIS_URL",
    "JWT_",
    "CASHMAN_",
    "GUNICORN_",
    "GRANIAN_",
    "FORWARDED_ALLOW_IPS",
)
START_SECONDS = 30
SERVER_COMMAND = (sys.executable, "-m", "cashman_site.serve")
SERVER_USER = "server-user@example.com"
SERVER_PASSWORD = "a-long-Passphrase-42"


def free_port() -> int:
    """A free TCP port on 127.0.0.1 within CASHMAN_TEST_PORTS (default 18000-18999)."""
    low, high = (int(p) for p in os.environ.get("CASHMAN_TEST_PORTS", "18000-18999").split("-"))
    candidates = list(range(low, high + 1))
    random.shuffle(candidates)
    for port in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{high}")


def wait_until(condition, *, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)  # polling another process, not waiting for time to pass
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Site:
    """A deployment: the production settings on `database_url`, and a folder (`root`) for what
    it writes (the server's logs, and whatever `settings` point there)."""

    root: Path
    database_url: str
    settings: dict[str, str] = field(default_factory=dict)
    secret_key: str = field(default_factory=lambda: f"test-server-{secrets.token_urlsafe(40)}")

    def env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(READ_PREFIXES)}
        env.update(
            DJANGO_SETTINGS_MODULE="cashman_site.settings.production",
            DJANGO_READ_ENV_FILE="false",
            DJANGO_SECRET_KEY=self.secret_key,
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            DATABASE_URL=self.database_url,
            # No TLS here: the redirect would send the browser to https://127.0.0.1.
            DJANGO_SECURE_SSL_REDIRECT="false",
            PATH=f"{BIN}:{env.get('PATH', '')}",
        )
        env.update(self.settings)
        env.update(overrides)
        return env

    def manage(self, *args: str, **env: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT_ROOT,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def user_token(self, email: str) -> str:
        """Create a user in the site's database and mint an access token for it."""
        code = (
            "from accounts.services import user_create; "
            "from rest_framework_simplejwt.tokens import RefreshToken; "
            f"u = user_create(email={email!r}, password={SERVER_PASSWORD!r}); "
            "print(RefreshToken.for_user(u).access_token)"
        )
        return self.manage("shell", "--no-imports", "-c", code).strip().splitlines()[-1]


def prepare_site(root: Path) -> Site:
    """On SQLite: migrate a fresh database, collect the static files, create SERVER_USER."""
    site = Site(
        root=root,
        database_url=f"sqlite:///{root / 'db.sqlite3'}",
        settings={"DJANGO_STATIC_ROOT": str(root / "static")},
    )
    site.manage("migrate", "--noinput", "--verbosity", "0")
    site.manage("collectstatic", "--noinput", "--verbosity", "0")
    site.manage(
        "shell",
        "-c",
        "from accounts.services import user_create; "
        f"user_create(email={SERVER_USER!r}, password={SERVER_PASSWORD!r})",
    )
    return site


class Headers(dict):
    """A response's headers by name, whatever its case: granian sends them lower-case."""

    def __init__(self, items) -> None:
        super().__init__((name.lower(), value) for name, value in items)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())

    def get(self, name: str, default=None):  # type: ignore[override]
        return super().get(name.lower(), default)


class Answer(NamedTuple):
    """A server's answer; status 0 when the connection itself failed."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return {"not_json": self.body[:200].decode(errors="replace")}


@dataclass
class Server:
    """A running server: where it answers, its log, and its main process."""

    url: str
    log: Path
    process: subprocess.Popen

    def request(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        headers: dict | None = None,
        *,
        token: str | None = None,
        timeout: float = 30,
    ) -> Answer:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers=headers or {}
        )
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Answer(response.status, Headers(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, Headers(error.headers.items()), error.read())
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return Answer(0, {}, b"")

    def access_token(self) -> str:
        status, _, body = self.request(
            "POST", "/api/v1/auth/token/", {"email": SERVER_USER, "password": SERVER_PASSWORD}
        )
        assert status == 200, body
        return json.loads(body)["access"]


@contextlib.contextmanager
def production_server(site: Site, *, workers: int = 2, **env: str) -> Iterator[Server]:
    """Run the production server (`python -m cashman_site.serve`, production settings) for
    `site` on a free port, once it answers /healthz, until the block ends."""
    port = free_port()
    log = site.root / f"server-{port}.log"
    server_env = site.env(
        **{"CASHMAN_GRACEFUL_TIMEOUT": "5", **env},
        CASHMAN_BIND=f"127.0.0.1:{port}",
        CASHMAN_WORKERS=str(workers),
    )
    with open(log, "wb") as output:
        process = subprocess.Popen(
            SERVER_COMMAND,
            cwd=PROJECT_ROOT,
            env=server_env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Server(url=f"http://127.0.0.1:{port}", log=log, process=process)
    try:
        _wait_until_up(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited: {server.log.read_text()[-3000:]}")
        if server.request("GET", "/healthz").status == 200:
            return
        time.sleep(0.1)  # polling a starting process, not waiting for time to pass
    raise RuntimeError(f"the server did not answer in {START_SECONDS} s: {server.log.read_text()}")


@contextlib.contextmanager
def static_pages(directory: Path) -> Iterator[str]:
    """Serve `directory` over HTTP from a thread on a free port; yields the origin."""
    port = free_port()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(directory), **kwargs)

        def log_message(self, format, *args):  # keep the test output quiet
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


# --- A database that goes away: a private PostgreSQL cluster ---------------------------------


def postgres_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class PrivatePostgres:
    """A throwaway PostgreSQL cluster on its own port, so the shared service is not disturbed.

    initdb refuses to run as root: as root, the cluster belongs to the `postgres` system user.
    """

    bindir: Path
    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cashman-pg-")))

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/cashman"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)

    def init(self) -> None:
        os.chmod(self.root, 0o777)  # noqa: S103 - a temporary directory the cluster's user owns
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.root / "data"), "-A", "trust", "-U", "postgres")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "cashman")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.root / "data"),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
