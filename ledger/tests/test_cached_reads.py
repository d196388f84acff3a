"""Cached reads: the summaries and list counts are cached per user and per filters, a cached
read costs at most one cache lookup, and no write hides behind the cache whatever path it takes
(the API, a batch, a service call, a restore, an import, a category change): each raises the
user's ledger generation in its own transaction."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache as ledger_cache_backend
from django.db import connection
from django.db import transaction as db_transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import UserFactory
from ledger import cached_reads, services
from ledger.choices import Role
from ledger.models import Membership, Transaction
from ledger.tests.factories import (
    AccountFactory,
    CategoryFactory,
    SharedLedgerFactory,
    TransactionFactory,
    add_member,
    main_account,
    personal_ledger,
)

pytestmark = pytest.mark.django_db

TRANSACTIONS = reverse("api:transaction-list")
EXPENSES = reverse("api:expense-list")
SUMMARY = reverse("api:summary-list")
MONTHLY = reverse("api:summary-monthly")
BY_CATEGORY = reverse("api:summary-by-category")


def detail(tx) -> str:
    return reverse("api:transaction-detail", args=[tx.pk])


def summary(client) -> dict:
    return client.get(SUMMARY).json()


class TestCachedReads:
    def test_a_repeated_summary_does_not_touch_the_transactions_table(
        self, auth_client, make_tx, ledger_cache
    ):
        make_tx(amount=Decimal("5"))
        for url in (SUMMARY, MONTHLY, BY_CATEGORY):
            first = auth_client.get(url).json()
            with CaptureQueriesContext(connection) as queries:
                again = auth_client.get(url).json()
            assert again == first
            assert not [q for q in queries if "ledger_transaction" in q["sql"]], url
            assert len(queries) == 1  # the user behind the token

    def test_filters_are_part_of_the_key(self, auth_client, make_tx, ledger_cache):
        make_tx(amount=Decimal("5"), date=datetime.date(2026, 1, 5))
        make_tx(amount=Decimal("7"), date=datetime.date(2026, 2, 5))
        assert summary(auth_client)["expense"] == "-12.00"
        february = auth_client.get(SUMMARY, {"date_after": "2026-02-01"}).json()
        assert february["expense"] == "-7.00"

    def test_each_user_has_their_own_cache(self, auth_client, other_client, make_tx, other_user):
        make_tx(amount=Decimal("5"))
        assert summary(auth_client)["count"] == 1
        assert summary(other_client)["count"] == 0
        make_tx(owner=other_user, amount=Decimal("9"))
        assert summary(auth_client)["expense"] == "-5.00"
        assert summary(other_client)["expense"] == "-9.00"

    def test_the_list_count_is_cached_until_a_write(self, auth_client, make_tx, ledger_cache):
        make_tx()
        assert auth_client.get(TRANSACTIONS).json()["count"] == 1
        with CaptureQueriesContext(connection) as queries:
            assert auth_client.get(TRANSACTIONS).json()["count"] == 1
        assert not [q for q in queries if "COUNT(" in q["sql"].upper()]
        auth_client.post(EXPENSES, {"description": "x", "amount": "1"})
        assert auth_client.get(TRANSACTIONS).json()["count"] == 2
        assert auth_client.get(EXPENSES, {"search": "x"}).json()["count"] == 1


def _create(client, user, tx):
    client.post(EXPENSES, {"description": "new", "amount": "3"})


def _put(client, user, tx):
    client.put(detail(tx), {"type": "EXPENSE", "description": "d", "amount": "13"})


def _patch_if_match(client, user, tx):
    client.patch(detail(tx), {"amount": "13"}, HTTP_IF_MATCH=client.get(detail(tx))["ETag"])


def _delete(client, user, tx):
    client.delete(detail(tx))


def _batch(client, user, tx):
    rows = [{"type": "EXPENSE", "description": "b", "amount": "3", "date": "2026-11-01"}]
    assert client.post(reverse("api:transaction-batch"), rows).status_code == 201


def _service_update(client, user, tx):
    services.transaction_update(transaction=tx, data={"amount": Decimal("-13")}, if_version=1)


def _restore(client, user, tx):
    client.delete(detail(tx))
    assert summary(client)["count"] == 1  # the state without it, cached
    record = Transaction.history.filter(id=tx.pk, history_type="-").get()
    assert services.transaction_restore(record=record) is not None


def _transfer(client, user, tx):
    body = {"from_account": tx.account_id, "to_account": AccountFactory(owner=user).pk}
    assert client.post(reverse("api:transfer-list"), {**body, "amount": "4"}).status_code == 201


def _account_move(client, user, tx):
    """Into another of the user's ledgers: both ledgers' answers end."""
    other = SharedLedgerFactory(owner=user).accounts.get()
    assert client.patch(detail(tx), {"account": other.pk}).status_code == 200


def _anothers_write(client, user, tx):
    """Another member of the ledger writes: the user's answers end too."""
    housemate = UserFactory()
    add_member(tx.ledger, housemate, Role.EDITOR)
    services.transaction_create(
        actor=housemate,
        type="INCOME",
        description="theirs",
        amount=Decimal("8"),
        account=tx.account,
    )


def _joined(client, user, tx):
    """The user joins a ledger that has rows: they are in the user's answers at once."""
    household = SharedLedgerFactory()
    TransactionFactory(account=household.accounts.get(), amount=Decimal("4"))
    add_member(household, user, Role.VIEWER)


def _left(client, user, tx):
    """The user leaves a ledger that has rows: they are out of the user's answers at once."""
    household = SharedLedgerFactory()
    TransactionFactory(account=household.accounts.get(), amount=Decimal("4"))
    membership = add_member(household, user, Role.VIEWER)
    assert summary(client)["count"] == 3  # cached with it
    assert client.get(TRANSACTIONS).json()["count"] == 3
    url = reverse("api:ledger-member-detail", args=[household.pk, user.pk])
    assert client.delete(url).status_code == 204
    assert not type(membership).objects.filter(pk=membership.pk).exists()


@pytest.mark.parametrize(
    "write",
    [
        _create,
        _put,
        _patch_if_match,
        _delete,
        _batch,
        _service_update,
        _restore,
        _transfer,
        _account_move,
        _anothers_write,
        _joined,
        _left,
    ],
)
def test_no_write_is_hidden_by_the_cache(auth_client, user, make_tx, ledger_cache, write):
    tx = make_tx(amount=Decimal("10"))
    make_tx(amount=Decimal("1"))
    assert auth_client.get(TRANSACTIONS).json()["count"] == 2
    before = (summary(auth_client), auth_client.get(MONTHLY).json())
    assert before == (summary(auth_client), auth_client.get(MONTHLY).json())  # now cached

    write(auth_client, user, tx)

    expected = services_free_totals(user)
    assert summary(auth_client) == expected
    monthly = {row["month"]: row["balance"] for row in auth_client.get(MONTHLY).json()}
    assert monthly == services_free_monthly_balances(user)
    assert auth_client.get(TRANSACTIONS).json()["count"] == expected["count"]


def _users_rows(user):
    """The transactions of the ledgers the user is a member of, read here without the scope."""
    ledgers = Membership.objects.filter(user=user).values("ledger_id")
    return Transaction.objects.filter(ledger__in=ledgers)


def services_free_totals(user) -> dict:
    """The totals, summed here in Python from the rows (not by the code under test)."""
    rows = list(_users_rows(user).values_list("type", "amount"))

    def total(kind, sign=0):
        return sum((a for t, a in rows if t == kind and a * sign >= 0), Decimal("0"))

    income, expense = total("INCOME"), total("EXPENSE")
    return {
        "income": f"{income:.2f}",
        "expense": f"{expense:.2f}",
        "balance": f"{income + expense:.2f}",
        "transfers_in": f"{total('TRANSFER', 1):.2f}",
        "transfers_out": f"{total('TRANSFER', -1):.2f}",
        "count": len(rows),
    }


def services_free_monthly_balances(user) -> dict[str, str]:
    """Each month's balance (transfers left out), summed here in Python from the rows: a create
    without a date lands in today's month, which is the factories' month only on some days."""
    balances: dict[str, Decimal] = {}
    for day, kind, amount in _users_rows(user).values_list("date", "type", "amount"):
        month = day.isoformat()[:7]
        in_balance = amount if kind != "TRANSFER" else Decimal("0")
        balances[month] = balances.get(month, Decimal("0")) + in_balance
    return {month: f"{balance:.2f}" for month, balance in balances.items()}


def test_an_import_is_not_hidden_by_the_cache(auth_client, user, ledger_cache, upload):
    assert summary(auth_client)["count"] == 0
    csv = "date,description,amount\n2026-11-01,Salary,3000\n2026-11-02,Rent,-900\n"
    assert upload(auth_client, csv).status_code == 202
    assert summary(auth_client) == services_free_totals(user) | {"count": 2}


def test_category_changes_reach_the_cached_summary(auth_client, user, make_tx, ledger_cache):
    food = CategoryFactory(owner=user, name="Food")
    make_tx(category=food)
    assert auth_client.get(BY_CATEGORY).json()[0]["category_name"] == "Food"
    url = reverse("api:category-detail", args=[food.pk])
    auth_client.patch(url, {"name": "Groceries"})
    assert auth_client.get(BY_CATEGORY).json()[0]["category_name"] == "Groceries"
    assert auth_client.get(TRANSACTIONS).json()["results"][0]["category_name"] == "Groceries"
    auth_client.delete(url)
    assert auth_client.get(BY_CATEGORY).json()[0]["category"] is None


def generation(user) -> int:
    return type(user).objects.values_list("ledger_generation", flat=True).get(pk=user.pk)


def test_a_write_raises_the_generation_in_its_own_transaction(user, other_user, make_tx):
    tx = make_tx()
    start, others = generation(user), generation(other_user)
    services.transaction_update(transaction=tx, data={"amount": Decimal("-2")}, if_version=None)
    assert generation(user) == start + 1
    with pytest.raises(RuntimeError), db_transaction.atomic():
        services.transaction_delete(transaction=tx, if_version=None, actor=user)
        assert generation(user) == start + 2
        raise RuntimeError("rolled back")
    assert generation(user) == start + 1  # undone with the write it stood for
    assert Transaction.objects.filter(pk=tx.pk).exists()
    assert generation(other_user) == others


def test_a_write_raises_the_generation_of_every_member_of_its_ledgers_only(user, other_user):
    household = SharedLedgerFactory(owner=user)
    viewer, outsider = UserFactory(), UserFactory()
    add_member(household, viewer, Role.VIEWER)
    add_member(personal_ledger(user), other_user, Role.VIEWER)
    before = {u.pk: generation(u) for u in (user, other_user, viewer, outsider)}
    services.transaction_create(
        actor=user,
        type="EXPENSE",
        description="x",
        amount=Decimal("1"),
        account=household.accounts.get(),
    )
    after = {u.pk: generation(u) for u in (user, other_user, viewer, outsider)}
    assert after == {
        user.pk: before[user.pk] + 1,
        viewer.pk: before[viewer.pk] + 1,
        other_user.pk: before[other_user.pk],  # in the user's other ledger, not this one
        outsider.pk: before[outsider.pk],
    }
    # A transfer between the two raises the members of both, once each.
    services.transfer_create(
        actor=user,
        from_account=household.accounts.get(),
        to_account=main_account(user),
        amount=Decimal("1"),
    )
    again = {u.pk: generation(u) for u in (user, other_user, viewer, outsider)}
    assert again == {
        user.pk: after[user.pk] + 1,
        viewer.pk: after[viewer.pk] + 1,
        other_user.pk: after[other_user.pk] + 1,
        outsider.pk: after[outsider.pk],
    }


def test_a_cached_read_is_at_most_one_cache_lookup(auth_client, make_tx, ledger_cache, monkeypatch):
    """The generation comes with the user row: no ledger cache call but the entry's own (the
    throttles count in the same cache, under keys of their own), and none at all in a worker
    that already holds the entry in memory."""
    make_tx()
    assert summary(auth_client)["count"] == 1
    calls = []

    def spy(name, original):
        def call(key, *args, **kwargs):
            calls.append((name, key.split(":")[0]))
            return original(key, *args, **kwargs)

        return call

    for name in ("get", "set", "add", "delete", "incr"):
        monkeypatch.setattr(
            ledger_cache_backend, name, spy(name, getattr(ledger_cache_backend, name))
        )
    assert summary(auth_client)["count"] == 1
    assert [call for call in calls if call[1] == "ledger"] == []  # this worker stored it
    cached_reads.LOCAL.clear()  # as another worker, which has not read it yet
    assert summary(auth_client)["count"] == 1
    assert [call for call in calls if call[1] == "ledger"] == [("get", "ledger")]
