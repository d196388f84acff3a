import datetime
from decimal import Decimal

import factory

from accounts.tests.factories import UserFactory
from ledger.choices import TransactionType
from ledger.models import Category, Transaction
from ledger.services import unit_of_work


class LedgerRowFactory(factory.django.DjangoModelFactory):
    """Saves its rows as the services do, in a unit of work (ledger.services)."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        owner = kwargs["owner"]
        with unit_of_work(owner.pk):
            return super()._create(model_class, *args, **kwargs)


class CategoryFactory(LedgerRowFactory):
    class Meta:
        model = Category

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Category {n}")


class TransactionFactory(LedgerRowFactory):
    """A transaction saved as the service would: expenses negative, incomes positive."""

    class Meta:
        model = Transaction

    owner = factory.SubFactory(UserFactory)
    type = TransactionType.EXPENSE
    description = factory.Sequence(lambda n: f"Transaction {n}")
    amount = Decimal("10.00")
    date = factory.LazyFunction(lambda: datetime.date(2026, 11, 1))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        amount = abs(kwargs["amount"])
        kwargs["amount"] = amount if kwargs["type"] == TransactionType.INCOME else -amount
        return super()._create(model_class, *args, **kwargs)
