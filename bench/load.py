"""Load generators: wrk against the server (HTTP), pgbench against the database (the SQL floor),
and plain HTTP helpers for the streaming export and the upload."""

import glob
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from bench.config import BENCH_DIR

LUA = BENCH_DIR / "wrk" / "rotate.lua"


class LoadError(RuntimeError):
    pass


def wrk(
    url: str,
    *,
    users_file: Path,
    mode: str,
    duration: float,
    connections: int,
    threads: int,
    method: str = "GET",
    body_file: Path | None = None,
) -> dict:
    """One wrk run; its numbers (req/s, p50, p99 in ms, errors) as printed by rotate.lua."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
        "--",
        str(users_file),
        mode,
        method,
    ]
    if body_file:
        command.append(str(body_file))
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    match = re.search(r"^BENCH_JSON (.*)$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or not match:
        raise LoadError(f"wrk failed ({result.returncode}): {result.stdout}{result.stderr}")
    numbers = json.loads(match.group(1))
    numbers["error_count"] = sum(numbers["errors"].values())
    # wrk counts answers of 400 and up as status errors; a 3xx would be as wrong here.
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    numbers["non_2xx"] = int(non_2xx.group(1)) if non_2xx else 0
    return numbers


def pgbench(
    database_url: str, script: str, *, duration: float, connections: int, threads: int
) -> dict:
    """One pgbench run of `script`; transactions/s and latency percentiles from its per-
    transaction log."""
    with tempfile.TemporaryDirectory(prefix="bench-pgbench-") as tmp:
        path = Path(tmp) / "script.sql"
        path.write_text(script)
        prefix = str(Path(tmp) / "log")
        command = [
            "pgbench",
            "-n",
            f"-c{connections}",
            f"-j{threads}",
            f"-T{max(1, round(duration))}",
            "-f",
            str(path),
            "-l",
            f"--log-prefix={prefix}",
            database_url,
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
        tps = re.search(r"tps = ([\d.]+) \(without initial", result.stdout)
        if result.returncode != 0 or not tps:
            raise LoadError(f"pgbench failed ({result.returncode}): {result.stdout}{result.stderr}")
        latencies = []
        for log in glob.glob(prefix + ".*"):
            with open(log) as handle:
                latencies.extend(int(line.split()[2]) / 1000 for line in handle if line.strip())
        failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
        return {
            "requests": len(latencies),
            "rps": float(tps.group(1)),
            **percentiles(latencies),
            "error_count": int(failed.group(1)) if failed else 0,
            "non_2xx": 0,
        }


def percentiles(latencies_ms: list[float]) -> dict:
    if not latencies_ms:
        return {"p50_ms": None, "p99_ms": None}
    ordered = sorted(latencies_ms)
    if len(ordered) == 1:
        return {"p50_ms": ordered[0], "p99_ms": ordered[0]}
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49], 3), "p99_ms": round(cuts[98], 3)}


# --- Plain HTTP ---------------------------------------------------------------------------------


def request(url: str, *, headers: dict, method: str = "GET", data: bytes | None = None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    return urllib.request.urlopen(req, timeout=900)


def stream(url: str, *, headers: dict) -> dict:
    """Download a streamed answer; its size, its lines and how long it took."""
    started = time.monotonic()
    size = lines = 0
    with request(url, headers=headers) as answer:
        status = answer.status
        while chunk := answer.read(256 * 1024):
            size += len(chunk)
            lines += chunk.count(b"\n")
    return {"status": status, "bytes": size, "lines": lines, "seconds": time.monotonic() - started}


def upload(url: str, *, headers: dict, name: str, content: bytes) -> tuple[int, dict, float]:
    """POST one file as multipart/form-data; (status, JSON answer, seconds)."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    started = time.monotonic()
    with request(
        url,
        method="POST",
        data=body,
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    ) as answer:
        return answer.status, json.loads(answer.read()), time.monotonic() - started


def have(tool: str) -> bool:
    return any(
        os.access(os.path.join(d, tool), os.X_OK) for d in os.environ["PATH"].split(os.pathsep)
    )
