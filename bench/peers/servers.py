"""The peers under their stacks' usual production servers, on free loopback ports, started and
stopped like Cashman's (bench/server.py): the Flask peer under gunicorn's sync workers (as many as Cashman's workers times threads), the
FastAPI peer under uvicorn's own workers (`uvicorn --workers`, as FastAPI's deployment docs show),
each with as many workers as Cashman's server has.

Each is given only what it reads: the database, the key simplejwt signs with, the capture file
and the create scenario's body; no settings of Cashman's (bench/server.py's READ_PREFIXES)."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.config import PROJECT_ROOT
from bench.server import READ_PREFIXES, children, free_port

START_SECONDS = 60
#: Each peer by name, with its label in the logs.
PEERS = {"flask": "Flask", "fastapi": "FastAPI"}


def command(name: str, port: int, workers: int, threads: int = 1) -> list[str]:
    bin_dir = Path(sys.executable).parent
    if name == "flask":
        return [
            str(bin_dir / "gunicorn"),
            f"--bind=127.0.0.1:{port}",
            # Sync workers (the app keeps one connection a process), as many as Cashman's server
            # serves requests at once: its workers times their threads.
            f"--workers={workers * threads}",
            "--timeout=600",
            "--no-control-socket",
            "--worker-tmp-dir=/dev/shm",
            f"--chdir={PROJECT_ROOT}",
            "bench.peers.flask_app:create_app()",
        ]
    return [
        str(bin_dir / "uvicorn"),
        "bench.peers.fastapi_app:app",
        "--host=127.0.0.1",
        f"--port={port}",
        f"--workers={workers}",
        "--no-access-log",  # as gunicorn's default for the Flask peer: no line per request
        f"--app-dir={PROJECT_ROOT}",
    ]


class PeerServer:
    def __init__(
        self, name: str, env: dict[str, str], log: Path, workers: int, threads: int = 1
    ) -> None:
        self.name, self.label, self.workers, self.threads = name, PEERS[name], workers, threads
        #: Worker processes: the Flask peer's sync workers take one request at a time.
        self.processes = workers * threads if name == "flask" else workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        base = {k: v for k, v in os.environ.items() if not k.startswith(READ_PREFIXES)}
        self.env = {**base, **env}
        self.process: subprocess.Popen | None = None

    def start(self) -> "PeerServer":
        self.launch()
        return self.wait()

    def launch(self) -> None:
        self._log_file = self.log.open("ab")
        self.process = subprocess.Popen(
            command(self.name, self.port, self.workers, self.threads),
            # Not the project's folder: gunicorn would read Cashman's gunicorn.conf.py there.
            cwd=self.log.parent,
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait(self) -> "PeerServer":
        """Until it answers, with all its workers up."""
        assert self.process is not None
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.label} exited with {self.process.returncode}; see {self.log}"
                )
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:
                    if answer.status == 200 and len(self.worker_pids()) == self.processes:
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.label} did not answer within {START_SECONDS} s; see {self.log}")

    def worker_pids(self) -> list[int]:
        """The worker processes (not multiprocessing's resource tracker, which uvicorn starts);
        uvicorn with one worker is that worker itself."""
        if not self.process:
            return []
        if self.name == "fastapi" and self.workers == 1:
            return [self.process.pid]
        found = []
        for pid in children(self.process.pid):
            try:
                line = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"resource_tracker" not in line:
                found.append(pid)
        return found

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

    def __enter__(self) -> "PeerServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
