"""What is measured: each scenario's request, the cache setting it runs under, and its floors."""

import datetime
from dataclasses import dataclass

from bench.seed import CREATED_DESCRIPTION, MULTI_LEDGERS

LIST = "/api/v1/transactions/"
SUMMARY = "/api/v1/summary/monthly/"
EXPORT = "/api/v1/export/"
IMPORTS = "/api/v1/imports/"


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    path: str
    cache: bool  # CASHMAN_LEDGER_CACHE_SECONDS > 0 (the default with Redis) or 0
    floor: str  # the capture the floors replay
    method: str = "GET"
    warm_capture: bool = False  # capture the second of two identical requests
    # The ledgers each of its users is in: 1 (users 1..N) or MULTI_LEDGERS (the households'
    # users, bench/seed.py); the load rotates over users of that kind, and the capture is one's.
    ledgers: int = 1
    # Measured against the lean peers too (bench/peers/, the captures they serve).
    peers: bool = False


def search_query(today: datetime.date) -> str:
    return (
        f"?date_after={(today - datetime.timedelta(days=365)).isoformat()}"
        f"&date_before={today.isoformat()}&search=coffee"
    )


def create_body(today: datetime.date) -> dict:
    return {
        "type": "EXPENSE",
        "description": CREATED_DESCRIPTION,
        "amount": "12.34",
        "date": today.isoformat(),
    }


def load_scenarios(today: datetime.date) -> list[Scenario]:
    """The wrk scenarios, in the order they run (the create scenario writes, so it runs last)."""
    return [
        Scenario("list", "transactions/ page 1 (cache off)", LIST, False, "list", peers=True),
        Scenario(
            "list_search",
            "transactions/ date range + search (cache off)",
            LIST + search_query(today),
            False,
            "list_search",
            peers=True,
        ),
        Scenario(
            "summary_cold", "summary/monthly/ uncached", SUMMARY, False, "summary_cold", peers=True
        ),
        # After the scenarios above, so that they run as they did before it was added.
        Scenario(
            "list_3_ledgers",
            f"transactions/ page 1, {MULTI_LEDGERS} ledgers (cache off)",
            LIST,
            False,
            "list_3_ledgers",
            ledgers=MULTI_LEDGERS,
        ),
        Scenario(
            "list_cached",
            "transactions/ page 1 (count cached)",
            LIST,
            True,
            "list_cached",
            warm_capture=True,
        ),
        Scenario(
            "summary_warm",
            "summary/monthly/ cached (vs uncached floors)",
            SUMMARY,
            True,
            "summary_cold",
            warm_capture=True,
        ),
        Scenario("create", "POST transactions/", LIST, True, "create", method="POST", peers=True),
    ]


def export_path(kind: str) -> str:
    return f"{EXPORT}?format={kind}"
