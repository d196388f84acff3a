"""The bulk insert under the batch endpoint and imports: COPY on PostgreSQL, bulk_create
elsewhere, and the same rows and history records either way."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from ledger import services
from ledger.choices import TransactionStatus
from ledger.models import Transaction
from ledger.tests.factories import (
    AccountFactory,
    CategoryFactory,
    SharedLedgerFactory,
    TransactionFactory,
    main_account,
)

pytestmark = pytest.mark.django_db

# Every character COPY's text format has to escape, and some it does not.
AWKWARD = "tab\there, new\nline, carriage\rreturn, back\\slash, \\N, quote \" ' ; é 💸"


def _unsaved(owner, **values) -> Transaction:
    """A row of `owner`'s main account (or `account=`), as the batch endpoint and imports build
    them: with its account, without its ledger (the insert sets it) or its author."""
    fields = {
        "account": main_account(owner),
        "type": "EXPENSE",
        "description": "coffee",
        "amount": Decimal("-3.50"),
        "date": datetime.date(2026, 11, 1),
        **values,
    }
    return Transaction(**fields)


def test_rows_and_their_history_are_written_whole(user):
    category = CategoryFactory(owner=user)
    rows = [
        _unsaved(user, description=AWKWARD, category=category, external_id="bank-1"),
        _unsaved(user, type="INCOME", amount=Decimal("1234567890.12"), fingerprint="f" * 64),
    ]
    ids = services.transactions_insert(actor=user, transactions=rows, batch_size=500)

    stored = {tx.pk: tx for tx in Transaction.objects.filter(pk__in=ids)}
    assert len(stored) == 2
    first, second = stored[ids[0]], stored[ids[1]]
    assert (first.description, first.category_id, first.external_id, first.fingerprint) == (
        AWKWARD,
        category.pk,
        "bank-1",
        None,
    )
    assert (second.type, second.amount, second.category_id, second.external_id) == (
        "INCOME",
        Decimal("1234567890.12"),
        None,
        None,
    )
    assert second.fingerprint == "f" * 64
    for tx in stored.values():
        assert (tx.account_id, tx.ledger_id) == (
            main_account(user).pk,
            main_account(user).ledger_id,
        )
        assert (tx.created_by_id, tx.status, tx.transfer_id) == (user.pk, "pending", None)
        assert tx.version == 1
        assert tx.created_at is not None and tx.updated_at is not None
        [record] = tx.history.all()
        assert (record.history_type, record.history_user_id) == ("+", user.pk)
        assert (record.description, record.amount, record.date, record.category_id) == (
            tx.description,
            tx.amount,
            tx.date,
            tx.category_id,
        )
        assert (record.ledger_id, record.account_id, record.created_by_id) == (
            tx.ledger_id,
            tx.account_id,
            tx.created_by_id,
        )
        assert (record.status, record.transfer_id) == (tx.status, None)
        assert record.created_at == tx.created_at


def test_the_ids_are_the_tables_own_and_new_rows_follow_them(user):
    ids = services.transactions_insert(
        actor=user,
        transactions=[_unsaved(user, description=f"row {i}") for i in range(3)],
        batch_size=2,
    )
    assert ids == sorted(ids) and len(set(ids)) == 3
    after = TransactionFactory(owner=user)  # an ordinary INSERT after the bulk one
    assert after.pk > max(ids)


def test_a_constraint_refusal_is_an_integrity_error_and_writes_nothing(user):
    TransactionFactory(owner=user, external_id="bank-1")
    rows = [_unsaved(user, description="new"), _unsaved(user, external_id="bank-1")]
    with pytest.raises(IntegrityError):
        services.transactions_insert(actor=user, transactions=rows, batch_size=500)
    assert Transaction.objects.filter(account=main_account(user)).count() == 1
    assert Transaction.history.filter(description="new").count() == 0


@pytest.mark.postgres
def test_postgresql_writes_with_copy_not_insert(user):
    with CaptureQueriesContext(connection) as captured:
        services.transactions_insert(
            actor=user,
            transactions=[_unsaved(user, description=f"row {i}") for i in range(50)],
            batch_size=10,
        )
    assert Transaction.objects.filter(account=main_account(user)).count() == 50
    assert not [q for q in captured.captured_queries if q["sql"].startswith("INSERT")]


def test_rows_of_several_accounts_and_ledgers_keep_theirs(user, other_user):
    """Each row names its account; its ledger is the account's, whatever the row said; an author
    it names is kept, and the actor is the author of the others and of every history record."""
    savings = AccountFactory(owner=user, name="Savings")
    household = SharedLedgerFactory(owner=user)
    joint = household.accounts.get()
    rows = [
        _unsaved(user, description="main"),
        _unsaved(user, description="savings", account=savings, status=TransactionStatus.CLEARED),
        _unsaved(user, description="joint", account=joint, created_by=other_user),
    ]
    rows[2].ledger_id = savings.ledger_id  # wrong: the insert takes the account's
    services.transactions_insert(actor=user, transactions=rows, batch_size=500)
    stored = {
        tx.description: (tx.account_id, tx.ledger_id, tx.created_by_id, tx.status)
        for tx in Transaction.objects.all()
    }
    assert stored == {
        "main": (main_account(user).pk, main_account(user).ledger_id, user.pk, "pending"),
        "savings": (savings.pk, savings.ledger_id, user.pk, "cleared"),
        "joint": (joint.pk, household.pk, other_user.pk, "pending"),
    }
    assert set(Transaction.history.values_list("history_user_id", flat=True)) == {user.pk}
