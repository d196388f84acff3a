"""The bulk insert under the batch endpoint and imports: COPY on PostgreSQL, bulk_create
elsewhere, and the same rows and history records either way."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from ledger import services
from ledger.models import Transaction
from ledger.tests.factories import CategoryFactory, TransactionFactory

pytestmark = pytest.mark.django_db

# Every character COPY's text format has to escape, and some it does not.
AWKWARD = "tab\there, new\nline, carriage\rreturn, back\\slash, \\N, quote \" ' ; é 💸"


def _unsaved(owner, **values) -> Transaction:
    fields = {
        "owner": owner,
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
    ids = services.transactions_insert(user, rows, batch_size=500)

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
        assert record.created_at == tx.created_at


def test_the_ids_are_the_tables_own_and_new_rows_follow_them(user):
    ids = services.transactions_insert(
        user, [_unsaved(user, description=f"row {i}") for i in range(3)], batch_size=2
    )
    assert ids == sorted(ids) and len(set(ids)) == 3
    after = TransactionFactory(owner=user)  # an ordinary INSERT after the bulk one
    assert after.pk > max(ids)


def test_a_constraint_refusal_is_an_integrity_error_and_writes_nothing(user):
    TransactionFactory(owner=user, external_id="bank-1")
    rows = [_unsaved(user, description="new"), _unsaved(user, external_id="bank-1")]
    with pytest.raises(IntegrityError):
        services.transactions_insert(user, rows, batch_size=500)
    assert Transaction.objects.filter(owner=user).count() == 1
    assert Transaction.history.filter(description="new").count() == 0


@pytest.mark.postgres
def test_postgresql_writes_with_copy_not_insert(user):
    with CaptureQueriesContext(connection) as captured:
        services.transactions_insert(
            user, [_unsaved(user, description=f"row {i}") for i in range(50)], batch_size=10
        )
    assert Transaction.objects.filter(owner=user).count() == 50
    assert not [q for q in captured.captured_queries if q["sql"].startswith("INSERT")]
