"""The database itself holds the rules, whatever path a write takes."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from ledger import services
from ledger.choices import TransactionType
from ledger.models import Account, Category, Transaction, Transfer, signed_amount
from ledger.services import unit_of_work
from ledger.tests.factories import (
    AccountFactory,
    CategoryFactory,
    SharedLedgerFactory,
    TransactionFactory,
    main_account,
    personal_ledger,
)

pytestmark = pytest.mark.django_db


def raw(user, **kwargs) -> Transaction:
    """An unsaved transaction in the user's "Main" account, as a raw write would make it."""
    account = kwargs.pop("account", None) or main_account(user)
    kwargs.setdefault("ledger_id", account.ledger_id)
    return Transaction(account=account, **kwargs)


@pytest.mark.parametrize(
    ("type_", "amount"),
    [
        (TransactionType.INCOME, Decimal("-1")),
        (TransactionType.INCOME, Decimal("0")),
        (TransactionType.EXPENSE, Decimal("1")),
        (TransactionType.EXPENSE, Decimal("0")),
    ],
)
def test_the_database_refuses_a_sign_that_contradicts_the_type(user, type_, amount):
    with pytest.raises(IntegrityError), unit_of_work(personal_ledger(user).pk):
        Transaction.objects.bulk_create([raw(user, type=type_, description="raw", amount=amount)])


def test_the_database_refuses_a_transfer_type_without_a_transfer_and_a_transfer_of_another_type(
    user,
):
    ledger_id = personal_ledger(user).pk
    with pytest.raises(IntegrityError), unit_of_work(ledger_id):
        Transaction.objects.bulk_create(
            [raw(user, type="TRANSFER", description="raw", amount=Decimal("1"))]
        )
    with unit_of_work(ledger_id):
        transfer = Transfer.objects.create(created_by=user)
    for type_, amount in (("INCOME", "1"), ("EXPENSE", "-1"), ("TRANSFER", "0")):
        with pytest.raises(IntegrityError), unit_of_work(ledger_id):
            Transaction.objects.bulk_create(
                [
                    raw(
                        user,
                        type=type_,
                        description="raw",
                        amount=Decimal(amount),
                        transfer=transfer,
                    )
                ]
            )
    assert not Transaction.objects.exists()


def test_the_database_refuses_an_empty_description(user):
    with pytest.raises(IntegrityError), unit_of_work(personal_ledger(user).pk):
        Transaction.objects.bulk_create(
            [raw(user, type="INCOME", description="", amount=Decimal("1"))]
        )


def test_the_database_refuses_a_case_duplicate_category(user):
    CategoryFactory(owner=user, name="Food")
    ledger = personal_ledger(user)
    with pytest.raises(IntegrityError), unit_of_work(ledger.pk):
        Category.objects.create(ledger=ledger, name="fOOD")


def test_the_same_category_name_is_fine_in_another_ledger(user):
    CategoryFactory(owner=user, name="Food")
    household = SharedLedgerFactory(owner=user)
    with unit_of_work(household.pk):
        Category.objects.create(ledger=household, name="fOOD")
    assert Category.objects.count() == 2


def test_signed_amount():
    assert signed_amount(TransactionType.EXPENSE, Decimal("20")) == Decimal("-20")
    assert signed_amount(TransactionType.EXPENSE, Decimal("-20")) == Decimal("-20")
    assert signed_amount(TransactionType.INCOME, Decimal("20")) == Decimal("20")
    with pytest.raises(ValidationError):
        signed_amount(TransactionType.INCOME, Decimal("-20"))


@pytest.mark.parametrize("whose", ["another user's", "another of my ledgers'"])
def test_service_refuses_a_category_of_another_ledger(user, other_user, whose):
    ledger = (
        personal_ledger(other_user)
        if whose == "another user's"
        else SharedLedgerFactory(owner=user)
    )
    theirs = CategoryFactory(ledger=ledger, name="Theirs")
    with pytest.raises(ValidationError) as excinfo:
        services.transaction_create(
            actor=user, type="EXPENSE", description="x", amount=Decimal("1"), category=theirs
        )
    assert "category" in excinfo.value.message_dict
    assert not Transaction.objects.exists()


def test_the_database_refuses_a_category_or_account_of_another_ledger(user, other_user):
    theirs = CategoryFactory(owner=other_user, name="Theirs")
    mine = CategoryFactory(owner=user, name="Mine")
    ledger_id = personal_ledger(user).pk
    with pytest.raises(IntegrityError), unit_of_work(ledger_id):
        Transaction.objects.bulk_create(
            [raw(user, type="EXPENSE", description="raw", amount=Decimal("-1"), category=theirs)]
        )
    # An account of another ledger than the row's.
    with pytest.raises(IntegrityError), unit_of_work(ledger_id):
        Transaction.objects.bulk_create(
            [
                raw(
                    user,
                    account=main_account(other_user),
                    ledger_id=ledger_id,
                    type="EXPENSE",
                    description="raw",
                    amount=Decimal("-1"),
                )
            ]
        )
    tx = TransactionFactory(owner=user, description="ok", amount=Decimal("-1"), category=mine)
    with pytest.raises(IntegrityError), unit_of_work(ledger_id):
        Transaction.objects.filter(pk=tx.pk).update(category=theirs)
    with pytest.raises(IntegrityError), unit_of_work(ledger_id):
        Transaction.objects.filter(pk=tx.pk).update(account=main_account(other_user))
    with pytest.raises(IntegrityError), unit_of_work(ledger_id):
        Transaction.objects.filter(pk=tx.pk).update(ledger=personal_ledger(other_user))
    # Nor may the category or the account move to another ledger under its transactions.
    other_ledger_id = personal_ledger(other_user).pk
    with pytest.raises(IntegrityError), unit_of_work(ledger_id, other_ledger_id):
        Category.objects.filter(pk=mine.pk).update(ledger=other_ledger_id)
    with pytest.raises(IntegrityError), unit_of_work(ledger_id, other_ledger_id):
        Account.objects.filter(pk=tx.account_id).update(ledger=other_ledger_id)
    tx.refresh_from_db()
    assert (tx.category, tx.account, tx.ledger_id) == (mine, main_account(user), ledger_id)


def test_an_unused_account_or_category_may_move(user):
    household = SharedLedgerFactory(owner=user)
    account, category = AccountFactory(owner=user), CategoryFactory(owner=user)
    with unit_of_work(personal_ledger(user).pk, household.pk):
        Account.objects.filter(pk=account.pk).update(ledger=household)
        Category.objects.filter(pk=category.pk).update(ledger=household)
    assert Account.objects.get(pk=account.pk).ledger == household


def test_a_blank_description_is_a_validation_error_not_a_database_error(user):
    tx = raw(user, type="EXPENSE", description="   ", amount=Decimal("1"))
    with pytest.raises(ValidationError) as error:
        tx.clean_for_owner()
    assert "description" in error.value.message_dict
