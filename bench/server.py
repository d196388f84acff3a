"""Cashman with bench/settings.py, on a free loopback port, under the production server (granian,
through cashman_site/serve.py) or, to compare, gunicorn; and the memory of its workers (sampled
VmRSS, and VmHWM).

BENCH_SERVER chooses: `granian` (the default: what production runs), `gunicorn-sync` or
`gunicorn-gthread` (BENCH_SERVER_THREADS threads a worker, default 4). BENCH_SERVER_THREADS is
also granian's threads a worker (CASHMAN_THREADS, default 2). gunicorn is in requirements/dev.txt
only for this comparison.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from bench.config import PROJECT_ROOT

START_SECONDS = 60
# What the settings and the servers read: the caller's own values must not leak into the server.
READ_PREFIXES = (
    "DJANGO_",
    "DATABASE_URL",
    "REDIS_URL",
    "JWT_",
    "CASHMAN_",
    "GUNICORN_",
    "FORWARDED_ALLOW_IPS",
    "BENCH_",
)
SERVERS = ("granian", "gunicorn-sync", "gunicorn-gthread")
#: Imports run in the request; a 100,000-row one takes longer than the default 30 s.
REQUEST_TIMEOUT = "600"
#: Settings passed on to the server from the harness's environment: what a run compares.
PASSED_ON = ("CASHMAN_FAST_PATHS",)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(p) for p in text.split()]
    except FileNotFoundError:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry.name))
                except (OSError, IndexError, ValueError):
                    continue
        return found


def server_kind(environ: dict[str, str] | os._Environ = os.environ) -> str:
    kind = environ.get("BENCH_SERVER") or "granian"
    if kind not in SERVERS:
        raise ValueError(f"BENCH_SERVER={kind!r}: expected one of {', '.join(SERVERS)}")
    return kind


def _gunicorn_workers() -> int:
    # gunicorn's rule of thumb, 2 x cores + 1, as Cashman ran it before granian (capped at 9).
    return min(2 * len(os.sched_getaffinity(0)) + 1, 9)


class Server:
    def __init__(
        self, env: dict[str, str], log: Path, workers: int | None = None, kind: str | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.kind = kind or server_kind()
        base = {
            k: v for k, v in os.environ.items() if not k.startswith(READ_PREFIXES) or k in PASSED_ON
        }
        self.env = {**base, **env, "DJANGO_SETTINGS_MODULE": "bench.settings"}
        threads = os.environ.get("BENCH_SERVER_THREADS")
        #: Threads a worker: what the Flask peer is given too (bench/peers/servers.py).
        self.threads = int(threads or (2 if self.kind == "granian" else 4))
        if self.kind == "gunicorn-sync":
            self.threads = 1
        if self.kind == "granian":
            self.env.update(
                CASHMAN_BIND=f"127.0.0.1:{self.port}", CASHMAN_REQUEST_TIMEOUT=REQUEST_TIMEOUT
            )
            if workers:
                self.env["CASHMAN_WORKERS"] = str(workers)
            if threads:
                self.env["CASHMAN_THREADS"] = threads
            self.command = [sys.executable, "-m", "cashman_site.serve"]
        else:
            gthread = self.kind == "gunicorn-gthread"
            self.command = [
                str(Path(sys.executable).with_name("gunicorn")),
                "cashman_site.wsgi:application",
                f"--bind=127.0.0.1:{self.port}",
                f"--workers={workers or _gunicorn_workers()}",
                f"--threads={(threads or '4') if gthread else '1'}",
                f"--timeout={REQUEST_TIMEOUT}",
                "--keep-alive=5",
                "--limit-request-line=8190",
                "--error-logfile=-",
                "--worker-tmp-dir=/dev/shm",
                "--no-control-socket",
            ]
        self.process: subprocess.Popen | None = None

    def start(self) -> "Server":
        self._log_file = self.log.open("ab")
        self.process = subprocess.Popen(
            self.command,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.kind} exited with {self.process.returncode}; see {self.log}"
                )
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:
                    if answer.status == 200 and self.worker_pids():
                        return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.kind} did not answer within {START_SECONDS} s; see {self.log}")

    def worker_pids(self) -> list[int]:
        return children(self.process.pid) if self.process else []

    def worker_hwm_mb(self) -> float:
        return max((_status_kib(p, "VmHWM") for p in self.worker_pids()), default=0) / 1024

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if getattr(self, "_log_file", None):
            self._log_file.close()

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class RssSampler:
    """The largest VmRSS of any worker while the block runs, sampled every `interval` seconds."""

    def __init__(self, server: Server, interval: float = 0.05) -> None:
        self.server, self.interval = server, interval
        self.peak_kib = 0
        self._stop = threading.Event()

    def _run(self) -> None:
        pids = self.server.worker_pids()
        while not self._stop.is_set():
            for pid in pids:
                self.peak_kib = max(self.peak_kib, _status_kib(pid, "VmRSS"))
            self._stop.wait(self.interval)

    def __enter__(self) -> "RssSampler":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return round(self.peak_kib / 1024, 1)
