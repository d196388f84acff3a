"""Growth: the same reads for users with 1,000, 100,000 and 1,000,000 transactions (in the full
seed: a user in one ledger, the growth user and the export user), to show which costs grow with
the ledger.

Timed in-process through DRF's test client (one request at a time, no HTTP), with the ledger
cache off so that every read reaches the database, the best of a few runs each. A read's growth
is its time for the largest user divided by its time for the smallest; the target is at most
1.5. Uses the database `make bench` seeds (run that once first):

    .venv/bin/python -m bench.growth [--repeats 5] [--json bench/results/growth.json]
"""

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from pathlib import Path

#: Target: the largest user's time at most this many times the smallest's.
GROWTH_TARGET = 1.5


def reads(today: datetime.date) -> list[tuple[str, str, dict]]:
    """(name, path, query) of each read: the issue's table. The date range is last month's."""
    last_month_end = today.replace(day=1) - datetime.timedelta(days=1)
    month = {
        "date_after": last_month_end.replace(day=1).isoformat(),
        "date_before": last_month_end.isoformat(),
    }
    return [
        ("summary/", "/api/v1/summary/", {}),
        ("summary/monthly/", "/api/v1/summary/monthly/", {}),
        ("summary/by-category/", "/api/v1/summary/by-category/", {}),
        ("transactions/ (first page, counted)", "/api/v1/transactions/", {}),
        (
            "transactions/?cursor=&search=coffee",
            "/api/v1/transactions/",
            {"cursor": "", "search": "coffee"},
        ),
        ("transactions/ last month (counted)", "/api/v1/transactions/", month),
        ("summary/ last month", "/api/v1/summary/", month),
        ("accounts/ (balances)", "/api/v1/accounts/", {}),
        (
            "budgets/status/ this month",
            "/api/v1/budgets/status/",
            {"ledger": "{ledger}", "month": today.strftime("%Y-%m")},
        ),
        (
            "forecast/ 90 days, with budgets",
            "/api/v1/forecast/",
            {"ledger": "{ledger}", "budgets": "true"},
        ),
    ]


def measure(users: dict[str, int], repeats: int, today: datetime.date) -> list[dict]:
    """For each read, each user's best time in ms, and the growth from the first to the last."""
    from rest_framework.test import APIClient

    from accounts.models import User
    from accounts.tokens import RefreshToken
    from ledger.models import Ledger

    clients, ledgers = {}, {}
    for label, user_id in users.items():
        token = RefreshToken.for_user(User.objects.get(pk=user_id)).access_token
        clients[label] = APIClient()
        clients[label].credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        ledgers[label] = str(Ledger.objects.get(personal_for=user_id).pk)
    results = []
    for name, path, query in reads(today):
        times = {}
        for label, client in clients.items():
            given = {k: v.format(ledger=ledgers[label]) for k, v in query.items()}
            best = float("inf")
            for _ in range(repeats):
                started = time.perf_counter()
                answer = client.get(path, given)
                best = min(best, time.perf_counter() - started)
            assert answer.status_code == 200, (name, answer.content[:300])
            times[label] = round(best * 1000, 2)
        first, last = times[next(iter(users))], times[list(users)[-1]]
        results.append({"read": name, **times, "growth": round(last / first, 2)})
    return results


def table(results: list[dict], users: dict[str, int]) -> str:
    head = " | ".join(f"{label} ms" for label in users)
    lines = [f"| read | {head} | growth | target <= {GROWTH_TARGET} |"]
    lines.append("|---" * (len(users) + 3) + "|")
    for row in results:
        times = " | ".join(f"{row[label]:.2f}" for label in users)
        met = "met" if row["growth"] <= GROWTH_TARGET else "NOT met"
        lines.append(f"| {row['read']} | {times} | x{row['growth']:.2f} | {met} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="the smoke run's database")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    from bench import config
    from bench.run import django_env

    cfg = config.load(smoke=args.smoke)
    env = django_env(cfg, Path(tempfile.mkdtemp(prefix="cashman-growth-")))
    os.environ.update(
        env,
        DJANGO_SETTINGS_MODULE="bench.settings",
        DJANGO_LOG_LEVEL="WARNING",
        CASHMAN_LEDGER_CACHE_SECONDS="0",
    )
    import django

    django.setup()
    from bench import seed

    layout = seed.layout_of(cfg)
    users = {
        f"{layout.rows_per_user:,} rows": 1,
        f"{layout.growth_rows:,} rows": layout.growth_user,
        f"{layout.export_rows:,} rows": layout.export_user,
    }
    today = datetime.date.today()
    results = measure(users, args.repeats, today)
    print(f"in-process, cache off, best of {args.repeats}; {today.isoformat()}")
    print(table(results, users))
    if args.json:
        args.json.write_text(json.dumps({"date": today.isoformat(), "reads": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
