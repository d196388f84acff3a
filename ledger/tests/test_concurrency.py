"""Concurrent writers against real PostgreSQL (SQLite does not lock rows): nothing is lost,
nothing is duplicated, and a race never ends in a 500."""

import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.db import transaction as db_transaction
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from conftest import bearer
from ledger import services
from ledger.choices import Role, TransactionType
from ledger.models import Category, Transaction
from ledger.tests.factories import SharedLedgerFactory, add_member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def run_together(user, calls):
    """Run each call(client) in its own thread, released at the same moment; return responses.
    `user` signs every call in, or is a list: one user per call."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)
    errors = []
    users = user if isinstance(user, list) else [user] * len(calls)

    def worker(index, call):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=bearer(users[index]))
        try:
            barrier.wait(timeout=10)
            results[index] = call(client)
        except Exception as exc:
            errors.append((index, exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_n_threads_creating_at_once_give_n_rows_and_exact_sums(user):
    amounts = [Decimal(f"{i}.{i:02d}") for i in range(1, THREADS + 1)]
    responses = run_together(
        user,
        [
            lambda c, a=a: c.post(
                reverse("api:expense-list"), {"description": "t", "amount": str(a)}
            )
            for a in amounts
        ],
    )
    assert [r.status_code for r in responses] == [201] * THREADS
    assert Transaction.objects.filter(ledger__personal_for=user).count() == THREADS
    summary = APIClient()
    summary.credentials(HTTP_AUTHORIZATION=bearer(user))
    assert summary.get(reverse("api:summary-list")).json()["expense"] == f"{-sum(amounts):.2f}"


def test_n_threads_retrying_one_idempotent_create_give_one_row(user):
    body = {"description": "once", "amount": "10.00"}
    responses = run_together(
        user,
        [lambda c: c.post(reverse("api:expense-list"), body, HTTP_IDEMPOTENCY_KEY="retry-me")]
        * THREADS,
    )
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, statuses
    assert Transaction.objects.filter(ledger__personal_for=user).count() == 1
    created = [r for r in responses if r.status_code == 201]
    assert sum("Idempotent-Replayed" not in r for r in created) == 1
    assert len({r.json()["id"] for r in created}) == 1


def test_two_writers_with_one_if_match_give_one_200_and_one_412(user):
    tx = services.transaction_create(
        actor=user, type="EXPENSE", description="x", amount=Decimal("-1")
    )
    url = reverse("api:transaction-detail", args=[tx.pk])
    etag = f'"{tx.pk}-{tx.version}"'
    for attempt in range(5):
        responses = run_together(
            user,
            [
                lambda c, n=n, tag=etag: c.patch(
                    url, {"description": f"writer {n}"}, HTTP_IF_MATCH=tag
                )
                for n in range(2)
            ],
        )
        assert sorted(r.status_code for r in responses) == [200, 412], attempt
        tx.refresh_from_db()
        winner = next(r for r in responses if r.status_code == 200)
        assert tx.description == winner.json()["description"]
        etag = winner["ETag"]


def test_racing_category_names_never_give_a_500(user):
    for attempt in range(5):
        name = f"Race {attempt}"
        responses = run_together(
            user, [lambda c, name=name: c.post(reverse("api:category-list"), {"name": name})] * 4
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses.count(201) == 1, statuses
        assert set(statuses) <= {201, 400, 409}, statuses
        assert Category.objects.filter(ledger__personal_for=user, name=name).count() == 1


def test_a_read_during_an_open_write_never_outlives_its_commit(user, settings):
    """A summary read while a write's transaction is open cannot see the row and is cached; the
    commit must end that entry, whatever the cache holds."""
    settings.CASHMAN_LEDGER_CACHE_SECONDS = 300
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=bearer(user))
    url = reverse("api:summary-list")
    assert reader.get(url).json()["count"] == 0
    written, release = threading.Event(), threading.Event()
    errors = []

    def write():
        try:
            with db_transaction.atomic():
                services.transaction_create(
                    actor=User.objects.get(pk=user.pk),
                    type=TransactionType.EXPENSE,
                    description="open",
                    amount=Decimal("-5"),
                )
                written.set()
                assert release.wait(timeout=30)  # hold the transaction open
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert written.wait(timeout=30)
        assert reader.get(url).json()["count"] == 0  # uncommitted: not seen, and cached
        assert reader.get(url).json()["count"] == 0
    finally:
        release.set()
        writer.join(timeout=30)
    assert not errors, errors
    assert reader.get(url).json() == {
        "income": "0.00",
        "expense": "-5.00",
        "balance": "-5.00",
        "transfers_in": "0.00",
        "transfers_out": "0.00",
        "count": 1,
    }


def test_members_writing_one_ledger_at_once_lose_nothing(user, other_user):
    """Each member of a shared ledger writes at the same moment; every row lands, and each
    member's cached summary follows the others' writes."""
    household = SharedLedgerFactory(owner=user)
    add_member(household, other_user, Role.EDITOR)
    account = household.accounts.get().pk
    users = [user, other_user] * (THREADS // 2)
    amounts = [Decimal(f"{i}.{i:02d}") for i in range(1, THREADS + 1)]
    responses = run_together(
        users,
        [
            lambda c, a=a: c.post(
                reverse("api:expense-list"),
                {"description": "t", "amount": str(a), "account": account},
            )
            for a in amounts
        ],
    )
    assert [r.status_code for r in responses] == [201] * THREADS
    assert Transaction.objects.filter(ledger=household).count() == THREADS
    for member in (user, other_user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=bearer(member))
        summary = client.get(reverse("api:summary-list"), {"ledger": household.pk}).json()
        assert summary["expense"] == f"{-sum(amounts):.2f}"


def test_a_members_read_during_anothers_open_write_never_outlives_its_commit(
    user, other_user, settings
):
    """As above, across members: the writer's commit ends the other member's cached answers."""
    settings.CASHMAN_LEDGER_CACHE_SECONDS = 300
    household = SharedLedgerFactory(owner=user)
    add_member(household, other_user, Role.VIEWER)
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=bearer(other_user))
    url = reverse("api:summary-list")
    assert reader.get(url).json()["count"] == 0
    written, release = threading.Event(), threading.Event()
    errors = []

    def write():
        try:
            with db_transaction.atomic():
                services.transaction_create(
                    actor=User.objects.get(pk=user.pk),
                    type=TransactionType.EXPENSE,
                    description="open",
                    amount=Decimal("-5"),
                    account=household.accounts.get(),
                )
                written.set()
                assert release.wait(timeout=30)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert written.wait(timeout=30)
        assert reader.get(url).json()["count"] == 0
    finally:
        release.set()
        writer.join(timeout=30)
    assert not errors, errors
    assert reader.get(url).json()["count"] == 1


def test_two_owners_stepping_down_at_once_leave_one_owner(user, other_user):
    """Each owner demotes themselves at the same moment: one wins, the other is told the ledger
    keeps an owner (409), never a 500 and never a ledger without an owner."""
    for attempt in range(3):
        household = SharedLedgerFactory(owner=user)
        add_member(household, other_user, Role.OWNER)
        responses = run_together(
            [user, other_user],
            [
                lambda c, who=who, ledger=household.pk: c.patch(
                    reverse("api:ledger-member-detail", args=[ledger, who.pk]),
                    {"role": Role.EDITOR},
                )
                for who in (user, other_user)
            ],
        )
        assert sorted(r.status_code for r in responses) == [200, 409], attempt
        assert household.memberships.filter(role=Role.OWNER).count() == 1
