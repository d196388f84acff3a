"""The harness's settings, all from the environment (BENCH_*), and the database-name guard."""

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cashman_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
#: The lean peers (bench/peers/), in the order each round measures them.
PEERS = ("flask", "fastapi")


class UnsafeDatabase(RuntimeError):
    """The database named is not a benchmark database: the harness truncates its tables."""


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def check_database_url(url: str) -> str:
    """The URL, if it names a PostgreSQL database whose name contains "bench"; else UnsafeDatabase."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise UnsafeDatabase(f"The benchmark needs PostgreSQL, not {parts.scheme or url!r}.")
    name = database_name(url)
    if "bench" not in name:
        raise UnsafeDatabase(
            f"Refusing to run on database {name!r}: the benchmark truncates its tables, so the "
            "database name must contain 'bench' (e.g. cashman_bench)."
        )
    return url


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass(frozen=True)
class Config:
    database_url: str
    redis_url: str
    users: int
    rows_per_user: int
    export_rows: int
    import_rows: int
    duration: float
    rounds: int
    connections: int
    threads: int
    wide_connections: int  # the list measured again at this many connections; 0 = not
    workers: int | None  # None: gunicorn.conf.py's default (2 x cores + 1)
    token_users: int
    stats_wait: float  # seconds of idleness before pg_stat_user_tables is trusted; 0 = no check
    output: Path
    smoke: bool = False
    scenarios: tuple[str, ...] = field(default_factory=tuple)
    peers: tuple[str, ...] = PEERS  # the lean peers measured (bench/peers/)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["output"] = str(self.output)
        data["database_url"] = self.database_url.split("@")[-1]  # no credentials in the results
        return data


def load(*, smoke: bool = False) -> Config:
    """The configuration from the environment; `smoke` changes only the defaults."""
    if smoke:
        url = os.environ.get(
            "BENCH_SMOKE_DATABASE_URL", DEFAULT_DATABASE_URL.replace("_bench", "_bench_smoke")
        )
    else:
        url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
            "DATABASE_URL", DEFAULT_DATABASE_URL
        )
    small = {"users": 20, "rows": 200, "export": 5000, "import": 2000, "duration": 1, "rounds": 1}
    full = {
        "users": 1000,
        "rows": 1000,
        "export": 1_000_000,
        "import": 100_000,
        "duration": 10,
        "rounds": 3,
    }
    d = small if smoke else full
    workers = os.environ.get("BENCH_WORKERS")
    scenarios = os.environ.get("BENCH_SCENARIOS", "")
    return Config(
        database_url=check_database_url(url),
        redis_url=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        users=_int("BENCH_USERS", d["users"]),
        rows_per_user=_int("BENCH_ROWS_PER_USER", d["rows"]),
        export_rows=_int("BENCH_EXPORT_ROWS", d["export"]),
        import_rows=_int("BENCH_IMPORT_ROWS", d["import"]),
        duration=_float("BENCH_DURATION", d["duration"]),
        rounds=_int("BENCH_ROUNDS", d["rounds"]),
        connections=_int("BENCH_CONNECTIONS", 16),
        threads=_int("BENCH_THREADS", 2),
        wide_connections=_int("BENCH_WIDE_CONNECTIONS", 64),
        workers=int(workers) if workers else None,
        token_users=_int("BENCH_TOKEN_USERS", 1000),
        stats_wait=_float("BENCH_STATS_WAIT", 0 if smoke else 11),
        output=Path(
            os.environ.get(
                "BENCH_OUTPUT",
                BENCH_DIR / "results" / ("smoke.json.tmp" if smoke else "latest.json"),
            )
        ),
        smoke=smoke,
        scenarios=tuple(s for s in scenarios.split(",") if s),
        peers=_peers(os.environ.get("BENCH_PEERS", ",".join(PEERS))),
    )


def _peers(value: str) -> tuple[str, ...]:
    named = {p.strip() for p in value.split(",") if p.strip()}
    if named - set(PEERS):
        raise ValueError(f"BENCH_PEERS: unknown {sorted(named - set(PEERS))}; known: {PEERS}")
    return tuple(p for p in PEERS if p in named)
