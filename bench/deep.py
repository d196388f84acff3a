"""Deep pages of a big ledger: page N of the export user's transactions (1,000,000 rows in the
full seed, all in their personal ledger), as a numbered page (`?page=N`) and as the keyset page
at the same position (`?cursor=` made from the row before it), for each ordering the list takes.

Timed in-process through DRF's test client (one request at a time, no HTTP, the cache off), the
best of a few runs each; both ways must give the same rows. Uses the database `make bench`
seeds (run that once first):

    .venv/bin/python -m bench.deep [--page 10000] [--repeats 5]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ORDERINGS = {
    "-date": ("-date", "-id"),
    "date": ("date", "id"),
    "amount": ("amount", "id"),
    "-created_at": ("-created_at", "-id"),
}
LIST = "/api/v1/transactions/"


def measure(user_id: int, page: int, *, size: int = 50, repeats: int = 3) -> list[dict]:
    """For each ordering: the best times (ms) of the numbered and the keyset page, and whether
    they gave the same rows."""
    from rest_framework.test import APIClient

    from accounts.models import User
    from accounts.tokens import RefreshToken
    from cashman_site import keyset
    from ledger import scope
    from ledger.models import Transaction

    token = RefreshToken.for_user(User.objects.get(pk=user_id)).access_token
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    results = []
    for name, ordering in ORDERINGS.items():
        rows = scope.visible(Transaction.objects.all(), user_id).order_by(*ordering)
        before = rows.values(*(key.lstrip("-") for key in ordering))[(page - 1) * size - 1]
        cursor = keyset.encode(ordering, keyset.Cursor(keyset.key_of(before, ordering), False))
        times, answers = {}, {}
        for way, query in (("numbered", {"page": page}), ("keyset", {"cursor": cursor})):
            best = float("inf")
            for _ in range(repeats):
                started = time.perf_counter()
                answer = client.get(LIST, {**query, "ordering": name, "page_size": size})
                best = min(best, time.perf_counter() - started)
            assert answer.status_code == 200, answer.content
            times[way], answers[way] = round(best * 1000, 1), answer.json()["results"]
        same = [r["id"] for r in answers["numbered"]] == [r["id"] for r in answers["keyset"]]
        results.append({"ordering": name, **times, "same_rows": same})
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--page", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    from bench import config
    from bench.run import django_env

    cfg = config.load(smoke=False)
    env = django_env(cfg, Path(tempfile.mkdtemp(prefix="cashman-deep-")))
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
    print(f"page {args.page} of user {layout.export_user}'s {layout.export_rows:,} rows, 50 a page")
    print("| ordering | numbered ms | keyset ms | same rows |\n|---|---|---|---|")
    failed = False
    for row in measure(layout.export_user, args.page, repeats=args.repeats):
        print(f"| {row['ordering']} | {row['numbered']} | {row['keyset']} | {row['same_rows']} |")
        failed = failed or not row["same_rows"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
