"""The database itself holds the rules, whatever path a write takes."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from ledger import services
from ledger.choices import TransactionType
from ledger.models import Category, Transaction, signed_amount
from ledger.services import unit_of_work
from ledger.tests.factories import CategoryFactory, TransactionFactory

pytestmark = pytest.mark.django_db


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
    with pytest.raises(IntegrityError), unit_of_work(user.pk):
        Transaction.objects.bulk_create(
            [Transaction(owner=user, type=type_, description="raw", amount=amount)]
        )


def test_the_database_refuses_an_empty_description(user):
    with pytest.raises(IntegrityError), unit_of_work(user.pk):
        Transaction.objects.bulk_create(
            [Transaction(owner=user, type="INCOME", description="", amount=Decimal("1"))]
        )


def test_the_database_refuses_a_case_duplicate_category(user):
    CategoryFactory(owner=user, name="Food")
    with pytest.raises(IntegrityError), unit_of_work(user.pk):
        Category.objects.create(owner=user, name="fOOD")


def test_signed_amount():
    assert signed_amount(TransactionType.EXPENSE, Decimal("20")) == Decimal("-20")
    assert signed_amount(TransactionType.EXPENSE, Decimal("-20")) == Decimal("-20")
    assert signed_amount(TransactionType.INCOME, Decimal("20")) == Decimal("20")
    with pytest.raises(ValidationError):
        signed_amount(TransactionType.INCOME, Decimal("-20"))


def test_service_refuses_anothers_category(user, other_user):
    theirs = CategoryFactory(owner=other_user, name="Theirs")
    with pytest.raises(ValidationError) as excinfo:
        services.transaction_create(
            owner=user, type="EXPENSE", description="x", amount=Decimal("1"), category=theirs
        )
    assert "category" in excinfo.value.message_dict
    assert not Transaction.objects.exists()


def test_the_database_refuses_another_owners_category(user, other_user):
    theirs = CategoryFactory(owner=other_user, name="Theirs")
    mine = CategoryFactory(owner=user, name="Mine")
    with pytest.raises(IntegrityError), unit_of_work(user.pk):
        Transaction.objects.bulk_create(
            [
                Transaction(
                    owner=user,
                    type="EXPENSE",
                    description="raw",
                    amount=Decimal("-1"),
                    category=theirs,
                )
            ]
        )
    tx = TransactionFactory(owner=user, description="ok", amount=Decimal("-1"), category=mine)
    with pytest.raises(IntegrityError), unit_of_work(user.pk):
        Transaction.objects.filter(pk=tx.pk).update(category=theirs)
    with pytest.raises(IntegrityError), unit_of_work(user.pk, other_user.pk):
        Category.objects.filter(pk=mine.pk).update(owner=other_user)
    tx.refresh_from_db()
    assert tx.category == mine


def test_a_blank_description_is_a_validation_error_not_a_database_error(user):
    tx = Transaction(owner=user, type="EXPENSE", description="   ", amount=Decimal("1"))
    with pytest.raises(ValidationError) as error:
        tx.clean_for_owner()
    assert "description" in error.value.message_dict
