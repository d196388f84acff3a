"""The benchmark: `python -m bench.run` (make bench), `python -m bench.run --smoke` (make
bench-smoke). Prints the table and writes the results as JSON (BENCH_OUTPUT).

Exits non-zero when a scenario errored (non-2xx answers, wrk or pgbench errors, missing numbers);
targets that are not met are reported, not fatal.
"""

import datetime
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from pathlib import Path

from bench import config, report
from bench.config import PROJECT_ROOT


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def machine() -> str:
    cores = len(os.sched_getaffinity(0))
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{cores} cores ({model or platform.machine()}), {mem:.0f} GiB, Python {platform.python_version()}"


def commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"


def django_env(cfg: config.Config, tmp: Path) -> dict[str, str]:
    """What the harness and its server share: one secret (the tokens it mints must verify), the
    database, Redis and a key prefix of their own."""
    for folder in ("static", "media"):
        (tmp / folder).mkdir(exist_ok=True)
    return {
        "DJANGO_SECRET_KEY": f"bench-{secrets.token_urlsafe(48)}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_READ_ENV_FILE": "false",
        "DATABASE_URL": cfg.database_url,
        "REDIS_URL": cfg.redis_url,
        "JWT_ACCESS_MINUTES": str(7 * 24 * 60),
        "BENCH_RUN_ID": f"bench-{uuid.uuid4().hex[:12]}",
        "BENCH_SQL_FILE": str(tmp / "sql.json"),
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
        "DJANGO_MEDIA_ROOT": str(tmp / "media"),
    }


def forget_cache(redis_url: str, prefix: str) -> None:
    """Delete the run's keys from Redis (some, like the ledger's generations, never expire)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        for batch in _batched(client.scan_iter(match=f"{prefix}:*", count=1000), 1000):
            client.delete(*batch)
    except redis.RedisError as exc:
        print(f"could not clear the run's Redis keys: {exc}", file=sys.stderr)


def _batched(items, size: int):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def main(argv: list[str]) -> int:
    smoke = "--smoke" in argv
    try:
        cfg = config.load(smoke=smoke)
    except config.UnsafeDatabase as exc:
        print(exc, file=sys.stderr)
        return 2
    for tool in ("wrk", "pgbench"):
        if not shutil.which(tool):
            print(
                f"{tool} is not installed (apt-get install -y wrk postgresql-client)",
                file=sys.stderr,
            )
            return 2
    # A SIGTERM unwinds like an exception, so every server started is stopped (finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="cashman-bench-"))
    env = django_env(cfg, tmp)
    os.environ.update(env, DJANGO_SETTINGS_MODULE="bench.settings", DJANGO_LOG_LEVEL="WARNING")
    results: dict = {
        "meta": {
            "started_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            # Other work on the machine skews absolute numbers (ratios less so): say how busy.
            "load_average_at_start": round(os.getloadavg()[0], 2),
            "commit": commit(),
            "connections": cfg.connections,
            "threads": cfg.threads,
            "duration": cfg.duration,
            "rounds": cfg.rounds,
            "config": cfg.as_dict(),
            "import_mode": "in-process: the upload request runs the import (Celery eager)",
        },
        "scenarios": [],
        "errors": [],
    }
    try:
        from bench import phases  # needs the environment above

        phases.run_all(cfg, env, tmp, results, log)
    except Exception as exc:
        traceback.print_exc()
        results["errors"].append(f"{type(exc).__name__}: {exc}")
    finally:
        results["meta"]["seconds"] = round(time.monotonic() - started, 1)
        results["meta"]["load_average_at_end"] = round(os.getloadavg()[0], 2)
        results["problems"] = report.problems(results)
        summaries = {s["name"]: report.summarise(s) for s in results["scenarios"]}
        results["summary"] = summaries
        results["targets"] = report.evaluate(summaries)
        cfg.output.parent.mkdir(parents=True, exist_ok=True)
        cfg.output.write_text(json.dumps(results, indent=1, default=str) + "\n")
        shutil.rmtree(tmp, ignore_errors=True)
        forget_cache(cfg.redis_url, env["BENCH_RUN_ID"])
    print()
    print(report.table(results))
    print(f"\nResults: {cfg.output} ({results['meta']['seconds']} s)")
    if results["problems"]:
        print("\nProblems:\n- " + "\n- ".join(results["problems"]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
