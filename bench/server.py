"""Cashman under gunicorn with bench/settings.py, on a free loopback port, and the memory of its
workers (sampled VmRSS, and VmHWM)."""

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
# What the settings and gunicorn read: the caller's own values must not leak into the server.
READ_PREFIXES = ("DJANGO_", "DATABASE_URL", "REDIS_URL", "JWT_", "CASHMAN_", "GUNICORN_", "BENCH_")
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


class Server:
    def __init__(self, env: dict[str, str], log: Path, workers: int | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        base = {
            k: v for k, v in os.environ.items() if not k.startswith(READ_PREFIXES) or k in PASSED_ON
        }
        self.env = {
            **base,
            **env,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            # Imports run in the request; a 100,000-row one takes longer than the default 30 s.
            "GUNICORN_TIMEOUT": "600",
        }
        if workers:
            self.env["GUNICORN_WORKERS"] = str(workers)
        self.process: subprocess.Popen | None = None

    def start(self) -> "Server":
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self._log_file = self.log.open("ab")
        self.process = subprocess.Popen(
            [gunicorn, "cashman_site.wsgi:application", "-c", "gunicorn.conf.py"],
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
                    f"gunicorn exited with {self.process.returncode}; see {self.log}"
                )
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:
                    if answer.status == 200 and self.worker_pids():
                        return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {START_SECONDS} s; see {self.log}")

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
