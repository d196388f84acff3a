"""Every cache a process keeps for its life is registered in cashman_site.process_state, and one
reset() (which the tests and every forked worker call) forgets them all."""

import pytest
from django.urls import reverse

from accounts import authentication
from cashman_site import fastpaths, process_state, serializers
from ledger import cached_reads as ledger_cache
from ledger.filters import TransactionFilter
from ledger.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db


def sizes() -> dict[str, int]:
    return {
        "verified tokens": authentication._verified.cache_info().currsize,
        "user statement": fastpaths._by_pk.cache_info().currsize,
        "list statements": len(fastpaths._LISTS.entries),
        "rollup statements": len(fastpaths._SUMS.entries),
        "value readers": serializers._reader.cache_info().currsize,
        "filter forms": len(TransactionFilter._form_classes),
    }


def test_reset_forgets_what_requests_made_the_process_keep(auth_client, user, settings):
    settings.CASHMAN_LEDGER_CACHE_SECONDS = 300
    TransactionFactory(owner=user)
    for url, params in [
        ("api:transaction-list", {}),
        ("api:transaction-list", {"search": "x"}),
        ("api:summary-list", {}),
        ("api:summary-monthly", {}),
    ]:
        assert auth_client.get(reverse(url), params).status_code == 200
    auth_client.post(reverse("api:expense-list"), {"description": "x", "amount": "1"})
    assert all(sizes().values()), sizes()

    process_state.reset()

    assert not any(sizes().values()), sizes()
    assert ledger_cache.LOCAL.size == 0


def test_every_cache_is_registered_under_a_name():
    names = process_state.registered()
    assert {
        "accounts: verified tokens",
        "fast paths: compiled statements",
        "filters: form classes and widgets",
        "ledger: cached reads kept in memory",
        "serializers: value readers",
        "throttling: reserved requests",
        "outage: the cache (Redis)",
    } <= set(names)
